package cli

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/sigtrail/sigtrail/internal/tlog"
)

// maxServerAnswer caps what verify reads from one API answer.
const maxServerAnswer = 1 << 20

// treeClient fetches checkpoints (the latest one the stream's webhook has
// delivered, so lines still in flight are not counted missing) and proofs from sigtrail's management API
// (GET .../audit-log-tree/...). A stream is the org's or a portal's: the
// org's path is tried first, and once it has named the org's stream only
// the portal's path is tried for any other, so no run asks a path that
// answers 404 (each would be a failed request in the org's audit log).
// The checkpoint's origin must name the stream either way.
type treeClient struct {
	base  string
	token string
	http  *http.Client
	keys  []ed25519.PublicKey
	paths map[string]string // stream -> its tree's base path, once found
	// orgStream is the org's stream, once its checkpoint has been read.
	orgStream string
}

// orgTree is the base path of the org stream's tree.
const orgTree = "/v3/audit-log-tree"

func (c *treeClient) get(ctx context.Context, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxServerAnswer))
	return resp.StatusCode, b, err
}

func (c *treeClient) Latest(ctx context.Context, stream string) (tlog.Checkpoint, error) {
	portalTree := "/v3/portals/" + url.PathEscape(stream) + "/audit-log-tree"
	candidates := []string{orgTree, portalTree}
	if p, ok := c.paths[stream]; ok {
		candidates = []string{p}
	} else if c.orgStream != "" {
		candidates = []string{portalTree}
	}
	var last error
	for _, base := range candidates {
		status, body, err := c.get(ctx, base+"/checkpoint?delivered=true")
		if err != nil {
			return tlog.Checkpoint{}, err
		}
		if status != http.StatusOK {
			last = fmt.Errorf("GET %s/checkpoint answered %d: %s", base, status, oneLine(string(body)))
			continue
		}
		cp, err := tlog.Open(body, c.keys)
		if err != nil {
			return cp, err
		}
		if cp.Origin != tlog.Origin(stream) {
			got := strings.TrimPrefix(cp.Origin, tlog.OriginPrefix)
			if base == orgTree {
				c.orgStream = got
				c.paths[got] = orgTree
			}
			last = fmt.Errorf("GET %s/checkpoint gave stream %q", base, got)
			continue
		}
		if base == orgTree {
			c.orgStream = stream
		}
		c.paths[stream] = base
		return cp, nil
	}
	return tlog.Checkpoint{}, last
}

func (c *treeClient) Consistency(ctx context.Context, stream string, from, to int64) ([][32]byte, error) {
	base, ok := c.paths[stream]
	if !ok {
		if _, err := c.Latest(ctx, stream); err != nil {
			return nil, err
		}
		base = c.paths[stream]
	}
	status, body, err := c.get(ctx, fmt.Sprintf("%s/consistency-proofs?from=%d&to=%d", base, from, to))
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("the server gave no proof (%d): %s", status, oneLine(string(body)))
	}
	f, t, hashes, err := tlog.ParseConsistencyProof(body)
	if err != nil {
		return nil, err
	}
	if f != from || t != to {
		return nil, fmt.Errorf("the server proved %d..%d, not %d..%d", f, t, from, to)
	}
	return hashes, nil
}
