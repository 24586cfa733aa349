// Package sink is the SIEM side of a webhook, for trials, demos, tests and
// benchmarks: an HTTP handler that accepts webhook POSTs (gzip or plain),
// keeps every received line, checks signatures against a JWKS, counts what
// it saw (GET /stats), and can be told to fail, stall or drop connections
// so that retries and status changes can be watched.
package sink
