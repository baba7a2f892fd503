// Package frontiertest checks that an implementation of frontier.Frontier
// behaves as the interface documents: deduplication, fair turns between
// sites, the per-site cap, the page limit, deferral, dropped sites and
// concurrent workers.
package frontiertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/goodbot/goodbot/crawler/frontier"
)

// New returns an empty frontier with opts, for one subtest.
type New func(t *testing.T, opts frontier.Options) frontier.Frontier

// Run runs every check on frontiers made by newF, each as a subtest.
func Run(t *testing.T, newF New) {
	for _, c := range []struct {
		name string
		f    func(*testing.T, New)
	}{
		{"DedupeAndDone", dedupeAndDone},
		{"RoundRobinAndPerSiteCap", roundRobinAndPerSiteCap},
		{"MaxPages", maxPages},
		{"RetryDefers", retryDefers},
		{"DropSite", dropSite},
		{"ConcurrentWorkers", concurrentWorkers},
		{"Horizon", horizon},
		{"Revisit", revisit},
	} {
		t.Run(c.name, func(t *testing.T) { c.f(t, newF) })
	}
}

func item(site string, n int) frontier.Item {
	return frontier.Item{URL: fmt.Sprintf("http://%s/%d", site, n), Site: site}
}

func dedupeAndDone(t *testing.T, newF New) {
	ctx := context.Background()
	f := newF(t, frontier.Options{})
	if ok, _ := f.Add(ctx, item("a", 1)); !ok {
		t.Fatal("first add refused")
	}
	if ok, _ := f.Add(ctx, item("a", 1)); ok {
		t.Fatal("duplicate add accepted")
	}
	if _, err := f.Add(ctx, frontier.Item{URL: "x"}); err == nil {
		t.Fatal("item without site accepted")
	}
	l, err := f.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Complete(ctx, l, true); err != nil {
		t.Fatal(err)
	}
	if err := f.Complete(ctx, l, true); err == nil {
		t.Fatal("completing a lease twice succeeded")
	}
	if _, err := f.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		t.Fatalf("Next on empty frontier = %v, want ErrDone", err)
	}
	if seen, _ := f.Seen(ctx, "http://a/1"); !seen {
		t.Fatal("Seen forgot a visited URL")
	}
}

func roundRobinAndPerSiteCap(t *testing.T, newF New) {
	ctx := context.Background()
	f := newF(t, frontier.Options{PerSite: 2})
	for i := range 10 {
		f.Add(ctx, item("big", i))
	}
	f.Add(ctx, item("small", 0))
	var got []string
	var leases []frontier.Lease
	for range 3 {
		l, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l.Item.Site)
		leases = append(leases, l)
	}
	// big, small, big: the small site is not starved, and big has 2 out.
	if got[0] != "big" || got[1] != "small" || got[2] != "big" {
		t.Fatalf("lease order %v, want [big small big]", got)
	}
	// big is at its cap and small is empty: Next must block.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := f.Next(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next with every site at its cap = %v, want to block until the deadline", err)
	}
	// Completing one big lease frees a slot for a waiting Next.
	done := make(chan frontier.Lease)
	go func() {
		l, err := f.Next(ctx)
		if err != nil {
			t.Error(err)
		}
		done <- l
	}()
	f.Complete(ctx, leases[0], true)
	select {
	case l := <-done:
		if l.Item.Site != "big" {
			t.Fatalf("woke with %v", l.Item)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next did not wake after Complete")
	}
}

func maxPages(t *testing.T, newF New) {
	ctx := context.Background()
	f := newF(t, frontier.Options{PerSite: 10, MaxPages: 3})
	for i := range 10 {
		f.Add(ctx, item("a", i))
	}
	n := 0
	for {
		l, err := f.Next(ctx)
		if errors.Is(err, frontier.ErrDone) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n > 10 {
			t.Fatal("leased more than queued")
		}
		// The first lease does not count (e.g. refused by robots.txt).
		f.Complete(ctx, l, n != 1)
	}
	if n != 4 {
		t.Fatalf("leased %d, want 4 (3 counted pages and 1 that did not count)", n)
	}
}

func retryDefers(t *testing.T, newF New) {
	ctx := context.Background()
	now := time.Now()
	f := newF(t, frontier.Options{})
	f.Add(ctx, item("a", 1))
	l, _ := f.Next(ctx)
	if err := f.Retry(ctx, l, now.Add(80*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stats(ctx)
	if st.Queued != 1 || st.InFlight != 0 {
		t.Fatalf("after Retry: %+v", st)
	}
	l2, err := f.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(now.Add(80 * time.Millisecond)) {
		t.Fatal("deferred item handed out before NotBefore")
	}
	if l2.Item.Attempt != 1 {
		t.Fatalf("Attempt = %d, want 1", l2.Item.Attempt)
	}
}

func dropSite(t *testing.T, newF New) {
	ctx := context.Background()
	f := newF(t, frontier.Options{})
	for i := range 5 {
		f.Add(ctx, item("a", i))
		f.Add(ctx, item("b", i))
	}
	l, _ := f.Next(ctx) // a/0
	f.Retry(ctx, l, time.Now().Add(time.Hour))
	n, _ := f.DropSite(ctx, "a")
	if n != 5 {
		t.Fatalf("DropSite removed %d, want 5 (4 queued + 1 deferred)", n)
	}
	if ok, _ := f.Add(ctx, item("a", 99)); ok {
		t.Fatal("dropped site accepted a new item")
	}
	for range 5 {
		l, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if l.Item.Site != "b" {
			t.Fatalf("leased %v from a dropped site", l.Item)
		}
		f.Complete(ctx, l, true)
	}
	if _, err := f.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		t.Fatalf("want ErrDone, got %v", err)
	}
}

func concurrentWorkers(t *testing.T, newF New) {
	ctx := context.Background()
	f := newF(t, frontier.Options{PerSite: 3})
	for i := range 200 {
		f.Add(ctx, item(fmt.Sprint("s", i%7), i))
	}
	var mu sync.Mutex
	inflight := map[string]int{}
	got := map[string]bool{}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				l, err := f.Next(ctx)
				if err != nil {
					return
				}
				mu.Lock()
				inflight[l.Item.Site]++
				if inflight[l.Item.Site] > 3 {
					t.Errorf("site %s has %d in flight", l.Item.Site, inflight[l.Item.Site])
				}
				if got[l.Item.URL] {
					t.Errorf("%s leased twice", l.Item.URL)
				}
				got[l.Item.URL] = true
				mu.Unlock()
				time.Sleep(time.Millisecond)
				mu.Lock()
				inflight[l.Item.Site]--
				mu.Unlock()
				f.Complete(ctx, l, true)
			}
		}()
	}
	wg.Wait()
	if len(got) != 200 {
		t.Fatalf("visited %d, want 200", len(got))
	}
}

// horizon checks a frontier.Deferrer: NextWithin stops waiting when the
// only work left is deferred beyond the horizon, and not before.
func horizon(t *testing.T, newF New) {
	ctx := context.Background()
	f := newF(t, frontier.Options{})
	d, ok := f.(frontier.Deferrer)
	if !ok {
		t.Skip("not a frontier.Deferrer")
	}
	f.Add(ctx, item("a", 1))
	f.Add(ctx, item("b", 1))
	f.Add(ctx, item("b", 2))
	l, err := d.NextWithin(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	// While another item is leased, its worker may still add work: wait.
	l2, err := d.NextWithin(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Retry(ctx, l, later); err != nil {
		t.Fatal(err)
	}
	l3, err := d.NextWithin(ctx, time.Minute)
	if err != nil {
		t.Fatalf("NextWithin with a ready item = %v", err)
	}
	f.Retry(ctx, l2, later.Add(time.Minute))
	f.Retry(ctx, l3, later.Add(2*time.Minute))
	if _, err := d.NextWithin(ctx, time.Minute); !errors.Is(err, frontier.ErrDeferred) {
		t.Fatalf("NextWithin with only work an hour away = %v, want ErrDeferred", err)
	}
	// Within a longer horizon it waits instead.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := d.NextWithin(cctx, 2*time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NextWithin with work inside the horizon = %v, want to wait until the deadline", err)
	}
	got, err := d.Deferred(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["b"].Count != 2 || got["a"].Count != 1 || got["a"].Earliest.Sub(later).Abs() > time.Millisecond {
		t.Fatalf("Deferred = %+v, want a: 1 at %s, b: 2", got, later)
	}
	if st, _ := f.Stats(ctx); st.Queued != 3 {
		t.Fatalf("the deferred items are not kept: %+v", st)
	}
}

// revisit checks a frontier.Revisitor: a URL fetched before is queued
// again, one queued or leased now is not.
func revisit(t *testing.T, newF New) {
	ctx := context.Background()
	f := newF(t, frontier.Options{})
	r, ok := f.(frontier.Revisitor)
	if !ok {
		t.Skip("not a frontier.Revisitor")
	}
	f.Add(ctx, item("a", 1))
	if ok, _ := r.Revisit(ctx, item("a", 1)); ok {
		t.Fatal("Revisit queued a URL that is queued")
	}
	l, _ := f.Next(ctx)
	if ok, _ := r.Revisit(ctx, item("a", 1)); ok {
		t.Fatal("Revisit queued a URL that is leased")
	}
	f.Complete(ctx, l, true)
	if ok, _ := f.Add(ctx, item("a", 1)); ok {
		t.Fatal("Add queued a URL fetched before")
	}
	if ok, err := r.Revisit(ctx, item("a", 1)); !ok || err != nil {
		t.Fatalf("Revisit of a URL fetched before = %v, %v; want it queued", ok, err)
	}
	if ok, _ := r.Revisit(ctx, item("a", 2)); !ok {
		t.Fatal("Revisit refused a new URL")
	}
	for range 2 {
		l, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.Complete(ctx, l, true)
	}
	if _, err := f.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		t.Fatalf("want ErrDone, got %v", err)
	}
}
