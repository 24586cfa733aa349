package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const portalCols = `id, org_id, name, display_name, description, authentication_enabled,
	auto_approve_developers, rbac_enabled, default_api_visibility, default_page_visibility,
	default_domain, custom_domain, created_at, updated_at, labels`

// portalReadCols are portalCols and what only CustomDomains writes.
const portalReadCols = portalCols + ", custom_domain_verified"

func scanPortal(sc scanner) (store.Portal, error) {
	var p store.Portal
	var custom *string
	var created, updated int64
	var labels string
	err := sc.Scan(&p.ID, &p.OrgID, &p.Name, &p.DisplayName, &p.Description, &p.AuthenticationEnabled,
		&p.AutoApproveDevelopers, &p.RBACEnabled, &p.DefaultAPIVisibility, &p.DefaultPageVisibility,
		&p.DefaultDomain, &custom, &created, &updated, &labels, &p.CustomDomainVerified)
	if custom != nil {
		p.CustomDomain = *custom
	}
	p.CreatedAt = sqlcodec.FromNS(created)
	p.UpdatedAt = sqlcodec.FromNS(updated)
	if err == nil {
		p.Labels, err = sqlcodec.DecodeLabels(labels)
	}
	return p, err
}

// portalDomainLock is the advisory lock portal writes and custom domain
// checks take, so the check that a domain is free (as default or verified
// custom domain, two columns no one unique index covers) and the write are
// atomic across replicas.
const portalDomainLock int64 = 0x73696774_706f7274 // "sigtport"

// lockDomains takes portalDomainLock for the transaction.
func lockDomains(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", portalDomainLock)
	return err
}

// claimDomains locks the portal domains and fails with Conflict when
// another portal than p answers to one of its domains: its default domain
// may be no other portal's default or verified custom domain, nor a
// default domain another org retired, and its custom domain no other's
// default domain (other portals' claims on it are no conflict: DNS
// decides which one is verified).
func claimDomains(ctx context.Context, tx pgx.Tx, p store.Portal) error {
	if err := lockDomains(ctx, tx); err != nil {
		return err
	}
	var taken bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM portals WHERE id <> $1
		AND (default_domain IN ($2, $3) OR (custom_domain = $2 AND custom_domain_verified)))
		OR EXISTS (SELECT 1 FROM retired_portal_domains WHERE domain = $2 AND org_id <> $4)`,
		p.ID, p.DefaultDomain, p.CustomDomain, p.OrgID).Scan(&taken); err != nil {
		return err
	}
	if taken {
		return apperr.New(apperr.Conflict, "portal domain is already in use")
	}
	return nil
}

// retireDefaultDomain keeps portal id's default domain with its org when
// the portal is about to give it up (for def; "" when it is deleted):
// CNAMEs may still point at it, so no other org may be given it. Run
// before the write that changes it.
func retireDefaultDomain(ctx context.Context, tx pgx.Tx, id, def string) error {
	_, err := tx.Exec(ctx, `INSERT INTO retired_portal_domains (domain, org_id)
		SELECT default_domain, org_id FROM portals WHERE id = $1 AND default_domain <> $2
		ON CONFLICT (domain) DO NOTHING`, id, def)
	return err
}

// CreatePortal stores a portal; a taken name in the org, a taken domain
// or a reused ID is a Conflict.
func (s *Store) CreatePortal(ctx context.Context, p store.Portal) error {
	if err := store.NormalizePortal(&p); err != nil {
		return err
	}
	return s.write(ctx, "create portal", func(ctx context.Context, tx pgx.Tx) error {
		if err := claimDomains(ctx, tx, p); err != nil {
			return err
		}
		// A custom domain is a pending claim, due for its first check.
		_, err := tx.Exec(ctx, "INSERT INTO portals ("+portalCols+", custom_domain_next_check) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$13)",
			p.ID, p.OrgID, p.Name, p.DisplayName, p.Description, p.AuthenticationEnabled,
			p.AutoApproveDevelopers, p.RBACEnabled, p.DefaultAPIVisibility, p.DefaultPageVisibility,
			p.DefaultDomain, nullable(p.CustomDomain), sqlcodec.ToNS(p.CreatedAt), sqlcodec.ToNS(p.UpdatedAt), sqlcodec.EncodeLabels(p.Labels))
		return constraint(err, "portal")
	})
}

// GetPortal finds one of the org's portals.
func (s *Store) GetPortal(ctx context.Context, orgID, id string) (store.Portal, error) {
	return getOne(s, ctx, "get portal", "portal", "SELECT "+portalReadCols+" FROM portals WHERE org_id = $1 AND id = $2",
		scanPortal, orgID, id)
}

// GetPortalByDomain finds the portal answering to a host, across orgs: by
// its default domain or its verified custom domain.
func (s *Store) GetPortalByDomain(ctx context.Context, domain string) (store.Portal, error) {
	d := strings.ToLower(domain)
	if d == "" {
		return store.Portal{}, notFound("portal")
	}
	return getOne(s, ctx, "get portal by domain", "portal",
		"SELECT "+portalReadCols+` FROM portals
		WHERE default_domain = $1 OR (custom_domain = $1 AND custom_domain_verified) LIMIT 1`, scanPortal, d)
}

// ListPortals lists one page of the org's portals.
func (s *Store) ListPortals(ctx context.Context, orgID string, f store.NameFilter, p store.Page) ([]store.Portal, bool, error) {
	a := args{orgID}
	query := pageQuery(nameFilter("SELECT "+portalReadCols+" FROM portals WHERE org_id = $1", &a, f), &a, p)
	return list(s, ctx, "list portals", query, a, p, scanPortal)
}

// UpdatePortal replaces a portal's fields (not its org or creation time).
// A custom or default domain that changes makes the claim a new one:
// pending, due at p.UpdatedAt, and the checks taken of the old one stale;
// a verified name it gives up makes the other claims on it due at once.
func (s *Store) UpdatePortal(ctx context.Context, p store.Portal) error {
	if err := store.NormalizePortal(&p); err != nil {
		return err
	}
	return s.write(ctx, "update portal", func(ctx context.Context, tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM portals WHERE org_id = $1 AND id = $2)", p.OrgID, p.ID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return notFound("portal")
		}
		if err := claimDomains(ctx, tx, p); err != nil {
			return err
		}
		if err := freeVerifiedName(ctx, tx, p.ID, p.CustomDomain, p.DefaultDomain); err != nil {
			return err
		}
		if err := retireDefaultDomain(ctx, tx, p.ID, p.DefaultDomain); err != nil {
			return err
		}
		// SET expressions read the row as it was. The claim stays only
		// while both names stay: its CNAME must lead to the default domain.
		tag, err := tx.Exec(ctx, `UPDATE portals SET name = $1, display_name = $2, description = $3,
			authentication_enabled = $4, auto_approve_developers = $5, rbac_enabled = $6,
			default_api_visibility = $7, default_page_visibility = $8, default_domain = $9, custom_domain = $10,
			updated_at = $11, labels = $14,
			custom_domain_verified = CASE WHEN custom_domain IS NOT DISTINCT FROM $10 AND default_domain = $9
				THEN custom_domain_verified ELSE false END,
			custom_domain_failures = CASE WHEN custom_domain IS NOT DISTINCT FROM $10 AND default_domain = $9
				THEN custom_domain_failures ELSE 0 END,
			custom_domain_next_check = CASE WHEN custom_domain IS NOT DISTINCT FROM $10 AND default_domain = $9
				THEN custom_domain_next_check ELSE $11 END,
			custom_domain_token = CASE WHEN custom_domain IS NOT DISTINCT FROM $10 AND default_domain = $9
				THEN custom_domain_token ELSE custom_domain_token + 1 END
			WHERE org_id = $12 AND id = $13`,
			p.Name, p.DisplayName, p.Description, p.AuthenticationEnabled, p.AutoApproveDevelopers,
			p.RBACEnabled, p.DefaultAPIVisibility, p.DefaultPageVisibility, p.DefaultDomain,
			nullable(p.CustomDomain), sqlcodec.ToNS(p.UpdatedAt), p.OrgID, p.ID, sqlcodec.EncodeLabels(p.Labels))
		return mustAffect(tag, constraint(err, "portal"))("portal")
	})
}

// portalDeleteChunk is how many entries of a deleted portal one
// transaction removes, so a large portal's log goes in short steps.
const portalDeleteChunk = 5000

// DeletePortal deletes a portal with everything that belongs to it: its
// webhook and delivery state, replay job, developers and their tokens (by
// foreign-key cascade, with the portal), then its stream's entries in
// steps. The last step locks the stream's counter row, so no append can
// slip in, deletes what is left and the row. Should the steps stop early
// (a cancelled context, a crash), the portal is gone already and retention
// removes the entries left. Other replicas hear that the webhook changed.
func (s *Store) DeletePortal(ctx context.Context, orgID, id string) error {
	err := s.write(ctx, "delete portal", func(ctx context.Context, tx pgx.Tx) error {
		// Under the lock, as UpdatePortal: a check recorded meanwhile
		// could still see the name held and put a waiting claim's next
		// check back after freeVerifiedName made it due.
		if err := lockDomains(ctx, tx); err != nil {
			return err
		}
		if err := freeVerifiedName(ctx, tx, id, "", ""); err != nil {
			return err
		}
		if err := retireDefaultDomain(ctx, tx, id, ""); err != nil {
			return err
		}
		if err := mustAffect(tx.Exec(ctx, "DELETE FROM portals WHERE org_id = $1 AND id = $2", orgID, id))("portal"); err != nil {
			return err
		}
		if err := notify(ctx, tx, change{K: "r", S: id}); err != nil {
			return err
		}
		return notify(ctx, tx, change{K: "w", S: id})
	})
	for done := false; err == nil && !done; {
		err = s.write(ctx, "delete portal entries", func(ctx context.Context, tx pgx.Tx) error {
			var sid int64
			err := tx.QueryRow(ctx, "SELECT sid FROM streams WHERE stream = $1 FOR UPDATE", id).Scan(&sid)
			if errors.Is(err, pgx.ErrNoRows) {
				done = true
				return nil
			}
			if err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `DELETE FROM entries WHERE ctid = ANY (ARRAY(
				SELECT ctid FROM entries WHERE sid = $1 LIMIT $2))`, sid, portalDeleteChunk)
			if err != nil || tag.RowsAffected() == portalDeleteChunk {
				done = false
				return err
			}
			// Then its leaf hashes, which retention keeps.
			tag, err = tx.Exec(ctx, `DELETE FROM leaves WHERE (sid, seq) IN (
				SELECT sid, seq FROM leaves WHERE sid = $1 LIMIT $2)`, sid, portalDeleteChunk)
			if err != nil || tag.RowsAffected() == portalDeleteChunk {
				done = false
				return err
			}
			done = true
			_, err = tx.Exec(ctx, "DELETE FROM streams WHERE sid = $1", sid)
			return err
		})
	}
	return err
}
