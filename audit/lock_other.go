//go:build !unix

package audit

import (
	"fmt"
	"os"
)

// lockDir opens path; on this platform the lock is not enforced.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: lock: %w", err)
	}
	return f, nil
}
