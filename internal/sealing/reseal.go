package sealing

import (
	"context"
	"errors"
	"fmt"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// keyRewriter is the one write reseal needs that store.Store lacks: both
// backends have it.
type keyRewriter interface {
	ReplaceSigningKeyPrivate(ctx context.Context, id string, old, new []byte) error
}

// Resealed counts what Reseal rewrote.
type Resealed struct {
	Destinations, SigningKeys int
	IdentityProviders         int // client secrets of portal identity providers
}

// Reseal rewrites every destination authorization and signing private key
// of raw (a store without the sealing layer) that is plaintext or sealed
// with an older key, sealed with keys' current key. It stops at the first
// value it cannot open, since removing the old key would then lose it.
//
// A destination changed through the API between Reseal's read and write
// would lose that change, so run it while no one edits destinations.
func Reseal(ctx context.Context, raw store.Store, keys *Keyring) (Resealed, error) {
	var n Resealed
	kr, ok := raw.(keyRewriter)
	if !ok {
		return n, errors.New("this store cannot rewrite signing keys")
	}
	ks, err := raw.ListSigningKeys(ctx)
	if err != nil {
		return n, err
	}
	for _, k := range ks {
		id, _ := KeyOf(string(k.PrivateKey))
		if id == keys.Current() {
			continue
		}
		plain, _, err := keys.Open(string(k.PrivateKey), keyContext(k))
		if err != nil {
			return n, fmt.Errorf("signing key %s: %w", k.ID, err)
		}
		sealed := []byte(keys.Seal(plain, keyContext(k)))
		if err := kr.ReplaceSigningKeyPrivate(ctx, k.ID, k.PrivateKey, sealed); err != nil {
			return n, err
		}
		n.SigningKeys++
	}
	ds, err := allDestinations(ctx, raw)
	if err != nil {
		return n, err
	}
	for _, d := range ds {
		if d.Authorization == "" {
			continue
		}
		if id, _ := KeyOf(d.Authorization); id == keys.Current() {
			continue
		}
		plain, _, err := keys.Open(d.Authorization, destContext(d))
		if err != nil {
			return n, fmt.Errorf("destination %s: %w", d.ID, err)
		}
		d.Authorization = keys.Seal(plain, destContext(d))
		if err := raw.UpdateDestination(ctx, d); err != nil {
			return n, fmt.Errorf("destination %s: %w", d.ID, err)
		}
		n.Destinations++
	}
	n.IdentityProviders, err = resealIdPs(ctx, raw, keys)
	return n, err
}

// allDestinations lists every destination of every org: the listed ones,
// and the inline ones of the v2 org webhook and of portal webhooks, which
// lists leave out.
func allDestinations(ctx context.Context, st store.Store) ([]store.Destination, error) {
	orgs, err := st.ListOrgs(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []store.Destination
	for _, o := range orgs {
		for p := (store.Page{Size: 100}); ; {
			ds, more, err := st.ListDestinations(ctx, o.ID, store.NameFilter{}, p)
			if err != nil {
				return nil, err
			}
			for _, d := range ds {
				seen[d.ID] = true
				out = append(out, d)
			}
			if !more || len(ds) == 0 {
				break
			}
			p.After = ds[len(ds)-1].ID
		}
		streams := []store.StreamID{store.StreamID(o.ID)}
		for p := (store.Page{Size: 100}); ; {
			ps, more, err := st.ListPortals(ctx, o.ID, store.NameFilter{}, p)
			if err != nil {
				return nil, err
			}
			for _, pt := range ps {
				streams = append(streams, store.StreamID(pt.ID))
			}
			if !more || len(ps) == 0 {
				break
			}
			p.After = ps[len(ps)-1].ID
		}
		for _, s := range streams {
			w, err := st.GetWebhook(ctx, s)
			if apperr.Is(err, apperr.NotFound) || (err == nil && (w.DestinationID == "" || seen[w.DestinationID])) {
				continue
			}
			if err != nil {
				return nil, err
			}
			d, err := st.GetDestination(ctx, o.ID, w.DestinationID)
			if err != nil {
				return nil, err
			}
			seen[d.ID] = true
			out = append(out, d)
		}
	}
	return out, nil
}
