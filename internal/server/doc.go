// Package server assembles a running sigtrail: it opens the store, loads the
// signing keys, starts the delivery dispatchers, the replay runner and the
// retention loop, and serves the management API and the Dev Portals on their
// listeners until its context ends.
package server
