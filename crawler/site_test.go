package crawler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/usage"
	"github.com/goodbot/goodbot/internal/site"
	"github.com/goodbot/goodbot/limiter"
)

// testSite is a loopback web site that records every request it receives.
type testSite struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	routes   map[string]http.HandlerFunc // by path
	requests []seenRequest
}

type seenRequest struct {
	URI  string // as sent: path and raw query
	UA   string
	From string
	At   time.Time
	Hdr  http.Header
}

func newTestSite(t *testing.T) *testSite {
	ts := &testSite{t: t, routes: map[string]http.HandlerFunc{}}
	ts.srv = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.srv.Close)
	return ts
}

// newTestSiteOn starts a test site listening on addr, e.g. "127.0.0.2:0".
func newTestSiteOn(t *testing.T, addr string) *testSite {
	ts := &testSite{t: t, routes: map[string]http.HandlerFunc{}}
	ts.srv = httptest.NewUnstartedServer(http.HandlerFunc(ts.serve))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	ts.srv.Listener.Close()
	ts.srv.Listener = l
	ts.srv.Start()
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *testSite) serve(w http.ResponseWriter, r *http.Request) {
	ts.mu.Lock()
	ts.requests = append(ts.requests, seenRequest{URI: r.RequestURI, UA: r.UserAgent(), From: r.Header.Get("From"), At: time.Now(), Hdr: r.Header.Clone()})
	h, ok := ts.routes[r.URL.Path]
	ts.mu.Unlock()
	if !ok {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		// Any other path is a page with no links.
		page(w, "page "+r.URL.Path)
		return
	}
	h(w, r)
}

// handle serves path with h.
func (ts *testSite) handle(path string, h http.HandlerFunc) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.routes[path] = h
}

// robots serves body as /robots.txt.
func (ts *testSite) robots(body string) {
	ts.handle("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, body)
	})
}

// links serves path as an HTML page linking to hrefs.
func (ts *testSite) links(path string, hrefs ...string) {
	ts.handle(path, func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		for _, h := range hrefs {
			fmt.Fprintf(&b, `<a href="%s">link</a> `, h)
		}
		page(w, b.String())
	})
}

func page(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<html><head><title>T</title></head><body><p>%s</p></body></html>", body)
}

func (ts *testSite) url(path string) string { return ts.srv.URL + path }

func (ts *testSite) site() string {
	u, _ := url.Parse(ts.srv.URL)
	return site.Key(u)
}

// uris returns the request URIs received, in order.
func (ts *testSite) uris() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []string
	for _, r := range ts.requests {
		out = append(out, r.URI)
	}
	return out
}

func (ts *testSite) count(uri string) int {
	n := 0
	for _, u := range ts.uris() {
		if u == uri {
			n++
		}
	}
	return n
}

func (ts *testSite) seen() []seenRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]seenRequest(nil), ts.requests...)
}

// recorder is an audit.Sink that keeps events in memory.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
}

func (r *recorder) Record(_ context.Context, e audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) all(t audit.Type) []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []audit.Event
	for _, e := range r.events {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

// testConfig returns a crawler config for a loopback crawl of sites, at a
// cap that does not bind (864,000,000 requests a day at share 0.1).
func testConfig(t *testing.T, sink audit.Sink, sites ...*testSite) Config {
	keys := make([]string, len(sites))
	for i, s := range sites {
		keys[i] = s.site()
	}
	return Config{
		Contact:     "mailto:me@example.org",
		Limiter:     testLimiter(t, sink, keys...),
		Sink:        sink,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		RetryBase:   100 * time.Millisecond,
		RobotsRetry: 200 * time.Millisecond,
		Timeout:     10 * time.Second,
		// TDMRep does not concern a search crawl, so no tdmrep.json
		// request changes the requests these tests count; the usage
		// tests set the purpose they test.
		Purpose: usage.Search,
	}
}

// testLimiter returns an in-process limiter with a budget that does not
// bind (864,000,000 a day) for each site key.
func testLimiter(t *testing.T, sink audit.Sink, sites ...string) *limiter.Local {
	t.Helper()
	var es []limiter.Estimate
	for _, s := range sites {
		e, err := limiter.ParseTraffic(s + "=864000000")
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	est, err := limiter.NewEstimates(es...)
	if err != nil {
		t.Fatal(err)
	}
	lim, err := limiter.NewLocal(limiter.Config{Estimates: est, Sink: sink, BaseBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return lim
}

// seeded returns a crawler that follows every link, with seeds queued:
// by Config.FollowLinks when cfg sets it, else as a colly user does, with
// e.Request.Visit from an OnHTML callback.
func seeded(tb testing.TB, cfg Config, seeds ...string) *Crawler {
	tb.Helper()
	cr, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if !cfg.FollowLinks {
		cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	}
	for _, s := range seeds {
		if err := cr.Seed(s); err != nil {
			tb.Fatal(err)
		}
	}
	return cr
}

// crawl runs a crawler over seeds, following every link, and returns it.
func crawl(t *testing.T, cfg Config, seeds ...string) (*Crawler, Summary) {
	t.Helper()
	cr := seeded(t, cfg, seeds...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sum, err := cr.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.Reason != "done" {
		t.Fatalf("Run ended with %q, want done", sum.Reason)
	}
	return cr, sum
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}
