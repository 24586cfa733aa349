package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestLogMailerWritesTheEmailWithItsLink(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := LogMailer{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	link := "http://acme.localhost:8081/verify-email?token=c8efd006-d8e1-4743-b91b-f163b9eae06a"
	if err := m.Send(context.Background(), "jane@example.com", "Verify your email", "Hello\n\n"+link+"\n"); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["to"] != "jane@example.com" || rec["subject"] != "Verify your email" || rec["link"] != link || !strings.Contains(rec["text"].(string), link) {
		t.Errorf("log record %v", rec)
	}
}
