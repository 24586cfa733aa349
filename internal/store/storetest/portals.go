package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testPortals(t *testing.T, b Backend) {
	open := b.Open
	t.Run("CreateGetUpdate", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		p := mkPortal(t, s, o.ID)
		got, err := s.GetPortal(ctxT(t), o.ID, p.ID)
		must(t, err, "GetPortal")
		if !same(got, p) {
			t.Fatalf("GetPortal = %+v, want %+v", got, p)
		}
		_, err = s.GetPortal(ctxT(t), other.ID, p.ID)
		wantCode(t, err, apperr.NotFound, "GetPortal from another org")
		_, err = s.GetPortal(ctxT(t), o.ID, newID(t))
		wantCode(t, err, apperr.NotFound, "GetPortal unknown")

		p.DisplayName, p.CustomDomain, p.RBACEnabled, p.UpdatedAt = "Renamed", "dev.acme.example", false, at(time.Hour)
		must(t, s.UpdatePortal(ctxT(t), p), "UpdatePortal")
		got, err = s.GetPortal(ctxT(t), o.ID, p.ID)
		must(t, err, "GetPortal")
		if !same(got, p) {
			t.Fatalf("after UpdatePortal: %+v, want %+v", got, p)
		}
		moved := p
		moved.OrgID = other.ID
		wantCode(t, s.UpdatePortal(ctxT(t), moved), apperr.NotFound, "UpdatePortal through another org")
		unknown := p
		unknown.ID = newID(t)
		wantCode(t, s.UpdatePortal(ctxT(t), unknown), apperr.NotFound, "UpdatePortal unknown")
	})

	t.Run("Conflicts", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		p := mkPortal(t, s, o.ID)
		p.CustomDomain = "docs.acme.example"
		p.UpdatedAt = at(time.Hour)
		must(t, s.UpdatePortal(ctxT(t), p), "UpdatePortal")
		verifyCustomDomain(t, s, p)
		fresh := func(orgID string) store.Portal {
			id := newID(t)
			return store.Portal{ID: id, OrgID: orgID, Name: "n-" + id, DefaultDomain: id + ".example", CreatedAt: at(0), UpdatedAt: at(0)}
		}
		cases := []struct {
			name   string
			mutate func(*store.Portal)
			orgID  string
			code   apperr.Code
		}{
			{"name taken in the org", func(q *store.Portal) { q.Name = p.Name }, o.ID, apperr.Conflict},
			{"default domain taken", func(q *store.Portal) { q.DefaultDomain = p.DefaultDomain }, other.ID, apperr.Conflict},
			{"default domain taken in another case", func(q *store.Portal) { q.DefaultDomain = strings.ToUpper(p.DefaultDomain) }, other.ID, apperr.Conflict},
			{"custom domain is another's default", func(q *store.Portal) { q.CustomDomain = p.DefaultDomain }, other.ID, apperr.Conflict},
			{"default domain is another's custom", func(q *store.Portal) { q.DefaultDomain = p.CustomDomain }, other.ID, apperr.Conflict},
			{"id taken", func(q *store.Portal) { q.ID = p.ID }, other.ID, apperr.Conflict},
		}
		for _, c := range cases {
			q := fresh(c.orgID)
			c.mutate(&q)
			wantCode(t, s.CreatePortal(ctxT(t), q), c.code, c.name)
		}
		// The same name in another org is fine.
		q := fresh(other.ID)
		q.Name = p.Name
		must(t, s.CreatePortal(ctxT(t), q), "CreatePortal with a name used in another org")
		// Updating into a taken domain is a Conflict too.
		q.DefaultDomain = p.CustomDomain
		wantCode(t, s.UpdatePortal(ctxT(t), q), apperr.Conflict, "UpdatePortal to another's verified custom domain")
		// Claims are no conflict: several portals may claim a name, verified
		// by another portal or not (DNS decides which one is verified).
		q = fresh(other.ID)
		q.CustomDomain = p.CustomDomain
		must(t, s.CreatePortal(ctxT(t), q), "CreatePortal claiming another's verified custom domain")
		r := fresh(o.ID)
		must(t, s.CreatePortal(ctxT(t), r), "CreatePortal")
		r.CustomDomain = p.CustomDomain
		must(t, s.UpdatePortal(ctxT(t), r), "UpdatePortal claiming another's verified custom domain")
		// A pending claim keeps no one from the name as default domain.
		q.CustomDomain = "pending.acme.example"
		must(t, s.UpdatePortal(ctxT(t), q), "UpdatePortal")
		d := fresh(o.ID)
		d.DefaultDomain = "pending.acme.example"
		must(t, s.CreatePortal(ctxT(t), d), "CreatePortal with another's pending claim as default domain")
	})

	// A default domain a portal gives up stays its org's: CNAMEs of
	// custom names may still point at it, so a portal of another org given
	// it would have them verified.
	t.Run("RetiredDefaultDomainStaysWithItsOrg", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		deleted, renamed := mkPortal(t, s, o.ID), mkPortal(t, s, o.ID)
		must(t, s.DeletePortal(ctxT(t), o.ID, deleted.ID), "DeletePortal")
		old := renamed.DefaultDomain
		renamed.DefaultDomain, renamed.UpdatedAt = "renamed.portal.example.com", at(time.Hour)
		must(t, s.UpdatePortal(ctxT(t), renamed), "UpdatePortal with another default domain")
		for _, dom := range []string{deleted.DefaultDomain, strings.ToUpper(old)} {
			q := mkPortal(t, s, other.ID)
			q.DefaultDomain = dom
			wantCode(t, s.UpdatePortal(ctxT(t), q), apperr.Conflict, "UpdatePortal of another org to a retired default domain")
			q.ID, q.Name = newID(t), "retaken"
			wantCode(t, s.CreatePortal(ctxT(t), q), apperr.Conflict, "CreatePortal of another org with a retired default domain")
			// The org that retired it may have it again, and after it
			// is given up again, still only that org.
			mine := mkPortal(t, s, o.ID)
			mine.DefaultDomain = dom
			must(t, s.UpdatePortal(ctxT(t), mine), "UpdatePortal of the same org to its retired default domain")
			must(t, s.DeletePortal(ctxT(t), o.ID, mine.ID), "DeletePortal")
			wantCode(t, s.CreatePortal(ctxT(t), q), apperr.Conflict, "CreatePortal of another org after the org reused it")
		}
	})

	t.Run("GetPortalByDomain", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		p := mkPortal(t, s, o.ID)
		p.CustomDomain = "Portal.Acme.Example"
		must(t, s.UpdatePortal(ctxT(t), p), "UpdatePortal")
		// A pending claim is not served.
		_, err := s.GetPortalByDomain(ctxT(t), "portal.acme.example")
		wantCode(t, err, apperr.NotFound, "GetPortalByDomain of a pending custom domain")
		verifyCustomDomain(t, s, p)
		cases := []struct {
			domain string
			found  bool
		}{
			{p.DefaultDomain, true},
			{strings.ToUpper(p.DefaultDomain), true},
			{"portal.acme.example", true},
			{"PORTAL.ACME.EXAMPLE", true},
			{"acme.example", false},
			{"", false},
		}
		for _, c := range cases {
			got, err := s.GetPortalByDomain(ctxT(t), c.domain)
			if !c.found {
				wantCode(t, err, apperr.NotFound, "GetPortalByDomain "+c.domain)
				continue
			}
			must(t, err, "GetPortalByDomain "+c.domain)
			if got.ID != p.ID || got.CustomDomain != "portal.acme.example" {
				t.Errorf("GetPortalByDomain(%q) = %s %q", c.domain, got.ID, got.CustomDomain)
			}
		}
	})

	t.Run("ListPages", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		var all []string
		for range 5 {
			all = append(all, mkPortal(t, s, o.ID).ID)
		}
		mkPortal(t, s, other.ID)
		list := func(f store.NameFilter, p store.Page) ([]string, bool) {
			got, more, err := s.ListPortals(ctxT(t), o.ID, f, p)
			must(t, err, "ListPortals")
			return ids(got, func(p store.Portal) string { return p.ID }), more
		}
		checkPages(t, all, func(p store.Page) ([]string, bool) { return list(store.NameFilter{}, p) })
		got, _ := list(store.NameFilter{Eq: "portal-" + all[2]}, store.Page{})
		if !eqStrings(got, all[2:3]) {
			t.Errorf("filter eq: %v", got)
		}
		got, _ = list(store.NameFilter{Contains: strings.ToUpper(all[3][len(all[3])-12:])}, store.Page{})
		if !eqStrings(got, all[3:4]) {
			t.Errorf("filter contains (any case): %v", got)
		}
	})

	t.Run("DeleteCascades", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		p, keep := mkPortal(t, s, o.ID), mkPortal(t, s, o.ID)
		st, keepSt := store.StreamID(p.ID), store.StreamID(keep.ID)
		d := mkDestination(t, s, o.ID, "siem")
		for _, x := range []store.Portal{p, keep} {
			_, err := s.Append(ctxT(t), []store.NewEntry{entry(store.StreamID(x.ID), audit.KindAuthentication, at(0), "e")})
			must(t, err, "Append")
			must(t, s.PutWebhook(ctxT(t), store.Webhook{Stream: store.StreamID(x.ID), OrgID: o.ID, PortalID: x.ID, DestinationID: d.ID, Enabled: true, UpdatedAt: at(0)}), "PutWebhook")
			must(t, s.AdvanceCursor(ctxT(t), store.StreamID(x.ID), store.NoFence, 1, &store.SeqRange{From: 1, To: 1}), "AdvanceCursor")
			must(t, s.PutReplayJob(ctxT(t), store.ReplayJob{Stream: store.StreamID(x.ID), OrgID: o.ID, PortalID: x.ID, StartAt: at(0), EndAt: at(time.Hour), Status: store.JobPending, CreatedAt: at(0), UpdatedAt: at(0)}), "PutReplayJob")
		}
		dev := mkDeveloper(t, s, p, "dev@acme.example")
		must(t, s.CreateDeveloperToken(ctxT(t), store.DeveloperToken{Hash: []byte("dev-token"), DeveloperID: dev.ID, PortalID: p.ID, Purpose: store.PurposeSession, CreatedAt: at(0), ExpiresAt: at(time.Hour)}), "CreateDeveloperToken")

		wantCode(t, s.DeletePortal(ctxT(t), other.ID, p.ID), apperr.NotFound, "DeletePortal from another org")
		must(t, s.DeletePortal(ctxT(t), o.ID, p.ID), "DeletePortal")
		wantCode(t, s.DeletePortal(ctxT(t), o.ID, p.ID), apperr.NotFound, "DeletePortal twice")

		_, err := s.GetPortal(ctxT(t), o.ID, p.ID)
		wantCode(t, err, apperr.NotFound, "GetPortal after delete")
		_, err = s.GetWebhook(ctxT(t), st)
		wantCode(t, err, apperr.NotFound, "GetWebhook after portal delete")
		_, err = s.GetWebhookState(ctxT(t), st)
		wantCode(t, err, apperr.NotFound, "GetWebhookState after portal delete")
		_, err = s.GetReplayJob(ctxT(t), st)
		wantCode(t, err, apperr.NotFound, "GetReplayJob after portal delete")
		_, err = s.GetDeveloper(ctxT(t), p.ID, dev.ID)
		wantCode(t, err, apperr.NotFound, "GetDeveloper after portal delete")
		_, err = s.GetDeveloperToken(ctxT(t), []byte("dev-token"))
		wantCode(t, err, apperr.NotFound, "GetDeveloperToken after portal delete")
		if got, _ := s.Read(ctxT(t), st, 0, 0); len(got) != 0 {
			t.Errorf("entries of the deleted portal remain: %v", seqsOf(got))
		}
		if jobs, _ := s.ListActiveReplayJobs(ctxT(t)); len(jobs) != 1 || jobs[0].Stream != keepSt {
			t.Errorf("active replay jobs after delete: %+v", jobs)
		}
		// The other portal keeps everything.
		if got, _ := s.Read(ctxT(t), keepSt, 0, 0); len(got) != 1 {
			t.Errorf("the other portal lost its entries")
		}
		if _, err := s.GetWebhookState(ctxT(t), keepSt); err != nil {
			t.Errorf("the other portal lost its webhook: %v", err)
		}
	})
}

// checkPages walks the five items of all forwards and backwards in pages of
// two through list.
func checkPages(t *testing.T, all []string, list func(store.Page) ([]string, bool)) {
	t.Helper()
	cases := []struct {
		name string
		page store.Page
		want []string
		more bool
	}{
		{"no size: all", store.Page{}, all, false},
		{"first page", store.Page{Size: 2}, all[0:2], true},
		{"second page", store.Page{Size: 2, After: all[1]}, all[2:4], true},
		{"last page", store.Page{Size: 2, After: all[3]}, all[4:5], false},
		{"after the last", store.Page{Size: 2, After: all[4]}, []string{}, false},
		{"page before the last", store.Page{Size: 2, Before: all[4]}, all[2:4], true},
		{"first page backwards", store.Page{Size: 2, Before: all[2]}, all[0:2], false},
		{"short page backwards", store.Page{Size: 2, Before: all[1]}, all[0:1], false},
		{"exact fit", store.Page{Size: 5}, all, false},
	}
	for _, c := range cases {
		got, more := list(c.page)
		if !eqStrings(got, c.want) || more != c.more {
			t.Errorf("%s: got %v more=%v, want %v more=%v", c.name, got, more, c.want, c.more)
		}
	}
}
