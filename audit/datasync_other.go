//go:build !linux

package audit

import "os"

// dataSync makes the data written to f durable (fsync).
func dataSync(f *os.File) error { return f.Sync() }
