// Package crawler is goodbot's crawler: colly with the rules built in.
//
// A Crawler wraps a colly.Collector. Register the usual colly callbacks on it
// (OnHTML, OnResponse, ...), give it seeds with Visit, and Run it. Every
// request it sends, whoever starts it (a page, a redirect hop, robots.txt, a
// retry), passes one gate that checks, in order, the stop list, the scope,
// the refusals the site has shown (challenge pages, login walls), robots.txt
// (RFC 9309) and the per-site limiter; records its decision durably; and then
// sends it with goodbot's honest User-Agent. The answer is classified: 401,
// 403 and 407 are not retried, 429 and 503 hold the site, challenge pages
// stop it, login walls stop their path prefix.
//
// The gate's checks run before the user's callbacks, and the personal-data
// filter (Config.Filter) runs on each response before any user callback
// sees it. Links the user follows with e.Request.Visit go through the
// crawler's frontier, which deduplicates them, applies the scope and the
// page limit, and shares the work fairly between sites.
package crawler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/crawler/output"
	"github.com/goodbot/goodbot/crawler/robots"
	"github.com/goodbot/goodbot/crawler/state"
	"github.com/goodbot/goodbot/internal/site"
	"github.com/goodbot/goodbot/limiter"
	"github.com/goodbot/goodbot/pii"
)

// ctxFrom is the colly.Context key through which a page tells the links
// found on it which site they came from.
const ctxFrom = "goodbot.from"

// Crawler is a colly collector whose every request passes goodbot's gate.
// Create one with New.
type Crawler struct {
	cfg    Config
	c      *colly.Collector
	gate   *gate
	front  frontier.Frontier
	store  *output.Store
	limits *siteLimits // nil without per-site limits
	runCtx context.Context

	mu      sync.RWMutex
	seeds   map[string]bool // sites of the seeds
	allowed map[string]bool // Config.AllowedHosts
	notes   map[string]bool // sites whose estimate was announced

	outage  atomic.Bool // the frontier is failing to answer
	runMu   sync.Mutex
	running bool
	bg      *sync.WaitGroup // background work of Run (sitemap counts)

	log    *audit.Log // the operation log New opened, closed by Run; nil for a Config.Sink
	logDir string     // the operation log's directory, when known
}

// New returns a Crawler for cfg. It fails when cfg is not valid, e.g. when
// Contact is missing, or when it cannot open the operation log. Without a
// Config.Sink it opens its own log (see Config.AuditDir), which Run, or
// Close, closes.
func New(cfg Config) (*Crawler, error) {
	cfg.AllowedHosts = append([]string(nil), cfg.AllowedHosts...)
	cfg.Relaxations = append([]Relaxation(nil), cfg.Relaxations...)
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	own, dir, err := cfg.openLog()
	if err != nil {
		return nil, err
	}
	cr, err := newCrawler(cfg, dir)
	if err != nil {
		if own != nil {
			own.Close()
		}
		return nil, err
	}
	cr.log, cr.logDir = own, dir
	return cr, nil
}

// newCrawler builds a Crawler for a valid cfg with its Sink set; logDir is
// the directory of the operation log it records to, if known.
func newCrawler(cfg Config, logDir string) (*Crawler, error) {
	ua, from, _ := ParseContact(cfg.Contact)
	if cfg.Filter == nil {
		f, err := pii.New(pii.Config{})
		if err != nil {
			return nil, fmt.Errorf("crawler: %w", err)
		}
		cfg.Filter = PIIFilter(f)
	}
	// Everything any part of the crawl records passes the filter first.
	cfg.Sink = newScrubSink(cfg.Sink, cfg.Filter)
	if cfg.Limiter == nil {
		est, err := limiter.NewEstimates()
		if err != nil {
			return nil, err
		}
		lcfg := limiter.Config{Estimates: est, Sink: cfg.Sink, Logger: cfg.Logger}
		var l *limiter.Local
		if cfg.State != nil {
			l, err = cfg.State.Limiter(lcfg)
		} else {
			l, err = limiter.NewLocal(lcfg)
		}
		if err != nil {
			return nil, fmt.Errorf("crawler: %w", err)
		}
		cfg.Limiter = l
	}
	fopts := frontier.Options{PerSite: cfg.Parallel, MaxPages: cfg.MaxPages}
	switch {
	case cfg.Frontier != nil:
	case cfg.State != nil:
		fo := state.FrontierOptions{Options: fopts, Clean: CleanURL(cfg.Filter)}
		if since := ReplaySince(cfg.State); !since.IsZero() && logDir != "" {
			// The state's last process crashed: the log says what it sent.
			earlier, err := FromLog(context.Background(), logDir, time.Now().Add(-ResumeWindow), since)
			if err != nil {
				return nil, fmt.Errorf("crawler: operation log %s: %w", logDir, err)
			}
			fo.Sent = SentBefore(earlier)
			if l, ok := cfg.Limiter.(*limiter.Local); ok {
				for s, er := range earlier {
					l.Resume(s, er.Sent, er.HoldUntil)
				}
			}
		}
		f, _, err := cfg.State.Frontier(fo)
		if err != nil {
			return nil, fmt.Errorf("crawler: %w", err)
		}
		cfg.Frontier = f
	default:
		cfg.Frontier = frontier.NewMemory(fopts)
	}
	if cfg.RobotsShared == nil && cfg.State != nil {
		cfg.RobotsShared = cfg.State.Robots(func(s string) bool { return cfg.Filter.FilterText(s) == s })
	}
	cr := &Crawler{
		cfg:     cfg,
		front:   cfg.Frontier,
		seeds:   map[string]bool{},
		allowed: map[string]bool{},
		notes:   map[string]bool{},
	}
	for _, h := range cfg.AllowedHosts {
		cr.allowed[h] = true
	}
	if cfg.MaxPagesPerSite > 0 || cfg.MaxSiteShare > 0 {
		cr.limits = newSiteLimits(cfg.MaxPagesPerSite, cfg.MaxSiteShare)
	}
	if cfg.OutDir != "" {
		st, err := output.Open(cfg.OutDir)
		if err != nil {
			return nil, fmt.Errorf("crawler: %w", err)
		}
		cr.store = st
	}
	redact := cfg.Filter.FilterURL
	g := &gate{
		cfg:        &cr.cfg,
		ua:         ua,
		from:       from,
		limiter:    cfg.Limiter,
		addrs:      newAddrChecker(),
		blocks:     newBlocks(),
		inScope:    cr.inScope,
		redactURL:  redact,
		redactText: cfg.Filter.FilterText,
		ignore:     map[string]string{},
		stats:      &stats{},
	}
	for _, r := range cfg.Relaxations {
		if r.Kind == IgnoreRobots {
			g.ignore[r.Site] = r.Justification
		}
	}
	g.base = newBaseTransport(g.addrs, cfg.Parallel)
	hdr := http.Header{}
	hdr.Set(hdrItem, robotsItem)
	g.robots = robots.NewCache(g, robots.Options{
		ProductToken: ProductToken,
		TTL:          cfg.RobotsTTL,
		Header:       hdr,
		RetryBase:    cfg.RobotsRetry,
		Timeout:      cfg.Timeout,
		OnFetch:      cr.onRobots,
		Shared:       cfg.RobotsShared,
	})
	cr.gate = g

	c := colly.NewCollector(
		colly.UserAgent(ua),
		colly.AllowURLRevisit(), // the frontier deduplicates
		colly.IgnoreRobotsTxt(), // the gate applies robots.txt, to every hop
		// The gate reads each body within Config.MaxBodySize; what it
		// hands colly is the filtered body, which a placeholder longer
		// than the value it replaced can make longer. colly must not cut
		// it.
		colly.MaxBodySize(0),
	)
	c.WithTransport(g)
	// No client-wide timeout: it would run while the gate waits for the
	// limiter. The gate bounds each send by Config.Timeout instead.
	c.SetRequestTimeout(0)
	// The gate refuses hop MaxRedirects+1 of a redirect chain, and records
	// the decision; the client must let it reach the gate. Past it (which
	// the gate never lets happen) the client stops by itself.
	c.SetRedirectHandler(func(req *http.Request, via []*http.Request) error {
		if len(via) > MaxRedirects+1 {
			return fmt.Errorf("goodbot: stopped after %d redirects", MaxRedirects)
		}
		return nil
	})
	// The ethics pipeline is registered first, so it runs before any
	// callback of the user's. The bodies and header values colly hands
	// on were filtered in the gate, before colly read them; these
	// callbacks filter the request URL the callbacks see.
	c.OnRequest(cr.onRequest)
	c.OnResponseHeaders(cr.onResponseHeaders)
	c.OnResponse(cr.onResponse)
	c.OnError(cr.onError)
	cr.c = c
	return cr, nil
}

// CleanURL returns a function that reports whether f leaves a URL as it
// is, for state.FrontierOptions.Clean: a state keeps on disk only what
// passed the filter.
func CleanURL(f PageFilter) func(string) bool {
	return func(u string) bool { return f.FilterURL(u) == u }
}

// OnRequest registers a function called before each request is sent (after
// goodbot's own checks of the URL's scope; the gate's checks run when the
// request is sent).
func (cr *Crawler) OnRequest(f colly.RequestCallback) { cr.c.OnRequest(f) }

// OnResponseHeaders registers a function called when response headers
// arrive. Their values have passed the personal-data filter.
func (cr *Crawler) OnResponseHeaders(f colly.ResponseHeadersCallback) {
	cr.c.OnResponseHeaders(f)
}

// OnResponse registers a function called for each response, after the
// personal-data filter.
func (cr *Crawler) OnResponse(f colly.ResponseCallback) { cr.c.OnResponse(f) }

// OnHTML registers a function called for each HTML element matching a goquery
// selector.
func (cr *Crawler) OnHTML(selector string, f colly.HTMLCallback) { cr.c.OnHTML(selector, f) }

// OnXML registers a function called for each XML element matching an XPath
// query.
func (cr *Crawler) OnXML(query string, f colly.XMLCallback) { cr.c.OnXML(query, f) }

// OnError registers a function called when a request fails or is refused,
// or answers an error status. goodbot's refusals are *RefusedError or
// *StoppedError; a body goodbot does not hand on (a challenge page, one
// over the size limit, one the personal-data filter dropped, such as an
// image or a PDF) is a *StoppedError too. The error page's body, the
// request URL and the error's text have passed the personal-data filter.
func (cr *Crawler) OnError(f colly.ErrorCallback) {
	cr.c.OnError(func(resp *colly.Response, err error) { f(resp, cr.callbackError(err)) })
}

// OnScraped registers a function called after the OnHTML and OnXML callbacks.
func (cr *Crawler) OnScraped(f colly.ScrapedCallback) { cr.c.OnScraped(f) }

// UserAgent returns the User-Agent goodbot sends.
func (cr *Crawler) UserAgent() string { return cr.gate.ua }

// Visit adds a seed: a URL the user gives explicitly. Its site joins the
// crawl's scope. Seeds may be on any address, loopback and private ones
// included.
func (cr *Crawler) Visit(rawURL string) error {
	u, err := NormalizeURL(rawURL)
	if err != nil {
		return err
	}
	s := site.Key(u)
	cr.mu.Lock()
	cr.seeds[s] = true
	cr.mu.Unlock()
	_, err = cr.front.Add(context.Background(), frontier.Item{URL: u.String(), Site: s, Seed: true})
	return err
}

func (cr *Crawler) inScope(s string) bool {
	cr.mu.RLock()
	defer cr.mu.RUnlock()
	return cr.seeds[s] || cr.allowed[s]
}

// onRequest runs first for every colly request. Requests the crawler's
// workers start carry the request id; any other request was started by a
// user callback (e.Request.Visit) and is handed to the frontier instead.
//
// Either way, the callbacks after it see the request's URL as the filter
// left it. colly sends the http.Request it built before, so replacing the
// Request's URL changes what callbacks see, not what is sent.
func (cr *Crawler) onRequest(r *colly.Request) {
	if r.Headers.Get(hdrItem) == "" {
		r.Abort()
		from, _ := r.Ctx.GetAny(ctxFrom).(string)
		// colly gives a link the depth of its page plus one, counting seeds as 1.
		cr.enqueue(context.Background(), r.URL.String(), from, r.Depth-1)
	}
	cr.redactRequestURL(r)
}

// onResponseHeaders runs first when response headers arrive. colly points
// the request at the final URL of a redirect chain before it calls this.
func (cr *Crawler) onResponseHeaders(resp *colly.Response) { cr.redactRequestURL(resp.Request) }

// redactRequestURL replaces r.URL with its filtered form, if that differs:
// a seed the user typed with someone's data in it is not handed on as it
// was.
func (cr *Crawler) redactRequestURL(r *colly.Request) {
	if r == nil || r.URL == nil {
		return
	}
	raw := r.URL.String()
	if red := cr.gate.redactURL(raw); red != raw {
		if u, err := url.Parse(red); err == nil {
			r.URL = u
		}
	}
}

// callbackError returns err as user callbacks see it. goodbot's own
// refusals come as themselves (not wrapped in the *url.Error of
// http.Client), with their text filtered. Any other error keeps its form,
// with the URL of a *url.Error filtered, and a text that holds personal
// data replaced by its filtered form.
func (cr *Crawler) callbackError(err error) error {
	var se *StoppedError
	if errors.As(err, &se) {
		c := *se
		c.Reason, c.URL = cr.gate.redactText(c.Reason), cr.gate.redactURL(c.URL)
		return &c
	}
	var re *RefusedError
	if errors.As(err, &re) {
		c := *re
		c.Reason, c.URL = cr.gate.redactText(c.Reason), cr.gate.redactURL(c.URL)
		return &c
	}
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: cr.gate.redactURL(ue.URL), Err: cr.callbackError(ue.Err)}
	}
	if err == nil {
		return nil
	}
	if msg := cr.gate.redactText(err.Error()); msg != err.Error() {
		return &filteredError{msg: msg, err: err}
	}
	return err
}

// filteredError stands for an error whose text held personal data: it
// says what the error said, as the filter left it. It answers errors.Is
// and Timeout for the error it stands for, without handing that error out.
type filteredError struct {
	msg string
	err error
}

func (e *filteredError) Error() string { return e.msg }

// Is reports whether the error filteredError stands for is target.
func (e *filteredError) Is(target error) bool { return errors.Is(e.err, target) }

// Timeout reports whether the error filteredError stands for is a timeout.
func (e *filteredError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

// enqueue applies the scope to a discovered link and queues it.
func (cr *Crawler) enqueue(ctx context.Context, raw, from string, depth int) {
	u, err := NormalizeURL(raw)
	if err != nil {
		return // not a crawlable URL (mailto:, javascript:, malformed)
	}
	s := site.Key(u)
	reason := ""
	switch {
	case carriesRedaction(u):
		reason = "the link carried personal data (the filter replaced it); goodbot does not target personal information"
	case !cr.inScope(s):
		reason = "site " + s + " is not among the seeds' sites or the allowed hosts"
	case cr.cfg.MaxDepth > 0 && depth > cr.cfg.MaxDepth:
		reason = fmt.Sprintf("depth %d exceeds the limit %d", depth, cr.cfg.MaxDepth)
	}
	if reason != "" {
		if seen, _ := cr.front.Seen(ctx, u.String()); !seen {
			cr.gate.record(ctx, s, audit.Event{Type: audit.TypeDecision, Decision: &audit.Decision{
				URL: cr.gate.redactURL(u.String()), Method: http.MethodGet, Kind: "link", Depth: depth,
				Verdict: audit.Refuse, Reason: "scope: " + reason,
				Checks: []audit.Check{{Gate: "scope", Verdict: audit.Refuse, Reason: reason}},
			}})
		}
		return
	}
	it := frontier.Item{URL: u.String(), Site: s, Depth: depth, From: from}
	cr.mu.RLock()
	runCtx := cr.runCtx
	cr.mu.RUnlock()
	if runCtx == nil {
		runCtx = ctx
	}
	// While a shared frontier is unreachable, keep the link and try again:
	// nothing is sent meanwhile anyway. Give up only when the run ends.
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		_, err := cr.front.Add(ctx, it)
		if err == nil {
			return
		}
		if !errors.Is(err, frontier.ErrUnavailable) {
			cr.cfg.Logger.Warn("frontier refused a link", "url", cr.gate.redactURL(u.String()), "err", err)
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-runCtx.Done():
			t.Stop()
			cr.cfg.Logger.Warn("link not queued: the frontier was unavailable until the run ended", "url", cr.gate.redactURL(u.String()))
			return
		case <-t.C:
		}
	}
}

// carriesRedaction reports whether u holds a placeholder the personal-data
// filter put in place of personal data ("[EMAIL]", "[CN_MOBILE:...]"): the
// link, as the page had it, pointed at someone's data.
func carriesRedaction(u *url.URL) bool {
	s := u.EscapedPath() + "?" + u.RawQuery
	if d, err := url.PathUnescape(s); err == nil {
		s = d
	}
	if !strings.Contains(s, "[") {
		return false
	}
	for _, e := range pii.AllEntities() {
		if strings.Contains(s, "["+string(e)+"]") || strings.Contains(s, "["+string(e)+":") {
			return true
		}
	}
	return false
}

// onResponse runs first for every response. The gate filtered the body
// before colly read it (see gate.filterResponse); the URL is filtered here.
func (cr *Crawler) onResponse(resp *colly.Response) {
	if _, ok := cr.gate.reqs.Load(resp.Request.Headers.Get(hdrItem)); !ok {
		return
	}
	cr.redactRequestURL(resp.Request)
	// The worker reads the body after all callbacks ran: what the user's
	// callbacks leave in resp.Body is what is stored, once it has passed
	// the filter again if they changed it.
	resp.Ctx.Put("goodbot.response", resp)
}

// onError runs first for every failed response. colly parses HTML for the
// OnHTML callbacks after the filter; a page its parser refuses (more than
// 512 open elements) would lose its links without a word, so it is marked
// unreadable: not stored, recorded, and counted in the summary.
//
// It also filters the request URL the callbacks after it see, as
// onResponse does; the body of an error page was filtered in the gate.
func (cr *Crawler) onError(resp *colly.Response, err error) {
	if resp == nil || resp.Request == nil || err == nil {
		return
	}
	cr.redactRequestURL(resp.Request)
	v, ok := cr.gate.reqs.Load(resp.Request.Headers.Get(hdrItem))
	if !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 || !strings.HasPrefix(err.Error(), "html:") {
		return
	}
	r := v.(*request)
	r.mu.Lock()
	r.unreadable = "the HTML parser refused the page (" + err.Error() + "); its links could not be read"
	r.mu.Unlock()
}

// Run crawls until there is no more work, the page limit is reached, or ctx
// ends. It then flushes the output and returns a summary; an interrupted
// crawl returns its summary and a nil error. Run may be called once.
func (cr *Crawler) Run(ctx context.Context) (Summary, error) {
	cr.runMu.Lock()
	if cr.running {
		cr.runMu.Unlock()
		return Summary{}, errors.New("crawler: Run called twice")
	}
	cr.running = true
	cr.runMu.Unlock()

	start := time.Now()
	cr.recordConfig(ctx)
	if cr.store != nil {
		for _, r := range cr.store.Repairs() {
			cr.cfg.Logger.Warn("cut a torn record a crash left in the output", "file", r.File, "bytes", r.Cut)
			cr.gate.record(ctx, "", audit.Event{Type: audit.TypeRepair, Repair: &audit.Repair{File: r.File, Bytes: r.Cut, SHA256: r.SHA256}})
		}
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	cr.c.Context = runCtx
	var bg sync.WaitGroup
	cr.mu.Lock()
	cr.runCtx, cr.bg = runCtx, &bg
	cr.mu.Unlock()

	var wg sync.WaitGroup
	var fatalOnce sync.Once
	var fatal error
	for range cr.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				l, err := cr.front.Next(runCtx)
				if errors.Is(err, frontier.ErrUnavailable) && runCtx.Err() == nil {
					// Shared state is unreachable: nothing is leased, so
					// nothing is sent. Wait and try again.
					cr.pause(runCtx, err)
					continue
				}
				if err != nil {
					if !errors.Is(err, frontier.ErrDone) && runCtx.Err() == nil {
						fatalOnce.Do(func() { fatal = fmt.Errorf("crawler: frontier: %w", err) })
						cancel(err)
					}
					return
				}
				cr.resumed()
				if err := cr.work(runCtx, l); err != nil {
					fatalOnce.Do(func() { fatal = err })
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	cancel(nil) // stops background work, e.g. a sitemap count still waiting for its slot
	bg.Wait()

	sum := cr.Summary()
	sum.Elapsed = time.Since(start)
	sum.Reason = "done"
	switch {
	case fatal != nil:
		sum.Reason = "error: " + fatal.Error()
	case ctx.Err() != nil:
		sum.Reason = "interrupted"
	}
	var errs []error
	if fatal != nil {
		errs = append(errs, fatal)
	}
	if cr.store != nil {
		if err := cr.store.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	cr.gate.record(context.WithoutCancel(ctx), "", audit.Event{Type: audit.TypeRun, Run: &audit.Run{
		Reason: sum.Reason, Pages: sum.Pages, Sent: sum.Sent, Refused: sum.Refused,
	}})
	errs = append(errs, cr.Close())
	return sum, errors.Join(errs...)
}

// work fetches one leased item and ends its lease. It returns an error only
// for failures that must stop the crawl (the operation log or the output
// failed).
func (cr *Crawler) work(ctx context.Context, l frontier.Lease) error {
	it := l.Item
	cr.announce(ctx, it.Site)
	if !cr.checkSiteLimit(ctx, it) {
		return cr.complete(ctx, l, false)
	}
	r := cr.gate.newRequest(it)
	defer cr.gate.done(r)

	doErr := cr.do(r, it)

	r.mu.Lock()
	o, f, fsite, sent, dropped, unreadable := r.outcome, r.fetch, r.fetchSite, r.sent, r.dropped, r.unreadable
	r.mu.Unlock()

	if ctx.Err() != nil && !sent {
		// Interrupted before anything was sent: put the item back, as it
		// was, for a later run (a durable or shared frontier keeps it).
		l.Item.Attempt--
		cr.retry(ctx, l, time.Time{})
		return nil
	}
	if o.class == "audit" {
		cr.complete(ctx, l, false)
		return errors.New(o.reason)
	}

	if f != nil && o.class == "ok" && !dropped && unreadable != "" {
		cr.gate.stats.unreadable.Add(1)
		cr.gate.record(ctx, fsite, audit.Event{Type: audit.TypePII, PII: &audit.PII{
			URL: f.URL, SHA256: f.BodySHA256, Dropped: true, Unreadable: true, Reason: unreadable,
		}})
		dropped = true
	}
	// Store what the filter and the user's callbacks let through.
	if f != nil && o.class == "ok" && !dropped {
		if resp, ok := r.ctx.GetAny("goodbot.response").(*colly.Response); ok && cr.store != nil {
			digest, err := cr.storePage(r, resp)
			switch {
			case errors.Is(err, errNotStored):
			case errors.Is(err, output.ErrSiteDeleted):
				// A complaint deleted the site's data while this page was
				// on its way: it is not stored.
			case err != nil:
				cr.gate.record(ctx, fsite, audit.Event{Type: audit.TypeFetch, Fetch: f})
				cr.complete(ctx, l, true)
				return fmt.Errorf("crawler: storing %s: %w", f.URL, err)
			default:
				f.StoredSHA256 = digest
				cr.gate.stats.pages.Add(1)
			}
		}
	}
	if f != nil {
		cr.gate.record(ctx, fsite, audit.Event{Type: audit.TypeFetch, Fetch: f})
	}

	// Decide what becomes of the item.
	retryAt := time.Time{}
	switch o.class {
	case "hold":
		retryAt = o.retryAt
	case "server-error", "network":
		retryAt = time.Now().Add(cr.cfg.RetryBase << min(it.Attempt, 10))
	case "refused-by-gate":
		retryAt = o.retryAt // zero when the refusal is final
	}
	if o.class == "" && doErr != nil && !sent {
		// Refused before the gate saw it (e.g. colly could not build the request).
		cr.cfg.Logger.Warn("request not sent", "url", cr.gate.redactURL(it.URL), "err", doErr)
	}
	if !retryAt.IsZero() && ctx.Err() == nil {
		if o.class == "refused-by-gate" && (o.gate == "limiter" || o.gate == "stoplist") {
			// Waiting for the site's budget, or for shared state (Redis)
			// to answer, is not a failed attempt: Retry counts one, so
			// take it back.
			l.Item.Attempt--
			return cr.retry(ctx, l, retryAt)
		}
		if it.Attempt < cr.cfg.MaxRetries {
			return cr.retry(ctx, l, retryAt)
		}
		cr.gate.record(ctx, it.Site, audit.Event{Type: audit.TypeDecision, Decision: &audit.Decision{
			RequestID: r.id, URL: cr.gate.redactURL(it.URL), Method: http.MethodGet, Kind: "retry", Depth: it.Depth,
			Verdict: audit.Refuse, Reason: fmt.Sprintf("gave up after %d attempts: %s", it.Attempt+1, o.reason),
			Checks: []audit.Check{{Gate: "retry", Verdict: audit.Refuse, Reason: "retry limit reached"}},
		}})
	}
	return cr.complete(ctx, l, sent)
}

// complete ends a lease. See settle.
func (cr *Crawler) complete(ctx context.Context, l frontier.Lease, counted bool) error {
	return cr.settle(ctx, l, func(c context.Context) error { return cr.front.Complete(c, l, counted) })
}

// retry puts a lease's item back for later. See settle.
func (cr *Crawler) retry(ctx context.Context, l frontier.Lease, at time.Time) error {
	return cr.settle(ctx, l, func(c context.Context) error { return cr.front.Retry(c, l, at) })
}

// settle runs f, which ends the lease l, until the frontier answers. A lost
// lease (it expired and went to another worker) is not an error: that
// worker fetches the URL. While the frontier is unreachable it waits and
// tries again; if the crawl is stopping meanwhile, it gives up, and the
// lease expires so that the URL returns to the frontier.
func (cr *Crawler) settle(ctx context.Context, l frontier.Lease, f func(context.Context) error) error {
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 10*time.Second) {
		err := f(context.WithoutCancel(ctx))
		switch {
		case err == nil:
			return nil
		case errors.Is(err, frontier.ErrLeaseLost):
			cr.cfg.Logger.Warn("lease lost; the URL went to another worker", "url", cr.gate.redactURL(l.Item.URL), "err", err)
			return nil
		case errors.Is(err, frontier.ErrUnavailable):
			cr.pause(ctx, err)
			if ctx.Err() != nil {
				return nil
			}
		default:
			return fmt.Errorf("crawler: frontier: %w", err)
		}
	}
}

// pause waits a second after the frontier failed to answer, logging the
// first failure of an outage.
func (cr *Crawler) pause(ctx context.Context, err error) {
	if cr.outage.CompareAndSwap(false, true) {
		cr.cfg.Logger.Error("frontier unavailable: sending nothing until it answers", "err", err)
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// resumed logs the end of an outage.
func (cr *Crawler) resumed() {
	if cr.outage.CompareAndSwap(true, false) {
		cr.cfg.Logger.Info("frontier available again: crawling resumes")
	}
}

// do runs one item through colly, synchronously: the gate, the callbacks.
func (cr *Crawler) do(r *request, it frontier.Item) error {
	hdr := http.Header{}
	hdr.Set(hdrItem, r.id)
	// colly counts a seed as depth 1; the frontier counts it as 0.
	raw, err := json.Marshal(struct {
		URL     string
		Method  string
		Depth   int
		Headers http.Header
	}{it.URL, http.MethodGet, it.Depth + 1, hdr})
	if err != nil {
		return err
	}
	creq, err := cr.c.UnmarshalRequest(raw)
	if err != nil {
		return err
	}
	creq.Ctx.Put(ctxFrom, it.Site)
	r.ctx = creq.Ctx
	return creq.Do()
}

func (cr *Crawler) storePage(r *request, resp *colly.Response) (string, error) {
	final := resp.Request.URL
	ctype := resp.Headers.Get("Content-Type")
	r.mu.Lock()
	body, charset := r.filtered, r.charset
	r.mu.Unlock()
	if !bytes.Equal(resp.Body, body) {
		// A callback changed the body: what is stored must pass the
		// filter as it is now.
		var sum FilterSummary
		body, sum = cr.gate.filterBody(ctype, resp.Body)
		if len(sum.Counts) > 0 || sum.Drop {
			cr.gate.recordFilter(r, final.String(), sum)
		}
		if sum.Drop {
			return "", errNotStored
		}
	}
	if cr.cfg.Store == StoreClean && looksHTML(ctype, body) {
		body = cleanHTML(body)
	}
	title, text := extractText(ctype, body)
	rec := output.Record{
		URL:         cr.gate.redactURL(final.String()),
		Site:        site.Key(final),
		Time:        time.Now().UTC(),
		Status:      resp.StatusCode,
		ContentType: ctype,
		Charset:     charset.Charset,
		Stored:      string(cr.cfg.Store),
		// Text joined across elements can form a value that no single
		// element held ("138" "0013 8000"): it is checked on its own.
		Title: cr.cfg.Filter.FilterText(title),
		Text:  cr.cfg.Filter.FilterText(text),
		HTML:  string(body),
	}
	return cr.store.Put(rec)
}

// errNotStored is storePage's answer for a page the filter dropped after a
// callback changed it.
var errNotStored = errors.New("crawler: page dropped by the filter after a callback changed it")

// onRobots turns a robots.txt fetch into an audit event and the site's
// Crawl-delay.
func (cr *Crawler) onRobots(ctx context.Context, f robots.Fetched) {
	e := &audit.Robots{URL: f.URL, Status: f.Status, SHA256: f.SHA256, Body: f.Body, Policy: f.Policy, Expires: f.Expires}
	if f.Err != nil {
		e.Error = f.Err.Error()
	}
	if f.Group != nil {
		e.CrawlDelay = f.Group.Delay()
	}
	cr.gate.record(ctx, f.Site, audit.Event{Type: audit.TypeRobots, Robots: e})
	if cr.limits != nil && f.File != nil && cr.limits.startCount(f.Site) {
		cr.mu.RLock()
		runCtx, bg := cr.runCtx, cr.bg
		cr.mu.RUnlock()
		if runCtx != nil && bg != nil {
			// Not from here: this callback runs inside the robots.txt fetch,
			// and the sitemap requests need that fetch's result.
			bg.Add(1)
			go func() {
				defer bg.Done()
				cr.countSitemaps(runCtx, f.Site, f.File.Sitemaps)
			}()
		}
	}
	if err := cr.cfg.Limiter.SetRobotsDelay(context.WithoutCancel(ctx), f.Site, e.CrawlDelay); err != nil {
		cr.cfg.Logger.Warn("could not apply Crawl-delay", "site", f.Site, "err", err)
	}
}

// announce logs, once per site, the estimate and budget the site is crawled
// under.
func (cr *Crawler) announce(ctx context.Context, s string) {
	cr.mu.Lock()
	done := cr.notes[s]
	cr.notes[s] = true
	cr.mu.Unlock()
	if done {
		return
	}
	st, err := cr.cfg.Limiter.Status(ctx, s)
	if err != nil {
		return
	}
	cr.cfg.Logger.Info("site budget", "site", s, "estimate_per_day", st.EstimatePerDay, "source", st.Source,
		"budget_per_day", st.BudgetPerDay, "interval", st.Interval)
}

func (cr *Crawler) recordConfig(ctx context.Context) {
	settings := map[string]string{
		"max_depth":     fmt.Sprint(cr.cfg.MaxDepth),
		"max_pages":     fmt.Sprint(cr.cfg.MaxPages),
		"parallel":      fmt.Sprint(cr.cfg.Parallel),
		"workers":       fmt.Sprint(cr.cfg.Workers),
		"max_body_size": fmt.Sprint(cr.cfg.MaxBodySize),
		"timeout":       cr.cfg.Timeout.String(),
		"max_retries":   fmt.Sprint(cr.cfg.MaxRetries),
		"robots_ttl":    cr.cfg.RobotsTTL.String(),
		"allowed_hosts": strings.Join(cr.cfg.AllowedHosts, ","),
		"pii_filter":    fmt.Sprint(cr.cfg.Filter != nil),
		"store":         string(cr.cfg.Store),
		"operation_log": cr.logSetting(),
	}
	var relax []string
	for _, r := range cr.cfg.Relaxations {
		relax = append(relax, r.String())
		cr.cfg.Logger.Warn("rule relaxed by the operator", "relaxation", r.String())
	}
	cr.gate.record(ctx, "", audit.Event{Type: audit.TypeConfig, Config: &audit.Config{
		Job: cr.cfg.Job, Version: Version, UserAgent: cr.gate.ua, Settings: settings, Relaxations: relax,
	}})
}

// Summary is what a crawl did.
type Summary struct {
	Reason     string // "done", "interrupted", "error: ..."
	Pages      int    // pages stored
	Sent       int    // requests sent, robots.txt and redirect hops included
	Refused    int    // requests the gate did not send
	OK         int    // 2xx answers
	Redirects  int
	RefusedBy  int // 401/403/407 answers
	Holds      int // 429/503 answers
	Errors     int // other errors
	Challenges int
	Logins     int
	// Dropped counts pages the personal-data filter dropped whole
	// (sensitive categories, unscannable types); Unreadable, pages not
	// stored because they could not be read (HTML the parser refuses).
	Dropped, Unreadable int
	Stopped             map[string]string // sites stopped by their refusals, with the reason
	Elapsed             time.Duration
	// AuditLog is the operation log's directory, when the Crawler opened
	// the log or Config.Sink is an *audit.Log.
	AuditLog string
	// NoAuditLog is Config.NoAuditLog: why the crawl kept no operation log.
	NoAuditLog string
}

// Summary reports what the crawl has done so far.
func (cr *Crawler) Summary() Summary {
	s := cr.gate.stats
	stopped := cr.gate.blocks.blockedSites()
	if cr.limits != nil {
		for k, v := range cr.limits.stoppedSites() {
			stopped[k] = v
		}
	}
	return Summary{
		Pages: int(s.pages.Load()), Sent: int(s.sent.Load()), Refused: int(s.refused.Load()),
		OK: int(s.ok.Load()), Redirects: int(s.redirects.Load()), RefusedBy: int(s.refusedByServer.Load()),
		Holds: int(s.holds.Load()), Errors: int(s.errors.Load()), Challenges: int(s.challenges.Load()),
		Logins: int(s.logins.Load()), Stopped: stopped,
		Dropped: int(s.dropped.Load()), Unreadable: int(s.unreadable.Load()),
		AuditLog: cr.logDir, NoAuditLog: cr.cfg.NoAuditLog,
	}
}

// Sites returns the sites the crawl has sent work to, sorted.
func (cr *Crawler) Sites() []string {
	cr.mu.RLock()
	defer cr.mu.RUnlock()
	out := make([]string, 0, len(cr.notes))
	for s := range cr.notes {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Frontier returns the crawl's frontier, e.g. for progress output.
func (cr *Crawler) Frontier() frontier.Frontier { return cr.front }

// Limiter returns the crawl's limiter, e.g. for progress output.
func (cr *Crawler) Limiter() limiter.Limiter { return cr.cfg.Limiter }
