package tlog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/sigtrail/sigtrail/internal/audit"
)

// OriginPrefix starts the origin line of every sigtrail checkpoint; the
// stream's ID follows. The origin is also the note key name, as C2SP
// recommends for checkpoints.
const OriginPrefix = "sigtrail/stream/"

// Origin is the checkpoint origin (and note key name) of a stream.
func Origin(stream string) string { return OriginPrefix + stream }

// StreamOfOrigin is the inverse of Origin.
func StreamOfOrigin(origin string) (string, bool) {
	s, ok := strings.CutPrefix(origin, OriginPrefix)
	return s, ok && s != ""
}

// Checkpoint is a stream's size and the root hash of its tree at that size.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   [32]byte
}

// maxCheckpointBytes caps a note we read: a checkpoint is a few hundred bytes.
const maxCheckpointBytes = 16 << 10

// Marshal returns the checkpoint body as C2SP tlog-checkpoint defines it:
// origin, decimal size and standard base64 root hash, one per line.
func (c Checkpoint) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(c.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatInt(c.Size, 10))
	b.WriteByte('\n')
	b.WriteString(base64.StdEncoding.EncodeToString(c.Root[:]))
	b.WriteByte('\n')
	return b.Bytes()
}

// ParseCheckpoint reads a checkpoint body (a note's text). Extension lines
// after the root are allowed, as the format allows, and ignored.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	var c Checkpoint
	if len(text) > maxCheckpointBytes || !bytes.HasSuffix(text, []byte("\n")) {
		return c, errors.New("checkpoint: not newline-terminated text")
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) < 3 {
		return c, errors.New("checkpoint: fewer than 3 lines")
	}
	if lines[0] == "" || strings.ContainsAny(lines[0], " +\t\r") {
		return c, errors.New("checkpoint: bad origin line")
	}
	c.Origin = lines[0]
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return c, errors.New("checkpoint: bad size line")
	}
	c.Size = n
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != 32 {
		return c, errors.New("checkpoint: bad root hash line")
	}
	copy(c.Root[:], root)
	for _, l := range lines[3:] {
		if l == "" {
			return c, errors.New("checkpoint: empty extension line")
		}
	}
	return c, nil
}

// KeySigner signs with one key and says which: the public key must be the
// one the signature was made with (signing.Keyring.ActiveKey).
type KeySigner interface {
	ActiveKey() (ed25519.PublicKey, audit.Signer)
}

// noteSigner signs a note with one Ed25519 key under a key name.
type noteSigner struct {
	name string
	hash uint32
	s    audit.Signer
}

func (n noteSigner) Name() string                    { return n.name }
func (n noteSigner) KeyHash() uint32                 { return n.hash }
func (n noteSigner) Sign(msg []byte) ([]byte, error) { return n.s.Sign(msg), nil }

// VerifierKey is the C2SP note verifier key ("<name>+<hash>+<keydata>") of
// an Ed25519 public key under a key name; tools such as the Go checksum
// database's read it.
func VerifierKey(name string, pub ed25519.PublicKey) (string, error) {
	return note.NewEd25519VerifierKey(name, pub)
}

// Sign returns c as a signed note, signed by ks's active key under the key
// name c.Origin.
func Sign(c Checkpoint, ks KeySigner) ([]byte, error) {
	pub, s := ks.ActiveKey()
	vkey, err := VerifierKey(c.Origin, pub)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: string(c.Marshal())}, noteSigner{name: c.Origin, hash: v.KeyHash(), s: s})
}

// keyVerifiers finds, for a note signed under any key name, the Ed25519
// key among keys whose hash under that name matches.
type keyVerifiers []ed25519.PublicKey

func (ks keyVerifiers) Verifier(name string, hash uint32) (note.Verifier, error) {
	for _, k := range ks {
		vkey, err := note.NewEd25519VerifierKey(name, k)
		if err != nil {
			return nil, err
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return nil, err
		}
		if v.KeyHash() == hash {
			return v, nil
		}
	}
	return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
}

// Open checks a signed checkpoint note against the public keys (a JWKS's)
// and returns the checkpoint. The note must carry a signature by one of
// them under the key name that is its origin.
func Open(msg []byte, keys []ed25519.PublicKey) (Checkpoint, error) {
	if len(msg) > maxCheckpointBytes {
		return Checkpoint{}, errors.New("checkpoint: note too large")
	}
	n, err := note.Open(msg, keyVerifiers(keys))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return c, err
	}
	for _, s := range n.Sigs {
		if s.Name == c.Origin {
			return c, nil
		}
	}
	return Checkpoint{}, errors.New("checkpoint: no signature under its origin's key name")
}
