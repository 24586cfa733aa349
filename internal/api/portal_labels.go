package api

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
)

// Kong's Labels schema: at most 50; keys and values 1-63 characters of
// letters, digits, '-', '.', '_', starting and ending with a letter or
// digit; keys must not start with a prefix Kong reserves.
const maxLabels = 50

var labelPattern = regexp.MustCompile(`^[a-z0-9A-Z]([a-z0-9A-Z-._]*[a-z0-9A-Z]+)?$`)

// reservedLabelPrefixes are compared as written: Kong's own tools use
// keys such as "KONGCTL-namespace", which the rule does not cover.
var reservedLabelPrefixes = []string{"kong", "konnect", "mesh", "kic", "_"}

// labelsUpdate is Kong's LabelsUpdate: absent, null (remove every label)
// or an object whose null values remove a label. The raw JSON is kept so
// apply can tell the three apart and name the bad key.
type labelsUpdate struct {
	present bool
	raw     json.RawMessage
}

func (l *labelsUpdate) UnmarshalJSON(b []byte) error {
	l.present, l.raw = true, append(json.RawMessage(nil), b...)
	return nil
}

// apply merges the update into labels and validates the result.
func (l labelsUpdate) apply(labels map[string]string) (map[string]string, error) {
	if !l.present {
		return labels, nil
	}
	if bytes.Equal(bytes.TrimSpace(l.raw), []byte("null")) {
		return nil, nil
	}
	var kv map[string]json.RawMessage
	if err := json.Unmarshal(l.raw, &kv); err != nil {
		return nil, apperr.InvalidField("body", "labels", "type", "must be an object of strings")
	}
	out := make(map[string]string, len(labels)+len(kv))
	for k, v := range labels {
		out[k] = v
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := "labels." + k
		if err := checkLabelKey(field, k); err != nil {
			return nil, err
		}
		if raw := bytes.TrimSpace(kv[k]); len(raw) == 0 || bytes.Equal(raw, []byte("null")) { // a null value decodes as nil
			delete(out, k)
			continue
		}
		var v string
		if err := json.Unmarshal(kv[k], &v); err != nil {
			return nil, apperr.InvalidField("body", field, "type", "must be a string or null")
		}
		if len(v) > 63 || !labelPattern.MatchString(v) {
			return nil, apperr.InvalidField("body", field, "is_label", "must be 1-63 letters, digits, '-', '.' or '_', starting and ending with a letter or digit")
		}
		out[k] = v
	}
	if len(out) > maxLabels {
		return nil, apperr.InvalidField("body", "labels", "invalid", "must hold at most 50 labels")
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func checkLabelKey(field, k string) error {
	if len(k) > 63 || !labelPattern.MatchString(k) {
		return apperr.InvalidField("body", field, "is_label", "key must be 1-63 letters, digits, '-', '.' or '_', starting and ending with a letter or digit")
	}
	for _, p := range reservedLabelPrefixes {
		if strings.HasPrefix(k, p) {
			return apperr.InvalidField("body", field, "invalid", `key must not start with "kong", "konnect", "mesh", "kic" or "_"`)
		}
	}
	return nil
}

// labelsJSON is how labels are answered: always an object.
func labelsJSON(l map[string]string) map[string]string {
	if l == nil {
		return map[string]string{}
	}
	return l
}

// matchLabels applies filter[labels]: eq "key:value" needs that label
// ("key" alone: the key with any value); contains matches any "key:value"
// containing the text, ignoring case.
func matchLabels(f stringFilter, labels map[string]string) bool {
	if f.Eq != "" {
		k, v, hasValue := strings.Cut(f.Eq, ":")
		got, ok := labels[k]
		if !ok || hasValue && got != v {
			return false
		}
	}
	if f.Contains == "" {
		return true
	}
	for k, v := range labels {
		if strings.Contains(strings.ToLower(k+":"+v), strings.ToLower(f.Contains)) {
			return true
		}
	}
	return false
}
