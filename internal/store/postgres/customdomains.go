package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const customDomainCheckCols = `id, org_id, custom_domain, default_domain, custom_domain_verified,
	custom_domain_failures, custom_domain_token`

func scanCustomDomainCheck(sc scanner) (store.CustomDomainCheck, error) {
	var c store.CustomDomainCheck
	err := sc.Scan(&c.PortalID, &c.OrgID, &c.Hostname, &c.DefaultDomain, &c.Verified, &c.Failures, &c.Token)
	return c, err
}

// ClaimCustomDomainChecks takes checks in one UPDATE; replicas that claim
// at once skip each other's rows (SKIP LOCKED), so each check is taken by
// one of them.
func (s *Store) ClaimCustomDomainChecks(ctx context.Context, c store.CustomDomainClaim) ([]store.CustomDomainCheck, error) {
	which, a := `custom_domain IS NOT NULL AND custom_domain_next_check <= $2
		ORDER BY custom_domain_next_check, id LIMIT $3`, args{sqlcodec.ToNS(c.Now.Add(c.Hold)), sqlcodec.ToNS(c.Now), max(c.Limit, 1)}
	if c.PortalID != "" {
		which, a = `custom_domain IS NOT NULL AND id = $2`, args{sqlcodec.ToNS(c.Now.Add(c.Hold)), c.PortalID}
	}
	var out []store.CustomDomainCheck
	err := s.write(ctx, "claim custom domain checks", func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE portals SET custom_domain_token = custom_domain_token + 1,
			custom_domain_next_check = GREATEST(custom_domain_next_check, $1)
			WHERE id IN (SELECT id FROM portals WHERE `+which+` FOR UPDATE SKIP LOCKED) RETURNING `+customDomainCheckCols, a...)
		out, err = collect(rows, err, scanCustomDomainCheck)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RecordCustomDomainCheck stores a check's result in one transaction
// under portalDomainLock, so two portals verifying one name at once, or a
// verification and a portal write, cannot both take it.
func (s *Store) RecordCustomDomainCheck(ctx context.Context, r store.CustomDomainResult) (store.CustomDomainChange, error) {
	var ch store.CustomDomainChange
	err := s.write(ctx, "record custom domain check", func(ctx context.Context, tx pgx.Tx) error {
		if err := lockDomains(ctx, tx); err != nil {
			return err
		}
		var was, held bool
		err := tx.QueryRow(ctx, `SELECT custom_domain_verified FROM portals
			WHERE id = $1 AND custom_domain = $2 AND custom_domain_token = $3`, r.PortalID, r.Hostname, r.Token).Scan(&was)
		if errors.Is(err, pgx.ErrNoRows) {
			ch = store.CustomDomainChange{Stale: true}
			return nil
		}
		if err == nil && r.Verified && !was {
			err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM portals WHERE custom_domain = $1 AND id <> $2
				AND custom_domain_verified)`, r.Hostname, r.PortalID).Scan(&held)
		}
		if err != nil {
			return err
		}
		var next time.Time
		ch, next = r.Outcome(was, held)
		if _, err := tx.Exec(ctx, `UPDATE portals SET custom_domain_verified = $1, custom_domain_failures = $2,
			custom_domain_next_check = $3 WHERE id = $4`, ch.Verified, r.Failures, sqlcodec.ToNS(next), r.PortalID); err != nil {
			return err
		}
		if ch.Was && !ch.Verified || ch.Contested {
			// The name is free: the other claims on it are due now. Or
			// DNS leads here while another portal holds it: the holder is
			// due now, to find so, rather than at its hourly recheck.
			_, err = tx.Exec(ctx, `UPDATE portals SET custom_domain_next_check = LEAST(custom_domain_next_check, $1)
				WHERE custom_domain = $2 AND id <> $3`, sqlcodec.ToNS(r.Now), r.Hostname, r.PortalID)
		}
		return err
	})
	if err != nil {
		return store.CustomDomainChange{}, err
	}
	return ch, nil
}

// freeVerifiedName makes the other claims on portal id's verified custom
// domain due at once when that domain is about to stop being id's (a
// claim of custom on default; both "" for a deleted portal), so the
// portal DNS leads to takes it in the next round rather than at its
// backoff. Run before the write that changes it.
func freeVerifiedName(ctx context.Context, tx pgx.Tx, id, custom, def string) error {
	_, err := tx.Exec(ctx, `UPDATE portals SET custom_domain_next_check = 0 WHERE id <> $1
		AND custom_domain = (SELECT custom_domain FROM portals WHERE id = $1 AND custom_domain_verified
			AND (custom_domain IS DISTINCT FROM $2 OR default_domain <> $3))`, id, nullable(custom), def)
	return err
}
