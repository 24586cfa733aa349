package tenancy

import (
	"crypto/rand"
	"crypto/sha256"
	"math/big"
	"strings"
)

// Secret prefixes. Scanners (and people) recognise a leaked sigtrail token
// by them.
const (
	PATPrefix  = "stpat_"
	SPATPrefix = "stspat_"
)

// secretBytes is the entropy of a generated secret: 256 bits.
const secretBytes = 32

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewSecret returns a fresh random secret with the prefix of its kind.
func NewSecret(system bool) (string, error) {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	prefix := PATPrefix
	if system {
		prefix = SPATPrefix
	}
	return prefix + encodeBase62(b[:]), nil
}

// encodeBase62 writes b as a fixed-width base62 number (43 digits for 32
// bytes), so every secret of a kind has the same length.
func encodeBase62(b []byte) string {
	n := new(big.Int).SetBytes(b)
	base := big.NewInt(62)
	mod := new(big.Int)
	const width = 43
	out := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}

// HashSecret is what the store keeps of a secret.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// IsSystemSecret reports whether a presented secret claims to be a system
// token, which decides how an authentication attempt is logged even when
// the secret is unknown.
func IsSystemSecret(secret string) bool { return strings.HasPrefix(secret, SPATPrefix) }
