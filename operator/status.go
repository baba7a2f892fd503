package operator

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/goodbot/goodbot/audit"
)

// logView is what one crawl's operation log says about a complaint.
type logView struct {
	Dir string
	// Stopped is when the crawl recorded the complaint (stopped or
	// applied); zero if it has not yet.
	Stopped time.Time
	// Applied is when it recorded it as confirmed and deleted.
	Applied time.Time
	// LastSent is the time of the last request to the site the log
	// records (its answer), and SentAfter how many requests were sent
	// after the stop: those whose decision, which the gate logs before a
	// request leaves, comes after the stop in log order. (A request's
	// fetch entry is logged once its answer was read and stored, so it
	// may follow the stop although the request left before: the gate
	// checks the stop list under the site's send lock, and ApplyComplaint
	// waits for requests already past it.) A fetch whose decision the
	// log does not hold counts as sent after, to be safe.
	LastSent  time.Time
	SentAfter int
	// Deletions are the deletion records of the complaint.
	Deletions []audit.Deletion
	Err       string
}

// readLog scans the operation log in dir for complaint id on site s.
func readLog(ctx context.Context, dir, s, id string) logView {
	v := logView{Dir: dir}
	stopped := false
	decidedBefore := map[string]bool{} // request IDs allowed before the stop
	_, err := audit.Verify(ctx, dir, audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		ev := &e.Event
		if ev.Site != s {
			return nil
		}
		switch {
		case ev.Decision != nil:
			if !stopped && ev.Decision.Verdict == audit.Allow {
				decidedBefore[ev.Decision.RequestID] = true
			}
		case ev.Type == audit.TypeFetch:
			v.LastSent = ev.Time
			if stopped && (ev.Fetch == nil || !decidedBefore[ev.Fetch.RequestID]) {
				v.SentAfter++
			}
		case ev.Complaint != nil && ev.Complaint.ID == id:
			switch ev.Complaint.Action {
			case "stopped", "applied":
				if !stopped {
					stopped, v.Stopped = true, ev.Time
				}
				if ev.Complaint.Action == "applied" && v.Applied.IsZero() {
					v.Applied = ev.Time
				}
			}
		case ev.Deletion != nil && ev.Deletion.ComplaintID == id:
			v.Deletions = append(v.Deletions, *ev.Deletion)
		}
		return nil
	}})
	if err != nil && !errors.Is(err, context.Canceled) {
		v.Err = err.Error()
	}
	return v
}

// logCache keeps each complaint's log views for a short while, so that a
// status page reloaded in a loop does not re-read the logs each time.
type logCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedViews
}

type cachedViews struct {
	at    time.Time
	views []logView
}

func (c *logCache) get(ctx context.Context, dirs []string, s, id string, now time.Time) []logView {
	c.mu.Lock()
	if e, ok := c.m[id]; ok && now.Sub(e.at) < c.ttl {
		c.mu.Unlock()
		return e.views
	}
	c.mu.Unlock()
	views := make([]logView, len(dirs))
	for i, d := range dirs {
		views[i] = readLog(ctx, d, s, id)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 1000 {
		clear(c.m)
	}
	c.m[id] = cachedViews{now, views}
	return views
}

// drop forgets the views of complaint id, after it changed.
func (c *logCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}
