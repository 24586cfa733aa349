package store

import (
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
)

func TestSameDelivery(t *testing.T) {
	t.Parallel()
	base := Destination{ID: "d", OrgID: "o", Name: "siem", Endpoint: "https://siem.example/in", Authorization: "Bearer a",
		LogFormat: audit.FormatCEF, Ordering: "", CreatedAt: time.Unix(1, 0), UpdatedAt: time.Unix(1, 0)}
	for _, tc := range []struct {
		name   string
		change func(*Destination)
		same   bool
	}{
		{"nothing", func(*Destination) {}, true},
		{"name", func(d *Destination) { d.Name = "renamed" }, true},
		{"times", func(d *Destination) { d.UpdatedAt, d.CreatedAt = time.Unix(2, 0), time.Unix(2, 0) }, true},
		{"ordering spelled out", func(d *Destination) { d.Ordering = OrderingBestEffort }, true},
		{"endpoint", func(d *Destination) { d.Endpoint = "https://other.example/in" }, false},
		{"authorization", func(d *Destination) { d.Authorization = "Bearer b" }, false},
		{"format", func(d *Destination) { d.LogFormat = audit.FormatJSON }, false},
		{"TLS verification", func(d *Destination) { d.SkipSSLVerification = true }, false},
		{"strict ordering", func(d *Destination) { d.Ordering = OrderingStrict }, false},
		{"sequence numbers", func(d *Destination) { d.SequenceNumbers = true }, false},
		{"legacy", func(d *Destination) { d.Legacy = true }, false},
		{"another destination", func(d *Destination) { d.ID = "e" }, false},
		{"another org", func(d *Destination) { d.OrgID = "p" }, false},
	} {
		d := base
		tc.change(&d)
		if got := SameDelivery(base, d); got != tc.same {
			t.Errorf("%s: SameDelivery = %v, want %v", tc.name, got, tc.same)
		}
	}
}
