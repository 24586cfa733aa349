package audit

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The ingest API parses every line it accepts, so the JSON line format gets
// its own single-pass scanner instead of encoding/json (which needed a
// second token pass to catch duplicate keys). It accepts exactly what
// encoding/json accepted into jsonLine, with the same FieldError field names
// and reasons, and in addition rejects invalid UTF-8 (encoding/json replaced
// it with U+FFFD), lone UTF-16 surrogate escapes (which it also made U+FFFD)
// and anything after the object (encoding/json let a stray '}' or ']'
// through). FuzzScanJSONMatchesReference holds it to that.

// jsonKeySig is the signature key; it is in no jsonKey order because
// renderers append it last.
const jsonKeySig = jKeyCount

// jKeyCount is the number of keys of the format, sig included.
const jKeyCount = jUserAgent + 1

// maxJSONDepth is encoding/json's nesting limit, kept so deep values fail the
// same way.
const maxJSONDepth = 10000

// scannedLine holds the values jsonLine points to, so one line costs one
// allocation for all its fields.
type scannedLine struct {
	j     jsonLine
	strs  [jKeyCount + 1]string
	ints  [3]int // cef_version, severity, status
	rt    int64
	bools [2]bool // success, granted
}

// jsonValueType is what a key's value must be.
type jsonValueType uint8

const (
	jvString jsonValueType = iota
	jvInt
	jvInt64
	jvBool
)

var jsonValueTypeName = [...]string{jvString: "string", jvInt: "int", jvInt64: "int64", jvBool: "bool"}

func jsonKeyType(k jsonKey) jsonValueType {
	switch k {
	case jCEFVersion, jSeverity, jStatus:
		return jvInt
	case jRT:
		return jvInt64
	case jSuccess, jGranted:
		return jvBool
	}
	return jvString
}

// lookupJSONKey matches a key exactly (encoding/json would also take keys
// differing by case; the format does not).
func lookupJSONKey(k string) (jsonKey, bool) {
	switch k {
	case "act":
		return jAct, true
	case "action":
		return jAction, true
	case "actor_id":
		return jActorID, true
	case "cef_version":
		return jCEFVersion, true
	case "event_class_id":
		return jEventClassID, true
	case "event_product":
		return jEventProduct, true
	case "event_ts":
		return jEventTS, true
	case "event_vendor":
		return jEventVendor, true
	case "event_version":
		return jEventVersion, true
	case "granted":
		return jGranted, true
	case "kong_initiated":
		return jKongInitiated, true
	case "name":
		return jName, true
	case "org_id":
		return jOrgID, true
	case "portal_id":
		return jPortalID, true
	case "principal_id":
		return jPrincipalID, true
	case "principal_name":
		return jPrincipalName, true
	case "query":
		return jQuery, true
	case "request":
		return jRequest, true
	case "rt":
		return jRT, true
	case "severity":
		return jSeverity, true
	case "src":
		return jSrc, true
	case "status":
		return jStatus, true
	case "success":
		return jSuccess, true
	case "trace_id":
		return jTraceID, true
	case "user_agent":
		return jUserAgent, true
	case "sig":
		return jsonKeySig, true
	}
	return 0, false
}

// jsonScanner walks one line. s is the line as one string, so values
// without escapes are substrings of it rather than copies.
type jsonScanner struct {
	s   string
	pos int
}

func (sc *jsonScanner) syntaxErr() error {
	return fieldErr("", "malformed JSON at byte %d", sc.pos+1)
}

func (sc *jsonScanner) skipSpace() {
	for sc.pos < len(sc.s) {
		switch sc.s[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

// scanJSONLine reads one flat JSON object of the line format into a
// jsonLine. Syntax, unknown and repeated keys fail at once; a value of the
// wrong type fails once the object is known to be well formed, as it did
// with encoding/json.
func scanJSONLine(line []byte) (*jsonLine, error) {
	if !utf8.Valid(line) {
		return nil, fieldErr("", "is not valid UTF-8")
	}
	sc := jsonScanner{s: string(line)}
	sc.skipSpace()
	if sc.pos == len(sc.s) {
		return nil, fieldErr("", "malformed JSON")
	}
	switch c := sc.s[sc.pos]; {
	case c == '{':
	case c == '[' || c == '"' || c == '-' || c == 't' || c == 'f' || c == 'n' || ('0' <= c && c <= '9'):
		return nil, fieldErr("", "a line must be one JSON object")
	default:
		return nil, sc.syntaxErr()
	}
	sc.pos++
	out := new(scannedLine)
	var seen [jKeyCount + 1]bool
	var typeErr error
	sc.skipSpace()
	if sc.pos < len(sc.s) && sc.s[sc.pos] == '}' {
		sc.pos++
	} else {
		for {
			sc.skipSpace()
			if sc.pos == len(sc.s) || sc.s[sc.pos] != '"' {
				return nil, sc.syntaxErr()
			}
			key, err := sc.str()
			if err != nil {
				return nil, err
			}
			k, ok := lookupJSONKey(key)
			if !ok {
				return nil, fieldErr(key, "unknown field")
			}
			if seen[k] {
				return nil, fieldErr(key, "given more than once")
			}
			seen[k] = true
			sc.skipSpace()
			if sc.pos == len(sc.s) || sc.s[sc.pos] != ':' {
				return nil, sc.syntaxErr()
			}
			sc.pos++
			sc.skipSpace()
			if err := sc.value(out, k, &typeErr); err != nil {
				return nil, err
			}
			sc.skipSpace()
			if sc.pos == len(sc.s) {
				return nil, fieldErr("", "malformed JSON")
			}
			if c := sc.s[sc.pos]; c == ',' {
				sc.pos++
				continue
			} else if c == '}' {
				sc.pos++
				break
			}
			return nil, sc.syntaxErr()
		}
	}
	if typeErr != nil {
		return nil, typeErr
	}
	sc.skipSpace()
	if sc.pos != len(sc.s) {
		return nil, fieldErr("", "trailing data after the JSON object")
	}
	return &out.j, nil
}

// value reads the value of key k into out. A value of the wrong type is
// skipped (its syntax still checked) and remembered in *typeErr if it is
// the first.
func (sc *jsonScanner) value(out *scannedLine, k jsonKey, typeErr *error) error {
	if sc.pos == len(sc.s) {
		return fieldErr("", "malformed JSON")
	}
	want := jsonKeyType(k)
	wrong := func() {
		if *typeErr == nil {
			name := "sig"
			if k != jsonKeySig {
				name = jsonKeyNames[k]
			}
			*typeErr = fieldErr(name, "must be of type %s", jsonValueTypeName[want])
		}
	}
	switch c := sc.s[sc.pos]; {
	case c == '"':
		v, err := sc.str()
		if err != nil {
			return err
		}
		if want != jvString {
			wrong()
			return nil
		}
		out.strs[k] = v
		out.setString(k)
	case c == '-' || ('0' <= c && c <= '9'):
		n, isInt, err := sc.number()
		if err != nil {
			return err
		}
		if (want != jvInt && want != jvInt64) || !isInt {
			wrong()
			return nil
		}
		out.setInt(k, n)
	case c == 't' || c == 'f':
		b := c == 't'
		lit := "false"
		if b {
			lit = "true"
		}
		if err := sc.literal(lit); err != nil {
			return err
		}
		if want != jvBool {
			wrong()
			return nil
		}
		out.setBool(k, b)
	case c == 'n':
		// null leaves the key absent, as encoding/json did with a nil pointer.
		return sc.literal("null")
	case c == '{' || c == '[':
		if err := sc.skipComposite(); err != nil {
			return err
		}
		wrong()
	default:
		return sc.syntaxErr()
	}
	return nil
}

func (o *scannedLine) setString(k jsonKey) {
	p := &o.strs[k]
	j := &o.j
	switch k {
	case jAct:
		j.Act = p
	case jAction:
		j.Action = p
	case jActorID:
		j.ActorID = p
	case jEventClassID:
		j.EventClassID = p
	case jEventProduct:
		j.EventProduct = p
	case jEventTS:
		j.EventTS = p
	case jEventVendor:
		j.EventVendor = p
	case jEventVersion:
		j.EventVersion = p
	case jKongInitiated:
		j.KongInitiated = p
	case jName:
		j.Name = p
	case jOrgID:
		j.OrgID = p
	case jPortalID:
		j.PortalID = p
	case jPrincipalID:
		j.PrincipalID = p
	case jPrincipalName:
		j.PrincipalName = p
	case jQuery:
		j.Query = p
	case jRequest:
		j.Request = p
	case jSrc:
		j.Src = p
	case jTraceID:
		j.TraceID = p
	case jUserAgent:
		j.UserAgent = p
	case jsonKeySig:
		j.Sig = p
	}
}

// setInt stores an integer already known to fit int64 (int is 64 bits on
// every platform sigtrail builds for).
func (o *scannedLine) setInt(k jsonKey, n int64) {
	switch k {
	case jCEFVersion:
		o.ints[0] = int(n)
		o.j.CEFVersion = &o.ints[0]
	case jSeverity:
		o.ints[1] = int(n)
		o.j.Severity = &o.ints[1]
	case jStatus:
		o.ints[2] = int(n)
		o.j.Status = &o.ints[2]
	case jRT:
		o.rt = n
		o.j.RT = &o.rt
	}
}

func (o *scannedLine) setBool(k jsonKey, b bool) {
	switch k {
	case jSuccess:
		o.bools[0] = b
		o.j.Success = &o.bools[0]
	case jGranted:
		o.bools[1] = b
		o.j.Granted = &o.bools[1]
	}
}

func (sc *jsonScanner) literal(lit string) error {
	if len(sc.s)-sc.pos < len(lit) || sc.s[sc.pos:sc.pos+len(lit)] != lit {
		if len(sc.s)-sc.pos < len(lit) && lit[:len(sc.s)-sc.pos] == sc.s[sc.pos:] {
			return fieldErr("", "malformed JSON")
		}
		return sc.syntaxErr()
	}
	sc.pos += len(lit)
	return nil
}

// str reads a string starting at its opening quote. Without escapes the
// result shares the line's memory.
func (sc *jsonScanner) str() (string, error) {
	sc.pos++ // opening quote
	start := sc.pos
	for sc.pos < len(sc.s) {
		switch c := sc.s[sc.pos]; {
		case c == '"':
			v := sc.s[start:sc.pos]
			sc.pos++
			return v, nil
		case c == '\\':
			return sc.strEscaped(start)
		case c < 0x20:
			return "", sc.syntaxErr()
		}
		sc.pos++
	}
	return "", fieldErr("", "malformed JSON")
}

// strEscaped finishes a string that has escapes, decoding them the way
// encoding/json does, except that a \u escape that is half of a surrogate
// pair without its other half is refused (encoding/json made it U+FFFD).
func (sc *jsonScanner) strEscaped(start int) (string, error) {
	buf := make([]byte, 0, sc.pos-start+16)
	buf = append(buf, sc.s[start:sc.pos]...)
	for sc.pos < len(sc.s) {
		c := sc.s[sc.pos]
		switch {
		case c == '"':
			sc.pos++
			return string(buf), nil
		case c < 0x20:
			return "", sc.syntaxErr()
		case c != '\\':
			buf = append(buf, c)
			sc.pos++
			continue
		}
		if sc.pos+1 == len(sc.s) {
			return "", fieldErr("", "malformed JSON")
		}
		sc.pos++
		switch e := sc.s[sc.pos]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := sc.hex4(sc.pos + 1)
			if !ok {
				return "", sc.syntaxErr()
			}
			sc.pos += 5
			if utf16.IsSurrogate(r) {
				// A valid pair is consumed whole; anything else leaves the
				// next escape to be read on its own.
				lo, ok := rune(-1), false
				if sc.pos+1 < len(sc.s) && sc.s[sc.pos] == '\\' && sc.s[sc.pos+1] == 'u' {
					lo, ok = sc.hex4(sc.pos + 2)
				}
				d := utf16.DecodeRune(r, lo)
				if !ok || d == utf8.RuneError {
					// encoding/json wrote U+FFFD: text the sender never
					// wrote, as invalid UTF-8 would be, so refused alike.
					return "", fieldErr("", "is not valid UTF-8 (a lone UTF-16 surrogate escape \\u%04x)", r)
				}
				r = d
				sc.pos += 6
			}
			buf = utf8.AppendRune(buf, r)
			continue
		default:
			return "", sc.syntaxErr()
		}
		sc.pos++
	}
	return "", fieldErr("", "malformed JSON")
}

// hex4 reads the four hex digits of a \u escape starting at i.
func (sc *jsonScanner) hex4(i int) (rune, bool) {
	if len(sc.s)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(sc.s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads a JSON number. isInt says whether it is an integer that
// fits int64 (no fraction, no exponent), which is all encoding/json put
// into an int.
func (sc *jsonScanner) number() (n int64, isInt bool, err error) {
	start := sc.pos
	neg := sc.s[sc.pos] == '-'
	if neg {
		sc.pos++
	}
	digits := func() int {
		i := sc.pos
		for sc.pos < len(sc.s) && '0' <= sc.s[sc.pos] && sc.s[sc.pos] <= '9' {
			sc.pos++
		}
		return sc.pos - i
	}
	intStart := sc.pos
	switch d := digits(); {
	case d == 0:
		if sc.pos == len(sc.s) {
			return 0, false, fieldErr("", "malformed JSON")
		}
		return 0, false, sc.syntaxErr()
	case d > 1 && sc.s[intStart] == '0':
		sc.pos = intStart + 1
		return 0, false, sc.syntaxErr()
	}
	intEnd := sc.pos
	isInt = true
	if sc.pos < len(sc.s) && sc.s[sc.pos] == '.' {
		isInt = false
		sc.pos++
		if digits() == 0 {
			if sc.pos == len(sc.s) {
				return 0, false, fieldErr("", "malformed JSON")
			}
			return 0, false, sc.syntaxErr()
		}
	}
	if sc.pos < len(sc.s) && (sc.s[sc.pos] == 'e' || sc.s[sc.pos] == 'E') {
		isInt = false
		sc.pos++
		if sc.pos < len(sc.s) && (sc.s[sc.pos] == '+' || sc.s[sc.pos] == '-') {
			sc.pos++
		}
		if digits() == 0 {
			if sc.pos == len(sc.s) {
				return 0, false, fieldErr("", "malformed JSON")
			}
			return 0, false, sc.syntaxErr()
		}
	}
	if !isInt {
		return 0, false, nil
	}
	n, perr := strconv.ParseInt(sc.s[start:intEnd], 10, 64)
	return n, perr == nil, nil
}

// skipComposite checks and skips an object or array value (the format has
// none, but encoding/json reported such a value as a type error only after
// checking its syntax, and so does this).
func (sc *jsonScanner) skipComposite() error {
	var stack []byte // the open containers, '{' or '['
	for {
		sc.skipSpace()
		if sc.pos == len(sc.s) {
			return fieldErr("", "malformed JSON")
		}
		c := sc.s[sc.pos]
		// A value is expected here.
		switch {
		case c == '{' || c == '[':
			if len(stack) >= maxJSONDepth-1 {
				return sc.syntaxErr()
			}
			stack = append(stack, c)
			sc.pos++
			sc.skipSpace()
			if sc.pos == len(sc.s) {
				return fieldErr("", "malformed JSON")
			}
			if cl := sc.s[sc.pos]; (c == '{' && cl == '}') || (c == '[' && cl == ']') {
				sc.pos++
				stack = stack[:len(stack)-1]
				break
			}
			if c == '{' {
				if err := sc.objectKey(); err != nil {
					return err
				}
			}
			continue
		case c == '"':
			if _, err := sc.str(); err != nil {
				return err
			}
		case c == '-' || ('0' <= c && c <= '9'):
			if _, _, err := sc.number(); err != nil {
				return err
			}
		case c == 't':
			if err := sc.literal("true"); err != nil {
				return err
			}
		case c == 'f':
			if err := sc.literal("false"); err != nil {
				return err
			}
		case c == 'n':
			if err := sc.literal("null"); err != nil {
				return err
			}
		default:
			return sc.syntaxErr()
		}
		// After a value: a comma (then maybe a key), or closing brackets.
		for {
			if len(stack) == 0 {
				return nil
			}
			sc.skipSpace()
			if sc.pos == len(sc.s) {
				return fieldErr("", "malformed JSON")
			}
			top := stack[len(stack)-1]
			c := sc.s[sc.pos]
			if c == ',' {
				sc.pos++
				if top == '{' {
					sc.skipSpace()
					if err := sc.objectKey(); err != nil {
						return err
					}
				}
				break
			}
			if (top == '{' && c == '}') || (top == '[' && c == ']') {
				sc.pos++
				stack = stack[:len(stack)-1]
				continue
			}
			return sc.syntaxErr()
		}
	}
}

// objectKey reads `"key" :` inside a skipped object.
func (sc *jsonScanner) objectKey() error {
	if sc.pos == len(sc.s) {
		return fieldErr("", "malformed JSON")
	}
	if sc.s[sc.pos] != '"' {
		return sc.syntaxErr()
	}
	if _, err := sc.str(); err != nil {
		return err
	}
	sc.skipSpace()
	if sc.pos == len(sc.s) {
		return fieldErr("", "malformed JSON")
	}
	if sc.s[sc.pos] != ':' {
		return sc.syntaxErr()
	}
	sc.pos++
	return nil
}
