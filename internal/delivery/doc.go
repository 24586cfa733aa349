// Package delivery sends each stream with an enabled webhook to its
// destination: one dispatcher per webhook reads batches after the webhook's
// cursor, renders and signs every entry in the destination's format, gzips
// the batch and POSTs it, retrying by the documented policy. Cursors, failed
// ranges and status live in the store, so a restart resumes where it
// stopped (at-least-once). In clustered mode a coordinator (internal/cluster)
// decides which replica delivers each webhook, and every state write carries
// that replica's lease fence. The HTTP sender refuses, at dial time, every
// IANA special-purpose address (loopback, private, link-local, multicast,
// documentation, IPv4 embedded in IPv6, ...; see package netguard) unless
// told otherwise.
package delivery
