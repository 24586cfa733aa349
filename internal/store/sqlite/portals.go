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
	default_domain, custom_domain, created_at, updated_at`

func scanPortal(sc interface{ Scan(...any) error }) (store.Portal, error) {
	var p store.Portal
	var custom sql.NullString
	var created, updated int64
	err := sc.Scan(&p.ID, &p.OrgID, &p.Name, &p.DisplayName, &p.Description, &p.AuthenticationEnabled,
		&p.AutoApproveDevelopers, &p.RBACEnabled, &p.DefaultAPIVisibility, &p.DefaultPageVisibility,
		&p.DefaultDomain, &custom, &created, &updated)
	p.CustomDomain = custom.String
	p.CreatedAt = sqlcodec.FromNS(created)
	p.UpdatedAt = sqlcodec.FromNS(updated)
	return p, err
}

// domainTaken reports whether another portal than id already answers to
// one of the domains, as default or custom domain: a host must lead to
// one portal only.
func domainTaken(ctx context.Context, q querier, id string, domains ...string) (bool, error) {
	for _, d := range domains {
		if d == "" {
			continue
		}
		var n int
		if err := q.QueryRowContext(ctx,
			"SELECT COUNT(*) FROM portals WHERE id <> ? AND (default_domain = ? OR custom_domain = ?)", id, d, d).Scan(&n); err != nil {
			return false, err
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// CreatePortal stores a portal; a taken name in the org, a taken domain
// or a reused ID is a Conflict.
func (s *Store) CreatePortal(ctx context.Context, p store.Portal) error {
	if err := store.NormalizePortal(&p); err != nil {
		return err
	}
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		taken, err := domainTaken(ctx, q, p.ID, p.DefaultDomain, p.CustomDomain)
		if err != nil {
			return err
		}
		if taken {
			return apperr.New(apperr.Conflict, "portal domain is already in use")
		}
		_, err = q.ExecContext(ctx, "INSERT INTO portals ("+portalCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			p.ID, p.OrgID, p.Name, p.DisplayName, p.Description, boolInt(p.AuthenticationEnabled),
			boolInt(p.AutoApproveDevelopers), boolInt(p.RBACEnabled), p.DefaultAPIVisibility, p.DefaultPageVisibility,
			p.DefaultDomain, nullable(p.CustomDomain), sqlcodec.ToNS(p.CreatedAt), sqlcodec.ToNS(p.UpdatedAt))
		return constraint(err, "portal")
	})
	return s.internal(err, "create portal")
}

// GetPortal finds one of the org's portals.
func (s *Store) GetPortal(ctx context.Context, orgID, id string) (store.Portal, error) {
	p, err := scanPortal(s.rdb.QueryRowContext(ctx, "SELECT "+portalCols+" FROM portals WHERE org_id = ? AND id = ?", orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Portal{}, notFound("portal")
	}
	return p, s.internal(err, "get portal")
}

// GetPortalByDomain finds the portal answering to a host, across orgs.
func (s *Store) GetPortalByDomain(ctx context.Context, domain string) (store.Portal, error) {
	d := strings.ToLower(domain)
	if d == "" {
		return store.Portal{}, notFound("portal")
	}
	p, err := scanPortal(s.rdb.QueryRowContext(ctx,
		"SELECT "+portalCols+" FROM portals WHERE default_domain = ?1 OR custom_domain = ?1 LIMIT 1", d))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Portal{}, notFound("portal")
	}
	return p, s.internal(err, "get portal by domain")
}

// ListPortals lists one page of the org's portals.
func (s *Store) ListPortals(ctx context.Context, orgID string, f store.NameFilter, p store.Page) ([]store.Portal, bool, error) {
	base, args := nameFilter("SELECT "+portalCols+" FROM portals WHERE org_id = ?", []any{orgID}, f)
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
func (s *Store) UpdatePortal(ctx context.Context, p store.Portal) error {
	if err := store.NormalizePortal(&p); err != nil {
		return err
	}
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		if err := belongs(ctx, q, "portals", p.OrgID, p.ID, "portal"); err != nil {
			return err
		}
		taken, err := domainTaken(ctx, q, p.ID, p.DefaultDomain, p.CustomDomain)
		if err != nil {
			return err
		}
		if taken {
			return apperr.New(apperr.Conflict, "portal domain is already in use")
		}
		res, err := q.ExecContext(ctx, `UPDATE portals SET name = ?, display_name = ?, description = ?,
			authentication_enabled = ?, auto_approve_developers = ?, rbac_enabled = ?,
			default_api_visibility = ?, default_page_visibility = ?, default_domain = ?, custom_domain = ?,
			updated_at = ? WHERE org_id = ? AND id = ?`,
			p.Name, p.DisplayName, p.Description, boolInt(p.AuthenticationEnabled), boolInt(p.AutoApproveDevelopers),
			boolInt(p.RBACEnabled), p.DefaultAPIVisibility, p.DefaultPageVisibility, p.DefaultDomain,
			nullable(p.CustomDomain), sqlcodec.ToNS(p.UpdatedAt), p.OrgID, p.ID)
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
