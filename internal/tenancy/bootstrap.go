package tenancy

import (
	"context"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// BootstrapTokenName labels the token Bootstrap creates.
const BootstrapTokenName = "bootstrap"

// Bootstrap prepares an empty database for a script: it creates the org
// "default" and an org-admin token whose secret is exactly secret. A later
// start changes nothing, whatever the secret: a database that holds any org
// besides "default" (and the reserved system org), or a "default" that has
// a token, is left alone, so an operator's setup is never altered by an
// environment variable. An empty secret does nothing.
func Bootstrap(ctx context.Context, st store.Store, secret string, clk clock.Clock) error {
	if secret == "" {
		return nil
	}
	if _, err := st.GetTokenByHash(ctx, HashSecret(secret)); err == nil {
		return nil
	} else if !apperr.Is(err, apperr.NotFound) {
		return err
	}
	orgs, err := st.ListOrgs(ctx)
	if err != nil {
		return err
	}
	var org store.Org
	for _, o := range orgs {
		switch o.Name {
		case SystemOrgName:
		case DefaultOrgName:
			org = o
		default:
			return nil // not an empty database
		}
	}
	if org.ID != "" {
		// "default" with a token is set up already: a changed secret in the
		// environment must not quietly add a second admin token beside the
		// first, which would stay valid. Without one, a first start was cut
		// short between the org and its token: finish it.
		toks, err := st.ListTokens(ctx, org.ID)
		if err != nil {
			return err
		}
		if len(toks) > 0 {
			return nil
		}
	}
	s := New(st, clk)
	if org.ID == "" {
		org, err = s.createOrg(ctx, DefaultOrgName)
		if apperr.Is(err, apperr.Conflict) { // another replica won the race
			org, err = st.GetOrgByName(ctx, DefaultOrgName)
		}
		if err != nil {
			return err
		}
	}
	_, err = s.createTokenWithSecret(ctx, TokenSpec{OrgID: org.ID, Name: BootstrapTokenName, Role: store.RoleOrgAdmin}, secret)
	if err != nil {
		// A replica racing us may have stored the same secret.
		if _, err2 := st.GetTokenByHash(ctx, HashSecret(secret)); err2 == nil {
			return nil
		}
	}
	return err
}
