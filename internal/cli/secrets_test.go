package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/sealing"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
)

// startServe runs serve in-process and returns its API base URL and a
// function that stops it and returns its stderr.
func startServe(t *testing.T, env map[string]string, args ...string) (string, func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errs := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--portal-addr", "127.0.0.1:0"}, args...)
	go func() {
		done <- Run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), out, errs)
	}()
	stop := func() string {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d: %s", code, errs.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop")
		}
		return errs.String()
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := serveLine.FindStringSubmatch(out.String()); m != nil {
			return m[1], stop
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("serve did not start: %s", errs.String())
		}
	}
}

func call(t *testing.T, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func writeKeyFile(t *testing.T, path string, n int) []string {
	t.Helper()
	var keys []string
	for range n {
		b := make([]byte, sealing.KeySize)
		_, _ = rand.Read(b)
		keys = append(keys, base64.StdEncoding.EncodeToString(b))
	}
	if err := os.WriteFile(path, []byte("# sigtrail secret keys, current first\n"+strings.Join(keys, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestSecretsStayHidden runs the whole server with a key file against a
// SIEM that echoes the Authorization header in its error bodies: a
// read-only token's status shows no secret, the database holds none in
// plaintext, and after a key rotation and reseal the server starts on the
// new key alone.
func TestSecretsStayHidden(t *testing.T) {
	t.Parallel()
	const secret = "e2e-SECRET-token-4711"
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "keys")
	first := writeKeyFile(t, keyFile, 1)

	var fail atomic.Int32
	fail.Store(401)
	var gotAuth atomic.Value
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		a := r.Header.Get("Authorization")
		gotAuth.Store(a)
		w.WriteHeader(int(fail.Load()))
		// What many SIEMs do: quote the credentials they refused.
		_, _ = io.WriteString(w, `{"error":"rejected","authorization":"`+a+"\",\"again\":\"\u2028"+strings.ToUpper(a)+"\"}\n\x00")
	}))
	defer sink.Close()

	env := map[string]string{"SIGTRAIL_BOOTSTRAP_TOKEN": "stpat_secrets-test-admin-0123456789", "SIGTRAIL_SECRET_KEY_FILE": keyFile}
	base, stop := startServe(t, env, "--data-dir", dir, "--insecure-destinations")
	admin := env["SIGTRAIL_BOOTSTRAP_TOKEN"]
	code, out, stderr := runCLI(t, nil, "", "token", "create", "--org", "default", "--role", "read-only", "--name", "ro", "--data-dir", dir)
	if code != 0 {
		stop()
		t.Fatalf("token create: %s", stderr)
	}
	reader := strings.TrimSpace(out)

	code, body := call(t, "POST", base+"/v3/audit-log-destinations", admin, map[string]any{
		"name": "echo", "endpoint": sink.URL + "/in", "authorization": "Bearer " + secret, "log_format": "json"})
	var d struct{ ID string }
	if code != 201 || json.Unmarshal(body, &d) != nil {
		stop()
		t.Fatalf("create destination %d %s", code, body)
	}
	if code, body := call(t, "PATCH", base+"/v3/audit-log-webhook", admin, map[string]any{"audit_log_destination_id": d.ID, "enabled": true}); code != 200 {
		stop()
		t.Fatalf("webhook %d %s", code, body)
	}
	// Every API call is audited into the org log, so polling the status
	// also makes the entries that are delivered.
	waitStatus := func(want int) string {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			code, body := call(t, "GET", base+"/v3/audit-log-webhook/status", reader, nil)
			var st struct {
				Code    int    `json:"last_response_code"`
				Message string `json:"last_response_message"`
			}
			if code != 200 || json.Unmarshal(body, &st) != nil {
				t.Fatalf("status %d %s", code, body)
			}
			if st.Code == want {
				if strings.Contains(strings.ToLower(string(body)), strings.ToLower(secret)) {
					t.Errorf("status after a %d shows the secret: %s", want, body)
				}
				return st.Message
			}
		}
		t.Fatalf("no %d in the status", want)
		return ""
	}
	msg := waitStatus(401)
	if !strings.HasPrefix(msg, "401 Unauthorized: ") || !strings.Contains(msg, "rejected") {
		t.Errorf("401 message %q lost the status line or the excerpt", msg)
	}
	fail.Store(500)
	msg = waitStatus(500)
	if strings.ContainsAny(msg, "\u2028\x00\n") {
		t.Errorf("500 message %q holds control characters", msg)
	}
	if a, _ := gotAuth.Load().(string); a != "Bearer "+secret {
		t.Errorf("the SIEM got Authorization %q: the sealed value was not opened", a)
	}
	if logs := stop(); strings.Contains(logs, "stored unencrypted") || strings.Contains(logs, secret) {
		t.Errorf("serve with a key file logged: %s", logs)
	}

	// On disk (database file and WAL) the secret is sealed.
	for _, p := range []string{"sigtrail.db", "sigtrail.db-wal"} {
		if b, err := os.ReadFile(filepath.Join(dir, p)); err == nil && bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the authorization in plaintext", p)
		}
	}
	opened, err := openStore(context.Background(), dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	raw := sealing.Inner(opened)
	ks, err := raw.ListSigningKeys(context.Background())
	rawDest, err2 := raw.GetDestination(context.Background(), mustOrgID(t, raw), d.ID)
	_ = raw.Close()
	if err != nil || err2 != nil || len(ks) == 0 || !sealing.IsSealed(rawDest.Authorization) {
		t.Fatalf("raw store: %v %v, authorization sealed %v", err, err2, sealing.IsSealed(rawDest.Authorization))
	}
	for _, k := range ks {
		if !sealing.IsSealed(string(k.PrivateKey)) {
			t.Errorf("signing key %s is stored in plaintext", k.ID)
		}
	}

	// Rotation: a new key on top, reseal, then the old key leaves.
	newKey := writeKeyFile(t, keyFile, 1)[0]
	_ = os.WriteFile(keyFile, []byte(newKey+"\n"+first[0]+"\n"), 0o600)
	code, out, stderr = runCLI(t, map[string]string{"SIGTRAIL_SECRET_KEY_FILE": keyFile}, "", "secrets", "reseal", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "resealed 1 destination authorization(s) and 1 signing key(s)") {
		t.Fatalf("reseal: exit %d, %q %q", code, out, stderr)
	}
	_ = os.WriteFile(keyFile, []byte(newKey+"\n"), 0o600)
	fail.Store(200)
	base, stop = startServe(t, env, "--data-dir", dir, "--insecure-destinations")
	defer stop()
	if code, body := call(t, "GET", base+"/v2/audit-log-webhook/jwks.json", "", nil); code != 200 || !strings.Contains(string(body), "Ed25519") {
		t.Fatalf("jwks after rotation %d %s", code, body)
	}
	waitStatus(200)
}

func mustOrgID(t *testing.T, st store.Store) string {
	t.Helper()
	o, err := st.GetOrgByName(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

func TestServeWithoutKeyFileWarnsOnce(t *testing.T) {
	t.Parallel()
	_, stop := startServe(t, nil, "--data-dir", t.TempDir())
	logs := stop()
	if n := strings.Count(logs, "stored unencrypted"); n != 1 || !strings.Contains(logs, "--secret-key-file") {
		t.Fatalf("%d warnings in %s", n, logs)
	}
}

func TestSecretKeyFileRefusedWhenBad(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "keys")
	_ = os.WriteFile(bad, []byte("not a key\n"), 0o600)
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0", "--portal-addr", "127.0.0.1:0", "--secret-key-file", bad},
		{"secrets", "reseal", "--secret-key-file", bad},
		{"secrets", "reseal"},
	} {
		code, _, stderr := runCLI(t, nil, "", append(args, "--data-dir", t.TempDir())...)
		if code == 0 || strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want a one-line refusal", args, code, stderr)
		}
	}
}

// TestSecretsSealedOnPostgreSQL: with a key file a replica on PostgreSQL
// is still clustered (the change feed is found under the sealing layer)
// and stores secrets sealed.
func TestSecretsSealedOnPostgreSQL(t *testing.T) {
	t.Parallel()
	db := pgtest.URL(t)
	keyFile := filepath.Join(t.TempDir(), "keys")
	writeKeyFile(t, keyFile, 1)
	env := map[string]string{"SIGTRAIL_BOOTSTRAP_TOKEN": "stpat_secrets-pg-admin-0123456789", "SIGTRAIL_SECRET_KEY_FILE": keyFile}
	base, stop := startServe(t, env, "--db", db, "--data-dir", t.TempDir())
	code, body := call(t, "POST", base+"/v3/audit-log-destinations", env["SIGTRAIL_BOOTSTRAP_TOKEN"], map[string]any{
		"name": "pg", "endpoint": "https://siem.example.com/in", "authorization": "Bearer pg-SECRET-99", "log_format": "cef"})
	logs := stop()
	var d struct{ ID string }
	if code != 201 || json.Unmarshal(body, &d) != nil {
		t.Fatalf("create %d %s", code, body)
	}
	if !strings.Contains(logs, `"clustered":true`) {
		t.Errorf("not clustered with a key file: %s", logs)
	}
	opened, err := openStore(context.Background(), "", db, "")
	if err != nil {
		t.Fatal(err)
	}
	raw := sealing.Inner(opened)
	defer raw.Close()
	rd, err := raw.GetDestination(context.Background(), mustOrgID(t, raw), d.ID)
	ks, err2 := raw.ListSigningKeys(context.Background())
	if err != nil || err2 != nil || !sealing.IsSealed(rd.Authorization) || len(ks) == 0 || !sealing.IsSealed(string(ks[0].PrivateKey)) {
		t.Fatalf("raw PostgreSQL row not sealed: %v %v", err, err2)
	}
}
