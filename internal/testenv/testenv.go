// Package testenv holds what tests of several packages share. A test that
// needs a program the machine may lack (Chromium, OpenSSL, curl) says so
// in one way: skipped on a developer's machine without it, failed in CI
// (CI=true), where scripts/test.sh installs it and a skip would hide a
// test that never ran. LogBuffer collects the logs of code under test.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Program returns the path of the first of names found on PATH (or as an
// absolute path). When none is, the test is skipped, or failed under
// CI=true, with hint (how to install it) in the message.
func Program(t testing.TB, hint string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Missing(t, names[0]+" is not installed ("+hint+")")
	return ""
}

// Missing skips the test for want, or fails it under CI=true.
func Missing(t testing.TB, want string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI must run this test (scripts/test.sh installs what the tests need)", want)
	}
	t.Skip(want)
}
