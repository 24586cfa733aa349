// Package api is sigtrail's management API, wire-compatible with Kong
// Konnect's audit-log and portal-management operations: audit-log
// destinations, the org and portal webhooks and their status, portals and
// their developers, plus the public JWKS, health, metrics and OpenAPI
// document. Every authenticated request is itself audited into its org's
// stream (authentication, authorization and access entries) before the
// answer leaves. Routes are declared in routes.go; see the comment there.
package api
