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
	// records (its answer), and SentAfter how many it records after the
	// stop, in log order. The gate holds a site's send lock until a
	// request's answer is recorded, and ApplyComplaint waits for it, so a
	// request recorded after the stop was sent after it.
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
	_, err := audit.Verify(ctx, dir, audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		ev := &e.Event
		if ev.Site != s {
			return nil
		}
		switch {
		case ev.Type == audit.TypeFetch:
			v.LastSent = ev.Time
			if stopped {
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
