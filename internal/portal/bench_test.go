package portal

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
)

// BenchmarkAuthenticate measures one API log-in end to end over HTTP on
// 127.0.0.1: argon2id check, session tokens (or the failure count), and the
// audit entry appended durably to SQLite before the answer. The unknown
// email and wrong password cases show how close their timings are.
func BenchmarkAuthenticate(b *testing.B) { benchAuthenticate(b, DefaultArgon2()) }

// BenchmarkAuthenticateStoreWork is BenchmarkAuthenticate with the
// cheapest argon2id, so the store work of each path shows instead of
// drowning in the hash's tens of milliseconds and their noise: before the
// unknown email did the wrong password's read and write (timing.go), it
// answered a commit sooner.
func BenchmarkAuthenticateStoreWork(b *testing.B) {
	benchAuthenticate(b, Argon2Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
}

func benchAuthenticate(b *testing.B, argon Argon2Params) {
	for _, bc := range []struct {
		name, email, password string
		status                int
	}{
		{"success", "jane@example.com", testPassword, http.StatusNoContent},
		{"unknown_email", "nobody@example.com", testPassword, http.StatusUnauthorized},
		{"wrong_password", "jane@example.com", "wrong password", http.StatusUnauthorized},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, func(c *Config, _ *store.Portal) {
				c.Argon2 = argon
				c.RateLimit = RateLimit{Burst: -1}
				c.Lockout = Lockout{MaxFailures: 1 << 30, Window: 1, Duration: 1} // measure failures, never lock
			})
			e.signUp("jane@example.com")
			body, _ := json.Marshal(map[string]string{"username": bc.email, "password": bc.password})
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, e.base+"/api/v2/developer/authenticate", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := e.client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != bc.status {
					b.Fatal(resp.StatusCode)
				}
			}
		})
	}
}

// BenchmarkRegister measures a sign-up over HTTP for a new address and
// for one that has an account. Both queue one email; the new address also
// creates the account and its verification token, two commits the taken
// address matches with takenEmailWork, so timing does not tell them apart.
func BenchmarkRegister(b *testing.B) {
	for _, bc := range []struct {
		name string
		new  bool
	}{{"new_address", true}, {"existing_address", false}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, func(c *Config, _ *store.Portal) { c.RateLimit = RateLimit{Burst: -1} })
			e.signUp("jane@example.com")
			i := 0
			for b.Loop() {
				email := "jane@example.com"
				if bc.new {
					i++
					email = "dev" + strconv.Itoa(i) + "@example.com"
				}
				body, _ := json.Marshal(map[string]string{"email": email, "full_name": "A Developer"})
				req, _ := http.NewRequest(http.MethodPost, e.base+"/api/v2/developer", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := e.client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					b.Fatal(resp.StatusCode)
				}
			}
		})
	}
}
