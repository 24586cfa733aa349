package api

import "github.com/sigtrail/sigtrail/internal/store"

// How routes are declared
//
// Each group of routes is one method of *server, in its own file, that
// returns []route; routes() below concatenates the groups, so adding a group
// is one function in a new file plus one line here.
//
// A route says:
//
//	route{
//		method: "GET", path: "/v3/portals/{portalId}", // net/http ServeMux pattern parts
//		resource: resPortals,        // the authorization entry is named "Authz." + resource
//		action:   audit.ActionRetrieve, // retrieve | list | edit | create | delete
//		roles:    portalReaders(),
//		handle:   s.getPortal,       // func(c *call) error
//	}
//
// org-admin may do everything, so roles lists only the other roles that
// may. Before the handler runs, the token has been authenticated and the
// check of (resource, action, roles) recorded as one authorization entry;
// for a method that may change something both entries are appended
// durably before the handler acts. c.org is the token's org and every read
// and write must be scoped to it (another org's IDs answer 404). A handler
// that needs a further check calls c.authorize(resource, action, roles),
// which records one more authorization entry. The access entry (with the
// status) is recorded after the handler returns and before the answer
// leaves, so handlers write through c.json / c.noContent (buffered) or
// return an error, which becomes problem+json (an apperr code; anything
// else is a logged 500 that shows no detail). Bodies are read with
// c.decode (strict JSON, capped at Config.MaxBodyBytes or the route's
// maxBody). auth: authNone marks a public, unaudited route.
func (s *server) routes() []route {
	var all []route
	for _, group := range [][]route{
		s.publicRoutes(),
		s.destinationRoutes(),
		s.orgWebhookRoutes(),
		s.legacyWebhookRoutes(),
		s.portalRoutes(),
		s.portalContentRoutes(),
		s.portalAssetRoutes(),
		s.portalWebhookRoutes(),
		s.customDomainRoutes(),
		s.developerRoutes(),
		s.replayRoutes(),
		s.auditLogRoutes(),
		s.ingestRoutes(),
		s.checkpointRoutes(),
		s.portalAuthRoutes(),
		s.teamRoutes(),
		s.teamMappingRoutes(),
		s.overviewRoutes(),
		s.portalAuditLogRoutes(),
	} {
		all = append(all, group...)
	}
	return all
}

// Resources, as the authorization entries name them (Authz.<resource>).
const (
	resDestinations  = "audit-log-destinations"
	resWebhooks      = "audit-log-webhooks"
	resPortals       = "portals"
	resDevelopers    = "portal-developers"
	resCustomDomains = "portal-custom-domains"
	// For the replay, pull and ingest groups.
	resReplayJobs = "audit-log-replay-jobs"
	resAuditLogs  = "audit-logs"
	resEntries    = "entries"
)

// Role sets used by more than one group (functions, so no route can alter
// another's list).
func auditReaders() []store.Role  { return []store.Role{store.RoleAuditLogAdmin, store.RoleReadOnly} }
func auditWriters() []store.Role  { return []store.Role{store.RoleAuditLogAdmin} }
func portalReaders() []store.Role { return []store.Role{store.RolePortalAdmin, store.RoleReadOnly} }
func portalWriters() []store.Role { return []store.Role{store.RolePortalAdmin} }

// A portal's webhook needs Kong's Audit Log Admin or Portal Creator.
func portalAuditReaders() []store.Role {
	return []store.Role{store.RoleAuditLogAdmin, store.RolePortalAdmin, store.RoleReadOnly}
}
func portalAuditWriters() []store.Role {
	return []store.Role{store.RoleAuditLogAdmin, store.RolePortalAdmin}
}
func producers() []store.Role { return []store.Role{store.RoleProducer} }
