// Package oidcrp is the Dev Portal's OpenID Connect relying party: the one
// package that talks to identity providers (with go-oidc and x/oauth2).
// It builds authorization requests (code flow, PKCE S256, state, nonce),
// redeems codes, verifies ID tokens against the issuer's published keys,
// and reads the mapped claims. Every request to a provider goes through
// the dial guard of audit-log destinations (package netguard) unless the
// development flag lifts it.
package oidcrp

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sigtrail/sigtrail/internal/netguard"
)

// providerTTL bounds how long a discovered provider (and its cached keys,
// which go-oidc refreshes on an unknown key id) is reused.
const providerTTL = time.Hour

// maxAnswer caps every answer read from a provider (discovery, keys,
// token, user info): a few KiB in practice, and x/oauth2 caps the token
// answer at this too. go-oidc reads the others whole, and puts an error
// answer's body in its error, which is logged; a provider (configured by a
// portal admin, reached for anyone who opens the log-in) that answers
// without end must not grow the server's memory or its log.
const maxAnswer = 1 << 20

// errAnswerTooLarge ends the read of an answer past maxAnswer.
var errAnswerTooLarge = errors.New("the identity provider's answer is larger than 1 MiB")

// cappedTransport reads at most maxAnswer bytes of each answer.
type cappedTransport struct{ next http.RoundTripper }

func (t cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	res.Body = &cappedBody{rc: res.Body, left: maxAnswer}
	return res, nil
}

type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errAnswerTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		b.left = -1
		return 0, errAnswerTooLarge
	}
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// ErrUnreachable is a provider that could not be discovered: a dependency
// down (or refused by the dial guard), not a refused log-in.
var ErrUnreachable = errors.New("identity provider unreachable")

// Provider is what a portal's identity provider is configured with.
type Provider struct {
	Issuer, ClientID, ClientSecret     string
	Scopes                             []string
	ClaimName, ClaimEmail, ClaimGroups string
}

// Identity is what a verified ID token (and the user info, for claims the
// token lacks) says about the person.
type Identity struct {
	Subject, Email, Name string
	EmailVerified        bool
	Groups               []string
}

// failureTTL is how long a failed discovery answers for its issuer
// before the provider is asked again: anyone may open a portal's SSO
// start, and without it each opening would make the server ask a failing
// (or slow) provider again and hold a connection to it for up to 15 s.
const failureTTL = 10 * time.Second

// Client talks to identity providers and caches their discovery.
type Client struct {
	http *http.Client
	now  func() time.Time
	mu   sync.Mutex
	byIs map[string]cached
	// discovering serialises one issuer's discoveries, so requests that
	// arrive during one wait for its result instead of each asking. An
	// entry lives while a request holds or waits for it, so the map holds
	// only the issuers being asked now.
	discovering map[string]*discovery
}

// discovery is one issuer's lock and the number of requests holding or
// waiting for it (guarded by Client.mu).
type discovery struct {
	sync.Mutex
	users int
}

// cached is a discovery's result: a provider, or the error it failed with.
type cached struct {
	p   *oidc.Provider
	err error
	at  time.Time
}

// New returns a client whose ID token checks use now. insecure lifts the
// dial guard and allows http:// (development only).
func New(insecure bool, now func() time.Time) *Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !insecure {
		dialer.Control = netguard.DialControl
	}
	t := &http.Transport{
		Proxy:               nil, // a proxy would have the guard check the proxy's address
		DialContext:         dialer.DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}
	c := &http.Client{Transport: cappedTransport{next: t}, Timeout: 15 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "https" && !insecure {
				return errors.New("redirect away from https")
			}
			return nil
		}}
	return &Client{http: c, now: now, byIs: map[string]cached{}, discovering: map[string]*discovery{}}
}

// NewVerifier returns a fresh PKCE code verifier.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// provider is the issuer's discovered provider, asked for at most once an
// hour while it answers, and once per failureTTL while it fails.
func (c *Client) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	c.mu.Lock()
	one, ok := c.discovering[issuer]
	if !ok {
		one = &discovery{}
		c.discovering[issuer] = one
	}
	one.users++
	c.mu.Unlock()
	one.Lock()
	defer func() {
		one.Unlock()
		c.mu.Lock()
		if one.users--; one.users == 0 {
			delete(c.discovering, issuer)
		}
		c.mu.Unlock()
	}()

	now := c.now()
	c.mu.Lock()
	e, ok := c.byIs[issuer]
	c.mu.Unlock()
	if ok && !e.stale(now) {
		return e.p, e.err
	}
	// The result serves every request for a while: one client hanging up
	// must not cut it short (the HTTP client's timeout bounds it).
	p, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), c.http), issuer)
	if err != nil {
		err = fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	c.mu.Lock()
	// Results past their time answer no one: drop them, so the cache holds
	// the issuers asked within the last providerTTL, not every one ever.
	for is, e := range c.byIs {
		if e.stale(now) {
			delete(c.byIs, is)
		}
	}
	c.byIs[issuer] = cached{p: p, err: err, at: now}
	c.mu.Unlock()
	return p, err
}

// stale reports whether the result no longer answers at now.
func (e cached) stale(now time.Time) bool {
	if e.err != nil {
		return now.Sub(e.at) >= failureTTL
	}
	return now.Sub(e.at) >= providerTTL
}

func config(p Provider, op *oidc.Provider, redirectURL string) *oauth2.Config {
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, Endpoint: op.Endpoint(), RedirectURL: redirectURL, Scopes: p.Scopes}
}

// AuthCodeURL is the authorization request to send the browser to.
func (c *Client) AuthCodeURL(ctx context.Context, p Provider, redirectURL, state, nonce, verifier string) (string, error) {
	op, err := c.provider(ctx, p.Issuer)
	if err != nil {
		return "", err
	}
	return config(p, op, redirectURL).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Redeem exchanges the code (with the PKCE verifier), verifies the ID
// token (signature against the issuer's keys, issuer, audience, expiry)
// and its nonce, and reads the identity. An error other than
// ErrUnreachable is a refusal; its text says why, for the log only.
func (c *Client) Redeem(ctx context.Context, p Provider, redirectURL, code, verifier, nonce string) (Identity, error) {
	op, err := c.provider(ctx, p.Issuer)
	if err != nil {
		return Identity{}, err
	}
	ctx = oidc.ClientContext(ctx, c.http)
	cfg := config(p, op, redirectURL)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("code exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, errors.New("no id_token")
	}
	idt, err := op.VerifierContext(ctx, &oidc.Config{ClientID: p.ClientID, Now: c.now}).Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("id token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return Identity{}, errors.New("nonce does not match")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, err
	}
	if _, ok := claims[p.ClaimEmail]; !ok && op.UserInfoEndpoint() != "" {
		if err := userInfo(ctx, op, cfg, tok, idt.Subject, claims); err != nil {
			return Identity{}, err
		}
	}
	return identity(p, idt.Subject, claims), nil
}

// userInfo adds the claims the ID token lacks from the user info endpoint,
// which must speak of the same subject.
func userInfo(ctx context.Context, op *oidc.Provider, cfg *oauth2.Config, tok *oauth2.Token, subject string, claims map[string]any) error {
	ui, err := op.UserInfo(ctx, cfg.TokenSource(ctx, tok))
	if err != nil {
		return fmt.Errorf("user info: %w", err)
	}
	if ui.Subject != subject {
		return errors.New("user info is of another subject")
	}
	extra := map[string]any{}
	if err := ui.Claims(&extra); err != nil {
		return err
	}
	for k, v := range extra {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return nil
}

// identity reads the mapped claims.
func identity(p Provider, subject string, claims map[string]any) Identity {
	id := Identity{Subject: subject}
	id.Email, _ = claims[p.ClaimEmail].(string)
	id.Name, _ = claims[p.ClaimName].(string)
	switch v := claims["email_verified"].(type) {
	case bool:
		id.EmailVerified = v
	case string: // some providers send "true"
		id.EmailVerified = v == "true"
	}
	// email_verified vouches for the email claim alone (OpenID Connect
	// Core 5.1). An address mapped from another claim (a user name the
	// provider's user chose, say) is verified only when it is that email.
	if id.EmailVerified && p.ClaimEmail != "email" {
		std, _ := claims["email"].(string)
		id.EmailVerified = std != "" && strings.EqualFold(std, id.Email)
	}
	switch g := claims[p.ClaimGroups].(type) {
	case string:
		id.Groups = []string{g}
	case []any:
		for _, x := range g {
			if s, ok := x.(string); ok {
				id.Groups = append(id.Groups, s)
			}
		}
	}
	return id
}
