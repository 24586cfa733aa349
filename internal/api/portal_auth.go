package api

import (
	"net/http"

	"github.com/sigtrail/sigtrail/internal/audit"
)

// Resources of the portal authentication routes.
const (
	resPortalAuth = "portal-auth-settings"
	resPortalIdPs = "portal-identity-providers"
)

// portalAuthRoutes serves a portal's authentication settings and identity
// providers (Kong's "Portal Auth Settings").
func (s *server) portalAuthRoutes() []route {
	const settings = "/v3/portals/{portalId}/authentication-settings"
	const idps = "/v3/portals/{portalId}/identity-providers"
	const idp = idps + "/{id}"
	const maps = idp + "/team-group-mappings"
	const oneMap = maps + "/{mappingId}"
	return []route{
		{method: http.MethodGet, path: settings, resource: resPortalAuth, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getAuthSettings},
		{method: http.MethodPatch, path: settings, resource: resPortalAuth, action: audit.ActionEdit, roles: portalWriters(), handle: s.updateAuthSettings},
		{method: http.MethodGet, path: idps, resource: resPortalIdPs, action: audit.ActionList, roles: portalReaders(), handle: s.listIdPs},
		{method: http.MethodPost, path: idps, resource: resPortalIdPs, action: audit.ActionCreate, roles: portalWriters(), handle: s.createIdP},
		{method: http.MethodGet, path: idp, resource: resPortalIdPs, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getIdP},
		{method: http.MethodPatch, path: idp, resource: resPortalIdPs, action: audit.ActionEdit, roles: portalWriters(), handle: s.updateIdP},
		{method: http.MethodDelete, path: idp, resource: resPortalIdPs, action: audit.ActionDelete, roles: portalWriters(), handle: s.deleteIdP},
		{method: http.MethodGet, path: maps, resource: resPortalIdPs, action: audit.ActionList, roles: portalReaders(), handle: s.listMappings},
		{method: http.MethodPost, path: maps, resource: resPortalIdPs, action: audit.ActionCreate, roles: portalWriters(), handle: s.createMapping},
		{method: http.MethodGet, path: oneMap, resource: resPortalIdPs, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getMapping},
		{method: http.MethodDelete, path: oneMap, resource: resPortalIdPs, action: audit.ActionDelete, roles: portalWriters(), handle: s.deleteMapping},
	}
}
