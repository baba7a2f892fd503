package crawler

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// A log directory that does not exist, or holds no log yet, sent nothing.
func TestFromLogEmpty(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{filepath.Join(dir, "none"), dir} {
		sent, err := FromLog(context.Background(), d, time.Now().Add(-time.Hour), time.Time{})
		if err != nil || len(sent) != 0 {
			t.Errorf("%s: %v %v", d, sent, err)
		}
	}
}
