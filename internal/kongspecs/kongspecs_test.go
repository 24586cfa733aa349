package kongspecs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestFindWalksUpToTheRepositoryRoot(t *testing.T) {
	t.Parallel()
	top := t.TempDir()
	repo := filepath.Join(top, "checkout")
	pkg := filepath.Join(repo, "internal", "api")
	specs := filepath.Join(top, "shared", "specs", "konnect")
	for _, d := range []string{pkg, specs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got := find(pkg); got != "" {
		t.Fatalf("no go.mod yet, found %q", got)
	}
	os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module x\n"), 0o644)
	if got := find(pkg); filepath.Clean(got) != specs {
		t.Fatalf("found %q, want %q", got, specs)
	}
	os.RemoveAll(filepath.Join(top, "shared"))
	if got := find(pkg); got != "" {
		t.Fatalf("found %q after removing the specs", got)
	}
}

// recorder stands in for a test to see what require does to it.
type recorder struct{ failed, skipped bool }

func (r *recorder) Helper()                   {}
func (r *recorder) Fatalf(f string, a ...any) { r.failed = true; _ = fmt.Sprintf(f, a...) }
func (r *recorder) Skipf(f string, a ...any)  { r.skipped = true; _ = fmt.Sprintf(f, a...) }

func TestRequireFailsInCIAndSkipsElsewhere(t *testing.T) {
	t.Parallel()
	var ci, dev, found recorder
	require(&ci, "", true)
	require(&dev, "", false)
	if got := require(&found, "/specs", true); got != "/specs" || found.failed || found.skipped {
		t.Errorf("present specs: %q %+v", got, found)
	}
	if !ci.failed || ci.skipped {
		t.Errorf("CI without specs must fail, not skip: %+v", ci)
	}
	if dev.failed || !dev.skipped {
		t.Errorf("a developer without specs is skipped: %+v", dev)
	}
}

// TestSpecsOfThisCheckout: in CI the shared folder is beside the clone.
func TestSpecsOfThisCheckout(t *testing.T) {
	dir := Require(t)
	if _, err := os.Stat(filepath.Join(dir, "audit-logs-v3.yaml")); err != nil {
		t.Fatal(err)
	}
}
