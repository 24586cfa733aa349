package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const pageCols = `id, portal_id, parent_id, position, slug, title, description, content, visibility, status, created_at, updated_at`

func scanPage(sc interface{ Scan(...any) error }) (store.PortalPage, error) {
	var p store.PortalPage
	var created, updated int64
	err := sc.Scan(&p.ID, &p.PortalID, &p.ParentID, &p.Position, &p.Slug, &p.Title, &p.Description, &p.Content,
		&p.Visibility, &p.Status, &created, &updated)
	p.CreatedAt, p.UpdatedAt = sqlcodec.FromNS(created), sqlcodec.FromNS(updated)
	return p, err
}

func getPage(ctx context.Context, q querier, portalID, id string) (store.PortalPage, error) {
	p, err := scanPage(q.QueryRowContext(ctx, "SELECT "+pageCols+" FROM portal_pages WHERE portal_id = ? AND id = ?", portalID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("page")
	}
	return p, err
}

// pageParents maps every page of the portal to its parent.
func pageParents(ctx context.Context, q querier, portalID string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, parent_id FROM portal_pages WHERE portal_id = ?", portalID)
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
	rows, err := q.QueryContext(ctx, "SELECT id FROM portal_pages WHERE portal_id = ? AND parent_id = ? ORDER BY position, id", portalID, parent)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
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
		if _, err := q.ExecContext(ctx, "UPDATE portal_pages SET position = ? WHERE portal_id = ? AND id = ?", i, portalID, id); err != nil {
			return err
		}
	}
	return nil
}

// CreatePortalPage stores a page last among its siblings.
func (s *Store) CreatePortalPage(ctx context.Context, p store.PortalPage) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		if err := checkParent(ctx, q, p.PortalID, p.ID, p.ParentID); err != nil {
			return err
		}
		if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM portal_pages WHERE portal_id = ? AND parent_id = ?",
			p.PortalID, p.ParentID).Scan(&p.Position); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, "INSERT INTO portal_pages ("+pageCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
			p.ID, p.PortalID, p.ParentID, p.Position, p.Slug, p.Title, p.Description, p.Content, p.Visibility, p.Status,
			sqlcodec.ToNS(p.CreatedAt), sqlcodec.ToNS(p.UpdatedAt))
		return constraint(err, "page")
	})
	return s.internal(err, "create page")
}

// GetPortalPage finds one page of the portal.
func (s *Store) GetPortalPage(ctx context.Context, portalID, id string) (store.PortalPage, error) {
	p, err := getPage(ctx, s.rdb, portalID, id)
	return p, s.internal(err, "get page")
}

// ListPortalPages lists every page of the portal by parent and position.
func (s *Store) ListPortalPages(ctx context.Context, portalID string) ([]store.PortalPage, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+pageCols+" FROM portal_pages WHERE portal_id = ? ORDER BY parent_id, position, id", portalID)
	if err != nil {
		return nil, s.internal(err, "list pages")
	}
	out, err := collectRows(rows, scanPage)
	return out, s.internal(err, "list pages")
}

// UpdatePortalPage replaces a page's fields; a new parent puts it last
// among its new siblings.
func (s *Store) UpdatePortalPage(ctx context.Context, p store.PortalPage) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		old, err := getPage(ctx, q, p.PortalID, p.ID)
		if err != nil {
			return err
		}
		p.Position = old.Position
		if p.ParentID != old.ParentID {
			if err := checkParent(ctx, q, p.PortalID, p.ID, p.ParentID); err != nil {
				return err
			}
			if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM portal_pages WHERE portal_id = ? AND parent_id = ?",
				p.PortalID, p.ParentID).Scan(&p.Position); err != nil {
				return err
			}
		}
		_, err = q.ExecContext(ctx, `UPDATE portal_pages SET parent_id = ?, position = ?, slug = ?, title = ?, description = ?,
			content = ?, visibility = ?, status = ?, updated_at = ? WHERE portal_id = ? AND id = ?`,
			p.ParentID, p.Position, p.Slug, p.Title, p.Description, p.Content, p.Visibility, p.Status,
			sqlcodec.ToNS(p.UpdatedAt), p.PortalID, p.ID)
		if err := constraint(err, "page"); err != nil {
			return err
		}
		if p.ParentID != old.ParentID {
			return renumber(ctx, q, p.PortalID, old.ParentID, nil)
		}
		return nil
	})
	return s.internal(err, "update page")
}

// MovePortalPage puts a page under parent at index among its siblings.
func (s *Store) MovePortalPage(ctx context.Context, portalID, id, parent string, index int) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		old, err := getPage(ctx, q, portalID, id)
		if err != nil {
			return err
		}
		if err := checkParent(ctx, q, portalID, id, parent); err != nil {
			return err
		}
		sibs, err := siblingIDs(ctx, q, portalID, parent)
		if err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, "UPDATE portal_pages SET parent_id = ? WHERE portal_id = ? AND id = ?", parent, portalID, id); err != nil {
			return constraint(err, "page")
		}
		if err := renumber(ctx, q, portalID, parent, store.PageOrder(sibs, id, index)); err != nil {
			return err
		}
		if parent != old.ParentID {
			return renumber(ctx, q, portalID, old.ParentID, nil)
		}
		return nil
	})
	return s.internal(err, "move page")
}

// DeletePortalPage deletes a page and its descendants.
func (s *Store) DeletePortalPage(ctx context.Context, portalID, id string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		old, err := getPage(ctx, q, portalID, id)
		if err != nil {
			return err
		}
		parents, err := pageParents(ctx, q, portalID)
		if err != nil {
			return err
		}
		for _, d := range store.Descendants(parents, id) {
			if _, err := q.ExecContext(ctx, "DELETE FROM portal_pages WHERE portal_id = ? AND id = ?", portalID, d); err != nil {
				return err
			}
		}
		return renumber(ctx, q, portalID, old.ParentID, nil)
	})
	return s.internal(err, "delete page")
}

const snippetCols = `id, portal_id, name, title, description, content, visibility, status, created_at, updated_at`

func scanSnippet(sc interface{ Scan(...any) error }) (store.PortalSnippet, error) {
	var p store.PortalSnippet
	var created, updated int64
	err := sc.Scan(&p.ID, &p.PortalID, &p.Name, &p.Title, &p.Description, &p.Content, &p.Visibility, &p.Status, &created, &updated)
	p.CreatedAt, p.UpdatedAt = sqlcodec.FromNS(created), sqlcodec.FromNS(updated)
	return p, err
}

// CreatePortalSnippet stores a snippet; a taken name is a Conflict.
func (s *Store) CreatePortalSnippet(ctx context.Context, p store.PortalSnippet) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "INSERT INTO portal_snippets ("+snippetCols+") VALUES (?,?,?,?,?,?,?,?,?,?)",
			p.ID, p.PortalID, p.Name, p.Title, p.Description, p.Content, p.Visibility, p.Status,
			sqlcodec.ToNS(p.CreatedAt), sqlcodec.ToNS(p.UpdatedAt))
		return constraint(err, "snippet")
	})
	return s.internal(err, "create snippet")
}

// GetPortalSnippet finds one snippet of the portal.
func (s *Store) GetPortalSnippet(ctx context.Context, portalID, id string) (store.PortalSnippet, error) {
	p, err := scanSnippet(s.rdb.QueryRowContext(ctx, "SELECT "+snippetCols+" FROM portal_snippets WHERE portal_id = ? AND id = ?", portalID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("snippet")
	}
	return p, s.internal(err, "get snippet")
}

// ListPortalSnippets lists the portal's snippets in creation order.
func (s *Store) ListPortalSnippets(ctx context.Context, portalID string) ([]store.PortalSnippet, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+snippetCols+" FROM portal_snippets WHERE portal_id = ? ORDER BY id", portalID)
	if err != nil {
		return nil, s.internal(err, "list snippets")
	}
	out, err := collectRows(rows, scanSnippet)
	return out, s.internal(err, "list snippets")
}

// UpdatePortalSnippet replaces a snippet's fields.
func (s *Store) UpdatePortalSnippet(ctx context.Context, p store.PortalSnippet) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE portal_snippets SET name = ?, title = ?, description = ?, content = ?,
			visibility = ?, status = ?, updated_at = ? WHERE portal_id = ? AND id = ?`,
			p.Name, p.Title, p.Description, p.Content, p.Visibility, p.Status, sqlcodec.ToNS(p.UpdatedAt), p.PortalID, p.ID)
		return mustAffect(res, constraint(err, "snippet"))("snippet")
	})
	return s.internal(err, "update snippet")
}

// DeletePortalSnippet deletes one snippet.
func (s *Store) DeletePortalSnippet(ctx context.Context, portalID, id string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, "DELETE FROM portal_snippets WHERE portal_id = ? AND id = ?", portalID, id))("snippet")
	})
	return s.internal(err, "delete snippet")
}

// GetPortalCustomization reads the portal's customization.
func (s *Store) GetPortalCustomization(ctx context.Context, portalID string) (store.PortalCustomization, error) {
	var doc string
	err := s.rdb.QueryRowContext(ctx, "SELECT document FROM portal_customizations WHERE portal_id = ?", portalID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return store.PortalCustomization{}, notFound("customization")
	}
	if err != nil {
		return store.PortalCustomization{}, s.internal(err, "get customization")
	}
	c, err := sqlcodec.DecodeCustomization(doc)
	return c, s.internal(err, "get customization")
}

// PutPortalCustomization creates or replaces the portal's customization.
func (s *Store) PutPortalCustomization(ctx context.Context, portalID string, c store.PortalCustomization) error {
	doc, err := sqlcodec.EncodeCustomization(c)
	if err != nil {
		return s.internal(err, "put customization")
	}
	err = s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO portal_customizations (portal_id, document) VALUES (?, ?)
			ON CONFLICT (portal_id) DO UPDATE SET document = excluded.document`, portalID, doc)
		return constraint(err, "customization")
	})
	return s.internal(err, "put customization")
}
