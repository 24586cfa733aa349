package console

import (
	"strings"
	"testing"
)

// The management listener answers the console's pages at the console's
// paths and everything else from the API, whose answers are JSON. A path
// with an empty first segment is the console's only as "/" itself.
func TestMountSendsOnlyConsolePathsToTheConsole(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	b := e.browser()
	for _, tc := range []struct {
		path    string
		console bool
	}{
		{"/", true},
		{"/login", true},
		{"/assets/console.css", true},
		{"/v3/portals", false},
		{"//v3/portals", false},
		{"//login", false},
		{"///", false},
		{"/v2/audit-log-webhook", false},
	} {
		p := b.get(tc.path)
		ct := p.header.Get("Content-Type")
		isConsole := !strings.Contains(ct, "json")
		if isConsole != tc.console {
			t.Errorf("%s: %d %s, want the console: %v", tc.path, p.status, ct, tc.console)
		}
	}
}
