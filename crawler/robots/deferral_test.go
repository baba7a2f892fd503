package robots

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// deferralErr is what a crawler's gate returns for a request its rate
// limiter put off.
type deferralErr struct{ until time.Time }

func (e deferralErr) Error() string            { return "limiter deferred the request" }
func (e deferralErr) DeferredUntil() time.Time { return e.until }

// deferringTransport defers every request while until is set, and sends
// the others.
type deferringTransport struct {
	until atomic.Pointer[time.Time]
	sent  atomic.Int64
}

func (d *deferringTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t := d.until.Load(); t != nil {
		return nil, deferralErr{*t}
	}
	d.sent.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// A robots.txt request the transport put off is not an unreachable
// robots.txt: nothing is fetched until then, no failure is counted, and
// nothing is reported; then it is fetched.
func TestCacheDeferredFetch(t *testing.T) {
	s := newSite(t, serve(200, testRobots))
	clk := newClock()
	until := clk.Now().Add(3 * time.Second)
	rt := &deferringTransport{}
	rt.until.Store(&until)
	var fetched []Fetched
	c := NewCache(rt, Options{ProductToken: "goodbot", Now: clk.Now, OnFetch: func(_ context.Context, f Fetched) { fetched = append(fetched, f) }})

	v := check(t, c, s.url(t, "/page"))
	if v.Allowed || !v.RetryAt.Equal(until) {
		t.Fatalf("verdict while deferred = %+v; want disallowed until %v", v, until)
	}
	if !strings.Contains(v.Reason, "not read yet") || strings.Contains(v.Reason, "unreachable") {
		t.Errorf("Reason = %q; want it to say robots.txt was not read yet, not that it is unreachable", v.Reason)
	}
	if len(fetched) != 0 {
		t.Errorf("OnFetch saw %+v for a request that was not sent", fetched)
	}
	if v := check(t, c, s.url(t, "/other")); v.Allowed || !v.RetryAt.Equal(until) {
		t.Errorf("second check before the time = %+v; want the same deferral", v)
	}

	// The time comes; the request is sent.
	rt.until.Store(nil)
	clk.Advance(3 * time.Second)
	if v := check(t, c, s.url(t, "/page")); !v.Allowed || v.Policy != PolicyParsed {
		t.Fatalf("verdict after the deferral = %+v; want the file's rules", v)
	}
	if v := check(t, c, s.url(t, "/private")); v.Allowed {
		t.Errorf("/private allowed: %+v", v)
	}
	if len(fetched) != 1 || s.robotsHits.Load() != 1 {
		t.Errorf("%d fetches reported, %d robots.txt requests; want 1 and 1", len(fetched), s.robotsHits.Load())
	}
}

// A deferral does not count as a failure: the backoff after a real one
// that follows it is the first step.
func TestCacheDeferralIsNoFailure(t *testing.T) {
	s := newSite(t, serve(503, ""))
	clk := newClock()
	rt := &deferringTransport{}
	c := NewCache(rt, Options{Now: clk.Now})
	for range 3 {
		until := clk.Now().Add(time.Second)
		rt.until.Store(&until)
		check(t, c, s.url(t, "/page"))
		clk.Advance(time.Second)
	}
	rt.until.Store(nil)
	v := check(t, c, s.url(t, "/page"))
	if want := clk.Now().Add(time.Minute); v.Policy != PolicyDisallowAll || !v.RetryAt.Equal(want) {
		t.Errorf("verdict after three deferrals and a 503 = %+v; want disallow all until %v (the first backoff)", v, want)
	}
}

// A worker whose robots.txt request was put off tells the others through
// the Shared store: they wait for the same time instead of for its claim
// to lapse, and none of them sends a request before.
func TestSharedDeferral(t *testing.T) {
	s := newSite(t, serve(200, testRobots))
	clk := newClock()
	until := clk.Now().Add(2 * time.Second)
	shared := &memShared{m: map[string]Stored{}, claims: map[string]time.Time{}}
	deferring := &deferringTransport{}
	deferring.until.Store(&until)
	a := NewCache(deferring, Options{Now: clk.Now, Shared: shared})
	sending := &deferringTransport{}
	b := NewCache(sending, Options{Now: clk.Now, Shared: shared})

	if v := check(t, a, s.url(t, "/page")); v.Allowed || !v.RetryAt.Equal(until) {
		t.Fatalf("a's verdict = %+v", v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := b.Check(ctx, s.url(t, "/page"))
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("b waited for a's claim instead of taking its deferral")
	}
	if err != nil || v.Allowed || !v.RetryAt.Equal(until) {
		t.Fatalf("b's verdict = %+v, %v; want a's deferral", v, err)
	}
	if n := sending.sent.Load() + s.robotsHits.Load(); n != 0 {
		t.Fatalf("%d robots.txt requests sent before the time", n)
	}
	clk.Advance(2 * time.Second)
	if v := check(t, b, s.url(t, "/page")); !v.Allowed || v.Policy != PolicyParsed {
		t.Fatalf("b's verdict after the time = %+v", v)
	}
	if s.robotsHits.Load() != 1 {
		t.Errorf("%d robots.txt requests, want 1", s.robotsHits.Load())
	}
}
