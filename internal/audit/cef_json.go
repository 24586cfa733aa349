package audit

import "strconv"

// AppendDecodedJSON appends l as the JSON object that `sigtrail decode`
// prints: {"prefix":...,"header":{...},"extensions":{...}}, every value a
// string, header keys in CEF order and extensions in line order (ParseCEF
// rejects duplicate keys, so the object has none).
func (l *CEFLine) AppendDecodedJSON(dst []byte) []byte {
	return l.appendDecoded(dst, false)
}

// AppendTypedJSON is AppendDecodedJSON with Kong's JSON typing rule (the
// one sigtrail's JSON lines follow): rt, status and severity (extension or
// header) are integers, success and granted booleans, all else strings. A
// value that does not read as its type (another producer's severity
// "High") stays a string rather than being lost.
func (l *CEFLine) AppendTypedJSON(dst []byte) []byte {
	return l.appendDecoded(dst, true)
}

func (l *CEFLine) appendDecoded(dst []byte, typed bool) []byte {
	dst = append(dst, `{"prefix":`...)
	dst = appendJSONString(dst, l.Prefix)
	hdr := [...]struct{ k, v string }{
		{"version", l.Version}, {"device_vendor", l.DeviceVendor}, {"device_product", l.DeviceProduct},
		{"device_version", l.DeviceVersion}, {"device_event_class_id", l.DeviceEventClassID},
		{"name", l.Name}, {"severity", l.Severity},
	}
	dst = append(dst, `,"header":{`...)
	for i, h := range hdr {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, h.k)
		dst = append(dst, ':')
		dst = appendValue(dst, typed, h.k, h.v)
	}
	dst = append(dst, `},"extensions":{`...)
	for i, x := range l.Extensions {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, x.Key)
		dst = append(dst, ':')
		dst = appendValue(dst, typed, x.Key, x.Value)
	}
	return append(dst, "}}"...)
}

// appendValue appends v as a JSON string, or typed by key under Kong's rule.
func appendValue(dst []byte, typed bool, key, v string) []byte {
	if !typed {
		return appendJSONString(dst, v)
	}
	switch key {
	case "rt", "status", "severity":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return strconv.AppendInt(dst, n, 10)
		}
	case "success", "granted":
		if v == "true" || v == "false" {
			return append(dst, v...)
		}
	}
	return appendJSONString(dst, v)
}
