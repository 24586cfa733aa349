package audit

import (
	"bytes"
	"encoding/base64"
	"errors"
)

// Signer signs the bytes of an unsigned line. sigtrail's implementation is
// Ed25519 (package signing); the interface keeps this package free of keys.
type Signer interface {
	Sign(msg []byte) []byte // returns the raw 64-byte signature
}

// BatchSigner is a Signer that also signs many messages at once, cheaper
// per message: sigs[i][:64] gets what Sign(msgs[i]) would return.
type BatchSigner interface {
	Signer
	SignBatch(msgs, sigs [][]byte)
}

// SigLen is the length of an encoded signature: 64 bytes in base64url
// without padding.
const SigLen = 86

// sigEncoding is strict so that each signature has exactly one spelling:
// a line whose unused trailing bits were flipped does not verify.
var sigEncoding = base64.RawURLEncoding.Strict()

// AttachSignature signs dst[start:] (an unsigned line in format f) and
// appends the signature field, returning the extended slice.
func AttachSignature(dst []byte, start int, f Format, s Signer) []byte {
	return AttachSig(dst, start, f, s.Sign(dst[start:]))
}

// AttachSig attaches sig, the signature of the unsigned line dst[start:],
// as AttachSignature does.
func AttachSig(dst []byte, start int, f Format, sig []byte) []byte {
	var enc [SigLen]byte
	sigEncoding.Encode(enc[:], sig)
	switch f {
	case FormatJSON, FormatCPS:
		closers := 1
		if f == FormatCPS {
			closers = 2
		}
		tail := len(dst) - closers
		// Insert before the closing brace(s): `,"sig":"..."}`.
		var tmp [2]byte
		copy(tmp[:], dst[tail:])
		dst = dst[:tail]
		if tail > start && dst[tail-1] != '{' { // an empty object takes no comma
			dst = append(dst, ',')
		}
		dst = append(dst, `"sig":"`...)
		dst = append(dst, enc[:]...)
		dst = append(dst, '"')
		return append(dst, tmp[:closers]...)
	}
	dst = append(dst, " sig="...)
	return append(dst, enc[:]...)
}

// ErrNoSignature is returned for a line that carries no well-formed sig.
var ErrNoSignature = errors.New("line carries no signature")

var (
	cefSigMarker  = []byte(" sig=")
	jsonSigMarker = []byte(`,"sig":"`)
)

// SplitSignature takes a signed line in any format and returns the signed
// message (the line without its signature) and the raw signature. The
// signature must be the last field, as sigtrail writes it.
func SplitSignature(line []byte) (msg []byte, sig []byte, err error) {
	line = bytes.TrimRight(line, "\r\n")
	n := len(line)
	// JSON: ...,"sig":"<86>"}   CPS: ...,"sig":"<86>"}}
	for _, closers := range []int{1, 2} {
		end := n - closers
		if end < SigLen+len(jsonSigMarker)+1 || line[end-1] != '"' {
			continue
		}
		if !allByte(line[end:], '}') {
			continue
		}
		encStart := end - 1 - SigLen
		mStart := encStart - len(jsonSigMarker)
		if mStart < 1 || !bytes.Equal(line[mStart:encStart], jsonSigMarker) {
			continue
		}
		sig, err := decodeSig(line[encStart : end-1])
		if err != nil {
			return nil, nil, err
		}
		msg = make([]byte, 0, mStart+closers)
		msg = append(msg, line[:mStart]...)
		msg = append(msg, line[end:]...)
		return msg, sig, nil
	}
	// CEF: ... sig=<86>
	mStart := n - SigLen - len(cefSigMarker)
	if mStart >= 0 && bytes.Equal(line[mStart:n-SigLen], cefSigMarker) {
		sig, err := decodeSig(line[n-SigLen:])
		if err != nil {
			return nil, nil, err
		}
		return line[:mStart:mStart], sig, nil
	}
	return nil, nil, ErrNoSignature
}

func decodeSig(b []byte) ([]byte, error) {
	sig := make([]byte, 64)
	n, err := sigEncoding.Decode(sig, b)
	if err != nil || n != 64 {
		return nil, ErrNoSignature
	}
	return sig, nil
}

func allByte(b []byte, c byte) bool {
	for _, x := range b {
		if x != c {
			return false
		}
	}
	return true
}
