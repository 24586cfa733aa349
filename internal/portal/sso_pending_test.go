package portal

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// ssoRoundTrip runs one whole flow for grace on e and returns the answer
// to the callback.
func (e *testEnv) ssoRoundTrip(t *testing.T) response {
	t.Helper()
	start := e.do(e.client, http.MethodGet, ssoStartPath, nil, nil)
	if start.StatusCode != http.StatusFound {
		t.Fatalf("start: %d %s", start.StatusCode, start.body)
	}
	cb, err := url.Parse(loginAtOP(t, start.Header.Get("Location")))
	if err != nil {
		t.Fatal(err)
	}
	return e.do(e.client, http.MethodGet, cb.RequestURI(), nil, nil)
}

// On a portal that does not auto-approve, a first SSO log-in signs the
// developer up pending and is DISABLED; once approved, the next is a
// SUCCESS. With sign-up by SSO off, an unknown email is NOT_FOUND and no
// account is made.
func TestSSOSignUpPendingAndOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, insecureDestinations, func(_ *Config, p *store.Portal) { p.AutoApproveDevelopers = false })
	e.addIdP(startOP(t, e.base+ssoCallbackPath))
	ctx := context.Background()

	r := e.ssoRoundTrip(t)
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("first SSO log-in on a portal without auto-approve: %d %s", r.StatusCode, r.body)
	}
	d := e.developer("grace@example.com")
	if d.Status != store.DeveloperPending || !d.EmailVerified {
		t.Fatalf("signed-up developer %+v", d)
	}
	pending := e.wantEntry(r, ssoCallbackPath, audit.OutcomeDisabled, d.ID)
	pending.ClassID = audit.AuthTypeSSO

	d.Status = store.DeveloperApproved
	if err := e.st.UpdateDeveloper(ctx, d); err != nil {
		t.Fatal(err)
	}
	r = e.ssoRoundTrip(t)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("SSO log-in once approved: %d %s", r.StatusCode, r.body)
	}
	success := e.wantEntry(r, ssoCallbackPath, audit.OutcomeSuccess, d.ID)
	success.ClassID = audit.AuthTypeSSO

	if err := e.st.DeleteDeveloper(ctx, e.portal.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	settings := store.DefaultAuthSettings(e.portal.ID)
	settings.SSOSignUpEnabled = false
	if err := e.st.PutAuthSettings(ctx, settings); err != nil {
		t.Fatal(err)
	}
	r = e.ssoRoundTrip(t)
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("SSO log-in without an account, sign-up off: %d %s", r.StatusCode, r.body)
	}
	notFound := e.wantEntry(r, ssoCallbackPath, audit.OutcomeNotFound, "")
	notFound.ClassID = audit.AuthTypeSSO
	if _, err := e.st.GetDeveloperByEmail(ctx, e.portal.ID, "grace@example.com"); err == nil {
		t.Fatal("an account was made with sign-up by SSO off")
	}
	e.assertEntries(pending, success, notFound)
}
