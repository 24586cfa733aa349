package storetest

import (
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func mkIdP(t *testing.T, s store.Store, p store.Portal, typ string) store.IdentityProvider {
	t.Helper()
	idp := store.IdentityProvider{ID: newID(t), PortalID: p.ID, OrgID: p.OrgID, Type: typ, Enabled: true,
		IssuerURL: "https://idp.example.com/" + typ, ClientID: "client", ClientSecret: "s3cret",
		Scopes: []string{"openid", "email"}, ClaimName: "name", ClaimEmail: "email", ClaimGroups: "groups",
		CreatedAt: at(0), UpdatedAt: at(0)}
	must(t, s.CreateIdentityProvider(ctxT(t), idp), "CreateIdentityProvider")
	return idp
}

func mkTeam(t *testing.T, s store.Store, p store.Portal, name string, d time.Duration) store.Team {
	t.Helper()
	tm := store.Team{ID: newID(t), PortalID: p.ID, OrgID: p.OrgID, Name: name, Description: name + " team",
		CreatedAt: at(d), UpdatedAt: at(d)}
	must(t, s.CreateTeam(ctxT(t), tm), "CreateTeam "+name)
	return tm
}

func testPortalAuth(t *testing.T, b Backend) {
	t.Run("Settings", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		p := mkPortal(t, s, mkOrg(t, s).ID)
		got, err := s.GetAuthSettings(ctxT(t), p.ID)
		must(t, err, "GetAuthSettings of a portal never configured")
		if got != store.DefaultAuthSettings(p.ID) {
			t.Fatalf("defaults %+v", got)
		}
		a := store.AuthSettings{PortalID: p.ID, BasicAuthEnabled: false, IDPMappingEnabled: true, SSOSignUpEnabled: false, UpdatedAt: at(time.Hour)}
		must(t, s.PutAuthSettings(ctxT(t), a), "PutAuthSettings")
		got, _ = s.GetAuthSettings(ctxT(t), p.ID)
		if !same(got, a) {
			t.Fatalf("GetAuthSettings = %+v, want %+v", got, a)
		}
		a.BasicAuthEnabled, a.UpdatedAt = true, at(2*time.Hour)
		must(t, s.PutAuthSettings(ctxT(t), a), "PutAuthSettings again")
		if got, _ = s.GetAuthSettings(ctxT(t), p.ID); !same(got, a) {
			t.Fatalf("after replace %+v, want %+v", got, a)
		}
		wantCode(t, s.PutAuthSettings(ctxT(t), store.AuthSettings{PortalID: newID(t)}), apperr.NotFound, "PutAuthSettings of an unknown portal")
		must(t, s.DeletePortal(ctxT(t), p.OrgID, p.ID), "DeletePortal")
		if got, _ = s.GetAuthSettings(ctxT(t), p.ID); got != store.DefaultAuthSettings(p.ID) {
			t.Fatalf("settings outlived their portal: %+v", got)
		}
	})
	t.Run("IdentityProviders", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o := mkOrg(t, s)
		p, q := mkPortal(t, s, o.ID), mkPortal(t, s, o.ID)
		oidc := mkIdP(t, s, p, store.IdPTypeOIDC)
		got, err := s.GetIdentityProvider(ctxT(t), p.ID, oidc.ID)
		must(t, err, "GetIdentityProvider")
		if !same(got, oidc) {
			t.Fatalf("GetIdentityProvider = %+v, want %+v", got, oidc)
		}
		_, err = s.GetIdentityProvider(ctxT(t), q.ID, oidc.ID)
		wantCode(t, err, apperr.NotFound, "GetIdentityProvider through another portal")
		dup := oidc
		dup.ID = newID(t)
		wantCode(t, s.CreateIdentityProvider(ctxT(t), dup), apperr.Conflict, "a second OIDC provider")
		saml := mkIdP(t, s, p, store.IdPTypeSAML)
		mkIdP(t, s, q, store.IdPTypeOIDC)
		list, err := s.ListIdentityProviders(ctxT(t), p.ID)
		must(t, err, "ListIdentityProviders")
		if len(list) != 2 || list[0].ID != oidc.ID || list[1].ID != saml.ID {
			t.Fatalf("ListIdentityProviders = %v", ids(list, func(i store.IdentityProvider) string { return i.ID }))
		}
		oidc.Enabled, oidc.ClientSecret, oidc.Scopes, oidc.ClaimGroups, oidc.UpdatedAt = false, "new", []string{"openid"}, "roles", at(time.Hour)
		must(t, s.UpdateIdentityProvider(ctxT(t), oidc), "UpdateIdentityProvider")
		if got, _ = s.GetIdentityProvider(ctxT(t), p.ID, oidc.ID); !same(got, oidc) {
			t.Fatalf("after update %+v, want %+v", got, oidc)
		}
		moved := oidc
		moved.PortalID = q.ID
		wantCode(t, s.UpdateIdentityProvider(ctxT(t), moved), apperr.NotFound, "UpdateIdentityProvider through another portal")
		wantCode(t, s.DeleteIdentityProvider(ctxT(t), q.ID, oidc.ID), apperr.NotFound, "DeleteIdentityProvider through another portal")
		wantCode(t, s.CreateIdentityProvider(ctxT(t), store.IdentityProvider{ID: newID(t), PortalID: newID(t), Type: "oidc"}), apperr.NotFound, "a provider of an unknown portal")
		must(t, s.DeleteIdentityProvider(ctxT(t), p.ID, oidc.ID), "DeleteIdentityProvider")
		wantCode(t, s.DeleteIdentityProvider(ctxT(t), p.ID, oidc.ID), apperr.NotFound, "DeleteIdentityProvider twice")
	})
	t.Run("TeamGroupMappings", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o := mkOrg(t, s)
		p, q := mkPortal(t, s, o.ID), mkPortal(t, s, o.ID)
		idp := mkIdP(t, s, p, store.IdPTypeOIDC)
		qIdP := mkIdP(t, s, q, store.IdPTypeOIDC)
		eng, ops := mkTeam(t, s, p, "eng", 0), mkTeam(t, s, p, "ops", time.Second)
		qTeam := mkTeam(t, s, q, "eng", 0)
		mk := func(team store.Team, group string, d time.Duration) store.TeamGroupMapping {
			return store.TeamGroupMapping{ID: newID(t), PortalID: p.ID, IdPID: idp.ID, TeamID: team.ID, Group: group, CreatedAt: at(d), UpdatedAt: at(d)}
		}
		m1, m2, m3 := mk(eng, "Engineers", 0), mk(eng, "Leads", time.Second), mk(ops, "Engineers", 2*time.Second)
		for _, m := range []store.TeamGroupMapping{m1, m2, m3} {
			must(t, s.CreateTeamGroupMapping(ctxT(t), m), "CreateTeamGroupMapping "+m.Group)
		}
		dup := m1
		dup.ID = newID(t)
		wantCode(t, s.CreateTeamGroupMapping(ctxT(t), dup), apperr.Conflict, "the same team and group twice")
		foreign := mk(qTeam, "X", 0)
		wantCode(t, s.CreateTeamGroupMapping(ctxT(t), foreign), apperr.NotFound, "a mapping to another portal's team")
		foreign = mk(eng, "X", 0)
		foreign.IdPID = qIdP.ID
		wantCode(t, s.CreateTeamGroupMapping(ctxT(t), foreign), apperr.NotFound, "a mapping of another portal's provider")
		got, err := s.GetTeamGroupMapping(ctxT(t), p.ID, idp.ID, m2.ID)
		must(t, err, "GetTeamGroupMapping")
		if !same(got, m2) {
			t.Fatalf("GetTeamGroupMapping = %+v, want %+v", got, m2)
		}
		_, err = s.GetTeamGroupMapping(ctxT(t), q.ID, idp.ID, m2.ID)
		wantCode(t, err, apperr.NotFound, "GetTeamGroupMapping through another portal")
		list, err := s.ListTeamGroupMappings(ctxT(t), p.ID, idp.ID)
		must(t, err, "ListTeamGroupMappings")
		if len(list) != 3 || list[0].ID != m1.ID || list[2].ID != m3.ID {
			t.Fatalf("ListTeamGroupMappings = %+v", list)
		}
		// A team's mappings go with it; a provider's go with it.
		must(t, s.DeleteTeam(ctxT(t), p.ID, ops.ID), "DeleteTeam")
		if list, _ = s.ListTeamGroupMappings(ctxT(t), p.ID, idp.ID); len(list) != 2 {
			t.Fatalf("after deleting a team: %d mappings, want 2", len(list))
		}
		must(t, s.DeleteTeamGroupMapping(ctxT(t), p.ID, idp.ID, m1.ID), "DeleteTeamGroupMapping")
		wantCode(t, s.DeleteTeamGroupMapping(ctxT(t), p.ID, idp.ID, m1.ID), apperr.NotFound, "DeleteTeamGroupMapping twice")
		must(t, s.DeleteIdentityProvider(ctxT(t), p.ID, idp.ID), "DeleteIdentityProvider")
		if list, _ = s.ListTeamGroupMappings(ctxT(t), p.ID, idp.ID); len(list) != 0 {
			t.Fatalf("mappings outlived their provider: %+v", list)
		}
	})
}

func testTeams(t *testing.T, b Backend) {
	t.Run("Teams", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o := mkOrg(t, s)
		p, q := mkPortal(t, s, o.ID), mkPortal(t, s, o.ID)
		a := mkTeam(t, s, p, "Partners", 0)
		bt := mkTeam(t, s, p, "Internal", time.Second)
		mkTeam(t, s, q, "Partners", 0) // names are per portal
		got, err := s.GetTeam(ctxT(t), p.ID, a.ID)
		must(t, err, "GetTeam")
		if !same(got, a) {
			t.Fatalf("GetTeam = %+v, want %+v", got, a)
		}
		_, err = s.GetTeam(ctxT(t), q.ID, a.ID)
		wantCode(t, err, apperr.NotFound, "GetTeam through another portal")
		dup := a
		dup.ID = newID(t)
		wantCode(t, s.CreateTeam(ctxT(t), dup), apperr.Conflict, "CreateTeam with a taken name")
		list, err := s.ListTeams(ctxT(t), p.ID)
		must(t, err, "ListTeams")
		if len(list) != 2 || list[0].ID != a.ID || list[1].ID != bt.ID {
			t.Fatalf("ListTeams = %+v", list)
		}
		a.Name, a.Description, a.CanOwnApplications, a.UpdatedAt = "Partner APIs", "", true, at(time.Hour)
		must(t, s.UpdateTeam(ctxT(t), a), "UpdateTeam")
		if got, _ = s.GetTeam(ctxT(t), p.ID, a.ID); !same(got, a) {
			t.Fatalf("after UpdateTeam %+v, want %+v", got, a)
		}
		a.Name = "Internal"
		wantCode(t, s.UpdateTeam(ctxT(t), a), apperr.Conflict, "UpdateTeam to a taken name")
		wantCode(t, s.DeleteTeam(ctxT(t), q.ID, a.ID), apperr.NotFound, "DeleteTeam through another portal")
		must(t, s.DeleteTeam(ctxT(t), p.ID, a.ID), "DeleteTeam")
		wantCode(t, s.DeleteTeam(ctxT(t), p.ID, a.ID), apperr.NotFound, "DeleteTeam twice")
	})
	t.Run("Members", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o := mkOrg(t, s)
		p, q := mkPortal(t, s, o.ID), mkPortal(t, s, o.ID)
		a, c := mkTeam(t, s, p, "a", 0), mkTeam(t, s, p, "c", time.Second)
		qt := mkTeam(t, s, q, "q", 0)
		ada, bob := mkDeveloper(t, s, p, "ada@example.com"), mkDeveloper(t, s, p, "bob@example.com")
		stranger := mkDeveloper(t, s, q, "eve@example.com")
		must(t, s.AddTeamDeveloper(ctxT(t), p.ID, a.ID, ada.ID, at(0)), "AddTeamDeveloper")
		must(t, s.AddTeamDeveloper(ctxT(t), p.ID, a.ID, bob.ID, at(0)), "AddTeamDeveloper bob")
		must(t, s.AddTeamDeveloper(ctxT(t), p.ID, c.ID, ada.ID, at(0)), "AddTeamDeveloper to c")
		wantCode(t, s.AddTeamDeveloper(ctxT(t), p.ID, a.ID, ada.ID, at(0)), apperr.Conflict, "AddTeamDeveloper twice")
		wantCode(t, s.AddTeamDeveloper(ctxT(t), p.ID, a.ID, stranger.ID, at(0)), apperr.NotFound, "a developer of another portal")
		wantCode(t, s.AddTeamDeveloper(ctxT(t), p.ID, qt.ID, ada.ID, at(0)), apperr.NotFound, "a team of another portal")
		devs, err := s.ListTeamDevelopers(ctxT(t), p.ID, a.ID)
		must(t, err, "ListTeamDevelopers")
		if len(devs) != 2 || devs[0].ID != ada.ID || devs[1].ID != bob.ID || !same(devs[0], ada) {
			t.Fatalf("ListTeamDevelopers = %+v", devs)
		}
		if devs, _ = s.ListTeamDevelopers(ctxT(t), q.ID, a.ID); len(devs) != 0 {
			t.Fatalf("ListTeamDevelopers through another portal = %+v", devs)
		}
		teams, err := s.ListDeveloperTeams(ctxT(t), p.ID, ada.ID)
		must(t, err, "ListDeveloperTeams")
		if len(teams) != 2 || teams[0].ID != a.ID || teams[1].ID != c.ID {
			t.Fatalf("ListDeveloperTeams = %+v", teams)
		}
		wantCode(t, s.RemoveTeamDeveloper(ctxT(t), q.ID, a.ID, bob.ID), apperr.NotFound, "RemoveTeamDeveloper through another portal")
		must(t, s.RemoveTeamDeveloper(ctxT(t), p.ID, a.ID, bob.ID), "RemoveTeamDeveloper")
		wantCode(t, s.RemoveTeamDeveloper(ctxT(t), p.ID, a.ID, bob.ID), apperr.NotFound, "RemoveTeamDeveloper twice")

		// SetDeveloperTeams replaces; teams of other portals are ignored.
		must(t, s.SetDeveloperTeams(ctxT(t), p.ID, ada.ID, []string{c.ID, qt.ID, newID(t)}, at(time.Hour)), "SetDeveloperTeams")
		if teams, _ = s.ListDeveloperTeams(ctxT(t), p.ID, ada.ID); len(teams) != 1 || teams[0].ID != c.ID {
			t.Fatalf("after SetDeveloperTeams: %+v", teams)
		}
		if devs, _ = s.ListTeamDevelopers(ctxT(t), q.ID, qt.ID); len(devs) != 0 {
			t.Fatalf("another portal's team gained members: %+v", devs)
		}
		must(t, s.SetDeveloperTeams(ctxT(t), p.ID, ada.ID, nil, at(time.Hour)), "SetDeveloperTeams to none")
		if teams, _ = s.ListDeveloperTeams(ctxT(t), p.ID, ada.ID); len(teams) != 0 {
			t.Fatalf("after SetDeveloperTeams(nil): %+v", teams)
		}
		wantCode(t, s.SetDeveloperTeams(ctxT(t), p.ID, stranger.ID, []string{a.ID}, at(0)), apperr.NotFound, "SetDeveloperTeams of another portal's developer")

		// Memberships go with the developer and with the team.
		must(t, s.AddTeamDeveloper(ctxT(t), p.ID, a.ID, bob.ID, at(0)), "AddTeamDeveloper again")
		must(t, s.DeleteDeveloper(ctxT(t), p.ID, bob.ID), "DeleteDeveloper")
		if devs, _ = s.ListTeamDevelopers(ctxT(t), p.ID, a.ID); len(devs) != 0 {
			t.Fatalf("a deleted developer is still a member: %+v", devs)
		}
		must(t, s.AddTeamDeveloper(ctxT(t), p.ID, a.ID, ada.ID, at(0)), "AddTeamDeveloper ada")
		must(t, s.DeleteTeam(ctxT(t), p.ID, a.ID), "DeleteTeam")
		if teams, _ = s.ListDeveloperTeams(ctxT(t), p.ID, ada.ID); len(teams) != 0 {
			t.Fatalf("a deleted team still has members: %+v", teams)
		}
	})
}
