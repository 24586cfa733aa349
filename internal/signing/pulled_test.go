package signing

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
)

// signItem signs a pulled item the way the pull API does: the canonical
// form of the item without signature, the signature added as a member.
func signItem(t *testing.T, s audit.Signer, item map[string]any) []byte {
	t.Helper()
	raw, err := json.Marshal(item)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := audit.CanonicalItem(raw)
	if err != nil {
		t.Fatal(err)
	}
	signed := map[string]any{"signature": base64.RawURLEncoding.EncodeToString(s.Sign(msg))}
	for k, v := range item {
		signed[k] = v
	}
	out, err := json.Marshal(signed)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyPulledItem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(t0)
	k := openKeyring(t, openSQLite(t, filepath.Join(t.TempDir(), "sigtrail.db")), clk)
	other := openKeyring(t, openSQLite(t, filepath.Join(t.TempDir(), "sigtrail.db")), clk)
	item := map[string]any{"type": "gateway_access", "ts": "2026-07-21T12:00:00.001Z", "trace_id": "t1",
		"user_agent": "a<b>&\u2028é", "status_code": 200}
	good := signItem(t, k, item)
	byOther := signItem(t, other, item)

	// The key that signed it is retired by a rotation: still published, still tried.
	clk.Advance(time.Hour)
	if _, err := k.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(ActivationDelay)
	if ks := k.Keys(); len(ks) != 2 || ks[0].ID != k.ActiveID() {
		t.Fatalf("after rotation: %+v", ks)
	}
	v := mustVerifier(t, k)
	byNew := signItem(t, k, item)

	var pretty bytes.Buffer
	if err := json.Indent(&pretty, good, "", "  "); err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	tests := []struct {
		name string
		raw  []byte
		want error // nil, or the error it must be
		bad  bool  // any other error
	}{
		{"signed by the retired key", good, nil, false},
		{"signed by the active key", byNew, nil, false},
		{"pretty-printed", pretty.Bytes(), nil, false},
		{"HTML characters unescaped", []byte(strings.ReplaceAll(string(good), `\u003c`, "<")), nil, false},
		{"changed member", edit(func(m map[string]any) { m["trace_id"] = "t2" }), ErrBadSignature, false},
		{"changed number", edit(func(m map[string]any) { m["status_code"] = 201 }), ErrBadSignature, false},
		{"added member", edit(func(m map[string]any) { m["severity"] = 1 }), ErrBadSignature, false},
		{"removed member", edit(func(m map[string]any) { delete(m, "ts") }), ErrBadSignature, false},
		{"signed by a key not published", byOther, ErrBadSignature, false},
		{"no signature", edit(func(m map[string]any) { delete(m, "signature") }), audit.ErrNoItemSignature, false},
		{"repeated member", []byte(strings.Replace(string(good), `"trace_id":"t1"`, `"trace_id":"t1","trace_id":"t2"`, 1)), nil, true},
		{"not an object", []byte(`"x"`), nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := v.VerifyPulledItem(tc.raw)
			switch {
			case tc.bad:
				if err == nil || errors.Is(err, ErrBadSignature) || errors.Is(err, audit.ErrNoItemSignature) {
					t.Fatalf("%s: got %v, want a malformed-item error", tc.raw, err)
				}
			case !errors.Is(err, tc.want) || (tc.want == nil && err != nil):
				t.Fatalf("%s: got %v, want %v", tc.raw, err, tc.want)
			}
		})
	}
}

// BenchmarkVerifyPulledItem: one pulled access item, canonical form and
// signature check, against one published key.
func BenchmarkVerifyPulledItem(b *testing.B) {
	k, err := Open(b.Context(), &memKeys{}, clock.Real{}, week)
	if err != nil {
		b.Fatal(err)
	}
	item := map[string]any{"type": "gateway_access", "ts": "2026-07-21T12:00:00.001Z", "org_id": "01a213f8-4605-7b5c-aac2-f21ada918b52",
		"principal_id": "01a213f8-4606-75b5-a4db-5f7d976ce956", "actor_id": "", "client_ip": "192.0.2.1",
		"trace_id": "2659764691276294021", "user_agent": "curl/8.5.0", "method": "GET", "uri": "/v3/audit-log-destinations",
		"query": "", "status_code": 200}
	raw, _ := json.Marshal(item)
	msg, err := audit.CanonicalItem(raw)
	if err != nil {
		b.Fatal(err)
	}
	signed := append(raw[:len(raw)-1], `,"signature":"`+base64.RawURLEncoding.EncodeToString(k.Sign(msg))+`"}`...)
	v, err := ParseJWKS(k.JWKS())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := v.VerifyPulledItem(signed); err != nil {
			b.Fatal(err)
		}
	}
}
