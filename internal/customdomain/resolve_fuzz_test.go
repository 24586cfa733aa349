package customdomain

import (
	"context"
	"strings"
	"testing"
)

// countingResolver answers from a map (a name absent is no alias) and
// counts the lookups.
type countingResolver struct {
	m map[string]string
	n int
}

func (r *countingResolver) CNAME(_ context.Context, host string) (string, error) {
	r.n++
	return r.m[host], nil
}

// FuzzLeadsTo feeds LeadsTo whatever names DNS may answer (any case, final
// dots, loops, empty names): it stops within MaxHops lookups, and says
// true only when the chain from host, compared without case and final
// dot, reaches target after at least one alias with no name under zone
// before it.
func FuzzLeadsTo(f *testing.F) {
	f.Add("a.test>b.test,b.test>acme.portals.test", "a.test", "acme.portals.test", "portals.test")
	f.Add("a.test>rival.portals.test,rival.portals.test>acme.portals.test", "a.test", "acme.portals.test", "portals.test")
	f.Add("a.test>B.TEST.,b.test>a.test", "a.test", "b.test", "")
	f.Add("a.test>", "a.test", "", "")
	f.Add("x>y,y>z,z>x", "x", "z", "z")
	f.Fuzz(func(t *testing.T, chain, host, target, zone string) {
		r := &countingResolver{m: map[string]string{}}
		for _, pair := range strings.Split(chain, ",") {
			from, to, _ := strings.Cut(pair, ">")
			r.m[canonical(from)] = to
		}
		ok, err := LeadsTo(context.Background(), r, host, target, zone)
		if r.n > MaxHops {
			t.Fatalf("%d lookups", r.n)
		}
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("true with an error: %v", err)
		}
		// Walk it again by hand.
		name, z := canonical(host), canonical(zone)
		for hops := 1; ; hops++ {
			next := canonical(r.m[name])
			if next == "" || next == name || hops > MaxHops {
				t.Fatalf("LeadsTo(%q, %q) true, but the chain ends at %q", host, target, name)
			}
			if next == canonical(target) {
				return
			}
			if z != "" && (next == z || strings.HasSuffix(next, "."+z)) {
				t.Fatalf("LeadsTo(%q, %q) true, but %q under %q comes first", host, target, next, zone)
			}
			name = next
		}
	})
}
