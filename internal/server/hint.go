package server

import (
	"context"
	"log/slog"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// tokenHint is logged once at start when the database has no org and no
// bootstrap token was given: a new user otherwise sees a server that
// answers 401 to everything and no word on how to get in.
const tokenHint = "no org and no API token yet: create them with " +
	"`sigtrail org create NAME` then `sigtrail token create --org NAME --role org-admin --name LABEL` " +
	"(same --data-dir or --db), or restart with SIGTRAIL_BOOTSTRAP_TOKEN=<secret of 32+ characters> " +
	"to create org \"default\" with that token"

// hintWithoutOrgs logs tokenHint when st holds no org but the reserved
// system org. A failure to look is not worth stopping the start for.
func hintWithoutOrgs(ctx context.Context, st store.Store, log *slog.Logger) {
	orgs, err := st.ListOrgs(ctx)
	if err != nil {
		return
	}
	for _, o := range orgs {
		if o.Name != tenancy.SystemOrgName {
			return
		}
	}
	log.Warn(tokenHint)
}
