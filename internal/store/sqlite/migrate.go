package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/sigtrail/sigtrail/internal/store/migrations"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate brings the schema up to date, one transaction per migration, and
// refuses a database written by a newer sigtrail.
func migrate(ctx context.Context, conn *sql.Conn) error {
	ms, err := migrations.Load(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return applyMigrations(ctx, conn, ms)
}

func applyMigrations(ctx context.Context, conn *sql.Conn, ms []migrations.Migration) error {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return err
	}
	var current int
	if err := conn.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return err
	}
	if current > len(ms) {
		return fmt.Errorf("database schema version %d is newer than this sigtrail supports (%d): run a newer sigtrail", current, len(ms))
	}
	for _, m := range ms[current:] {
		if err := applyOne(ctx, conn, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

func applyOne(ctx context.Context, conn *sql.Conn, m migrations.Migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%s','now'))",
		m.Version, m.Name); err != nil {
		return err
	}
	return tx.Commit()
}
