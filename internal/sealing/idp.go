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

// resealIdPs rewrites every identity provider client secret of raw that is
// plaintext or sealed with an older key, as Reseal does destinations.
func resealIdPs(ctx context.Context, raw store.Store, keys *Keyring) (int, error) {
	n := 0
	orgs, err := raw.ListOrgs(ctx)
	if err != nil {
		return n, err
	}
	for _, o := range orgs {
		for pg := (store.Page{Size: 100}); ; {
			ps, more, err := raw.ListPortals(ctx, o.ID, store.NameFilter{}, pg)
			if err != nil {
				return n, err
			}
			for _, pt := range ps {
				idps, err := raw.ListIdentityProviders(ctx, pt.ID)
				if err != nil {
					return n, err
				}
				for _, p := range idps {
					if p.ClientSecret == "" {
						continue
					}
					if id, _ := KeyOf(p.ClientSecret); id == keys.Current() {
						continue
					}
					plain, _, err := keys.Open(p.ClientSecret, idpContext(p))
					if err != nil {
						return n, fmt.Errorf("identity provider %s: %w", p.ID, err)
					}
					p.ClientSecret = keys.Seal(plain, idpContext(p))
					if err := raw.UpdateIdentityProvider(ctx, p); err != nil {
						return n, fmt.Errorf("identity provider %s: %w", p.ID, err)
					}
					n++
				}
			}
			if !more || len(ps) == 0 {
				break
			}
			pg.After = ps[len(ps)-1].ID
		}
	}
	return n, nil
}
