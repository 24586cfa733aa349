// Package kongspecs finds Kong's published OpenAPI documents, which the
// contract tests check sigtrail against. They live in the shared folder
// beside the repository (shared/specs/konnect), not inside it, so they are
// found relative to the repository wherever it is checked out, never by an
// absolute path.
package kongspecs

import (
	"os"
	"path/filepath"
)

// rel is where the specs are, relative to the repository root.
const rel = "../shared/specs/konnect"

// Dir returns the directory holding Kong's specs, found from the working
// directory (a package's directory under go test), or "" when it is not
// there.
func Dir() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	return find(wd)
}

// find walks up from start to the repository root (the nearest directory
// with a go.mod) and looks beside it.
func find(start string) string {
	for d := start; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			specs := filepath.Join(d, rel)
			if fi, err := os.Stat(specs); err == nil && fi.IsDir() {
				return specs
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// TB is the part of testing.TB that Require uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// Require returns Dir for a test that needs the specs. When they are
// missing the test is skipped on a developer's machine, but fails in CI
// (CI=true): a contract check that quietly did not run is no check.
func Require(t TB) string {
	t.Helper()
	return require(t, Dir(), os.Getenv("CI") == "true")
}

func require(t TB, dir string, ci bool) string {
	t.Helper()
	if dir != "" {
		return dir
	}
	if ci {
		t.Fatalf("Kong's specs are missing: expected %s beside the repository root (CI=true: the contract tests must run)", rel)
		return ""
	}
	t.Skipf("Kong's specs are not in %s beside the repository root; the contract check needs them", rel)
	return ""
}
