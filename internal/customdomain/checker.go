package customdomain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Mode is how claims are checked (--custom-domain-check).
type Mode string

const (
	// ModeDNS verifies a claim by its CNAME (the default).
	ModeDNS Mode = "dns"
	// ModeNone verifies every claim at once without asking DNS: for a
	// single-tenant server, where whoever sets a custom domain owns it.
	ModeNone Mode = "none"
)

// ParseMode reads --custom-domain-check.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeDNS, ModeNone:
		return m, nil
	}
	return "", fmt.Errorf("--custom-domain-check %q: want dns or none", s)
}

// Store is what the checker keeps its work in.
type Store interface {
	ClaimCustomDomainChecks(ctx context.Context, c store.CustomDomainClaim) ([]store.CustomDomainCheck, error)
	RecordCustomDomainCheck(ctx context.Context, r store.CustomDomainResult) (store.CustomDomainChange, error)
}

// Config tunes a Checker; zero values take the defaults.
type Config struct {
	Mode   Mode   // default ModeDNS
	Policy Policy // default DefaultPolicy
	// PortalDomainSuffix is where default domains are: the first name
	// under it in a claim's CNAME chain must be the portal's (LeadsTo).
	PortalDomainSuffix string
	// LookupTimeout bounds one check's DNS lookups, the whole chain.
	LookupTimeout time.Duration
	// Concurrency bounds the checks run at once by one process.
	Concurrency int
	// Batch is how many due checks one round takes.
	Batch int
	// PollEvery is how often the background loop looks for due checks
	// when the last round found fewer than Batch.
	PollEvery time.Duration
}

// Defaults of Config.
const (
	DefaultLookupTimeout = 5 * time.Second
	DefaultConcurrency   = 8
	DefaultBatch         = 64
	DefaultPollEvery     = 30 * time.Second
)

// Deps are a Checker's collaborators.
type Deps struct {
	Store    Store
	Resolver Resolver // unused in ModeNone
	Recorder store.Recorder
	Clock    clock.Clock
	Logger   *slog.Logger
}

// Checker runs the checks of custom domains.
type Checker struct {
	cfg  Config
	deps Deps
	sem  chan struct{}
}

// New returns a Checker.
func New(cfg Config, deps Deps) *Checker {
	if cfg.Mode == "" {
		cfg.Mode = ModeDNS
	}
	if cfg.Policy == (Policy{}) {
		cfg.Policy = DefaultPolicy
	}
	if cfg.LookupTimeout <= 0 {
		cfg.LookupTimeout = DefaultLookupTimeout
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = DefaultPollEvery
	}
	if deps.Clock == nil {
		deps.Clock = clock.Real{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	return &Checker{cfg: cfg, deps: deps, sem: make(chan struct{}, cfg.Concurrency)}
}

// Mode is the checker's mode.
func (c *Checker) Mode() Mode { return c.cfg.Mode }

// checkSlotWait bounds how long an API request waits for a free check.
const checkSlotWait = time.Second

// takeSlot takes one of the Concurrency slots, waiting at most
// checkSlotWait (no timer when one is free at once, the usual case); false
// when none came free or ctx ended first.
func (c *Checker) takeSlot(ctx context.Context) bool {
	select {
	case c.sem <- struct{}{}:
		return true
	default:
	}
	wait := c.deps.Clock.NewTimer(checkSlotWait)
	defer wait.Stop()
	select {
	case c.sem <- struct{}{}:
		return true
	case <-wait.C():
		return false
	case <-ctx.Done():
		return false
	}
}

// writeTimeout bounds storing a check's result and its org-log entries,
// which do not end with the caller's context.
const writeTimeout = 10 * time.Second

// hold is how long a taken check is left to its taker: its lookups, its
// write, and a wide margin. A taker that dies leaves it to another after.
func (c *Checker) hold() time.Duration { return 4*c.cfg.LookupTimeout + time.Minute }

// Check checks a portal's claim now (after it was made or changed), due
// or not, and returns what it changed. A portal without a claim changes
// nothing. It takes a turn among the Concurrency checks, as the background
// ones do, so requests cannot make unbounded lookups at once; when none
// is free within checkSlotWait it checks nothing (Stale): the claim is due
// and the background checks take it, so a busy checker never holds an API
// request.
func (c *Checker) Check(ctx context.Context, portalID string) (store.CustomDomainChange, error) {
	if !c.takeSlot(ctx) {
		return store.CustomDomainChange{Stale: true}, ctx.Err()
	}
	defer func() { <-c.sem }()
	cs, err := c.deps.Store.ClaimCustomDomainChecks(ctx, store.CustomDomainClaim{Now: c.deps.Clock.Now(), Hold: c.hold(), PortalID: portalID})
	if err != nil || len(cs) == 0 {
		return store.CustomDomainChange{Stale: true}, err
	}
	return c.run(ctx, cs[0])
}

// RunOnce takes up to Batch due checks and runs them, Concurrency at a
// time, and says how many it took.
func (c *Checker) RunOnce(ctx context.Context) (int, error) {
	cs, err := c.deps.Store.ClaimCustomDomainChecks(ctx, store.CustomDomainClaim{Now: c.deps.Clock.Now(), Hold: c.hold(), Limit: c.cfg.Batch})
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, chk := range cs {
		c.sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-c.sem }()
			if _, err := c.run(ctx, chk); err != nil && ctx.Err() == nil {
				c.deps.Logger.Warn("custom domain: storing a check failed; it is due again later",
					"portal_id", chk.PortalID, "hostname", chk.Hostname, "err", err)
			}
		})
	}
	wg.Wait()
	return len(cs), nil
}

// Run checks due claims until ctx ends, and returns ctx's error. Every
// replica runs it: each check is taken by one of them (the store's
// claim), so none is a single point of failure and none repeats another's
// work.
func (c *Checker) Run(ctx context.Context) error {
	for {
		n, err := c.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			c.deps.Logger.Warn("custom domain: taking due checks failed", "err", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil && n == c.cfg.Batch {
			continue
		}
		t := c.deps.Clock.NewTimer(c.cfg.PollEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}

// run runs one taken check and stores its result.
func (c *Checker) run(ctx context.Context, chk store.CustomDomainCheck) (store.CustomDomainChange, error) {
	finding, lookupErr := Found, error(nil)
	if c.cfg.Mode != ModeNone {
		lctx, cancel := context.WithTimeout(ctx, c.cfg.LookupTimeout)
		var found bool
		found, lookupErr = LeadsTo(lctx, c.deps.Resolver, chk.Hostname, chk.DefaultDomain, c.cfg.PortalDomainSuffix)
		cancel()
		if ctx.Err() != nil {
			return store.CustomDomainChange{}, ctx.Err()
		}
		switch {
		case lookupErr != nil:
			finding = Unknown
		case !found:
			finding = NotFound
		}
	}
	// From here on the result is written, and a change recorded in the org
	// log, even if the caller goes (a client that disconnects): a change
	// stored without its entries would be missing from the audit trail.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	ch, err := c.deps.Store.RecordCustomDomainCheck(wctx, c.cfg.Policy.Result(chk, finding, c.deps.Clock.Now()))
	if err != nil || ch.Stale {
		return ch, err
	}
	log := c.deps.Logger.With("portal_id", chk.PortalID, "org_id", chk.OrgID, "hostname", chk.Hostname)
	switch {
	case finding == Unknown:
		log.Warn("custom domain: DNS lookup failed; the claim stays as it is and is checked again soon",
			"cname_status", cnameStatus(ch.Verified), "err", lookupErr)
	case ch.Was == ch.Verified && finding == NotFound && ch.Verified:
		log.Warn("custom domain: a check of a verified name did not find its CNAME", "failures", chk.Failures+1,
			"threshold", c.cfg.Policy.Threshold, "target", chk.DefaultDomain)
	case ch.Contested:
		log.Info("custom domain: CNAME found, but another portal has the name verified until its checks fail")
	}
	if ch.Was != ch.Verified {
		log.Info("custom domain: "+cnameStatus(ch.Verified), "target", chk.DefaultDomain)
		if err := c.audit(wctx, chk, ch.Verified); err != nil {
			return ch, err
		}
	}
	return ch, nil
}

func cnameStatus(verified bool) string {
	if verified {
		return "verified"
	}
	return "pending"
}

// userAgent names the checker in the entries it writes.
const userAgent = "sigtrail-custom-domain-check"

// Entries are the org-log entries of chk's name becoming verified or
// pending at now: an authorization entry (Authz.portal-custom-domains/
// <portal id>, action edit, granted) and an access entry (PATCH of the
// portal's custom-domain path, 200, query cname_status=...&hostname=...),
// both kong_initiated: the server changed it, no request did.
func Entries(chk store.CustomDomainCheck, verified bool, now time.Time) []store.NewEntry {
	base := audit.Entry{Time: now.UTC(), Product: audit.ProductKonnect, OrgID: chk.OrgID, KongInitiated: true,
		TraceID: httpx.NewTraceID(), UserAgent: userAgent}
	authz := base
	authz.Kind, authz.ClassID, authz.Name = audit.KindAuthorization, audit.AuthzClassID, audit.AuthzNamePrefix+"portal-custom-domains/"+chk.PortalID
	authz.Action, authz.Granted = audit.ActionEdit, true
	access := base
	access.Kind, access.ClassID, access.Name = audit.KindAccess, audit.AccessClassGateway, audit.AccessName
	access.Request, access.Act, access.Status = "/v3/portals/"+chk.PortalID+"/custom-domain", "PATCH", 200
	access.Query = url.Values{"cname_status": {cnameStatus(verified)}, "hostname": {chk.Hostname}}.Encode()
	stream := store.StreamID(chk.OrgID)
	return []store.NewEntry{{Stream: stream, Entry: authz}, {Stream: stream, Entry: access}}
}

// audit records a change in the org log. The change is stored already;
// should the log refuse it, the error says so (and is logged).
func (c *Checker) audit(ctx context.Context, chk store.CustomDomainCheck, verified bool) error {
	if c.deps.Recorder == nil {
		return nil
	}
	if _, err := c.deps.Recorder.Record(ctx, Entries(chk, verified, c.deps.Clock.Now())); err != nil {
		c.deps.Logger.Error("custom domain: audit log unavailable; change not recorded", "portal_id", chk.PortalID,
			"hostname", chk.Hostname, "cname_status", cnameStatus(verified), "err", err)
		return errors.Join(errors.New("custom domain changed but not recorded in the org log"), err)
	}
	return nil
}
