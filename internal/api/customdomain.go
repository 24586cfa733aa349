package api

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// CustomDomainChecker checks a portal's custom domain now (package
// customdomain): on create and update, so a CNAME already in place is
// verified at once; the background checks do the rest.
type CustomDomainChecker interface {
	Check(ctx context.Context, portalID string) (store.CustomDomainChange, error)
}

// customDomainRoutes serve a portal's custom domain. Setting one makes a
// claim, pending until DNS shows the name to be a CNAME of the portal's
// default domain (cname_status verified); only then does the portal
// listener serve the portal on it. Several portals, of any orgs, may claim
// one name: the answers never tell one org of another's claim, and DNS
// decides which is verified. With Config.CustomDomainsUnchecked (a single
// tenant) a claim is verified at once and a name another portal has is a
// 400, as before DNS checks. sigtrail terminates no TLS (a proxy in front
// of the listener does): a domain is enabled while it exists, and
// disabling it is deleting it.
func (s *server) customDomainRoutes() []route {
	const path = "/v3/portals/{portalId}/custom-domain"
	return []route{
		{method: http.MethodGet, path: path, resource: resCustomDomains, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getCustomDomain},
		{method: http.MethodPost, path: path, resource: resCustomDomains, action: audit.ActionCreate, roles: portalWriters(), handle: s.createCustomDomain},
		{method: http.MethodPatch, path: path, resource: resCustomDomains, action: audit.ActionEdit, roles: portalWriters(), handle: s.updateCustomDomain},
		{method: http.MethodDelete, path: path, resource: resCustomDomains, action: audit.ActionDelete, roles: portalWriters(), handle: s.deleteCustomDomain},
	}
}

// customDomainJSON is Kong's PortalCustomDomain.
type customDomainJSON struct {
	Hostname    string    `json:"hostname"`
	Enabled     bool      `json:"enabled"`
	SSL         sslJSON   `json:"ssl"`
	CNAMEStatus string    `json:"cname_status"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type sslJSON struct {
	DomainVerificationMethod string `json:"domain_verification_method"`
	VerificationStatus       string `json:"verification_status"`
}

// toCustomDomainJSON shows p's custom domain. The store keeps no times of
// its own for the domain: both are when the portal last changed.
// ssl.verification_status follows cname_status: with the http method
// the certificate is the TLS proxy's, which can have one for the name only
// once the name leads here, and sigtrail cannot see the proxy's
// certificate to say more (never "error": sigtrail has no error to show).
func toCustomDomainJSON(p store.Portal) customDomainJSON {
	status := "pending"
	if p.CustomDomainVerified {
		status = "verified"
	}
	return customDomainJSON{Hostname: p.CustomDomain, Enabled: true, CNAMEStatus: status,
		SSL:       sslJSON{DomainVerificationMethod: "http", VerificationStatus: status},
		CreatedAt: p.UpdatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
}

// checkCustomDomain checks p's claim now and sets p's status from it. A
// check that fails to run leaves the claim pending for the background
// checks (and is logged): the claim is stored either way.
func (s *server) checkCustomDomain(c *call, p *store.Portal) {
	if s.domains == nil {
		return
	}
	ch, err := s.domains.Check(c.ctx(), p.ID)
	if err != nil {
		s.log.Warn("custom domain: check on request failed; the background checks will retry",
			"portal_id", p.ID, "hostname", p.CustomDomain, "trace_id", c.traceID, "err", err)
		return
	}
	if !ch.Stale {
		p.CustomDomainVerified = ch.Verified
	}
}

type customDomainSSLBody struct {
	DomainVerificationMethod *string `json:"domain_verification_method"`
	CustomCertificate        *string `json:"custom_certificate"`
	CustomPrivateKey         *string `json:"custom_private_key"`
	SkipCACheck              *bool   `json:"skip_ca_check"`
}

type customDomainBody struct {
	Hostname *string              `json:"hostname"`
	Enabled  *bool                `json:"enabled"`
	SSL      *customDomainSSLBody `json:"ssl"`
}

// check validates what sigtrail can do of a request: no certificates (TLS
// is the proxy's), and enabled only true.
func (b customDomainBody) check() error {
	if b.Enabled != nil && !*b.Enabled {
		return apperr.InvalidField("body", "enabled", "invalid",
			"must be true: sigtrail serves a custom domain while it exists; delete it to stop")
	}
	if b.SSL == nil {
		return nil
	}
	if m := b.SSL.DomainVerificationMethod; m != nil && *m != "http" {
		return apperr.InvalidField("body", "ssl.domain_verification_method", "invalid",
			"must be http: TLS is terminated by the proxy in front of sigtrail, which holds the certificate")
	}
	if b.SSL.CustomCertificate != nil || b.SSL.CustomPrivateKey != nil || b.SSL.SkipCACheck != nil {
		return apperr.InvalidField("body", "ssl", "invalid",
			"custom certificates are not supported: TLS is terminated by the proxy in front of sigtrail")
	}
	return nil
}

// checkCustomHostname validates a custom domain: a DNS name (not an
// address), not under the suffix of default domains, where it could take
// the name another portal would be given.
func (s *server) checkCustomHostname(v string) (string, error) {
	h := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(v), "."))
	bad := func(reason string) error { return apperr.InvalidField("body", "hostname", "is_fqdn", reason) }
	if h == "" {
		return "", apperr.InvalidField("body", "hostname", "required", "is required")
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return "", bad("must be a domain name, not an address")
	}
	if !validHostname(h) || strings.Contains(h, "_") || !strings.Contains(h, ".") {
		return "", bad("must be a fully qualified domain name")
	}
	suffix := strings.ToLower(s.cfg.PortalDomainSuffix)
	if h == suffix || strings.HasSuffix(h, "."+suffix) {
		return "", bad("must not be under " + suffix + ", where portals get their default domains")
	}
	return h, nil
}

// withCustomDomain loads the portal of the path, which must have a custom
// domain.
func (s *server) withCustomDomain(c *call) (store.Portal, error) {
	p, err := s.portal(c)
	if err == nil && p.CustomDomain == "" {
		err = apperr.New(apperr.NotFound, "Portal %s has no custom domain", p.ID)
	}
	return p, err
}

func (s *server) getCustomDomain(c *call) error {
	p, err := s.withCustomDomain(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, toCustomDomainJSON(p))
}

func (s *server) createCustomDomain(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	var b customDomainBody
	if err := c.decode(&b); err != nil {
		return err
	}
	switch {
	case b.Hostname == nil:
		return apperr.InvalidField("body", "hostname", "required", "is required")
	case b.Enabled == nil:
		return apperr.InvalidField("body", "enabled", "required", "is required")
	case b.SSL == nil:
		return apperr.InvalidField("body", "ssl", "required", "is required")
	}
	if err := b.check(); err != nil {
		return err
	}
	host, err := s.checkCustomHostname(*b.Hostname)
	if err != nil {
		return err
	}
	if p.CustomDomain != "" {
		return apperr.InvalidField("body", "hostname", "invalid",
			"the portal already has the custom domain "+p.CustomDomain+"; delete it first")
	}
	taken := apperr.InvalidField("body", "hostname", "invalid", "is already the domain of a portal")
	if s.cfg.CustomDomainsUnchecked {
		// One tenant: whoever claims a name owns it, first come first served.
		if other, err := s.st.GetPortalByDomain(c.ctx(), host); err == nil && other.ID != p.ID {
			return taken
		} else if err != nil && !apperr.Is(err, apperr.NotFound) {
			return err
		}
	}
	p.CustomDomain, p.UpdatedAt = host, c.now()
	if err := s.st.UpdatePortal(c.ctx(), p); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			// Only another portal's default domain (public anyway)
			// conflicts; others' claims never do.
			return taken
		}
		return err
	}
	s.checkCustomDomain(c, &p)
	return c.json(http.StatusCreated, toCustomDomainJSON(p))
}

// updateCustomDomain accepts what changes nothing in sigtrail (enabled:
// true, the http verification method), so clients that send them work,
// and checks the claim again now (after its CNAME was set up, say).
func (s *server) updateCustomDomain(c *call) error {
	p, err := s.withCustomDomain(c)
	if err != nil {
		return err
	}
	var b customDomainBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Hostname != nil {
		return apperr.InvalidField("body", "hostname", "unknown_property", "cannot be changed; delete the custom domain and create another")
	}
	if err := b.check(); err != nil {
		return err
	}
	s.checkCustomDomain(c, &p)
	return c.json(http.StatusOK, toCustomDomainJSON(p))
}

func (s *server) deleteCustomDomain(c *call) error {
	p, err := s.withCustomDomain(c)
	if err != nil {
		return err
	}
	p.CustomDomain, p.UpdatedAt = "", c.now()
	if err := s.st.UpdatePortal(c.ctx(), p); err != nil {
		return err
	}
	return c.noContent()
}
