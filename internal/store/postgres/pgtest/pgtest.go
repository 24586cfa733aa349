// Package pgtest gives tests a fresh, empty PostgreSQL database.
//
// With SIGTRAIL_TEST_POSTGRES_URL set (a URL whose user may CREATE
// DATABASE), databases are made on that server. Otherwise the first call
// starts a throwaway server from the newest /usr/lib/postgresql/*/bin
// (initdb into a temporary directory, as the postgres OS user when the test
// runs as root) and every later call in the test binary shares it. Without
// PostgreSQL binaries the test is skipped, unless CI=true, where it fails.
//
// A package whose tests use it stops the server at exit through Main:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable of an existing server to use.
const EnvURL = "SIGTRAIL_TEST_POSTGRES_URL"

var (
	startOnce sync.Once
	adminURL  string // a URL of the server's "postgres" database
	startErr  error
	skipMsg   string
	srv       *server
	dbCounter atomic.Int64
)

// Main runs the tests and then stops the server they started, if any.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the server this process started, if any. Main calls it.
func Stop() {
	if srv != nil {
		srv.stop()
	}
}

// URL returns the URL of a new empty database, dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	startOnce.Do(start)
	if skipMsg != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgtest: %s (CI=true: not skipping)", skipMsg)
		}
		t.Skipf("pgtest: %s", skipMsg)
	}
	if startErr != nil {
		t.Fatalf("pgtest: %v", startErr)
	}
	name := fmt.Sprintf("sigtrail_test_%d_%d", os.Getpid(), dbCounter.Add(1))
	if err := admin(func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, "CREATE DATABASE "+name)
		return err
	}); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := admin(func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			return err
		}); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return withDatabase(adminURL, name)
}

// admin runs fn on a new connection to the server's postgres database.
func admin(fn func(ctx context.Context, c *pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	return fn(ctx, c)
}

// withDatabase returns u with its database replaced by name.
func withDatabase(u, name string) string {
	p, err := url.Parse(u)
	if err != nil {
		panic(err) // checked at start
	}
	p.Path = "/" + name
	return p.String()
}

func start() {
	if u := os.Getenv(EnvURL); u != "" {
		if _, err := url.Parse(u); err != nil {
			startErr = fmt.Errorf("%s: %v", EnvURL, err)
			return
		}
		adminURL = withDatabase(u, "postgres")
		return
	}
	bin := findBin()
	if bin == "" {
		skipMsg = "no PostgreSQL binaries under /usr/lib/postgresql/*/bin and " + EnvURL + " is unset"
		return
	}
	srv, startErr = startServer(bin)
	if startErr == nil {
		adminURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", srv.port)
	}
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
