package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const pageCols = `id, portal_id, parent_id, position, slug, title, description, content, visibility, status, created_at, updated_at`

func scanPage(sc scanner) (store.PortalPage, error) {
	var p store.PortalPage
	var created, updated int64
	err := sc.Scan(&p.ID, &p.PortalID, &p.ParentID, &p.Position, &p.Slug, &p.Title, &p.Description, &p.Content,
		&p.Visibility, &p.Status, &created, &updated)
	p.CreatedAt, p.UpdatedAt = sqlcodec.FromNS(created), sqlcodec.FromNS(updated)
	return p, err
}

// lockPages takes the portal's row lock, so that page writes of one
// portal (positions, the tree) run one at a time across replicas.
func lockPages(ctx context.Context, tx pgx.Tx, portalID string) error {
	return lockRow(ctx, tx, "portal", "SELECT 1 FROM portals WHERE id = $1 FOR UPDATE", portalID)
}

func getPage(ctx context.Context, q querier, portalID, id string) (store.PortalPage, error) {
	p, err := scanPage(q.QueryRow(ctx, "SELECT "+pageCols+" FROM portal_pages WHERE portal_id = $1 AND id = $2", portalID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, notFound("page")
	}
	return p, err
}

// pageParents maps every page of the portal to its parent.
func pageParents(ctx context.Context, q querier, portalID string) (map[string]string, error) {
	rows, err := q.Query(ctx, "SELECT id, parent_id FROM portal_pages WHERE portal_id = $1", portalID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, parent string
		if err := rows.Scan(&id, &parent); err != nil {
			return nil, err
		}
		out[id] = parent
	}
	return out, rows.Err()
}

// checkParent makes sure parent is a page of the portal that may hold id.
func checkParent(ctx context.Context, q querier, portalID, id, parent string) error {
	if parent == "" {
		return nil
	}
	parents, err := pageParents(ctx, q, portalID)
	if err != nil {
		return err
	}
	if _, ok := parents[parent]; !ok {
		return notFound("parent page")
	}
	return store.CheckPageParent(parents, id, parent)
}

// siblingIDs lists the pages under parent in their order.
func siblingIDs(ctx context.Context, q querier, portalID, parent string) ([]string, error) {
	rows, err := q.Query(ctx, "SELECT id FROM portal_pages WHERE portal_id = $1 AND parent_id = $2 ORDER BY position, id", portalID, parent)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// renumber stores order as the positions 0..n-1; without order it
// renumbers parent's pages as they stand, closing the gap a page left.
func renumber(ctx context.Context, q querier, portalID, parent string, order []string) error {
	if order == nil {
		var err error
		if order, err = siblingIDs(ctx, q, portalID, parent); err != nil {
			return err
		}
	}
	for i, id := range order {
		if _, err := q.Exec(ctx, "UPDATE portal_pages SET position = $1 WHERE portal_id = $2 AND id = $3", i, portalID, id); err != nil {
			return err
		}
	}
	return nil
}

func countSiblings(ctx context.Context, q querier, portalID, parent string) (int, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT COUNT(*) FROM portal_pages WHERE portal_id = $1 AND parent_id = $2", portalID, parent).Scan(&n)
	return n, err
}

// CreatePortalPage stores a page last among its siblings.
func (s *Store) CreatePortalPage(ctx context.Context, p store.PortalPage) error {
	return s.write(ctx, "create page", func(ctx context.Context, tx pgx.Tx) error {
		if err := lockPages(ctx, tx, p.PortalID); err != nil {
			return err
		}
		if err := checkParent(ctx, tx, p.PortalID, p.ID, p.ParentID); err != nil {
			return err
		}
		n, err := countSiblings(ctx, tx, p.PortalID, p.ParentID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO portal_pages ("+pageCols+") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
			p.ID, p.PortalID, p.ParentID, n, p.Slug, p.Title, p.Description, p.Content, p.Visibility, p.Status,
			sqlcodec.ToNS(p.CreatedAt), sqlcodec.ToNS(p.UpdatedAt))
		return constraint(err, "page")
	})
}

// GetPortalPage finds one page of the portal.
func (s *Store) GetPortalPage(ctx context.Context, portalID, id string) (store.PortalPage, error) {
	var p store.PortalPage
	err := s.read(ctx, "get page", func(ctx context.Context, q querier) error {
		var err error
		p, err = getPage(ctx, q, portalID, id)
		return err
	})
	return p, err
}

// ListPortalPages lists every page of the portal by parent and position.
func (s *Store) ListPortalPages(ctx context.Context, portalID string) ([]store.PortalPage, error) {
	var out []store.PortalPage
	err := s.read(ctx, "list pages", func(ctx context.Context, q querier) error {
		var err error
		rows, qerr := q.Query(ctx, "SELECT "+pageCols+" FROM portal_pages WHERE portal_id = $1 ORDER BY parent_id, position, id", portalID)
		out, err = collect(rows, qerr, scanPage)
		return err
	})
	return out, err
}

// UpdatePortalPage replaces a page's fields; a new parent puts it last
// among its new siblings.
func (s *Store) UpdatePortalPage(ctx context.Context, p store.PortalPage) error {
	return s.write(ctx, "update page", func(ctx context.Context, tx pgx.Tx) error {
		if err := lockPages(ctx, tx, p.PortalID); err != nil {
			return err
		}
		old, err := getPage(ctx, tx, p.PortalID, p.ID)
		if err != nil {
			return err
		}
		pos := old.Position
		if p.ParentID != old.ParentID {
			if err := checkParent(ctx, tx, p.PortalID, p.ID, p.ParentID); err != nil {
				return err
			}
			if pos, err = countSiblings(ctx, tx, p.PortalID, p.ParentID); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE portal_pages SET parent_id = $1, position = $2, slug = $3, title = $4, description = $5,
			content = $6, visibility = $7, status = $8, updated_at = $9 WHERE portal_id = $10 AND id = $11`,
			p.ParentID, pos, p.Slug, p.Title, p.Description, p.Content, p.Visibility, p.Status,
			sqlcodec.ToNS(p.UpdatedAt), p.PortalID, p.ID)
		if err := constraint(err, "page"); err != nil {
			return err
		}
		if p.ParentID != old.ParentID {
			return renumber(ctx, tx, p.PortalID, old.ParentID, nil)
		}
		return nil
	})
}

// MovePortalPage puts a page under parent at index among its siblings.
func (s *Store) MovePortalPage(ctx context.Context, portalID, id, parent string, index int) error {
	return s.write(ctx, "move page", func(ctx context.Context, tx pgx.Tx) error {
		if err := lockPages(ctx, tx, portalID); err != nil {
			return err
		}
		old, err := getPage(ctx, tx, portalID, id)
		if err != nil {
			return err
		}
		if err := checkParent(ctx, tx, portalID, id, parent); err != nil {
			return err
		}
		sibs, err := siblingIDs(ctx, tx, portalID, parent)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE portal_pages SET parent_id = $1 WHERE portal_id = $2 AND id = $3", parent, portalID, id); err != nil {
			return constraint(err, "page")
		}
		if err := renumber(ctx, tx, portalID, parent, store.PageOrder(sibs, id, index)); err != nil {
			return err
		}
		if parent != old.ParentID {
			return renumber(ctx, tx, portalID, old.ParentID, nil)
		}
		return nil
	})
}

// DeletePortalPage deletes a page and its descendants.
func (s *Store) DeletePortalPage(ctx context.Context, portalID, id string) error {
	return s.write(ctx, "delete page", func(ctx context.Context, tx pgx.Tx) error {
		if err := lockPages(ctx, tx, portalID); err != nil {
			return err
		}
		old, err := getPage(ctx, tx, portalID, id)
		if err != nil {
			return err
		}
		parents, err := pageParents(ctx, tx, portalID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM portal_pages WHERE portal_id = $1 AND id = ANY($2)", portalID, store.Descendants(parents, id)); err != nil {
			return err
		}
		return renumber(ctx, tx, portalID, old.ParentID, nil)
	})
}

const snippetCols = `id, portal_id, name, title, description, content, visibility, status, created_at, updated_at`

func scanSnippet(sc scanner) (store.PortalSnippet, error) {
	var p store.PortalSnippet
	var created, updated int64
	err := sc.Scan(&p.ID, &p.PortalID, &p.Name, &p.Title, &p.Description, &p.Content, &p.Visibility, &p.Status, &created, &updated)
	p.CreatedAt, p.UpdatedAt = sqlcodec.FromNS(created), sqlcodec.FromNS(updated)
	return p, err
}

// CreatePortalSnippet stores a snippet; a taken name is a Conflict.
func (s *Store) CreatePortalSnippet(ctx context.Context, p store.PortalSnippet) error {
	return s.write(ctx, "create snippet", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO portal_snippets ("+snippetCols+") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
			p.ID, p.PortalID, p.Name, p.Title, p.Description, p.Content, p.Visibility, p.Status,
			sqlcodec.ToNS(p.CreatedAt), sqlcodec.ToNS(p.UpdatedAt))
		return constraint(err, "snippet")
	})
}

// GetPortalSnippet finds one snippet of the portal.
func (s *Store) GetPortalSnippet(ctx context.Context, portalID, id string) (store.PortalSnippet, error) {
	return getOne(s, ctx, "get snippet", "snippet", "SELECT "+snippetCols+" FROM portal_snippets WHERE portal_id = $1 AND id = $2", scanSnippet, portalID, id)
}

// ListPortalSnippets lists the portal's snippets in creation order.
func (s *Store) ListPortalSnippets(ctx context.Context, portalID string) ([]store.PortalSnippet, error) {
	var out []store.PortalSnippet
	err := s.read(ctx, "list snippets", func(ctx context.Context, q querier) error {
		var err error
		rows, qerr := q.Query(ctx, "SELECT "+snippetCols+" FROM portal_snippets WHERE portal_id = $1 ORDER BY id", portalID)
		out, err = collect(rows, qerr, scanSnippet)
		return err
	})
	return out, err
}

// UpdatePortalSnippet replaces a snippet's fields.
func (s *Store) UpdatePortalSnippet(ctx context.Context, p store.PortalSnippet) error {
	return s.write(ctx, "update snippet", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE portal_snippets SET name = $1, title = $2, description = $3, content = $4,
			visibility = $5, status = $6, updated_at = $7 WHERE portal_id = $8 AND id = $9`,
			p.Name, p.Title, p.Description, p.Content, p.Visibility, p.Status, sqlcodec.ToNS(p.UpdatedAt), p.PortalID, p.ID)
		return mustAffect(tag, constraint(err, "snippet"))("snippet")
	})
}

// DeletePortalSnippet deletes one snippet.
func (s *Store) DeletePortalSnippet(ctx context.Context, portalID, id string) error {
	return s.write(ctx, "delete snippet", func(ctx context.Context, tx pgx.Tx) error {
		return mustAffect(tx.Exec(ctx, "DELETE FROM portal_snippets WHERE portal_id = $1 AND id = $2", portalID, id))("snippet")
	})
}

// GetPortalCustomization reads the portal's customization.
func (s *Store) GetPortalCustomization(ctx context.Context, portalID string) (store.PortalCustomization, error) {
	doc, err := getOne(s, ctx, "get customization", "customization", "SELECT document FROM portal_customizations WHERE portal_id = $1",
		func(sc scanner) (string, error) { var d string; err := sc.Scan(&d); return d, err }, portalID)
	if err != nil {
		return store.PortalCustomization{}, err
	}
	c, err := sqlcodec.DecodeCustomization(doc)
	return c, s.fail(ctx, err, "get customization")
}

// PutPortalCustomization creates or replaces the portal's customization.
func (s *Store) PutPortalCustomization(ctx context.Context, portalID string, c store.PortalCustomization) error {
	doc, err := sqlcodec.EncodeCustomization(c)
	if err != nil {
		return s.fail(ctx, err, "put customization")
	}
	return s.write(ctx, "put customization", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO portal_customizations (portal_id, document) VALUES ($1, $2)
			ON CONFLICT (portal_id) DO UPDATE SET document = excluded.document`, portalID, doc)
		return constraint(err, "customization")
	})
}
