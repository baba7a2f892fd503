//go:build !unix

package job

import "os"

// lockFile does nothing where flock is not available: there, only one
// process may use a complaints file at a time.
func lockFile(f *os.File, exclusive bool) error { return nil }
