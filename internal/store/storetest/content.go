package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testPortalContent(t *testing.T, b Backend) {
	open := b.Open
	t.Run("Labels", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		p := mkPortal(t, s, o.ID)
		p.Labels = map[string]string{"KONGCTL-namespace": "default", "env": "prod"}
		p.UpdatedAt = at(time.Hour)
		must(t, s.UpdatePortal(ctxT(t), p), "UpdatePortal with labels")
		got, err := s.GetPortal(ctxT(t), o.ID, p.ID)
		must(t, err, "GetPortal")
		if !same(got.Labels, p.Labels) {
			t.Fatalf("labels %v, want %v", got.Labels, p.Labels)
		}
		list, _, err := s.ListPortals(ctxT(t), o.ID, store.NameFilter{}, store.Page{Size: 10})
		must(t, err, "ListPortals")
		if len(list) != 1 || !same(list[0].Labels, p.Labels) {
			t.Fatalf("listed %+v", list)
		}
		p.Labels = nil
		must(t, s.UpdatePortal(ctxT(t), p), "UpdatePortal without labels")
		got, _ = s.GetPortal(ctxT(t), o.ID, p.ID)
		if len(got.Labels) != 0 {
			t.Fatalf("labels left: %v", got.Labels)
		}
		created := store.Portal{ID: newID(t), OrgID: o.ID, Name: "labelled", DefaultDomain: "labelled.example",
			Labels: map[string]string{"team": "a"}, CreatedAt: at(0), UpdatedAt: at(0)}
		must(t, s.CreatePortal(ctxT(t), created), "CreatePortal with labels")
		got, _ = s.GetPortal(ctxT(t), o.ID, created.ID)
		if got.Labels["team"] != "a" {
			t.Fatalf("created labels %v", got.Labels)
		}
	})

	t.Run("PageTree", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		p, q := mkPortal(t, s, o.ID), mkPortal(t, s, o.ID)
		a := mkPage(t, s, p.ID, "", "a")
		b := mkPage(t, s, p.ID, "", "b")
		c := mkPage(t, s, p.ID, "", "c")
		a1 := mkPage(t, s, p.ID, a.ID, "a1")
		a2 := mkPage(t, s, p.ID, a.ID, "a2")
		mkPage(t, s, q.ID, "", "a") // the same slug in another portal

		got, err := s.GetPortalPage(ctxT(t), p.ID, a2.ID)
		must(t, err, "GetPortalPage")
		if !same(got, a2) {
			t.Fatalf("GetPortalPage = %+v, want %+v", got, a2)
		}
		_, err = s.GetPortalPage(ctxT(t), q.ID, a2.ID)
		wantCode(t, err, apperr.NotFound, "GetPortalPage through another portal")
		checkOrder(t, s, p.ID, "", a.ID, b.ID, c.ID)
		checkOrder(t, s, p.ID, a.ID, a1.ID, a2.ID)

		dup := store.PortalPage{ID: newID(t), PortalID: p.ID, Slug: "b", Title: "x", Visibility: store.VisibilityPublic,
			Status: store.StatusPublished, CreatedAt: at(0), UpdatedAt: at(0)}
		wantCode(t, s.CreatePortalPage(ctxT(t), dup), apperr.Conflict, "CreatePortalPage with a sibling's slug")
		dup.ParentID = a.ID
		must(t, s.CreatePortalPage(ctxT(t), dup), "CreatePortalPage with that slug under another parent")
		must(t, s.DeletePortalPage(ctxT(t), p.ID, dup.ID), "DeletePortalPage")
		orphan := dup
		orphan.ID, orphan.ParentID, orphan.Slug = newID(t), q.ID, "o"
		wantCode(t, s.CreatePortalPage(ctxT(t), orphan), apperr.NotFound, "CreatePortalPage under an unknown parent")
		orphan.ParentID, orphan.PortalID = "", newID(t)
		wantCode(t, s.CreatePortalPage(ctxT(t), orphan), apperr.NotFound, "CreatePortalPage in an unknown portal")

		// Move: first, last, into another parent, backwards from the end.
		must(t, s.MovePortalPage(ctxT(t), p.ID, c.ID, "", 0), "move c first")
		checkOrder(t, s, p.ID, "", c.ID, a.ID, b.ID)
		must(t, s.MovePortalPage(ctxT(t), p.ID, c.ID, "", -1), "move c last")
		checkOrder(t, s, p.ID, "", a.ID, b.ID, c.ID)
		must(t, s.MovePortalPage(ctxT(t), p.ID, b.ID, a.ID, 1), "move b under a")
		checkOrder(t, s, p.ID, "", a.ID, c.ID)
		checkOrder(t, s, p.ID, a.ID, a1.ID, b.ID, a2.ID)
		must(t, s.MovePortalPage(ctxT(t), p.ID, a2.ID, a.ID, 99), "move a2 past the end")
		checkOrder(t, s, p.ID, a.ID, a1.ID, b.ID, a2.ID)
		wantCode(t, s.MovePortalPage(ctxT(t), p.ID, a.ID, b.ID, 0), apperr.Invalid, "move a under its own child")
		wantCode(t, s.MovePortalPage(ctxT(t), p.ID, a.ID, a.ID, 0), apperr.Invalid, "move a under itself")
		wantCode(t, s.MovePortalPage(ctxT(t), q.ID, a.ID, "", 0), apperr.NotFound, "move through another portal")

		// Update: fields, then a new parent puts it last there.
		a1.Title, a1.Content, a1.Visibility, a1.Status, a1.UpdatedAt = "A one", "# A1", store.VisibilityPrivate, store.StatusUnpublished, at(time.Hour)
		must(t, s.UpdatePortalPage(ctxT(t), a1), "UpdatePortalPage")
		got, _ = s.GetPortalPage(ctxT(t), p.ID, a1.ID)
		if !same(got, a1) {
			t.Fatalf("after UpdatePortalPage: %+v, want %+v", got, a1)
		}
		a1.ParentID = ""
		must(t, s.UpdatePortalPage(ctxT(t), a1), "UpdatePortalPage to the top")
		checkOrder(t, s, p.ID, "", a.ID, c.ID, a1.ID)
		checkOrder(t, s, p.ID, a.ID, b.ID, a2.ID)
		a1.Slug = "c"
		wantCode(t, s.UpdatePortalPage(ctxT(t), a1), apperr.Conflict, "UpdatePortalPage to a sibling's slug")
		a.ParentID = a2.ID
		wantCode(t, s.UpdatePortalPage(ctxT(t), a), apperr.Invalid, "UpdatePortalPage under a descendant")
		unknown := a1
		unknown.ID = newID(t)
		wantCode(t, s.UpdatePortalPage(ctxT(t), unknown), apperr.NotFound, "UpdatePortalPage unknown")

		// Delete takes the subtree and closes the gap.
		must(t, s.DeletePortalPage(ctxT(t), p.ID, a.ID), "DeletePortalPage a")
		all, err := s.ListPortalPages(ctxT(t), p.ID)
		must(t, err, "ListPortalPages")
		if ids := ids(all, func(p store.PortalPage) string { return p.ID }); !slices.Equal(ids, []string{c.ID, a1.ID}) {
			t.Fatalf("after delete: %v", ids)
		}
		checkOrder(t, s, p.ID, "", c.ID, a1.ID)
		wantCode(t, s.DeletePortalPage(ctxT(t), p.ID, a.ID), apperr.NotFound, "DeletePortalPage again")

		// Deleting the portal takes its pages.
		must(t, s.DeletePortal(ctxT(t), o.ID, p.ID), "DeletePortal")
		left, err := s.ListPortalPages(ctxT(t), p.ID)
		must(t, err, "ListPortalPages of a deleted portal")
		if len(left) != 0 {
			t.Fatalf("pages outlived their portal: %d", len(left))
		}
	})

	t.Run("PageOrderTwoReplicas", func(t *testing.T) {
		t.Parallel()
		a, b := b.OpenPair(t)
		o := mkOrg(t, a)
		p := mkPortal(t, a, o.ID)
		top := mkPage(t, a, p.ID, "", "top")
		// Replicas add and move pages under one parent at once: positions
		// stay dense and unique.
		ids := make([]string, 16)
		race(a, b, 8, func(s store.Store, i int) {
			pg := store.PortalPage{ID: newID(t), PortalID: p.ID, ParentID: top.ID, Slug: "p" + string(rune('a'+i)), Title: "t",
				Visibility: store.VisibilityPublic, Status: store.StatusPublished, CreatedAt: at(0), UpdatedAt: at(0)}
			if err := s.CreatePortalPage(ctxT(t), pg); err != nil {
				t.Errorf("CreatePortalPage %d: %v", i, err)
				return
			}
			ids[i] = pg.ID
			if err := s.MovePortalPage(ctxT(t), p.ID, pg.ID, top.ID, 0); err != nil {
				t.Errorf("MovePortalPage %d: %v", i, err)
			}
		})
		all, err := a.ListPortalPages(ctxT(t), p.ID)
		must(t, err, "ListPortalPages")
		seen := map[int]bool{}
		for _, pg := range all {
			if pg.ParentID != top.ID {
				continue
			}
			if seen[pg.Position] || pg.Position < 0 || pg.Position >= 16 {
				t.Fatalf("position %d twice or out of range: %+v", pg.Position, all)
			}
			seen[pg.Position] = true
		}
		if len(seen) != 16 {
			t.Fatalf("%d pages under top, want 16", len(seen))
		}
	})

	t.Run("Snippets", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		p, q := mkPortal(t, s, o.ID), mkPortal(t, s, o.ID)
		mk := func(portalID, name string) store.PortalSnippet {
			sn := store.PortalSnippet{ID: newID(t), PortalID: portalID, Name: name, Title: "T " + name, Description: "d",
				Content: "**" + name + "**", Visibility: store.VisibilityPublic, Status: store.StatusPublished, CreatedAt: at(0), UpdatedAt: at(0)}
			must(t, s.CreatePortalSnippet(ctxT(t), sn), "CreatePortalSnippet "+name)
			return sn
		}
		x, y := mk(p.ID, "x"), mk(p.ID, "y")
		mk(q.ID, "x")
		dup := x
		dup.ID = newID(t)
		wantCode(t, s.CreatePortalSnippet(ctxT(t), dup), apperr.Conflict, "CreatePortalSnippet with a taken name")
		dup.PortalID = newID(t)
		wantCode(t, s.CreatePortalSnippet(ctxT(t), dup), apperr.NotFound, "CreatePortalSnippet in an unknown portal")
		got, err := s.GetPortalSnippet(ctxT(t), p.ID, x.ID)
		must(t, err, "GetPortalSnippet")
		if !same(got, x) {
			t.Fatalf("GetPortalSnippet = %+v, want %+v", got, x)
		}
		_, err = s.GetPortalSnippet(ctxT(t), q.ID, x.ID)
		wantCode(t, err, apperr.NotFound, "GetPortalSnippet through another portal")
		list, err := s.ListPortalSnippets(ctxT(t), p.ID)
		must(t, err, "ListPortalSnippets")
		if l := ids(list, func(s store.PortalSnippet) string { return s.ID }); !slices.Equal(l, []string{x.ID, y.ID}) {
			t.Fatalf("ListPortalSnippets = %v", l)
		}
		x.Title, x.Content, x.Visibility, x.Status, x.UpdatedAt = "new", "_new_", store.VisibilityPrivate, store.StatusUnpublished, at(time.Hour)
		must(t, s.UpdatePortalSnippet(ctxT(t), x), "UpdatePortalSnippet")
		got, _ = s.GetPortalSnippet(ctxT(t), p.ID, x.ID)
		if !same(got, x) {
			t.Fatalf("after UpdatePortalSnippet: %+v, want %+v", got, x)
		}
		x.Name = "y"
		wantCode(t, s.UpdatePortalSnippet(ctxT(t), x), apperr.Conflict, "UpdatePortalSnippet to a taken name")
		x.Name, x.PortalID = "x", q.ID
		wantCode(t, s.UpdatePortalSnippet(ctxT(t), x), apperr.NotFound, "UpdatePortalSnippet through another portal")
		must(t, s.DeletePortalSnippet(ctxT(t), p.ID, y.ID), "DeletePortalSnippet")
		wantCode(t, s.DeletePortalSnippet(ctxT(t), p.ID, y.ID), apperr.NotFound, "DeletePortalSnippet again")
	})

	t.Run("Customization", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		p := mkPortal(t, s, o.ID)
		_, err := s.GetPortalCustomization(ctxT(t), p.ID)
		wantCode(t, err, apperr.NotFound, "GetPortalCustomization before any")
		str := func(v string) *string { return &v }
		yes := true
		c := store.PortalCustomization{
			Theme:  &store.Theme{Name: str("mint_rocket"), Mode: str("dark"), Colors: &store.ThemeColors{Primary: str("#123abc")}},
			Layout: str("topnav"), CSS: str(""),
			Menu: &store.Menus{
				Main:           []store.MenuItem{{Path: "/guides", Title: "Guides", Visibility: "private"}},
				FooterSections: []store.FooterMenuSection{{Title: "About", Items: []store.MenuItem{{Path: "https://example.com", Title: "Us", Visibility: "public", External: true}}}},
			},
			SpecRenderer: &store.SpecRenderer{TryItUI: &yes},
		}
		must(t, s.PutPortalCustomization(ctxT(t), p.ID, c), "PutPortalCustomization")
		got, err := s.GetPortalCustomization(ctxT(t), p.ID)
		must(t, err, "GetPortalCustomization")
		if *got.Theme.Colors.Primary != "#123abc" || *got.CSS != "" || got.Robots != nil || got.Menu.Main[0].Path != "/guides" ||
			!got.Menu.FooterSections[0].Items[0].External || !*got.SpecRenderer.TryItUI || got.SpecRenderer.HideInternal != nil {
			t.Fatalf("GetPortalCustomization = %+v", got)
		}
		c.Layout, c.Menu = str("sidebar"), nil
		must(t, s.PutPortalCustomization(ctxT(t), p.ID, c), "PutPortalCustomization again")
		got, _ = s.GetPortalCustomization(ctxT(t), p.ID)
		if *got.Layout != "sidebar" || got.Menu != nil {
			t.Fatalf("replaced: %+v", got)
		}
		wantCode(t, s.PutPortalCustomization(ctxT(t), newID(t), c), apperr.NotFound, "PutPortalCustomization of an unknown portal")
	})
}

func mkPage(t *testing.T, s store.Store, portalID, parent, slug string) store.PortalPage {
	t.Helper()
	p := store.PortalPage{ID: newID(t), PortalID: portalID, ParentID: parent, Slug: slug, Title: "Page " + slug,
		Description: "about " + slug, Content: "# " + slug, Visibility: store.VisibilityPublic, Status: store.StatusPublished,
		CreatedAt: at(time.Second), UpdatedAt: at(2 * time.Second)}
	must(t, s.CreatePortalPage(ctxT(t), p), "CreatePortalPage "+slug)
	got, err := s.GetPortalPage(ctxT(t), portalID, p.ID)
	must(t, err, "GetPortalPage "+slug)
	p.Position = got.Position
	return p
}

// checkOrder checks the pages under parent, in order, with dense positions.
func checkOrder(t *testing.T, s store.Store, portalID, parent string, want ...string) {
	t.Helper()
	all, err := s.ListPortalPages(ctxT(t), portalID)
	must(t, err, "ListPortalPages")
	var got []string
	for _, p := range all {
		if p.ParentID == parent {
			if p.Position != len(got) {
				t.Fatalf("page %s under %q has position %d, want %d", p.Slug, parent, p.Position, len(got))
			}
			got = append(got, p.ID)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages under %q: %v, want %v", parent, got, want)
	}
}
