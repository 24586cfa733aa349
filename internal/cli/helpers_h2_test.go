package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

// runCLI runs one command through Run with buffers and a fixed environment.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// testKeyring opens a keyring on a real SQLite file in a fresh data dir.
func testKeyring(t testing.TB) (*signing.Keyring, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "sigtrail.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	k, err := signing.Open(context.Background(), st, clock.Real{}, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return k, dir
}

// signedLine renders entry i of a small varied set in format f.
func signedLine(s audit.Signer, f audit.Format, i int) []byte {
	e := audit.Entry{Kind: audit.KindAccess, Time: time.UnixMilli(1750688927556 + int64(i)).UTC(),
		Product: audit.ProductKonnect, ClassID: audit.AccessClassGateway, Name: audit.AccessName,
		Src: "192.0.2.7", OrgID: "org", PrincipalID: "p", TraceID: "t", UserAgent: "ua x=y | \\",
		Request: "/v2/things", Act: "GET", Status: 200 + i%300, Query: "a=b"}
	return audit.Renderer{}.AppendSigned(nil, f, &e, s)
}
