package customdomain

import (
	"context"
	"strings"
	"testing"
)

// countingResolver answers from a map (a name absent is its own canonical
// name) and counts the lookups.
type countingResolver struct {
	m map[string]string
	n int
}

func (r *countingResolver) CNAME(_ context.Context, host string) (string, error) {
	r.n++
	if v, ok := r.m[host]; ok {
		return v, nil
	}
	return host, nil
}

// FuzzLeadsTo feeds LeadsTo whatever names DNS may answer (any case, final
// dots, loops, empty names): it stops within MaxHops+1 lookups, and says
// true only when the chain from host, compared without case and final
// dot, ends at target after at least one alias.
func FuzzLeadsTo(f *testing.F) {
	f.Add("a.test>b.test,b.test>acme.portals.test", "a.test", "acme.portals.test")
	f.Add("a.test>B.TEST.,b.test>a.test", "a.test", "b.test")
	f.Add("a.test>", "a.test", "")
	f.Add("x>y,y>z,z>x", "x", "z")
	f.Fuzz(func(t *testing.T, chain, host, target string) {
		r := &countingResolver{m: map[string]string{}}
		for _, pair := range strings.Split(chain, ",") {
			from, to, _ := strings.Cut(pair, ">")
			r.m[canonical(from)] = to
		}
		ok, err := LeadsTo(context.Background(), r, host, target)
		if r.n > MaxHops+1 {
			t.Fatalf("%d lookups", r.n)
		}
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("true with an error: %v", err)
		}
		// Walk it again by hand.
		name, hops := canonical(host), 0
		for {
			next := name
			if v, found := r.m[name]; found {
				next = canonical(v)
			}
			if next == name || next == "" {
				break
			}
			name, hops = next, hops+1
		}
		if hops == 0 || name != canonical(target) {
			t.Fatalf("LeadsTo(%q, %q) true, but the chain ends at %q after %d aliases", host, target, name, hops)
		}
	})
}
