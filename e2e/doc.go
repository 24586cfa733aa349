// Package e2e runs sigtrail as its users do: the built binary's serve and
// sink commands as separate processes on 127.0.0.1, driven over HTTP and SMTP
// exactly as the seed how-to ("Collect Dev Portal audit logs") describes.
package e2e
