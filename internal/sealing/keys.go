package sealing

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Prefix starts every sealed value; what follows is "<key id>:<payload>".
const Prefix = "sealed:v1:"

// KeySize is the size of a key in the key file: AES-256.
const KeySize = 32

// ErrUnknownKey: a value is sealed with a key the key file does not hold
// (it was removed too early, or the wrong file was given).
var ErrUnknownKey = errors.New("sealed with a key not in the secret key file")

// ErrCorrupt: a value looks sealed but cannot be opened with its key
// (altered, truncated, or moved to another row).
var ErrCorrupt = errors.New("sealed value is corrupt or was tampered with")

// Keyring holds the operator's keys; the first one seals.
type Keyring struct {
	ids   []string
	aeads map[string]cipher.AEAD
}

// LoadKeyFile reads a key file: one key per line, the standard base64 of
// 32 random bytes (`head -c 32 /dev/urandom | base64`); blank lines and
// lines starting with # are ignored; the first key is the current one.
func LoadKeyFile(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	k, err := ParseKeys(b)
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return k, nil
}

// ParseKeys parses the contents of a key file (see LoadKeyFile). Errors
// name the line, never its content.
func ParseKeys(b []byte) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for n, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(string(line))
		if err != nil || len(raw) != KeySize {
			return nil, fmt.Errorf("line %d is not the base64 of %d bytes", n+1, KeySize)
		}
		id := keyID(raw)
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("line %d repeats a key", n+1)
		}
		block, _ := aes.NewCipher(raw) // cannot fail on 32 bytes
		aead, _ := cipher.NewGCM(block)
		k.ids = append(k.ids, id)
		k.aeads[id] = aead
	}
	if len(k.ids) == 0 {
		return nil, errors.New("no key in it")
	}
	return k, nil
}

// keyID names a key without revealing it: a hash that tells the keys of a
// file apart and lets a sealed value say which one opens it.
func keyID(raw []byte) string {
	h := sha256.Sum256(append([]byte("sigtrail sealing key id\x00"), raw...))
	return hex.EncodeToString(h[:6])
}

// Current is the id of the key that seals.
func (k *Keyring) Current() string { return k.ids[0] }

// IsSealed says whether v has the sealed form (not whether it opens).
func IsSealed(v string) bool { return strings.HasPrefix(v, Prefix) }

// KeyOf returns the key id a sealed value names.
func KeyOf(v string) (string, bool) {
	id, _, ok := parse(v)
	return id, ok
}

// Seal encrypts plain with the current key. context binds the value to its
// place (e.g. "destination/<id>/authorization"), so a sealed value copied
// to another row does not open there.
func (k *Keyring) Seal(plain []byte, context string) string {
	id := k.ids[0]
	aead := k.aeads[id]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	header := Prefix + id + ":"
	out := aead.Seal(nonce, nonce, plain, aad(header, context))
	return header + base64.RawURLEncoding.EncodeToString(out)
}

// sealedByCurrent reports whether v is sealed under the key that seals new
// values (a value under an older key is left for Reseal to move).
func (k *Keyring) sealedByCurrent(v string) bool {
	id, _, ok := parse(v)
	return ok && id == k.ids[0]
}

// Open decrypts a sealed value. A value that is not sealed is returned as
// is with sealed false: plaintext left from before a key was configured.
// A nil Keyring opens plaintext only.
func (k *Keyring) Open(v, context string) (plain []byte, sealed bool, err error) {
	if !IsSealed(v) {
		return []byte(v), false, nil
	}
	if k == nil {
		return nil, true, fmt.Errorf("%w: a sealed value was found but no secret key file is configured", ErrUnknownKey)
	}
	id, payload, ok := parse(v)
	if !ok {
		return nil, true, ErrCorrupt
	}
	aead, known := k.aeads[id]
	if !known {
		return nil, true, fmt.Errorf("%w (key id %s)", ErrUnknownKey, id)
	}
	ns := aead.NonceSize()
	if len(payload) < ns+aead.Overhead() {
		return nil, true, ErrCorrupt
	}
	plain, err = aead.Open(nil, payload[:ns], payload[ns:], aad(Prefix+id+":", context))
	if err != nil {
		return nil, true, ErrCorrupt
	}
	return plain, true, nil
}

// parse splits a sealed value into its key id and decoded payload.
func parse(v string) (id string, payload []byte, ok bool) {
	rest, found := strings.CutPrefix(v, Prefix)
	if !found {
		return "", nil, false
	}
	id, enc, found := strings.Cut(rest, ":")
	if !found || len(id) != 12 {
		return "", nil, false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", nil, false
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil {
		return "", nil, false
	}
	return id, payload, true
}

// aad authenticates the header (format version and key id) and the place
// the value belongs to along with the ciphertext.
func aad(header, context string) []byte { return []byte(header + "\x00" + context) }
