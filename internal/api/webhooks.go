package api

import (
	"net/http"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// orgWebhookRoutes serves the org's webhook (v3) and its status (v2, v3).
func (s *server) orgWebhookRoutes() []route {
	const base = "/v3/audit-log-webhook"
	org := func(c *call) (store.StreamID, string, error) { return c.orgStream(), "", nil }
	return []route{
		{method: http.MethodGet, path: base, resource: resWebhooks, action: audit.ActionRetrieve, roles: auditReaders(), handle: s.getWebhook(org, true)},
		{method: http.MethodPatch, path: base, resource: resWebhooks, action: audit.ActionEdit, roles: auditWriters(), handle: s.patchWebhook(org)},
		{method: http.MethodDelete, path: base, resource: resWebhooks, action: audit.ActionDelete, roles: auditWriters(), handle: s.deleteWebhook(org)},
		{method: http.MethodGet, path: base + "/status", resource: resWebhooks, action: audit.ActionRetrieve, roles: auditReaders(), handle: s.webhookStatus(org)},
		{method: http.MethodGet, path: "/v2/audit-log-webhook/status", resource: resWebhooks, action: audit.ActionRetrieve, roles: auditReaders(), handle: s.webhookStatus(org)},
	}
}

// portalWebhookRoutes serves a portal's webhook and its status.
func (s *server) portalWebhookRoutes() []route {
	const base = "/v3/portals/{portalId}/audit-log-webhook"
	portal := func(c *call) (store.StreamID, string, error) {
		p, err := s.portal(c)
		if err != nil {
			return "", "", err
		}
		return store.StreamID(p.ID), p.ID, nil
	}
	return []route{
		{method: http.MethodGet, path: base, resource: resWebhooks, action: audit.ActionRetrieve, roles: portalAuditReaders(), handle: s.getWebhook(portal, false)},
		{method: http.MethodPatch, path: base, resource: resWebhooks, action: audit.ActionEdit, roles: portalAuditWriters(), handle: s.patchWebhook(portal)},
		{method: http.MethodDelete, path: base, resource: resWebhooks, action: audit.ActionDelete, roles: portalAuditWriters(), handle: s.deleteWebhook(portal)},
		{method: http.MethodGet, path: base + "/status", resource: resWebhooks, action: audit.ActionRetrieve, roles: portalAuditReaders(), handle: s.webhookStatus(portal)},
	}
}

// streamOf finds the stream a webhook route is about (and its portal, if
// any), checking the caller may see it.
type streamOf func(c *call) (store.StreamID, string, error)

// webhookJSON is the v3 webhook representation.
type webhookJSON struct {
	DestinationID *string `json:"audit_log_destination_id,omitempty"`
	Enabled       bool    `json:"enabled"`
}

func toWebhookJSON(w store.Webhook) webhookJSON {
	out := webhookJSON{Enabled: w.Enabled}
	if w.DestinationID != "" {
		id := w.DestinationID
		out.DestinationID = &id
	}
	return out
}

// getWebhook answers the webhook. An unconfigured org webhook is a 404 (the
// v3 schema requires a destination id); an unconfigured portal webhook is
// {"enabled": false}, which the portal schema allows.
func (s *server) getWebhook(of streamOf, notFoundWhenUnset bool) func(c *call) error {
	return func(c *call) error {
		stream, _, err := of(c)
		if err != nil {
			return err
		}
		w, err := s.st.GetWebhook(c.ctx(), stream)
		if apperr.Is(err, apperr.NotFound) || (err == nil && w.DestinationID == "") {
			if notFoundWhenUnset {
				return apperr.New(apperr.NotFound, "No audit log webhook is configured")
			}
			return c.json(http.StatusOK, webhookJSON{})
		}
		if err != nil {
			return err
		}
		return c.json(http.StatusOK, toWebhookJSON(w))
	}
}

type webhookBody struct {
	DestinationID *string `json:"audit_log_destination_id"`
	Enabled       *bool   `json:"enabled"`
}

// patchWebhook sets a webhook's destination and whether it sends. A
// destination must end up set, from the body or already stored, and belong
// to the caller's org.
func (s *server) patchWebhook(of streamOf) func(c *call) error {
	return func(c *call) error {
		stream, portalID, err := of(c)
		if err != nil {
			return err
		}
		var b webhookBody
		if err := c.decode(&b); err != nil {
			return err
		}
		cur, err := s.st.GetWebhook(c.ctx(), stream)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return err
		}
		next := store.Webhook{Stream: stream, OrgID: c.org, PortalID: portalID,
			DestinationID: cur.DestinationID, Enabled: cur.Enabled, UpdatedAt: c.now()}
		if b.DestinationID != nil {
			id, ok := canonicalUUID(*b.DestinationID)
			if !ok {
				return apperr.InvalidField("body", "audit_log_destination_id", "is_uuid", "destination id format is invalid")
			}
			d, err := s.st.GetDestination(c.ctx(), c.org, id)
			if err == nil && (d.Legacy || d.OrgID != c.org) {
				err = apperr.New(apperr.NotFound, "not found")
			}
			if apperr.Is(err, apperr.NotFound) {
				return apperr.InvalidField("body", "audit_log_destination_id", "missing_reference",
					"does not name an audit log destination of this organization")
			}
			if err != nil {
				return err
			}
			next.DestinationID = id
		}
		if b.Enabled != nil {
			next.Enabled = *b.Enabled
		}
		if next.DestinationID == "" {
			// Kong's "Disable Webhook" request on a portal webhook that was
			// never set up: already so, and the portal schema may say it.
			if portalID != "" && !next.Enabled {
				return c.json(http.StatusOK, webhookJSON{})
			}
			return apperr.InvalidField("body", "audit_log_destination_id", "required",
				"is required: no audit log destination is configured for this webhook")
		}
		if err := s.st.PutWebhook(c.ctx(), next); err != nil {
			return err
		}
		s.webhookChanged(stream)
		s.dropLegacy(c, cur, next.DestinationID)
		return c.json(http.StatusOK, toWebhookJSON(next))
	}
}

// deleteWebhook removes a webhook's configuration; deleting one that is not
// configured succeeds too, so scripts can repeat it.
func (s *server) deleteWebhook(of streamOf) func(c *call) error {
	return func(c *call) error {
		stream, _, err := of(c)
		if err != nil {
			return err
		}
		cur, err := s.st.GetWebhook(c.ctx(), stream)
		if apperr.Is(err, apperr.NotFound) {
			return c.noContent()
		}
		if err != nil {
			return err
		}
		if err := s.st.DeleteWebhook(c.ctx(), stream); err != nil && !apperr.Is(err, apperr.NotFound) {
			return err
		}
		s.webhookChanged(stream)
		s.dropLegacy(c, cur, "")
		return c.noContent()
	}
}

// dropLegacy deletes the inline destination of the v2 webhook once the
// webhook no longer points at it, so none is left behind unseen.
func (s *server) dropLegacy(c *call, old store.Webhook, newDest string) {
	if old.DestinationID == "" || old.DestinationID == newDest {
		return
	}
	d, err := s.st.GetDestination(c.ctx(), c.org, old.DestinationID)
	if err != nil || !d.Legacy {
		return
	}
	if err := s.st.DeleteDestination(c.ctx(), c.org, d.ID); err != nil {
		s.log.Warn("delete unused legacy destination", "trace_id", c.traceID, "destination_id", d.ID, "err", err)
	}
}

// statusJSON is the webhook status. lost_entries and last_lost_at are
// sigtrail's: Kong's status schemas allow properties they do not name, so
// the loss shows where an operator already looks, on every status route.
type statusJSON struct {
	WebhookStatus       string     `json:"webhook_status"`
	WebhookEnabled      bool       `json:"webhook_enabled"`
	LastAttemptAt       *time.Time `json:"last_attempt_at,omitempty"`
	LastResponseCode    *int       `json:"last_response_code,omitempty"`
	LastResponseMessage *string    `json:"last_response_message,omitempty"`
	// LostEntries: entries retention deleted before they were delivered;
	// absent only when the webhook is unconfigured.
	LostEntries *int64     `json:"lost_entries,omitempty"`
	LastLostAt  *time.Time `json:"last_lost_at,omitempty"`
}

// webhookStatus answers with the reference's semantics: unconfigured when
// nothing is set up; active until an attempt fails, inactive after a
// failed one, whether or not the webhook is enabled.
func (s *server) webhookStatus(of streamOf) func(c *call) error {
	return func(c *call) error {
		stream, _, err := of(c)
		if err != nil {
			return err
		}
		w, err := s.st.GetWebhook(c.ctx(), stream)
		if apperr.Is(err, apperr.NotFound) {
			return c.json(http.StatusOK, statusJSON{WebhookStatus: store.StatusUnconfigured})
		}
		if err != nil {
			return err
		}
		out := statusJSON{WebhookStatus: store.StatusActive, WebhookEnabled: w.Enabled}
		st, err := s.st.GetWebhookState(c.ctx(), stream)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return err
		}
		if st.Status == store.StatusInactive {
			out.WebhookStatus = store.StatusInactive
		}
		lost := st.LostEntries
		out.LostEntries = &lost
		if !st.LastLostAt.IsZero() {
			at := st.LastLostAt.UTC()
			out.LastLostAt = &at
		}
		if !st.LastAttemptAt.IsZero() {
			at := st.LastAttemptAt.UTC()
			code := st.LastResponseCode
			msg := st.LastResponseMessage
			out.LastAttemptAt, out.LastResponseCode, out.LastResponseMessage = &at, &code, &msg
		}
		return c.json(http.StatusOK, out)
	}
}
