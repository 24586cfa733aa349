package storetest

import (
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testDestinations(t *testing.T, b Backend) {
	open := b.Open
	t.Run("CreateGetUpdate", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		d := mkDestination(t, s, o.ID, "splunk")
		got, err := s.GetDestination(ctxT(t), o.ID, d.ID)
		must(t, err, "GetDestination")
		if !same(got, d) {
			t.Fatalf("GetDestination = %+v, want %+v", got, d)
		}
		_, err = s.GetDestination(ctxT(t), other.ID, d.ID)
		wantCode(t, err, apperr.NotFound, "GetDestination from another org")

		d.Name, d.Endpoint, d.Authorization, d.LogFormat, d.SkipSSLVerification, d.UpdatedAt =
			"sumo", "https://sumo.example.com/x", "Basic abc", audit.FormatJSON, true, at(time.Hour)
		must(t, s.UpdateDestination(ctxT(t), d), "UpdateDestination")
		got, err = s.GetDestination(ctxT(t), o.ID, d.ID)
		must(t, err, "GetDestination")
		if !same(got, d) {
			t.Fatalf("after update: %+v, want %+v", got, d)
		}
		foreign := d
		foreign.OrgID = other.ID
		wantCode(t, s.UpdateDestination(ctxT(t), foreign), apperr.NotFound, "UpdateDestination through another org")
		wantCode(t, s.CreateDestination(ctxT(t), d), apperr.Conflict, "CreateDestination with a taken id")
		wantCode(t, s.DeleteDestination(ctxT(t), other.ID, d.ID), apperr.NotFound, "DeleteDestination from another org")
		must(t, s.DeleteDestination(ctxT(t), o.ID, d.ID), "DeleteDestination")
		wantCode(t, s.DeleteDestination(ctxT(t), o.ID, d.ID), apperr.NotFound, "DeleteDestination twice")
		_, err = s.GetDestination(ctxT(t), o.ID, d.ID)
		wantCode(t, err, apperr.NotFound, "GetDestination after delete")
	})

	t.Run("Ordering", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		// A destination written without an ordering (code older than the
		// field) gets best effort, as rows from before the migration do.
		d := store.Destination{ID: newID(t), OrgID: o.ID, Name: "n", Endpoint: "https://x.example.com",
			LogFormat: audit.FormatCEF, CreatedAt: at(0), UpdatedAt: at(0)}
		must(t, s.CreateDestination(ctxT(t), d), "CreateDestination")
		got, err := s.GetDestination(ctxT(t), o.ID, d.ID)
		must(t, err, "GetDestination")
		if got.Ordering != store.OrderingBestEffort {
			t.Fatalf("Ordering = %q, want %q", got.Ordering, store.OrderingBestEffort)
		}
		got.Ordering = store.OrderingStrict
		must(t, s.UpdateDestination(ctxT(t), got), "UpdateDestination")
		if got, _ = s.GetDestination(ctxT(t), o.ID, d.ID); got.Ordering != store.OrderingStrict {
			t.Fatalf("after update Ordering = %q", got.Ordering)
		}
		list, _, err := s.ListDestinations(ctxT(t), o.ID, store.NameFilter{}, store.Page{Size: 10})
		must(t, err, "ListDestinations")
		if len(list) != 1 || list[0].Ordering != store.OrderingStrict {
			t.Fatalf("ListDestinations = %+v", list)
		}
		strict := mkDestination(t, s, o.ID, "strict")
		strict.ID, strict.Ordering = newID(t), store.OrderingStrict
		must(t, s.CreateDestination(ctxT(t), strict), "CreateDestination strict")
		if got, _ = s.GetDestination(ctxT(t), o.ID, strict.ID); !same(got, strict) {
			t.Fatalf("GetDestination = %+v, want %+v", got, strict)
		}
	})

	t.Run("ListExcludesLegacyAndFilters", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		var all []string
		for _, n := range []string{"alpha", "beta", "Gamma", "delta", "epsilon"} {
			all = append(all, mkDestination(t, s, o.ID, n).ID)
		}
		legacy := store.Destination{ID: newID(t), OrgID: o.ID, Name: "legacy", Endpoint: "https://old.example.com",
			LogFormat: audit.FormatCEF, Legacy: true, CreatedAt: at(0), UpdatedAt: at(0)}
		must(t, s.CreateDestination(ctxT(t), legacy), "CreateDestination legacy")
		mkDestination(t, s, other.ID, "alpha")
		list := func(f store.NameFilter, p store.Page) ([]string, bool) {
			got, more, err := s.ListDestinations(ctxT(t), o.ID, f, p)
			must(t, err, "ListDestinations")
			return ids(got, func(d store.Destination) string { return d.ID }), more
		}
		checkPages(t, all, func(p store.Page) ([]string, bool) { return list(store.NameFilter{}, p) })
		if got, err := s.GetDestination(ctxT(t), o.ID, legacy.ID); err != nil || !got.Legacy {
			t.Errorf("a legacy destination is still got by id: %+v %v", got, err)
		}
		cases := []struct {
			name string
			f    store.NameFilter
			p    store.Page
			want []string
			more bool
		}{
			{"eq", store.NameFilter{Eq: "beta"}, store.Page{}, all[1:2], false},
			{"eq is exact", store.NameFilter{Eq: "gamma"}, store.Page{}, []string{}, false},
			{"eq never finds legacy", store.NameFilter{Eq: "legacy"}, store.Page{}, []string{}, false},
			{"contains", store.NameFilter{Contains: "lt"}, store.Page{}, all[3:4], false},
			{"contains any case", store.NameFilter{Contains: "GAM"}, store.Page{}, all[2:3], false},
			{"contains several, paged", store.NameFilter{Contains: "a"}, store.Page{Size: 2}, []string{all[0], all[1]}, true},
			{"contains several, next page", store.NameFilter{Contains: "a"}, store.Page{Size: 2, After: all[1]}, []string{all[2], all[3]}, false},
		}
		for _, c := range cases {
			got, more := list(c.f, c.p)
			if !eqStrings(got, c.want) || more != c.more {
				t.Errorf("%s: %v more=%v, want %v more=%v", c.name, got, more, c.want, c.more)
			}
		}
	})

	t.Run("DeleteIsAConflictWhileAWebhookUsesIt", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		d := mkDestination(t, s, o.ID, "siem")
		st := store.StreamID(o.ID)
		must(t, s.PutWebhook(ctxT(t), store.Webhook{Stream: st, OrgID: o.ID, DestinationID: d.ID, Enabled: false, UpdatedAt: at(0)}), "PutWebhook")
		wantCode(t, s.DeleteDestination(ctxT(t), o.ID, d.ID), apperr.Conflict, "DeleteDestination in use")
		if _, err := s.GetDestination(ctxT(t), o.ID, d.ID); err != nil {
			t.Fatalf("a refused delete removed the destination: %v", err)
		}
		// Pointing the webhook elsewhere frees it.
		must(t, s.PutWebhook(ctxT(t), store.Webhook{Stream: st, OrgID: o.ID, Enabled: false, UpdatedAt: at(time.Second)}), "PutWebhook without destination")
		must(t, s.DeleteDestination(ctxT(t), o.ID, d.ID), "DeleteDestination after the webhook let go")
	})
}
