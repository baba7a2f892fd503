package frontier

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// Two different POSTs to one URL are two requests; the same POST twice is
// one; a POST is not taken for a GET of its URL; Collector is not part of
// the key.
func TestSeenKeyIncludesMethodAndBody(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(Options{})
	get := Item{URL: "http://a/s", Site: "a"}
	p1 := Item{URL: "http://a/s", Site: "a", Method: "POST", Body: []byte("q=1"), ContentType: "application/x-www-form-urlencoded"}
	p2 := p1
	p2.Body = []byte("q=2")
	again := p1
	again.Collector = "clone-1"
	explicitGet := get
	explicitGet.Method = "GET"
	for _, c := range []struct {
		it   Item
		want bool
	}{{get, true}, {p1, true}, {p2, true}, {again, false}, {explicitGet, false}} {
		if ok, err := m.Add(ctx, c.it); err != nil || ok != c.want {
			t.Errorf("Add %s %s %q = %v, %v; want %v", c.it.Method, c.it.URL, c.it.Body, ok, err, c.want)
		}
	}
	if get.Key() != get.URL {
		t.Errorf("a GET's key is %q, want its URL", get.Key())
	}
	if seen, _ := m.Seen(ctx, "http://a/s"); !seen {
		t.Error("Seen(url) does not know the GET")
	}
}

// TestMemoryIdleSiteKeepsCountAndSlot: a site whose last lease completes
// with nothing queued gives up its queue; what SiteTaken and its slot
// need survives, and a site that gets work again is paced and counted as
// if it had kept its queue. A site paced while it has nothing queued
// keeps that slot too.
func TestMemoryIdleSiteKeepsCountAndSlot(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMemory(Options{PerSite: 1, Now: func() time.Time { return now }})
	add := func(url string) {
		t.Helper()
		if ok, err := m.Add(ctx, Item{URL: url, Site: "a.example"}); err != nil || !ok {
			t.Fatalf("Add %s: %v %v", url, ok, err)
		}
	}
	lease := func(want string) {
		t.Helper()
		l, err := m.NextWithin(ctx, time.Minute)
		if err != nil || l.Item.URL != want {
			t.Fatalf("lease: %+v, %v; want %s", l, err, want)
		}
		if err := m.Complete(ctx, l, true); err != nil {
			t.Fatal(err)
		}
	}
	taken := func(want int) {
		t.Helper()
		if n, err := m.SiteTaken(ctx, "a.example"); err != nil || n != want {
			t.Errorf("SiteTaken = %d, %v; want %d", n, err, want)
		}
	}
	deferredUntil := func(want time.Time) {
		t.Helper()
		if _, err := m.NextWithin(ctx, time.Minute); !errors.Is(err, ErrDeferred) {
			t.Fatalf("NextWithin(1 min) before the site's slot: %v, want ErrDeferred", err)
		}
		d, err := m.Deferred(ctx)
		if err != nil || d["a.example"].Count != 1 || !d["a.example"].Earliest.Equal(want) {
			t.Errorf("Deferred = %+v, %v; want 1 item due %v", d, err, want)
		}
	}

	add("http://a.example/1")
	l, err := m.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slot := now.Add(time.Hour)
	if err := m.PaceSite(ctx, "a.example", slot); err != nil {
		t.Fatal(err)
	}
	if err := m.Complete(ctx, l, true); err != nil {
		t.Fatal(err)
	}
	if len(m.sites) != 0 || len(m.idle) != 1 {
		t.Fatalf("after its last lease: %d queues, %d idle sites; want 0 and 1", len(m.sites), len(m.idle))
	}
	taken(1)
	add("http://a.example/2")
	deferredUntil(slot)
	now = slot
	lease("http://a.example/2")
	taken(2)

	// Paced while idle, then given work.
	slot = now.Add(time.Hour)
	if err := m.PaceSite(ctx, "a.example", slot); err != nil {
		t.Fatal(err)
	}
	if len(m.sites) != 0 {
		t.Errorf("PaceSite of an idle site made a queue")
	}
	add("http://a.example/3")
	deferredUntil(slot)
	now = slot.Add(time.Second)
	lease("http://a.example/3")
	taken(3)
	// Its slot passed: the idle site keeps its count only.
	if st := m.idle["a.example"]; len(m.sites) != 0 || st != (idleSite{pages: 3}) {
		t.Errorf("idle site kept %+v (%d queues), want only its 3 pages", st, len(m.sites))
	}
}

// TestMemoryQueuesShrink: the deferred heap, the ready ring and the map
// of site queues, once large, give their memory back when they are small
// again, and what was queued through them is all leased, in due order.
func TestMemoryQueuesShrink(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMemory(Options{PerSite: 1, Now: func() time.Time { return now }})
	const n = 5000
	for i := range n {
		it := Item{URL: fmt.Sprintf("http://s%d.example/", i), Site: fmt.Sprintf("s%d.example", i), NotBefore: now.Add(time.Duration(n-i) * time.Millisecond)}
		if ok, err := m.Add(ctx, it); err != nil || !ok {
			t.Fatalf("Add: %v %v", ok, err)
		}
	}
	if c := cap(m.deferred); c < n {
		t.Fatalf("deferred heap of %d items has capacity %d", n, c)
	}
	now = now.Add(time.Hour)
	for i := range n {
		l, err := m.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Due latest first: the last added was due first.
		if want := fmt.Sprintf("s%d.example", n-1-i); l.Item.Site != want {
			t.Fatalf("lease %d: %s, want %s", i, l.Item.Site, want)
		}
		if i == 0 {
			if c := cap(m.deferred); c >= 256 {
				t.Errorf("empty deferred heap kept capacity %d", c)
			}
		}
		if err := m.Complete(ctx, l, true); err != nil {
			t.Fatal(err)
		}
	}
	if c := cap(m.ready.buf); c >= 256 {
		t.Errorf("empty ready ring kept capacity %d", c)
	}
	if len(m.sites) != 0 || len(m.idle) != n || m.sitesPeak > n/4 {
		t.Errorf("%d queues (most since the map was made: %d), %d idle sites; want 0, at most %d, %d", len(m.sites), m.sitesPeak, len(m.idle), n/4, n)
	}
	if _, err := m.Next(ctx); !errors.Is(err, ErrDone) {
		t.Errorf("Next after all: %v, want ErrDone", err)
	}
}
