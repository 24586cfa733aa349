package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/signing"
)

// edSigner signs with a fixed Ed25519 key, as the keyring would.
type edSigner struct{ key ed25519.PrivateKey }

func (s edSigner) Sign(msg []byte) []byte { return ed25519.Sign(s.key, msg) }

func newSigner(t *testing.T, seed byte) edSigner {
	t.Helper()
	return edSigner{ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))}
}

// writeJWKS publishes the public keys of signers as a JWKS file.
func writeJWKS(t *testing.T, path string, signers ...edSigner) {
	t.Helper()
	type jwk struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		X   string `json:"x"`
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	for i, s := range signers {
		pub := s.key.Public().(ed25519.PublicKey)
		set.Keys = append(set.Keys, jwk{"OKP", "Ed25519", "EdDSA", fmt.Sprint("k", i), base64.RawURLEncoding.EncodeToString(pub)})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func parseJWKS(b []byte) (Verifier, error) { return signing.ParseJWKS(b) }

func entryAt(t time.Time, trace string) audit.Entry {
	return audit.Entry{
		Kind: audit.KindAuthentication, Time: t, Product: audit.ProductDevPortal,
		ClassID: audit.AuthTypeBasic, Name: string(audit.OutcomeSuccess),
		Src: "203.0.113.7", OrgID: "org", PortalID: "portal", PrincipalID: "dev",
		TraceID: trace, UserAgent: "curl/8",
	}
}

func signedLines(t *testing.T, s audit.Signer, f audit.Format, at time.Time, n int) []byte {
	t.Helper()
	var body []byte
	for i := range n {
		if i > 0 {
			body = append(body, '\n')
		}
		e := entryAt(at, fmt.Sprint("trace-", i))
		body = audit.Renderer{}.AppendSigned(body, f, &e, s)
	}
	return body
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func post(t *testing.T, url string, body []byte, encoding string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain")
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func getStats(t *testing.T, url string) Stats {
	t.Helper()
	resp, err := http.Get(url + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestReceive(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	signer := newSigner(t, 1)
	other := newSigner(t, 2)
	cef3 := signedLines(t, signer, audit.FormatCEF, at, 3)
	json2 := signedLines(t, signer, audit.FormatJSON, at, 2)
	cps2 := signedLines(t, signer, audit.FormatCPS, at, 2)
	cef2 := signedLines(t, signer, audit.FormatCEF, at, 2)
	otherCEF := signedLines(t, other, audit.FormatCEF, at, 2)
	nl := func(b []byte) []byte { return append(append([]byte(nil), b...), '\n') }
	tampered := bytes.Replace(signedLines(t, signer, audit.FormatCEF, at, 1), []byte("203.0.113.7"), []byte("203.0.113.8"), 1)
	tests := []struct {
		name         string
		body         []byte
		encoding     string
		wantStatus   int
		wantLines    int64
		wantVerified int64
		wantFailed   int64
		wantBad      int64
		wantOut      []byte
	}{
		{"gzip CEF", gz(t, cef3), "gzip", 200, 3, 3, 0, 0, nl(cef3)},
		{"Kong's application/gzip", gz(t, json2), "application/gzip", 200, 2, 2, 0, 0, nl(json2)},
		{"plain CPS", cps2, "", 200, 2, 2, 0, 0, nl(cps2)},
		{"CRLF and blank lines", []byte(strings.ReplaceAll(string(cef2), "\n", "\r\n\n") + "\r\n"), "", 200, 2, 2, 0, 0, nl(cef2)},
		{"unknown key", otherCEF, "", 200, 2, 0, 2, 0, nl(otherCEF)},
		{"tampered line", tampered, "", 200, 1, 0, 1, 0, nl(tampered)},
		{"unsigned line", []byte("hello"), "", 200, 1, 0, 1, 0, []byte("hello\n")},
		{"broken gzip", []byte("not gzip"), "gzip", 400, 0, 0, 0, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeJWKS(t, filepath.Join(dir, "jwks.json"), signer)
			keys, err := NewKeySet(context.Background(), filepath.Join(dir, "jwks.json"), parseJWKS, nil, clock.NewFake(at))
			if err != nil {
				t.Fatal(err)
			}
			out, err := os.Create(filepath.Join(dir, "out"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			s, err := New(Config{Out: out, Keys: keys, Clock: clock.NewFake(at.Add(25 * time.Millisecond))})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(s)
			defer srv.Close()

			resp := post(t, srv.URL+"/hook", tc.body, tc.encoding)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			st := getStats(t, srv.URL)
			if st.Lines != tc.wantLines || st.Verified != tc.wantVerified || st.Failed != tc.wantFailed || st.BadRequests != tc.wantBad {
				t.Fatalf("stats %+v, want lines %d verified %d failed %d bad %d", st, tc.wantLines, tc.wantVerified, tc.wantFailed, tc.wantBad)
			}
			if st.Bytes != int64(len(tc.wantOut)) {
				t.Fatalf("bytes %d, want %d", st.Bytes, len(tc.wantOut))
			}
			kept, err := os.ReadFile(filepath.Join(dir, "out"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(kept, tc.wantOut) {
				t.Fatalf("out holds %q, want %q", kept, tc.wantOut)
			}
			if tc.wantOut == nil {
				return
			}
			if st.Requests != 1 || st.FirstReceipt == nil || st.LastReceipt == nil {
				t.Fatalf("requests and receipt times not counted: %+v", st)
			}
		})
	}
}

func TestLatencyFromRT(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	signer := newSigner(t, 1)
	s, err := New(Config{Clock: clock.NewFake(at.Add(100 * time.Millisecond))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	var body []byte
	for i := range 100 { // rt from at-99ms to at: latencies 100..199 ms
		e := entryAt(at.Add(-time.Duration(i)*time.Millisecond), "t")
		f := audit.FormatCEF
		if i%2 == 1 {
			f = audit.FormatJSON
		}
		body = audit.Renderer{}.AppendSigned(body, f, &e, signer)
		body = append(body, '\n')
	}
	post(t, srv.URL, gz(t, body), "gzip")
	st := getStats(t, srv.URL)
	want := &Latency{Count: 100, P50: 149, P99: 198, Max: 199}
	if st.LatencyMS == nil || *st.LatencyMS != *want {
		t.Fatalf("latency %+v, want %+v", st.LatencyMS, want)
	}
	resp, err := http.Post(srv.URL+"/stats/reset", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st := getStats(t, srv.URL); st.Lines != 0 || st.LatencyMS != nil {
		t.Fatalf("reset left %+v", st)
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Match: []byte("trace_id=bench-")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	post(t, srv.URL, []byte("a trace_id=bench-1\nb trace_id=other\nc trace_id=bench-2"), "")
	if st := getStats(t, srv.URL); st.Lines != 2 || st.OtherLines != 1 {
		t.Fatalf("stats %+v, want 2 matching lines and 1 other", st)
	}
}

func TestVerifyEverySamples(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	signer := newSigner(t, 1)
	writeJWKS(t, filepath.Join(dir, "jwks.json"), signer)
	keys, err := NewKeySet(context.Background(), filepath.Join(dir, "jwks.json"), parseJWKS, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Keys: keys, VerifyEvery: 10})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	post(t, srv.URL, signedLines(t, signer, audit.FormatCEF, time.Now(), 95), "")
	if st := getStats(t, srv.URL); st.Lines != 95 || st.Verified != 10 || st.Failed != 0 {
		t.Fatalf("stats %+v, want 95 lines, 10 verified", st)
	}
}

// A line signed by a key published after the sink loaded the set verifies
// once the set is reloaded, which happens at most once per RefreshEvery.
func TestKeySetRefresh(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "jwks.json")
	oldKey, newKey := newSigner(t, 1), newSigner(t, 2)
	writeJWKS(t, path, oldKey)
	clk := clock.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	keys, err := NewKeySet(context.Background(), path, parseJWKS, nil, clk)
	if err != nil {
		t.Fatal(err)
	}
	line := signedLines(t, newKey, audit.FormatCEF, clk.Now(), 1)
	writeJWKS(t, path, oldKey, newKey) // rotation publishes the new key
	if err := keys.Verify(context.Background(), line); err == nil {
		t.Fatal("reloaded before RefreshEvery passed")
	}
	clk.Advance(DefaultRefreshEvery)
	if err := keys.Verify(context.Background(), line); err != nil {
		t.Fatalf("after the refresh interval: %v", err)
	}
}

// The key set can be served over HTTP, as sigtrail publishes it.
func TestKeySetURL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	signer := newSigner(t, 3)
	writeJWKS(t, filepath.Join(dir, "jwks.json"), signer)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	keys, err := NewKeySet(context.Background(), srv.URL+"/jwks.json", parseJWKS, srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Verify(context.Background(), signedLines(t, signer, audit.FormatJSON, time.Now(), 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := NewKeySet(context.Background(), srv.URL+"/missing.json", parseJWKS, srv.Client(), nil); err == nil {
		t.Fatal("a missing key set loaded")
	}
}

func TestFaultInjection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		cfg            Config
		wantStatus     int // 0: connection dropped
		wantRetryAfter string
	}{
		{"500 by default", Config{FailRate: 1}, 500, ""},
		{"429 with Retry-After", Config{FailRate: 1, FailStatus: 429, RetryAfter: 7 * time.Second}, 429, "7"},
		{"reset drops the connection", Config{FailRate: 1, Reset: true}, 0, ""},
		{"rate 0.5 below the draw", Config{FailRate: 0.5, Rand: func() float64 { return 0.7 }}, 200, ""},
		{"rate 0.5 above the draw", Config{FailRate: 0.5, FailStatus: 503, Rand: func() float64 { return 0.2 }}, 503, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(s)
			defer srv.Close()
			resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("a line"))
			if tc.wantStatus == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got status %d, want a dropped connection", resp.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.wantStatus || resp.Header.Get("Retry-After") != tc.wantRetryAfter {
					t.Fatalf("got %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
				}
			}
			st := getStats(t, srv.URL)
			injected := int64(0)
			if tc.wantStatus != 200 {
				injected = 1
			}
			if st.FailuresInjected < injected || (injected == 0 && st.Lines != 1) {
				t.Fatalf("stats %+v", st)
			}
			if injected == 1 && st.Lines != 0 {
				t.Fatalf("a failed request's lines were counted: %+v", st)
			}
		})
	}
}

// --delay holds every answer back; the fake clock shows it without sleeping.
func TestDelay(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	s, err := New(Config{Delay: 2 * time.Second, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	created := clk.TimerCreated()
	done := make(chan int, 1)
	go func() {
		resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("x"))
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-created
	select {
	case code := <-done:
		t.Fatalf("answered %d before the delay", code)
	default:
	}
	if p := clk.Pending(); len(p) != 1 || p[0] != 2*time.Second {
		t.Fatalf("pending timers %v, want [2s]", p)
	}
	clk.Advance(2 * time.Second)
	if code := <-done; code != 200 {
		t.Fatalf("status %d after the delay", code)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{{FailRate: 1.5}, {FailRate: -0.1}, {FailStatus: 42}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
