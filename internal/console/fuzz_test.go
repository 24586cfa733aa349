package console

import (
	"net/url"
	"testing"
	"time"
)

// FuzzLogFilter feeds the log page's query (untrusted) through its parser:
// it never panics, and a query it accepts has times in RFC 3339.
func FuzzLogFilter(f *testing.F) {
	for _, s := range []string{"from=2026-03-01T10:00&to=2026-03-01T11:00:05&type=authentication&outcome=success",
		"from=yesterday", "q=%00&principal=x", "to=2026-03-01T10:00:00Z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		lf := readLogFilter(q)
		aq, err := lf.apiQuery(logPageSize)
		if err != nil {
			return
		}
		for _, k := range []string{"filter[ts][gte]", "filter[ts][lte]"} {
			if v := aq.Get(k); v != "" {
				if _, err := time.Parse(time.RFC3339, v); err != nil {
					t.Fatalf("%s=%q is not RFC 3339", k, v)
				}
			}
		}
		_ = lf.values().Encode()
	})
}
