package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/migrations"
	"github.com/sigtrail/sigtrail/internal/store/storetest"
)

func TestMigrationsApplyOnceInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	for range 2 { // the second Open finds nothing to do
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := migrations.Load(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	rows, err := db.Query("SELECT version, name FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		if i >= len(ms) || v != ms[i].Version || name != ms[i].Name {
			t.Fatalf("schema_migrations row %d = %d %s", i, v, name)
		}
		i++
	}
	if i != len(ms) {
		t.Fatalf("%d migrations recorded, want %d", i, len(ms))
	}
}

func TestNewerDatabaseIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := rawDB(t, path)
	if _, err := db.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(ctx, path, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer than this sigtrail supports") {
		t.Fatalf("Open of a newer database: %v", err)
	}
}

// TestFailedMigrationLeavesNoTrace checks a migration is all or nothing.
func TestFailedMigrationLeavesNoTrace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := rawDB(t, filepath.Join(t.TempDir(), "m.db"))
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ms := []migrations.Migration{
		{Version: 1, Name: "0001_ok.sql", SQL: "CREATE TABLE a (x INTEGER);"},
		{Version: 2, Name: "0002_bad.sql", SQL: "CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);"},
	}
	if err := applyMigrations(ctx, conn, ms); err == nil || !strings.Contains(err.Error(), "0002_bad.sql") {
		t.Fatalf("applyMigrations: %v, want the failure of 0002_bad.sql", err)
	}
	var v int
	if err := conn.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v); err != nil || v != 1 {
		t.Fatalf("recorded version %d, %v; want 1", v, err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'b'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("table b of the failed migration exists (%d, %v)", n, err)
	}
	// Fixed, the set applies from where it stopped.
	ms[1].SQL = "CREATE TABLE b (x INTEGER);"
	if err := applyMigrations(ctx, conn, ms); err != nil {
		t.Fatalf("applyMigrations after the fix: %v", err)
	}
}

func TestPragmasTakeEffect(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	checks := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"},
		{"foreign_keys", "1"},
		{"query_only", "1"},
	}
	for _, c := range checks {
		var got string
		if err := s.rdb.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil || got != c.want {
			t.Errorf("reader PRAGMA %s = %q, %v; want %q", c.pragma, got, err, c.want)
		}
	}
	if _, err := s.rdb.ExecContext(ctx, "DELETE FROM orgs"); err == nil {
		t.Error("a reader connection could write")
	}
}

// rawDB opens the file directly, bypassing the Store.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestOddPaths checks that any file name works, including characters that
// mean something in a URI.
func TestOddPaths(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"with space.db", "what?.db", "hash#tag.db", "100%.db", "ünï.db"} {
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		s, err := Open(context.Background(), path, Options{})
		if err != nil {
			t.Fatalf("Open(%q): %v", name, err)
		}
		s.Close()
		if _, err := os.Stat(path); err != nil {
			t.Errorf("Open(%q) did not create that file: %v", name, err)
		}
	}
}

// TestRelativePath checks a path relative to the working directory, as
// the default --data-dir gives.
func TestRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s, err := Open(context.Background(), filepath.Join("data", "..", "rel.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, "rel.db")); err != nil {
		t.Fatalf("rel.db not created in the working directory: %v", err)
	}
}

// TestTokenOwnerMigrationLeavesExistingTokensOrgLevel: a token stored
// before 0012_token_owner is, after it, an org-level token (no owner),
// still valid.
func TestTokenOwnerMigrationLeavesExistingTokensOrgLevel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	migrateBefore(t, path, "0012_token_owner.sql",
		"INSERT INTO orgs (id, name, created_at) VALUES ('org-1', 'acme', 0)",
		"INSERT INTO tokens (id, org_id, name, role, hash, system, created_at, expires_at) VALUES ('tok-1', 'org-1', 'old', 'org-admin', x'01', 0, 0, 0)",
	)
	s := openAt(t, path, Options{})
	tok, err := s.GetTokenByHash(ctx, []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if tok.ID != "tok-1" || tok.OwnerUserID != "" {
		t.Fatalf("after the migration: %+v, want tok-1 with no owner", tok)
	}
}

// TestDeveloperTokenSessionMigrationKeepsExistingTokens: a Dev Portal token
// stored before 0013_developer_token_session reads back after it with no
// session, still valid, and ending the empty session ends none.
func TestDeveloperTokenSessionMigrationKeepsExistingTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	// The raw connection enforces no foreign keys: the token needs no
	// developer row to be read back by hash.
	migrateBefore(t, path, "0013_developer_token_session.sql", `INSERT INTO developer_tokens (hash, developer_id, portal_id, purpose, created_at, expires_at)
		VALUES (x'01', 'dev-1', 'portal-1', 'refresh', 0, 0)`)
	s := openAt(t, path, Options{})
	tok, err := s.GetDeveloperToken(ctx, []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if tok.DeveloperID != "dev-1" || tok.Purpose != store.PurposeRefresh || tok.SessionID != "" {
		t.Fatalf("after the migration: %+v, want dev-1's refresh token with no session", tok)
	}
	if n, err := s.DeleteDeveloperSession(ctx, ""); err != nil || n != 0 {
		t.Fatalf("DeleteDeveloperSession of the empty session: %d %v, want 0", n, err)
	}
}

// TestIdentitiesMigrationKeepsUsers: storetest.CheckUpgradedUser on a
// database whose user was stored before 0014_identities.
func TestIdentitiesMigrationKeepsUsers(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.db")
	migrateBefore(t, path, "0014_identities.sql",
		"INSERT INTO orgs (id, name, created_at) VALUES ('org-1', 'acme', 0), ('org-2', 'bigcorp', 0)",
		`INSERT INTO users (id, org_id, email, email_key, role, disabled, password_hash, failed_logins, failed_since, locked_until, created_at, updated_at)
			VALUES ('user-1', 'org-1', 'Bob@BigCorp.com', 'bob@bigcorp.com', 'org-admin', 0, '$argon2id$old', 2, 5, 7, 1, 1)`,
		"INSERT INTO user_sessions (hash, user_id, org_id, created_at, expires_at) VALUES (x'01', 'user-1', 'org-1', 0, 9)",
		"INSERT INTO user_tokens (hash, user_id, org_id, purpose, created_at, expires_at) VALUES (x'02', 'user-1', 'org-1', 'device', 0, 9)",
		"INSERT INTO tokens (id, org_id, name, role, hash, system, created_at, expires_at, owner_user_id) VALUES ('tok-1', 'org-1', 'mine', 'org-admin', x'03', 0, 0, 0, 'user-1')",
	)
	storetest.CheckUpgradedUser(t, openAt(t, path, Options{}))
}

// migrateBefore makes the database at path as it was before the migration
// named, then runs stmts on it (on a raw connection, which enforces no
// foreign keys).
func migrateBefore(t *testing.T, path, name string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	ms, err := migrations.Load(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	before := slices.IndexFunc(ms, func(m migrations.Migration) bool { return m.Name == name })
	if before < 0 {
		t.Fatal("no migration " + name)
	}
	db := rawDB(t, path)
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := applyMigrations(ctx, conn, ms[:before]); err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestCustomDomainMigrationMakesExistingDomainsPendingAndDue: a custom
// domain set before 0015_custom_domain_checks is, after it, a pending
// claim (not served) due for a check at once.
func TestCustomDomainMigrationMakesExistingDomainsPendingAndDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	migrateBefore(t, path, "0015_custom_domain_checks.sql",
		"INSERT INTO orgs (id, name, created_at) VALUES ('org-1', 'acme', 0)",
		`INSERT INTO portals (id, org_id, name, display_name, description, authentication_enabled, auto_approve_developers,
			rbac_enabled, default_api_visibility, default_page_visibility, default_domain, custom_domain, created_at, updated_at, labels)
			VALUES ('portal-1', 'org-1', 'acme', 'Acme', '', 1, 0, 0, 'public', 'public', 'acme.localhost', 'dev.acme.example',
			1000, 2000, '{}')`)
	s := openAt(t, path, Options{})
	if _, err := s.GetPortalByDomain(ctx, "dev.acme.example"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("an existing custom domain is served before its check: %v", err)
	}
	p, err := s.GetPortal(ctx, "org-1", "portal-1")
	if err != nil || p.CustomDomain != "dev.acme.example" || p.CustomDomainVerified {
		t.Fatalf("after the migration: %+v %v", p, err)
	}
	cs, err := s.ClaimCustomDomainChecks(ctx, store.CustomDomainClaim{Now: time.Unix(0, 1), Hold: time.Minute, Limit: 10})
	if err != nil || len(cs) != 1 || cs[0].PortalID != "portal-1" || cs[0].Hostname != "dev.acme.example" {
		t.Fatalf("due checks after the migration: %+v %v", cs, err)
	}
}
