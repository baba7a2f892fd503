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

// Earlier is what earlier runs did to one site, as their operation log says.
type Earlier struct {
	// Sent are the times of the requests the gate allowed.
	Sent []time.Time
	// HoldUntil is the latest hold the site asked for (429, 503,
	// Retry-After), or zero.
	HoldUntil time.Time
	// Pages are the (redacted) URLs of the page requests the gate allowed
	// at or after FromLog's pagesSince: what a crash may have sent without
	// the frontier's state knowing.
	Pages map[string]bool
}

// FromLog reads the operation log in dir and returns, by site, what earlier
// runs sent at or after since, the holds the site asked for, and the URLs
// of pages requested at or after pagesSince (zero for none): the source of
// truth, whatever state those runs kept or lost. The log is verified as
// it is read; a log that does not verify is an error, since what it says
// cannot then be charged. A directory with no log yet holds nothing.
func FromLog(ctx context.Context, dir string, since, pagesSince time.Time) (map[string]*Earlier, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	out := map[string]*Earlier{}
	get := func(s string) *Earlier {
		if out[s] == nil {
			out[s] = &Earlier{}
		}
		return out[s]
	}
	_, err := audit.Verify(ctx, dir, audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		s := e.Event.Site
		if s == "" {
			return nil
		}
		if d := e.Event.Decision; d != nil && d.Verdict == audit.Allow {
			if !e.Event.Time.Before(since) {
				get(s).Sent = append(get(s).Sent, e.Event.Time)
			}
			if d.Kind == kindPage && !pagesSince.IsZero() && !e.Event.Time.Before(pagesSince) {
				er := get(s)
				if er.Pages == nil {
					er.Pages = map[string]bool{}
				}
				er.Pages[d.URL] = true
			}
		}
		if b := e.Event.Budget; b != nil && b.HoldUntil.After(time.Now()) {
			if er := get(s); b.HoldUntil.After(er.HoldUntil) {
				er.HoldUntil = b.HoldUntil
			}
		}
		return nil
	}})
	if errors.Is(err, audit.ErrNotLog) {
		return nil, nil // a directory with no log in it yet
	}
	if err != nil {
		return nil, fmt.Errorf("reading what earlier runs did: %w", err)
	}
	return out, nil
}
