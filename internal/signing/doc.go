// Package signing holds sigtrail's Ed25519 signing keys: it signs audit
// lines, rotates keys, publishes the public keys as a JWKS, and verifies
// signed lines and pulled items (GET /v3/audit-logs) against a JWKS. Keys
// live in the store (store.SigningKeys); the signing path itself never
// touches the store.
package signing
