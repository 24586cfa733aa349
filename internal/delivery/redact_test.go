package delivery

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStatusMessageRedactsAndCleans(t *testing.T) {
	t.Parallel()
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("splunk:hunter2-pw"))
	cases := []struct {
		name, auth, body string
		gone             []string // must not appear, any case
	}{
		{"bearer echoed", "Bearer tok-ABC123xyz", `{"error":"bad header: Bearer tok-ABC123xyz"}`, []string{"tok-ABC123xyz"}},
		{"scheme lower-cased", "Bearer tok-ABC123xyz", "got bearer TOK-abc123XYZ", []string{"tok-abc123xyz"}},
		{"token alone", "Bearer tok-ABC123xyz", "token=tok-ABC123xyz", []string{"tok-ABC123xyz"}},
		{"basic decoded", basic, "user splunk:hunter2-pw denied; pw hunter2-pw", []string{"hunter2-pw", "splunk:hunter2-pw"}},
		{"basic encoded", basic, "Authorization: " + basic, []string{base64.StdEncoding.EncodeToString([]byte("splunk:hunter2-pw"))}},
		{"raw splunk scheme", "Splunk 1234-5678-abcd", "bad Splunk 1234-5678-abcd", []string{"1234-5678-abcd"}},
		{"late in a long body", "Bearer tok-ABC123xyz", strings.Repeat("x", 240) + "tok-ABC123xyz" + strings.Repeat("y", 600), []string{"tok-A", "tok-ABC123xyz"}},
		{"split by control char", "Bearer tok-ABC123xyz", "tok-ABC\xff123xyz", []string{"tok-ABC123xyz"}},
		{"json-escaped slash", "Basic c2llbTpzM2NyM3Q/Pg==", `{"auth":"Basic c2llbTpzM2NyM3Q\/Pg=="}`, []string{"c2llbTpzM2NyM3Q", "s3cr3t"}},
		{"json unicode-escaped plus", "Basic c3ZjOmh1bnRlcjI+Pj8=", `{"auth":"Basic c3ZjOmh1bnRlcjI\u002BPj8="}`, []string{"c3ZjOmh1bnRlcjI", "hunter2"}},
		{"percent-encoded", "Bearer tok/ABC+123xyz", "auth=Bearer%20tok%2FABC%2B123xyz", []string{"tok%2FABC", "123xyz"}},
		{"wrapped over lines", "Bearer tok-ABCDEFGHIJKLMNOP", "token tok-ABCDEFGH\nIJKLMNOP", []string{"ABCDEFGH"}},
		{"utf-16 echo", "Bearer tok-ABC123xyz", "t\x00o\x00k\x00-\x00A\x00B\x00C\x001\x002\x003\x00x\x00y\x00z\x00", []string{"t o k - a b c"}},
		{"tab after the scheme", "Bearer\ttok-ABC123xyz", "token=tok-ABC123xyz", []string{"tok-ABC123xyz"}},
		{"unpadded basic", "Basic " + base64.RawStdEncoding.EncodeToString([]byte("svc:pa55w0rd-x")), "pw pa55w0rd-x", []string{"pa55w0rd-x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			msg := statusMessage(401, []byte(c.body), secretsOf(c.auth))
			if !strings.HasPrefix(msg, "401 Unauthorized") {
				t.Errorf("message %q lost its status line", msg)
			}
			for _, g := range c.gone {
				if strings.Contains(strings.ToLower(msg), strings.ToLower(g)) {
					t.Errorf("message %q shows %q", msg, g)
				}
			}
		})
	}
}

func TestStatusMessageHasNoControlsAndIsShort(t *testing.T) {
	t.Parallel()
	body := "a\x00b\nc\rd\u0085e\u2028f\u2029g\x1bh\x7fi" + strings.Repeat("é", 400)
	msg := statusMessage(500, []byte(body), nil)
	for _, r := range msg {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == '\u2028' || r == '\u2029' {
			t.Fatalf("message %q holds control %U", msg, r)
		}
	}
	if !utf8.ValidString(msg) || len(msg) > len("500 Internal Server Error: ")+maxExcerpt+len("...") {
		t.Fatalf("message %d bytes, valid %v", len(msg), utf8.ValidString(msg))
	}
	if !strings.HasPrefix(msg, "500 Internal Server Error: a b c d e f g h i") {
		t.Fatalf("message %q", msg)
	}
}

// The fail-closed check keeps an innocent body and withholds one that
// echoes a secret in a spelling redaction did not know.
func TestStatusMessageWithholdsEchoes(t *testing.T) {
	t.Parallel()
	secrets := secretsOf("Bearer tok-ABC123xyz")
	if msg := statusMessage(500, []byte("upstream timeout after 30s"), secrets); !strings.Contains(msg, "upstream timeout") {
		t.Errorf("an innocent body was withheld: %q", msg)
	}
	if msg := statusMessage(401, []byte(`{"h":"tok-\u0041BC123xyz"}`), secrets); !strings.Contains(msg, withheld) {
		t.Errorf("an escaped echo was kept: %q", msg)
	}
}
