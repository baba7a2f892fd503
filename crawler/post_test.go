package crawler

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
)

// planted values: personal data the filter must keep out of everything
// written or handed on.
const (
	plantedMail   = "zhang.wei@example.com"
	plantedMobile = "13812345678"
)

// postLog keeps what a test site received by POST.
type postLog struct {
	mu    sync.Mutex
	forms []string // method, path and body of each request with a body
}

func (p *postLog) add(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	defer p.mu.Unlock()
	e := r.Method + " " + r.URL.Path + " " + string(b)
	p.forms = append(p.forms, e)
	return string(b)
}

func (p *postLog) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.forms...)
}

// searchSite serves a search form at / and answers POSTs to /search with a
// results page naming the query and linking to a result.
func searchSite(t *testing.T, posts *postLog) *testSite {
	ts := newTestSite(t)
	ts.robots("User-agent: *\nDisallow: /private\n")
	ts.handle("/", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<form action="/search" method="post"><input name="q"></form>`)
	})
	ts.handle("/search", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body := posts.add(r)
		q, _ := url.ParseQuery(body)
		page(w, fmt.Sprintf(`<h1 class="q">%s</h1><a href="/item/%s">result</a>`, q.Get("q"), url.PathEscape(q.Get("q"))))
	})
	return ts
}

// eventsJSON is every event the recorder holds, as JSON.
func eventsJSON(t *testing.T, rec *recorder) string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	b, err := json.Marshal(rec.events)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Crawler.Post outside a crawl posts the form through the gate, crawls
// the answer and its links before it returns, and records a POST decision
// that names the body's digest and length, never the body. robots.txt
// applies to a POST as to a GET.
func TestPostThroughTheGate(t *testing.T) {
	var posts postLog
	ts := searchSite(t, &posts)
	rec := &recorder{}
	cr := newTestCrawler(t, testConfig(t, rec, ts))
	var mu sync.Mutex
	var heads []string
	cr.OnHTML("h1.q", func(e *colly.HTMLElement) {
		mu.Lock()
		defer mu.Unlock()
		heads = append(heads, e.Request.Method+" "+e.Text)
	})
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	if err := cr.Post(ts.url("/search"), map[string]string{"q": "goodbot " + plantedMobile}); err != nil {
		t.Fatalf("Post: %v", err)
	}
	if got := posts.all(); len(got) != 1 || !strings.HasPrefix(got[0], "POST /search q=goodbot+"+plantedMobile) {
		t.Fatalf("the site received %q, want one POST of the form", got)
	}
	mu.Lock()
	if len(heads) != 1 || heads[0] != "POST goodbot [CN_MOBILE]" && !strings.HasPrefix(heads[0], "POST goodbot [") {
		t.Errorf("OnHTML saw %q, want the results page of the POST, filtered", heads)
	}
	mu.Unlock()
	if ts.count("/item/goodbot%20"+plantedMobile) != 0 {
		t.Error("a link carrying personal data was followed")
	}
	var post *audit.Decision
	for _, e := range rec.all(audit.TypeDecision) {
		if d := e.Decision; d.Method == http.MethodPost && d.Verdict == audit.Allow {
			post = d
		}
	}
	if post == nil {
		t.Fatal("no allowing decision with Method POST")
	}
	var gates []string
	for _, c := range post.Checks {
		gates = append(gates, c.Gate)
	}
	if got := strings.Join(gates, ","); got != "stoplist,scope,signal,robots,limiter,body" && got != "body,stoplist,scope,signal,robots,limiter" {
		t.Errorf("POST decision checks %s, want the GET's checks and the body", got)
	}
	if !strings.Contains(eventsJSON(t, rec), "request body of 21 bytes, sha256 ") {
		t.Error("the log does not name the body's length and digest")
	}
	for _, v := range []string{plantedMobile, "goodbot+1381"} {
		if strings.Contains(eventsJSON(t, rec), v) {
			t.Errorf("the operation log holds the POST body (%q)", v)
		}
	}
	// robots.txt disallows /private for a POST too.
	err := cr.Post(ts.url("/private/search"), map[string]string{"q": "x"})
	var re *RefusedError
	if !errors.As(err, &re) || re.Gate != "robots" {
		t.Errorf("Post to a disallowed path = %v, want a robots refusal", err)
	}
	if ts.count("/private/search") != 0 {
		t.Error("a POST disallowed by robots.txt was sent")
	}
}

// A form posted from a callback is queued and sent as a POST (colly's
// e.Request.Post); two different forms to one URL are two requests, the
// same form twice is one; the page's Ctx goes with it; OnRequest sees the
// body as the filter leaves it.
func TestPostFromCallback(t *testing.T) {
	var posts postLog
	ts := searchSite(t, &posts)
	cr := newTestCrawler(t, testConfig(t, &recorder{}, ts))
	var mu sync.Mutex
	var results, bodies []string
	cr.OnRequest(func(r *colly.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			bodies = append(bodies, string(b))
			mu.Unlock()
		}
	})
	cr.OnHTML("form", func(e *colly.HTMLElement) {
		e.Request.Ctx.Put("from", "form page")
		for _, q := range []string{"alpha", "beta", "alpha", plantedMail} {
			e.Request.Post(e.Attr("action"), map[string]string{"q": q})
		}
	})
	cr.OnHTML("h1.q", func(e *colly.HTMLElement) {
		mu.Lock()
		defer mu.Unlock()
		results = append(results, e.Text+" via "+e.Request.Ctx.Get("from"))
	})
	if err := cr.Visit(ts.url("/")); err != nil {
		t.Fatal(err)
	}
	if n := len(posts.all()); n != 3 {
		t.Errorf("the site received %d POSTs (%q), want 3: alpha, beta and the mail", n, posts.all())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(results) != 3 || !strings.Contains(strings.Join(results, "|"), "alpha via form page") {
		t.Errorf("results %q, want three, with the page's Ctx", results)
	}
	for _, s := range append(results, bodies...) {
		if strings.Contains(s, plantedMail) || strings.Contains(s, url.QueryEscape(plantedMail)) {
			t.Errorf("a callback saw the planted address: %q", s)
		}
	}
	if len(bodies) != 3 {
		t.Errorf("OnRequest saw %d POST bodies, want 3", len(bodies))
	}
}

// A POST that looks like a login is refused by design, naming the rule,
// whether the program posts it or a callback does; so are PUT, PATCH and
// DELETE, and headers Request cannot keep.
func TestLoginPostsRefused(t *testing.T) {
	var posts postLog
	ts := searchSite(t, &posts)
	ts.handle("/login", func(w http.ResponseWriter, r *http.Request) { posts.add(r); page(w, "welcome") })
	rec := &recorder{}
	cr := newTestCrawler(t, testConfig(t, rec, ts))
	cases := []struct {
		name string
		do   func() error
		gate string
	}{
		{"password field", func() error {
			return cr.Post(ts.url("/search"), map[string]string{"user": "a", "password": "b"})
		}, "login"},
		{"pwd field", func() error { return cr.Post(ts.url("/search"), map[string]string{"u": "a", "pwd": "b"}) }, "login"},
		{"login path", func() error { return cr.Post(ts.url("/login"), map[string]string{"q": "x"}) }, "login"},
		{"oauth token", func() error { return cr.PostRaw(ts.url("/oauth/token"), []byte("grant_type=client_credentials")) }, "login"},
		{"json 密码", func() error {
			return cr.Request("POST", ts.url("/search"), strings.NewReader(`{"user":{"name":"a","密码":"b"}}`), nil, http.Header{"Content-Type": {"application/json"}})
		}, "login"},
		{"multipart passwd", func() error {
			return cr.PostMultipart(ts.url("/search"), map[string][]byte{"name": []byte("a"), "passwd": []byte("b")})
		}, "login"},
		{"DELETE", func() error { return cr.Request("DELETE", ts.url("/search"), nil, nil, nil) }, "method"},
	}
	for _, c := range cases {
		err := c.do()
		var re *RefusedError
		if !errors.As(err, &re) || re.Gate != c.gate {
			t.Errorf("%s: %v, want a %s refusal", c.name, err, c.gate)
			continue
		}
		if c.gate == "login" && !strings.Contains(err.Error(), "goodbot does not log in") {
			t.Errorf("%s: %v does not name the rule", c.name, err)
		}
	}
	if err := cr.Request("POST", ts.url("/search"), nil, nil, http.Header{"Cookie": {"s=1"}}); err == nil || !strings.Contains(err.Error(), "Cookie") {
		t.Errorf("Request with a Cookie header = %v, want an error naming it", err)
	}
	// From a callback, the refusal reaches OnError.
	cr2 := newTestCrawler(t, testConfig(t, rec, ts))
	var errs []error
	var mu sync.Mutex
	cr2.OnError(func(_ *colly.Response, err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	})
	cr2.OnHTML("form", func(e *colly.HTMLElement) {
		e.Request.Post("/search", map[string]string{"login": "a", "password": plantedMail})
	})
	if err := cr2.Visit(ts.url("/")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var re *RefusedError
	if len(errs) != 1 || !errors.As(errs[0], &re) || re.Gate != "login" {
		t.Errorf("OnError got %v, want one login refusal", errs)
	}
	if got := posts.all(); len(got) != 0 {
		t.Errorf("the site received %q, want nothing", got)
	}
	if strings.Contains(eventsJSON(t, rec), plantedMail) {
		t.Error("the log holds the refused body")
	}
	var refused int
	for _, e := range rec.all(audit.TypeDecision) {
		if d := e.Decision; d.Verdict == audit.Refuse && strings.HasPrefix(d.Reason, "login: ") && d.Method == http.MethodPost {
			refused++
		}
	}
	if refused < len(cases)-1 {
		t.Errorf("%d login refusals recorded with Method POST, want %d", refused, len(cases)-1)
	}
}

// Clone shares the gate, the frontier and the log: a list crawler and the
// detail crawler it clones fetch robots.txt once, keep one log, and each
// response goes to the callbacks of the crawler that asked for it.
func TestCloneSharesGateAndFrontier(t *testing.T) {
	ts := newTestSite(t)
	ts.robots("User-agent: *\nAllow: /\n")
	ts.links("/list", "/detail/1", "/detail/2", "/list2")
	ts.links("/list2", "/detail/3", "/detail/1")
	rec := &recorder{}
	list := newTestCrawler(t, testConfig(t, rec, ts))
	detail := list.Clone()
	var listSeen, detailSeen counter
	list.OnHTML("a[href]", func(e *colly.HTMLElement) {
		href := e.Request.AbsoluteURL(e.Attr("href"))
		if strings.Contains(href, "/detail/") {
			detail.Visit(href)
			return
		}
		e.Request.Visit(href)
	})
	list.OnResponse(func(r *colly.Response) { listSeen.add(r.Request.URL.Path) })
	detail.OnResponse(func(r *colly.Response) { detailSeen.add(r.Request.URL.Path) })
	if err := list.Visit(ts.url("/list")); err != nil {
		t.Fatal(err)
	}
	if listSeen.total() != 2 || listSeen.get("/list") != 1 || listSeen.get("/list2") != 1 {
		t.Errorf("list callbacks saw %v", listSeen.n)
	}
	if detailSeen.total() != 3 {
		t.Errorf("detail callbacks saw %v, want the three detail pages once each", detailSeen.n)
	}
	if ts.count("/robots.txt") != 1 || len(rec.all(audit.TypeRobots)) != 1 {
		t.Errorf("robots.txt fetched %d times, %d robots events; want 1 and 1", ts.count("/robots.txt"), len(rec.all(audit.TypeRobots)))
	}
	if n := len(rec.all(audit.TypeRun)); n != 1 {
		t.Errorf("%d runs in the log, want one crawl driving both", n)
	}
}

// With CacheDir, a second crawl sends nothing to the site: each answer
// comes from the cache, recorded as a decision; its callbacks see the
// same filtered data, and no cache file holds a planted value.
func TestCacheDirServesFilteredAnswers(t *testing.T) {
	var posts postLog
	ts := searchSite(t, &posts)
	ts.handle("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Contact", plantedMail)
		page(w, `Call `+plantedMobile+` or write to `+plantedMail+` <a href="/next">next</a>`)
	})
	ts.handle("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/", http.StatusMovedPermanently) })
	dir := t.TempDir()
	run := func() (string, *recorder, Summary) {
		rec := &recorder{}
		cfg := testConfig(t, rec, ts)
		cfg.CacheDir = dir
		cr := newTestCrawler(t, cfg)
		var b syncBuffer
		cr.OnResponse(func(r *colly.Response) {
			fmt.Fprintf(&b, "%s %s %d %s %s\n", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Headers.Get("X-Contact"), r.Body)
		})
		cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
		if err := cr.Visit(ts.url("/old")); err != nil {
			t.Fatal(err)
		}
		if err := cr.Post(ts.url("/search"), map[string]string{"q": "cached"}); err != nil {
			t.Fatal(err)
		}
		return b.String(), rec, cr.Summary()
	}
	first, _, sum1 := run()
	sent := len(ts.uris())
	if sum1.Cached != 0 || sent == 0 {
		t.Fatalf("first crawl: %d cached, %d sent", sum1.Cached, sent)
	}
	second, rec, sum2 := run()
	if n := len(ts.uris()); n != sent {
		t.Errorf("the second crawl sent %d requests (%v), want none", n-sent, ts.uris()[sent:])
	}
	if first != second {
		t.Errorf("the callbacks saw\n%s\nthe first time and\n%s\nthe second", first, second)
	}
	if strings.Count(second, "\n") != 4 || !strings.Contains(second, "POST /search") {
		t.Errorf("callbacks saw %q, want /, /next, the POST and its result link", second)
	}
	// The redirect, /, /next, the POST and /item/cached.
	if sum2.Cached != 5 || sum2.Sent != 0 {
		t.Errorf("second crawl: %d cached, %d sent; want 5 and 0", sum2.Cached, sum2.Sent)
	}
	var hits int
	for _, e := range rec.all(audit.TypeDecision) {
		if e.Decision.Reason == "cache: served from the development cache" {
			hits++
		}
	}
	if hits != 5 {
		t.Errorf("%d cache decisions in the log, want 5", hits)
	}
	for _, s := range []string{first, second} {
		if strings.Contains(s, plantedMail) || strings.Contains(s, plantedMobile) {
			t.Errorf("a callback saw a planted value: %s", s)
		}
	}
	files := 0
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		files++
		b, _ := os.ReadFile(p)
		for _, v := range []string{plantedMail, plantedMobile, "zhang.wei"} {
			if strings.Contains(string(b), v) {
				t.Errorf("cache file %s holds %q", p, v)
			}
		}
		return nil
	})
	if files != 5 {
		t.Errorf("%d cache files, want 5", files)
	}
}

// A request a callback builds with e.Request.New and sends with Do goes
// through the frontier as any other; Do or Retry of the page's own request
// is handed to the frontier too, which has seen it, so nothing is sent
// twice and OnRequest fires once per request sent.
func TestRequestDoFromCallback(t *testing.T) {
	var posts postLog
	ts := searchSite(t, &posts)
	cr := newTestCrawler(t, testConfig(t, &recorder{}, ts))
	var onReq counter
	cr.OnRequest(func(r *colly.Request) { onReq.add(r.Method + " " + r.URL.Path) })
	cr.OnResponse(func(r *colly.Response) {
		if r.Request.URL.Path != "/" {
			return
		}
		r.Request.Retry()
		r.Request.Do()
		req, err := r.Request.New("POST", ts.url("/search"), strings.NewReader("q=built"))
		if err != nil {
			t.Error(err)
			return
		}
		req.Do()
	})
	if err := cr.Visit(ts.url("/")); err != nil {
		t.Fatal(err)
	}
	if got := posts.all(); len(got) != 1 || got[0] != "POST /search q=built" {
		t.Errorf("the site received %q, want the built POST", got)
	}
	if ts.count("/") != 1 || onReq.get("GET /") != 1 || onReq.get("POST /search") != 1 {
		t.Errorf("/ requested %d times; OnRequest %v", ts.count("/"), onReq.n)
	}
}
