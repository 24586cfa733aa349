package backend

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		db   string
		want Target
		err  string
	}{
		{"", Target{Kind: SQLite, Path: "d/sigtrail.db"}, ""},
		{"sqlite:///var/lib/s.db", Target{Kind: SQLite, Path: "/var/lib/s.db"}, ""},
		{"file:x.db", Target{Kind: SQLite, Path: "x.db"}, ""},
		{"plain.db", Target{Kind: SQLite, Path: "plain.db"}, ""},
		{"postgres://u:p@h/db", Target{Kind: PostgreSQL, URL: "postgres://u:p@h/db"}, ""},
		{"postgresql://h/db?sslmode=disable", Target{Kind: PostgreSQL, URL: "postgresql://h/db?sslmode=disable"}, ""},
		{"mysql://h/db", Target{}, `unknown database scheme "mysql"`},
	}
	for _, c := range cases {
		got, err := Parse("d", c.db)
		if got != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %q", c.db, got, err, c.want, c.err)
		}
	}
	if _, err := Parse("", ""); err == nil {
		t.Error("an empty data dir and no --db was accepted")
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"postgres://sigtrail:s3cret@db.internal:5432/sigtrail", "postgres://sigtrail:xxxxx@db.internal:5432/sigtrail"},
		{"postgres://sigtrail@db/sigtrail", "postgres://sigtrail@db/sigtrail"},
		{"postgres://db/sigtrail?password=x&sslmode=require", "postgres://db/sigtrail?password=xxxxx&sslmode=require"},
		{"postgres://u:p@ss@h/db", "postgres://u:xxxxx@h/db"},
		{"/var/lib/sigtrail.db", "/var/lib/sigtrail.db"},
	}
	for _, c := range cases {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestOpenMustExistCreatesNothing(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "typo")
	tg, _ := Parse(dir, "")
	if _, err := Open(context.Background(), tg, Options{MustExist: true}); err == nil || !strings.Contains(err.Error(), tg.Path) {
		t.Fatalf("err %v, want one naming %s", err, tg.Path)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("created %s", dir)
	}
	st, err := Open(context.Background(), tg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = Open(context.Background(), tg, Options{MustExist: true})
	if err != nil {
		t.Fatalf("an existing database: %v", err)
	}
	st.Close()
}
