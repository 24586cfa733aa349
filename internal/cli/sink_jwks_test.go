package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A sink started alongside its server waits for the JWKS URL to answer.
func TestSinkWaitsForItsJWKS(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	var calls atomic.Int32
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 3 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(k.JWKS())
	}))
	t.Cleanup(jwks.Close)

	ctx, cancel := context.WithCancel(context.Background())
	out, errs := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"sink", "--addr", "127.0.0.1:0", "--jwks", jwks.URL, "--jwks-wait", "20s"},
			func(string) string { return "" }, strings.NewReader(""), out, errs)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "sink listening on http://127.0.0.1:") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("sink did not start: %s", errs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := calls.Load(); n < 4 {
		t.Errorf("JWKS asked %d times, want the 3 refusals and then success", n)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("sink exited %d: %s", code, errs.String())
	}
}

func TestSinkGivesUpOnAJWKSThatNeverAnswers(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL + "/jwks.json"
	dead.Close()
	code, _, errOut := runCLI(t, nil, "", "sink", "--addr", "127.0.0.1:0", "--jwks", url, "--jwks-wait", "0s")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "jwks") {
		t.Fatalf("exit %d, stderr %q; want 1 and one line about the JWKS", code, errOut)
	}
}
