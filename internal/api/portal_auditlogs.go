package api

import (
	"net/http"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// portalAuditLogRoutes is sigtrail's own pull of a Dev Portal's log (the
// developer log-ins), which Konnect only delivers by webhook. Same paging,
// filters and signed shapes as GET /v3/audit-logs.
func (s *server) portalAuditLogRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/v3/portals/{portalId}/audit-logs", resource: resAuditLogs, action: audit.ActionList,
			roles: portalAuditReaders(), handle: s.portalAuditLogs},
	}
}

func (s *server) portalAuditLogs(c *call) error {
	id, err := c.pathUUID("portalId")
	if err != nil {
		return err
	}
	p, err := s.st.GetPortal(c.ctx(), c.org, id) // another org's portal is NotFound
	if err != nil {
		return err
	}
	// A cursor names no stream: one made on another stream of the org
	// reads this one from its position, which shows nothing the caller
	// may not see.
	return s.pullLog(c, store.StreamID(p.ID))
}
