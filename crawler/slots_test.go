package crawler

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSlotsBoundAndOrder(t *testing.T) {
	s := &slots{free: 1}
	ctx := context.Background()
	if err := s.acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	// Two pages and then one request ahead of pages wait; the one ahead
	// gets the slot first, then the pages in their order.
	var order []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	queued := func(n int) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.waiting[0])+len(s.waiting[1]) == n
	}
	for i, name := range []string{"page1", "page2", "robots"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.acquire(ctx, name == "robots"); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			s.release()
		}()
		for range 10_000 {
			if queued(i + 1) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if !queued(i + 1) {
			t.Fatalf("%s did not queue", name)
		}
	}
	s.release()
	wg.Wait()
	if want := []string{"robots", "page1", "page2"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	if s.free != 1 {
		t.Errorf("%d free slots after all were released, want 1", s.free)
	}
}

func TestSlotsCancelledWaiterKeepsCount(t *testing.T) {
	s := &slots{free: 2}
	var inFlight, peak atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			if i%3 == 0 {
				cancel() // gives up at once, or right after it got a slot
			}
			defer cancel()
			if err := s.acquire(ctx, i%5 == 0); err != nil {
				return
			}
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			inFlight.Add(-1)
			s.release()
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > 2 {
		t.Errorf("%d in flight at once with 2 slots", p)
	}
	if s.free != 2 || len(s.waiting[0])+len(s.waiting[1]) != 0 {
		t.Errorf("after all: %d free, %d+%d waiting; want 2 free, none waiting", s.free, len(s.waiting[0]), len(s.waiting[1]))
	}
}
