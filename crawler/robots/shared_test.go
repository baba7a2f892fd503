package robots

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// TestCacheEntryKeepsWhatVerdictsNeed checks that what the Cache keeps of a
// fetched file (its group for the token and its Sitemap lines, not the
// parsed file or its body) gives the same verdicts from the cache as on
// the fetch, and that a Shared store is still handed the whole fetch,
// body included, from which another cache gives the same verdicts.
func TestCacheEntryKeepsWhatVerdictsNeed(t *testing.T) {
	const body = "User-agent: other\nDisallow: /\n\nUser-agent: goodbot\nDisallow: /private\nAllow: /private/open\nCrawl-delay: 3\nContent-Usage: /docs train-ai=n\n\nSitemap: https://example.org/s1.xml\nSitemap: https://example.org/s2.xml\n"
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	shared := &memShared{m: map[string]Stored{}, claims: map[string]time.Time{}}
	verdicts := func(c *Cache) []Verdict {
		t.Helper()
		var out []Verdict
		for _, p := range []string{"/private/x", "/private/open/y", "/docs/a", "/"} {
			u, _ := url.Parse(srv.URL + p)
			v, err := c.Check(context.Background(), u)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		return out
	}
	c := NewCache(nil, Options{ProductToken: "goodbot", Shared: shared})
	first := verdicts(c)  // the first fetches the file
	cached := verdicts(c) // all from the entry
	other := verdicts(NewCache(nil, Options{ProductToken: "goodbot", Shared: shared}))
	if n := fetches.Load(); n != 1 {
		t.Fatalf("robots.txt fetched %d times, want 1", n)
	}
	sum := sha256.Sum256([]byte(body))
	want := []struct {
		allowed bool
		rule    string
		usage   int
	}{{false, "disallow: /private", 0}, {true, "allow: /private/open", 0}, {true, "", 1}, {true, "", 0}}
	for _, vs := range [][]Verdict{first, cached, other} {
		for i, v := range vs {
			w := want[i]
			if v.Allowed != w.allowed || v.Rule != w.rule || len(v.Usage) != w.usage || v.CrawlDelay != 3*time.Second ||
				v.SHA256 != hex.EncodeToString(sum[:]) || v.Policy != PolicyParsed ||
				len(v.Sitemaps) != 2 || v.Sitemaps[1] != "https://example.org/s2.xml" {
				t.Errorf("verdict %d: %+v", i, v)
			}
		}
	}
	st, ok := shared.m["http://"+srv.Listener.Addr().String()]
	if !ok || st.Status != 200 || string(st.Body) != body || st.Policy != PolicyParsed || st.FetchedAt.IsZero() ||
		st.Expires.IsZero() || st.URL != srv.URL+"/robots.txt" {
		t.Errorf("shared store holds %+v", st)
	}
}
