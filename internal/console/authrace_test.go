package console

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sigtrail/sigtrail/internal/passwd"
	"github.com/sigtrail/sigtrail/internal/store"
)

// raceStore runs fire once, just before the first call of the method named
// at (GetIdentity: authenticate's re-read after the argon2id check;
// ClearIdentityLoginFailures: between that re-read and the grant), as
// another request's commit landing there would.
type raceStore struct {
	store.Store
	mu   sync.Mutex
	at   string
	fire func()
}

func (s *raceStore) maybeFire(method string) {
	s.mu.Lock()
	f := s.fire
	if method != s.at {
		f = nil
	} else {
		s.fire = nil
	}
	s.mu.Unlock()
	if f != nil {
		f()
	}
}

func (s *raceStore) GetIdentity(ctx context.Context, id string) (store.Identity, error) {
	s.maybeFire("GetIdentity")
	return s.Store.GetIdentity(ctx, id)
}

func (s *raceStore) ClearIdentityLoginFailures(ctx context.Context, id string) error {
	s.maybeFire("ClearIdentityLoginFailures")
	return s.Store.ClearIdentityLoginFailures(ctx, id)
}

// TestLogInRacingAPasswordChange: a log-in with the old password, judged
// while the person sets a new one, gets nothing that enters any org or
// outlives the change. In the first case acme's admin chose Vic's password
// and bigcorp added her: the old, acme-only password must not be judged
// with the new password's orgs (all of them).
func TestLogInRacingAPasswordChange(t *testing.T) {
	for _, c := range []struct {
		name, at string
		// failFirst makes one failure beforehand, so the correct
		// password clears it (ClearIdentityLoginFailures is called).
		failFirst bool
	}{
		{"set during the check", "GetIdentity", false},
		{"set between the check and the session", "ClearIdentityLoginFailures", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newTwoOrgs(t)
			const chosen = "chosen by acme admin"
			if err := e.h.createUser(context.Background(), UserSpec{OrgID: e.org.ID, Email: "vic@example.com", Role: store.RoleReadOnly,
				Password: chosen}); err != nil {
				t.Fatal(err)
			}
			bigVic, created, err := CreateUser(context.Background(), e.st, UserSpec{OrgID: e.big.ID, Email: "vic@example.com",
				Role: store.RoleOrgAdmin, Password: "unused password"}, cheapArgon, e.clk.Now())
			if err != nil || created {
				t.Fatal(err, created)
			}
			if c.failFirst {
				if p := e.browser().login("vic@example.com", "wrong"); p.status != 401 {
					t.Fatalf("wrong password: %d %q", p.status, p.location)
				}
			}
			e.h.st = &raceStore{Store: e.st, at: c.at, fire: func() {
				// Vic's own password, set through bigcorp's link, commits now.
				if err := e.st.SetIdentityPassword(context.Background(), bigVic.IdentityID, passwd.Hash("vic's own secret", cheapArgon),
					e.clk.Now()); err != nil {
					t.Error(err)
				}
			}}
			attacker := e.browser()
			if p := attacker.login("vic@example.com", chosen); p.location == "/" || p.location == "/orgs" {
				t.Errorf("the old password, during the change, logged in to %q", p.location)
			}
			for _, path := range []string{"/", "/orgs", "/users"} {
				if p := attacker.get(path); p.status != 303 || !strings.HasPrefix(p.location, "/login") {
					t.Errorf("after the change, the old password's browser got %s: %d %q", path, p.status, p.location)
				}
			}
			if p := attacker.post("/login", "/orgs/"+bigVic.ID, url.Values{}); p.location == "/" {
				t.Errorf("the old password's browser entered bigcorp")
			}
		})
	}
}

// TestSwitchNeedsTheSessionItLeaves: a switch whose session ended while it
// was judged (a log-out in another tab, a new password, a disable) opens
// no session of the other org.
func TestSwitchNeedsTheSessionItLeaves(t *testing.T) {
	e := newTwoOrgs(t)
	acme := e.user("dan@example.com", store.RoleReadOnly)
	big := e.userOf(e.big.ID, "dan@example.com", store.RoleReadOnly)
	dan := e.browser()
	if p := dan.login("dan@example.com", testPassword); p.location != "/orgs" {
		t.Fatalf("log-in: %d to %q", p.status, p.location)
	}
	if p := dan.post("/orgs", "/orgs/"+acme.ID, url.Values{}); p.location != "/" {
		t.Fatalf("choosing acme: %d to %q", p.status, p.location)
	}
	m := csrfField.FindStringSubmatch(dan.get("/orgs").body)
	if m == nil {
		t.Fatal("no CSRF token on /orgs")
	}
	e.h.st = &raceStore{Store: e.st, at: "GetIdentity", fire: func() {
		if err := e.st.DeleteUserSessions(context.Background(), acme.ID); err != nil {
			t.Error(err)
		}
	}}
	if p := dan.post("/orgs", "/orgs/"+big.ID, url.Values{"csrf": {m[1]}}); p.location != "/login" {
		t.Errorf("switching from an ended session: %d to %q, want the log-in page", p.status, p.location)
	}
	if p := dan.get("/"); p.status != 303 {
		t.Errorf("after switching from an ended session, / answered %d", p.status)
	}
}
