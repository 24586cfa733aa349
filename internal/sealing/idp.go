package sealing

import (
	"context"
	"fmt"

	"github.com/sigtrail/sigtrail/internal/store"
)

// An identity provider's client secret is sealed as a destination's
// authorization is: bound to its row and field.
func idpContext(p store.IdentityProvider) string {
	return "identity-provider/" + p.ID + "/client-secret"
}

func (s *Store) sealIdP(p store.IdentityProvider) store.IdentityProvider {
	if p.ClientSecret != "" && s.keys != nil {
		p.ClientSecret = s.keys.Seal([]byte(p.ClientSecret), idpContext(p))
	}
	return p
}

func (s *Store) openIdP(p store.IdentityProvider) (store.IdentityProvider, error) {
	plain, _, err := s.keys.Open(p.ClientSecret, idpContext(p))
	if err != nil {
		s.log.Error("cannot open a sealed identity provider client secret", "identity_provider", p.ID, "portal", p.PortalID, "err", err)
		return p, fmt.Errorf("identity provider %s client secret: %w", p.ID, err)
	}
	p.ClientSecret = string(plain)
	return p, nil
}

func (s *Store) CreateIdentityProvider(ctx context.Context, p store.IdentityProvider) error {
	return s.Store.CreateIdentityProvider(ctx, s.sealIdP(p))
}

func (s *Store) UpdateIdentityProvider(ctx context.Context, p store.IdentityProvider) error {
	return s.Store.UpdateIdentityProvider(ctx, s.sealIdP(p))
}

func (s *Store) GetIdentityProvider(ctx context.Context, portalID, id string) (store.IdentityProvider, error) {
	p, err := s.Store.GetIdentityProvider(ctx, portalID, id)
	if err != nil {
		return p, err
	}
	return s.openIdP(p)
}

func (s *Store) ListIdentityProviders(ctx context.Context, portalID string) ([]store.IdentityProvider, error) {
	ps, err := s.Store.ListIdentityProviders(ctx, portalID)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		if ps[i], err = s.openIdP(ps[i]); err != nil {
			return nil, err
		}
	}
	return ps, nil
}
