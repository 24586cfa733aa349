package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const portalCols = `id, org_id, name, display_name, description, authentication_enabled,
	auto_approve_developers, rbac_enabled, default_api_visibility, default_page_visibility,
	default_domain, custom_domain, created_at, updated_at, labels`

// portalReadCols are portalCols and what only CustomDomains writes.
const portalReadCols = portalCols + ", custom_domain_verified"

func scanPortal(sc interface{ Scan(...any) error }) (store.Portal, error) {
	var p store.Portal
	var custom sql.NullString
	var created, updated int64
	var labels string
	err := sc.Scan(&p.ID, &p.OrgID, &p.Name, &p.DisplayName, &p.Description, &p.AuthenticationEnabled,
		&p.AutoApproveDevelopers, &p.RBACEnabled, &p.DefaultAPIVisibility, &p.DefaultPageVisibility,
		&p.DefaultDomain, &custom, &created, &updated, &labels, &p.CustomDomainVerified)
	p.CustomDomain = custom.String
	p.CreatedAt = sqlcodec.FromNS(created)
	p.UpdatedAt = sqlcodec.FromNS(updated)
	if err == nil {
		p.Labels, err = sqlcodec.DecodeLabels(labels)
	}
	return p, err
}

// domainTaken reports whether another portal than id already answers to
// one of p's domains: its default domain may be no other portal's default
// or verified custom domain, nor a default domain another org retired,
// and its custom domain no other's default domain (other portals' claims
// on it are no conflict: DNS decides which one is verified). A host leads
// to one portal only.
func domainTaken(ctx context.Context, q querier, p store.Portal) (bool, error) {
	var taken bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM portals WHERE id <> ?1
		AND (default_domain IN (?2, ?3) OR (custom_domain = ?2 AND custom_domain_verified <> 0)))
		OR EXISTS (SELECT 1 FROM retired_portal_domains WHERE domain = ?2 AND org_id <> ?4)`,
		p.ID, p.DefaultDomain, p.CustomDomain, p.OrgID).Scan(&taken)
	return taken, err
}

// retireDefaultDomain keeps portal id's default domain with its org when
// the portal is about to give it up (for def; "" when it is deleted):
// CNAMEs may still point at it, so no other org may be given it. Run
// before the write that changes it.
func retireDefaultDomain(ctx context.Context, q querier, id, def string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO retired_portal_domains (domain, org_id)
		SELECT default_domain, org_id FROM portals WHERE id = ? AND default_domain <> ?
		ON CONFLICT (domain) DO NOTHING`, id, def)
	return err
}

// CreatePortal stores a portal; a taken name in the org, a taken domain
// or a reused ID is a Conflict.
func (s *Store) CreatePortal(ctx context.Context, p store.Portal) error {
	if err := store.NormalizePortal(&p); err != nil {
		return err
	}
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		taken, err := domainTaken(ctx, q, p)
		if err != nil {
			return err
		}
		if taken {
			return apperr.New(apperr.Conflict, "portal domain is already in use")
		}
		// A custom domain is a pending claim, due for its first check.
		_, err = q.ExecContext(ctx, "INSERT INTO portals ("+portalCols+", custom_domain_next_check) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			p.ID, p.OrgID, p.Name, p.DisplayName, p.Description, boolInt(p.AuthenticationEnabled),
			boolInt(p.AutoApproveDevelopers), boolInt(p.RBACEnabled), p.DefaultAPIVisibility, p.DefaultPageVisibility,
			p.DefaultDomain, nullable(p.CustomDomain), sqlcodec.ToNS(p.CreatedAt), sqlcodec.ToNS(p.UpdatedAt), sqlcodec.EncodeLabels(p.Labels),
			sqlcodec.ToNS(p.CreatedAt))
		return constraint(err, "portal")
	})
	return s.internal(err, "create portal")
}

// GetPortal finds one of the org's portals.
func (s *Store) GetPortal(ctx context.Context, orgID, id string) (store.Portal, error) {
	p, err := scanPortal(s.rdb.QueryRowContext(ctx, "SELECT "+portalReadCols+" FROM portals WHERE org_id = ? AND id = ?", orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Portal{}, notFound("portal")
	}
	return p, s.internal(err, "get portal")
}

// GetPortalByDomain finds the portal answering to a host, across orgs: by
// its default domain or its verified custom domain.
func (s *Store) GetPortalByDomain(ctx context.Context, domain string) (store.Portal, error) {
	d := strings.ToLower(domain)
	if d == "" {
		return store.Portal{}, notFound("portal")
	}
	p, err := scanPortal(s.rdb.QueryRowContext(ctx,
		"SELECT "+portalReadCols+` FROM portals
		WHERE default_domain = ?1 OR (custom_domain = ?1 AND custom_domain_verified <> 0) LIMIT 1`, d))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Portal{}, notFound("portal")
	}
	return p, s.internal(err, "get portal by domain")
}

// ListPortals lists one page of the org's portals.
func (s *Store) ListPortals(ctx context.Context, orgID string, f store.NameFilter, p store.Page) ([]store.Portal, bool, error) {
	base, args := nameFilter("SELECT "+portalReadCols+" FROM portals WHERE org_id = ?", []any{orgID}, f)
	query, args := pageQuery(base, args, p)
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, false, s.internal(err, "list portals")
	}
	items, err := collectRows(rows, scanPortal)
	if err != nil {
		return nil, false, s.internal(err, "list portals")
	}
	items, more := sqlcodec.PageResult(items, p)
	return items, more, nil
}

// UpdatePortal replaces a portal's fields (not its org or creation time).
// A custom or default domain that changes makes the claim a new one:
// pending, due at p.UpdatedAt, and the checks taken of the old one stale;
// a verified name it gives up makes the other claims on it due at once.
func (s *Store) UpdatePortal(ctx context.Context, p store.Portal) error {
	if err := store.NormalizePortal(&p); err != nil {
		return err
	}
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		if err := belongs(ctx, q, "portals", p.OrgID, p.ID, "portal"); err != nil {
			return err
		}
		taken, err := domainTaken(ctx, q, p)
		if err != nil {
			return err
		}
		if taken {
			return apperr.New(apperr.Conflict, "portal domain is already in use")
		}
		if err := freeVerifiedName(ctx, q, p.ID, p.CustomDomain, p.DefaultDomain); err != nil {
			return err
		}
		if err := retireDefaultDomain(ctx, q, p.ID, p.DefaultDomain); err != nil {
			return err
		}
		// SET expressions read the row as it was. The claim stays only
		// while both names stay: its CNAME must lead to the default domain.
		res, err := q.ExecContext(ctx, `UPDATE portals SET name = ?1, display_name = ?2, description = ?3,
			authentication_enabled = ?4, auto_approve_developers = ?5, rbac_enabled = ?6,
			default_api_visibility = ?7, default_page_visibility = ?8, default_domain = ?9, custom_domain = ?10,
			updated_at = ?11, labels = ?12,
			custom_domain_verified = CASE WHEN custom_domain IS ?10 AND default_domain = ?9 THEN custom_domain_verified ELSE 0 END,
			custom_domain_failures = CASE WHEN custom_domain IS ?10 AND default_domain = ?9 THEN custom_domain_failures ELSE 0 END,
			custom_domain_next_check = CASE WHEN custom_domain IS ?10 AND default_domain = ?9 THEN custom_domain_next_check ELSE ?11 END,
			custom_domain_token = CASE WHEN custom_domain IS ?10 AND default_domain = ?9 THEN custom_domain_token ELSE custom_domain_token + 1 END
			WHERE org_id = ?13 AND id = ?14`,
			p.Name, p.DisplayName, p.Description, boolInt(p.AuthenticationEnabled), boolInt(p.AutoApproveDevelopers),
			boolInt(p.RBACEnabled), p.DefaultAPIVisibility, p.DefaultPageVisibility, p.DefaultDomain,
			nullable(p.CustomDomain), sqlcodec.ToNS(p.UpdatedAt), sqlcodec.EncodeLabels(p.Labels), p.OrgID, p.ID)
		return mustAffect(res, constraint(err, "portal"))("portal")
	})
	return s.internal(err, "update portal")
}

// portalDeleteChunk is how many entries of a deleted portal one
// transaction removes: a large portal's log is deleted in steps, so
// appends to other streams wait for one step (tens of milliseconds), not
// for the whole log.
const portalDeleteChunk = 2000

// DeletePortal deletes a portal with everything that belongs to it: its
// webhook and delivery state, replay job, developers and their tokens (by
// foreign-key cascade, with the portal), then its stream's entries in
// steps. The last step also forgets the stream, so no entry can slip in
// between. Should the steps stop early (a cancelled context, a crash), the
// portal is gone already and retention removes the entries left.
func (s *Store) DeletePortal(ctx context.Context, orgID, id string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		if err := freeVerifiedName(ctx, q, id, "", ""); err != nil {
			return err
		}
		if err := retireDefaultDomain(ctx, q, id, ""); err != nil {
			return err
		}
		return mustAffect(q.ExecContext(ctx, "DELETE FROM portals WHERE org_id = ? AND id = ?", orgID, id))("portal")
	})
	for done := false; err == nil && !done; {
		err = s.w.do(ctx, func(ctx context.Context, q querier) error {
			res, err := q.ExecContext(ctx, `DELETE FROM entries WHERE rowid IN (SELECT rowid FROM entries
				WHERE sid = (SELECT sid FROM streams WHERE stream = ?) LIMIT ?)`, id, portalDeleteChunk)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil || n == portalDeleteChunk {
				return err
			}
			// Then its leaf hashes, which retention keeps.
			res, err = q.ExecContext(ctx, `DELETE FROM leaves WHERE (sid, seq) IN (SELECT sid, seq FROM leaves
				WHERE sid = (SELECT sid FROM streams WHERE stream = ?) LIMIT ?)`, id, portalDeleteChunk)
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil || n == portalDeleteChunk {
				return err
			}
			done = true
			if _, err := q.ExecContext(ctx, "DELETE FROM stream_hours WHERE sid = (SELECT sid FROM streams WHERE stream = ?)", id); err != nil {
				return err
			}
			_, err = q.ExecContext(ctx, "DELETE FROM streams WHERE stream = ?", id)
			return err
		}, store.StreamID(id))
	}
	return s.internal(err, "delete portal")
}
