package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
)

// A user agent holding line separators and controls is written escaped
// (audit/linebreak.go); decode reads it back to what the user sent and
// prints it on one line, escaped again as JSON.
func TestDecodeReadsLineBreakEscapes(t *testing.T) {
	t.Parallel()
	ua := "Mozilla\u2028x trace_id=forged\u2029\u0085\x00\x7f\u009f\t\n" + `\u2028`
	e := audit.Entry{Kind: audit.KindAuthentication, Time: time.UnixMilli(1750688927556), Product: audit.ProductDevPortal,
		ClassID: audit.AuthTypeBasic, Name: string(audit.OutcomeSuccess), Src: "1.2.3.4", OrgID: "o", PrincipalID: "p",
		TraceID: "t", UserAgent: ua, Request: "/"}
	line := string(audit.Renderer{}.AppendCEF(nil, &e))
	if strings.ContainsAny(line, "\u2028\u2029\u0085\x00\x7f\u009f\t\n") {
		t.Fatalf("raw control or separator in %q", line)
	}
	code, out, errOut := runCLI(t, nil, line+"\n", "decode")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Count(out, "\n") != 1 || strings.ContainsAny(out, "\u2028\u2029\u0085\x00\x7f\u009f\t") {
		t.Fatalf("decode printed more than one clean line: %q", out)
	}
	var got struct{ Extensions map[string]string }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Extensions["user_agent"] != ua || got.Extensions["trace_id"] != "t" {
		t.Fatalf("extensions %q, want user_agent %q", got.Extensions, ua)
	}
}
