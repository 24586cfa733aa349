package signing

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"

	"github.com/sigtrail/sigtrail/internal/audit"
)

// ErrBadSignature is returned for a line whose signature matches none of
// the published keys: it was altered or signed by someone else.
var ErrBadSignature = errors.New("signature matches no published key")

// Verifier checks signed lines and pulled items against a set of public keys.
type Verifier struct {
	keys []ed25519.PublicKey
	ids  []string
}

// NewVerifier returns a verifier over the given keys, tried in order.
func NewVerifier(keys []Key) Verifier {
	var v Verifier
	for _, k := range keys {
		v.keys = append(v.keys, k.Public)
		v.ids = append(v.ids, k.ID)
	}
	return v
}

// KeyIDs returns the kids of the keys, in the order they are tried.
func (v Verifier) KeyIDs() []string { return append([]string(nil), v.ids...) }

// VerifyLine checks one signed line in any format (CEF, JSON, CPS). Lines
// carry no key id, so every key is tried, the newest first. It returns
// audit.ErrNoSignature for a line without a well-formed signature and
// ErrBadSignature when no key matches.
func (v Verifier) VerifyLine(line []byte) error {
	msg, sig, err := audit.SplitSignature(line)
	if err != nil {
		return err
	}
	for _, k := range v.keys {
		if ed25519.Verify(k, msg, sig) {
			return nil
		}
	}
	return ErrBadSignature
}

// VerifyPulledItem checks one item of a pull API answer (GET
// /v3/audit-logs): its signature member against the item's other members
// in RFC 8785 form (audit.CanonicalItem). Items carry no key id, so every
// key is tried. It returns audit.ErrNoItemSignature for an item without a
// well-formed signature, ErrBadSignature when no key matches, and a
// descriptive error for an item that is not a single-meaning JSON object.
func (v Verifier) VerifyPulledItem(raw json.RawMessage) error {
	msg, sig, err := audit.SplitItemSignature(raw)
	if err != nil {
		return err
	}
	for _, k := range v.keys {
		if ed25519.Verify(k, msg, sig) {
			return nil
		}
	}
	return ErrBadSignature
}
