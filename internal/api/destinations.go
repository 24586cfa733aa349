package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// destinationRoutes serves /v2 and /v3 audit-log-destinations, which are
// the same resource under two versions.
func (s *server) destinationRoutes() []route {
	var rs []route
	for _, v := range []string{"/v2", "/v3"} {
		base := v + "/audit-log-destinations"
		one := base + "/{auditLogDestinationId}"
		rs = append(rs,
			route{method: http.MethodGet, path: base, resource: resDestinations, action: audit.ActionList, roles: auditReaders(), handle: s.listDestinations},
			route{method: http.MethodPost, path: base, resource: resDestinations, action: audit.ActionCreate, roles: auditWriters(), handle: s.createDestination},
			route{method: http.MethodGet, path: one, resource: resDestinations, action: audit.ActionRetrieve, roles: auditReaders(), handle: s.getDestination},
			route{method: http.MethodPatch, path: one, resource: resDestinations, action: audit.ActionEdit, roles: auditWriters(), handle: s.updateDestination},
			route{method: http.MethodDelete, path: one, resource: resDestinations, action: audit.ActionDelete, roles: auditWriters(), handle: s.deleteDestination},
		)
	}
	return rs
}

// destinationJSON is a destination as the API shows it: never its
// authorization.
type destinationJSON struct {
	ID                  string       `json:"id"`
	Name                string       `json:"name"`
	Endpoint            string       `json:"endpoint"`
	LogFormat           audit.Format `json:"log_format"`
	SkipSSLVerification bool         `json:"skip_ssl_verification"`
	// Ordering is sigtrail's (orderingField); Kong's destination schemas
	// allow properties they do not name.
	Ordering string `json:"ordering"`
	// SequenceNumbers is sigtrail's too: lines carry seq and stream, and
	// the stream carries checkpoint lines (docs/completeness.md).
	SequenceNumbers bool      `json:"sequence_numbers"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func toDestinationJSON(d store.Destination) destinationJSON {
	return destinationJSON{
		ID: d.ID, Name: d.Name, Endpoint: d.Endpoint, LogFormat: d.LogFormat,
		SkipSSLVerification: d.SkipSSLVerification, Ordering: store.NormalOrdering(d.Ordering),
		SequenceNumbers: d.SequenceNumbers, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
}

// destinationBody is the create and update request. Pointers tell a field
// left out from one set to its zero value.
type destinationBody struct {
	Name                *string `json:"name"`
	Endpoint            *string `json:"endpoint"`
	Authorization       *string `json:"authorization"`
	LogFormat           *string `json:"log_format"`
	SkipSSLVerification *bool   `json:"skip_ssl_verification"`
	Ordering            *string `json:"ordering"`
	SequenceNumbers     *bool   `json:"sequence_numbers"`
	// KeepAuthorizationOnOriginChange: see checkOriginChange.
	KeepAuthorizationOnOriginChange *bool `json:"keep_authorization_on_origin_change"`
}

// apply merges the body into d and validates the result.
func (b destinationBody) apply(d *store.Destination, insecure, creating bool) error {
	if creating && b.KeepAuthorizationOnOriginChange != nil {
		return apperr.InvalidField("body", keepAuthField, "invalid", "applies only to a change of endpoint")
	}
	oldEndpoint, oldSkip := d.Endpoint, d.SkipSSLVerification
	if b.Name != nil {
		d.Name = strings.TrimSpace(*b.Name)
	}
	if b.Endpoint != nil {
		d.Endpoint = strings.TrimSpace(*b.Endpoint)
	}
	if b.Authorization != nil {
		d.Authorization = *b.Authorization
	}
	if b.LogFormat != nil {
		f, err := parseLogFormat(*b.LogFormat)
		if err != nil {
			return err
		}
		d.LogFormat = f
	} else if creating {
		return apperr.InvalidField("body", "log_format", "required", "is required")
	}
	if b.SkipSSLVerification != nil {
		d.SkipSSLVerification = *b.SkipSSLVerification
	}
	if b.Ordering != nil {
		o, err := parseOrdering(*b.Ordering)
		if err != nil {
			return err
		}
		d.Ordering = o
	}
	d.Ordering = store.NormalOrdering(d.Ordering)
	if b.SequenceNumbers != nil {
		d.SequenceNumbers = *b.SequenceNumbers
	}
	if err := checkText("name", d.Name, maxNameLen, true); err != nil {
		return err
	}
	if err := checkEndpoint(d.Endpoint, insecure); err != nil {
		return err
	}
	// Turning TLS verification off lets whoever answers for the host take
	// the secret: the same rule as a new origin.
	moved := d.Endpoint
	if !oldSkip && d.SkipSSLVerification {
		moved = ""
	}
	if err := checkOriginChange(oldEndpoint, moved, d.Authorization, b.Authorization != nil, b.KeepAuthorizationOnOriginChange); err != nil {
		return err
	}
	return checkAuthorization(d.Authorization, true)
}

func (s *server) listDestinations(c *call) error {
	q := c.r.URL.Query()
	p, err := cursorPage(q)
	if err != nil {
		return err
	}
	filters, err := parseFilters(q, "name")
	if err != nil {
		return err
	}
	nf := store.NameFilter{Eq: filters["name"].Eq, Contains: filters["name"].Contains}
	ds, more, err := s.st.ListDestinations(c.ctx(), c.org, nf, p)
	if err != nil {
		return err
	}
	data := make([]destinationJSON, 0, len(ds))
	for _, d := range ds {
		data = append(data, toDestinationJSON(d))
	}
	var first, last string
	if len(ds) > 0 {
		first, last = ds[0].ID, ds[len(ds)-1].ID
	}
	return c.json(http.StatusOK, map[string]any{
		"data": data,
		"meta": cursorLinks(c.r.URL.Path, q, p, first, last, more),
	})
}

func (s *server) createDestination(c *call) error {
	var b destinationBody
	if err := c.decode(&b); err != nil {
		return err
	}
	id, err := newID()
	if err != nil {
		return err
	}
	now := c.now()
	d := store.Destination{ID: id, OrgID: c.org, CreatedAt: now, UpdatedAt: now}
	if err := b.apply(&d, s.cfg.InsecureDestinations, true); err != nil {
		return err
	}
	if err := s.st.CreateDestination(c.ctx(), d); err != nil {
		return err
	}
	return c.json(http.StatusCreated, toDestinationJSON(d))
}

// destination loads a destination of the caller's org named in the path.
// Legacy destinations (held by the v2 webhook) are not addressable here.
func (s *server) destination(c *call) (store.Destination, error) {
	id, err := c.pathUUID("auditLogDestinationId")
	if err != nil {
		return store.Destination{}, err
	}
	d, err := s.st.GetDestination(c.ctx(), c.org, id)
	if err == nil && (d.Legacy || d.OrgID != c.org) {
		err = apperr.New(apperr.NotFound, "Audit log destination not found")
	}
	if apperr.Is(err, apperr.NotFound) {
		return store.Destination{}, apperr.New(apperr.NotFound, "Audit log destination %s not found", id)
	}
	return d, err
}

func (s *server) getDestination(c *call) error {
	d, err := s.destination(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, toDestinationJSON(d))
}

func (s *server) updateDestination(c *call) error {
	d, err := s.destination(c)
	if err != nil {
		return err
	}
	var b destinationBody
	if err := c.decode(&b); err != nil {
		return err
	}
	old := d
	if err := b.apply(&d, s.cfg.InsecureDestinations, false); err != nil {
		return err
	}
	d.UpdatedAt = c.now()
	if err := s.st.UpdateDestination(c.ctx(), d); err != nil {
		return err
	}
	// Webhooks sending to it must pick up the new endpoint or format. A
	// rename leaves them sending; they still compare with the store, as
	// old was read outside the write and a concurrent change may have
	// come between.
	notify := s.webhookChanged
	if store.SameDelivery(old, d) {
		notify = s.recheckWebhook
	}
	hooks, err := s.st.WebhooksUsingDestination(c.ctx(), c.org, d.ID)
	if err != nil {
		s.log.Error("list webhooks of a changed destination", "trace_id", c.traceID, "err", err)
	}
	for _, w := range hooks {
		notify(w.Stream)
	}
	return c.json(http.StatusOK, toDestinationJSON(d))
}

func (s *server) deleteDestination(c *call) error {
	d, err := s.destination(c)
	if err != nil {
		return err
	}
	hooks, err := s.st.WebhooksUsingDestination(c.ctx(), c.org, d.ID)
	if err != nil {
		return err
	}
	if len(hooks) > 0 {
		return inUse(d.ID, hooks)
	}
	if err := s.st.DeleteDestination(c.ctx(), c.org, d.ID); err != nil {
		if apperr.Is(err, apperr.Conflict) { // a webhook took it meanwhile
			hooks, _ = s.st.WebhooksUsingDestination(c.ctx(), c.org, d.ID)
			return inUse(d.ID, hooks)
		}
		return err
	}
	return c.noContent()
}

// inUse explains which webhooks hold a destination.
func inUse(id string, hooks []store.Webhook) error {
	var users []string
	for _, w := range hooks {
		if w.PortalID == "" {
			users = append(users, "the org audit log webhook")
		} else {
			users = append(users, "the audit log webhook of portal "+w.PortalID)
		}
	}
	if len(users) == 0 {
		users = []string{"a webhook"}
	}
	// "destination is in use" verbatim: Kong's CLI retries on that text.
	return apperr.New(apperr.Conflict, "%s", fmt.Sprintf(
		"Audit log destination is in use by %s (destination %s); point the webhook elsewhere or delete it first",
		strings.Join(users, " and "), id))
}
