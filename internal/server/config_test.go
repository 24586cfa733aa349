package server

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "--data-dir"},
		{"short retention", func(c *Config) { c.Retention = time.Minute }, "--retention"},
		{"host with pipe", func(c *Config) { c.Host = "a|b" }, "--cef-host"},
		{"vendor with newline", func(c *Config) { c.Vendor = "a\nb" }, "--cef-vendor"},
		{"smtp without from", func(c *Config) { c.SMTPURL = "smtp://127.0.0.1:25" }, "--smtp-from"},
		{"tiny batch", func(c *Config) { c.MaxBatchBytes = 10 }, "--batch-bytes"},
		{"ingest bound below one request", func(c *Config) { c.IngestMaxInflightBytes = 1 << 20 }, "--ingest-max-inflight-bytes"},
		{"ingest stall limit too short", func(c *Config) { c.IngestBodyStallTimeout = 100 * time.Millisecond }, "--ingest-body-stall-timeout"},
		{"ingest stall limit past the read timeout", func(c *Config) { c.IngestBodyStallTimeout = 2 * time.Minute }, "--ingest-body-stall-timeout"},
		{"negative ingest rate", func(c *Config) { c.IngestMinBodyRate = -1 }, "--ingest-min-body-rate"},
		{"no ingest rate floor", func(c *Config) { c.IngestMinBodyRate = 0 }, ""},
		{"custom domains checked by DNS by default", func(c *Config) {
			if c.CustomDomainCheck != "dns" {
				c.DataDir = ""
			}
		}, ""},
		{"custom domains unchecked", func(c *Config) { c.CustomDomainCheck = "none" }, ""},
		{"unknown custom domain check", func(c *Config) { c.CustomDomainCheck = "http" }, "--custom-domain-check"},
		{"custom domain DNS servers", func(c *Config) { c.CustomDomainDNSServers = "10.0.0.2, [2001:db8::53]:5353" }, ""},
		{"custom domain DNS server by name", func(c *Config) { c.CustomDomainDNSServers = "ns.example.com" }, "--custom-domain-dns-servers"},
	}
	for _, c := range cases {
		cfg := Defaults()
		c.edit(&cfg)
		err := cfg.Validate()
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
