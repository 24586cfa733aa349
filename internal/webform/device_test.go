package webform

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDeviceSecretTakesOnlyWhatASecretCanBe(t *testing.T) {
	t.Parallel()
	good := NewSecret()
	for _, c := range []struct {
		name, value, want string
	}{
		{"a secret", good, good},
		{"none", "", ""},
		{"too short", good[:42], ""},
		{"too long", good + "x", ""},
	} {
		r := httptest.NewRequest(http.MethodPost, "/login", nil)
		if c.value != "" {
			r.AddCookie(&http.Cookie{Name: "d", Value: c.value})
		}
		if got := DeviceSecret(r, "d"); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// The bucket's name is in the store's rate table: it must not be the
// cookie, only a hash of it.
func TestDeviceBucketNamesNoSecret(t *testing.T) {
	t.Parallel()
	secret := NewSecret()
	key := DeviceBucket("console/device/", SecretHash(secret))
	if strings.Contains(key, secret) || !strings.HasPrefix(key, "console/device/") || len(key) != len("console/device/")+32 {
		t.Errorf("bucket %q", key)
	}
}
