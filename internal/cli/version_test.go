package cli

import (
	"strings"
	"testing"
)

func TestVersionAndUnknownCommands(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args       []string
		code       int
		out, errIn string
	}{
		{[]string{"version"}, 0, "sigtrail dev", ""},
		{[]string{"version", "extra"}, 1, "", "takes no arguments"},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{nil, 2, "", "usage: sigtrail COMMAND"},
		{[]string{"help"}, 0, "", "serve"},
	}
	for _, c := range cases {
		code, out, errOut := runCLI(t, nil, "", c.args...)
		if code != c.code || !strings.Contains(out, c.out) || !strings.Contains(errOut, c.errIn) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, code, out, errOut)
		}
	}
}
