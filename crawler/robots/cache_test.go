package robots

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a manual clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testSite is a loopback test server that serves a robots.txt and counts its
// robots.txt requests.
type testSite struct {
	*httptest.Server
	robotsHits atomic.Int64

	mu      sync.Mutex
	handler http.HandlerFunc // answers /robots.txt
	headers []http.Header    // of every request
	paths   []string         // of every request
}

func newSite(t testing.TB, h http.HandlerFunc) *testSite {
	t.Helper()
	s := &testSite{handler: h}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.headers = append(s.headers, r.Header.Clone())
		s.paths = append(s.paths, r.URL.Path)
		h := s.handler
		s.mu.Unlock()
		if r.URL.Path == "/robots.txt" {
			s.robotsHits.Add(1)
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *testSite) setHandler(h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = h
}

func (s *testSite) url(t *testing.T, path string) *url.URL {
	t.Helper()
	u, err := url.Parse(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func serve(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

func check(t *testing.T, c *Cache, u *url.URL) Verdict {
	t.Helper()
	v, err := c.Check(context.Background(), u)
	if err != nil {
		t.Fatalf("Check(%s): %v", u, err)
	}
	return v
}

const testRobots = "User-agent: *\nDisallow: /private\nAllow: /private/open\n\nUser-agent: goodbot\nDisallow: /private\nAllow: /private/open\nCrawl-delay: 3\nRequest-rate: 1/5s\n"

func TestCacheStatusHandling(t *testing.T) {
	clk := newClock()
	retryDate := clk.Now().Add(2 * time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name          string
		handler       http.HandlerFunc
		policy        string
		privateOK     bool
		publicOK      bool
		retryIn       time.Duration // 0: no RetryAt
		reason        string        // substring of the /private verdict's reason
		expiresIn     time.Duration
		wantSHA, rule bool
	}{
		{"200 parses", serve(200, testRobots), PolicyParsed, false, true, 0, `disallowed by "disallow: /private" (line 6)`, MaxTTL, true, true},
		{"204 is an empty file", serve(204, ""), PolicyParsed, true, true, 0, "no robots.txt rule matches", MaxTTL, true, false},
		{"404 allows all", serve(404, "User-agent: *\nDisallow: /"), PolicyAllowAll, true, true, 0, "robots.txt answered 404: allow all", MaxTTL, false, false},
		{"401 allows all", serve(401, ""), PolicyAllowAll, true, true, 0, "answered 401: allow all", MaxTTL, false, false},
		{"403 allows all", serve(403, ""), PolicyAllowAll, true, true, 0, "answered 403: allow all", MaxTTL, false, false},
		{"410 allows all", serve(410, ""), PolicyAllowAll, true, true, 0, "answered 410: allow all", MaxTTL, false, false},
		{"500 disallows all", serve(500, testRobots), PolicyDisallowAll, false, false, time.Minute, "robots.txt answered 500: disallow all until 2026-11-23T14:01:00Z", time.Minute, false, false},
		{"502 disallows all", serve(502, ""), PolicyDisallowAll, false, false, time.Minute, "answered 502", time.Minute, false, false},
		{"503 with Retry-After seconds", serve(503, "", "Retry-After", "600"), PolicyDisallowAll, false, false, 10 * time.Minute, "until 2026-11-23T14:10:00Z", 10 * time.Minute, false, false},
		{"503 with short Retry-After keeps the backoff", serve(503, "", "Retry-After", "30"), PolicyDisallowAll, false, false, time.Minute, "answered 503", time.Minute, false, false},
		{"429 disallows all", serve(429, ""), PolicyDisallowAll, false, false, time.Minute, "answered 429", time.Minute, false, false},
		{"429 with Retry-After date", serve(429, "", "Retry-After", retryDate), PolicyDisallowAll, false, false, 2 * time.Hour, "until 2026-11-23T16:00:00Z", 2 * time.Hour, false, false},
		{"429 with huge Retry-After is capped", serve(429, "", "Retry-After", "999999999999999999999"), PolicyDisallowAll, false, false, MaxTTL, "answered 429", MaxTTL, false, false},
		{"500 ignores Retry-After", serve(500, "", "Retry-After", "600"), PolicyDisallowAll, false, false, time.Minute, "answered 500", time.Minute, false, false},
		{"300 without Location is unreachable", serve(300, ""), PolicyDisallowAll, false, false, time.Minute, "answered 300", time.Minute, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, tc.handler)
			var fetched []Fetched
			c := NewCache(nil, Options{ProductToken: "goodbot", Now: clk.Now, OnFetch: func(_ context.Context, f Fetched) {
				fetched = append(fetched, f)
			}})
			priv := check(t, c, s.url(t, "/private"))
			pub := check(t, c, s.url(t, "/public"))
			if priv.Allowed != tc.privateOK || pub.Allowed != tc.publicOK {
				t.Errorf("allowed /private %v /public %v; want %v %v", priv.Allowed, pub.Allowed, tc.privateOK, tc.publicOK)
			}
			if priv.Policy != tc.policy {
				t.Errorf("Policy = %q, want %q", priv.Policy, tc.policy)
			}
			if !strings.Contains(priv.Reason, tc.reason) {
				t.Errorf("Reason = %q, want it to contain %q", priv.Reason, tc.reason)
			}
			var wantRetry time.Time
			if tc.retryIn > 0 {
				wantRetry = clk.Now().Add(tc.retryIn)
			}
			if !priv.RetryAt.Equal(wantRetry) {
				t.Errorf("RetryAt = %v, want %v", priv.RetryAt, wantRetry)
			}
			if (priv.Rule != "") != tc.rule {
				t.Errorf("Rule = %q", priv.Rule)
			}
			if got := s.robotsHits.Load(); got != 1 {
				t.Errorf("robots.txt fetched %d times, want 1", got)
			}
			if len(fetched) != 1 {
				t.Fatalf("OnFetch called %d times, want 1", len(fetched))
			}
			f := fetched[0]
			if f.Policy != tc.policy || f.Status == 0 || f.Err != nil || f.URL != s.URL+"/robots.txt" {
				t.Errorf("Fetched = %+v", f)
			}
			if !f.Expires.Equal(clk.Now().Add(tc.expiresIn)) {
				t.Errorf("Expires = %v, want now+%v", f.Expires, tc.expiresIn)
			}
			if (f.SHA256 != "") != tc.wantSHA || priv.SHA256 != f.SHA256 {
				t.Errorf("SHA256: fetched %q, verdict %q", f.SHA256, priv.SHA256)
			}
			if tc.wantSHA {
				sum := sha256.Sum256(f.Body)
				if f.SHA256 != hex.EncodeToString(sum[:]) {
					t.Errorf("SHA256 is not the digest of Body")
				}
			}
		})
	}
}

func TestCacheNetworkError(t *testing.T) {
	s := newSite(t, serve(200, testRobots))
	u := s.url(t, "/page")
	s.Close() // nothing listens there any more
	clk := newClock()
	var fetched []Fetched
	c := NewCache(nil, Options{Now: clk.Now, OnFetch: func(_ context.Context, f Fetched) { fetched = append(fetched, f) }})
	v := check(t, c, u)
	if v.Allowed || v.Policy != PolicyDisallowAll || !v.RetryAt.Equal(clk.Now().Add(time.Minute)) {
		t.Errorf("verdict = %+v", v)
	}
	if !strings.Contains(v.Reason, "robots.txt unreachable") {
		t.Errorf("Reason = %q", v.Reason)
	}
	if len(fetched) != 1 || fetched[0].Err == nil || fetched[0].Status != 0 {
		t.Errorf("Fetched = %+v", fetched)
	}
}

func TestCacheBackoff(t *testing.T) {
	s := newSite(t, serve(500, ""))
	clk := newClock()
	c := NewCache(nil, Options{Now: clk.Now, RetryBase: time.Minute, RetryMax: 5 * time.Minute, TTL: time.Hour})
	u := s.url(t, "/page")

	// Consecutive failures: 1m, 2m, 4m, then capped at 5m.
	for i, wait := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
		v := check(t, c, u)
		if v.Allowed || !v.RetryAt.Equal(clk.Now().Add(wait)) {
			t.Fatalf("failure %d: verdict %+v, want disallowed until now+%v", i+1, v, wait)
		}
		// Just before the retry time the verdict stands, without a fetch.
		clk.Advance(wait - time.Second)
		if v2 := check(t, c, u); v2.Allowed || !v2.RetryAt.Equal(v.RetryAt) {
			t.Fatalf("failure %d: before retry: %+v", i+1, v2)
		}
		if got := s.robotsHits.Load(); got != int64(i+1) {
			t.Fatalf("failure %d: %d fetches, want %d", i+1, got, i+1)
		}
		clk.Advance(time.Second)
	}

	// Success resets the backoff.
	s.setHandler(serve(200, "User-agent: *\nDisallow: /private\n"))
	if v := check(t, c, u); !v.Allowed || v.Policy != PolicyParsed {
		t.Fatalf("after recovery: %+v", v)
	}
	clk.Advance(time.Hour) // TTL
	s.setHandler(serve(503, ""))
	if v := check(t, c, u); v.Allowed || !v.RetryAt.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("first failure after success: %+v, want retry in 1m", v)
	}
	if got := s.robotsHits.Load(); got != 7 {
		t.Errorf("%d fetches, want 7", got)
	}
}

func TestCacheTTL(t *testing.T) {
	for _, tc := range []struct {
		name string
		ttl  time.Duration
		want time.Duration
	}{
		{"default", 0, 24 * time.Hour},
		{"capped at 24h", 48 * time.Hour, 24 * time.Hour},
		{"shorter", time.Hour, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, serve(200, "User-agent: *\nDisallow: /old\n"))
			clk := newClock()
			c := NewCache(nil, Options{Now: clk.Now, TTL: tc.ttl})
			if v := check(t, c, s.url(t, "/old")); v.Allowed {
				t.Fatalf("first file not applied")
			}
			s.setHandler(serve(200, "User-agent: *\nDisallow: /new\n"))
			clk.Advance(tc.want - time.Nanosecond)
			if v := check(t, c, s.url(t, "/old")); v.Allowed || s.robotsHits.Load() != 1 {
				t.Fatalf("refetched before the TTL: %+v, %d fetches", v, s.robotsHits.Load())
			}
			clk.Advance(time.Nanosecond)
			if v := check(t, c, s.url(t, "/old")); !v.Allowed {
				t.Errorf("old file used after the TTL")
			}
			if v := check(t, c, s.url(t, "/new")); v.Allowed {
				t.Errorf("new file not used after the TTL")
			}
			if got := s.robotsHits.Load(); got != 2 {
				t.Errorf("%d fetches, want 2", got)
			}
		})
	}
}

// rewriteTransport sends every request to one loopback server over plain
// HTTP, whatever its scheme and host, and records the origins asked for.
type rewriteTransport struct {
	target string // host:port
	mu     sync.Mutex
	asked  []string
}

func (rt *rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.asked = append(rt.asked, r.URL.Scheme+"://"+r.URL.Host)
	rt.mu.Unlock()
	r2 := r.Clone(r.Context())
	r2.URL.Scheme, r2.URL.Host = "http", rt.target
	return http.DefaultTransport.RoundTrip(r2)
}

func TestCachePerOrigin(t *testing.T) {
	s := newSite(t, serve(200, "User-agent: *\nDisallow: /private\n"))
	rt := &rewriteTransport{target: s.Listener.Addr().String()}
	c := NewCache(rt, Options{})
	for _, raw := range []string{
		"http://example.test/private",
		"http://EXAMPLE.test:80/a",         // same origin
		"http://example.test/b?x=1",        // same origin
		"https://example.test/private",     // other scheme
		"https://example.test:443/a",       // same as the previous
		"http://example.test:8080/a",       // other port
		"http://user:pw@example.test/a",    // userinfo is not part of the origin
		"http://other.test/a",              // other host
		"http://example.test/robots.txt",   // never fetched for itself
		"https://other.test/robots.txt",    // never fetched for itself
		"http://example.test:8080/private", // cached
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		v := check(t, c, u)
		if want := !strings.HasSuffix(u.Path, "/private"); v.Allowed != want {
			t.Errorf("%s: allowed %v, want %v", raw, v.Allowed, want)
		}
	}
	want := []string{"http://example.test", "https://example.test", "http://example.test:8080", "http://other.test"}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if fmt.Sprint(rt.asked) != fmt.Sprint(want) {
		t.Errorf("robots.txt fetched for %q, want %q", rt.asked, want)
	}
}

func TestCacheOneFetchUnderConcurrency(t *testing.T) {
	const origins, callers = 4, 32
	var sites []*testSite
	for range origins {
		sites = append(sites, newSite(t, func(w http.ResponseWriter, r *http.Request) {
			// Answer slowly, so that the callers pile up on the fetch.
			time.Sleep(100 * time.Millisecond)
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
		}))
	}
	var onFetch atomic.Int64
	c := NewCache(nil, Options{OnFetch: func(context.Context, Fetched) { onFetch.Add(1) }})
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, origins*callers)
	for i := range origins * callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s := sites[i%origins]
			path := "/private"
			if i%2 == 0 {
				path = "/public"
			}
			u, _ := url.Parse(s.URL + path)
			v, err := c.Check(context.Background(), u)
			if err != nil {
				errs <- err
				return
			}
			if v.Allowed != (path == "/public") {
				errs <- fmt.Errorf("%s: allowed %v", u, v.Allowed)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, s := range sites {
		if got := s.robotsHits.Load(); got != 1 {
			t.Errorf("site %d: robots.txt fetched %d times, want 1", i, got)
		}
	}
	if got := onFetch.Load(); got != origins {
		t.Errorf("OnFetch called %d times, want %d", got, origins)
	}
}

// redirector serves /robots.txt as a chain of n redirects ending in body.
func redirector(n int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hop := 0
		if r.URL.Path != "/robots.txt" {
			if _, err := fmt.Sscanf(r.URL.Path, "/hop/%d", &hop); err != nil {
				fmt.Fprint(w, "a page")
				return
			}
		}
		if hop < n {
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", hop+1), http.StatusFound)
			return
		}
		fmt.Fprint(w, body)
	}
}

func TestCacheRedirects(t *testing.T) {
	header := http.Header{"User-Agent": {"goodbot/0.1 (+mailto:me@example.org)"}, "X-Goodbot-Kind": {"robots"}}
	t.Run("five redirects are followed", func(t *testing.T) {
		s := newSite(t, redirector(5, "User-agent: *\nDisallow: /private\n"))
		c := NewCache(nil, Options{Header: header})
		if v := check(t, c, s.url(t, "/private")); v.Allowed || v.Policy != PolicyParsed {
			t.Errorf("verdict %+v", v)
		}
		if v := check(t, c, s.url(t, "/public")); !v.Allowed {
			t.Errorf("verdict %+v", v)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.headers) != 6 {
			t.Errorf("%d requests, want 6", len(s.headers))
		}
		for i, h := range s.headers {
			if h.Get("User-Agent") != header.Get("User-Agent") || h.Get("X-Goodbot-Kind") != "robots" {
				t.Errorf("request %d (%s) headers %v lack Options.Header", i, s.paths[i], h)
			}
		}
	})
	t.Run("six redirects are unreachable", func(t *testing.T) {
		s := newSite(t, redirector(6, "User-agent: *\nDisallow: /private\n"))
		var fetched Fetched
		c := NewCache(nil, Options{OnFetch: func(_ context.Context, f Fetched) { fetched = f }})
		v := check(t, c, s.url(t, "/public"))
		if v.Allowed || v.Policy != PolicyDisallowAll || v.RetryAt.IsZero() {
			t.Errorf("verdict %+v", v)
		}
		if !strings.Contains(v.Reason, "redirected more than 5 times") {
			t.Errorf("Reason = %q", v.Reason)
		}
		if !errors.Is(fetched.Err, errTooManyRedirects) {
			t.Errorf("Fetched.Err = %v", fetched.Err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.paths) != 6 {
			t.Errorf("%d requests, want 6 (the 6th redirect is not followed)", len(s.paths))
		}
	})
	t.Run("a file on another host applies to the original origin", func(t *testing.T) {
		b := newSite(t, serve(200, "User-agent: *\nDisallow: /from-b\n"))
		a := newSite(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, b.URL+"/robots.txt", http.StatusMovedPermanently)
		})
		c := NewCache(nil, Options{})
		if v := check(t, c, a.url(t, "/from-b")); v.Allowed {
			t.Errorf("b's rules not applied to a")
		}
		if b.robotsHits.Load() != 1 || a.robotsHits.Load() != 1 {
			t.Errorf("fetches: a %d, b %d", a.robotsHits.Load(), b.robotsHits.Load())
		}
	})
}

// gate is a RoundTripper that checks every request against the cache before
// sending it, like the crawler's gate.
type gate struct {
	cache   *Cache
	mu      sync.Mutex
	fetches []bool // IsFetch of each request sent
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	v, err := g.cache.Check(r.Context(), r.URL)
	if err != nil {
		return nil, err
	}
	if !v.Allowed {
		return nil, fmt.Errorf("refused: %s", v.Reason)
	}
	g.mu.Lock()
	g.fetches = append(g.fetches, IsFetch(r))
	g.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestCacheBehindGate(t *testing.T) {
	// robots.txt redirects to another path of the same origin. The gate
	// checks that hop too; it must not wait for the fetch it is part of.
	s := newSite(t, redirector(2, "User-agent: *\nDisallow: /private\n"))
	g := &gate{}
	g.cache = NewCache(g, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := g.cache.Check(ctx, s.url(t, "/private"))
	if err != nil || v.Allowed {
		t.Fatalf("Check = %+v, %v", v, err)
	}
	client := &http.Client{Transport: g}
	resp, err := client.Get(s.URL + "/private")
	if err == nil {
		resp.Body.Close()
		t.Errorf("gate sent a disallowed request")
	}
	resp, err = client.Get(s.URL + "/public")
	if err != nil {
		t.Fatalf("allowed request: %v", err)
	}
	resp.Body.Close()
	g.mu.Lock()
	defer g.mu.Unlock()
	if want := "[true true true false]"; fmt.Sprint(g.fetches) != want {
		t.Errorf("IsFetch of requests sent = %v, want %s", g.fetches, want)
	}
}

func TestCacheRobotsTxtNotFetchedForItself(t *testing.T) {
	s := newSite(t, serve(200, "User-agent: *\nDisallow: /\n"))
	c := NewCache(nil, Options{})
	for _, p := range []string{"/robots.txt", "/%72obots.txt"} {
		if v := check(t, c, s.url(t, p)); !v.Allowed || v.Policy != "" {
			t.Errorf("%s: %+v", p, v)
		}
	}
	if got := s.robotsHits.Load(); got != 0 {
		t.Errorf("robots.txt fetched %d times for itself", got)
	}
	if v := check(t, c, s.url(t, "/robots.txt?x=1")); v.Allowed {
		t.Errorf("/robots.txt?x=1 allowed under Disallow: /")
	}
}

func TestCacheCheckErrors(t *testing.T) {
	c := NewCache(nil, Options{})
	for _, raw := range []string{"ftp://example.test/a", "http:///a", "http:opaque", "/relative/path", "mailto:me@example.org"} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Check(context.Background(), u); err == nil {
			t.Errorf("Check(%q): no error", raw)
		}
	}
	if _, err := c.Check(context.Background(), nil); err == nil {
		t.Errorf("Check(nil): no error")
	}
}

func TestCacheCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
	})
	c := NewCache(nil, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Check(ctx, s.url(t, "/private"))
		done <- err
	}()
	// Wait until the fetch reached the server, then give up.
	for s.robotsHits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Check after cancel: %v, want context.Canceled", err)
	}
	// The fetch goes on for the others.
	close(release)
	if v := check(t, c, s.url(t, "/private")); v.Allowed || v.Policy != PolicyParsed {
		t.Errorf("verdict %+v", v)
	}
	if got := s.robotsHits.Load(); got != 1 {
		t.Errorf("%d fetches, want 1", got)
	}
}

func TestCacheBodyLimit(t *testing.T) {
	head := "User-agent: *\nDisallow: /early\n"
	body := head + filler(MaxSize-len(head)) + "Disallow: /late\n" + strings.Repeat("# more\n", 20000)
	s := newSite(t, serve(200, body))
	var fetched Fetched
	c := NewCache(nil, Options{OnFetch: func(_ context.Context, f Fetched) { fetched = f }})
	if v := check(t, c, s.url(t, "/early")); v.Allowed {
		t.Errorf("/early allowed")
	}
	if v := check(t, c, s.url(t, "/late")); !v.Allowed {
		t.Errorf("/late beyond the limit disallowed")
	}
	if len(fetched.Body) != MaxSize || !fetched.File.Truncated {
		t.Errorf("Body %d bytes, Truncated %v; want %d, true", len(fetched.Body), fetched.File.Truncated, MaxSize)
	}
}

func TestCacheCrawlDelayAndFetched(t *testing.T) {
	s := newSite(t, serve(200, testRobots))
	clk := newClock()
	var fetched []Fetched
	c := NewCache(nil, Options{ProductToken: "GoodBot", Now: clk.Now, OnFetch: func(_ context.Context, f Fetched) { fetched = append(fetched, f) }})
	v := check(t, c, s.url(t, "/private/open/x"))
	if !v.Allowed || v.Rule != "allow: /private/open" || v.Reason != `allowed by "allow: /private/open" (line 7)` {
		t.Errorf("verdict %+v", v)
	}
	if v.CrawlDelay != 5*time.Second {
		t.Errorf("CrawlDelay = %v, want 5s (the Request-rate interval beats Crawl-delay 3)", v.CrawlDelay)
	}
	if len(fetched) != 1 {
		t.Fatalf("OnFetch called %d times", len(fetched))
	}
	f := fetched[0]
	if f.Status != 200 || string(f.Body) != testRobots || f.Policy != PolicyParsed || f.Group == nil ||
		f.Group.CrawlDelay != 3*time.Second || f.Group.RequestRate != 5*time.Second || f.Site != s.Listener.Addr().String() {
		t.Errorf("Fetched = %+v", f)
	}
	// Without a product token, the "*" group applies: no delay.
	c2 := NewCache(nil, Options{})
	if v := check(t, c2, s.url(t, "/x")); v.CrawlDelay != 0 {
		t.Errorf("star group: CrawlDelay %v", v.CrawlDelay)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 0 ", 0},
		{"-5", 0},
		{"1.5", 0},
		{"soon", 0},
		{now.Add(time.Hour).Format(http.TimeFormat), time.Hour},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(100 * time.Hour).Format(http.TimeFormat), MaxTTL},
		{"99999999999", MaxTTL},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestCacheForgetsLapsedEntries(t *testing.T) {
	s := newSite(t, serve(200, "User-agent: *\nDisallow: /private\n"))
	rt := &rewriteTransport{target: s.Listener.Addr().String()}
	clk := newClock()
	c := NewCache(rt, Options{Now: clk.Now, TTL: time.Hour, RetryMax: time.Hour})
	c.sweepEvery = 3
	checkHost := func(host string) {
		t.Helper()
		check(t, c, &url.URL{Scheme: "http", Host: host, Path: "/private"})
	}
	for _, h := range []string{"a.test", "b.test", "c.test"} {
		checkHost(h)
	}
	clk.Advance(2*time.Hour + time.Second) // past TTL + RetryMax
	for _, h := range []string{"d.test", "e.test", "f.test"} {
		checkHost(h)
	}
	c.mu.Lock()
	n := len(c.entries)
	_, kept := c.entries["http://f.test"]
	c.mu.Unlock()
	if n != 3 || !kept {
		t.Errorf("%d entries after the sweep (f.test kept: %v), want the 3 fresh ones", n, kept)
	}
	checkHost("a.test")
	if got := s.robotsHits.Load(); got != 7 {
		t.Errorf("%d fetches, want 7", got)
	}
}

func TestCacheFetchTimeout(t *testing.T) {
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	})
	c := NewCache(nil, Options{Timeout: 50 * time.Millisecond})
	v := check(t, c, s.url(t, "/page"))
	if v.Allowed || v.Policy != PolicyDisallowAll || v.RetryAt.IsZero() {
		t.Errorf("verdict %+v", v)
	}
	if !strings.Contains(v.Reason, "robots.txt unreachable") || !strings.Contains(v.Reason, "deadline exceeded") {
		t.Errorf("Reason = %q", v.Reason)
	}
}
