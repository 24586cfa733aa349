package oidcrp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A provider is configured by a portal admin and reached on behalf of
// anyone who opens the portal's log-in: what it answers must not grow the
// server's memory without bound. Every answer (discovery, keys, token,
// user info) is read to at most maxAnswer bytes; past that the request
// fails as any other unusable answer does.
func TestProviderAnswersAreReadToACap(t *testing.T) {
	t.Parallel()
	const bound = 64 << 20 // the endless answer stops by itself here
	for _, tc := range []struct {
		name   string
		status int
	}{
		{"an endless discovery document", http.StatusOK},
		{"an endless error page", http.StatusInternalServerError}, // go-oidc puts the body in its error
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			written := make(chan int, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				chunk := make([]byte, 64<<10)
				for i := range chunk {
					chunk[i] = ' '
				}
				n := 0
				if _, err := w.Write([]byte(`{"issuer":"`)); err == nil {
					for n < bound {
						m, err := w.Write(chunk)
						n += m
						if err != nil {
							break
						}
					}
				}
				written <- n
			}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := New(true, time.Now).AuthCodeURL(ctx, Provider{Issuer: srv.URL, ClientID: "c"}, "https://portal.example/cb", "s", "n", NewVerifier())
			if !errors.Is(err, ErrUnreachable) {
				t.Fatalf("err %v, want ErrUnreachable", err)
			}
			if len(err.Error()) > 2*maxAnswer {
				t.Errorf("the error holds %d bytes of the answer", len(err.Error()))
			}
			// What the server got out before the client hung up: the cap
			// plus what the sockets' buffers hold, far below the bound.
			if n := <-written; n >= 16<<20 {
				t.Errorf("the client read %d bytes of the answer, want at most about %d", n, maxAnswer)
			}
		})
	}
}
