package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const customDomainCheckCols = `id, org_id, custom_domain, default_domain, custom_domain_verified,
	custom_domain_failures, custom_domain_token`

func scanCustomDomainCheck(sc interface{ Scan(...any) error }) (store.CustomDomainCheck, error) {
	var c store.CustomDomainCheck
	err := sc.Scan(&c.PortalID, &c.OrgID, &c.Hostname, &c.DefaultDomain, &c.Verified, &c.Failures, &c.Token)
	return c, err
}

// ClaimCustomDomainChecks takes checks in one UPDATE on the writer (this
// process holds the file alone, so there is no one to race).
func (s *Store) ClaimCustomDomainChecks(ctx context.Context, c store.CustomDomainClaim) ([]store.CustomDomainCheck, error) {
	which, args := `custom_domain IS NOT NULL AND custom_domain_next_check <= ?2
		ORDER BY custom_domain_next_check, id LIMIT ?3`, []any{sqlcodec.ToNS(c.Now.Add(c.Hold)), sqlcodec.ToNS(c.Now), max(c.Limit, 1)}
	if c.PortalID != "" {
		which, args = `custom_domain IS NOT NULL AND id = ?2`, []any{sqlcodec.ToNS(c.Now.Add(c.Hold)), c.PortalID}
	}
	var out []store.CustomDomainCheck
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.QueryContext(ctx, `UPDATE portals SET custom_domain_token = custom_domain_token + 1,
			custom_domain_next_check = MAX(custom_domain_next_check, ?1)
			WHERE id IN (SELECT id FROM portals WHERE `+which+`) RETURNING `+customDomainCheckCols, args...)
		if err != nil {
			return err
		}
		out, err = collectRows(rows, scanCustomDomainCheck)
		return err
	})
	if err != nil {
		// The job may still run: its result is not read.
		return nil, s.internal(err, "claim custom domain checks")
	}
	return out, nil
}

// RecordCustomDomainCheck stores a check's result in one transaction.
func (s *Store) RecordCustomDomainCheck(ctx context.Context, r store.CustomDomainResult) (store.CustomDomainChange, error) {
	var ch store.CustomDomainChange
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		var was bool
		err := q.QueryRowContext(ctx, `SELECT custom_domain_verified FROM portals
			WHERE id = ? AND custom_domain = ? AND custom_domain_token = ?`, r.PortalID, r.Hostname, r.Token).Scan(&was)
		if errors.Is(err, sql.ErrNoRows) {
			ch = store.CustomDomainChange{Stale: true}
			return nil
		}
		var held int
		if err == nil && r.Verified && !was {
			err = q.QueryRowContext(ctx, `SELECT COUNT(*) FROM portals WHERE custom_domain = ? AND id <> ?
				AND custom_domain_verified <> 0`, r.Hostname, r.PortalID).Scan(&held)
		}
		if err != nil {
			return err
		}
		var next time.Time
		ch, next = r.Outcome(was, held > 0)
		if _, err := q.ExecContext(ctx, `UPDATE portals SET custom_domain_verified = ?, custom_domain_failures = ?,
			custom_domain_next_check = ? WHERE id = ?`, boolInt(ch.Verified), r.Failures, sqlcodec.ToNS(next), r.PortalID); err != nil {
			return err
		}
		if ch.Was && !ch.Verified || ch.Contested {
			// The name is free: the other claims on it are due now. Or
			// DNS leads here while another portal holds it: the holder is
			// due now, to find so, rather than at its hourly recheck.
			_, err = q.ExecContext(ctx, `UPDATE portals SET custom_domain_next_check = MIN(custom_domain_next_check, ?)
				WHERE custom_domain = ? AND id <> ?`, sqlcodec.ToNS(r.Now), r.Hostname, r.PortalID)
		}
		return err
	})
	if err != nil {
		return store.CustomDomainChange{}, s.internal(err, "record custom domain check")
	}
	return ch, nil
}

// freeVerifiedName makes the other claims on portal id's verified custom
// domain due at once when that domain is about to stop being id's (a
// claim of custom on default; both "" for a deleted portal), so the
// portal DNS leads to takes it in the next round rather than at its
// backoff. Run before the write that changes it.
func freeVerifiedName(ctx context.Context, q querier, id, custom, def string) error {
	_, err := q.ExecContext(ctx, `UPDATE portals SET custom_domain_next_check = 0 WHERE id <> ?1
		AND custom_domain = (SELECT custom_domain FROM portals WHERE id = ?1 AND custom_domain_verified <> 0
			AND (custom_domain IS NOT ?2 OR default_domain <> ?3))`, id, nullable(custom), def)
	return err
}
