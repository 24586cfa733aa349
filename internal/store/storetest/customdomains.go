package storetest

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// claimOne takes p's check at now and fails the test unless there is one.
func claimOne(t *testing.T, s store.Store, p store.Portal, now time.Time) store.CustomDomainCheck {
	t.Helper()
	cs, err := s.ClaimCustomDomainChecks(ctxT(t), store.CustomDomainClaim{Now: now, Hold: time.Minute, PortalID: p.ID})
	must(t, err, "ClaimCustomDomainChecks of a portal")
	if len(cs) != 1 {
		t.Fatalf("ClaimCustomDomainChecks of portal %s: %d checks, want 1", p.ID, len(cs))
	}
	return cs[0]
}

// record stores a check's result at now: verified or one more failure,
// due again an hour later.
func record(t *testing.T, s store.Store, c store.CustomDomainCheck, now time.Time, verified bool) store.CustomDomainChange {
	t.Helper()
	failures := 0
	if !verified {
		failures = c.Failures + 1
	}
	ch, err := s.RecordCustomDomainCheck(ctxT(t), store.CustomDomainResult{PortalID: c.PortalID, Hostname: c.Hostname, Token: c.Token,
		Now: now, Verified: verified, Failures: failures, Next: now.Add(time.Hour), Retry: now.Add(time.Minute)})
	must(t, err, "RecordCustomDomainCheck")
	return ch
}

// verifyCustomDomain makes p's claim verified, as a check that found its
// CNAME would.
func verifyCustomDomain(t *testing.T, s store.Store, p store.Portal) {
	t.Helper()
	now := p.UpdatedAt
	if ch := record(t, s, claimOne(t, s, p, now), now, true); !ch.Verified {
		t.Fatalf("verifying %s: %+v", p.CustomDomain, ch)
	}
}

// mkClaim makes a portal of a new org claiming host at now.
func mkClaim(t *testing.T, s store.Store, host string, now time.Time) store.Portal {
	t.Helper()
	p := mkPortal(t, s, mkOrg(t, s).ID)
	p.CustomDomain, p.UpdatedAt = host, now
	must(t, s.UpdatePortal(ctxT(t), p), "UpdatePortal claiming "+host)
	return p
}

// served says which portal the portal listener finds by host ("" none).
func served(t *testing.T, s store.Store, host string) string {
	t.Helper()
	p, err := s.GetPortalByDomain(ctxT(t), host)
	if apperr.Is(err, apperr.NotFound) {
		return ""
	}
	must(t, err, "GetPortalByDomain")
	return p.ID
}

func testCustomDomains(t *testing.T, b Backend) {
	open := b.Open
	t.Run("PendingUntilVerified", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		p := mkPortal(t, s, o.ID)
		if cs, err := s.ClaimCustomDomainChecks(ctxT(t), store.CustomDomainClaim{Now: at(time.Hour), Limit: 10, PortalID: p.ID}); err != nil || len(cs) != 0 {
			t.Fatalf("check of a portal without a claim: %v %v", cs, err)
		}
		p.CustomDomain, p.UpdatedAt = "Dev.Acme.Example", at(time.Minute)
		must(t, s.UpdatePortal(ctxT(t), p), "UpdatePortal")
		if id := served(t, s, "dev.acme.example"); id != "" {
			t.Fatal("a pending claim is served")
		}
		// Not due before the claim was made; due from then on.
		claim := func(now time.Time) []store.CustomDomainCheck {
			cs, err := s.ClaimCustomDomainChecks(ctxT(t), store.CustomDomainClaim{Now: now, Hold: 2 * time.Minute, Limit: 10})
			must(t, err, "ClaimCustomDomainChecks")
			return cs
		}
		if cs := claim(at(time.Second)); len(cs) != 0 {
			t.Fatalf("due before it was claimed: %+v", cs)
		}
		cs := claim(at(time.Minute))
		want := store.CustomDomainCheck{PortalID: p.ID, OrgID: o.ID, Hostname: "dev.acme.example", DefaultDomain: p.DefaultDomain}
		if len(cs) != 1 || cs[0].Token == 0 {
			t.Fatalf("due checks: %+v", cs)
		}
		want.Token = cs[0].Token
		if cs[0] != want {
			t.Fatalf("check %+v, want %+v", cs[0], want)
		}
		// Held: another caller does not take it again until Hold passed.
		if again := claim(at(2 * time.Minute)); len(again) != 0 {
			t.Fatalf("taken twice within its hold: %+v", again)
		}
		// A failure keeps it pending.
		if ch := record(t, s, cs[0], at(time.Minute), false); ch.Stale || ch.Verified || ch.Was {
			t.Fatalf("failure: %+v", ch)
		}
		if cs := claim(at(time.Minute + 59*time.Minute)); len(cs) != 0 {
			t.Fatalf("due before its next check: %+v", cs)
		}
		c := claim(at(2 * time.Hour))
		if len(c) != 1 || c[0].Failures != 1 || c[0].Token <= want.Token {
			t.Fatalf("due again: %+v", c)
		}
		if ch := record(t, s, c[0], at(2*time.Hour), true); ch.Stale || !ch.Verified || ch.Was || ch.Contested {
			t.Fatalf("verification: %+v", ch)
		}
		if served(t, s, "dev.acme.example") != p.ID {
			t.Fatal("a verified claim is not served")
		}
		got, err := s.GetPortal(ctxT(t), o.ID, p.ID)
		must(t, err, "GetPortal")
		if !got.CustomDomainVerified || got.CustomDomain != "dev.acme.example" {
			t.Fatalf("GetPortal: %+v", got)
		}
		// A write of the portal that keeps both names keeps the verification.
		got.DisplayName, got.UpdatedAt = "Renamed", at(3*time.Hour)
		must(t, s.UpdatePortal(ctxT(t), got), "UpdatePortal")
		if served(t, s, "dev.acme.example") != p.ID {
			t.Fatal("an unrelated portal write unverified the custom domain")
		}
		// Another default domain is a new claim: the CNAME leads elsewhere.
		got.DefaultDomain = "moved-" + p.DefaultDomain
		must(t, s.UpdatePortal(ctxT(t), got), "UpdatePortal")
		if served(t, s, "dev.acme.example") != "" {
			t.Fatal("a new default domain kept the custom domain verified")
		}
	})

	t.Run("StaleResults", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		p := mkClaim(t, s, "dev.acme.example", at(time.Minute))
		first := claimOne(t, s, p, at(time.Minute))
		second := claimOne(t, s, p, at(time.Minute))
		if ch := record(t, s, first, at(time.Minute), true); !ch.Stale {
			t.Fatalf("a result of a check taken again was stored: %+v", ch)
		}
		// A changed claim makes every earlier take stale.
		p.CustomDomain = "www.acme.example"
		must(t, s.UpdatePortal(ctxT(t), p), "UpdatePortal")
		stale := second
		stale.Hostname = "www.acme.example"
		if ch := record(t, s, stale, at(time.Minute), true); !ch.Stale {
			t.Fatalf("a result of the old claim was stored: %+v", ch)
		}
		if served(t, s, "www.acme.example") != "" || served(t, s, "dev.acme.example") != "" {
			t.Fatal("a stale result verified a claim")
		}
		// Deleting a verified claim stops its service; claiming it again
		// starts pending.
		verifyCustomDomain(t, s, p)
		p.CustomDomain = ""
		must(t, s.UpdatePortal(ctxT(t), p), "UpdatePortal")
		p.CustomDomain = "www.acme.example"
		must(t, s.UpdatePortal(ctxT(t), p), "UpdatePortal")
		if served(t, s, "www.acme.example") != "" {
			t.Fatal("a claim made again is verified at once")
		}
	})

	t.Run("ContestedName", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		now := at(time.Hour)
		a, b := mkClaim(t, s, "developer.bigcorp.example", now), mkClaim(t, s, "developer.bigcorp.example", now)
		verifyCustomDomain(t, s, a)
		// b's check finds its CNAME, but a has the name verified.
		if ch := record(t, s, claimOne(t, s, b, now), now, true); !ch.Contested || ch.Verified {
			t.Fatalf("verification of a name another portal has verified: %+v", ch)
		}
		if served(t, s, "developer.bigcorp.example") != a.ID {
			t.Fatal("the name left the portal that has it verified")
		}
		// DNS leads to b: a is due at once, to find so.
		cs, err := s.ClaimCustomDomainChecks(ctxT(t), store.CustomDomainClaim{Now: now, Hold: time.Hour, Limit: 10})
		must(t, err, "ClaimCustomDomainChecks")
		if len(cs) != 1 || cs[0].PortalID != a.ID {
			t.Fatalf("due at once after a contested verification: %+v, want the holder", cs)
		}
		// b is due at Retry (a minute), not an hour later.
		cs, err = s.ClaimCustomDomainChecks(ctxT(t), store.CustomDomainClaim{Now: now.Add(time.Minute), Hold: time.Minute, Limit: 10})
		must(t, err, "ClaimCustomDomainChecks")
		if len(cs) != 1 || cs[0].PortalID != b.ID {
			t.Fatalf("due after a contested verification: %+v", cs)
		}
		// a loses it: b is due at once, and takes it.
		later := now.Add(30 * time.Minute)
		if ch := record(t, s, claimOne(t, s, a, later), later, false); !ch.Was || ch.Verified {
			t.Fatalf("unverification: %+v", ch)
		}
		cs, err = s.ClaimCustomDomainChecks(ctxT(t), store.CustomDomainClaim{Now: later, Hold: time.Minute, Limit: 10})
		must(t, err, "ClaimCustomDomainChecks")
		if len(cs) != 1 || cs[0].PortalID != b.ID {
			t.Fatalf("due after the name was freed: %+v", cs)
		}
		if ch := record(t, s, cs[0], later, true); !ch.Verified || ch.Contested {
			t.Fatalf("verification of a freed name: %+v", ch)
		}
		if served(t, s, "developer.bigcorp.example") != b.ID {
			t.Fatal("the name did not move")
		}
	})

	t.Run("FreedByItsHolder", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		now := at(time.Hour)
		// isDue says whether p's check is due (and takes the due ones).
		isDue := func(p store.Portal) bool {
			t.Helper()
			cs, err := s.ClaimCustomDomainChecks(ctxT(t), store.CustomDomainClaim{Now: now.Add(time.Second), Hold: time.Minute, Limit: 10})
			must(t, err, "ClaimCustomDomainChecks")
			return slices.ContainsFunc(cs, func(c store.CustomDomainCheck) bool { return c.PortalID == p.ID })
		}
		for _, free := range []struct {
			name string
			f    func(holder store.Portal) error
		}{
			{"custom domain deleted", func(h store.Portal) error { h.CustomDomain = ""; return s.UpdatePortal(ctxT(t), h) }},
			{"custom domain changed", func(h store.Portal) error { h.CustomDomain = "other.example"; return s.UpdatePortal(ctxT(t), h) }},
			{"default domain changed", func(h store.Portal) error {
				h.DefaultDomain = "moved-" + h.DefaultDomain
				return s.UpdatePortal(ctxT(t), h)
			}},
			{"portal deleted", func(h store.Portal) error { return s.DeletePortal(ctxT(t), h.OrgID, h.ID) }},
		} {
			host := strings.ReplaceAll(free.name, " ", "-") + ".example"
			holder, waiting := mkClaim(t, s, host, now), mkClaim(t, s, host, now)
			verifyCustomDomain(t, s, holder)
			record(t, s, claimOne(t, s, waiting, now), now, true) // contested: due again much later
			// A write that keeps the holder's claim frees nothing.
			holder.DisplayName = "Renamed"
			must(t, s.UpdatePortal(ctxT(t), holder), "UpdatePortal")
			if isDue(waiting) {
				t.Fatalf("%s: a write keeping the claim made the others due", free.name)
			}
			must(t, free.f(holder), free.name)
			if !isDue(waiting) {
				t.Fatalf("%s: the waiting claim is not due", free.name)
			}
			record(t, s, claimOne(t, s, waiting, now), now, true)
			if served(t, s, host) != waiting.ID {
				t.Fatalf("%s: the name did not go to the waiting claim", free.name)
			}
		}
	})

	t.Run("TwoReplicasTakeEachCheckOnce", func(t *testing.T) {
		t.Parallel()
		sa, sb := b.OpenPair(t)
		o := mkOrg(t, sa)
		var all []string
		for i := range 12 {
			p := mkPortal(t, sa, o.ID)
			p.CustomDomain = "dev" + string(rune('a'+i)) + ".acme.example"
			must(t, sa.UpdatePortal(ctxT(t), p), "UpdatePortal")
			all = append(all, p.ID)
		}
		var mu sync.Mutex
		var taken []string
		race(sa, sb, 4, func(s store.Store, _ int) {
			cs, err := s.ClaimCustomDomainChecks(ctxT(t), store.CustomDomainClaim{Now: at(time.Hour), Hold: time.Minute, Limit: 2})
			if err != nil {
				t.Errorf("ClaimCustomDomainChecks: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, c := range cs {
				taken = append(taken, c.PortalID)
			}
		})
		slices.Sort(taken)
		slices.Sort(all)
		if len(taken) != 12 || !slices.Equal(slices.Compact(slices.Clone(taken)), all) {
			t.Fatalf("taken %v, want each of %v once", taken, all)
		}
	})

	t.Run("TwoReplicasVerifyOnePortal", func(t *testing.T) {
		t.Parallel()
		sa, sb := b.OpenPair(t)
		var ps []store.Portal
		for range 6 {
			ps = append(ps, mkClaim(t, sa, "developer.bigcorp.example", at(0)))
		}
		checks := make([]store.CustomDomainCheck, len(ps))
		for i, p := range ps {
			checks[i] = claimOne(t, sa, p, at(time.Hour))
		}
		var mu sync.Mutex
		verified := 0
		race(sa, sb, len(ps)/2, func(s store.Store, i int) {
			c := checks[i]
			ch, err := s.RecordCustomDomainCheck(ctxT(t), store.CustomDomainResult{PortalID: c.PortalID, Hostname: c.Hostname, Token: c.Token,
				Now: at(time.Hour), Verified: true, Next: at(2 * time.Hour), Retry: at(time.Hour + time.Minute)})
			if err != nil {
				t.Errorf("RecordCustomDomainCheck: %v", err)
				return
			}
			if ch.Verified {
				mu.Lock()
				verified++
				mu.Unlock()
			}
		})
		if verified != 1 {
			t.Fatalf("%d portals got one name verified, want 1", verified)
		}
	})
}
