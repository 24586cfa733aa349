package audit

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// jsonKey is one key of the JSON line format, header keys included.
type jsonKey uint8

const (
	jAct jsonKey = iota
	jAction
	jActorID
	jCEFVersion
	jEventClassID
	jEventProduct
	jEventTS
	jEventVendor
	jEventVersion
	jGranted
	jKongInitiated
	jName
	jOrgID
	jPortalID
	jPrincipalID
	jPrincipalName
	jQuery
	jRequest
	jRT
	jSeverity
	jSrc
	jStatus
	jSuccess
	jTraceID
	jUserAgent
)

// jsonOrder lists, per kind, the keys of a JSON line in sorted order; sig
// is appended after them.
var jsonOrder = [...][]jsonKey{
	KindAuthentication: {jCEFVersion, jEventClassID, jEventProduct, jEventTS, jEventVendor, jEventVersion,
		jName, jOrgID, jPortalID, jPrincipalID, jPrincipalName, jRequest, jRT, jSeverity, jSrc, jSuccess, jTraceID, jUserAgent},
	KindAuthorization: {jAction, jActorID, jCEFVersion, jEventClassID, jEventProduct, jEventTS, jEventVendor, jEventVersion,
		jGranted, jKongInitiated, jName, jOrgID, jPrincipalID, jPrincipalName, jRT, jSeverity, jSrc, jTraceID, jUserAgent},
	KindAccess: {jAct, jCEFVersion, jEventClassID, jEventProduct, jEventTS, jEventVendor, jEventVersion,
		jKongInitiated, jName, jOrgID, jPrincipalID, jPrincipalName, jQuery, jRequest, jRT, jSeverity, jSrc, jStatus, jTraceID, jUserAgent},
}

// noField marks the header keys, which map to no extension.
const noField field = 255

// jsonKeyField maps each key to its extension field (noField for header
// keys). An array, not a map: it is read for every key of every line.
var jsonKeyField = [...]field{
	jAct: fAct, jAction: fAction, jActorID: fActorID, jCEFVersion: noField, jEventClassID: noField,
	jEventProduct: noField, jEventTS: noField, jEventVendor: noField, jEventVersion: noField,
	jGranted: fGranted, jKongInitiated: fKongInitiated, jName: noField, jOrgID: fOrgID,
	jPortalID: fPortalID, jPrincipalID: fPrincipalID, jPrincipalName: fPrincipalName,
	jQuery: fQuery, jRequest: fRequest, jRT: fRT, jSeverity: noField, jSrc: fSrc, jStatus: fStatus,
	jSuccess: fSuccess, jTraceID: fTraceID, jUserAgent: fUserAgent,
}

var jsonKeyNames = [...]string{
	jAct: "act", jAction: "action", jActorID: "actor_id", jCEFVersion: "cef_version",
	jEventClassID: "event_class_id", jEventProduct: "event_product", jEventTS: "event_ts",
	jEventVendor: "event_vendor", jEventVersion: "event_version", jGranted: "granted",
	jKongInitiated: "kong_initiated", jName: "name", jOrgID: "org_id", jPortalID: "portal_id",
	jPrincipalID: "principal_id", jPrincipalName: "principal_name", jQuery: "query",
	jRequest: "request", jRT: "rt", jSeverity: "severity", jSrc: "src", jStatus: "status",
	jSuccess: "success", jTraceID: "trace_id", jUserAgent: "user_agent",
}

// AppendJSON appends the unsigned JSON line of e: one compact object, keys
// sorted, rt/status/severity as integers, success/granted as booleans and
// every other extension as a string.
func (r Renderer) AppendJSON(dst []byte, e *Entry) []byte {
	dst = append(dst, '{')
	if !validKind(e.Kind) {
		return append(dst, '}')
	}
	first := true
	for _, k := range jsonOrder[e.Kind] {
		if f := jsonKeyField[k]; f != noField && !present(e, f) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, jsonKeyNames[k]...)
		dst = append(dst, '"', ':')
		switch k {
		case jCEFVersion:
			dst = strconv.AppendInt(dst, CEFVersion, 10)
		case jEventClassID:
			dst = appendJSONString(dst, e.ClassID)
		case jEventProduct:
			dst = appendJSONString(dst, e.Product)
		case jEventTS:
			dst = append(dst, '"')
			dst = e.Time.UTC().Truncate(time.Second).AppendFormat(dst, tsLayout)
			dst = append(dst, '"')
		case jEventVendor:
			dst = appendJSONString(dst, r.vendor())
		case jEventVersion:
			dst = appendJSONString(dst, EventVersion)
		case jName:
			dst = appendJSONString(dst, e.Name)
		case jSeverity:
			dst = strconv.AppendInt(dst, int64(e.Severity()), 10)
		case jRT:
			dst = strconv.AppendInt(dst, e.Time.UnixMilli(), 10)
		case jStatus:
			dst = strconv.AppendInt(dst, int64(e.Status), 10)
		case jSuccess:
			dst = strconv.AppendBool(dst, e.Success())
		case jGranted:
			dst = strconv.AppendBool(dst, e.Granted)
		default:
			dst = appendJSONString(dst, stringValue(e, jsonKeyField[k]))
		}
	}
	return append(dst, '}')
}

// AppendCPS appends the unsigned CPS line of e: the JSON object wrapped as
// {"event":{...}}.
func (r Renderer) AppendCPS(dst []byte, e *Entry) []byte {
	dst = append(dst, `{"event":`...)
	dst = r.AppendJSON(dst, e)
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does, so every line is valid JSON; controls and Unicode
// line breaks are escaped (linebreak.go), so no line holds them raw.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if breaksLine(r) { // C1 controls, U+2028, U+2029: see linebreak.go
			dst = append(dst, s[start:i]...)
			dst = appendUEscape(dst, r)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
