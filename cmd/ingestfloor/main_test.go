package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestMain lets measure start this test binary as its server child.
func TestMain(m *testing.M) {
	if os.Getenv("INGESTFLOOR_TEST_CHILD") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestMeasuresAServerChild(t *testing.T) {
	t.Setenv("INGESTFLOOR_TEST_CHILD", "1")
	for _, store := range []string{"none", "sqlite"} {
		var out strings.Builder
		if err := run([]string{"-store", store, "-rate", "500", "-requests", "40"}, &out); err != nil {
			t.Fatalf("-store %s: %v", store, err)
		}
		want := regexp.MustCompile(`^store=` + store + `: 40 requests at 500/s \([0-9]+/s achieved\) in [0-9.]+s, server CPU [0-9.]+s \([0-9.]+% of one core\), [0-9.]+ ms per request\n$`)
		if !want.MatchString(out.String()) {
			t.Errorf("-store %s printed %q", store, out.String())
		}
	}
}

func TestRejectsBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-store", "postgres"},
		{"-rate", "0"},
		{"-rate", "1000000000"},
		{"-requests", "-1"},
	} {
		if err := run(args, &strings.Builder{}); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
