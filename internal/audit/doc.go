// Package audit is sigtrail's domain core for audit entries: the three event
// kinds and their fields, the severity rules, and the CEF, JSON and CPS line
// formats with their signatures. It performs no I/O; callers hand it bytes and
// a Signer and get bytes back.
package audit
