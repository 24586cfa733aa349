package passwd

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

// Params are the argon2id cost parameters of new password hashes.
// Stored hashes carry their own parameters, so raising these later keeps old
// hashes verifiable.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// Default is OWASP's second argon2id profile (19 MiB, 2 passes, 1
// lane): about 25 ms per hash on this project's machines, so a login stays
// well under 100 ms while guessing stays expensive.
func Default() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters read back from a stored hash, so a corrupted or
// hostile row cannot make one verification allocate gigabytes.
const (
	MaxMemory  = 256 * 1024
	MaxTime    = 16
	MaxThreads = 16
	MaxKeyLen  = 128
	MaxLen     = 256 // bytes of a password; longer input only costs time
	MinLen     = 8   // characters of a new password
)

// ErrBadHash is a stored hash that is not an argon2id PHC string this
// package accepts.
var ErrBadHash = errors.New("passwd: malformed argon2id hash")

// Hash returns the PHC string of password under p with a fresh salt.
func Hash(password string, p Params) string {
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt) // never fails since Go 1.24
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// PHC is a parsed argon2id PHC string.
type PHC struct {
	Params Params
	Salt   []byte
	Key    []byte
}

// Parse reads "$argon2id$v=19$m=..,t=..,p=..$salt$key".
func Parse(s string) (PHC, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return PHC{}, ErrBadHash
	}
	var out PHC
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return PHC{}, ErrBadHash
	}
	for i, want := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(params[i], want)
		if !ok {
			return PHC{}, ErrBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return PHC{}, ErrBadHash
		}
		switch i {
		case 0:
			out.Params.Memory = uint32(n)
		case 1:
			out.Params.Time = uint32(n)
		case 2:
			if n > MaxThreads {
				return PHC{}, ErrBadHash
			}
			out.Params.Threads = uint8(n)
		}
	}
	if out.Params.Memory > MaxMemory || out.Params.Time > MaxTime || out.Params.Memory < 8*uint32(out.Params.Threads) {
		return PHC{}, ErrBadHash
	}
	enc := base64.RawStdEncoding
	var err error
	if out.Salt, err = enc.DecodeString(parts[4]); err != nil || len(out.Salt) < 8 {
		return PHC{}, ErrBadHash
	}
	if out.Key, err = enc.DecodeString(parts[5]); err != nil || len(out.Key) < 16 || len(out.Key) > MaxKeyLen {
		return PHC{}, ErrBadHash
	}
	out.Params.SaltLen, out.Params.KeyLen = uint32(len(out.Salt)), uint32(len(out.Key))
	return out, nil
}

// Check reports whether password matches the PHC string, comparing
// in constant time.
func Check(encoded, password string) (bool, error) {
	h, err := Parse(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.Salt, h.Params.Time, h.Params.Memory, h.Params.Threads, h.Params.KeyLen)
	return subtle.ConstantTimeCompare(key, h.Key) == 1, nil
}

// Hasher runs argon2 with bounded concurrency: each hash holds Memory KiB,
// so an unbounded burst of logins could exhaust memory.
type Hasher struct {
	params Params
	slots  chan struct{}
	// dummy is a hash of a random password, verified for unknown emails so
	// they take as long as a wrong password.
	dummy string
}

// NewHasher returns a Hasher of new hashes under p running at most
// concurrency computations at once.
func NewHasher(p Params, concurrency int) *Hasher {
	if concurrency < 1 {
		concurrency = 1
	}
	return &Hasher{params: p, slots: make(chan struct{}, concurrency), dummy: Hash(randomPassword(), p)}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC string of a new password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return Hash(password, h.params), nil
}

// Check verifies password against encoded; an empty encoded (no password
// set yet) verifies against the dummy hash and never matches.
func (h *Hasher) Check(ctx context.Context, encoded, password string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	if encoded == "" {
		_, err := Check(h.dummy, password)
		return false, err
	}
	return Check(encoded, password)
}

// randomPassword is a password no one knows, for the dummy hash.
func randomPassword() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b[:])
}
