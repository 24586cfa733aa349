package sqlcodec

import (
	"encoding/json"
	"fmt"

	"github.com/sigtrail/sigtrail/internal/store"
)

// EncodeLabels is how both backends store a portal's labels: a JSON
// object, "{}" when there are none.
func EncodeLabels(l map[string]string) string {
	if len(l) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(l) // a map of strings always encodes
	return string(b)
}

// DecodeLabels reads what EncodeLabels wrote; no labels is nil.
func DecodeLabels(s string) (map[string]string, error) {
	var l map[string]string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("decode labels: %w", err)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

// EncodeCustomization is how both backends store a customization.
func EncodeCustomization(c store.PortalCustomization) (string, error) {
	b, err := json.Marshal(c)
	return string(b), err
}

// DecodeCustomization reads what EncodeCustomization wrote.
func DecodeCustomization(s string) (store.PortalCustomization, error) {
	var c store.PortalCustomization
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("decode customization: %w", err)
	}
	return c, nil
}
