package audit

// Lines carry no raw control character and no Unicode line break, whatever
// a user puts in a field: a consumer that splits on any line break (Python's
// str.splitlines, many log shippers) must not be shown a second, forged line.
//
// The runes kept out of every line are the C0 controls U+0000–U+001F, DEL
// U+007F, the C1 controls U+0080–U+009F (U+0085 NEXT LINE among them), and
// U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR. That covers every
// break Python's splitlines and Unicode's mandatory breaks (UAX #14 BK, CR,
// LF, NL) know of.
//
// How each format writes them:
//   - JSON (and CPS): \n, \r, \t as such; every other one as \u00XX or
//     \u2028/\u2029, lower-case hex. Any JSON parser reads them back.
//   - CEF (header fields and extension values): \n and \r as CEF defines;
//     CEF has no escape for the others, so sigtrail writes them as the six
//     characters \uXXXX (lower-case hex). A CEF consumer that knows nothing
//     of this shows the readable text "\u2028"; ParseCEF and sigtrail decode
//     turn exactly these escapes (\u followed by four lower-case hex digits
//     naming one of the runes above, other than LF and CR) back into the
//     rune, and leave any other \u text as it is. A backslash in the value
//     is written \\, so a user's literal "\u2028" comes out as "\\u2028" and
//     reads back as typed.
//
// Both formats write an invalid UTF-8 byte as U+FFFD, one per byte, as
// encoding/json does: a line is always valid UTF-8, so a reader decoding it
// as Latin-1 never meets a lone 0x85 byte either.

// breaksLine reports whether r may not appear raw in a line.
func breaksLine(r rune) bool {
	return r < 0x20 || r >= 0x7f && r <= 0x9f || r == '\u2028' || r == '\u2029'
}

// appendUEscape appends \uXXXX for r (which is below U+10000).
func appendUEscape(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// cefUnescapeU reads a \uXXXX escape at b (b[0] is the backslash) as
// appendCEFEscaped writes it and returns the rune, or false for any other
// text, which a CEF reader keeps as it is.
func cefUnescapeU(b []byte) (rune, bool) {
	if len(b) < 6 || b[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		default:
			return 0, false
		}
	}
	if !breaksLine(r) || r == '\n' || r == '\r' {
		return 0, false
	}
	return r, true
}
