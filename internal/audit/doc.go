// Package audit is sigtrail's domain core for audit entries: the three event
// kinds and their fields, the severity rules, the CEF, JSON and CPS line
// formats with their signatures, the canonical form a pulled item (the pull
// API's v3 shape) is signed in, the CEF and JSON line parsers, and the
// storage record codec. It performs no I/O; callers hand it bytes and a
// Signer and get bytes back.
package audit
