package api

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tlog"
)

// TestCheckpointRoutes: the org's and a portal's checkpoints open with the
// published key and match the entries stored; inclusion and consistency
// proofs verify against them; readers may read them, producers may not.
func TestCheckpointRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	f := h.fixture(t, "o")
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	keys := []ed25519.PublicKey{pub}
	for _, tc := range []struct {
		base   string
		stream store.StreamID
	}{
		{"/v3/audit-log-tree", store.StreamID(f.org)},
		{"/v3/portals/" + f.portalID + "/audit-log-tree", store.StreamID(f.portalID)},
	} {
		if tc.stream == store.StreamID(f.portalID) {
			// A portal stream gets entries from the ingest API.
			prod := h.token(f.org, store.RoleProducer, false, 0)
			var lines []string
			for i := range 5 {
				lines = append(lines, fmt.Sprintf(`{"name":"AUTHENTICATION_OUTCOME_SUCCESS","event_class_id":"AUTHENTICATION_TYPE_BASIC","src":"198.51.100.1","principal_id":"p%d","request":"/login","trace_id":"t","user_agent":"u","portal_id":%q}`, i, f.portalID))
			}
			res := h.callWith(http.MethodPost, "/v1/entries", prod, strings.Join(lines, "\n"), map[string]string{"Content-Type": "application/x-ndjson"})
			res.expect(t, http.StatusAccepted)
		}
		res := h.call(http.MethodGet, tc.base+"/checkpoint", f.token, nil).expect(t, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("Content-Type %q", ct)
		}
		cp, err := tlog.Open(res.Body, keys)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.base, err, res.Body)
		}
		if cp.Origin != tlog.Origin(string(tc.stream)) || cp.Size < 2 {
			t.Fatalf("%s: checkpoint %+v", tc.base, cp)
		}
		entries, err := h.st.Read(t.Context(), tc.stream, 0, int(cp.Size))
		if err != nil {
			t.Fatal(err)
		}
		var leaves [][32]byte
		for _, e := range entries {
			leaves = append(leaves, audit.LeafHash(&e.Entry))
		}
		if tlog.RootsAt(leaves, []int64{cp.Size})[0] != cp.Root {
			t.Fatalf("%s: the root is not the stored entries'", tc.base)
		}
		small := h.call(http.MethodGet, tc.base+"/checkpoints/1", f.token, nil).expect(t, http.StatusOK)
		cp1, err := tlog.Open(small.Body, keys)
		if err != nil || cp1.Size != 1 || cp1.Root != leaves[0] {
			t.Fatalf("checkpoint 1: %+v %v", cp1, err)
		}
		body := h.call(http.MethodGet, fmt.Sprintf("%s/consistency-proofs?from=1&to=%d", tc.base, cp.Size), f.token, nil).expect(t, http.StatusOK).Body
		from, to, hashes, err := tlog.ParseConsistencyProof(body)
		if err != nil || from != 1 || to != cp.Size {
			t.Fatalf("consistency: %d %d %v", from, to, err)
		}
		if err := tlog.VerifyConsistency(1, cp.Size, hashes, cp1.Root, cp.Root); err != nil {
			t.Fatal(err)
		}
		body = h.call(http.MethodGet, fmt.Sprintf("%s/inclusion-proofs/2?tree_size=%d", tc.base, cp.Size), f.token, nil).expect(t, http.StatusOK).Body
		p, leaf, ph, err := tlog.ParseInclusionProof(body)
		if err != nil || leaf != leaves[1] {
			t.Fatalf("inclusion: %v", err)
		}
		if err := tlog.VerifyInclusion(2, p.TreeSize, leaf, ph, cp.Root); err != nil {
			t.Fatal(err)
		}
		if _, err := tlog.Open([]byte(p.Checkpoint), keys); err != nil {
			t.Fatal(err)
		}
		h.call(http.MethodGet, tc.base+"/checkpoints/100000", f.token, nil).expect(t, http.StatusNotFound)
		h.call(http.MethodGet, tc.base+"/consistency-proofs?from=3&to=2", f.token, nil).expect(t, http.StatusBadRequest)
		h.call(http.MethodGet, tc.base+"/inclusion-proofs/x", f.token, nil).expect(t, http.StatusBadRequest)
		for _, path := range []string{"/checkpoints/+1", "/checkpoints/01", "/inclusion-proofs/+2?tree_size=3",
			"/inclusion-proofs/2?tree_size=03", "/consistency-proofs?from=01&to=2", "/consistency-proofs?from=1&to=+2"} {
			h.call(http.MethodGet, tc.base+path, f.token, nil).problem(t, http.StatusBadRequest)
		}
		for _, v := range []string{"yes", "1x", "TRUE!"} {
			h.call(http.MethodGet, tc.base+"/checkpoint?delivered="+v, f.token, nil).problem(t, http.StatusBadRequest)
		}
		for _, v := range []string{"false", "0"} {
			h.call(http.MethodGet, tc.base+"/checkpoint?delivered="+v, f.token, nil).expect(t, http.StatusOK)
		}
		reader := h.token(f.org, store.RoleReadOnly, false, 0)
		h.call(http.MethodGet, tc.base+"/checkpoint", reader, nil).expect(t, http.StatusOK)
		prod := h.token(f.org, store.RoleProducer, false, 0)
		h.call(http.MethodGet, tc.base+"/checkpoint", prod, nil).expect(t, http.StatusForbidden)
	}
}

// TestDestinationSequenceNumbers: off by default, set on v3 and v2.
func TestDestinationSequenceNumbers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	_, tok := h.org("o")
	body := newDest("d")
	var d map[string]any
	h.call(http.MethodPost, "/v3/audit-log-destinations", tok, body).expect(t, http.StatusCreated).decode(t, &d)
	if d["sequence_numbers"] != false {
		t.Fatalf("default sequence_numbers = %v", d["sequence_numbers"])
	}
	h.call(http.MethodPatch, "/v3/audit-log-destinations/"+d["id"].(string), tok, map[string]any{"sequence_numbers": true}).
		expect(t, http.StatusOK).decode(t, &d)
	if d["sequence_numbers"] != true {
		t.Fatalf("after PATCH sequence_numbers = %v", d["sequence_numbers"])
	}
	var v2 map[string]any
	h.call(http.MethodPatch, "/v2/audit-log-webhook", tok, map[string]any{"endpoint": "https://siem.example.com/x",
		"authorization": "Bearer x", "enabled": true, "sequence_numbers": true}).expect(t, http.StatusOK).decode(t, &v2)
	if v2["sequence_numbers"] != true {
		t.Fatalf("v2 sequence_numbers = %v", v2["sequence_numbers"])
	}
	var off map[string]any
	h.call(http.MethodPatch, "/v2/audit-log-webhook", tok, map[string]any{"sequence_numbers": false}).expect(t, http.StatusOK).decode(t, &off)
	raw, _ := json.Marshal(off)
	if _, ok := off["sequence_numbers"]; ok {
		t.Fatalf("v2 shows sequence_numbers when off: %s", raw)
	}
}
