package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
	"github.com/sigtrail/sigtrail/internal/webform"
)

// twoOrgs is an env with a second org, bigcorp, whose admin Carol is
// logged in on a browser.
type twoOrgs struct {
	*env
	big   store.Org
	carol *browser
}

func newTwoOrgs(t *testing.T) twoOrgs {
	t.Helper()
	e := newEnv(t, Config{})
	big, err := tenancy.New(e.st, e.clk).CreateOrg(context.Background(), "bigcorp")
	if err != nil {
		t.Fatal(err)
	}
	e.userOf(big.ID, "carol@bigcorp.com", store.RoleOrgAdmin)
	carol := e.browser()
	if p := carol.login("carol@bigcorp.com", testPassword); p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("Carol's log-in: %d to %q", p.status, p.location)
	}
	return twoOrgs{env: e, big: big, carol: carol}
}

// userRows are the Users page's rows; uuids are the ids in them.
var (
	userRows = regexp.MustCompile(`<tbody>[\s\S]*</tbody>`)
	oneRow   = regexp.MustCompile(`<tr>(?:[^<]|<[^/]|</[^t]|</t[^r])*</tr>`)
	uuids    = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// createUser posts the Users page's form and follows its redirect: the
// answer, and the page shown after it with the rows of other users left
// out and the new user's address and id made generic.
func (b *browser) createUser(email, password string) (page, string) {
	b.e.t.Helper()
	p := b.post("/users", "/users", url.Values{"email": {email}, "role": {"read-only"}, "password": {password}})
	after := ""
	if p.status == http.StatusSeeOther {
		body := b.get(p.location).body
		var mine string
		for _, row := range oneRow.FindAllString(body, -1) {
			if strings.Contains(row, ">"+email+"<") {
				mine = uuids.ReplaceAllString(strings.ReplaceAll(row, email, "EMAIL"), "ID")
			}
		}
		after = strip(userRows.ReplaceAllString(body, mine))
	}
	return p, after
}

// TestAnotherOrgsAddressAnswersAsANewOne is the oracle: bigcorp's admin
// creates (and invites) users at an address acme already has and at a new
// one, and gets the same answer for both. The person's password is not
// the one Carol chose: it stays the one they had, and they are told so.
func TestAnotherOrgsAddressAnswersAsANewOne(t *testing.T) {
	t.Parallel()
	e := newTwoOrgs(t)
	e.user("bob@bigcorp.com", store.RoleOrgAdmin) // acme's user
	// Bob is locked by a stranger's guesses before bigcorp adds him: his
	// new row there must not show it (a new address has no lock).
	e.lockOut("bob@bigcorp.com")

	newAnswer, newPage := e.carol.createUser("new@bigcorp.com", "chosen by carol 1")
	oldAnswer, oldPage := e.carol.createUser("bob@bigcorp.com", "chosen by carol 2")
	if newAnswer.status != http.StatusSeeOther || oldAnswer.status != newAnswer.status || oldAnswer.location != newAnswer.location ||
		oldAnswer.body != newAnswer.body {
		t.Fatalf("create of another org's address answered %d to %q (%q), of a new one %d to %q (%q)",
			oldAnswer.status, oldAnswer.location, oldAnswer.body, newAnswer.status, newAnswer.location, newAnswer.body)
	}
	if oldPage != newPage {
		t.Fatalf("the page after creating another org's address differs from the one after a new address:\n%s\n---\n%s", oldPage, newPage)
	}
	ms, err := e.st.ClaimMail(context.Background(), "test", e.clk.Now().Add(time.Second), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[1].To != "bob@bigcorp.com" || !strings.Contains(ms[1].Text, "existing email and password") {
		t.Fatalf("outbox: %+v; want a notice to Bob to use his existing password", ms)
	}
	e.clk.Advance(time.Hour) // past the lock
	bob := e.browser()
	if p := bob.login("bob@bigcorp.com", "chosen by carol 2"); p.status != http.StatusUnauthorized {
		t.Fatalf("Carol's chosen password opened Bob's account: %d", p.status)
	}
	if p := bob.login("bob@bigcorp.com", testPassword); p.status != http.StatusSeeOther || p.location != "/orgs" {
		t.Fatalf("Bob's own password: %d to %q, want the chooser", p.status, p.location)
	}

	// The emailed invitation (CLI's and the console package's) answers
	// alike too, and queues one mail either way.
	for _, email := range []string{"other@bigcorp.com", "ada@acme.com"} {
		if email == "ada@acme.com" {
			e.user(email, store.RoleReadOnly)
		}
		u, err := InviteUser(context.Background(), e.st, UserSpec{OrgID: e.big.ID, Email: email, Role: store.RoleReadOnly},
			e.big.Name, "https://audit.example.com", e.clk.Now())
		if err != nil || u.OrgID != e.big.ID || u.Email != email || u.Role != store.RoleReadOnly {
			t.Fatalf("invite of %s: %+v, %v", email, u, err)
		}
	}
	ms, _ = e.st.ClaimMail(context.Background(), "test", e.clk.Now().Add(time.Second), time.Minute, 100)
	to := map[string]string{}
	for _, m := range ms {
		to[m.To] = m.Text
	}
	if !setPasswordLinkIn(to["other@bigcorp.com"]) || setPasswordLinkIn(to["ada@acme.com"]) || !strings.Contains(to["ada@acme.com"], "existing email") {
		t.Fatalf("invite mails: %+v; want a set-password link to the new address only", ms)
	}
}

func setPasswordLinkIn(text string) bool { return strings.Contains(text, "/set-password?token=") }

// TestBothOrgsCanHaveTheAddress is the squat: acme adds Bob first, and
// bigcorp can still add him; each org lists its own user, and only that.
func TestBothOrgsCanHaveTheAddress(t *testing.T) {
	t.Parallel()
	e := newTwoOrgs(t)
	e.user("bob@bigcorp.com", store.RoleReadOnly)
	if p, _ := e.carol.createUser("Bob@BigCorp.com", "chosen by carol"); p.status != http.StatusSeeOther {
		t.Fatalf("bigcorp adding acme's address: %d %s", p.status, p.body)
	}
	for _, org := range []store.Org{e.org, e.big} {
		u, err := e.st.GetUserByEmail(context.Background(), org.ID, "bob@bigcorp.com")
		if err != nil {
			t.Fatalf("org %s has no Bob: %v", org.Name, err)
		}
		if org.ID == e.big.ID && u.Email != "Bob@BigCorp.com" {
			t.Errorf("bigcorp sees the address as %q, not as it wrote it", u.Email)
		}
	}
	if p := e.carol.get("/users"); !strings.Contains(p.body, "Bob@BigCorp.com") || strings.Contains(p.body, "bob@bigcorp.com") {
		t.Fatal("bigcorp's Users page does not show its own Bob, or shows acme's spelling")
	}
}

// twoOrgPerson is Bob, org-admin of acme and read-only in bigcorp.
func (e twoOrgs) twoOrgPerson() (acme, big store.User) {
	e.t.Helper()
	return e.user("bob@bigcorp.com", store.RoleOrgAdmin), e.userOf(e.big.ID, "bob@bigcorp.com", store.RoleReadOnly)
}

// enter logs u's person in on a new browser and chooses u's org.
func (e twoOrgs) enter(u store.User) *browser {
	e.t.Helper()
	b := e.browser()
	if p := b.login(u.Email, testPassword); p.status != http.StatusSeeOther || p.location != "/orgs" {
		e.t.Fatalf("log-in of %s: %d to %q, want the chooser", u.Email, p.status, p.location)
	}
	if p := b.post("/orgs", "/orgs/"+u.ID, url.Values{}); p.status != http.StatusSeeOther || p.location != "/" {
		e.t.Fatalf("entering org %s: %d to %q", u.OrgID, p.status, p.location)
	}
	return b
}

var orgButton = regexp.MustCompile(`action="/orgs/([^"]+)"[\s\S]*?aria-label="Enter ([^"]+) as`)

// TestLogInWithTwoOrgsChoosesThenSwitches: a person of two orgs logs in
// with email and password alone, chooses an org on a page that lists both
// by name (no session before the choice), works in it, and switches to
// the other without logging in again. The success is recorded in the org
// entered; the switch ends the first org's session and records it there.
func TestLogInWithTwoOrgsChoosesThenSwitches(t *testing.T) {
	t.Parallel()
	e := newTwoOrgs(t)
	acme, big := e.twoOrgPerson()
	bob := e.browser()
	p := bob.login("bob@bigcorp.com", testPassword)
	if p.status != http.StatusSeeOther || p.location != "/orgs" || bob.cookie(sessionCookie) != "" || bob.cookie(chooseCookie) == "" {
		t.Fatalf("log-in of a person with two orgs: %d to %q, session %q", p.status, p.location, bob.cookie(sessionCookie))
	}
	if p := bob.get("/users"); p.status != http.StatusSeeOther || p.location != "/login" {
		t.Fatalf("before the choice a page answered %d to %q, want the log-in page", p.status, p.location)
	}
	chooser := bob.get("/orgs")
	got := map[string]string{}
	for _, m := range orgButton.FindAllStringSubmatch(chooser.body, -1) {
		got[m[2]] = m[1]
	}
	if chooser.status != http.StatusOK || len(got) != 2 || got["acme"] != acme.ID || got["bigcorp"] != big.ID {
		t.Fatalf("chooser: %d, orgs %v; want acme and bigcorp", chooser.status, got)
	}
	if n := countAuth(e.entries(e.org.ID), audit.OutcomeSuccess, acme.ID) + countAuth(e.entries(e.big.ID), audit.OutcomeSuccess, big.ID); n != 0 {
		t.Fatalf("%d successes recorded before the choice", n)
	}

	if p := bob.post("/orgs", "/orgs/"+big.ID, url.Values{}); p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("choosing bigcorp: %d to %q", p.status, p.location)
	}
	if bob.cookie(chooseCookie) != "" {
		t.Error("the chooser cookie outlived the choice")
	}
	bigSession := bob.cookie(sessionCookie)
	if countAuth(e.entries(e.big.ID), audit.OutcomeSuccess, big.ID) != 1 || countAuth(e.entries(e.org.ID), audit.OutcomeSuccess, acme.ID) != 0 {
		t.Fatal("the log-in is not recorded once in bigcorp's log, and only there")
	}
	// A read-only user of bigcorp: no Users page, and the chooser offers
	// the switch.
	if p := bob.get("/users"); p.status != http.StatusForbidden {
		t.Fatalf("bigcorp's read-only Bob opened Users: %d", p.status)
	}
	if p := bob.get("/"); !strings.Contains(p.body, `href="/orgs"`) {
		t.Fatal("no Switch org link for a person with two orgs")
	}

	first, err := e.st.GetUserSession(context.Background(), webform.SecretHash(bigSession))
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	if p := bob.post("/orgs", "/orgs/"+acme.ID, url.Values{}); p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("switching to acme: %d to %q", p.status, p.location)
	}
	s := bob.cookie(sessionCookie)
	if s == "" || s == bigSession {
		t.Fatalf("no new session after the switch: %q", s)
	}
	// A switch never outlives the log-in it came from.
	if second, err := e.st.GetUserSession(context.Background(), webform.SecretHash(s)); err != nil || !second.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("the switched session ends at %v (%v), want the first one's %v", second.ExpiresAt, err, first.ExpiresAt)
	}
	if p := bob.get("/users"); p.status != http.StatusOK || !strings.Contains(p.body, "bob@bigcorp.com") || strings.Contains(p.body, "carol@bigcorp.com") {
		t.Fatalf("acme's org-admin Bob on Users: %d, want acme's users only", p.status)
	}
	old := e.browser()
	srvURL, _ := url.Parse(e.srv.URL)
	old.c.Jar.SetCookies(srvURL, []*http.Cookie{{Name: sessionCookie, Value: bigSession}})
	if p := old.get("/"); p.status != http.StatusSeeOther || p.location != "/login" {
		t.Fatalf("bigcorp's session still opens pages after the switch: %d", p.status)
	}
	if countAuth(e.entries(e.org.ID), audit.OutcomeSuccess, acme.ID) != 1 || !loggedOut(e.entries(e.big.ID), big.ID) {
		t.Fatal("the switch is not recorded: a success in acme's log, a log-out in bigcorp's")
	}
}

// TestOneEnabledOrgLogsInAsBefore: disabling the person in one org leaves
// the other (its session, its tokens), and with one org left the log-in
// goes straight in, with no chooser.
func TestOneEnabledOrgLogsInAsBefore(t *testing.T) {
	t.Parallel()
	e := newTwoOrgs(t)
	acme, big := e.twoOrgPerson()
	bob := e.enter(acme)
	token := bob.createToken("bob-ci")
	if _, err := e.st.DisableUser(context.Background(), e.big.ID, big.ID, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if p := bob.get("/tokens"); p.status != http.StatusOK {
		t.Fatalf("Bob's acme session ended when bigcorp disabled him: %d", p.status)
	}
	if e.apiStatus(token) != http.StatusOK {
		t.Fatal("Bob's acme token was revoked when bigcorp disabled him")
	}
	again := e.browser()
	if p := again.login("bob@bigcorp.com", testPassword); p.status != http.StatusSeeOther || p.location != "/" || again.cookie(sessionCookie) == "" {
		t.Fatalf("log-in with one enabled org: %d to %q", p.status, p.location)
	}
	if p := again.get("/"); strings.Contains(p.body, `href="/orgs"`) {
		t.Fatal("a Switch org link for a person with one enabled org")
	}
	// The chooser offers no org the person was disabled in.
	if p := again.post("/", "/orgs/"+big.ID, url.Values{}); p.status != http.StatusNotFound {
		t.Fatalf("entering the org that disabled Bob: %d", p.status)
	}
}

// TestASessionOfOneOrgNeverReachesAnother: Bob's acme session reads and
// changes nothing of bigcorp: not its users, not its destinations, not by
// naming bigcorp's ids, and the chooser enters no one else's user.
func TestASessionOfOneOrgNeverReachesAnother(t *testing.T) {
	t.Parallel()
	e := newTwoOrgs(t)
	acme, _ := e.twoOrgPerson()
	carolID := ""
	for _, u := range mustList(t, e.st, e.big.ID) {
		if u.Email == "carol@bigcorp.com" {
			carolID = u.ID
		}
	}
	// Carol makes a destination in bigcorp.
	if p := e.carol.post("/destinations", "/destinations", url.Values{"name": {"bigcorp-siem"}, "endpoint": {"https://siem.bigcorp.example/"},
		"log_format": {"cef"}, "ordering": {"best_effort"}, "authorization": {"Bearer s3cret"}}); p.status != http.StatusSeeOther {
		t.Fatalf("Carol's destination: %d %s", p.status, p.body)
	}
	dest := regexp.MustCompile(`/destinations/([0-9a-f-]{36})`).FindStringSubmatch(e.carol.get("/destinations").body)
	if dest == nil {
		t.Fatal("no destination on Carol's page")
	}
	bob := e.enter(acme)
	for _, c := range []struct {
		name string
		p    func() page
	}{
		{"bigcorp's destination", func() page { return bob.get("/destinations/" + dest[1]) }},
		{"bigcorp's destination list", func() page { return bob.get("/destinations") }},
		{"bigcorp's users", func() page { return bob.get("/users") }},
		{"disable bigcorp's admin", func() page { return bob.post("/users", "/users/"+carolID+"/disable", url.Values{}) }},
		{"enter as bigcorp's admin", func() page { return bob.post("/orgs", "/orgs/"+carolID, url.Values{}) }},
	} {
		p := c.p()
		// A success answers 303 to / (entering) or to /users?m=...
		// (a user change: /users?m=disabled&revoked=n for a disable).
		done := p.status == http.StatusSeeOther && (p.location == "/" || strings.HasPrefix(p.location, "/users?m="))
		if strings.Contains(p.body, "bigcorp-siem") || strings.Contains(p.body, "carol@bigcorp.com") || done {
			t.Errorf("%s: acme's session reached bigcorp (%d to %q)", c.name, p.status, p.location)
		}
	}
	if u, err := e.st.GetUser(context.Background(), e.big.ID, carolID); err != nil || u.Disabled {
		t.Fatalf("Carol after Bob's attempts: %+v, %v", u, err)
	}
}

// TestFailuresAreRecordedInEveryOrgAndLockThePerson: a wrong password for
// a person of two orgs is recorded in both orgs' logs, and the lock it
// leads to holds whichever org the person would enter.
func TestFailuresAreRecordedInEveryOrgAndLockThePerson(t *testing.T) {
	t.Parallel()
	e := newTwoOrgs(t)
	acme, big := e.twoOrgPerson()
	e.lockOut("bob@bigcorp.com")
	for _, c := range []struct {
		org  string
		user string
	}{{e.org.ID, acme.ID}, {e.big.ID, big.ID}} {
		if n := countAuth(e.entries(c.org), audit.OutcomeInvalidPassword, c.user); n != 5 {
			t.Errorf("org %s recorded %d failures of its user, want 5", c.org, n)
		}
	}
	if p := e.browser().loginFrom("198.51.100.67", "bob@bigcorp.com", testPassword); p.status != http.StatusUnauthorized {
		t.Fatalf("the locked person logged in: %d", p.status)
	}
	if countAuth(e.entries(e.org.ID), audit.OutcomeLocked, acme.ID) != 1 || countAuth(e.entries(e.big.ID), audit.OutcomeLocked, big.ID) != 1 {
		t.Fatal("the refused attempt is not recorded as LOCKED in both orgs")
	}
}

// TestNewPasswordEndsTheSessionsOfEveryOrg: a set-password link sent by
// bigcorp, used by the person, ends their acme session too.
func TestNewPasswordEndsTheSessionsOfEveryOrg(t *testing.T) {
	t.Parallel()
	e := newTwoOrgs(t)
	acme, big := e.twoOrgPerson()
	bob := e.enter(acme)
	if err := SendSetPasswordLink(context.Background(), e.st, big, e.big.Name, "https://audit.example.com", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	token := e.mailedToken("bob@bigcorp.com")
	other := e.browser()
	if p := other.post("/set-password?token="+token, "/set-password", url.Values{"token": {token}, "password": {"a brand new password"},
		"confirm": {"a brand new password"}}); p.status != http.StatusSeeOther {
		t.Fatalf("set password: %d %s", p.status, p.body)
	}
	if p := bob.get("/"); p.status != http.StatusSeeOther || p.location != "/login" {
		t.Fatalf("Bob's acme session outlived the new password set through bigcorp: %d", p.status)
	}
	if p := e.browser().login("bob@bigcorp.com", "a brand new password"); p.status != http.StatusSeeOther || p.location != "/orgs" {
		t.Fatalf("log-in with the new password: %d to %q", p.status, p.location)
	}
}

func countAuth(es []store.StoredEntry, o audit.Outcome, principal string) int {
	n := 0
	for _, x := range es {
		if x.Entry.Kind == audit.KindAuthentication && x.Entry.Name == string(o) && x.Entry.PrincipalID == principal {
			n++
		}
	}
	return n
}

func loggedOut(es []store.StoredEntry, principal string) bool {
	for _, x := range es {
		if x.Entry.Kind == audit.KindAccess && x.Entry.PrincipalID == principal && x.Entry.Act == http.MethodPost &&
			strings.HasPrefix(x.Entry.Request, "/orgs/") {
			return true
		}
	}
	return false
}

func mustList(t *testing.T, st store.Store, orgID string) []store.User {
	t.Helper()
	us, err := st.ListUsers(context.Background(), orgID)
	if err != nil {
		t.Fatal(err)
	}
	return us
}

// TestAnOrgsChosenPasswordEntersNoOtherOrg: bigcorp's admin creates Vic
// with a password of her choosing; when acme adds Vic too, that password
// (which Carol knows) opens bigcorp only, never acme, until Vic sets one
// of her own through an emailed link; then it is hers, in both orgs, and
// Carol's no longer works. acme's answer is a new address's, and an
// emailed invitation of such an address sends the link at once.
func TestAnOrgsChosenPasswordEntersNoOtherOrg(t *testing.T) {
	t.Parallel()
	e := newTwoOrgs(t)
	e.user("ada@acme.com", store.RoleOrgAdmin)
	ada := e.browser()
	ada.login("ada@acme.com", testPassword)
	if p, _ := e.carol.createUser("vic@example.com", "chosen by carol"); p.status != http.StatusSeeOther {
		t.Fatalf("Carol's new user: %d", p.status)
	}
	newAnswer, newPage := ada.createUser("fresh@example.com", "chosen by ada 1")
	vicAnswer, vicPage := ada.createUser("vic@example.com", "chosen by ada 2")
	if vicAnswer.status != newAnswer.status || vicAnswer.location != newAnswer.location || vicPage != newPage {
		t.Fatalf("acme adding bigcorp's Vic answered %d to %q, a new address %d to %q", vicAnswer.status, vicAnswer.location,
			newAnswer.status, newAnswer.location)
	}
	ms, err := e.st.ClaimMail(context.Background(), "test", e.clk.Now().Add(time.Second), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 || ms[2].To != "vic@example.com" || !strings.Contains(ms[2].Text, "does not open acme") {
		t.Fatalf("outbox: %+v; want acme's notice to Vic that the chosen password does not open acme", ms)
	}
	acmeVic, err := e.st.GetUserByEmail(context.Background(), e.org.ID, "vic@example.com")
	if err != nil {
		t.Fatal(err)
	}

	carolAsVic := e.browser()
	if p := carolAsVic.login("vic@example.com", "chosen by carol"); p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("Carol's password for Vic: %d to %q, want bigcorp straight away", p.status, p.location)
	}
	if p := carolAsVic.get("/orgs"); strings.Contains(p.body, "acme") {
		t.Fatal("Carol's password offers acme")
	}
	if p := carolAsVic.post("/orgs", "/orgs/"+acmeVic.ID, url.Values{}); p.status != http.StatusNotFound {
		t.Fatalf("Carol's password entered acme: %d", p.status)
	}

	// Vic sets her own password through a link (the operator's
	// reset-password): now both orgs open with it, and Carol's is gone.
	if err := SendSetPasswordLink(context.Background(), e.st, acmeVic, e.org.Name, "https://audit.example.com", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	token := e.mailedToken("vic@example.com")
	if p := e.browser().post("/set-password?token="+token, "/set-password", url.Values{"token": {token},
		"password": {"vic's own password"}, "confirm": {"vic's own password"}}); p.status != http.StatusSeeOther {
		t.Fatalf("set password: %d", p.status)
	}
	if p := e.browser().login("vic@example.com", "chosen by carol"); p.status != http.StatusUnauthorized {
		t.Fatalf("Carol's password after Vic set her own: %d", p.status)
	}
	if p := e.browser().login("vic@example.com", "vic's own password"); p.status != http.StatusSeeOther || p.location != "/orgs" {
		t.Fatalf("Vic's own password: %d to %q, want the chooser", p.status, p.location)
	}

	// An invitation of an address whose password an org chose sends the
	// set-password link, as for a new address.
	e.carol.createUser("val@example.com", "chosen by carol")
	if _, err := e.st.ClaimMail(context.Background(), "test", e.clk.Now().Add(time.Second), time.Minute, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := InviteUser(context.Background(), e.st, UserSpec{OrgID: e.org.ID, Email: "val@example.com", Role: store.RoleReadOnly},
		e.org.Name, "https://audit.example.com", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	e.mailedToken("val@example.com")
}

// TestLogOutBeforeChoosingEndsTheChooser: the chooser page's Log out ends
// the chooser in the store, not only its cookie.
func TestLogOutBeforeChoosingEndsTheChooser(t *testing.T) {
	t.Parallel()
	e := newTwoOrgs(t)
	e.twoOrgPerson()
	bob := e.browser()
	bob.login("bob@bigcorp.com", testPassword)
	secret := bob.cookie(chooseCookie)
	if p := bob.post("/orgs", "/logout", url.Values{}); p.status != http.StatusSeeOther || p.location != "/login?m=logged-out" {
		t.Fatalf("log-out from the chooser: %d to %q", p.status, p.location)
	}
	if _, err := e.st.GetUserToken(context.Background(), webform.SecretHash(secret)); err == nil {
		t.Fatal("the chooser outlived the log-out")
	}
}

// TestLogInAnswerHidesOtherOrgs: an org that squats an address with a
// password it chose, and disables its own user, gets the same answer to
// that password before and after another org adds the address.
func TestLogInAnswerHidesOtherOrgs(t *testing.T) {
	e := newTwoOrgs(t)
	const chosen = "chosen by acme"
	if err := e.h.createUser(context.Background(), UserSpec{OrgID: e.org.ID, Email: "ceo@bigcorp.com", Role: store.RoleReadOnly,
		Password: chosen}); err != nil {
		t.Fatal(err)
	}
	mine, err := e.st.GetUserByEmail(context.Background(), e.org.ID, "ceo@bigcorp.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DisableUser(context.Background(), e.org.ID, mine.ID, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	before := e.browser().login("ceo@bigcorp.com", chosen)
	e.userOf(e.big.ID, "ceo@bigcorp.com", store.RoleOrgAdmin) // bigcorp onboards its CEO
	after := e.browser().login("ceo@bigcorp.com", chosen)
	csrf := regexp.MustCompile(`value="[^"]*"`)
	if before.status != after.status || csrf.ReplaceAllString(before.body, "") != csrf.ReplaceAllString(after.body, "") {
		t.Errorf("the answer changed when another org added the address: %d then %d", before.status, after.status)
	}
	if !strings.Contains(after.body, "has been disabled") {
		t.Errorf("answer %d, not the disabled one", after.status)
	}
}

// TestNewUserAddressWhoseKeyNamesAnotherMailbox: an org cannot add
// "bob@bİgcorp.com", which Unicode lower-cases to bigcorp's Bob's key,
// and so take his identity (and set its password through its own link).
func TestNewUserAddressWhoseKeyNamesAnotherMailbox(t *testing.T) {
	e := newTwoOrgs(t)
	bob := e.userOf(e.big.ID, "bob@bigcorp.com", store.RoleOrgAdmin)
	e.user("admin@acme.example", store.RoleOrgAdmin)
	admin := e.browser()
	if p := admin.login("admin@acme.example", testPassword); p.location != "/" {
		t.Fatalf("log-in: %d to %q", p.status, p.location)
	}
	p := admin.post("/users", "/users", url.Values{"email": {"bob@bİgcorp.com"}, "role": {"read-only"}, "password": {"long enough password"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "lower case") {
		t.Errorf("adding bob@bİgcorp.com: %d", p.status)
	}
	if users, err := e.st.ListIdentityUsers(context.Background(), bob.IdentityID); err != nil || len(users) != 1 {
		t.Errorf("Bob's identity has users %v (%v), want his one", users, err)
	}
}
