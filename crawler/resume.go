package crawler

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/crawler/state"
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

// ResumeWindow is how far back a resumed crawl reads what earlier runs
// sent: the day's count needs today, the pacing the last request before
// now.
const ResumeWindow = 48 * time.Hour

// ReplaySince is when the operation log's page requests matter to st: a
// little before the state's last sync when its last process did not close
// it, else never (the zero time).
func ReplaySince(st *state.Store) time.Time {
	if !st.Crashed() {
		return time.Time{}
	}
	t := st.Mark()
	if t.IsZero() {
		t = st.Created()
	}
	return t.Add(-time.Minute)
}

// SentBefore tells, for an item a crashed run may have sent, whether the
// operation log says it did (see state.FrontierOptions.Sent). The log holds
// URLs as the filter left them, with placeholders keyed per run: a URL with
// personal data in it does not match, and is sent again.
func SentBefore(earlier map[string]*Earlier) func(frontier.Item) bool {
	return func(it frontier.Item) bool {
		er := earlier[it.Site]
		return er != nil && er.Pages[it.URL]
	}
}
