package api

import (
	"net/http"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// legacyWebhookRoutes serves the v2 org webhook, which holds its
// destination inline. sigtrail keeps that inline destination as a Legacy
// destination (not listed among the org's destinations), so v2 and v3 see
// one and the same org webhook.
func (s *server) legacyWebhookRoutes() []route {
	const base = "/v2/audit-log-webhook"
	return []route{
		{method: http.MethodGet, path: base, resource: resWebhooks, action: audit.ActionRetrieve, roles: auditReaders(), handle: s.getLegacyWebhook},
		{method: http.MethodPatch, path: base, resource: resWebhooks, action: audit.ActionEdit, roles: auditWriters(), handle: s.patchLegacyWebhook},
	}
}

// legacyWebhookJSON is the v2 representation; never the authorization.
type legacyWebhookJSON struct {
	Endpoint            string       `json:"endpoint"`
	Enabled             bool         `json:"enabled"`
	LogFormat           audit.Format `json:"log_format,omitempty"`
	SkipSSLVerification *bool        `json:"skip_ssl_verification,omitempty"`
	Ordering            string       `json:"ordering,omitempty"`         // sigtrail's, as on destinations
	SequenceNumbers     bool         `json:"sequence_numbers,omitempty"` // sigtrail's, as on destinations
	UpdatedAt           *time.Time   `json:"updated_at,omitempty"`
}

// unconfiguredLegacy is what v2 answers before anything is set up.
func unconfiguredLegacy() legacyWebhookJSON { return legacyWebhookJSON{Endpoint: "unconfigured"} }

func toLegacyJSON(w store.Webhook, d store.Destination) legacyWebhookJSON {
	skip := d.SkipSSLVerification
	at := w.UpdatedAt.UTC()
	if d.UpdatedAt.After(at) {
		at = d.UpdatedAt.UTC()
	}
	return legacyWebhookJSON{Endpoint: d.Endpoint, Enabled: w.Enabled, LogFormat: d.LogFormat, SkipSSLVerification: &skip,
		Ordering: store.NormalOrdering(d.Ordering), SequenceNumbers: d.SequenceNumbers, UpdatedAt: &at}
}

// orgWebhook loads the org webhook and its destination; ok is false when
// none is configured.
func (s *server) orgWebhook(c *call) (store.Webhook, store.Destination, bool, error) {
	w, err := s.st.GetWebhook(c.ctx(), c.orgStream())
	if apperr.Is(err, apperr.NotFound) || (err == nil && w.DestinationID == "") {
		return store.Webhook{}, store.Destination{}, false, nil
	}
	if err != nil {
		return store.Webhook{}, store.Destination{}, false, err
	}
	d, err := s.st.GetDestination(c.ctx(), c.org, w.DestinationID)
	if apperr.Is(err, apperr.NotFound) {
		return store.Webhook{}, store.Destination{}, false, nil
	}
	return w, d, err == nil, err
}

func (s *server) getLegacyWebhook(c *call) error {
	w, d, ok, err := s.orgWebhook(c)
	if err != nil {
		return err
	}
	if !ok {
		return c.json(http.StatusOK, unconfiguredLegacy())
	}
	return c.json(http.StatusOK, toLegacyJSON(w, d))
}

type legacyWebhookBody struct {
	Endpoint            *string `json:"endpoint"`
	Authorization       *string `json:"authorization"`
	Enabled             *bool   `json:"enabled"`
	LogFormat           *string `json:"log_format"`
	SkipSSLVerification *bool   `json:"skip_ssl_verification"`
	Ordering            *string `json:"ordering"`
	SequenceNumbers     *bool   `json:"sequence_numbers"`
	// KeepAuthorizationOnOriginChange: see checkOriginChange.
	KeepAuthorizationOnOriginChange *bool `json:"keep_authorization_on_origin_change"`
}

// patchLegacyWebhook merges the body into the org webhook. Changing only
// enabled keeps whatever destination the webhook has (even one set through
// v3); changing the destination's fields edits the inline (Legacy)
// destination, created from the current one on first use, so a v3
// destination shared with portals is never changed behind their back.
func (s *server) patchLegacyWebhook(c *call) error {
	var b legacyWebhookBody
	if err := c.decode(&b); err != nil {
		return err
	}
	w, d, ok, err := s.orgWebhook(c)
	if err != nil {
		return err
	}
	destFields := b.Endpoint != nil || b.Authorization != nil || b.LogFormat != nil || b.SkipSSLVerification != nil ||
		b.Ordering != nil || b.SequenceNumbers != nil
	if !ok && !destFields && (b.Enabled == nil || !*b.Enabled) {
		return c.json(http.StatusOK, unconfiguredLegacy()) // nothing to disable
	}
	now := c.now()
	if destFields || !ok {
		create := !d.Legacy
		if create {
			id, err := newID()
			if err != nil {
				return err
			}
			d = store.Destination{ID: id, OrgID: c.org, Name: "v2 org audit log webhook", Endpoint: d.Endpoint,
				Authorization: d.Authorization, LogFormat: d.LogFormat, SkipSSLVerification: d.SkipSSLVerification,
				Ordering: d.Ordering, SequenceNumbers: d.SequenceNumbers, Legacy: true, CreatedAt: now}
			if d.LogFormat == "" {
				d.LogFormat = audit.FormatCEF
			}
		}
		body := destinationBody{Endpoint: b.Endpoint, Authorization: b.Authorization, LogFormat: b.LogFormat,
			SkipSSLVerification: b.SkipSSLVerification, Ordering: b.Ordering, SequenceNumbers: b.SequenceNumbers,
			KeepAuthorizationOnOriginChange: b.KeepAuthorizationOnOriginChange}
		if err := body.apply(&d, s.cfg.InsecureDestinations, false); err != nil {
			return err
		}
		d.UpdatedAt = now
		if create {
			err = s.st.CreateDestination(c.ctx(), d)
		} else {
			err = s.st.UpdateDestination(c.ctx(), d)
		}
		if err != nil {
			return err
		}
	}
	old := w
	w = store.Webhook{Stream: c.orgStream(), OrgID: c.org, DestinationID: d.ID, Enabled: w.Enabled, UpdatedAt: now}
	if b.Enabled != nil {
		w.Enabled = *b.Enabled
	}
	if err := s.st.PutWebhook(c.ctx(), w); err != nil {
		return err
	}
	s.webhookChanged(w.Stream)
	s.dropLegacy(c, old, w.DestinationID)
	return c.json(http.StatusOK, toLegacyJSON(w, d))
}
