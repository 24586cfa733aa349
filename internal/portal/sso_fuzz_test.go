package portal

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzReadSSOFlow: the flow cookie comes from the browser. Whatever it
// holds, reading it neither panics nor accepts a flow with an empty state,
// nonce or verifier.
func FuzzReadSSOFlow(f *testing.F) {
	for _, s := range []string{"a.b.c.d", "...", "a.b.c", "a.b.c.d.e", "", "s.n.v.", "é.ü.\x00.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r, _ := http.NewRequest(http.MethodGet, "http://portal.test/", nil)
		r.Header.Set("Cookie", ssoCookie+"="+v)
		flow, ok := readSSOFlow(r)
		if !ok {
			return
		}
		if flow.state == "" || flow.nonce == "" || flow.verifier == "" {
			t.Fatalf("accepted %q as %+v", v, flow)
		}
		if strings.Join([]string{flow.state, flow.nonce, flow.verifier, flow.idpID}, ".") != cookieValue(r, ssoCookie) {
			t.Fatalf("flow %+v is not the cookie %q", flow, v)
		}
	})
}
