package storetest

import (
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testTenancy(t *testing.T, b Backend) {
	open := b.Open
	t.Run("Orgs", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a := mkOrg(t, s)
		b := mkOrg(t, s)
		got, err := s.GetOrg(ctxT(t), a.ID)
		must(t, err, "GetOrg")
		if !same(got, a) {
			t.Errorf("GetOrg = %+v, want %+v", got, a)
		}
		got, err = s.GetOrgByName(ctxT(t), b.Name)
		must(t, err, "GetOrgByName")
		if !same(got, b) {
			t.Errorf("GetOrgByName = %+v, want %+v", got, b)
		}
		list, err := s.ListOrgs(ctxT(t))
		must(t, err, "ListOrgs")
		if !same(list, []store.Org{a, b}) {
			t.Errorf("ListOrgs = %+v", list)
		}
		cases := []struct {
			name string
			err  error
			code apperr.Code
		}{
			{"taken name", s.CreateOrg(ctxT(t), store.Org{ID: newID(t), Name: a.Name, CreatedAt: at(0)}), apperr.Conflict},
			{"taken id", s.CreateOrg(ctxT(t), store.Org{ID: a.ID, Name: "other", CreatedAt: at(0)}), apperr.Conflict},
			{"unknown id", func() error { _, err := s.GetOrg(ctxT(t), newID(t)); return err }(), apperr.NotFound},
			{"unknown name", func() error { _, err := s.GetOrgByName(ctxT(t), "nope"); return err }(), apperr.NotFound},
		}
		for _, c := range cases {
			wantCode(t, c.err, c.code, c.name)
		}
	})

	t.Run("Tokens", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a, b := mkOrg(t, s), mkOrg(t, s)
		ta := store.Token{ID: newID(t), OrgID: a.ID, Name: "ci", Role: store.RoleOrgAdmin, Hash: []byte("hash-a"),
			CreatedAt: at(0), ExpiresAt: at(24 * time.Hour)}
		tb := store.Token{ID: newID(t), OrgID: b.ID, Name: "bot", Role: store.RoleProducer, Hash: []byte("hash-b"),
			System: true, CreatedAt: at(time.Second)}
		must(t, s.CreateToken(ctxT(t), ta), "CreateToken")
		must(t, s.CreateToken(ctxT(t), tb), "CreateToken")
		for _, want := range []store.Token{ta, tb} {
			got, err := s.GetTokenByHash(ctxT(t), want.Hash)
			must(t, err, "GetTokenByHash")
			if !same(got, want) {
				t.Errorf("GetTokenByHash = %+v, want %+v", got, want)
			}
		}
		list, err := s.ListTokens(ctxT(t), a.ID)
		must(t, err, "ListTokens")
		if len(list) != 1 || !same(list[0], ta) {
			t.Errorf("ListTokens(a) = %+v, want only %s", list, ta.ID)
		}
		_, err = s.GetTokenByHash(ctxT(t), []byte("nope"))
		wantCode(t, err, apperr.NotFound, "GetTokenByHash unknown")
		wantCode(t, s.CreateToken(ctxT(t), store.Token{ID: newID(t), OrgID: a.ID, Role: store.RoleReadOnly, Hash: ta.Hash, CreatedAt: at(0)}),
			apperr.Conflict, "CreateToken with a taken hash")
		wantCode(t, s.DeleteToken(ctxT(t), a.ID, tb.ID), apperr.NotFound, "DeleteToken of another org's token")
		if _, err := s.GetTokenByHash(ctxT(t), tb.Hash); err != nil {
			t.Fatalf("another org deleted b's token: %v", err)
		}
		must(t, s.DeleteToken(ctxT(t), a.ID, ta.ID), "DeleteToken")
		wantCode(t, s.DeleteToken(ctxT(t), a.ID, ta.ID), apperr.NotFound, "DeleteToken twice")
		_, err = s.GetTokenByHash(ctxT(t), ta.Hash)
		wantCode(t, err, apperr.NotFound, "GetTokenByHash after delete")
	})
}
