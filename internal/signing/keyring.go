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
	CreatedAt time.Time
	RetiredAt time.Time // zero for the active key
}

// Active reports whether the key is the one that signs.
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

// keyState is immutable once published, so Sign and JWKS read it without
// locks.
type keyState struct {
	signer    ed25519.PrivateKey
	activeID  string
	published []Key // newest first: verifiers try the active key first
	jwks      []byte
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
		if _, err := k.rotate(ctx); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Sign signs msg with the active key. It implements audit.Signer and is
// safe for concurrent use.
func (k *Keyring) Sign(msg []byte) []byte {
	return ed25519.Sign(k.state.Load().signer, msg)
}

// ActiveID returns the kid of the key that signs.
func (k *Keyring) ActiveID() string { return k.state.Load().activeID }

// Keys returns the published keys, newest first.
func (k *Keyring) Keys() []Key {
	return append([]Key(nil), k.state.Load().published...)
}

// JWKS returns the published keys as a JSON Web Key Set.
func (k *Keyring) JWKS() []byte {
	return append([]byte(nil), k.state.Load().jwks...)
}

// Rotate creates a new key, which signs and is published from now on; the
// previous key is retired and stays published for the retention period.
func (k *Keyring) Rotate(ctx context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.rotate(ctx)
}

// Reload reads the keys again so that a rotation done by another process
// (another replica, `sigtrail keys rotate`) takes effect here, and drops
// keys past their retention.
func (k *Keyring) Reload(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reload(ctx)
}

func (k *Keyring) rotate(ctx context.Context) (string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("signing: generate key: %w", err)
	}
	id := KeyID(pub)
	if err := k.keys.AddSigningKey(ctx, store.SigningKey{ID: id, PrivateKey: priv, CreatedAt: k.clk.Now().UTC()}); err != nil {
		return "", fmt.Errorf("signing: store new key: %w", err)
	}
	if err := k.reload(ctx); err != nil {
		return "", err
	}
	return id, nil
}

func (k *Keyring) reload(ctx context.Context) error {
	cutoff := k.clk.Now().Add(-k.retention)
	if err := k.keys.DeleteSigningKeysRetiredBefore(ctx, cutoff); err != nil {
		return fmt.Errorf("signing: drop expired keys: %w", err)
	}
	stored, err := k.keys.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("signing: list keys: %w", err)
	}
	st, err := newState(stored, cutoff)
	if err != nil || st == nil {
		return err
	}
	k.state.Store(st)
	return nil
}

// newState builds the published state from the stored keys (oldest
// first); nil when no key is active yet.
func newState(stored []store.SigningKey, cutoff time.Time) (*keyState, error) {
	st := &keyState{}
	for i := len(stored) - 1; i >= 0; i-- {
		sk := stored[i]
		if len(sk.PrivateKey) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("signing: stored key %s is %d bytes, not an Ed25519 private key", sk.ID, len(sk.PrivateKey))
		}
		if !sk.RetiredAt.IsZero() && sk.RetiredAt.Before(cutoff) {
			continue
		}
		priv := ed25519.PrivateKey(sk.PrivateKey)
		pub := priv.Public().(ed25519.PublicKey)
		if sk.RetiredAt.IsZero() && st.signer == nil {
			st.signer, st.activeID = priv, sk.ID
		}
		st.published = append(st.published, Key{ID: sk.ID, Public: pub, CreatedAt: sk.CreatedAt, RetiredAt: sk.RetiredAt})
	}
	if st.signer == nil {
		return nil, nil
	}
	st.jwks = marshalJWKS(st.published)
	return st, nil
}
