//go:build !unix

package sqlite

import "os"

// lockExclusive is a no-op where flock does not exist.
func lockExclusive(string) (*os.File, error) { return nil, nil }
