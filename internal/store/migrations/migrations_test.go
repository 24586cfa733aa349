package migrations

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadRejectsBadSets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		files fstest.MapFS
		err   string
	}{
		{"gap", fstest.MapFS{"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}}, "expected version 2"},
		{"duplicate", fstest.MapFS{"migrations/0001_a.sql": {}, "migrations/0001_b.sql": {}}, "expected version 2"},
		{"no number", fstest.MapFS{"migrations/init.sql": {}}, "must start with a positive number"},
		{"zero", fstest.MapFS{"migrations/0000_a.sql": {}}, "must start with a positive number"},
	}
	for _, c := range cases {
		_, err := Load(c.files, "migrations")
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.err)
		}
	}
	ms, err := Load(fstest.MapFS{"migrations/0002_b.sql": {Data: []byte("B")}, "migrations/0001_a.sql": {Data: []byte("A")}}, "migrations")
	if err != nil || len(ms) != 2 || ms[0].SQL != "A" || ms[1].SQL != "B" {
		t.Errorf("ordered load = %+v, %v", ms, err)
	}
}
