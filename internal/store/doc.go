// Package store defines what sigtrail keeps and how it is read: the event
// log of signed-to-be entries, tenancy (orgs, tokens), destinations,
// webhooks and their delivery state, replay jobs, portals and their
// developers. Backends (sqlite, postgres) implement Store; the storetest
// package is the conformance suite every backend must pass.
//
// Errors: a missing row is apperr.NotFound, a uniqueness or state clash is
// apperr.Conflict; anything else is an internal error.
package store
