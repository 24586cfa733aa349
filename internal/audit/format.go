package audit

import "fmt"

// Format is a destination's line format.
type Format string

// The line formats a destination can ask for.
const (
	FormatCEF  Format = "cef"
	FormatJSON Format = "json"
	FormatCPS  Format = "cps"
)

// ParseFormat validates a log_format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatCEF, FormatJSON, FormatCPS:
		return f, nil
	}
	return "", fmt.Errorf("log format %q is not one of cef, json, cps", s)
}

// AppendUnsigned appends the line of e in format f, without its signature.
func (r Renderer) AppendUnsigned(dst []byte, f Format, e *Entry) []byte {
	switch f {
	case FormatJSON:
		return r.AppendJSON(dst, e)
	case FormatCPS:
		return r.AppendCPS(dst, e)
	}
	return r.AppendCEF(dst, e)
}

// AppendSigned appends the signed line of e in format f: the unsigned line
// is signed as it stands, then the signature is attached as the last field.
func (r Renderer) AppendSigned(dst []byte, f Format, e *Entry, s Signer) []byte {
	start := len(dst)
	dst = r.AppendUnsigned(dst, f, e)
	return AttachSignature(dst, start, f, s)
}
