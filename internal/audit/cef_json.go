package audit

// AppendDecodedJSON appends l as the JSON object that `sigtrail decode`
// prints: {"prefix":...,"header":{...},"extensions":{...}}, every value a
// string, header keys in CEF order and extensions in line order (ParseCEF
// rejects duplicate keys, so the object has none).
func (l *CEFLine) AppendDecodedJSON(dst []byte) []byte {
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
		dst = appendJSONString(dst, h.v)
	}
	dst = append(dst, `},"extensions":{`...)
	for i, x := range l.Extensions {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, x.Key)
		dst = append(dst, ':')
		dst = appendJSONString(dst, x.Value)
	}
	return append(dst, "}}"...)
}
