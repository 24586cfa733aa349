package tenancy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Reserved org names.
const (
	// DefaultOrgName is the org Bootstrap creates.
	DefaultOrgName = "default"
	// SystemOrgName is the reserved org whose stream records requests that
	// belong to no org (unknown or missing tokens). Operators read it like any
	// other org's log; no token of another org can reach it.
	SystemOrgName = "_system"
)

// Why an authentication failed. Callers log them; users only see 401.
var (
	ErrTokenNotFound = errors.New("token not found")
	ErrTokenExpired  = errors.New("token expired")
	ErrNoCredentials = errors.New("no bearer credentials")
)

// Service creates orgs and tokens and authenticates secrets.
type Service struct {
	st    store.Tenancy
	clk   clock.Clock
	cache *tokenCache // nil: every Authenticate asks the store (see NewCached)
}

// New returns a Service over st, taking the time from clk.
func New(st store.Tenancy, clk clock.Clock) *Service { return &Service{st: st, clk: clk} }

// ValidateOrgName checks a name given by a person. Names starting with '_'
// are reserved for sigtrail.
func ValidateOrgName(name string) error {
	if name == "" {
		return apperr.InvalidField("body", "name", "required", "is required")
	}
	if len(name) > 63 {
		return apperr.InvalidField("body", "name", "invalid", "must be at most 63 characters")
	}
	for i, r := range name {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if i == 0 && !alnum {
			return apperr.InvalidField("body", "name", "invalid", "must start with a letter or digit")
		}
		if !alnum && r != '-' && r != '_' && r != '.' {
			return apperr.InvalidField("body", "name", "invalid", "may hold only letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

// CreateOrg creates an org with a name a person chose.
func (s *Service) CreateOrg(ctx context.Context, name string) (store.Org, error) {
	if err := ValidateOrgName(name); err != nil {
		return store.Org{}, err
	}
	return s.createOrg(ctx, name)
}

func (s *Service) createOrg(ctx context.Context, name string) (store.Org, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return store.Org{}, apperr.Wrap(err, "new org id")
	}
	o := store.Org{ID: id.String(), Name: name, CreatedAt: s.clk.Now().UTC()}
	if err := s.st.CreateOrg(ctx, o); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return store.Org{}, apperr.New(apperr.Conflict, "An org named %q already exists", name)
		}
		return store.Org{}, err
	}
	return o, nil
}

// SystemOrg returns the reserved system org, creating it on first use. Two
// processes racing to create it both end up with the same org.
func (s *Service) SystemOrg(ctx context.Context) (store.Org, error) {
	o, err := s.st.GetOrgByName(ctx, SystemOrgName)
	if err == nil || !apperr.Is(err, apperr.NotFound) {
		return o, err
	}
	o, err = s.createOrg(ctx, SystemOrgName)
	if apperr.Is(err, apperr.Conflict) {
		return s.st.GetOrgByName(ctx, SystemOrgName)
	}
	return o, err
}

// latestExpiry is the latest expiry the stores can keep: they hold times
// as nanoseconds since the epoch in an int64, which a later time
// overflows into the past (a token made with --expires 100000d was
// refused at once, its expiry read back as 1716).
var latestExpiry = time.Unix(0, math.MaxInt64).UTC().Truncate(time.Second)

// TokenSpec describes a token to create.
type TokenSpec struct {
	OrgID  string
	Name   string
	Role   store.Role
	System bool
	TTL    time.Duration // 0: never expires
	// OwnerUserID is the org user who owns the token: the console user
	// creating it. "" makes an org-level token (the operator's: sigtrail
	// token create, the bootstrap token). A token created through a
	// request another token authenticated (no API operation does so
	// today) would be owned by that token's owner, so disabling the owner
	// ends everything it started. See store.Token.OwnerUserID.
	OwnerUserID string
}

// CreateToken creates a token and returns it with its secret, which is
// shown once and never stored.
func (s *Service) CreateToken(ctx context.Context, spec TokenSpec) (store.Token, string, error) {
	secret, err := NewSecret(spec.System)
	if err != nil {
		return store.Token{}, "", apperr.Wrap(err, "new secret")
	}
	t, err := s.createTokenWithSecret(ctx, spec, secret)
	return t, secret, err
}

func (s *Service) createTokenWithSecret(ctx context.Context, spec TokenSpec, secret string) (store.Token, error) {
	if !store.ValidRole(spec.Role) {
		return store.Token{}, apperr.InvalidField("body", "role", "invalid",
			fmt.Sprintf("must be one of %s", strings.Join(RoleNames(), ", ")))
	}
	if strings.TrimSpace(spec.Name) == "" {
		return store.Token{}, apperr.InvalidField("body", "name", "required", "is required")
	}
	if spec.TTL < 0 {
		return store.Token{}, apperr.InvalidField("body", "expires", "invalid", "must not be negative")
	}
	if spec.TTL > 0 && s.clk.Now().Add(spec.TTL).After(latestExpiry) {
		return store.Token{}, apperr.InvalidField("body", "expires", "invalid",
			"must end by "+latestExpiry.Format(time.RFC3339)+" (omit it for a token that never expires)")
	}
	if _, err := s.st.GetOrg(ctx, spec.OrgID); err != nil {
		return store.Token{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return store.Token{}, apperr.Wrap(err, "new token id")
	}
	now := s.clk.Now().UTC()
	t := store.Token{
		ID: id.String(), OrgID: spec.OrgID, Name: spec.Name, Role: spec.Role,
		Hash: HashSecret(secret), System: spec.System, CreatedAt: now, OwnerUserID: spec.OwnerUserID,
	}
	if spec.TTL > 0 {
		t.ExpiresAt = now.Add(spec.TTL)
	}
	if err := s.st.CreateToken(ctx, t); err != nil {
		return store.Token{}, err
	}
	return t, nil
}

// RevocationResource names the authorization entry of a token revoked
// because its owner was disabled: Kong's "Authz.<resource>/{id}" form.
func RevocationResource(tokenID string) string { return "tokens/" + tokenID }

// RevocationEntries are the org-log entries of tokens revoked with their
// owner (store.Users.DisableUser): one granted authorization entry
// (Authz.tokens/<id>, action delete) per token, each a copy of base (time,
// source, principal, trace) in the token's org stream.
func RevocationEntries(base audit.Entry, revoked []store.Token) []store.NewEntry {
	out := make([]store.NewEntry, 0, len(revoked))
	for _, t := range revoked {
		e := base
		e.Kind = audit.KindAuthorization
		e.Product = audit.ProductKonnect
		e.ClassID = audit.AuthzClassID
		e.Name = audit.AuthzNamePrefix + RevocationResource(t.ID)
		e.Action = audit.ActionDelete
		e.Granted = true
		e.OrgID = t.OrgID
		out = append(out, store.NewEntry{Stream: store.StreamID(t.OrgID), Entry: e})
	}
	return out
}

// RoleNames lists the roles a token may have.
func RoleNames() []string {
	return []string{string(store.RoleOrgAdmin), string(store.RoleAuditLogAdmin), string(store.RolePortalAdmin),
		string(store.RoleReadOnly), string(store.RoleProducer)}
}

// Authenticate finds the token of a presented secret. Failures are
// apperr.Unauthorized wrapping ErrTokenNotFound or ErrTokenExpired; for an
// expired token the token is returned too, so its org can log the attempt.
func (s *Service) Authenticate(ctx context.Context, secret string) (store.Token, error) {
	if secret == "" {
		return store.Token{}, unauthorized(ErrNoCredentials)
	}
	hash := HashSecret(secret)
	t, cached := s.cache.get(hash)
	if !cached {
		var err error
		if t, err = s.st.GetTokenByHash(ctx, hash); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return store.Token{}, unauthorized(ErrTokenNotFound)
			}
			return store.Token{}, err
		}
		s.cache.put(hash, t)
	}
	if !t.ExpiresAt.IsZero() && !s.clk.Now().Before(t.ExpiresAt) {
		return t, unauthorized(ErrTokenExpired)
	}
	return t, nil
}

func unauthorized(cause error) error {
	return &apperr.Error{Code: apperr.Unauthorized, Message: "Invalid credentials", Err: cause}
}

// Outcome names an Authenticate result the way the audit log records it.
func Outcome(err error) audit.Outcome {
	switch {
	case err == nil:
		return audit.OutcomeSuccess
	case errors.Is(err, ErrTokenExpired):
		return audit.OutcomeTokenExpired
	case errors.Is(err, ErrTokenNotFound):
		return audit.OutcomeNotFound
	}
	return audit.OutcomeInvalid
}
