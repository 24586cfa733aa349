package portal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// unknownEmailRate is the bucket unknownEmailWork writes: a burst no one
// reaches, so it never refuses; only the write matters.
var unknownEmailRate = store.RateLimit{Every: time.Second, Burst: 1 << 30}

// unknownEmailWork does for a log-in on an unknown email the store work a
// wrong password costs: the wrong password re-reads the account by id
// (GetDeveloper) and counts the failure in one write transaction under a
// row lock (RecordLoginFailure, a commit with its fsync). Without it the
// unknown email answered one read and one commit sooner, a difference a
// client can time (measured in BenchmarkAuthenticate). The write goes to
// a rate bucket keyed by the hashed address, a row of the same kind that
// SweepTokens forgets once it is full again.
func (s *server) unknownEmailWork(ctx context.Context, portalID, email string, now time.Time) error {
	if _, err := s.st.GetDeveloper(ctx, portalID, unknownDeveloperID); err != nil && !apperr.Is(err, apperr.NotFound) {
		return err
	}
	key := "portal/" + portalID + "/unknown-email/" + emailDigest(email)
	_, _, err := s.st.TakeRateToken(ctx, key, now, unknownEmailRate)
	return err
}

// takenEmailWork does for a sign-up with a taken address the store work a
// new address costs beyond it: the account and its verification token,
// two commits. Without it the taken address answered two commits sooner
// (BenchmarkRegister: 0.82 ms against 1.25 ms), telling which addresses
// have accounts.
func (s *server) takenEmailWork(ctx context.Context, portalID, email string, now time.Time) error {
	key := "portal/" + portalID + "/taken-email/" + emailDigest(email)
	for range 2 {
		if _, _, err := s.st.TakeRateToken(ctx, key, now, unknownEmailRate); err != nil {
			return err
		}
	}
	return nil
}

func emailDigest(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return hex.EncodeToString(sum[:16])
}

// unknownDeveloperID is an id no developer has (ids are UUIDv7).
const unknownDeveloperID = "00000000-0000-0000-0000-000000000000"
