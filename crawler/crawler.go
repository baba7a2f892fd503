// Package crawler is goodbot's crawler: colly with the rules built in.
//
// A Crawler wraps a colly.Collector. Register the usual colly callbacks on it
// (OnHTML, OnResponse, ...), then either Visit a URL, as with colly's
// synchronous collector, or give it seeds with Seed and Run it with a
// context. A crawl stops waiting, and reports what it left, when all its
// work is deferred beyond Config.Horizon. Every
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
	"errors"
	"fmt"
	"maps"
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

// decideAhead is how many times Parallel a site's items are leased at
// once: the requests beyond Parallel take their grant and wait for their
// decision to be durable while the others are in flight.
const decideAhead = 3

// ctxFrom is the colly.Context key through which a page tells the links
// found on it which site they came from.
const ctxFrom = "goodbot.from"

// Crawler is a colly collector whose every request passes goodbot's gate.
// Create one with New; Clone makes another that shares its gate, frontier
// and operation log, with callbacks of its own.
type Crawler struct {
	*core
	// id names the crawler among its clones: "" for the one New made,
	// "clone-1", "clone-2", ... in the order Clone made them. Items carry
	// it (frontier.Item.Collector), so that each response goes to the
	// callbacks of the crawler that asked for it.
	id string
	c  *colly.Collector

	tmplOnce sync.Once
	tmpl     *colly.Request // see requestTemplate
	tmplErr  error

	errMu  sync.RWMutex
	onErrs []colly.ErrorCallback // the user's OnError callbacks
}

// core is what a Crawler shares with its clones: the configuration, the
// gate (and with it the robots.txt cache, the limiter, the stop list and
// the operation log), the frontier, the output and the crawl running now.
type core struct {
	cfg    Config
	gate   *gate
	front  frontier.Frontier
	store  *output.Store
	limits *siteLimits // nil without per-site limits
	cache  *devCache   // nil without Config.CacheDir
	pages  pageStore   // the pages stored before, with their validators; nil without a State

	mu      sync.RWMutex
	seeds   map[string]bool     // sites of the seeds
	seeded  map[string]bool     // with AllowURLRevisit: seeds queued for the next crawl (by Item.Key)
	allowed map[string]bool     // Config.AllowedHosts
	notes   map[string]bool     // sites whose estimate was announced
	clones  map[string]*Crawler // by id, the crawler New made included
	runCtx  context.Context     // the context of the crawl running now, for the collectors of clones made during it

	outage atomic.Bool // the frontier is failing to answer

	runMu    sync.Mutex
	cur      *runState // the crawl running now; nil when none is
	repaired bool      // the output's repairs were recorded
	// revisitsQueued is set once the pages stored before were queued
	// again (Config.Revisit).
	revisitsQueued bool

	// ctxs maps the Key of a queued item to a copy of the colly.Context
	// of the page that followed it (e.Request.Visit), which the item's
	// request gets, as in colly. It lives in this process only: a
	// colly.Context holds any value, and cannot be persisted.
	ctxs sync.Map

	log    *audit.Log // the operation log New opened, closed by Run; nil for a Config.Sink
	logDir string     // the operation log's directory, when known

	bot *botAuth // how requests are signed (Web Bot Auth)
}

// runState is one run of the workers: a Run, or a Visit made while no crawl
// was running.
type runState struct {
	done chan struct{}  // closed when the crawl has ended
	bg   sync.WaitGroup // background work (sitemap counts)

	mu       sync.Mutex
	ctx      context.Context
	seen     map[string]bool   // with AllowURLRevisit: items (by Item.Key) queued during this crawl
	why      map[string]string // site -> why its work was last deferred beyond the horizon
	watch    string            // the Item.Key of the request a Visit fetches
	watchErr error             // the error the callbacks were given for it, if it failed
}

func (k *runState) context() context.Context {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ctx
}

// firstInCrawl reports whether u was not yet queued during this crawl, and
// marks it.
func (k *runState) firstInCrawl(u string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.seen[u] {
		return false
	}
	k.seen[u] = true
	return true
}

// New returns a Crawler for cfg. It fails when cfg is not valid, e.g. when
// Contact is missing, or when it cannot open the operation log. Without a
// Config.Sink it opens its own log (see Config.AuditDir), which Run, or
// Close, closes.
func New(cfg Config) (*Crawler, error) {
	cfg.AllowedHosts = append([]string(nil), cfg.AllowedHosts...)
	cfg.DisallowedDomains = append([]string(nil), cfg.DisallowedDomains...)
	cfg.Relaxations = append([]Relaxation(nil), cfg.Relaxations...)
	cfg.Deny = append([]string(nil), cfg.Deny...)
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
	bot, err := cfg.openBotAuth(logDir)
	if err != nil {
		return nil, err
	}
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
	// The gate decides a request ahead of its send (see gate.RoundTrip):
	// a site has up to decideAhead×Parallel items leased, of which at most
	// Parallel are in flight.
	// With a share limit, pages are not decided ahead: the sitemap count
	// the limit depends on would otherwise queue behind them, and the
	// limit would apply later.
	ahead := decideAhead
	if cfg.MaxSiteShare > 0 {
		ahead = 1
	}
	fopts := frontier.Options{PerSite: ahead * cfg.Parallel, MaxPages: cfg.MaxPages}
	switch {
	case cfg.Frontier != nil:
	case cfg.State != nil:
		fo := state.FrontierOptions{Options: fopts, Clean: CleanURL(cfg.Filter), CleanBody: CleanBody(cfg.Filter)}
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
	if _, ok := cfg.Frontier.(frontier.Revisitor); cfg.AllowURLRevisit && !ok {
		return nil, fmt.Errorf("crawler: AllowURLRevisit needs a frontier that can queue a URL again (a frontier.Revisitor: the in-memory one or State's); %T is not", cfg.Frontier)
	}
	pages, _ := cfg.Frontier.(pageStore)
	if cfg.Revisit && pages == nil {
		return nil, fmt.Errorf("crawler: Revisit needs a crawl State that keeps the pages stored before (Config.State, with its frontier); the frontier %T keeps none", cfg.Frontier)
	}
	if cfg.RobotsShared == nil && cfg.State != nil {
		cfg.RobotsShared = cfg.State.Robots(func(s string) bool { return cfg.Filter.FilterText(s) == s })
	}
	cr := &Crawler{core: &core{
		cfg:     cfg,
		front:   cfg.Frontier,
		seeds:   map[string]bool{},
		seeded:  map[string]bool{},
		allowed: map[string]bool{},
		notes:   map[string]bool{},
		clones:  map[string]*Crawler{},
		runCtx:  context.Background(),
		bot:     bot,
		pages:   pages,
	}}
	cr.clones[""] = cr
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
	deny, err := newDenyList(cfg.Deny)
	if err != nil {
		return nil, err
	}
	redact := cfg.Filter.FilterURL
	g := &gate{
		deny:       deny,
		cfg:        &cr.cfg,
		ua:         ua,
		from:       from,
		limiter:    cfg.Limiter,
		addrs:      newAddrChecker(),
		links:      newLinkResolver(),
		blocks:     newBlocks(),
		inScope:    cr.inScope,
		urlRule:    cr.urlRule,
		redactURL:  redact,
		redactText: cfg.Filter.FilterText,
		ignore:     map[string]string{},
		stats:      &stats{},
		signer:     bot.signer,
		sites:      newSiteGates(cfg.Parallel),
		keepAlive:  keepAliveWithin,
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
	// A site's tdmrep.json decides only whether its pages are stored: a
	// crawler that keeps no pages (no OutDir, as the complaint proof
	// fetch of package operator) does not ask for it.
	g.keepsPages = cr.store != nil
	if cfg.Purpose.ConcernsTDM() && g.keepsPages {
		g.tdm = newTDMCache(g, cfg.RobotsTTL)
	}
	cr.gate = g
	if sp, ok := cr.front.(frontier.SitePacer); ok {
		g.paceSite = func(ctx context.Context, site string, next time.Time) {
			if err := sp.PaceSite(ctx, site, next); err != nil {
				cr.cfg.Logger.Debug("frontier could not pace site", "site", site, "err", err)
			}
		}
	}

	if cfg.CacheDir != "" {
		dc, err := openDevCache(cfg.CacheDir, cfg.CacheTTL)
		if err != nil {
			return nil, fmt.Errorf("crawler: %w", err)
		}
		cr.cache = dc
		g.cache = dc
	}
	cr.c = cr.newCollector()
	return cr, nil
}

// newCollector returns a colly collector for cr: its requests pass the
// gate, and goodbot's own callbacks come first.
func (cr *Crawler) newCollector() *colly.Collector {
	g := cr.gate
	c := colly.NewCollector(
		colly.UserAgent(g.ua),
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
	c.OnError(cr.dispatchError)
	return c
}

// CleanURL returns a function that reports whether f leaves a URL as it
// is, for state.FrontierOptions.Clean: a state keeps on disk only what
// passed the filter.
func CleanURL(f PageFilter) func(string) bool {
	return func(u string) bool { return f.FilterURL(u) == u }
}

// OnRequest registers a function called before each request is sent (after
// goodbot's own checks of the URL's scope; the gate's checks run when the
// request is sent): once per attempt of a URL the crawler fetches. It is
// not called for the hand-off of a request a callback starts with
// e.Request.Visit, Post, PostRaw, PostMultipart, Do or Retry, which only
// queues it. A request's Body, read here, is the body as the
// personal-data filter leaves it; the body sent is the one given.
func (cr *Crawler) OnRequest(f colly.RequestCallback) {
	cr.c.OnRequest(func(r *colly.Request) {
		if r.Headers.Get(hdrItem) != "" {
			f(r)
			// goodbot never pays for a page (see paymentHeaders).
			for _, h := range paymentHeaders {
				if r.Headers.Get(h) != "" {
					cr.gate.warnOnce("pay:"+h, "removed a header that would agree to pay for crawling; goodbot never pays", "header", h)
					r.Headers.Del(h)
				}
			}
		}
	})
}

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
//
// It is called once per URL and crawl, when the crawler stops trying the
// URL: with the last attempt's error when it gives up (the error is final,
// or MaxRetries is used up), or when it defers the URL beyond the Horizon
// (the error of a refusal then carries RetryAt). Attempts that are tried
// again within the crawl do not call it; the operation log records each.
// An HTML parse error of a page that was handed on is reported at once, as
// in colly.
func (cr *Crawler) OnError(f colly.ErrorCallback) {
	cr.errMu.Lock()
	defer cr.errMu.Unlock()
	cr.onErrs = append(cr.onErrs, f)
}

// dispatchError runs after onError for every failed colly request. The
// failure of a request a worker made is kept for the worker, which hands
// it to the user's callbacks once it knows the URL is not tried again in
// this crawl (see flushError); any other goes to them at once.
func (cr *Crawler) dispatchError(resp *colly.Response, err error) {
	if resp != nil && resp.Request != nil {
		if v, ok := cr.gate.reqs.Load(resp.Request.Headers.Get(hdrItem)); ok {
			r := v.(*request)
			r.mu.Lock()
			keep := r.kind == "" && !r.responded
			if keep {
				r.errResp, r.err = resp, err
			}
			r.mu.Unlock()
			if keep {
				return
			}
		}
	}
	cr.callOnError(resp, err)
}

func (cr *Crawler) callOnError(resp *colly.Response, err error) {
	cr.errMu.RLock()
	fs := slices.Clone(cr.onErrs)
	cr.errMu.RUnlock()
	if len(fs) == 0 {
		return
	}
	err = cr.callbackError(err)
	for _, f := range fs {
		f(resp, err)
	}
}

// flushError hands the failure kept for r to the user's OnError callbacks,
// and reports it to a Visit waiting for that URL.
func (cr *Crawler) flushError(k *runState, r *request) {
	r.mu.Lock()
	resp, err := r.errResp, r.err
	r.errResp, r.err = nil, nil
	r.mu.Unlock()
	if err == nil {
		return
	}
	if k != nil {
		k.mu.Lock()
		if k.watch == r.item.Key() {
			k.watchErr = cr.callbackError(err)
		}
		k.mu.Unlock()
	}
	cr.owner(r.item.Collector).callOnError(resp, err)
}

// dropError forgets the failure kept for r: the URL is tried again.
func (cr *Crawler) dropError(r *request) {
	r.mu.Lock()
	r.errResp, r.err = nil, nil
	r.mu.Unlock()
}

// OnScraped registers a function called after the OnHTML and OnXML callbacks.
func (cr *Crawler) OnScraped(f colly.ScrapedCallback) { cr.c.OnScraped(f) }

// UserAgent returns the User-Agent goodbot sends.
func (cr *Crawler) UserAgent() string { return cr.gate.ua }

// Visit fetches rawURL. When no crawl is running it behaves as colly's
// synchronous Collector.Visit: rawURL becomes a seed (its site joins the
// crawl's scope; seeds may be on any address, loopback and private ones
// included), and Visit crawls it, and the links the callbacks follow,
// until the frontier has no more work, the page limit is reached, or only
// work deferred beyond Config.Horizon is left; then it returns. It
// returns the seed's own failure as its callbacks got it (a refusal that
// names its rule, an error status, a network error), a *DeferredError
// when work was left deferred, or an error that stopped the crawl. A URL
// the frontier has seen before is not fetched again, unless
// Config.AllowURLRevisit is set; work the frontier still holds (e.g. from
// a crawl State resumed) is crawled either way.
//
// Called while a crawl runs (from a callback, or from another goroutine
// during Run or another Visit), Visit does not add a seed: rawURL is
// handled as a link found during the crawl, at depth 1 as colly's
// Collector.Visit gives it. It is queued for the running crawl if the
// scope and the URL rules admit it, and Visit returns a *RefusedError
// naming the rule otherwise. Seeds are only what is given before or
// outside a crawl, so that a callback cannot widen the scope.
//
// Visit takes no context; Seed and Run are the context-aware form.
func (cr *Crawler) Visit(rawURL string) error {
	return cr.visit(rawURL, frontier.Item{}, nil)
}

// visit is Visit for a request described by tmpl (its method, body and
// content type; see Request), with the colly.Context parent, if not nil,
// copied to the request.
func (cr *Crawler) visit(rawURL string, tmpl frontier.Item, parent *colly.Context) error {
	k, ok := cr.claim()
	if !ok {
		return cr.visitLink(rawURL, tmpl, parent)
	}
	key, err := cr.addSeed(context.Background(), rawURL, tmpl, parent)
	if err != nil {
		cr.release(k)
		return err
	}
	k.mu.Lock()
	k.watch = key
	k.mu.Unlock()
	sum, err := cr.runCrawl(context.Background(), k)
	if err != nil {
		return err
	}
	if len(sum.Deferred) > 0 {
		return &DeferredError{Sites: sum.Deferred, Horizon: cr.cfg.Horizon}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.watchErr
}

// Seed adds a seed for Run without fetching it: a URL the user gives
// explicitly, whose site joins the crawl's scope. Seeds may be on any
// address, loopback and private ones included. Seed refuses, with an
// error naming the rule, a URL that DisallowedDomains or the URL filters
// exclude, and any URL while a crawl is running (use Visit, which queues
// it as a link).
func (cr *Crawler) Seed(rawURL string) error {
	if cr.current() != nil {
		return errors.New("crawler: Seed while a crawl is running: seeds are given before Run; a URL given during the crawl is a link (use Visit or e.Request.Visit)")
	}
	_, err := cr.addSeed(context.Background(), rawURL, frontier.Item{}, nil)
	return err
}

// addSeed queues rawURL as a seed, a request as tmpl describes it (see
// itemFor), and returns its Item.Key.
func (cr *Crawler) addSeed(ctx context.Context, rawURL string, tmpl frontier.Item, parent *colly.Context) (string, error) {
	u, err := NormalizeURL(rawURL)
	if err != nil {
		return "", err
	}
	s := site.Key(u)
	it := cr.itemFor(u, tmpl)
	it.Seed, it.Depth, it.From = true, 0, ""
	gateName, why := "denylist", cr.gate.deny.reason(u.Hostname())
	if why == "" {
		gateName, why = "scope", cr.urlRule(u)
	}
	if why == "" {
		gateName, why = requestRule(u, it)
	}
	if why != "" {
		red := cr.gate.redactURL(u.String())
		d := &audit.Decision{
			URL: red, Method: itemMethod(it), Kind: "seed",
			Verdict: audit.Refuse, Reason: gateName + ": " + why,
			Checks: []audit.Check{{Gate: gateName, Verdict: audit.Refuse, Reason: why}},
		}
		addBodyCheck(d, it)
		cr.gate.record(ctx, s, audit.Event{Type: audit.TypeDecision, Decision: d})
		return "", &RefusedError{Gate: gateName, Reason: why, URL: red}
	}
	cr.mu.Lock()
	cr.seeds[s] = true
	cr.mu.Unlock()
	if rv, ok := cr.front.(frontier.Revisitor); ok && cr.revisiting() {
		// Asked for explicitly: fetched again even if fetched before;
		// within the crawl that fetches it, once.
		if k := cr.current(); k != nil {
			k.firstInCrawl(it.Key())
		} else {
			cr.mu.Lock()
			cr.seeded[it.Key()] = true
			cr.mu.Unlock()
		}
		_, err = rv.Revisit(ctx, it)
	} else {
		_, err = cr.front.Add(ctx, it)
	}
	if err != nil {
		return "", fmt.Errorf("crawler: queueing seed %s: %w", cr.gate.redactURL(u.String()), err)
	}
	cr.keepCtx(it.Key(), parent)
	return it.Key(), nil
}

// visitLink handles a Visit made while a crawl runs: rawURL is a link at
// depth 1 (frontier depth 0). Its From is its own site: the link is in
// the scope the user set (a seed's site or an allowed host), and no page
// is known to have led to it.
func (cr *Crawler) visitLink(rawURL string, tmpl frontier.Item, parent *colly.Context) error {
	u, err := NormalizeURL(rawURL)
	if err != nil {
		return err
	}
	tmpl.From, tmpl.Depth = site.Key(u), 0
	return cr.enqueue(context.Background(), u.String(), tmpl, parent)
}

// Wait blocks until the crawl running now (a Run, or a Visit, in another
// goroutine) has ended, as colly's Collector.Wait does; it returns at once
// when none is running. It is WaitContext without a deadline.
func (cr *Crawler) Wait() { cr.WaitContext(context.Background()) }

// WaitContext is Wait, giving up when ctx ends; it returns ctx's error
// then.
func (cr *Crawler) WaitContext(ctx context.Context) error {
	k := cr.current()
	if k == nil {
		return nil
	}
	select {
	case <-k.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// claim starts a crawl unless one is running.
func (cr *Crawler) claim() (*runState, bool) {
	cr.runMu.Lock()
	defer cr.runMu.Unlock()
	if cr.cur != nil {
		return nil, false
	}
	cr.mu.Lock()
	seen := cr.seeded
	cr.seeded = map[string]bool{}
	cr.mu.Unlock()
	cr.cur = &runState{done: make(chan struct{}), ctx: context.Background(), seen: seen, why: map[string]string{}}
	return cr.cur, true
}

// release ends the crawl k.
func (cr *Crawler) release(k *runState) {
	cr.runMu.Lock()
	defer cr.runMu.Unlock()
	if cr.cur == k {
		cr.cur = nil
	}
	close(k.done)
}

// current returns the crawl running now, or nil.
func (cr *Crawler) current() *runState {
	cr.runMu.Lock()
	defer cr.runMu.Unlock()
	return cr.cur
}

// urlRule returns why u may not be crawled under DisallowedDomains,
// DisallowedURLFilters and URLFilters, or "".
func (cr *Crawler) urlRule(u *url.URL) string {
	host, key := strings.ToLower(u.Hostname()), site.Key(u)
	for _, d := range cr.cfg.DisallowedDomains {
		if d == host || d == key {
			return "host " + host + " is in DisallowedDomains"
		}
	}
	raw := u.String()
	for i, re := range cr.cfg.DisallowedURLFilters {
		if re.MatchString(raw) {
			return fmt.Sprintf("the URL matches DisallowedURLFilters[%d] (%s)", i, re)
		}
	}
	if len(cr.cfg.URLFilters) == 0 {
		return ""
	}
	for _, re := range cr.cfg.URLFilters {
		if re.MatchString(raw) {
			return ""
		}
	}
	return fmt.Sprintf("the URL matches none of the %d URLFilters", len(cr.cfg.URLFilters))
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
	if cr.handOff(r) {
		r.Abort()
		from, _ := r.Ctx.GetAny(ctxFrom).(string)
		tmpl, err := cr.requestItem(r)
		if err == nil {
			// colly gives a link the depth of its page plus one,
			// counting seeds as 1; r.Ctx is the page's.
			tmpl.From, tmpl.Depth = from, r.Depth-1
			err = cr.enqueue(context.Background(), r.URL.String(), tmpl, r.Ctx)
		}
		var re *RefusedError
		if err != nil && (!errors.As(err, &re) || re.Gate == "login" || re.Gate == "method") {
			// colly's e.Request.Post returns nil once OnRequest aborted
			// the request: a refusal by design is not left silent.
			cr.cfg.Logger.Warn("request from a callback not queued", "url", cr.gate.redactURL(r.URL.String()), "method", r.Method, "err", cr.callbackError(err))
			cr.redactRequestURL(r)
			cr.callOnError(&colly.Response{Request: r, Ctx: r.Ctx, Headers: &http.Header{}}, err)
		}
		// Otherwise no callback sees the aborted request: the user's
		// OnRequest callbacks skip a hand-off (see OnRequest).
		return
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

// enqueue applies the scope and the URL rules to a discovered link, at
// frontier depth depth, and queues it. parent, if not nil, is the Ctx of
// the page that followed it: the link's request gets a copy. It returns a
// *RefusedError naming the rule that refused the link.
func (cr *Crawler) enqueue(ctx context.Context, raw string, tmpl frontier.Item, parent *colly.Context) error {
	u, err := NormalizeURL(raw)
	if err != nil {
		return err // not a crawlable URL (mailto:, javascript:, malformed)
	}
	s := site.Key(u)
	it := cr.itemFor(u, tmpl)
	depth := it.Depth
	gateName := "scope"
	reason := cr.urlRule(u)
	rg, rwhy := requestRule(u, it)
	var sigWhy string
	if parent != nil {
		if pr, ok := parent.GetAny(ctxRules).(*pageRules); ok {
			sigWhy = pr.linkRule(u, cr.relaxed(FollowRelNofollow, pr.site))
		}
	}
	denied := cr.gate.deny.reason(u.Hostname())
	switch {
	case denied != "":
		gateName, reason = "denylist", denied
	case reason == "" && rwhy != "":
		gateName, reason = rg, rwhy
	case carriesRedaction(u):
		reason = "the link carried personal data (the filter replaced it); goodbot does not target personal information"
	case reason != "":
	case sigWhy != "":
		gateName, reason = "signal", sigWhy
	case !cr.inScope(s):
		reason = "site " + s + " is not among the seeds' sites or the allowed hosts"
	case cr.cfg.MaxDepth > 0 && depth+1 > cr.cfg.MaxDepth:
		reason = depthReason(depth, cr.cfg.MaxDepth)
	}
	if reason != "" {
		if seen, _ := cr.front.Seen(ctx, it.Key()); !seen {
			d := &audit.Decision{
				URL: cr.gate.redactURL(u.String()), Method: itemMethod(it), Kind: "link", Depth: depth,
				Verdict: audit.Refuse, Reason: gateName + ": " + reason,
				Checks: []audit.Check{{Gate: gateName, Verdict: audit.Refuse, Reason: reason}},
			}
			addBodyCheck(d, it)
			cr.gate.record(ctx, s, audit.Event{Type: audit.TypeDecision, Decision: d})
		}
		return &RefusedError{Gate: gateName, Reason: reason, URL: cr.gate.redactURL(u.String())}
	}
	runCtx := ctx
	add := cr.front.Add
	if k := cr.current(); k != nil {
		runCtx = k.context()
		if rv, ok := cr.front.(frontier.Revisitor); ok && cr.revisiting() {
			// A URL fetched in an earlier crawl is fetched again; within
			// this one, once.
			if !k.firstInCrawl(it.Key()) {
				return nil
			}
			add = rv.Revisit
		}
	}
	// While a shared frontier is unreachable, keep the link and try again:
	// nothing is sent meanwhile anyway. Give up only when the run ends.
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		added, err := add(ctx, it)
		if err == nil {
			if added {
				cr.keepCtx(it.Key(), parent)
			}
			return nil
		}
		if !errors.Is(err, frontier.ErrUnavailable) {
			cr.cfg.Logger.Warn("frontier refused a link", "url", cr.gate.redactURL(u.String()), "err", err)
			return fmt.Errorf("crawler: queueing %s: %w", cr.gate.redactURL(u.String()), err)
		}
		t := time.NewTimer(wait)
		select {
		case <-runCtx.Done():
			t.Stop()
			cr.cfg.Logger.Warn("link not queued: the frontier was unavailable until the run ended", "url", cr.gate.redactURL(u.String()))
			return fmt.Errorf("crawler: queueing %s: %w", cr.gate.redactURL(u.String()), err)
		case <-t.C:
		}
	}
}

// revisiting reports whether URLs fetched in an earlier crawl are
// fetched again: Config.AllowURLRevisit or Config.Revisit.
func (cr *Crawler) revisiting() bool { return cr.cfg.AllowURLRevisit || cr.cfg.Revisit }

// relaxed reports whether a Relaxation of kind k applies to site s.
func (cr *Crawler) relaxed(k RelaxationKind, s string) bool {
	for _, r := range cr.cfg.Relaxations {
		if r.Kind == k && r.Site == s {
			return true
		}
	}
	return false
}

// depthReason says why a link at frontier depth depth exceeds MaxDepth,
// counting as colly does (a seed is at depth 1).
func depthReason(depth, maxDepth int) string {
	return fmt.Sprintf("depth %d exceeds MaxDepth %d (a seed is at depth 1)", depth+1, maxDepth)
}

// keepCtx keeps for the item whose Key is u a copy of parent, the
// colly.Context of the page that followed it, without goodbot's own keys.
// Nothing is kept for a parent without keys of the user's.
func (cr *Crawler) keepCtx(u string, parent *colly.Context) {
	if parent == nil {
		return
	}
	c := colly.NewContext()
	n := 0
	parent.ForEach(func(k string, v any) any {
		if !strings.HasPrefix(k, "goodbot.") {
			c.Put(k, v)
			n++
		}
		return nil
	})
	if n > 0 {
		cr.ctxs.Store(u, c)
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
	v, ok := cr.gate.reqs.Load(resp.Request.Headers.Get(hdrItem))
	if !ok {
		return
	}
	cr.redactRequestURL(resp.Request)
	// The worker reads the body after all callbacks ran: what the user's
	// callbacks leave in resp.Body is what is stored, once it has passed
	// the filter again if they changed it.
	r := v.(*request)
	r.mu.Lock()
	r.resp, r.responded = resp, true
	r.mu.Unlock()
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

// Run crawls the seeds (see Seed) and whatever else the frontier holds
// until there is no more work, the page limit is reached, only work
// deferred beyond Config.Horizon is left (the Summary's Deferred field
// then says what waits until when, and Reason is "deferred"), or ctx
// ends. It then flushes the output and returns a summary; an interrupted
// crawl returns its summary and a nil error. Run may be called again
// after it returned, to continue with what the frontier holds; it fails
// while another Run or a Visit is crawling. A Visit called during Run
// queues a link for it (see Visit).
func (cr *Crawler) Run(ctx context.Context) (Summary, error) {
	k, ok := cr.claim()
	if !ok {
		return Summary{}, errors.New("crawler: Run called while a crawl is running (another Run, or a Visit)")
	}
	return cr.runCrawl(ctx, k)
}

// runCrawl runs the workers for the claimed crawl k until it ends, and
// releases it.
func (cr *Crawler) runCrawl(ctx context.Context, k *runState) (Summary, error) {
	defer cr.release(k)
	start := time.Now()
	cr.recordConfig(ctx)
	if cr.store != nil && !cr.repaired {
		cr.repaired = true
		for _, r := range cr.store.Repairs() {
			cr.cfg.Logger.Warn("cut a torn record a crash left in the output", "file", r.File, "bytes", r.Cut)
			cr.gate.record(ctx, "", audit.Event{Type: audit.TypeRepair, Repair: &audit.Repair{File: r.File, Bytes: r.Cut, SHA256: r.SHA256}})
		}
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	cr.setRunContext(runCtx)
	k.mu.Lock()
	k.ctx = runCtx
	k.mu.Unlock()
	var wg sync.WaitGroup
	var fatalOnce sync.Once
	var fatal error
	var deferred atomic.Bool
	workers := cr.cfg.Workers
	if cr.cfg.Revisit && !cr.revisitsQueued {
		cr.revisitsQueued = true
		if err := cr.queueRevisits(runCtx, k); err != nil {
			fatal, workers = err, 0
		}
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				l, err := cr.next(runCtx)
				if errors.Is(err, frontier.ErrUnavailable) && runCtx.Err() == nil {
					// Shared state is unreachable: nothing is leased, so
					// nothing is sent. Wait and try again.
					cr.pause(runCtx, err)
					continue
				}
				if errors.Is(err, frontier.ErrDeferred) {
					deferred.Store(true)
					return
				}
				if err != nil {
					if !errors.Is(err, frontier.ErrDone) && runCtx.Err() == nil {
						fatalOnce.Do(func() { fatal = fmt.Errorf("crawler: frontier: %w", err) })
						cancel(err)
					}
					return
				}
				cr.resumed()
				if err := cr.work(runCtx, k, l); err != nil {
					fatalOnce.Do(func() { fatal = err })
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	cancel(nil) // stops background work, e.g. a sitemap count still waiting for its slot
	k.bg.Wait()
	// Nothing is sent until the next crawl: no connection is kept for it.
	cr.gate.closeIdle()

	sum := cr.Summary()
	sum.Elapsed = time.Since(start)
	sum.Reason = "done"
	switch {
	case fatal != nil:
		sum.Reason = "error: " + fatal.Error()
	case ctx.Err() != nil:
		sum.Reason = "interrupted"
	case deferred.Load():
		sum.Reason = "deferred"
		sum.Deferred = cr.reportDeferred(ctx, k)
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
		Revisits: sum.Revisits, Spared: sum.Spared, Unchanged: sum.Unchanged,
	}})
	errs = append(errs, cr.Close())
	return sum, errors.Join(errs...)
}

// next leases the next item, stopping at the horizon when the frontier
// can.
func (cr *Crawler) next(ctx context.Context) (frontier.Lease, error) {
	if d, ok := cr.front.(frontier.Deferrer); ok && cr.cfg.Horizon > 0 {
		return d.NextWithin(ctx, cr.cfg.Horizon)
	}
	return cr.front.Next(ctx)
}

// beyondHorizon reports whether work deferred until at ends this crawl
// before it is due.
func (cr *Crawler) beyondHorizon(at time.Time) bool {
	if _, ok := cr.front.(frontier.Deferrer); !ok || cr.cfg.Horizon <= 0 {
		return false
	}
	return at.After(time.Now().Add(cr.cfg.Horizon))
}

// reportDeferred lists the work a crawl that stopped at the horizon left
// deferred, and warns about each site: where the work waits, until when,
// and what to change to get it sooner.
func (cr *Crawler) reportDeferred(ctx context.Context, k *runState) map[string]DeferredSite {
	d, ok := cr.front.(frontier.Deferrer)
	if !ok {
		return nil
	}
	m, err := d.Deferred(context.WithoutCancel(ctx))
	if err != nil {
		cr.cfg.Logger.Warn("the crawl stopped with work deferred beyond the horizon, which the frontier could not list", "horizon", cr.cfg.Horizon, "err", err)
		return nil
	}
	out := make(map[string]DeferredSite, len(m))
	k.mu.Lock()
	for s, v := range m {
		out[s] = DeferredSite{Count: v.Count, Until: v.Earliest, Reason: k.why[s]}
	}
	k.mu.Unlock()
	sites := slices.Sorted(maps.Keys(out))
	for _, s := range sites {
		ds := out[s]
		args := []any{"site", s, "urls", ds.Count, "until", ds.Until.UTC().Format(time.RFC3339), "horizon", cr.cfg.Horizon}
		if ds.Reason != "" {
			args = append(args, "reason", ds.Reason)
		}
		if st, err := cr.cfg.Limiter.Status(context.WithoutCancel(ctx), s); err == nil {
			args = append(args, "budget_per_day", st.BudgetPerDay, "estimate_per_day", st.EstimatePerDay, "estimate_source", st.Source)
		}
		args = append(args, "what_to_do", deferredHint)
		cr.cfg.Logger.Warn("crawl stopped: this site's work waits beyond the horizon", args...)
	}
	return out
}

// deferredHint says how to get deferred work sooner.
const deferredHint = "raise the site's budget with an estimate that names its source (CLI: --traffic SITE=REQUESTS_PER_DAY; library: a limiter.Estimate{Site, PerDay, Source} in limiter.NewEstimates for Config.Limiter), or wait for it with a longer Config.Horizon (CLI: --horizon); with Config.State (CLI: --out) the next run resumes it"

// DeferredSite is the work a crawl left deferred for one site.
type DeferredSite struct {
	Count int       // URLs waiting
	Until time.Time // when the first of them is due
	// Reason is why this crawl last deferred one of them (e.g. the
	// limiter's next slot), when it did.
	Reason string
}

// DeferredError is Visit's error when the crawl stopped with work deferred
// beyond Config.Horizon. The work stays in the frontier.
type DeferredError struct {
	Sites   map[string]DeferredSite
	Horizon time.Duration
}

func (e *DeferredError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "goodbot: the crawl stopped with work deferred beyond its horizon of %s:", e.Horizon)
	for i, s := range slices.Sorted(maps.Keys(e.Sites)) {
		if i > 0 {
			b.WriteString(";")
		}
		d := e.Sites[s]
		fmt.Fprintf(&b, " %s: %d URL(s) until %s", s, d.Count, d.Until.UTC().Format(time.RFC3339))
		if d.Reason != "" {
			fmt.Fprintf(&b, " (%s)", d.Reason)
		}
	}
	b.WriteString("; to get it sooner, " + deferredHint)
	return b.String()
}

// work fetches one leased item of crawl k and ends its lease. It returns
// an error only for failures that must stop the crawl (the operation log
// or the output failed).
func (cr *Crawler) work(ctx context.Context, k *runState, l frontier.Lease) error {
	it := l.Item
	cr.announce(ctx, it.Site)
	if !cr.checkSiteLimit(ctx, it) {
		return cr.finish(ctx, l, false)
	}
	r := cr.gate.newRequest(it)
	r.prior = cr.priorPage(it)
	defer cr.gate.done(r)

	doErr := cr.do(r, it)

	r.mu.Lock()
	o, f, fsite, sent, dropped, unreadable, cached, rules := r.outcome, r.fetch, r.fetchSite, r.sent, r.dropped, r.unreadable, r.cached, r.rules
	r.mu.Unlock()
	// An answer from the development cache was not sent, and has no
	// fetch to record; it is stored, and counts as a page, as one that
	// was.
	answered := f != nil || cached

	if ctx.Err() != nil && !sent {
		// Interrupted before anything was sent: put the item back, as it
		// was, for a later run (a durable or shared frontier keeps it).
		cr.dropError(r)
		l.Item.Attempt--
		cr.retry(ctx, l, time.Time{})
		return nil
	}
	if o.class == "audit" {
		cr.dropError(r)
		cr.complete(ctx, l, false)
		return errors.New(o.reason)
	}

	if answered && o.class == "ok" && !dropped && unreadable != "" {
		cr.gate.stats.unreadable.Add(1)
		e := &audit.PII{URL: cr.gate.redactURL(it.URL), Dropped: true, Unreadable: true, Reason: unreadable}
		if f != nil {
			e.URL, e.SHA256 = f.URL, f.BodySHA256
		}
		cr.gate.record(ctx, it.Site, audit.Event{Type: audit.TypePII, PII: e})
		dropped = true
	}
	if answered && o.class == "ok" && !dropped {
		// The page asked not to be stored (noindex, none, a passed
		// unavailable_after): the callbacks saw it, nothing keeps it.
		if why := rules.notStored(); why != "" {
			cr.gate.stats.notStored.Add(1)
			if f != nil {
				f.NotStored = why
			}
			dropped = true
		}
	}
	// The site's usage preferences: recorded with the fetch, and a page
	// whose preferences reserve the crawl's purpose is not stored (it
	// was fetched, and its links are followed: they govern use, not
	// fetching).
	prefs, sigs := cr.usagePrefs(r, rules)
	if f != nil && len(sigs) > 0 {
		f.Signals = slices.Concat(f.Signals, sigs)
	}
	if answered && o.class == "ok" && !dropped {
		if why := reservedWhy(cr.cfg.Purpose, prefs); why != "" {
			cr.gate.stats.notStored.Add(1)
			if f != nil {
				f.NotStored = why
			}
			dropped = true
		}
	}
	r.mu.Lock()
	r.prefs = prefs
	r.mu.Unlock()
	if cr.cfg.FollowLinks && answered && o.class == "ok" && unreadable == "" {
		// Before the lease ends: the frontier must not run dry while
		// this page's links are on their way to it.
		r.mu.Lock()
		resp, body := r.resp, r.filtered
		r.mu.Unlock()
		cr.owner(it.Collector).followLinks(ctx, r, resp, body)
	}
	// Store what the filter, the page's rules and the user's callbacks
	// let through.
	if answered && o.class == "ok" && !dropped {
		r.mu.Lock()
		resp := r.resp
		r.mu.Unlock()
		if resp != nil && cr.store != nil {
			digest, err := cr.storePage(r, resp)
			switch {
			case errors.Is(err, errNotStored):
			case errors.Is(err, output.ErrSiteDeleted):
				// A complaint deleted the site's data while this page was
				// on its way: it is not stored.
			case err != nil:
				if f != nil {
					cr.gate.record(ctx, fsite, audit.Event{Type: audit.TypeFetch, Fetch: f})
				}
				cr.finish(ctx, l, true)
				return fmt.Errorf("crawler: storing %s: %w", cr.gate.redactURL(it.URL), err)
			default:
				if f != nil {
					f.StoredSHA256 = digest
					f.NoArchive = rules != nil && rules.noarchive
				}
				cr.gate.stats.pages.Add(1)
			}
		}
	}
	if f != nil {
		at := time.Now().UTC()
		switch {
		case o.class == classNotModified && r.prior != nil:
			// Not an error: the page is as stored before. Its links are
			// not known (they were followed at the earlier visit).
			cr.dropError(r)
			cr.notModified(f, r.prior, at)
		case f.StoredSHA256 != "":
			cr.keepPage(it, f, at)
		}
		cr.gate.record(ctx, fsite, audit.Event{Type: audit.TypeFetch, Time: at, Fetch: f})
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
		// Waiting for the site's budget, or for shared state (Redis) to
		// answer, is not a failed attempt.
		waiting := o.class == "refused-by-gate" && (o.gate == "limiter" || o.gate == "stoplist")
		if waiting || it.Attempt < cr.cfg.MaxRetries {
			if waiting {
				// Retry counts an attempt: take it back.
				l.Item.Attempt--
			}
			if cr.beyondHorizon(retryAt) {
				// This crawl ends before the URL is due: the user hears
				// of it now, once.
				k.mu.Lock()
				k.why[it.Site] = cr.gate.redactText(o.reason)
				k.mu.Unlock()
				cr.flushError(k, r)
			} else {
				cr.dropError(r)
			}
			return cr.retry(ctx, l, retryAt)
		}
		cr.gate.record(ctx, it.Site, audit.Event{Type: audit.TypeDecision, Decision: &audit.Decision{
			RequestID: r.id, URL: cr.gate.redactURL(it.URL), Method: itemMethod(it), Kind: "retry", Depth: it.Depth,
			Verdict: audit.Refuse, Reason: fmt.Sprintf("gave up after %d attempts: %s", it.Attempt+1, o.reason),
			Checks: []audit.Check{{Gate: "retry", Verdict: audit.Refuse, Reason: "retry limit reached"}},
		}})
	}
	cr.flushError(k, r)
	return cr.finish(ctx, l, sent || cached)
}

// finish ends a lease for good: the item is not tried again.
func (cr *Crawler) finish(ctx context.Context, l frontier.Lease, counted bool) error {
	cr.ctxs.Delete(l.Item.Key())
	return cr.complete(ctx, l, counted)
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

// requestTemplate returns a request of cr's collector that is never sent:
// Request.New makes the requests the crawler sends from it. (Otherwise
// only a collector's Visit or UnmarshalRequest make one, and the depth
// the frontier keeps can be set only through UnmarshalRequest's JSON,
// which cost 3% of a crawl's CPU.)
func (cr *Crawler) requestTemplate() (*colly.Request, error) {
	cr.tmplOnce.Do(func() {
		cr.tmpl, cr.tmplErr = cr.c.UnmarshalRequest([]byte(`{"URL":"http://template.invalid/","Method":"GET"}`))
	})
	return cr.tmpl, cr.tmplErr
}

// newCollyRequest returns a request of tmpl's collector for rawURL.
// Request.Do parses the URL again with the WHATWG parser, as every colly
// request is parsed; a URL that net/url reads back as it is written (what
// NormalizeURL gives the frontier) is only parsed by net/url here.
// Request.New, for any other, parses it with both, as colly does. The
// request's ID is not the one colly's callbacks see: colly makes the
// request they see, with an ID of its own, when it sends this one.
func newCollyRequest(tmpl *colly.Request, method, rawURL string, body []byte) (*colly.Request, error) {
	if u, err := url.Parse(rawURL); err == nil && u.String() == rawURL {
		r := *tmpl
		r.Method, r.URL, r.Body = method, u, bytes.NewReader(body)
		r.Headers = &http.Header{}
		return &r, nil
	}
	return tmpl.New(method, rawURL, bytes.NewReader(body))
}

// do runs one item through colly, synchronously: the gate, the callbacks.
// The request goes to the collector of the clone the item names, whose
// callbacks handle the response.
func (cr *Crawler) do(r *request, it frontier.Item) error {
	hdr := http.Header{}
	hdr.Set(hdrItem, r.id)
	if r.prior != nil {
		setConditional(hdr, r.prior)
	}
	if it.ContentType != "" {
		hdr.Set("Content-Type", it.ContentType)
	}
	// A colly.Request can only be made by its collector: from a template
	// the collector made once.
	o := cr.owner(it.Collector)
	tmpl, err := o.requestTemplate()
	if err != nil {
		return err
	}
	creq, err := newCollyRequest(tmpl, itemMethod(it), it.URL, it.Body)
	if err != nil {
		return err
	}
	creq.Ctx = colly.NewContext()
	creq.Headers = &hdr
	creq.Depth = it.Depth + 1 // colly counts a seed as depth 1; the frontier counts it as 0
	if v, ok := cr.ctxs.Load(it.Key()); ok {
		// The Ctx of the page that followed the link, as colly's
		// e.Request.Visit shares it.
		v.(*colly.Context).ForEach(func(k string, v any) any {
			creq.Ctx.Put(k, v)
			return nil
		})
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
	r.mu.Lock()
	rec.NoArchive = r.rules != nil && r.rules.noarchive
	rec.Usage = r.prefs
	r.mu.Unlock()
	rec.Purpose = string(cr.cfg.Purpose)
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
		if k := cr.current(); k != nil {
			runCtx := k.context()
			// Not from here: this callback runs inside the robots.txt fetch,
			// and the sitemap requests need that fetch's result.
			k.bg.Add(1)
			go func() {
				defer k.bg.Done()
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
		"bot_auth":      cr.bot.setting(),
		"purpose":       string(cr.cfg.Purpose),
	}
	cr.cfg.Logger.Info("crawl purpose: pages whose usage preferences reserve it are fetched but not stored", "purpose", string(cr.cfg.Purpose))
	var deny []string
	for _, e := range cr.gate.deny.entries {
		deny = append(deny, e.Pattern)
	}
	settings["denylist"] = strings.Join(deny, ",")
	if cr.cache != nil {
		settings["cache_dir"] = cr.cfg.CacheDir
		settings["cache_ttl"] = cr.cache.ttl.String()
	}
	var relax []string
	for _, r := range cr.cfg.Relaxations {
		relax = append(relax, r.String())
		cr.cfg.Logger.Warn("rule relaxed by the operator", "relaxation", r.String())
	}
	cr.gate.record(ctx, "", audit.Event{Type: audit.TypeConfig, Config: &audit.Config{
		Job: cr.cfg.Job, Version: Version, UserAgent: cr.gate.ua, Settings: settings, Relaxations: relax,
	}})
	if ev := cr.bot.event; ev != nil {
		e := *ev
		cr.gate.record(ctx, "", audit.Event{Type: audit.TypeBotKey, BotKey: &e})
		ev.Action = "in-use" // a creation is recorded once; runs do not overlap
	}
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
	// Cached counts answers served from the development cache
	// (Config.CacheDir): not sent, not charged to any budget.
	Cached int
	// NotStored counts pages fetched and handed to the callbacks but not
	// stored because they asked not to be (noindex, none, a passed
	// unavailable_after).
	NotStored int
	// Payments counts answers that asked for payment (402, crawler-price):
	// each stopped its site. goodbot never pays.
	Payments int
	// Revisits counts conditional revisits (Config.Revisit) answered 304
	// Not Modified, and Spared the body bytes they spared the sites: the
	// lengths of the earlier answers they refer to.
	Revisits int
	Spared   int64
	// Unchanged counts the pages a revisit did not ask for because the
	// site's sitemap dates them before the stored copy.
	Unchanged int
	Stopped   map[string]string // sites stopped by their refusals, with the reason
	// Deferred lists, per site, the work left waiting beyond the Horizon
	// when the crawl stopped there (Reason "deferred"). The frontier
	// keeps it; with State, for the next process too.
	Deferred map[string]DeferredSite
	Elapsed  time.Duration
	// AuditLog is the operation log's directory, when the Crawler opened
	// the log or Config.Sink is an *audit.Log.
	AuditLog string
	// NoAuditLog is Config.NoAuditLog: why the crawl kept no operation log.
	NoAuditLog string
}

// Summary reports what the crawler has done so far, over every Run and
// Visit since New.
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
		Dropped: int(s.dropped.Load()), Unreadable: int(s.unreadable.Load()), Cached: int(s.cached.Load()),
		NotStored: int(s.notStored.Load()), Payments: int(s.payments.Load()),
		Revisits: int(s.revisits.Load()), Spared: s.spared.Load(), Unchanged: int(s.unchanged.Load()),
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
