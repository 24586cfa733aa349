package portal

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
)

// BenchmarkAuthenticate measures one API log-in end to end over HTTP on
// 127.0.0.1: argon2id check, session tokens, and the audit entry appended
// durably to SQLite before the answer.
func BenchmarkAuthenticate(b *testing.B) {
	e := newEnv(b, func(c *Config, _ *store.Portal) { c.RateLimit = RateLimit{Burst: -1} })
	e.signUp("jane@example.com")
	body, _ := json.Marshal(map[string]string{"username": "jane@example.com", "password": testPassword})
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, e.base+"/api/v2/developer/authenticate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			b.Fatal(resp.StatusCode)
		}
	}
}
