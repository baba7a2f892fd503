// Package frontier holds the URLs a crawl has still to visit.
//
// A Frontier hands out work one site at a time in turn, so that one large or
// slow site cannot starve the others, and never more than a set number of
// requests in flight per site. It remembers every URL it has seen, so each
// is visited once, and it stops handing out work when the page limit is
// reached.
package frontier

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Item is one request to send: a URL to visit, and for a request other
// than a GET (a form posted from a callback, say) its method and body.
type Item struct {
	URL   string `json:"url"`   // absolute and normalised
	Site  string `json:"site"`  // site key of URL
	Depth int    `json:"depth"` // seeds are depth 0
	// Seed is true for URLs the user gave explicitly.
	Seed bool `json:"seed,omitempty"`
	// From is the site key of the page that linked here ("" for seeds).
	From string `json:"from,omitempty"`
	// Attempt counts earlier tries of this item that were deferred.
	Attempt int `json:"attempt,omitempty"`
	// NotBefore defers the item until then.
	NotBefore time.Time `json:"not_before,omitzero"`
	// Method is the request's HTTP method; "" means GET.
	Method string `json:"method,omitempty"`
	// Body is the request's body (a POST's form or JSON), sent as it is.
	// It may hold personal data: a frontier that writes items anywhere
	// must check it as it checks the URL (see crawler/state's
	// FrontierOptions.CleanBody), and it is never written to the
	// operation log, which records its digest and length.
	Body []byte `json:"body,omitempty"`
	// ContentType is the Content-Type header sent with Body, e.g.
	// "application/x-www-form-urlencoded"; "" lets the crawler choose.
	ContentType string `json:"content_type,omitempty"`
	// Collector names the clone of the crawler whose callbacks handle
	// the response ("" for the crawler Clone was called on; see
	// crawler.Crawler.Clone). It is not part of Key: a URL is fetched
	// once, whichever collector asked for it first.
	Collector string `json:"collector,omitempty"`
}

// IsGet reports whether it is a GET without a body: the request a URL
// alone describes.
func (it Item) IsGet() bool {
	return (it.Method == "" || it.Method == http.MethodGet) && len(it.Body) == 0
}

// Key is what a frontier deduplicates it on. For a GET without a body
// it is the URL, so that Seen(url) and Add agree; for any other request
// it is the method, the URL and a digest of the content type and body, so
// that two different POSTs to one URL are two requests and a POST is not
// taken for a GET of its URL.
func (it Item) Key() string {
	if it.IsGet() {
		return it.URL
	}
	h := sha256.New()
	h.Write([]byte(it.ContentType))
	h.Write([]byte{0})
	h.Write(it.Body)
	m := it.Method
	if m == "" {
		m = http.MethodGet
	}
	return m + " " + it.URL + " " + hex.EncodeToString(h.Sum(nil))
}

// Lease is an item handed to one worker. The worker must end it with
// Complete or Retry.
type Lease struct {
	Item Item
	ID   string // unique per lease
}

// ErrUnavailable is wrapped by the errors of a frontier whose shared state
// cannot be reached. Nothing is leased meanwhile; the crawler pauses and
// tries again.
var ErrUnavailable = errors.New("frontier: unavailable")

// ErrLeaseLost is wrapped by the errors of Complete and Retry for a lease
// that is no longer out (it expired and was handed to another worker, or
// was already ended).
var ErrLeaseLost = errors.New("frontier: lease is not out")

// ErrDone is returned by Next when there is no more work: nothing queued,
// nothing deferred and nothing in flight, or the page limit is reached and
// nothing is in flight.
var ErrDone = errors.New("frontier: done")

// A Frontier is safe for concurrent use.
type Frontier interface {
	// Add queues it unless its URL was seen before. It reports whether the
	// item was queued.
	Add(ctx context.Context, it Item) (bool, error)
	// Seen marks url as seen without queueing it (e.g. a redirect target).
	// It reports whether url had been seen before.
	Seen(ctx context.Context, url string) (bool, error)
	// Next blocks until an item is ready for a site that has fewer than its
	// limit of leases out, and leases it. It returns ErrDone when the crawl
	// has no more work, or ctx's error.
	Next(ctx context.Context) (Lease, error)
	// Complete ends a lease. counted reports whether a page was fetched,
	// which counts against the page limit.
	Complete(ctx context.Context, l Lease, counted bool) error
	// Retry ends a lease and queues its item again, not before notBefore,
	// with Attempt increased.
	Retry(ctx context.Context, l Lease, notBefore time.Time) error
	// DropSite removes every queued item of site and refuses items of the
	// site from now on. It returns how many items were removed.
	DropSite(ctx context.Context, site string) (int, error)
	// Stats reports the frontier's size.
	Stats(ctx context.Context) (Stats, error)
}

// A SiteCounter knows how many pages of a site a crawl has taken across all
// its workers: leases that completed counted, plus leases out now. Per-site
// collection limits use it, so that they hold for a whole distributed job.
type SiteCounter interface {
	SiteTaken(ctx context.Context, site string) (int, error)
}

// Stats is a snapshot of a frontier.
type Stats struct {
	Queued   int // ready or deferred
	InFlight int // leased
	Seen     int // distinct URLs ever added or marked seen
	Pages    int // completed leases that counted
}

// Wait blocks until changed is closed, due passes on the frontier's clock
// (now is that clock's reading; a zero due never passes), or ctx ends, and
// returns ctx's error if it ended. Frontiers use it in Next, with the lock
// they guard changed with released.
func Wait(ctx context.Context, changed <-chan struct{}, due, now time.Time) error {
	var timer <-chan time.Time
	if !due.IsZero() {
		t := time.NewTimer(due.Sub(now))
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
	case <-changed:
	case <-timer:
	}
	return ctx.Err()
}

// ErrDeferred is wrapped by the error of NextWithin when the only work left
// is deferred beyond the horizon: nothing is ready, nothing is in flight,
// and the earliest deferred item is due later than the horizon from now.
var ErrDeferred = errors.New("frontier: only work deferred beyond the horizon is left")

// DeferredSite is what a frontier holds deferred for one site.
type DeferredSite struct {
	Count    int       // items deferred
	Earliest time.Time // when the first of them is due
}

// A Deferrer is a Frontier that can stop waiting for deferred work. Both
// goodbot's in-process frontiers (Memory, and the durable one in
// crawler/state) are Deferrers; a shared one, whose other workers may be
// fetching, need not be.
type Deferrer interface {
	// NextWithin is Next, except that when nothing is ready or in flight
	// and the earliest deferred item is due more than horizon from now,
	// it returns at once an error wrapping ErrDeferred instead of waiting.
	// The deferred items stay queued.
	NextWithin(ctx context.Context, horizon time.Duration) (Lease, error)
	// Deferred reports, per site key, the items deferred and when the
	// earliest is due.
	Deferred(ctx context.Context) (map[string]DeferredSite, error)
}

// A Revisitor is a Frontier that can queue a URL it has seen before again.
type Revisitor interface {
	// Revisit queues it even if its URL was seen before, unless the URL
	// is queued or leased now (it reports false then). The URL is marked
	// seen, as by Add.
	Revisit(ctx context.Context, it Item) (bool, error)
}

// DeferredError returns the error a Deferrer's NextWithin returns when the
// earliest deferred item is due at due. It wraps ErrDeferred.
func DeferredError(due time.Time) error {
	return fmt.Errorf("%w: the next item is due at %s", ErrDeferred, due.UTC().Format(time.RFC3339))
}

// A SitePacer is a Frontier that can hold a site's work until the site's
// next slot, so that workers are not handed items they would only wait on
// (or defer) while other sites are ready. The crawler calls PaceSite with
// the instant the limiter's next grant for the site can come, after each
// grant. Pacing is a hint for efficiency: the limiter still decides.
type SitePacer interface {
	// PaceSite leases no item of site before notBefore. A notBefore
	// earlier than the one in force changes nothing.
	PaceSite(ctx context.Context, site string, notBefore time.Time) error
}
