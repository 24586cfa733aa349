package cluster

import (
	"fmt"
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

func TestPreferredIsStable(t *testing.T) {
	t.Parallel()
	if got := Preferred("s", nil); got != "" {
		t.Fatalf("no replicas: %q", got)
	}
	// The weight must not depend on the process (no random seed): these
	// values are what every replica computes.
	if w := weight("r0", "s"); fmt.Sprint(w) != fmt.Sprint(weight("r0", "s")) || w == weight("r1", "s") {
		t.Fatal("weights not stable or not distinct")
	}
	if Preferred("s", []string{"r0", "r1"}) != Preferred("s", []string{"r1", "r0"}) {
		t.Fatal("the answer depends on the order of the replicas")
	}
}
