package crawler

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/output"
	"github.com/goodbot/goodbot/limiter"
)

func TestContactRequired(t *testing.T) {
	for _, c := range []string{"", "me@example.org", "ftp://x", "mailto:", "mailto:not an address", "http://", "https://x.example/(a)"} {
		if _, err := New(Config{Contact: c}); err == nil {
			t.Errorf("New with contact %q succeeded; want an error", c)
		}
	}
	ua, from, err := ParseContact("mailto:me@example.org")
	if err != nil || ua != "goodbot/"+Version+" (+mailto:me@example.org)" || from != "me@example.org" {
		t.Fatalf("ParseContact = %q, %q, %v", ua, from, err)
	}
	ua, from, err = ParseContact("https://example.org/bot")
	if err != nil || ua != "goodbot/"+Version+" (+https://example.org/bot)" || from != "" {
		t.Fatalf("ParseContact = %q, %q, %v", ua, from, err)
	}
}

func TestHonestIdentity(t *testing.T) {
	ts := newTestSite(t)
	ts.robots("User-agent: *\nAllow: /\n")
	ts.links("/index", "/a", "/b")
	ts.handle("/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b?from=a", http.StatusFound) })
	cfg := testConfig(t, &recorder{}, ts)
	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	// A callback that tries to disguise the crawler changes nothing.
	cr.OnRequest(func(r *colly.Request) {
		r.Headers.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0)")
		r.Headers.Set("X-Forwarded-For", "203.0.113.9")
	})
	cr.Seed(ts.url("/index"))
	if _, err := cr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "goodbot/" + Version + " (+mailto:me@example.org)"
	reqs := ts.seen()
	if len(reqs) < 5 {
		t.Fatalf("only %d requests: %v", len(reqs), ts.uris())
	}
	for _, r := range reqs {
		if r.UA != want || r.From != "me@example.org" {
			t.Errorf("%s sent with User-Agent %q From %q; want %q and me@example.org", r.URI, r.UA, r.From, want)
		}
		if r.Hdr.Get("X-Forwarded-For") != "" || r.Hdr.Get(hdrItem) != "" {
			t.Errorf("%s carried a forged or internal header: %v", r.URI, r.Hdr)
		}
	}
}

func TestRefusalsAreNotRetried(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "/401", "/403", "/407", "/404")
	for _, code := range []int{401, 403, 407, 404} {
		ts.handle("/"+strconv.Itoa(code), func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no", code)
		})
	}
	_, sum := crawl(t, testConfig(t, &recorder{}, ts), ts.url("/index"))
	for _, p := range []string{"/401", "/403", "/407", "/404"} {
		if n := ts.count(p); n != 1 {
			t.Errorf("%s requested %d times, want exactly once", p, n)
		}
	}
	if sum.RefusedBy != 3 {
		t.Errorf("summary counts %d refusals, want 3", sum.RefusedBy)
	}
}

func TestRepeatedRefusalsStopTheSite(t *testing.T) {
	ts := newTestSite(t)
	var links []string
	for i := range 20 {
		links = append(links, "/f"+strconv.Itoa(i+1))
	}
	ts.links("/index", links...)
	for _, l := range links {
		ts.handle(l, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "forbidden", 403) })
	}
	cfg := testConfig(t, &recorder{}, ts)
	cfg.Parallel = 1
	_, sum := crawl(t, cfg, ts.url("/index"))
	if n := len(ts.uris()); n > 2+refusalsToStop {
		t.Fatalf("%d requests; the site should be stopped after %d refusals in a row", n, refusalsToStop)
	}
	if _, ok := sum.Stopped[ts.site()]; !ok {
		t.Fatalf("summary does not list the site as stopped: %v", sum.Stopped)
	}
}

func TestRetryAfterHoldsTheSite(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "/busy", "/a", "/b", "/c")
	var first time.Time
	calls := 0
	ts.handle("/busy", func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		page(w, "finally")
	})
	cfg := testConfig(t, &recorder{}, ts)
	cfg.Parallel = 1
	crawl(t, cfg, ts.url("/index"))
	if calls != 2 {
		t.Fatalf("/busy requested %d times, want 2 (the 429, then the retry)", calls)
	}
	for _, r := range ts.seen() {
		// The 429 itself is at first; anything after it and inside the
		// Retry-After second violates the hold. 50 ms allows for the
		// clocks of the handler and the server's log.
		if r.At.After(first.Add(50*time.Millisecond)) && r.At.Before(first.Add(time.Second-50*time.Millisecond)) {
			t.Errorf("%s arrived %s after a 429 with Retry-After: 1", r.URI, r.At.Sub(first))
		}
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	if d := parseRetryAfter("Mon, 23 Nov 2026 12:00:30 GMT", now); d != 30*time.Second {
		t.Fatalf("HTTP-date Retry-After = %s, want 30s", d)
	}
	if d := parseRetryAfter("120", now); d != 2*time.Minute {
		t.Fatalf("seconds Retry-After = %s", d)
	}
	for _, bad := range []string{"", "soon", "-5", "Mon, 23 Nov 2026 11:00:00 GMT"} {
		if d := parseRetryAfter(bad, now); d != 0 {
			t.Errorf("parseRetryAfter(%q) = %s, want 0", bad, d)
		}
	}
}

func TestServerErrorsRetriedBounded(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "/flaky", "/broken")
	n := 0
	ts.handle("/flaky", func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			http.Error(w, "oops", 500)
			return
		}
		page(w, "ok now")
	})
	ts.handle("/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 502) })
	cfg := testConfig(t, &recorder{}, ts)
	cfg.MaxRetries = 2
	crawl(t, cfg, ts.url("/index"))
	if got := ts.count("/flaky"); got != 2 {
		t.Errorf("/flaky requested %d times, want 2", got)
	}
	if got := ts.count("/broken"); got != 3 {
		t.Errorf("/broken requested %d times, want 3 (1 + 2 retries)", got)
	}
}

func TestChallengeStopsTheSite(t *testing.T) {
	for name, body := range map[string]string{
		"recaptcha":  `<html><head><title>Check</title><script src="https://www.google.com/recaptcha/api.js"></script></head><body><div class="g-recaptcha"></div></body></html>`,
		"cloudflare": `<html><head><title>Just a moment...</title></head><body><script>window._cf_chl_opt={}</script></body></html>`,
		"geetest":    `<html><head><title>安全</title><script>initGeetest({})</script></head><body></body></html>`,
		"chinese":    `<html><head><title>请输入验证码</title></head><body><form><input name="code"></form></body></html>`,
		"slider":     `<html><head><title>访问验证</title></head><body><p>请完成滑动验证</p><form><input type="hidden"></form></body></html>`,
	} {
		t.Run(name, func(t *testing.T) {
			ts := newTestSite(t)
			ts.links("/index", "/wall", "/a", "/b", "/c")
			ts.handle("/wall", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(403)
				w.Write([]byte(body))
			})
			cfg := testConfig(t, &recorder{}, ts)
			cfg.Parallel = 1
			_, sum := crawl(t, cfg, ts.url("/index"))
			if sum.Challenges != 1 {
				t.Fatalf("challenges = %d, want 1", sum.Challenges)
			}
			// /index then /wall; nothing after the challenge.
			uris := ts.uris()
			last := uris[len(uris)-1]
			if last != "/wall" {
				t.Fatalf("requests after the challenge page: %v", uris)
			}
		})
	}
}

func TestChallengeWordsInTextDoNotStop(t *testing.T) {
	kind, _ := pageSignal([]byte(`<html><head><title>新闻</title></head><body><p>` + strings.Repeat("一篇关于验证码技术的文章。", 100) + `</p></body></html>`))
	if kind != "" {
		t.Fatalf("an article about CAPTCHAs was classified %q", kind)
	}
	kind, _ = pageSignal([]byte(`<html><head><title>警惕冒充客服索要验证码的诈骗</title></head><body><p>` + strings.Repeat("近日多地警方提醒市民注意防范电信诈骗。", 60) + `</p></body></html>`))
	if kind != "" {
		t.Fatalf("a news article with 验证码 in its title was classified %q", kind)
	}
	if kind, _ = pageSignal([]byte(`<html><head><title>安全验证</title></head><body><p>请完成验证后继续访问</p></body></html>`)); kind != "challenge" {
		t.Fatalf("a short verification page was classified %q", kind)
	}
	kind, _ = pageSignal([]byte(`<html><head><title>Forum</title></head><body>` + strings.Repeat("<p>Long discussion text here.</p>", 100) + `<form><input type="password" name="pw"></form></body></html>`))
	if kind != "" {
		t.Fatalf("a content page with a sidebar login box was classified %q", kind)
	}
}

func TestLoginWalls(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "/members/a", "/members/b", "/open")
	ts.handle("/members/a", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login?next=/members/a", http.StatusFound)
	})
	ts.handle("/members/b", func(w http.ResponseWriter, r *http.Request) { page(w, "should not be asked for") })
	ts.links("/open", "/docs/p1", "/docs/p2")
	ts.handle("/docs/p1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<html><head><title>Sign in</title></head><body><form><input type="password"></form></body></html>`))
	})
	cfg := testConfig(t, &recorder{}, ts)
	cfg.Parallel = 1
	_, sum := crawl(t, cfg, ts.url("/index"))
	if ts.count("/login?next=/members/a") != 0 {
		t.Error("the login page itself was requested")
	}
	// With requests decided ahead, /members/b may leave before
	// /members/a: then the wall was not known yet. After it, never.
	if uris := ts.uris(); ts.count("/members/b") != 0 && indexOf(uris, "/members/b") > indexOf(uris, "/members/a") {
		t.Error("/members/b was requested after /members/a redirected to a login page", uris)
	}
	if ts.count("/open") != 1 {
		t.Error("/open, outside the walled prefix, was not requested")
	}
	if ts.count("/docs/p2") != 0 && ts.count("/docs/p1") == 1 && indexOf(ts.uris(), "/docs/p2") > indexOf(ts.uris(), "/docs/p1") {
		t.Error("/docs/p2 was requested after /docs/p1 showed a password form")
	}
	if sum.Logins < 2 {
		t.Errorf("summary counts %d login walls, want 2", sum.Logins)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestScopeAndLimits(t *testing.T) {
	other := newTestSite(t)
	ts := newTestSite(t)
	ts.links("/index", "/d1", other.url("/x"), "mailto:a@b.c", "javascript:void(0)")
	ts.links("/d1", "/d2")
	ts.links("/d2", "/d3")
	rec := &recorder{}
	cfg := testConfig(t, rec, ts, other)
	cfg.MaxDepth = 3 // as colly counts: /index is 1, /d1 2, /d2 3
	crawl(t, cfg, ts.url("/index"))
	if len(other.uris()) != 0 {
		t.Errorf("a link to another site was followed: %v", other.uris())
	}
	if ts.count("/d2") != 1 || ts.count("/d3") != 0 {
		t.Errorf("MaxDepth 3: requests %v", ts.uris())
	}
	refusedLink := false
	for _, e := range rec.all(audit.TypeDecision) {
		if e.Decision.Kind == "link" && strings.Contains(e.Decision.Reason, "not among the seeds") {
			refusedLink = true
		}
	}
	if !refusedLink {
		t.Error("the out-of-scope link was not recorded as a refused decision")
	}

	// Allowed hosts open another site; MaxPages bounds the crawl.
	ts2 := newTestSite(t)
	var links []string
	for i := range 30 {
		links = append(links, "/m"+strconv.Itoa(i+1))
	}
	ts2.links("/index", append(links, other.url("/y"))...)
	cfg = testConfig(t, &recorder{}, ts2, other)
	cfg.AllowedHosts = []string{other.site()}
	cfg.MaxPages = 5
	_, sum := crawl(t, cfg, ts2.url("/index"))
	pages := 0
	for _, u := range append(ts2.uris(), other.uris()...) {
		if u != "/robots.txt" {
			pages++
		}
	}
	if pages != 5 {
		t.Errorf("MaxPages 5: %d pages requested (%v %v)", pages, ts2.uris(), other.uris())
	}
	if sum.Sent > 7 {
		t.Errorf("sent %d requests for 5 pages and 2 robots.txt", sum.Sent)
	}
}

func TestNoPublicToPrivateHops(t *testing.T) {
	private := newTestSite(t) // 127.0.0.1: non-public
	// The public site listens on 127.0.0.2, which this test treats as public.
	pub := newTestSiteOn(t, "127.0.0.2:0")
	pub.links("/index", private.url("/secret"))
	pub.handle("/go", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, private.url("/secret2"), http.StatusFound)
	})
	pubURL := pub.url("")
	cfg := testConfig(t, &recorder{}, private, pub)
	cfg.AllowedHosts = []string{private.site()}
	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// In this test 127.0.0.2 stands for a public address.
	cr.gate.addrs.public = func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.2") }
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	cr.Seed(pubURL + "/index")
	cr.Seed(pubURL + "/go")
	if _, err := cr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if pub.count("/index") != 1 || pub.count("/go") != 1 {
		t.Fatalf("the public seeds were not crawled: %v", pub.uris())
	}
	if got := private.uris(); len(got) != 0 {
		t.Fatalf("a public page led the crawler into a private address: %v", got)
	}
}

func TestOutputAndBodyLimits(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "/article", "/huge", "/bomb")
	ts.handle("/article", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<html><head><title>Hello  world</title><style>.x{}</style></head><body><h1>Head</h1><script>var a=1</script><p>Body text.</p></body></html>`))
	})
	ts.handle("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write(bytes.Repeat([]byte("a"), 2<<20))
	})
	ts.handle("/bomb", func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(bytes.Repeat([]byte("<p>x</p>"), 1<<19)) // 4 MiB unpacked, 8 KiB packed
		zw.Close()
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(b.Bytes())
	})
	out := t.TempDir()
	cfg := testConfig(t, &recorder{}, ts)
	cfg.OutDir = out
	cfg.MaxBodySize = 1 << 20
	var mu sync.Mutex // OnError runs in several workers at once
	var errs []error
	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	cr.OnError(func(r *colly.Response, err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	})
	cr.Seed(ts.url("/index"))
	sum, err := cr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var recs []output.Record
	output.ReadSite(context.Background(), out, ts.site(), func(r output.Record) error {
		recs = append(recs, r)
		return nil
	})
	if len(recs) != 2 || sum.Pages != 2 {
		t.Fatalf("stored %d records (summary %d), want 2 (index and article): %+v", len(recs), sum.Pages, recs)
	}
	var art output.Record
	for _, r := range recs {
		if strings.HasSuffix(r.URL, "/article") {
			art = r
		}
	}
	if art.Title != "Hello world" || art.Text != "Head Body text." || art.Status != 200 || !strings.Contains(art.HTML, "<h1>Head</h1>") {
		t.Fatalf("article record = %+v", art)
	}
	tooLarge := 0
	for _, e := range errs {
		var se *StoppedError
		if errors.As(e, &se) && se.Class == "too-large" {
			tooLarge++
		}
	}
	if tooLarge != 2 {
		t.Fatalf("got %d too-large errors (%v), want 2 (/huge and the gzip bomb)", tooLarge, errs)
	}
}

func TestRelaxationIgnoreRobots(t *testing.T) {
	ts := newTestSite(t)
	ts.robots("User-agent: *\nDisallow: /\n")
	cfg := testConfig(t, &recorder{}, ts)
	cfg.Relaxations = []Relaxation{{Kind: IgnoreRobots, Site: ts.site()}}
	if _, err := New(cfg); err == nil {
		t.Fatal("a relaxation without a justification was accepted")
	}
	rec := &recorder{}
	cfg = testConfig(t, rec, ts)
	cfg.Relaxations = []Relaxation{{Kind: IgnoreRobots, Site: ts.site(), Justification: "written permission from ops@example.org, ref 42"}}
	crawl(t, cfg, ts.url("/index"))
	if ts.count("/index") != 1 {
		t.Fatalf("relaxed site not crawled: %v", ts.uris())
	}
	cfgs := rec.all(audit.TypeConfig)
	if len(cfgs) != 1 || len(cfgs[0].Config.Relaxations) != 1 || !strings.Contains(cfgs[0].Config.Relaxations[0], "ref 42") {
		t.Fatalf("the relaxation was not recorded with its justification: %+v", cfgs)
	}
	for _, e := range rec.all(audit.TypeDecision) {
		if e.Decision.Verdict == audit.Allow && e.Decision.Kind == "page" {
			if !strings.Contains(e.Decision.Checks[3].Reason, "ref 42") {
				t.Fatalf("decision does not name the relaxation: %+v", e.Decision.Checks)
			}
		}
	}
}

func TestEveryRequestHasADecisionFirst(t *testing.T) {
	ts := newTestSite(t)
	ts.robots("User-agent: *\nDisallow: /no\n")
	ts.links("/index", "/a", "/no", "/r")
	ts.handle("/r", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/a2", http.StatusFound) })
	rec := &recorder{}
	crawl(t, testConfig(t, rec, ts), ts.url("/index"))
	allowed := map[string]int{}
	fetched := map[string]int{}
	for _, e := range rec.all(audit.TypeDecision) {
		if e.Decision.Verdict == audit.Allow {
			allowed[e.Decision.URL]++
		}
	}
	for _, e := range rec.all(audit.TypeFetch) {
		fetched[e.Fetch.URL]++
		if e.Fetch.UserAgent == "" || e.Fetch.BodySHA256 == "" {
			t.Errorf("fetch event without user agent or digest: %+v", e.Fetch)
		}
	}
	// Every request the site saw has an allow decision and a fetch event,
	// robots.txt included.
	for _, r := range ts.seen() {
		u := ts.url(r.URI)
		if allowed[u] == 0 || fetched[u] == 0 {
			t.Errorf("%s: %d allow decisions, %d fetch events", u, allowed[u], fetched[u])
		}
	}
	if len(rec.all(audit.TypeRobots)) != 1 {
		t.Errorf("want one robots event")
	}
}

func TestTimeoutsRetriedBounded(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "/slow")
	n := 0
	ts.handle("/slow", func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
			return
		}
		page(w, "fast now")
	})
	rec := &recorder{}
	cfg := testConfig(t, rec, ts)
	cfg.Timeout = 300 * time.Millisecond
	crawl(t, cfg, ts.url("/index"))
	if got := ts.count("/slow"); got != 2 {
		t.Fatalf("/slow requested %d times, want 2 (a timeout, then a retry)", got)
	}
	classes := map[string]int{}
	for _, e := range rec.all(audit.TypeFetch) {
		if strings.HasSuffix(e.Fetch.URL, "/slow") {
			classes[e.Fetch.Class]++
		}
	}
	if classes["network"] != 1 || classes["ok"] != 1 {
		t.Fatalf("fetch classes for /slow: %v, want one network error and one ok", classes)
	}
}

// A slot further away than MaxWait sends the URL back to the frontier
// until then, without counting an attempt, and the worker moves on.
func TestLongWaitsDeferInsteadOfBlocking(t *testing.T) {
	slow := newTestSite(t)
	fast := newTestSite(t)
	slow.links("/index", "/s1", "/s2")
	fast.links("/index", "/f1", "/f2", "/f3")
	rec := &recorder{}
	cfg := testConfig(t, rec, fast)
	// slow.example: 1.5 s between requests (5,760 a day at share 0.1).
	e, _ := limiter.ParseTraffic(slow.site() + "=576000")
	e2, _ := limiter.ParseTraffic(fast.site() + "=864000000")
	est, _ := limiter.NewEstimates(e, e2)
	cfg.Limiter, _ = limiter.NewLocal(limiter.Config{Estimates: est})
	cfg.MaxWait = 200 * time.Millisecond
	cfg.MaxRetries = 1 // budget deferrals must not use it up
	cfg.Parallel = 1
	crawl(t, cfg, slow.url("/index"), fast.url("/index"))
	for _, p := range []string{"/index", "/s1", "/s2"} {
		if slow.count(p) != 1 {
			t.Errorf("slow site: %s requested %d times; requests %v", p, slow.count(p), slow.uris())
		}
	}
	if len(fast.uris()) != 5 {
		t.Errorf("fast site: requests %v", fast.uris())
	}
	deferred := 0
	for _, e := range rec.all(audit.TypeDecision) {
		if e.Decision.Verdict == audit.Defer && strings.Contains(e.Decision.Reason, "next slot") {
			deferred++
		}
	}
	if deferred == 0 {
		t.Error("no request was deferred to its slot")
	}
	// The fast site did not wait behind the slow one.
	fastDone := fast.seen()[len(fast.seen())-1].At
	slowDone := slow.seen()[len(slow.seen())-1].At
	if !fastDone.Before(slowDone) {
		t.Errorf("the fast site finished at %s, after the slow one (%s)", fastDone, slowDone)
	}
}
