package api

import (
	"net/http"
	"strconv"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tlog"
)

// resCheckpoints names the transparency log routes in authorization
// entries.
const resCheckpoints = "audit-log-checkpoints"

// checkpointRoutes serve each stream's transparency log (package tlog):
// signed checkpoints (C2SP signed notes, text/plain), inclusion proofs of
// entries and consistency proofs between sizes. The org's stream is under
// /v3/audit-log-tree, a portal's under /v3/portals/{portalId}/audit-log-tree;
// they are read as the audit log itself is (auditReaders, and for a portal
// the roles that may read its webhook).
func (s *server) checkpointRoutes() []route {
	org := func(c *call) (store.StreamID, error) { return c.orgStream(), nil }
	portal := func(c *call) (store.StreamID, error) {
		p, err := s.portal(c)
		return store.StreamID(p.ID), err
	}
	var out []route
	for _, g := range []struct {
		base   string
		roles  func() []store.Role
		stream func(*call) (store.StreamID, error)
	}{
		{"/v3/audit-log-tree", auditReaders, org},
		{"/v3/portals/{portalId}/audit-log-tree", portalAuditReaders, portal},
	} {
		out = append(out,
			route{method: http.MethodGet, path: g.base + "/checkpoint", resource: resCheckpoints, action: audit.ActionRetrieve,
				roles: g.roles(), handle: s.getCheckpoint(g.stream, false)},
			route{method: http.MethodGet, path: g.base + "/checkpoints/{size}", resource: resCheckpoints, action: audit.ActionRetrieve,
				roles: g.roles(), handle: s.getCheckpoint(g.stream, true)},
			route{method: http.MethodGet, path: g.base + "/inclusion-proofs/{seq}", resource: resCheckpoints, action: audit.ActionRetrieve,
				roles: g.roles(), handle: s.getInclusionProof(g.stream)},
			route{method: http.MethodGet, path: g.base + "/consistency-proofs", resource: resCheckpoints, action: audit.ActionRetrieve,
				roles: g.roles(), handle: s.getConsistencyProof(g.stream)},
		)
	}
	return out
}

// treeSize reads a size parameter: a non-negative decimal.
func treeSize(where, name, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	// Only the canonical spelling: "+5" and "05" would name the same
	// checkpoint under a second URL.
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != v {
		return 0, apperr.InvalidField(where, name, "is_size", "must be a non-negative integer")
	}
	return n, nil
}

// signedCheckpoint signs the stream's checkpoint at size (the latest
// when size < 0).
func (s *server) signedCheckpoint(c *call, stream store.StreamID, size int64) ([]byte, error) {
	if size < 0 {
		n, err := s.tree.Size(c.ctx(), stream)
		if err != nil {
			return nil, err
		}
		size = n
	}
	root, err := s.tree.Root(c.ctx(), stream, size)
	if err != nil {
		return nil, err
	}
	if s.noteSigner == nil {
		return nil, apperr.New(apperr.Unavailable, "checkpoints are not signed on this server")
	}
	return tlog.Sign(tlog.Checkpoint{Origin: tlog.Origin(string(stream)), Size: size, Root: root}, s.noteSigner)
}

func (s *server) getCheckpoint(streamOf func(*call) (store.StreamID, error), bySize bool) func(c *call) error {
	return func(c *call) error {
		stream, err := streamOf(c)
		if err != nil {
			return err
		}
		size := int64(-1)
		delivered := false
		if v := c.r.URL.Query().Get("delivered"); v != "" && !bySize {
			// Anything but a boolean is refused: a typo taken as false
			// would answer the latest checkpoint, and a completeness
			// check would count lines still in flight as missing.
			if delivered, err = strconv.ParseBool(v); err != nil {
				return apperr.InvalidField("query", "delivered", "type", "must be true or false")
			}
		}
		if bySize {
			if size, err = treeSize("path", "size", c.r.PathValue("size")); err != nil {
				return err
			}
		} else if delivered {
			// What the webhook has handed over (its cursor): lines still
			// in flight are not yet the SIEM's to hold.
			st, err := s.st.GetWebhookState(c.ctx(), stream)
			if err != nil {
				return err
			}
			latest, err := s.tree.Size(c.ctx(), stream)
			if err != nil {
				return err
			}
			size = min(st.Cursor, latest)
		}
		note, err := s.signedCheckpoint(c, stream, size)
		if err != nil {
			return err
		}
		c.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		c.w.WriteHeader(http.StatusOK)
		_, err = c.w.Write(note)
		return err
	}
}

func (s *server) getInclusionProof(streamOf func(*call) (store.StreamID, error)) func(c *call) error {
	return func(c *call) error {
		stream, err := streamOf(c)
		if err != nil {
			return err
		}
		seq, err := treeSize("path", "seq", c.r.PathValue("seq"))
		if err != nil {
			return err
		}
		size, err := s.tree.Size(c.ctx(), stream)
		if err != nil {
			return err
		}
		if v := c.r.URL.Query().Get("tree_size"); v != "" {
			if size, err = treeSize("query", "tree_size", v); err != nil {
				return err
			}
		}
		if seq < 1 || seq > size {
			return apperr.New(apperr.NotFound, "entry %d is not in the tree of size %d", seq, size)
		}
		leaf, hashes, err := s.tree.Inclusion(c.ctx(), stream, seq, size)
		if err != nil {
			return err
		}
		note, err := s.signedCheckpoint(c, stream, size)
		if err != nil {
			return err
		}
		return c.json(http.StatusOK, tlog.InclusionProof{Seq: seq, TreeSize: size,
			LeafHash: tlog.EncodeHashes([][32]byte{leaf})[0], Hashes: tlog.EncodeHashes(hashes), Checkpoint: string(note)})
	}
}

func (s *server) getConsistencyProof(streamOf func(*call) (store.StreamID, error)) func(c *call) error {
	return func(c *call) error {
		stream, err := streamOf(c)
		if err != nil {
			return err
		}
		q := c.r.URL.Query()
		from, err := treeSize("query", "from", q.Get("from"))
		if err != nil {
			return err
		}
		to, err := treeSize("query", "to", q.Get("to"))
		if err != nil {
			return err
		}
		if from > to {
			return apperr.InvalidField("query", "from", "is_size", "must not exceed to")
		}
		hashes, err := s.tree.Consistency(c.ctx(), stream, from, to)
		if err != nil {
			return err
		}
		return c.json(http.StatusOK, tlog.ConsistencyProof{From: from, To: to, Hashes: tlog.EncodeHashes(hashes)})
	}
}
