package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
)

// Verifier checks the signature of one signed line against a key set.
type Verifier interface {
	VerifyLine(line []byte) error
}

// ParseFunc turns a JWKS document into a Verifier (signing.ParseJWKS,
// adapted by the caller).
type ParseFunc func(jwks []byte) (Verifier, error)

// DefaultRefreshEvery is the least time between two reloads of the key set.
const DefaultRefreshEvery = 5 * time.Second

// maxJWKS caps a key set document.
const maxJWKS = 1 << 20

// KeySet is a cached JWKS, loaded from a URL or a file, reloaded when a line
// fails to verify (a key may have been published since), at most once per
// RefreshEvery.
type KeySet struct {
	src          string
	parse        ParseFunc
	client       *http.Client
	clock        clock.Clock
	refreshEvery time.Duration

	mu       sync.Mutex
	v        Verifier
	loadedAt time.Time
}

// NewKeySet loads the key set once; an error means src could not be read
// or parsed. client is used for http(s) sources (http.DefaultClient when
// nil); clk decides when a reload is due (clock.Real when nil).
func NewKeySet(ctx context.Context, src string, parse ParseFunc, client *http.Client, clk clock.Clock) (*KeySet, error) {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if clk == nil {
		clk = clock.Real{}
	}
	k := &KeySet{src: src, parse: parse, client: client, clock: clk, refreshEvery: DefaultRefreshEvery}
	v, err := k.load(ctx)
	if err != nil {
		return nil, err
	}
	k.v, k.loadedAt = v, clk.Now()
	return k, nil
}

// Verify checks line with the cached keys, and once more with a reloaded
// key set when it fails and the last load is old enough.
func (k *KeySet) Verify(ctx context.Context, line []byte) error {
	k.mu.Lock()
	v := k.v
	k.mu.Unlock()
	err := v.VerifyLine(line)
	if err == nil {
		return nil
	}
	v2, reloaded := k.reload(ctx)
	if !reloaded {
		return err
	}
	return v2.VerifyLine(line)
}

func (k *KeySet) reload(ctx context.Context) (Verifier, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.clock.Now()
	if now.Sub(k.loadedAt) < k.refreshEvery {
		return nil, false
	}
	k.loadedAt = now // also after a failed load: do not hammer a broken source
	v, err := k.load(ctx)
	if err != nil {
		return nil, false
	}
	k.v = v
	return v, true
}

func (k *KeySet) load(ctx context.Context) (Verifier, error) {
	var b []byte
	if strings.HasPrefix(k.src, "http://") || strings.HasPrefix(k.src, "https://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.src, nil)
		if err != nil {
			return nil, fmt.Errorf("jwks: %w", err)
		}
		resp, err := k.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("jwks: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("jwks: %s answered %d", k.src, resp.StatusCode)
		}
		b, err = io.ReadAll(io.LimitReader(resp.Body, maxJWKS+1))
		if err != nil {
			return nil, fmt.Errorf("jwks: %w", err)
		}
	} else {
		var err error
		if b, err = os.ReadFile(k.src); err != nil {
			return nil, fmt.Errorf("jwks: %w", err)
		}
	}
	if len(b) > maxJWKS {
		return nil, errors.New("jwks: document larger than 1 MiB")
	}
	v, err := k.parse(b)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	return v, nil
}
