package cluster

import (
	"testing"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/store"
)

func randomStreams(n int) []store.StreamID {
	out := make([]store.StreamID, n)
	for i := range out {
		out[i] = store.StreamID(uuid.Must(uuid.NewV7()).String())
	}
	return out
}

// Streams spread evenly, and a joining replica takes streams only for
// itself: none moves between the replicas already there.
func TestPreferredSpreadAndMovement(t *testing.T) {
	t.Parallel()
	streams := randomStreams(3000)
	three := []string{"r0", "r1", "r2"}
	four := append(three[:3:3], "r3")
	count := map[string]int{}
	moved := 0
	for _, s := range streams {
		before, after := Preferred(s, three), Preferred(s, four)
		count[before]++
		if before != after {
			moved++
			if after != "r3" {
				t.Fatalf("%s moved from %s to %s", s, before, after)
			}
		}
	}
	for _, r := range three {
		if n := count[r]; n < 900 || n > 1100 {
			t.Errorf("%s prefers %d of 3000 streams; spread %v", r, n, count)
		}
	}
	if moved < 600 || moved > 900 {
		t.Errorf("%d of 3000 streams moved to the fourth replica, want about 750", moved)
	}
	t.Logf("3000 streams over 3 replicas: %v; %d moved to a 4th", count, moved)
}

// Replicas of two versions run side by side during a rolling upgrade: they
// must agree on every stream's replica, so the hash may never change.
func TestPreferredIsStable(t *testing.T) {
	t.Parallel()
	if got := Preferred("s", nil); got != "" {
		t.Fatalf("no replicas: %q", got)
	}
	if w := weight("r0", "s"); w != 16640919818881264335 {
		t.Fatalf("weight changed: %d", w)
	}
	three := []string{"r0", "r1", "r2"}
	for s, want := range map[store.StreamID]string{"org-1": "r1", "org-2": "r0"} {
		if got := Preferred(s, three); got != want {
			t.Errorf("Preferred(%s) = %s, want %s", s, got, want)
		}
	}
	if Preferred("s", []string{"r0", "r1"}) != Preferred("s", []string{"r1", "r0"}) {
		t.Fatal("the answer depends on the order of the replicas")
	}
}
