package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
)

// A replica on PostgreSQL whose database goes away while it runs answers
// 503 with Retry-After, recovers by itself when the database returns, and
// delivers every entry it acknowledged before, during and after.
func TestDatabaseOutageAnswers503AndRecovers(t *testing.T) {
	dbURL := pgtest.URL(t)
	dir := t.TempDir()
	srv := startServe(t, filepath.Join(dir, "data"), token, "--db", dbURL, "--log-level", "warn")
	sinkOut := filepath.Join(dir, "siem.log")
	sink := startSink(t, sinkOut, srv.api+"/v2/audit-log-webhook/jwks.json")
	call(t, srv.api, "PATCH", "/v2/audit-log-webhook", token,
		`{"endpoint":"`+sink+`/","authorization":"Bearer siem","enabled":true,"log_format":"cef"}`, http.StatusOK)
	producer, code := runCLI(t, "token", "create", "--db", dbURL, "--org", "default", "--role", "producer", "--name", "e2e")
	if code != 0 {
		t.Fatalf("token create: %s", producer)
	}
	producer, _, _ = strings.Cut(producer, "\n")

	var acked []string
	post := func(id string) (int, http.Header) {
		t.Helper()
		body := fmt.Sprintf(`{"event_class_id":"AUTHENTICATION_TYPE_BASIC","name":"AUTHENTICATION_OUTCOME_SUCCESS","request":"/login","success":true,"src":"203.0.113.7","principal_id":"p","user_agent":"e2e/1","trace_id":"%s"}`+"\n", id)
		req, _ := http.NewRequest("POST", srv.api+"/v1/entries", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+producer)
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusAccepted {
			acked = append(acked, id)
		}
		return resp.StatusCode, resp.Header
	}
	for i := range 20 {
		if code, _ := post(fmt.Sprintf("before-%d", i)); code != http.StatusAccepted {
			t.Fatalf("ingest before the outage: %d", code)
		}
	}

	// The outage: no new connections to the database, and every existing
	// one cut, as when the primary goes down.
	dbName := databaseOf(t, dbURL)
	adminExec(t, dbURL, "ALTER DATABASE "+pgx.Identifier{dbName}.Sanitize()+" ALLOW_CONNECTIONS false")
	adminExec(t, dbURL, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"+dbName+"' AND pid <> pg_backend_pid()")
	saw503 := false
	for i := range 5 {
		code, h := post(fmt.Sprintf("during-%d", i))
		switch {
		case code == http.StatusServiceUnavailable:
			saw503 = true
			if h.Get("Retry-After") == "" {
				t.Errorf("a 503 during the outage without Retry-After")
			}
		case code >= 500:
			t.Errorf("ingest during the outage answered %d, want 503", code)
		}
	}
	if !saw503 {
		t.Fatal("no 503 while the database refused every connection")
	}
	for _, path := range []string{"/v3/audit-log-destinations", "/v3/audit-log-webhook/status"} {
		req, _ := http.NewRequest("GET", srv.api+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("GET %s during the outage: %d, Retry-After %q; want 503 with Retry-After", path, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}

	// The database comes back: the replica recovers by itself.
	adminExec(t, dbURL, "ALTER DATABASE "+pgx.Identifier{dbName}.Sanitize()+" ALLOW_CONNECTIONS true")
	back := time.Now()
	recovered := waitFor(t, 30*time.Second, func() bool {
		code, _ := post(fmt.Sprintf("after-%d", len(acked)))
		return code == http.StatusAccepted
	})
	t.Logf("ingest accepted again %v after the database returned", recovered.Sub(back).Round(time.Millisecond))
	for i := range 20 {
		if code, _ := post(fmt.Sprintf("later-%d", i)); code != http.StatusAccepted {
			t.Fatalf("ingest after the outage: %d", code)
		}
	}
	waitFor(t, time.Minute, func() bool { return countAcked(t, sinkOut, acked) == len(acked) })
}

func databaseOf(t *testing.T, url string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Database
}

// adminExec runs one statement on the server's postgres database.
func adminExec(t *testing.T, url, sql string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = "postgres"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
