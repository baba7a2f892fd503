package robots

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memShared is an in-process Shared store, standing in for the Redis one of
// package job (which is tested against a real redis-server there).
type memShared struct {
	mu     sync.Mutex
	m      map[string]Stored
	claims map[string]time.Time
}

func (s *memShared) Load(_ context.Context, origin string) (Stored, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[origin]
	return st, ok, nil
}

func (s *memShared) Claim(_ context.Context, origin string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.claims[origin]; ok && time.Now().Before(t) {
		return false, nil
	}
	s.claims[origin] = time.Now().Add(ttl)
	return true, nil
}

func (s *memShared) Save(_ context.Context, origin string, st Stored) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[origin] = st
	delete(s.claims, origin)
	return nil
}

func TestSharedFetchOncePerJob(t *testing.T) {
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		time.Sleep(50 * time.Millisecond) // let the other workers find the claim
		w.Write([]byte("User-agent: *\nDisallow: /private\nCrawl-delay: 2\n"))
	}))
	defer srv.Close()
	shared := &memShared{m: map[string]Stored{}, claims: map[string]time.Time{}}
	var fromShared atomic.Int64
	var wg sync.WaitGroup
	for range 5 { // five workers, each with its own cache
		c := NewCache(nil, Options{ProductToken: "goodbot", Shared: shared, OnFetch: func(_ context.Context, f Fetched) {
			if f.Shared {
				fromShared.Add(1)
				if f.SHA256 == "" || f.Group.Delay() != 2*time.Second {
					t.Errorf("shared fetch lost the file: %+v", f)
				}
			}
		}})
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, _ := url.Parse(srv.URL + "/private/x")
			v, err := c.Check(context.Background(), u)
			if err != nil || v.Allowed || v.Rule != "disallow: /private" {
				t.Errorf("Check = %+v, %v", v, err)
			}
		}()
	}
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Fatalf("robots.txt fetched %d times by 5 workers sharing a store, want 1", n)
	}
	if n := fromShared.Load(); n != 4 {
		t.Fatalf("%d workers took the file from the store, want 4", n)
	}
}
