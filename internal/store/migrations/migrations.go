// Package migrations reads the numbered schema changes a backend embeds
// (migrations/NNNN_description.sql). Each backend applies them its own way
// (SQLite on its writer connection, PostgreSQL under an advisory lock);
// what a migration is, and which set is well formed, is the same for both.
package migrations

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string // the file name, e.g. 0002_replay_high_seq.sql
	SQL     string
}

// Load reads the migrations under dir in fsys, ordered by version. Names
// are NNNN_description.sql; a gap or a duplicate number is a build
// mistake, so it is an error here rather than a schema that skips a step.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, n := range names {
		base := strings.TrimPrefix(n, dir+"/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", base)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.Name, i+1)
		}
	}
	return ms, nil
}
