package signing

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Key is a published public key.
type Key struct {
	ID        string
	Public    ed25519.PublicKey
	CreatedAt time.Time // when it starts signing; after a rotation, in the future
	RetiredAt time.Time // when it stops signing; zero for the newest key
}

// Active reports whether the key is the newest one: the key that signs, or
// that will sign from CreatedAt on after a rotation.
func (k Key) Active() bool { return k.RetiredAt.IsZero() }

// Keyring signs with the active key and publishes every key a verifier may
// still meet: the active one and those retired less than the retention ago.
type Keyring struct {
	keys      store.SigningKeys
	clk       clock.Clock
	retention time.Duration

	mu    sync.Mutex // serialises Rotate and Reload; Sign never takes it
	state atomic.Pointer[keyState]
}

// ActivationDelay is how long a new key is published before it signs: two
// reload periods, so that every replica serves it in its JWKS (Maintain)
// before any line signed with it can reach a SIEM.
const ActivationDelay = 2 * DefaultReloadEvery

// keyState is immutable once published, so Sign and JWKS read it without
// locks.
type keyState struct {
	signer    ed25519.PrivateKey
	activeID  string
	published []Key // newest first: verifiers try the newest keys first
	jwks      []byte
	// next, when set, is a published key that takes over signing at nextAt.
	next   ed25519.PrivateKey
	nextID string
	nextAt time.Time
	// batch and nextBatch are signer and next expanded for SignBatch.
	batch, nextBatch *batchKey
}

// Open loads the keys, creating the first one on first start, and drops
// keys retired longer than retention ago.
func Open(ctx context.Context, keys store.SigningKeys, clk clock.Clock, retention time.Duration) (*Keyring, error) {
	if retention <= 0 {
		return nil, errors.New("signing: retention must be positive")
	}
	k := &Keyring{keys: keys, clk: clk, retention: retention}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.reload(ctx); err != nil {
		return nil, err
	}
	if k.state.Load() == nil {
		if err := k.createFirstKey(ctx); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// periodicClaimer is the part of store.Coordination that Open uses, when
// the store has it, so that of several replicas starting at once on an
// empty database one creates the first key and the others load it.
// Without it each would create a key that signs at once; the store keeps
// the last one active, but the replicas that loaded theirs first would
// sign with a retired key, and lack the active one in their JWKS, until
// their next reload.
type periodicClaimer interface {
	ClaimPeriodic(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error)
}

// firstKeyClaim is how long one replica's claim to create the first key
// lasts: should it die before storing the key, another claims after this.
const firstKeyClaim = 10 * time.Second

// firstKeyPoll is how often a replica that lost the claim looks for the
// winner's key. It waits on real time: it waits for another process's
// write, not for anything the injected clock schedules.
const firstKeyPoll = 20 * time.Millisecond

// createFirstKey stores the first key, which signs at once: nothing was
// signed yet, so nothing has to wait for it to be published.
func (k *Keyring) createFirstKey(ctx context.Context) error {
	c, ok := k.keys.(periodicClaimer)
	if !ok {
		_, err := k.add(ctx, k.clk.Now())
		return err
	}
	for {
		mine, err := c.ClaimPeriodic(ctx, "signing/first-key", k.clk.Now(), firstKeyClaim)
		if err != nil {
			return fmt.Errorf("signing: claim the first key: %w", err)
		}
		if mine {
			_, err := k.add(ctx, k.clk.Now())
			return err
		}
		t := time.NewTimer(firstKeyPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if err := k.reload(ctx); err != nil || k.state.Load() != nil {
			return err
		}
	}
}

// Sign signs msg with the active key. It implements audit.Signer and is
// safe for concurrent use.
func (k *Keyring) Sign(msg []byte) []byte {
	return ed25519.Sign(k.current().signer, msg)
}

// SignBatch writes the signature of msgs[i] to sigs[i][:64], each what
// Sign would give, with one key for the whole batch (batch.go). It
// implements audit.BatchSigner.
func (k *Keyring) SignBatch(msgs, sigs [][]byte) {
	k.current().batch.signBatch(msgs, sigs)
}

// ActiveID returns the kid of the key that signs now.
func (k *Keyring) ActiveID() string { return k.current().activeID }

// current returns the state, first handing signing over to the next key
// when its time has come. No store access: the next key is already loaded.
func (k *Keyring) current() *keyState {
	st := k.state.Load()
	if st.next == nil || k.clk.Now().Before(st.nextAt) {
		return st
	}
	promoted := *st
	promoted.signer, promoted.activeID, promoted.next, promoted.nextID = st.next, st.nextID, nil, ""
	promoted.batch, promoted.nextBatch = st.nextBatch, nil
	if k.state.CompareAndSwap(st, &promoted) {
		return &promoted
	}
	return k.state.Load() // another caller promoted it, or a reload replaced it
}

// Keys returns the published keys, newest first.
func (k *Keyring) Keys() []Key {
	return append([]Key(nil), k.state.Load().published...)
}

// JWKS returns the published keys as a JSON Web Key Set.
func (k *Keyring) JWKS() []byte {
	return append([]byte(nil), k.state.Load().jwks...)
}

// Rotate creates a new key and publishes it at once; it signs from
// ActivationDelay on, when every replica has had time to publish it too.
// At that instant the previous key is retired; it stays published for the
// retention period after it. It returns the new kid.
func (k *Keyring) Rotate(ctx context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.add(ctx, k.clk.Now().Add(ActivationDelay))
}

// Reload reads the keys again so that a rotation done by another process
// (another replica, `sigtrail keys rotate`) takes effect here, and drops
// keys past their retention.
func (k *Keyring) Reload(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reload(ctx)
}

// add stores a new key that signs from activeAt (the store retires the
// previous one at that instant) and reloads.
func (k *Keyring) add(ctx context.Context, activeAt time.Time) (string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("signing: generate key: %w", err)
	}
	id := KeyID(pub)
	if err := k.keys.AddSigningKey(ctx, store.SigningKey{ID: id, PrivateKey: priv, CreatedAt: activeAt.UTC()}); err != nil {
		return "", fmt.Errorf("signing: store new key: %w", err)
	}
	if err := k.reload(ctx); err != nil {
		return "", err
	}
	return id, nil
}

func (k *Keyring) reload(ctx context.Context) error {
	now := k.clk.Now()
	cutoff := now.Add(-k.retention)
	if err := k.keys.DeleteSigningKeysRetiredBefore(ctx, cutoff); err != nil {
		return fmt.Errorf("signing: drop expired keys: %w", err)
	}
	stored, err := k.keys.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("signing: list keys: %w", err)
	}
	st, err := newState(stored, now, cutoff)
	if err != nil || st == nil {
		return err
	}
	k.state.Store(st)
	return nil
}

// newState builds the published state from the stored keys (oldest
// first); nil when no key is active (first start). A key's CreatedAt is
// when it starts signing and its RetiredAt when it stops. The active key
// (the store keeps exactly one, RetiredAt zero) signs once its CreatedAt
// has come; until then the newest retired key already created signs, and
// the active key waits as next. Anchoring on the active key rather than on
// the order of CreatedAt matters when two replicas added keys at once: the
// key the store retired may have been created after the one that won.
func newState(stored []store.SigningKey, now, cutoff time.Time) (*keyState, error) {
	st := &keyState{}
	var active, inForce *store.SigningKey
	for i := len(stored) - 1; i >= 0; i-- {
		sk := &stored[i]
		if len(sk.PrivateKey) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("signing: stored key %s is %d bytes, not an Ed25519 private key", sk.ID, len(sk.PrivateKey))
		}
		if !sk.RetiredAt.IsZero() && sk.RetiredAt.Before(cutoff) {
			continue
		}
		st.published = append(st.published, Key{ID: sk.ID, Public: ed25519.PrivateKey(sk.PrivateKey).Public().(ed25519.PublicKey),
			CreatedAt: sk.CreatedAt, RetiredAt: sk.RetiredAt})
		switch {
		case sk.RetiredAt.IsZero():
			if active == nil {
				active = sk
			}
		case inForce == nil && !sk.CreatedAt.After(now):
			inForce = sk
		}
	}
	if active == nil {
		return nil, nil // no active key at all: the caller creates one
	}
	switch {
	case !active.CreatedAt.After(now), inForce == nil: // in force, or nothing else could sign
		st.signer, st.activeID = ed25519.PrivateKey(active.PrivateKey), active.ID
	default:
		st.signer, st.activeID = ed25519.PrivateKey(inForce.PrivateKey), inForce.ID
		st.next, st.nextID, st.nextAt = ed25519.PrivateKey(active.PrivateKey), active.ID, active.CreatedAt
	}
	var err error
	if st.batch, err = expandKey(st.signer); err != nil {
		return nil, err
	}
	if st.next != nil {
		if st.nextBatch, err = expandKey(st.next); err != nil {
			return nil, err
		}
	}
	st.jwks = marshalJWKS(st.published)
	return st, nil
}
