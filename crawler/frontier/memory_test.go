package frontier_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/crawler/frontier/frontiertest"
)

func TestMemory(t *testing.T) {
	frontiertest.Run(t, func(t *testing.T, opts frontier.Options) frontier.Frontier {
		return frontier.NewMemory(opts)
	})
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func addItems(t *testing.T, m *frontier.Memory, site string, n int) {
	t.Helper()
	for i := range n {
		if ok, err := m.Add(context.Background(), frontier.Item{URL: fmt.Sprintf("http://%s/%d", site, i), Site: site}); err != nil || !ok {
			t.Fatalf("Add %s/%d: %v %v", site, i, ok, err)
		}
	}
}

// A paced site leases nothing before its slot; the others go on; its
// items count as deferred, and alone beyond the horizon they end
// NextWithin with ErrDeferred.
func TestMemoryPaceSite(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := frontier.NewMemory(frontier.Options{PerSite: 1, Now: clk.now})
	addItems(t, m, "a.example", 3)
	addItems(t, m, "b.example", 1)
	l, err := m.Next(ctx)
	if err != nil || l.Item.Site != "a.example" {
		t.Fatalf("first lease %+v, %v; want a.example", l, err)
	}
	if err := m.PaceSite(ctx, "a.example", clk.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := m.PaceSite(ctx, "a.example", clk.now().Add(time.Minute)); err != nil { // earlier: no change
		t.Fatal(err)
	}
	if err := m.Complete(ctx, l, true); err != nil {
		t.Fatal(err)
	}
	l, err = m.Next(ctx)
	if err != nil || l.Item.Site != "b.example" {
		t.Fatalf("second lease %+v, %v; want b.example (a.example is paced)", l, err)
	}
	if err := m.Complete(ctx, l, true); err != nil {
		t.Fatal(err)
	}
	d, err := m.Deferred(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := d["a.example"]; got.Count != 2 || !got.Earliest.Equal(clk.now().Add(time.Hour)) {
		t.Errorf("Deferred a.example = %+v, want 2 items due in an hour", got)
	}
	if _, err := m.NextWithin(ctx, time.Minute); !errors.Is(err, frontier.ErrDeferred) {
		t.Fatalf("NextWithin(1 min) with a.example paced for an hour: %v, want ErrDeferred", err)
	}
	clk.add(time.Hour)
	for i := range 2 {
		l, err := m.Next(ctx)
		if err != nil || l.Item.Site != "a.example" {
			t.Fatalf("lease %d after the slot: %+v, %v; want a.example", i, l, err)
		}
		if err := m.Complete(ctx, l, true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		t.Fatalf("Next on an empty frontier: %v, want ErrDone", err)
	}
}

// Next waits for a paced site's slot when nothing else is ready.
func TestMemoryPaceSiteWaits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := frontier.NewMemory(frontier.Options{PerSite: 1})
	addItems(t, m, "a.example", 1)
	slot := time.Now().Add(50 * time.Millisecond)
	if err := m.PaceSite(ctx, "a.example", slot); err != nil {
		t.Fatal(err)
	}
	l, err := m.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if now := time.Now(); now.Before(slot) {
		t.Errorf("leased %s at %v, before its slot %v", l.Item.URL, now, slot)
	}
}

// Many sites are served in turn: every site once before any twice, in the
// order they came, whatever their number; a dropped site's entries are
// skipped.
func TestMemoryRoundRobinManySites(t *testing.T) {
	ctx := context.Background()
	const sites = 5000
	m := frontier.NewMemory(frontier.Options{PerSite: 1})
	for i := range sites {
		addItems(t, m, fmt.Sprintf("s%d.example", i), 2)
	}
	if _, err := m.DropSite(ctx, "s7.example"); err != nil {
		t.Fatal(err)
	}
	var leases []frontier.Lease
	for round := range 2 {
		for i := range sites {
			if i == 7 {
				continue
			}
			l, err := m.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("http://s%d.example/%d", i, round); l.Item.URL != want {
				t.Fatalf("round %d: leased %s, want %s", round, l.Item.URL, want)
			}
			leases = append(leases, l)
		}
		for _, l := range leases {
			if err := m.Complete(ctx, l, true); err != nil {
				t.Fatal(err)
			}
		}
		leases = leases[:0]
	}
	if _, err := m.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		t.Fatalf("Next after every item: %v, want ErrDone", err)
	}
}

// BenchmarkMemoryNextManySites leases and completes the items of one site
// while sites others have their one lease out: the cost of a lease must not
// grow with the number of sites.
//
//	go test -run '^$' -bench MemoryNextManySites ./crawler/frontier/
func BenchmarkMemoryNextManySites(b *testing.B) {
	for _, n := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("sites=%d", n), func(b *testing.B) {
			ctx := context.Background()
			m := frontier.NewMemory(frontier.Options{PerSite: 1, MaxQueued: 2*n + b.N + 10})
			for i := range n {
				for j := range 2 {
					m.Add(ctx, frontier.Item{URL: fmt.Sprintf("http://s%d.example/%d", i, j), Site: fmt.Sprintf("s%d.example", i)})
				}
			}
			for range n { // each site's first item out, its second waiting
				if _, err := m.Next(ctx); err != nil {
					b.Fatal(err)
				}
			}
			for i := range b.N {
				m.Add(ctx, frontier.Item{URL: fmt.Sprintf("http://hot.example/%d", i), Site: "hot.example"})
			}
			b.ResetTimer()
			for range b.N {
				l, err := m.Next(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if l.Item.Site != "hot.example" {
					b.Fatalf("leased %s", l.Item.URL)
				}
				if err := m.Complete(ctx, l, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMemoryAddToBusySiteThenComplete: an item added to a site whose
// leases are all out wakes no one, and the lease that ends hands it to
// the worker waiting.
func TestMemoryAddToBusySiteThenComplete(t *testing.T) {
	m := frontier.NewMemory(frontier.Options{PerSite: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := m.Add(ctx, frontier.Item{URL: "http://a.test/1", Site: "a.test"}); err != nil {
		t.Fatal(err)
	}
	l1, err := m.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		l, err := m.Next(ctx)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- l.Item.URL
	}()
	if _, err := m.Add(ctx, frontier.Item{URL: "http://a.test/2", Site: "a.test"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Complete(ctx, l1, true); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-got:
		if u != "http://a.test/2" {
			t.Fatalf("the waiting worker got %q, want the item added while the site was busy", u)
		}
	case <-ctx.Done():
		t.Fatal("the waiting worker never got the item added while the site was busy")
	}
}
