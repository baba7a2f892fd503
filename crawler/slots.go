package crawler

import (
	"context"
	"slices"
	"sync"
)

// slots bounds the requests in flight at one site (Config.Parallel). The
// gate decides pages ahead of their send, so pages queue here with their
// grants; a request the crawl needs before it can go on with the site
// (robots.txt, its sitemaps, tdmrep.json) takes the next free slot before
// them, so that it does not wait behind a queue of pages, and a limit
// that depends on it (Config.MaxSiteShare) applies as early as it did.
// Within each of the two queues, slots go in the order they were asked
// for.
type slots struct {
	mu      sync.Mutex
	free    int
	waiting [2][]chan struct{} // [0]: ahead of pages; [1]: pages
}

// acquire waits for a slot. ahead puts the request before pages.
func (s *slots) acquire(ctx context.Context, ahead bool) error {
	q := 1
	if ahead {
		q = 0
	}
	s.mu.Lock()
	if s.free > 0 && len(s.waiting[0]) == 0 && (ahead || len(s.waiting[1]) == 0) {
		s.free--
		s.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	s.waiting[q] = append(s.waiting[q], ch)
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		if i := slices.Index(s.waiting[q], ch); i >= 0 {
			s.waiting[q] = slices.Delete(s.waiting[q], i, i+1)
			s.mu.Unlock()
			return ctx.Err()
		}
		s.mu.Unlock()
		// The slot was handed over as ctx ended: pass it on.
		s.release()
		return ctx.Err()
	}
}

// release gives a slot back, to the first waiting request if any.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for q := range s.waiting {
		if len(s.waiting[q]) > 0 {
			ch := s.waiting[q][0]
			s.waiting[q][0] = nil
			s.waiting[q] = s.waiting[q][1:]
			close(ch)
			return
		}
	}
	s.free++
}
