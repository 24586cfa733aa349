package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// usersRowOf is the Users page's row of email, as its admin b sees it.
func (b *browser) usersRowOf(email string) string {
	b.e.t.Helper()
	p := b.get("/users")
	if p.status != http.StatusOK {
		b.e.t.Fatalf("Users page: %d", p.status)
	}
	for _, row := range oneRow.FindAllString(p.body, -1) {
		if strings.Contains(row, ">"+email+"<") {
			return row
		}
	}
	b.e.t.Fatalf("no row of %s on the Users page", email)
	return ""
}

// TestUsersPageLockAndUnlock: the Users page shows the lock of a user's
// person (one that began after the user joined the org) with a button that
// clears it, and the unlock clears it only when the person may enter no
// other org: an org that adds an address must not clear the lock that
// guards the person's other orgs.
func TestUsersPageLockAndUnlock(t *testing.T) {
	for _, c := range []struct {
		name string
		// otherOrg adds the person to bigcorp too (disabled: and
		// disables that user).
		otherOrg, otherDisabled bool
		wantCleared             bool
		wantNotice              string
	}{
		{"one org", false, false, true, "The user was changed."},
		{"another org too", true, false, false, "The lockout was not cleared: this person also uses other orgs"},
		{"another org, disabled there", true, true, true, "The user was changed."},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newTwoOrgs(t)
			e.user("admin@acme.example", store.RoleOrgAdmin)
			admin := e.browser()
			if p := admin.login("admin@acme.example", testPassword); p.location != "/" {
				t.Fatalf("admin's log-in: %d to %q", p.status, p.location)
			}
			eve := e.user("eve@example.com", store.RoleReadOnly)
			if c.otherOrg {
				big := e.userOf(e.big.ID, "eve@example.com", store.RoleReadOnly)
				if c.otherDisabled {
					if _, err := e.st.DisableUser(context.Background(), e.big.ID, big.ID, e.clk.Now()); err != nil {
						t.Fatal(err)
					}
				}
			}
			if row := admin.usersRowOf("eve@example.com"); !strings.Contains(row, "active") || strings.Contains(row, "/unlock") {
				t.Fatalf("before the lock: %s", row)
			}
			e.clk.Advance(time.Minute) // the lock begins after she joined
			e.lockOut("eve@example.com")
			if row := admin.usersRowOf("eve@example.com"); !strings.Contains(row, ">locked<") || !strings.Contains(row, "/users/"+eve.ID+"/unlock") {
				t.Fatalf("locked: %s", row)
			}
			bigEntries := len(e.entries(e.big.ID))
			p := admin.post("/users", "/users/"+eve.ID+"/unlock", url.Values{})
			if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/users?m=") {
				t.Fatalf("unlock: %d to %q", p.status, p.location)
			}
			if notice := admin.get(p.location).body; !strings.Contains(notice, c.wantNotice) || strings.Contains(notice, "bigcorp") {
				t.Errorf("after the unlock the page does not say %q (or names the other org)", c.wantNotice)
			}
			id, err := e.st.GetIdentityByEmail(context.Background(), "eve@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if cleared := !e.h.cfg.Lockout.LockedIdentity(id, e.clk.Now()); cleared != c.wantCleared {
				t.Fatalf("cleared %v, want %v", cleared, c.wantCleared)
			}
			if row := admin.usersRowOf("eve@example.com"); strings.Contains(row, ">locked<") == c.wantCleared {
				t.Errorf("after the unlock: %s", row)
			}
			// A clear reaches the person in every org: recorded there too.
			recorded := 0
			for _, s := range e.entries(e.big.ID)[bigEntries:] {
				if s.Entry.Kind == audit.KindAuthorization && s.Entry.Action == audit.ActionEdit {
					recorded++
				}
			}
			if want := map[bool]int{true: 1, false: 0}[c.wantCleared && c.otherOrg]; recorded != want {
				t.Errorf("bigcorp's log has %d edits of the person, want %d", recorded, want)
			}
		})
	}
}

// TestAnotherOrgCannotKeepClearingTheLock: bigcorp's admin adds acme's
// Bob and guesses his password from many clients, unlocking him from
// bigcorp's Users page every four guesses: the lock holds anyway.
func TestAnotherOrgCannotKeepClearingTheLock(t *testing.T) {
	e := newTwoOrgs(t)
	e.user("bob@bigcorp.com", store.RoleOrgAdmin) // acme's Bob, own password
	if p, _ := e.carol.createUser("bob@bigcorp.com", "whatever carol types"); p.status != http.StatusSeeOther {
		t.Fatal(p.status)
	}
	bigBob, err := e.st.GetUserByEmail(context.Background(), e.big.ID, "bob@bigcorp.com")
	if err != nil {
		t.Fatal(err)
	}
	e.h.cfg.RateLimit = store.RateLimit{Burst: -1} // the per-client limit stands for many clients
	guesser := e.browser()
	for i := range 40 {
		ip := fmt.Sprintf("203.0.113.%d", i/8+1)
		if p := guesser.loginFrom(ip, "bob@bigcorp.com", fmt.Sprintf("guess %d", i)); p.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, p.status)
		}
		if i%4 == 3 {
			if p := e.carol.post("/users", "/users/"+bigBob.ID+"/unlock", url.Values{}); p.status != http.StatusSeeOther {
				t.Fatalf("unlock: %d", p.status)
			}
		}
	}
	// The 41st guess is the right one, from a browser Bob never used.
	if p := e.browser().loginFrom("203.0.113.99", "bob@bigcorp.com", testPassword); p.status != http.StatusUnauthorized {
		t.Errorf("the lock did not hold: the guesser's right password answered %d to %q", p.status, p.location)
	}
}
