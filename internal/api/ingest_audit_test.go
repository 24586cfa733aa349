package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// kindsOfTrace lists the kinds of a stream's entries that carry trace.
func kindsOfTrace(t *testing.T, h *harness, stream, trace string) []audit.Kind {
	t.Helper()
	var kinds []audit.Kind
	for _, e := range h.entries(stream) {
		if e.Entry.TraceID == trace {
			kinds = append(kinds, e.Entry.Kind)
		}
	}
	return kinds
}

// A successful ingest request adds no entries of its own: the entries it
// wrote are the record, each with the id of the token that wrote it, shown
// by the pull API (issue 14).
func TestIngestSuccessIsItsOwnRecord(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, admin := h.org("o")
	tok, secret, err := h.ten.CreateToken(context.Background(), tenancy.TokenSpec{OrgID: org, Name: "gw", Role: store.RoleProducer})
	if err != nil {
		t.Fatal(err)
	}
	res := h.callWith(http.MethodPost, "/v1/entries", secret, ingestLine("in-1")+"\n"+ingestLine("in-2")+"\n", ndjson).expect(t, http.StatusAccepted)
	if k := kindsOfTrace(t, h, org, res.Header.Get("X-Sigtrail-Trace-Id")); len(k) != 0 {
		t.Fatalf("successful ingest request added entries of its own: %v", k)
	}
	es := h.entries(org)
	if len(es) != 2 {
		t.Fatalf("org log holds %d entries, want the 2 ingested", len(es))
	}
	for _, e := range es {
		if e.Entry.TokenID != tok.ID {
			t.Errorf("%s stored with token id %q, want %q", e.Entry.TraceID, e.Entry.TokenID, tok.ID)
		}
	}

	var page struct {
		Data []map[string]any `json:"data"`
	}
	h.call(http.MethodGet, "/v3/audit-logs", admin, nil).expect(t, http.StatusOK).decode(t, &page)
	shown := 0
	for _, item := range page.Data {
		switch item["trace_id"] {
		case "in-1", "in-2":
			shown++
			if item["token_id"] != tok.ID {
				t.Errorf("pulled %v: token_id %v, want %s", item["trace_id"], item["token_id"], tok.ID)
			}
		default:
			if _, ok := item["token_id"]; ok {
				t.Errorf("entry of the server's own (%v) shows a token_id", item["type"])
			}
		}
	}
	if shown != 2 {
		t.Fatalf("pulled %d of the 2 ingested entries", shown)
	}
}

// A failed ingest request is audited as any request: authentication,
// authorization (when it got that far) and access, in the token's org or,
// without a known token, the system org.
func TestIngestFailureIsAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, _ := h.org("o")
	producer := h.token(org, store.RoleProducer, false, 0)
	readOnly := h.token(org, store.RoleReadOnly, false, 0)
	sys, err := h.ten.SystemOrg(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	full := []audit.Kind{audit.KindAuthentication, audit.KindAuthorization, audit.KindAccess}
	for _, tc := range []struct {
		name, secret, body string
		status             int
		stream             string
		want               []audit.Kind
	}{
		{"malformed body", producer, "{not json\n", http.StatusBadRequest, org, full},
		{"denied role", readOnly, ingestLine("x") + "\n", http.StatusForbidden, org, full},
		{"unknown token", tenancy.PATPrefix + "nope", ingestLine("x") + "\n", http.StatusUnauthorized, sys.ID,
			[]audit.Kind{audit.KindAuthentication, audit.KindAccess}},
		{"no token", "", ingestLine("x") + "\n", http.StatusUnauthorized, sys.ID,
			[]audit.Kind{audit.KindAuthentication, audit.KindAccess}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.callWith(http.MethodPost, "/v1/entries", tc.secret, tc.body, ndjson)
			res.problem(t, tc.status)
			got := kindsOfTrace(t, h, tc.stream, res.Header.Get("X-Sigtrail-Trace-Id"))
			if len(got) != len(tc.want) {
				t.Fatalf("audited as %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("audited as %v, want %v", got, tc.want)
				}
			}
		})
	}
}
