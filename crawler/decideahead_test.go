package crawler

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
)

// TestDecideAheadKeepsParallel checks that deciding requests ahead of
// their send never puts more than Parallel requests in flight at a site,
// and that requests are in fact decided while others are in flight: the
// first two pages are held until four more were decided.
func TestDecideAheadKeepsParallel(t *testing.T) {
	ts := newTestSite(t)
	var links []string
	for i := range 40 {
		links = append(links, fmt.Sprintf("/p%d", i))
	}
	ts.links("/index", links...)
	rec := &recorder{}
	// openDecisions counts the allowed page decisions whose fetch has
	// not been recorded yet, now and at most.
	openDecisions := func() (now, most int) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		open := map[string]bool{}
		for _, e := range rec.events {
			switch {
			case e.Type == audit.TypeDecision && e.Decision.Kind == "page" && e.Decision.Verdict == audit.Allow:
				open[e.Decision.RequestID] = true
				most = max(most, len(open))
			case e.Type == audit.TypeFetch:
				delete(open, e.Fetch.RequestID)
			}
		}
		return len(open), most
	}
	var inFlight, peak, held atomic.Int64
	for _, l := range links {
		ts.handle(l, func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			if held.Add(1) <= 2 {
				// Bounded: after 10 s the test goes on, and fails below.
				for i := 0; i < 1000; i++ {
					if open, _ := openDecisions(); open >= 6 {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			page(w, "leaf")
		})
	}
	cfg := testConfig(t, rec, ts)
	cfg.Parallel = 2
	cfg.FollowLinks = true
	crawl(t, cfg, ts.url("/index"))
	if got := ts.count("/p39"); got != 1 {
		t.Fatalf("/p39 fetched %d times, want 1", got)
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("%d requests in flight at once, Parallel is 2", p)
	}
	// 2 in flight and 4 decided behind them: 3 x Parallel leased.
	if _, most := openDecisions(); most < 6 {
		t.Errorf("at most %d requests were decided and not yet answered, want 6 (decide-ahead, 3 x Parallel 2)", most)
	}
}

// TestDecidedAheadWithdrawnOnSlowDown holds the site's first page until
// the requests after it were decided (decide-ahead lets them take their
// grants while it is in flight), then answers 429 with Retry-After: 2.
// Those requests must not go out on the grants they took before the
// site asked to slow down: they are withdrawn, recorded as such, and
// sent on new grants, after the hold.
func TestDecidedAheadWithdrawnOnSlowDown(t *testing.T) {
	ts := newTestSite(t)
	rec := &recorder{}
	busy, answeredAt := slowDownOnce(func() int { return allowedPages(rec, "") }, "2")
	for _, p := range []string{"/a", "/b", "/c"} {
		ts.handle(p, busy)
	}
	cfg := testConfig(t, rec, ts)
	cfg.Parallel = 1
	crawl(t, cfg, ts.url("/a"), ts.url("/b"), ts.url("/c"))
	for _, p := range []string{"/a", "/b", "/c"} {
		if ts.count(p) == 0 {
			t.Errorf("%s was never fetched", p)
		}
	}
	at := answeredAt()
	for _, r := range ts.seen() {
		// Nothing may arrive after the 429 and within its 2 s hold. With
		// Parallel 1 nothing else is in flight while the 429 is written,
		// so anything after it was sent after it; the hold is counted
		// from when the client read it, a little later than at.
		if r.At.After(at) && r.At.Before(at.Add(2*time.Second-100*time.Millisecond)) {
			t.Errorf("%s arrived %s after a 429 with Retry-After: 2", r.URI, r.At.Sub(at))
		}
	}
	if withdrawn := withdrawnAfterSlowDown(rec); withdrawn < 2 {
		t.Errorf("%d requests withdrawn after the 429, want the 2 decided ahead of it", withdrawn)
	}
}

// allowedPages counts the page requests rec has allow decisions for,
// but those whose URL ends in skip (if not "").
func allowedPages(rec *recorder, skip string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, e := range rec.events {
		if e.Type == audit.TypeDecision && e.Decision.Kind == "page" && e.Decision.Verdict == audit.Allow &&
			(skip == "" || !strings.HasSuffix(e.Decision.URL, skip)) {
			n++
		}
	}
	return n
}

// slowDownOnce returns a handler that answers its first request 429 with
// Retry-After: retryAfter once allowed reports 3 decisions (the request
// in flight and two decided ahead of it), or after 10 s, and serves a
// page to the others; answered reports when the 429 was written.
func slowDownOnce(allowed func() int, retryAfter string) (h http.HandlerFunc, answered func() time.Time) {
	var mu sync.Mutex
	var at time.Time
	first := true
	h = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		isFirst := first
		first = false
		mu.Unlock()
		if !isFirst {
			page(w, "ok")
			return
		}
		for i := 0; i < 1000 && allowed() < 3; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		w.Header().Set("Retry-After", retryAfter)
		http.Error(w, "slow down", http.StatusTooManyRequests)
		mu.Lock()
		at = time.Now()
		mu.Unlock()
	}
	return h, func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return at
	}
}

// withdrawnAfterSlowDown counts the requests rec shows withdrawn because
// the site asked to slow down after their grant.
func withdrawnAfterSlowDown(rec *recorder) int {
	n := 0
	for _, e := range rec.all(audit.TypeDecision) {
		if e.Decision.Verdict == audit.Defer && strings.Contains(e.Decision.Reason, "asked to slow down after this request was granted") {
			n++
		}
	}
	return n
}

// TestLoginRedirectStopsRequestsDecidedAhead: while the first page under
// /members/ is in flight, the next one was decided and waits for the
// site's one slot. The first answers with a redirect to a login page.
// The slot is free as soon as that answer is in, before the client asks
// for the next hop (which the gate refuses): the waiting request must be
// stopped by the login wall all the same, not sent.
func TestLoginRedirectStopsRequestsDecidedAhead(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "/members/a", "/members/b")
	rec := &recorder{}
	allowed := func(path string) bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, e := range rec.events {
			if e.Type == audit.TypeDecision && e.Decision.Verdict == audit.Allow && strings.HasSuffix(e.Decision.URL, path) {
				return true
			}
		}
		return false
	}
	var mu sync.Mutex
	var first string
	var after []string
	members := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		isFirst := first == ""
		if isFirst {
			first = r.URL.Path
		} else {
			after = append(after, r.URL.Path)
		}
		mu.Unlock()
		if !isFirst {
			page(w, "behind the wall")
			return
		}
		other := "/members/b"
		if r.URL.Path == other {
			other = "/members/a"
		}
		// Bounded: after 10 s the test goes on, and fails below.
		for i := 0; i < 1000 && !allowed(other); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		// Longer than the site's interval: the other request is past its
		// pacing and waits for the slot alone.
		time.Sleep(20 * time.Millisecond)
		http.Redirect(w, r, "/login?next="+r.URL.Path, http.StatusFound)
	}
	ts.handle("/members/a", members)
	ts.handle("/members/b", members)
	cfg := testConfig(t, rec, ts)
	cfg.Parallel = 1
	crawl(t, cfg, ts.url("/index"))
	mu.Lock()
	defer mu.Unlock()
	if first == "" {
		t.Fatal("no page under /members/ was requested")
	}
	if len(after) > 0 {
		t.Errorf("%v requested after %s redirected to a login page", after, first)
	}
	if ts.count("/login?next="+first) != 0 {
		t.Error("the login page itself was requested")
	}
}
