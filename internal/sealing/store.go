package sealing

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Store seals destination authorization values and signing private keys
// on their way into the wrapped store and opens them on their way out.
// Every other method is the wrapped store's own.
type Store struct {
	store.Store
	keys *Keyring
	log  *slog.Logger
}

// Wrap returns st sealing with keys. With nil keys nothing is sealed and
// plaintext passes as is, but a sealed value is an error naming the
// missing key file, not ciphertext sent on as an Authorization header.
func Wrap(st store.Store, keys *Keyring, log *slog.Logger) *Store {
	return &Store{Store: st, keys: keys, log: log}
}

// Unwrap returns the wrapped store, whose optional interfaces
// (store.ChangeFeed) embedding hides.
func (s *Store) Unwrap() store.Store { return s.Store }

// Inner returns the store under any sealing layer, for checks of optional
// interfaces.
func Inner(st store.Store) store.Store {
	for {
		u, ok := st.(interface{ Unwrap() store.Store })
		if !ok {
			return st
		}
		st = u.Unwrap()
	}
}

// The contexts bind a sealed value to its row and field.
func destContext(d store.Destination) string { return "destination/" + d.ID + "/authorization" }
func keyContext(k store.SigningKey) string   { return "signing-key/" + k.ID + "/private-key" }

func (s *Store) sealDest(d store.Destination) store.Destination {
	if d.Authorization != "" && s.keys != nil {
		d.Authorization = s.keys.Seal([]byte(d.Authorization), destContext(d))
	}
	return d
}

func (s *Store) openDest(d store.Destination) (store.Destination, error) {
	plain, _, err := s.keys.Open(d.Authorization, destContext(d))
	if err != nil {
		// The value itself is never logged; the id says which row.
		s.log.Error("cannot open a sealed destination authorization", "destination", d.ID, "org", d.OrgID, "err", err)
		return d, fmt.Errorf("destination %s authorization: %w", d.ID, err)
	}
	d.Authorization = string(plain)
	return d, nil
}

func (s *Store) openKey(k store.SigningKey) (store.SigningKey, error) {
	plain, _, err := s.keys.Open(string(k.PrivateKey), keyContext(k))
	if err != nil {
		s.log.Error("cannot open a sealed signing key", "kid", k.ID, "err", err)
		return k, fmt.Errorf("signing key %s: %w", k.ID, err)
	}
	k.PrivateKey = plain
	return k, nil
}

// Writes seal every value, even one that looks sealed already: it came
// from a caller, not from this layer. Reseal writes through the inner store.

func (s *Store) CreateDestination(ctx context.Context, d store.Destination) error {
	return s.Store.CreateDestination(ctx, s.sealDest(d))
}

// UpdateDestination keeps the stored sealed authorization when it opens,
// under the key that seals, to the value being written: sealed afresh it
// would differ (a new nonce), and a rename would look to the backend like
// a change of how the destination delivers (store.SameDelivery).
func (s *Store) UpdateDestination(ctx context.Context, d store.Destination) error {
	if d.Authorization != "" && s.keys != nil {
		cur, err := s.Store.GetDestination(ctx, d.OrgID, d.ID)
		if err == nil && s.keys.sealedByCurrent(cur.Authorization) {
			if plain, _, err := s.keys.Open(cur.Authorization, destContext(cur)); err == nil && string(plain) == d.Authorization {
				d.Authorization = cur.Authorization
				return s.Store.UpdateDestination(ctx, d)
			}
		}
	}
	return s.Store.UpdateDestination(ctx, s.sealDest(d))
}

func (s *Store) GetDestination(ctx context.Context, orgID, id string) (store.Destination, error) {
	d, err := s.Store.GetDestination(ctx, orgID, id)
	if err != nil {
		return d, err
	}
	return s.openDest(d)
}

func (s *Store) ListDestinations(ctx context.Context, orgID string, f store.NameFilter, p store.Page) ([]store.Destination, bool, error) {
	ds, more, err := s.Store.ListDestinations(ctx, orgID, f, p)
	if err != nil {
		return nil, false, err
	}
	for i := range ds {
		if ds[i], err = s.openDest(ds[i]); err != nil {
			return nil, false, err
		}
	}
	return ds, more, nil
}

func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	if len(k.PrivateKey) > 0 && s.keys != nil {
		k.PrivateKey = []byte(s.keys.Seal(k.PrivateKey, keyContext(k)))
	}
	return s.Store.AddSigningKey(ctx, k)
}

func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	ks, err := s.Store.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ks {
		if ks[i], err = s.openKey(ks[i]); err != nil {
			return nil, err
		}
	}
	return ks, nil
}
