package portal

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters of new password hashes.
// Stored hashes carry their own parameters, so raising these later keeps old
// hashes verifiable.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultArgon2 is OWASP's second argon2id profile (19 MiB, 2 passes, 1
// lane): about 25 ms per hash on this project's machines, so a login stays
// well under 100 ms while guessing stays expensive.
func DefaultArgon2() Argon2Params {
	return Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters read back from a stored hash, so a corrupted or
// hostile row cannot make one verification allocate gigabytes.
const (
	maxArgonMemory  = 256 * 1024
	maxArgonTime    = 16
	maxArgonThreads = 16
	maxArgonKeyLen  = 128
	maxPasswordLen  = 256 // bytes; longer input only costs time
	minPasswordLen  = 8
)

var errBadHash = errors.New("portal: malformed argon2id hash")

// hashPassword returns the PHC string of password under p with a fresh salt.
func hashPassword(password string, p Argon2Params) string {
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt) // never fails since Go 1.24
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// phc is a parsed argon2id PHC string.
type phc struct {
	p    Argon2Params
	salt []byte
	key  []byte
}

// parsePHC reads "$argon2id$v=19$m=..,t=..,p=..$salt$key".
func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, errBadHash
	}
	var out phc
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return phc{}, errBadHash
	}
	for i, want := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(params[i], want)
		if !ok {
			return phc{}, errBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return phc{}, errBadHash
		}
		switch i {
		case 0:
			out.p.Memory = uint32(n)
		case 1:
			out.p.Time = uint32(n)
		case 2:
			if n > maxArgonThreads {
				return phc{}, errBadHash
			}
			out.p.Threads = uint8(n)
		}
	}
	if out.p.Memory > maxArgonMemory || out.p.Time > maxArgonTime || out.p.Memory < 8*uint32(out.p.Threads) {
		return phc{}, errBadHash
	}
	enc := base64.RawStdEncoding
	var err error
	if out.salt, err = enc.DecodeString(parts[4]); err != nil || len(out.salt) < 8 {
		return phc{}, errBadHash
	}
	if out.key, err = enc.DecodeString(parts[5]); err != nil || len(out.key) < 16 || len(out.key) > maxArgonKeyLen {
		return phc{}, errBadHash
	}
	out.p.SaltLen, out.p.KeyLen = uint32(len(out.salt)), uint32(len(out.key))
	return out, nil
}

// checkPassword reports whether password matches the PHC string, comparing
// in constant time.
func checkPassword(encoded, password string) (bool, error) {
	h, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// hasher runs argon2 with bounded concurrency: each hash holds Memory KiB,
// so an unbounded burst of logins could exhaust memory.
type hasher struct {
	params Argon2Params
	slots  chan struct{}
	// dummy is a hash of a random password, verified for unknown emails so
	// they take as long as a wrong password.
	dummy string
}

func newHasher(p Argon2Params, concurrency int) *hasher {
	if concurrency < 1 {
		concurrency = 1
	}
	return &hasher{params: p, slots: make(chan struct{}, concurrency), dummy: hashPassword(newSecret(), p)}
}

func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *hasher) release() { <-h.slots }

// hash returns the PHC string of a new password.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return hashPassword(password, h.params), nil
}

// check verifies password against encoded; an empty encoded (no password
// set yet) verifies against the dummy hash and never matches.
func (h *hasher) check(ctx context.Context, encoded, password string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	if encoded == "" {
		_, err := checkPassword(h.dummy, password)
		return false, err
	}
	return checkPassword(encoded, password)
}
