package crawler

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/state"
	"github.com/goodbot/goodbot/internal/site"
)

// Tests of the behaviours a colly program relies on when only its
// constructor is replaced by crawler.New.

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// counter counts strings, safely from several callbacks at once.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[k]++
}

func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, v := range c.n {
		t += v
	}
	return t
}

func newTestCrawler(t *testing.T, cfg Config) *Crawler {
	t.Helper()
	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cr
}

// Visit with no crawl running fetches the seed and the links its
// callbacks follow before it returns, as colly's synchronous Visit does.
func TestVisitOutsideRunFetches(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "/a", "/b")
	ts.links("/a", "/c")
	cr := newTestCrawler(t, testConfig(t, &recorder{}, ts))
	cr.Wait() // nothing runs: returns at once
	var titles counter
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	cr.OnHTML("title", func(e *colly.HTMLElement) { titles.add(e.Request.URL.Path) })
	if err := cr.Visit(ts.url("/index")); err != nil {
		t.Fatalf("Visit: %v", err)
	}
	for _, p := range []string{"/index", "/a", "/b", "/c"} {
		if ts.count(p) != 1 || titles.get(p) != 1 {
			t.Errorf("%s: requested %d times, title seen %d times; want 1 and 1", p, ts.count(p), titles.get(p))
		}
	}
	cr.Wait()
	// A second Visit crawls again, with the same frontier: what was
	// fetched is not fetched again.
	if err := cr.Visit(ts.url("/d")); err != nil {
		t.Fatalf("second Visit: %v", err)
	}
	if ts.count("/d") != 1 || ts.count("/index") != 1 {
		t.Errorf("second Visit: requests %v", ts.uris())
	}
	// The seed's own failure is what Visit returns, as in colly.
	ts.handle("/gone", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusNotFound) })
	if err := cr.Visit(ts.url("/gone")); err == nil || !strings.Contains(err.Error(), "Not Found") {
		t.Errorf("Visit of a 404 page = %v, want its error", err)
	}
	// A URL goodbot does not crawl fails at once, naming the rule.
	if err := cr.Visit("file:///etc/passwd"); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Errorf("Visit(file://) = %v, want an error naming the scheme rule", err)
	}
}

// Wait, called while a Visit runs in another goroutine, returns after
// that crawl has ended.
func TestWaitWaitsForARunningVisit(t *testing.T) {
	ts := newTestSite(t)
	arrived := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	ts.links("/index", "/slow")
	ts.handle("/slow", func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		<-release
		page(w, "slow")
	})
	cr := newTestCrawler(t, testConfig(t, &recorder{}, ts))
	var mu sync.Mutex
	scraped := false
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	cr.OnScraped(func(r *colly.Response) {
		if r.Request.URL.Path == "/slow" {
			mu.Lock()
			scraped = true
			mu.Unlock()
		}
	})
	visited := make(chan error, 1)
	go func() { visited <- cr.Visit(ts.url("/index")) }()
	<-arrived
	waited := make(chan struct{})
	go func() {
		cr.Wait()
		close(waited)
	}()
	select {
	case <-waited:
		t.Fatal("Wait returned while the crawl was still fetching /slow")
	default:
	}
	close(release)
	<-waited
	mu.Lock()
	ok := scraped
	mu.Unlock()
	if !ok {
		t.Fatal("Wait returned before the crawl had scraped /slow")
	}
	if err := <-visited; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := cr.WaitContext(ctx); err != nil {
		t.Fatalf("WaitContext with nothing running = %v", err)
	}
}

// With the default estimate an unknown site gets 2 requests a day:
// robots.txt takes the first, the seed's slot is 12 hours away. Run and
// Visit return at once, saying what waits until when, and the state keeps
// the work for the next run.
func TestHorizonEndsARunWithOnlyDeferredWork(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "/a")
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir := t.TempDir()
	st, err := state.Open(dir, state.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Contact: "mailto:me@example.org", Logger: logger, Sink: &recorder{}, State: st}
	cr := newTestCrawler(t, cfg)
	var errs []error
	var mu sync.Mutex
	cr.OnError(func(_ *colly.Response, err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	})
	if err := cr.Seed(ts.url("/index")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sum, err := cr.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Reason != "deferred" {
		t.Fatalf("Run ended with %q, want deferred", sum.Reason)
	}
	d, ok := sum.Deferred[ts.site()]
	if !ok || d.Count != 1 || d.Until.Before(time.Now().Add(time.Hour)) || !strings.Contains(d.Reason, "next slot") {
		t.Fatalf("Summary.Deferred = %+v, want the seed deferred to its slot hours away", sum.Deferred)
	}
	if got := ts.uris(); len(got) != 1 || got[0] != "/robots.txt" {
		t.Fatalf("requests %v, want robots.txt only", got)
	}
	w := logs.String()
	for _, want := range []string{"beyond the horizon", ts.site(), "--traffic", "Horizon", "default"} {
		if !strings.Contains(w, want) {
			t.Errorf("the warning does not say %q:\n%s", want, w)
		}
	}
	mu.Lock()
	var re *RefusedError
	if len(errs) != 1 || !errors.As(errs[0], &re) || re.RetryAt.IsZero() {
		t.Errorf("OnError got %v, want one refusal that says until when", errs)
	}
	mu.Unlock()

	// Visit says so too, as an error.
	var de *DeferredError
	if err := cr.Visit(ts.url("/index")); !errors.As(err, &de) || de.Sites[ts.site()].Count != 1 || !strings.Contains(err.Error(), "--traffic") {
		t.Fatalf("Visit = %v, want a *DeferredError naming the site and what to change", err)
	}

	// The next process finds the work where this one left it.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := state.Open(dir, state.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	f, _, err := st2.Frontier(state.FrontierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	left, err := f.Deferred(context.Background())
	if err != nil || left[ts.site()].Count != 1 {
		t.Fatalf("the reopened state holds %+v (%v), want the deferred seed", left, err)
	}
}

// MaxDepth counts as colly's does: the seed is at depth 1.
func TestMaxDepthCountsAsColly(t *testing.T) {
	for _, tc := range []struct {
		max  int
		want []string
	}{
		{1, []string{"/index"}},
		{2, []string{"/index", "/d2"}},
		{0, []string{"/index", "/d2", "/d3"}},
	} {
		ts := newTestSite(t)
		ts.links("/index", "/d2")
		ts.links("/d2", "/d3")
		cfg := testConfig(t, &recorder{}, ts)
		cfg.MaxDepth = tc.max
		crawl(t, cfg, ts.url("/index"))
		var got []string
		for _, u := range ts.uris() {
			if u != "/robots.txt" {
				got = append(got, u)
			}
		}
		if strings.Join(sorted(got), " ") != strings.Join(sorted(tc.want), " ") {
			t.Errorf("MaxDepth %d: requests %v, want %v", tc.max, got, tc.want)
		}
	}
}

// MaxRetries -1 turns retries off; 0 is the default, 3.
func TestMaxRetriesNegativeTurnsRetriesOff(t *testing.T) {
	for _, tc := range []struct{ max, want int }{{-1, 1}, {0, 4}} {
		ts := newTestSite(t)
		ts.links("/index", "/broken")
		ts.handle("/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) })
		cfg := testConfig(t, &recorder{}, ts)
		cfg.MaxRetries = tc.max
		cfg.RetryBase = 10 * time.Millisecond
		crawl(t, cfg, ts.url("/index"))
		if got := ts.count("/broken"); got != tc.want {
			t.Errorf("MaxRetries %d: /broken requested %d times, want %d", tc.max, got, tc.want)
		}
	}
}

// OnRequest runs once per request about to be sent, not for the hand-off
// of each link e.Request.Visit queues.
func TestOnRequestOncePerRequest(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "/a", "/b", "/a", "mailto:x@example.org")
	cr := newTestCrawler(t, testConfig(t, &recorder{}, ts))
	var reqs counter
	aborted := 0
	var mu sync.Mutex
	cr.OnRequest(func(r *colly.Request) {
		reqs.add(r.URL.Path)
		if r.IsAbort() {
			mu.Lock()
			aborted++
			mu.Unlock()
		}
	})
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	if err := cr.Visit(ts.url("/index")); err != nil {
		t.Fatal(err)
	}
	if reqs.total() != 3 || reqs.get("/index") != 1 || reqs.get("/a") != 1 || reqs.get("/b") != 1 || aborted != 0 {
		t.Fatalf("OnRequest calls %v (%d aborted), want one each for /index, /a, /b", reqs.n, aborted)
	}
}

// OnError is called once per URL, when the crawler stops trying it: a dead
// host that is retried until MaxRetries, and one whose retry lies beyond
// the horizon, which does not hold the crawl.
func TestOnErrorOncePerURL(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connection refused from now on
	du, _ := url.Parse(deadURL)
	deadSite := site.Key(du)

	for _, beyond := range []bool{false, true} {
		ts := newTestSite(t)
		ts.links("/index", deadURL+"/page", "/ok")
		cfg := testConfig(t, &recorder{}, ts)
		cfg.AllowedHosts = []string{deadSite}
		// A budget for the dead host too: with the default one, of two
		// requests a day, its robots.txt would be tried once and then
		// wait half a day for the next slot, and its page with it.
		cfg.Limiter = testLimiter(t, cfg.Sink, ts.site(), deadSite)
		cfg.RetryBase, cfg.RobotsRetry = 10*time.Millisecond, 10*time.Millisecond
		if beyond {
			cfg.RetryBase, cfg.RobotsRetry = time.Hour, time.Hour
		}
		cr := newTestCrawler(t, cfg)
		var errs counter
		cr.OnError(func(r *colly.Response, err error) { errs.add(r.Request.URL.String()) })
		cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
		cr.Seed(ts.url("/index"))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		sum, err := cr.Run(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if got := errs.get(deadURL + "/page"); got != 1 || errs.total() != 1 {
			t.Errorf("beyond horizon %v: OnError calls %v, want one for %s/page", beyond, errs.n, deadURL)
		}
		if ts.count("/ok") != 1 {
			t.Errorf("beyond horizon %v: /ok not fetched: %v", beyond, ts.uris())
		}
		switch {
		case beyond && (sum.Reason != "deferred" || sum.Deferred[deadSite].Count != 1):
			t.Errorf("a retry an hour away: Run ended %q with Deferred %+v, want the dead URL deferred", sum.Reason, sum.Deferred)
		case !beyond && sum.Reason != "done":
			t.Errorf("retries used up: Run ended %q, want done (deferred: %+v)", sum.Reason, sum.Deferred)
		}
	}
}

// e.Request.Visit passes the page's Ctx on to the link's request, as in
// colly: a copy as it was when the link was followed.
func TestCtxPassedToFollowedLinks(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "/a")
	ts.links("/a", "/b")
	cr := newTestCrawler(t, testConfig(t, &recorder{}, ts))
	var mu sync.Mutex
	parent := map[string]string{}
	cr.OnRequest(func(r *colly.Request) {
		mu.Lock()
		defer mu.Unlock()
		parent[r.URL.Path] = r.Ctx.Get("parent") + "|" + r.Ctx.Get("seed")
	})
	cr.OnResponse(func(r *colly.Response) {
		if r.Request.URL.Path == "/index" {
			r.Ctx.Put("seed", "index")
		}
	})
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) {
		e.Request.Ctx.Put("parent", e.Request.URL.Path)
		e.Request.Visit(e.Attr("href"))
	})
	if err := cr.Visit(ts.url("/index")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]string{"/index": "|", "/a": "/index|index", "/b": "/a|index"}
	for p, w := range want {
		if parent[p] != w {
			t.Errorf("%s: its request's Ctx holds %q, want %q", p, parent[p], w)
		}
	}
}

// A Visit during a crawl is a link: the scope applies, and a refusal is
// an error that names the rule. Seed is for before Run.
func TestVisitDuringRunIsALink(t *testing.T) {
	ts := newTestSite(t)
	other := newTestSite(t)
	ts.links("/index")
	rec := &recorder{}
	cr := newTestCrawler(t, testConfig(t, rec, ts, other))
	var mu sync.Mutex
	var inScope, offSite, seedErr error
	cr.OnScraped(func(r *colly.Response) {
		if r.Request.URL.Path != "/index" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		inScope = cr.Visit(ts.url("/extra"))
		offSite = cr.Visit(other.url("/x"))
		seedErr = cr.Seed(other.url("/y"))
	})
	cr.Seed(ts.url("/index"))
	if _, err := cr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if inScope != nil || ts.count("/extra") != 1 {
		t.Errorf("Visit of an in-scope URL during Run: %v, requests %v", inScope, ts.uris())
	}
	var re *RefusedError
	if !errors.As(offSite, &re) || re.Gate != "scope" || !strings.Contains(re.Reason, "not among the seeds") {
		t.Errorf("Visit of another site during Run = %v, want a scope refusal", offSite)
	}
	if seedErr == nil || len(other.uris()) != 0 {
		t.Errorf("Seed during Run = %v, other site's requests %v; want an error and none", seedErr, other.uris())
	}
}

// URLFilters, DisallowedURLFilters and DisallowedDomains apply to seeds,
// links and redirect targets, each refusal recorded with the rule.
func TestURLFiltersAndDisallowedDomains(t *testing.T) {
	ts := newTestSite(t)
	other := newTestSite(t)
	ts.links("/index", "/news/1", "/news/2", "/news/private", "/about", "/news/moved", other.url("/x"))
	ts.handle("/news/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/about", http.StatusFound) })
	rec := &recorder{}
	cfg := testConfig(t, rec, ts, other)
	cfg.URLFilters = []*regexp.Regexp{regexp.MustCompile(`/(index|news/)`)}
	cfg.DisallowedURLFilters = []*regexp.Regexp{regexp.MustCompile(`private`)}
	cfg.AllowedHosts = []string{other.site()}
	cfg.DisallowedDomains = []string{other.site()}
	cr := newTestCrawler(t, cfg)
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	if err := cr.Seed(ts.url("/about")); err == nil || !strings.Contains(err.Error(), "URLFilters") {
		t.Errorf("Seed of a filtered URL = %v, want an error naming URLFilters", err)
	}
	if err := cr.Seed(other.url("/")); err == nil || !strings.Contains(err.Error(), "DisallowedDomains") {
		t.Errorf("Seed on a disallowed domain = %v, want an error naming DisallowedDomains", err)
	}
	if err := cr.Visit(ts.url("/index")); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]int{"/index": 1, "/news/1": 1, "/news/2": 1, "/news/moved": 1, "/news/private": 0, "/about": 0} {
		if ts.count(p) != want {
			t.Errorf("%s requested %d times, want %d (requests %v)", p, ts.count(p), want, ts.uris())
		}
	}
	if len(other.uris()) != 0 {
		t.Errorf("a disallowed domain was contacted: %v", other.uris())
	}
	reasons := map[string]bool{}
	for _, e := range rec.all(audit.TypeDecision) {
		d := e.Decision
		if d.Verdict != audit.Refuse {
			continue
		}
		for _, rule := range []string{"DisallowedURLFilters", "none of the 1 URLFilters", "DisallowedDomains"} {
			if strings.Contains(d.Reason, rule) {
				reasons[d.Kind+" "+rule] = true
			}
		}
	}
	for _, want := range []string{"link DisallowedURLFilters", "link none of the 1 URLFilters", "link DisallowedDomains", "redirect none of the 1 URLFilters", "seed DisallowedDomains"} {
		if !reasons[want] {
			t.Errorf("no refused %s decision recorded; have %v", want, reasons)
		}
	}
}

// AllowURLRevisit fetches a URL again in a later crawl; within one, pages
// that link to each other are fetched once. Both goodbot frontiers.
func TestAllowURLRevisit(t *testing.T) {
	for _, durable := range []bool{false, true} {
		for _, revisit := range []bool{false, true} {
			ts := newTestSite(t)
			ts.links("/a", "/b")
			ts.links("/b", "/a", "/b")
			cfg := testConfig(t, &recorder{}, ts)
			cfg.AllowURLRevisit = revisit
			if durable {
				st, err := state.Open(t.TempDir(), state.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				cfg.State = st
			}
			cr := newTestCrawler(t, cfg)
			cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
			for range 2 {
				if err := cr.Visit(ts.url("/a")); err != nil {
					t.Fatal(err)
				}
			}
			want := 1
			if revisit {
				want = 2
			}
			if ts.count("/a") != want || ts.count("/b") != want {
				t.Errorf("durable %v, AllowURLRevisit %v: /a %d, /b %d requests; want %d each", durable, revisit, ts.count("/a"), ts.count("/b"), want)
			}
		}
	}
}

// DetectCharset is accepted and changes nothing: a GBK page reaches the
// callbacks as UTF-8 either way.
func TestDetectCharsetIsAlwaysOn(t *testing.T) {
	for _, detect := range []bool{false, true} {
		ts := newTestSite(t)
		ts.handle("/gbk", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(gbk(t, `<html><head><meta charset="gbk"><title>新闻标题</title></head><body><p>正文</p></body></html>`)))
		})
		cfg := testConfig(t, &recorder{}, ts)
		cfg.DetectCharset = detect
		cr := newTestCrawler(t, cfg)
		var mu sync.Mutex
		title := ""
		cr.OnHTML("title", func(e *colly.HTMLElement) {
			mu.Lock()
			title = e.Text
			mu.Unlock()
		})
		if err := cr.Visit(ts.url("/gbk")); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if title != "新闻标题" {
			t.Errorf("DetectCharset %v: title %q", detect, title)
		}
		mu.Unlock()
	}
}
