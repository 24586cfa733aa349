package cli

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
)

// TestVerifyCompleteThroughServerAndSink: a real server delivers the org
// stream with sequence numbers to `sigtrail sink`; what the sink kept is
// proven complete against the server's delivered checkpoint, in every
// format; a line removed from the kept file and a truncated tail are
// found.
func TestVerifyCompleteThroughServerAndSink(t *testing.T) {
	t.Parallel()
	base, token := replayServer(t)
	jwks, kept, destID := orgStreamToSink(t, base, token)
	// Lines in another format too: the check reads any mix.
	if code := apiCall(t, http.MethodPatch, base+"/v3/audit-log-destinations/"+destID, token,
		map[string]any{"log_format": "cef"}, nil); code != http.StatusOK {
		t.Fatalf("switch format: %d", code)
	}
	for range 20 {
		apiCall(t, http.MethodGet, base+"/v3/audit-log-destinations", token, nil, nil)
	}
	// The webhook sends what came after it: the SIEM's first seq.
	from := ""
	var out string
	code := -1
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if from == "" {
			from = firstSeq(t, kept)
			continue
		}
		args := []string{"verify", "--complete", "--from", from, "--jwks", jwks, "--server", base, "--token", token, kept}
		if code, out, _ = runCLI(t, nil, "", args...); code == 0 {
			break
		}
	}
	if code != 0 || !strings.Contains(out, ": complete: ") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	raw, err := os.ReadFile(kept)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	if !bytes.Contains(raw, []byte(`"checkpoint":"sigtrail/stream/`)) && !bytes.Contains(raw, []byte("|sigtrail|1.0|checkpoint|")) {
		t.Fatalf("no checkpoint line among %d lines", len(lines))
	}
	edit := func(name string, keep func(i int) bool) string {
		var b bytes.Buffer
		for i, l := range lines {
			if keep(i) {
				b.Write(l)
				b.WriteByte('\n')
			}
		}
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	n := len(lines)
	for _, tc := range []struct {
		name, file, want string
	}{
		{"line removed", edit("removed.log", func(i int) bool { return i != n/2 }), "missing seq "},
		{"truncated tail", edit("truncated.log", func(i int) bool { return i < n-3 }), "missing tail: seq "},
	} {
		code, out, _ := runCLI(t, nil, "", "verify", "--complete", "--from", from, "--jwks", jwks, "--server", base, "--token", token, tc.file)
		if code != 1 || !strings.Contains(out, tc.want) || !strings.Contains(out, "INCOMPLETE") {
			t.Fatalf("%s: exit %d:\n%s", tc.name, code, out)
		}
	}
}

// orgStreamToSink points the org's webhook at a `sigtrail sink` that keeps
// what it receives (CPS lines with sequence numbers) in kept.
func orgStreamToSink(t *testing.T, base, token string) (jwks, kept, destID string) {
	t.Helper()
	jwks = base + "/v2/audit-log-webhook/jwks.json"
	kept = filepath.Join(t.TempDir(), "siem.log")
	sink := startSinkCommand(t, "--jwks", jwks, "--out", kept)
	var d struct {
		ID string `json:"id"`
	}
	if code := apiCall(t, http.MethodPost, base+"/v3/audit-log-destinations", token,
		map[string]any{"name": "siem", "endpoint": sink, "authorization": "x", "log_format": "cps", "sequence_numbers": true}, &d); code != http.StatusCreated {
		t.Fatalf("create destination: %d", code)
	}
	if code := apiCall(t, http.MethodPatch, base+"/v3/audit-log-webhook", token,
		map[string]any{"audit_log_destination_id": d.ID, "enabled": true}, nil); code != http.StatusOK {
		t.Fatalf("configure webhook: %d", code)
	}
	return jwks, kept, d.ID
}

// firstSeq is the seq of the first entry line in file, "" while it has none.
func firstSeq(t *testing.T, file string) string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil || len(raw) == 0 {
		return ""
	}
	for _, l := range bytes.Split(raw, []byte("\n")) {
		msg, _, err := audit.SplitSignature(l)
		if err != nil {
			continue
		}
		if sl, err := audit.ParseSequenced(msg); err == nil && sl.Checkpoint == nil {
			return strconv.FormatInt(sl.Seq, 10)
		}
	}
	return ""
}
