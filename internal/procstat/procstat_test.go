package procstat

import (
	"os"
	"testing"
)

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, stat string
		want       float64
		ok         bool
	}{
		{"plain", "42 (sigtrail) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 8 0", 3.25, true},
		{"name with spaces and parentheses", "42 (a (b) c) R 1 42 42 0 -1 0 0 0 0 0 7 3 0 0", 0.1, true},
		{"no name", "42 sigtrail S 1", 0, false},
		{"short", "42 (x) S 1 2 3", 0, false},
		{"not a number", "42 (x) S 1 42 42 0 -1 0 0 0 0 0 ab 3 0 0", 0, false},
	} {
		got, err := parseStatCPU([]byte(tc.stat))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v, ok %v", tc.name, got, err, tc.want, tc.ok)
		}
	}
}

func TestCPUSecondsOfItself(t *testing.T) {
	t.Parallel()
	if _, err := CPUSeconds(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := CPUSeconds(0); err == nil {
		t.Error("pid 0: no error")
	}
}

func FuzzParseStatCPU(f *testing.F) {
	f.Add([]byte("42 (sigtrail) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, err := parseStatCPU(b); err == nil && v < 0 {
			t.Fatalf("negative CPU %v", v)
		}
	})
}
