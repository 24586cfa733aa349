package postgres

import (
	"context"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// pageQuery finishes a list query ordered by id. Going backwards (Before)
// reads descending and the caller reverses; one extra row is read to learn
// whether more lie beyond the page. Size <= 0 means no limit.
func pageQuery(base string, a *args, p store.Page) string {
	switch {
	case p.After != "":
		base += " AND id > " + a.add(p.After)
	case p.Before != "":
		base += " AND id < " + a.add(p.Before)
	}
	if p.After == "" && p.Before != "" {
		base += " ORDER BY id DESC"
	} else {
		base += " ORDER BY id"
	}
	if p.Size > 0 {
		base += " LIMIT " + a.add(p.Size+1)
	}
	return base
}

// nameFilter appends the name condition: eq is exact, contains is a
// case-insensitive substring match.
func nameFilter(base string, a *args, f store.NameFilter) string {
	if f.Eq != "" {
		base += " AND name = " + a.add(f.Eq)
	}
	if f.Contains != "" {
		base += " AND strpos(lower(name), lower(" + a.add(f.Contains) + ")) > 0"
	}
	return base
}

// list runs a page query and scans its rows.
func list[T any](s *Store, ctx context.Context, op, query string, a args, p store.Page, scan func(scanner) (T, error)) ([]T, bool, error) {
	var items []T
	err := s.read(ctx, op, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, query, a...)
		items, err = collect(rows, err, scan)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	items, more := sqlcodec.PageResult(items, p)
	return items, more, nil
}
