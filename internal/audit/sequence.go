package audit

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strconv"
	"unicode/utf8"
)

// A destination that asks for sequence numbers gets two more signed fields
// at the end of every line, just before sig: seq, the entry's dense
// sequence number in its stream, and stream, the stream's ID, so that a
// SIEM holding several streams can tell which one a line belongs to (an
// entry's org_id and portal_id do not always say). In CEF they are the
// extensions "seq=N stream=ID"; in JSON and CPS the members
// "seq":N,"stream":"ID". Without sequence numbers lines are byte for byte
// what they were.

// Position is an entry's place: its stream and its sequence number there.
type Position struct {
	Stream string
	Seq    int64
}

// AppendSignedAt appends the signed line of e in format f carrying its
// position p as signed fields.
func (r Renderer) AppendSignedAt(dst []byte, f Format, e *Entry, p Position, s Signer) []byte {
	start := len(dst)
	dst = r.AppendUnsignedAt(dst, f, e, p)
	return AttachSignature(dst, start, f, s)
}

// AppendUnsignedAt appends the unsigned line AppendSignedAt signs.
func (r Renderer) AppendUnsignedAt(dst []byte, f Format, e *Entry, p Position) []byte {
	start := len(dst)
	dst = r.AppendUnsigned(dst, f, e)
	return appendPosition(dst, start, f, p)
}

// appendPosition adds the seq and stream fields to the unsigned line
// dst[start:].
func appendPosition(dst []byte, start int, f Format, p Position) []byte {
	if f != FormatJSON && f != FormatCPS {
		dst = append(dst, " seq="...)
		dst = strconv.AppendInt(dst, p.Seq, 10)
		dst = append(dst, " stream="...)
		return appendCEFValue(dst, p.Stream)
	}
	closers := 1
	if f == FormatCPS {
		closers = 2
	}
	tail := len(dst) - closers
	var tmp [2]byte
	copy(tmp[:], dst[tail:])
	dst = dst[:tail]
	if tail > start && dst[tail-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, `"seq":`...)
	dst = strconv.AppendInt(dst, p.Seq, 10)
	dst = append(dst, `,"stream":`...)
	dst = appendJSONString(dst, p.Stream)
	return append(dst, tmp[:closers]...)
}

// LeafData is the canonical form of an entry in its stream's Merkle tree:
// its unsigned JSON line as the default Renderer writes it, without seq and
// stream (the leaf's index is its place). Any format's line gives it back:
// a line is parsed into its entry (which renders to the same line again)
// and rendered as JSON, so the deployment's vendor and host, which are no
// part of an entry, do not enter it.
//
// An invalid UTF-8 byte is taken as the U+FFFD every line writes for it
// (JSON would write the escape \ufffd instead, which a line in another
// format cannot give back).
func LeafData(dst []byte, e *Entry) []byte {
	if !validStrings(e) {
		c := *e
		for _, p := range recordStrings(&c) {
			*p = string([]rune(*p)) // one U+FFFD per invalid byte, as the renderers write
		}
		e = &c
	}
	return Renderer{}.AppendJSON(dst, e)
}

// validStrings reports whether every string field of e is valid UTF-8.
func validStrings(e *Entry) bool {
	for _, p := range recordStrings(e) {
		if !utf8.ValidString(*p) {
			return false
		}
	}
	return true
}

// LeafHash is the RFC 9162 leaf hash of the entry: SHA-256 of a zero byte
// and its LeafData.
func LeafHash(e *Entry) [32]byte {
	var buf [640]byte
	b := append(buf[:0], 0)
	b = LeafData(b, e)
	return sha256.Sum256(b)
}

// SequencedLine is what a signed line of a destination with sequence
// numbers says about its stream: an entry's position and leaf hash, or a
// checkpoint (Checkpoint non-nil: the signed note as the line holds it).
type SequencedLine struct {
	Position
	Leaf       [32]byte
	Checkpoint []byte
}

// Errors of ParseSequenced.
var (
	ErrNoPosition = errors.New("line carries no seq and stream (the destination has no sequence numbers)")
	errBadCP      = errors.New("malformed checkpoint line")
)

// ParseSequenced reads the signed message of a line (the line without its
// signature, as SplitSignature gives it) in any format: the entry line of
// a destination with sequence numbers, or a checkpoint line.
func ParseSequenced(msg []byte) (SequencedLine, error) {
	var out SequencedLine
	msg = bytes.TrimRight(msg, "\r\n")
	if len(msg) > 0 && msg[0] == '{' {
		if cp, ok, err := parseJSONCheckpoint(msg); ok {
			out.Checkpoint = cp
			return out, err
		}
		body, pos, err := cutJSONPosition(msg)
		if err != nil {
			return out, err
		}
		e, err := ParseJSON(body)
		if err != nil {
			return out, err
		}
		out.Position, out.Leaf = pos, LeafHash(&e)
		return out, nil
	}
	l, err := ParseCEF(msg)
	if err != nil {
		if cp, ok, cerr := parseCEFCheckpoint(msg); ok {
			out.Checkpoint = cp
			return out, cerr
		}
		return out, err
	}
	pos, ok := cutCEFPosition(&l)
	if !ok {
		if cp, ok, err := parseCEFCheckpoint(msg); ok {
			out.Checkpoint = cp
			return out, err
		}
		return out, ErrNoPosition
	}
	e, err := l.Entry()
	if err != nil {
		return out, err
	}
	out.Position, out.Leaf = pos, LeafHash(&e)
	return out, nil
}

// cutCEFPosition takes the final seq and stream extensions off a parsed
// line. They are taken off the parsed line rather than the text, so the
// value before them keeps any trailing space it had.
func cutCEFPosition(l *CEFLine) (Position, bool) {
	var p Position
	n := len(l.Extensions)
	if n < 2 || l.Extensions[n-2].Key != "seq" || l.Extensions[n-1].Key != "stream" {
		return p, false
	}
	seq, ok := parseSeq([]byte(l.Extensions[n-2].Value))
	stream := l.Extensions[n-1].Value
	if !ok || !plainID([]byte(stream)) {
		return p, false
	}
	l.Extensions = l.Extensions[:n-2]
	p.Seq, p.Stream = seq, stream
	return p, true
}

// cutJSONPosition splits `{...,"seq":N,"stream":"ID"}` (or the CPS
// wrapping `{"event":{...}}`) into the entry's JSON object and the
// position. JSON strings escape '"', so the members cannot be forged
// inside a value.
func cutJSONPosition(msg []byte) ([]byte, Position, error) {
	var p Position
	inner, closers := msg, 1
	if bytes.HasPrefix(msg, []byte(`{"event":`)) {
		inner, closers = msg[len(`{"event":`):], 2
	}
	if !bytes.HasSuffix(inner, []byte(`"}`+"}"[:closers-1])) {
		return nil, p, ErrNoPosition
	}
	obj := inner[:len(inner)-(closers-1)] // the entry object with its position members
	i := bytes.LastIndex(obj, []byte(`"seq":`))
	if i < 1 {
		return nil, p, ErrNoPosition
	}
	rest := obj[i+len(`"seq":`):]
	j := bytes.Index(rest, []byte(`,"stream":"`))
	if j < 0 || len(rest) < j+len(`,"stream":"`)+2 {
		return nil, p, ErrNoPosition
	}
	seq, ok := parseSeq(rest[:j])
	stream := rest[j+len(`,"stream":"`) : len(rest)-2]
	if !ok || !plainID(stream) {
		return nil, p, ErrNoPosition
	}
	p.Seq, p.Stream = seq, string(stream)
	head := obj[:i]
	switch {
	case len(head) > 0 && head[len(head)-1] == ',':
		head = head[:len(head)-1]
	case len(head) == 1 && head[0] == '{':
	default:
		return nil, p, ErrNoPosition
	}
	body := make([]byte, 0, len(head)+1)
	body = append(body, head...)
	return append(body, '}'), p, nil
}

// parseSeq reads a positive decimal without sign or leading zeros.
func parseSeq(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 || b[0] == '0' {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// plainID reports whether b is a stream ID sigtrail writes: letters,
// digits and hyphens, so it needs no escaping in any format.
func plainID(b []byte) bool {
	if len(b) == 0 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
