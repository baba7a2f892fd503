package crawler

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/goodbot/goodbot/audit"
)

// SentFromLog reads the operation log in dir and returns, by site, the
// times of the requests the gate allowed at or after since: what earlier
// runs sent, whatever state they kept or lost. The log is verified as it is
// read; a log that does not verify is an error, since what it says cannot
// then be charged. A directory with no log yet has sent nothing.
func SentFromLog(ctx context.Context, dir string, since time.Time) (map[string][]time.Time, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	sent := map[string][]time.Time{}
	_, err := audit.Verify(ctx, dir, audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		d := e.Event.Decision
		if d != nil && d.Verdict == audit.Allow && !e.Event.Time.Before(since) && e.Event.Site != "" {
			sent[e.Event.Site] = append(sent[e.Event.Site], e.Event.Time)
		}
		return nil
	}})
	if err != nil {
		return nil, fmt.Errorf("reading what earlier runs sent: %w", err)
	}
	return sent, nil
}
