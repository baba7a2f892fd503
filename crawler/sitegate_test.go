package crawler

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSiteGatesFreedSiteKeepsPacing frees a site's siteGate and takes a
// new one: pace still spaces the next request from the site's latest one,
// from when it was written out if that was later, as with the old one. A
// cancelled context tells whether pace would wait: it returns at once
// when it need not, and with the context's error when it must.
func TestSiteGatesFreedSiteKeepsPacing(t *testing.T) {
	gs := newSiteGates(1)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	sg := gs.acquire("a.test")
	if err := pace(context.Background(), &sg.pacer, 0); err != nil {
		t.Fatal(err)
	}
	// Written out after it passed pace (both in the past, so that a
	// gap of 0 has nothing to wait for).
	sg.pacer.mu.Lock()
	sg.pacer.last = sg.pacer.last.Add(-2 * time.Millisecond)
	wrote := sg.pacer.last.Add(time.Millisecond)
	sg.pacer.mu.Unlock()
	sg.pacer.wrote.Store(wrote.UnixNano())
	gs.release("a.test", sg)
	if busy, idle := gs.counts(); busy != 0 || idle != 1 {
		t.Fatalf("after the only holder released: %d busy, %d idle sites; want 0 and 1", busy, idle)
	}
	again := gs.acquire("a.test")
	if again == sg {
		t.Fatal("a freed siteGate was handed out again")
	}
	if got := again.pacer.latest(); !got.Equal(time.Unix(0, wrote.UnixNano())) {
		t.Errorf("the new siteGate's latest request is at %v, want %v (when the old one's was written)", got, wrote)
	}
	if err := pace(done, &again.pacer, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("pace at a one-hour gap right after the site's latest request returned %v; it must wait", err)
	}
	if err := pace(done, &again.pacer, 0); err != nil {
		t.Errorf("pace at no gap: %v", err)
	}
	gs.release("a.test", again)
	// A site never seen has no latest request: nothing to wait for.
	other := gs.acquire("b.test")
	if err := pace(done, &other.pacer, time.Hour); err != nil {
		t.Errorf("pace for a new site: %v", err)
	}
	gs.release("b.test", other)
}

// TestSiteGatesHoldersShareOne has many goroutines take and release the
// siteGates of three sites at Parallel 1, so that siteGates are freed and
// made again all the time: at no moment may two holders of one site have
// different siteGates, which would let two requests be in flight at once.
func TestSiteGatesHoldersShareOne(t *testing.T) {
	gs := newSiteGates(1)
	sites := []string{"a.test", "b.test", "c.test"}
	var inFlight [3]atomic.Int64
	var wg sync.WaitGroup
	for w := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				k := (w + i) % len(sites)
				sg := gs.acquire(sites[k])
				if i%2 == 0 {
					// Half of them only look, as a drain does.
					gs.release(sites[k], sg)
					continue
				}
				if err := sg.slots.acquire(context.Background(), false); err != nil {
					t.Error(err)
					return
				}
				if n := inFlight[k].Add(1); n > 1 {
					t.Errorf("%d requests in flight at %s, Parallel is 1", n, sites[k])
				}
				for range 3 {
					runtime.Gosched() // let others acquire and release meanwhile
				}
				sg.slowed.Add(1)
				inFlight[k].Add(-1)
				sg.slots.release()
				gs.release(sites[k], sg)
			}
		}()
	}
	wg.Wait()
	if busy, idle := gs.counts(); busy != 0 || idle != 0 {
		// Nothing was paced: no latest request to keep.
		t.Errorf("%d busy and %d idle sites left, want none", busy, idle)
	}
}

// TestSlowDownWithdrawsAfterSiteWentIdle: the site's first page is
// answered and the site then has nothing under way (its links are queued
// after the answer), so its siteGate is freed; the next three pages come
// under a new one. The first of them is held until the two after it were
// decided, then answered 429: those two, granted before the slow-down,
// are withdrawn as they are when the site never went idle
// (TestDecidedAheadWithdrawnOnSlowDown).
func TestSlowDownWithdrawsAfterSiteWentIdle(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/first", "/a", "/b", "/c")
	rec := &recorder{}
	busy, _ := slowDownOnce(func() int { return allowedPages(rec, "/first") }, "1")
	for _, p := range []string{"/a", "/b", "/c"} {
		ts.handle(p, busy)
	}
	cfg := testConfig(t, rec, ts)
	cfg.Parallel = 1
	cr, _ := crawl(t, cfg, ts.url("/first"))
	for _, p := range []string{"/first", "/a", "/b", "/c"} {
		if ts.count(p) == 0 {
			t.Errorf("%s was never fetched", p)
		}
	}
	if withdrawn := withdrawnAfterSlowDown(rec); withdrawn < 2 {
		t.Errorf("%d requests withdrawn after the 429, want the 2 decided ahead of it", withdrawn)
	}
	gs := cr.gate.sites
	gs.mu.Lock()
	made := gs.made
	gs.mu.Unlock()
	if made < 3 {
		// robots.txt, /first, then the pages after it.
		t.Errorf("%d siteGates made for the one site, want at least 3: the site did not go idle between its requests", made)
	}
	if busy, idle := gs.counts(); busy != 0 || idle != 1 {
		t.Errorf("after the crawl: %d busy, %d idle sites; want 0 and 1", busy, idle)
	}
}
