package tlog

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// InclusionProof is the API's answer for an entry's inclusion proof: the
// entry seq's leaf hash and the hashes proving it in the tree of
// TreeSize, whose signed checkpoint comes with it.
type InclusionProof struct {
	Seq        int64    `json:"seq"`
	TreeSize   int64    `json:"tree_size"`
	LeafHash   string   `json:"leaf_hash"`
	Hashes     []string `json:"hashes"`
	Checkpoint string   `json:"checkpoint"`
}

// ConsistencyProof is the API's answer for a consistency proof between
// two sizes of a stream's tree.
type ConsistencyProof struct {
	From   int64    `json:"from"`
	To     int64    `json:"to"`
	Hashes []string `json:"hashes"`
}

// maxProofHashes bounds a proof: trees have at most 2^63 leaves, and a
// consistency proof holds at most two hashes a level.
const maxProofHashes = 2 * 64

// maxProofBytes caps a proof document read from a server.
const maxProofBytes = 64 << 10

// EncodeHashes writes hashes as standard base64, as checkpoints do.
func EncodeHashes(h [][32]byte) []string {
	out := make([]string, len(h))
	for i := range h {
		out[i] = base64.StdEncoding.EncodeToString(h[i][:])
	}
	return out
}

// DecodeHash reads one standard base64 hash of 32 bytes.
func DecodeHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("%q is not a base64 SHA-256 hash", s)
	}
	copy(h[:], b)
	return h, nil
}

func decodeHashes(in []string) ([][32]byte, error) {
	if len(in) > maxProofHashes {
		return nil, errors.New("proof has too many hashes")
	}
	out := make([][32]byte, len(in))
	for i, s := range in {
		h, err := DecodeHash(s)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

func decodeStrict(b []byte, v any) error {
	if len(b) > maxProofBytes {
		return errors.New("proof document too large")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("proof is not the expected JSON: %w", err)
	}
	if dec.More() {
		return errors.New("proof has data after its end")
	}
	return nil
}

// ParseConsistencyProof reads the API's consistency proof document.
func ParseConsistencyProof(b []byte) (from, to int64, hashes [][32]byte, err error) {
	var p ConsistencyProof
	if err := decodeStrict(b, &p); err != nil {
		return 0, 0, nil, err
	}
	if p.From < 0 || p.To < p.From {
		return 0, 0, nil, fmt.Errorf("proof sizes %d and %d are out of order", p.From, p.To)
	}
	hashes, err = decodeHashes(p.Hashes)
	return p.From, p.To, hashes, err
}

// ParseInclusionProof reads the API's inclusion proof document.
func ParseInclusionProof(b []byte) (p InclusionProof, leaf [32]byte, hashes [][32]byte, err error) {
	if err := decodeStrict(b, &p); err != nil {
		return p, leaf, nil, err
	}
	if p.Seq < 1 || p.TreeSize < p.Seq {
		return p, leaf, nil, fmt.Errorf("entry %d is not in a tree of size %d", p.Seq, p.TreeSize)
	}
	if leaf, err = DecodeHash(p.LeafHash); err != nil {
		return p, leaf, nil, err
	}
	hashes, err = decodeHashes(p.Hashes)
	return p, leaf, hashes, err
}
