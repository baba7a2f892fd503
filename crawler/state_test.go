package crawler

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/state"
	"github.com/goodbot/goodbot/limiter"
)

// An hourly cron job, with the day shortened to 3 s: a Crawler is built on
// the same state 16 times, each run stopped after a moment, as a process
// that starts, crawls and is stopped would be. The site's budget is 3
// requests a day; without the state, each run would start with a fresh
// limiter and send its own seed at once. Every day window holds at most the budget,
// robots.txt included, and robots.txt is fetched once.
func TestStateBudgetHoldsAcrossRuns(t *testing.T) {
	ts := newTestSite(t)
	for i := range 40 {
		ts.links(fmt.Sprintf("/p%d", i), fmt.Sprintf("/p%d", i+1))
		ts.links(fmt.Sprintf("/s%d", i))
	}
	const day = 3 * time.Second
	// 30 a day at share 0.1: a budget of 3 a day, one request a second.
	e, err := limiter.ParseTraffic(ts.site() + "=30")
	if err != nil {
		t.Fatal(err)
	}
	est, _ := limiter.NewEstimates(e)
	dir := t.TempDir()
	var recs []*recorder
	for run := range 16 {
		st, err := state.Open(dir, state.Options{})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		lim, err := st.Limiter(limiter.Config{Estimates: est, DayLength: day})
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		recs = append(recs, rec)
		cfg := testConfig(t, rec, ts)
		cfg.Limiter, cfg.State = lim, st
		cfg.MaxWait = 50 * time.Millisecond
		cr, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
		// Each run also has a seed of its own, ready at once: only the
		// limiter's state holds it back.
		for _, p := range []string{"/p0", fmt.Sprintf("/s%d", run)} {
			if err := cr.Seed(ts.url(p)); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), day/8)
		if _, err := cr.Run(ctx); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		cancel()
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// A request is charged to the day of its slot, and its decision is
	// logged when the slot comes, just before it is sent: count the
	// requests that reached the site by the day of their decision.
	// (Counting by arrival would charge a request sent at the end of a
	// day, and late on a loaded machine, to the next; counting decisions
	// alone would count those a run's end kept from being sent, whose
	// reservations were given back.) A worker that wakes late at a day's
	// end may still log in the next day: hence one more than the budget
	// per window.
	decided := map[string]time.Time{}
	for _, rec := range recs {
		for _, e := range rec.all(audit.TypeDecision) {
			u, err := url.Parse(e.Decision.URL)
			if err != nil || e.Decision.Verdict != audit.Allow {
				continue
			}
			if at, ok := decided[u.RequestURI()]; !ok || e.Time.Before(at) {
				decided[u.RequestURI()] = e.Time
			}
		}
	}
	robots := 0
	ts.mu.Lock()
	reqs := append([]seenRequest(nil), ts.requests...)
	ts.mu.Unlock()
	perDay := map[int64]int{}
	for _, r := range reqs {
		at, ok := decided[r.URI]
		if !ok {
			t.Errorf("%s reached the site with no allow decision logged", r.URI)
			at = r.At
		}
		perDay[at.UnixMicro()/day.Microseconds()]++
		if r.URI == "/robots.txt" {
			robots++
		}
	}
	for d, n := range perDay {
		if n > 3+1 {
			t.Errorf("day %d: %d requests, budget 3", d, n)
			for _, r := range reqs {
				if at := decided[r.URI]; at.UnixMicro()/day.Microseconds() == d {
					t.Logf("  %s decided %s, arrived %s", r.URI, at.Format("05.000"), r.At.Format("05.000"))
				}
			}
		}
	}
	if robots != 1 {
		t.Errorf("robots.txt fetched %d times, want once: its copy is in the state", robots)
	}
	if len(reqs) < 3 {
		t.Errorf("only %d requests in %d days", len(reqs), len(perDay))
	}
	t.Logf("%d requests over %d day windows", len(reqs), len(perDay))
}
