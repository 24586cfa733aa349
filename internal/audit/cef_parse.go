package audit

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// CEFLine is one parsed CEF line: whatever preceded "CEF:" (a timestamp and
// host, or a syslog header), the seven header fields unescaped, and the
// extensions unescaped in line order. Severity stays a string because other
// producers write names such as "High".
type CEFLine struct {
	Prefix             string // text before "CEF:", without the separating spaces
	Version            string
	DeviceVendor       string
	DeviceProduct      string
	DeviceVersion      string
	DeviceEventClassID string
	Name               string
	Severity           string
	Extensions         []CEFExtension
}

// CEFExtension is one key=value pair of a CEF line, its value unescaped.
type CEFExtension struct {
	Key   string
	Value string
}

// Get returns the value of the extension key and whether the line has it.
func (l *CEFLine) Get(key string) (string, bool) {
	for _, x := range l.Extensions {
		if x.Key == key {
			return x.Value, true
		}
	}
	return "", false
}

// CEFError says why a line is not valid CEF and at which byte of the line.
type CEFError struct {
	Offset int
	Reason string
}

func (e *CEFError) Error() string { return fmt.Sprintf("byte %d: %s", e.Offset, e.Reason) }

var cefMarker = []byte("CEF:")

// ParseCEF parses one CEF line. A trailing CR/LF and whitespace after the
// final value are ignored. Header fields
// unescape \| and \\ (and \n, \r, which sigtrail writes for line breaks);
// extension values unescape \=, \\, \n and \r. Both also read back the
// \uXXXX escapes sigtrail writes for other controls and line separators, and
// only those (linebreak.go). A backslash before any other character is kept
// as it is, as ArcSight does. A value runs to the last
// space before the next unescaped key=, so values may hold spaces and be
// empty. A key that occurs twice is an error: which of the two a consumer
// reads would differ from one SIEM to the next, and that is how fields are
// forged.
func ParseCEF(line []byte) (CEFLine, error) {
	var l CEFLine
	// Whitespace after the final value is not data (CEF spec; a CR before
	// the newline is line ending); spaces before a key belong to the value
	// before it, apart from the one separator.
	line = bytes.TrimRight(trimEOL(line), " \t\r")
	at := cefStart(line)
	if at < 0 {
		return l, &CEFError{0, `no "CEF:<version>|" header`}
	}
	l.Prefix = string(bytes.TrimRight(line[:at], " "))
	pos := at + len(cefMarker)
	var hdr [7]string
	for i := range hdr {
		v, next, ok := headerField(line, pos)
		if !ok {
			return l, &CEFError{len(line), fmt.Sprintf("header has %d of the 7 fields", i)}
		}
		hdr[i], pos = v, next
	}
	l.Version, l.DeviceVendor, l.DeviceProduct, l.DeviceVersion = hdr[0], hdr[1], hdr[2], hdr[3]
	l.DeviceEventClassID, l.Name, l.Severity = hdr[4], hdr[5], hdr[6]
	ext, err := parseExtensions(line, pos)
	if err != nil {
		return l, err
	}
	l.Extensions = ext
	return l, nil
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// cefStart finds "CEF:" at the start of the line or after a space and
// followed by a version number and '|', so that prefix text merely
// containing the letters is not taken for the header.
func cefStart(line []byte) int {
	off := 0
	for {
		i := bytes.Index(line[off:], cefMarker)
		if i < 0 {
			return -1
		}
		i += off
		if (i == 0 || line[i-1] == ' ') && versionFollows(line[i+len(cefMarker):]) {
			return i
		}
		off = i + 1
	}
}

func versionFollows(b []byte) bool {
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	return n > 0 && n < len(b) && b[n] == '|'
}

// headerField reads one header field starting at pos up to its unescaped
// '|' and returns it unescaped with the position after the pipe.
func headerField(line []byte, pos int) (string, int, bool) {
	var sb []byte
	start := pos
	for i := pos; i < len(line); i++ {
		switch line[i] {
		case '|':
			if sb == nil {
				return string(line[start:i]), i + 1, true
			}
			return string(append(sb, line[start:i]...)), i + 1, true
		case '\\':
			if i+1 >= len(line) {
				continue
			}
			var c byte
			switch line[i+1] {
			case '|', '\\':
				c = line[i+1]
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 'u':
				r, ok := cefUnescapeU(line[i:])
				if !ok {
					continue
				}
				sb = append(sb, line[start:i]...)
				sb = utf8.AppendRune(sb, r)
				i += 5
				start = i + 1
				continue
			default:
				continue
			}
			sb = append(sb, line[start:i]...)
			sb = append(sb, c)
			i++
			start = i + 1
		}
	}
	return "", 0, false
}

func isKeyStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// isKeyByte admits, after the first byte, what ArcSight and SIEMs write in
// keys: dots (ad.Error), commas and underscores (ad.Error_,Code), brackets
// (ad.field[0]).
func isKeyByte(c byte) bool {
	return isKeyStart(c) || c == '.' || c == ',' || c == '[' || c == ']'
}

// keyAt returns the end of a key starting at i (the index of its '='), or
// -1 when no key=value starts there.
func keyAt(line []byte, i int) int {
	if i >= len(line) || !isKeyStart(line[i]) {
		return -1
	}
	j := i + 1
	for j < len(line) && isKeyByte(line[j]) {
		j++
	}
	if j >= len(line) || line[j] != '=' {
		return -1
	}
	return j
}

func parseExtensions(line []byte, pos int) ([]CEFExtension, error) {
	for pos < len(line) && line[pos] == ' ' {
		pos++
	}
	if pos == len(line) {
		return nil, nil
	}
	ext := make([]CEFExtension, 0, 16)
	for pos < len(line) {
		eq := keyAt(line, pos)
		if eq < 0 {
			return nil, &CEFError{pos, "extension does not start with key="}
		}
		key := string(line[pos:eq])
		for _, x := range ext {
			if x.Key == key {
				return nil, &CEFError{pos, fmt.Sprintf("extension key %q occurs twice", key)}
			}
		}
		val, next := extensionValue(line, eq+1)
		ext = append(ext, CEFExtension{Key: key, Value: val})
		pos = next
	}
	return ext, nil
}

// extensionValue reads a value starting at pos and returns it unescaped
// with the position of the next key (len(line) at the end). Escapes are
// consumed left to right, so "\\" followed by " k=" ends the value.
func extensionValue(line []byte, pos int) (string, int) {
	var sb []byte
	start := pos
	i := pos
	for ; i < len(line); i++ {
		c := line[i]
		if c == ' ' && keyAt(line, i+1) >= 0 {
			break
		}
		if c != '\\' || i+1 >= len(line) {
			continue
		}
		var u byte
		switch line[i+1] {
		case '\\', '=':
			u = line[i+1]
		case 'n':
			u = '\n'
		case 'r':
			u = '\r'
		case 'u':
			r, ok := cefUnescapeU(line[i:])
			if !ok {
				continue
			}
			sb = append(sb, line[start:i]...)
			sb = utf8.AppendRune(sb, r)
			i += 5
			start = i + 1
			continue
		default:
			continue
		}
		sb = append(sb, line[start:i]...)
		sb = append(sb, u)
		i++
		start = i + 1
	}
	var v string
	if sb == nil {
		v = string(line[start:i])
	} else {
		v = string(append(sb, line[start:i]...))
	}
	if i < len(line) {
		return v, i + 1
	}
	return v, i
}
