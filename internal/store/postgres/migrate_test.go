package postgres

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store/migrations"
	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
	"github.com/sigtrail/sigtrail/internal/store/storetest"
)

func TestMigrationsLoad(t *testing.T) {
	t.Parallel()
	ms, err := migrations.Load(migrationFiles, "migrations")
	if err != nil || len(ms) == 0 {
		t.Fatalf("loadMigrations = %d migrations, %v", len(ms), err)
	}
}

// Replicas starting together on an empty database: every Open succeeds
// and each migration is applied once.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	const replicas = 6
	var wg sync.WaitGroup
	errs := make(chan error, replicas)
	for range replicas {
		wg.Go(func() {
			s, err := Open(t.Context(), url, Options{})
			if err == nil {
				err = s.Ping(t.Context())
				s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	ms, _ := migrations.Load(migrationFiles, "migrations")
	c, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var n, max int
	if err := c.QueryRow(t.Context(), "SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || max != len(ms) {
		t.Fatalf("schema_migrations holds %d rows up to version %d, want %d", n, max, len(ms))
	}
	// Opening again applies nothing and still works.
	s := openURL(t, url, Options{})
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	openURL(t, url, Options{})
	c, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(t.Context(), "INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(t.Context(), url, Options{}); err == nil {
		s.Close()
		t.Fatal("Open accepted a schema newer than this build")
	}
}

// An unreachable database fails Open within the connect timeout, not
// after retrying forever.
func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	port, err := pgtestFreePort()
	if err != nil {
		t.Fatal(err)
	}
	// A server that accepts connections and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	cases := map[string]string{
		"refused": "postgres://sigtrail@127.0.0.1:" + port + "/sigtrail?sslmode=disable",
		"silent":  "postgres://sigtrail@" + silent.Addr().String() + "/sigtrail?sslmode=disable",
	}
	for name, url := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			s, err := Open(t.Context(), url, Options{ConnectTimeout: time.Second})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded on an unreachable database")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("Open took %s to fail", d)
			}
			t.Logf("%s after %s", err, time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestTokenOwnerMigrationLeavesExistingTokensOrgLevel: a token stored
// before 0010_token_owner is, after it, an org-level token (no owner),
// still valid.
func TestTokenOwnerMigrationLeavesExistingTokensOrgLevel(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	// Back to the schema before the migration (and the ones after it),
	// with a token in it.
	rollBack(t, url, slices.Concat(undoCustomDomainChecks, undoIdentities[:len(undoIdentities)-1], []string{
		"DROP INDEX developer_tokens_session",
		"ALTER TABLE developer_tokens DROP COLUMN session_id",
		"DROP INDEX tokens_owner",
		"ALTER TABLE tokens DROP COLUMN owner_user_id",
		"DELETE FROM schema_migrations WHERE version >= 10",
		"INSERT INTO orgs (id, name, created_at) VALUES ('org-1', 'acme', 0)",
		"INSERT INTO tokens (id, org_id, name, role, hash, system, created_at, expires_at) VALUES ('tok-1', 'org-1', 'old', 'org-admin', '\\x01', false, 0, 0)",
	})...)
	s := openURL(t, url, Options{})
	tok, err := s.GetTokenByHash(t.Context(), []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if tok.ID != "tok-1" || tok.OwnerUserID != "" {
		t.Fatalf("after the migration: %+v, want tok-1 with no owner", tok)
	}
}

// undoCustomDomainChecks takes a migrated database back to the schema
// before 0013_custom_domain_checks (one custom domain a name, unique),
// and 0014_retired_portal_domains with it; the undo lists after it forget
// the migrations with theirs.
var undoCustomDomainChecks = []string{
	"DROP TABLE retired_portal_domains",
	"DROP INDEX portals_verified_custom_domain",
	"DROP INDEX portals_custom_domain_due",
	"DROP INDEX portals_custom_domain",
	"CREATE UNIQUE INDEX portals_custom_domain ON portals (custom_domain) WHERE custom_domain IS NOT NULL",
	`ALTER TABLE portals DROP COLUMN custom_domain_verified, DROP COLUMN custom_domain_failures,
		DROP COLUMN custom_domain_next_check, DROP COLUMN custom_domain_token`,
}

// undoIdentities takes a migrated database back to the schema before
// 0012_identities (users with their own email and password columns),
// ending with the forgetting of the migration itself.
var undoIdentities = []string{
	"DROP INDEX users_org_identity",
	"DROP INDEX users_identity",
	"ALTER TABLE users DROP COLUMN identity_id",
	"DROP TABLE identities",
	"ALTER TABLE users ADD COLUMN email_key text NOT NULL UNIQUE DEFAULT '', " +
		"ADD COLUMN password_hash text NOT NULL DEFAULT '', ADD COLUMN failed_logins integer NOT NULL DEFAULT 0, " +
		"ADD COLUMN failed_since bigint NOT NULL DEFAULT 0, ADD COLUMN locked_until bigint NOT NULL DEFAULT 0",
	"DELETE FROM schema_migrations WHERE version >= 12",
}

// TestIdentitiesMigrationKeepsUsers: storetest.CheckUpgradedUser on a
// database whose user was stored before 0012_identities.
func TestIdentitiesMigrationKeepsUsers(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	rollBack(t, url, slices.Concat(undoCustomDomainChecks, undoIdentities, []string{
		"INSERT INTO orgs (id, name, created_at) VALUES ('org-1', 'acme', 0), ('org-2', 'bigcorp', 0)",
		`INSERT INTO users (id, org_id, email, email_key, role, disabled, password_hash, failed_logins, failed_since, locked_until, created_at, updated_at)
			VALUES ('user-1', 'org-1', 'Bob@BigCorp.com', 'bob@bigcorp.com', 'org-admin', false, '$argon2id$old', 2, 5, 7, 1, 1)`,
		"INSERT INTO user_sessions (hash, user_id, org_id, created_at, expires_at) VALUES ('\\x01', 'user-1', 'org-1', 0, 9)",
		"INSERT INTO user_tokens (hash, user_id, org_id, purpose, created_at, expires_at) VALUES ('\\x02', 'user-1', 'org-1', 'device', 0, 9)",
		"INSERT INTO tokens (id, org_id, name, role, hash, system, created_at, expires_at, owner_user_id) VALUES ('tok-1', 'org-1', 'mine', 'org-admin', '\\x03', false, 0, 0, 'user-1')",
	})...)
	storetest.CheckUpgradedUser(t, openURL(t, url, Options{}))
}

// rollBack migrates a new database at url to the newest schema, then runs
// stmts on it (taking it back to an older schema, with rows in it).
func rollBack(t *testing.T, url string, stmts ...string) {
	t.Helper()
	openURL(t, url, Options{}).Close()
	c, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for _, q := range stmts {
		if _, err := c.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
