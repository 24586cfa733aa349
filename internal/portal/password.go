package portal

import (
	"context"

	"github.com/sigtrail/sigtrail/internal/passwd"
)

// Argon2Params are the argon2id cost parameters of new password hashes
// (passwd.Params; the console hashes org users' passwords the same way).
type Argon2Params = passwd.Params

// DefaultArgon2 is passwd.Default: OWASP's second argon2id profile.
func DefaultArgon2() Argon2Params { return passwd.Default() }

// Password length bounds of new passwords, shared with the console.
const (
	maxPasswordLen = passwd.MaxLen
	minPasswordLen = passwd.MinLen
)

// hasher is the portal's handle on a passwd.Hasher.
type hasher struct{ h *passwd.Hasher }

func newHasher(p Argon2Params, concurrency int) *hasher {
	return &hasher{passwd.NewHasher(p, concurrency)}
}

func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	return h.h.Hash(ctx, password)
}

func (h *hasher) check(ctx context.Context, encoded, password string) (bool, error) {
	return h.h.Check(ctx, encoded, password)
}
