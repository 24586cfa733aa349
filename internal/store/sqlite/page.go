package sqlite

import (
	"strings"

	"github.com/sigtrail/sigtrail/internal/store"
)

// pageQuery finishes a list query ordered by id. Going backwards (Before)
// reads descending and the caller reverses; one extra row is read to learn
// whether more lie beyond the page. Size <= 0 means no limit.
func pageQuery(base string, args []any, p store.Page) (string, []any) {
	var b strings.Builder
	b.WriteString(base)
	switch {
	case p.After != "":
		b.WriteString(" AND id > ?")
		args = append(args, p.After)
	case p.Before != "":
		b.WriteString(" AND id < ?")
		args = append(args, p.Before)
	}
	if p.After == "" && p.Before != "" {
		b.WriteString(" ORDER BY id DESC")
	} else {
		b.WriteString(" ORDER BY id")
	}
	if p.Size > 0 {
		b.WriteString(" LIMIT ?")
		args = append(args, p.Size+1)
	}
	return b.String(), args
}

// nameFilter appends the name condition: eq is exact, contains is a
// case-insensitive substring match.
func nameFilter(base string, args []any, f store.NameFilter) (string, []any) {
	if f.Eq != "" {
		base += " AND name = ?"
		args = append(args, f.Eq)
	}
	if f.Contains != "" {
		base += " AND instr(lower(name), lower(?)) > 0"
		args = append(args, f.Contains)
	}
	return base, args
}
