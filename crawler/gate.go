package crawler

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goodbot/goodbot/internal/textdecode"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/botauth"
	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/crawler/robots"
	"github.com/goodbot/goodbot/crawler/state"
	"github.com/goodbot/goodbot/crawler/usage"
	"github.com/goodbot/goodbot/internal/site"
	"github.com/goodbot/goodbot/limiter"
)

// hdrItem carries, between the crawler and its gate, the id of the request
// a colly request belongs to. The gate removes it: it is never sent.
const hdrItem = "X-Goodbot-Item"

// robotsItem is hdrItem's value on robots.txt requests.
const robotsItem = "robots"

// spoofHeaders are headers that claim to be someone or somewhere else. The
// gate removes them, whoever set them.
// A Signature, Signature-Input or Signature-Agent that goodbot did not
// make is one: only the gate signs (Config.BotDirectory).
var spoofHeaders = []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Real-Ip", "Forwarded", "Via", "X-Client-Ip", "X-Originating-Ip", "True-Client-Ip", "Cf-Connecting-Ip",
	botauth.HeaderSignature, botauth.HeaderSignatureInput, botauth.HeaderSignatureAgent}

// RefusedError is returned for a request the gate did not send.
type RefusedError struct {
	Gate   string // the check that refused: "denylist", "stoplist", "scope", "signal", "robots", "limiter", "audit"
	Reason string
	// URL is the refused request's URL, as the personal-data filter left it.
	URL string
	// RetryAt is set when the refusal is temporary: the request may be
	// tried again from then on.
	RetryAt time.Time
}

func (e *RefusedError) Error() string {
	if !e.RetryAt.IsZero() {
		return fmt.Sprintf("goodbot: %s deferred the request until %s: %s", e.Gate, e.RetryAt.UTC().Format(time.RFC3339), e.Reason)
	}
	return fmt.Sprintf("goodbot: %s refused the request: %s", e.Gate, e.Reason)
}

// DeferredUntil returns RetryAt: a refused robots.txt request that may be
// tried again later is not an unreachable robots.txt (robots.Deferral).
func (e *RefusedError) DeferredUntil() time.Time { return e.RetryAt }

var _ robots.Deferral = (*RefusedError)(nil)

// StoppedError is returned when goodbot does not hand a response on to the
// callbacks: a refusal that goodbot obeys (a challenge page or a demand
// for payment stops the site, a login wall a path prefix), a body over the size limit, or a body the
// personal-data filter dropped (one it cannot scan, such as an image or a
// PDF, or a page of a sensitive category). A response it reports reaches
// OnError only, never OnResponse, OnHTML, OnXML or OnScraped.
type StoppedError struct {
	Class  string // "challenge", "payment", "login", "too-large", "dropped"
	Reason string // why, as the personal-data filter left it
	// URL is the response's URL, as the personal-data filter left it.
	URL string
}

func (e *StoppedError) Error() string { return "goodbot: stopped: " + e.Reason }

// request is what the crawler and its gate know about one leased item while
// colly works on it.
type request struct {
	id   string
	item frontier.Item
	kind string         // "" for pages; "sitemap"
	ctx  *colly.Context // the colly context of the item's request

	mu        sync.Mutex
	outcome   outcome
	fetch     *audit.Fetch // final hop's fetch, emitted by the worker after storage
	fetchSite string
	dropped   bool               // the filter dropped the page
	sent      bool               // a request for the item left the gate
	charset   textdecode.Decoded // how the final body was decoded to UTF-8
	filtered  []byte             // the body as the filter left it
	// unreadable, if set, says why the page could not be read and is not stored.
	unreadable string
	// resp is the response colly handed the callbacks; responded is set
	// once it did.
	resp      *colly.Response
	responded bool
	// errResp and err are the failure colly reported for the request,
	// kept until the worker knows whether the URL is tried again.
	errResp *colly.Response
	err     error
	// requested is set once colly called OnRequest for the item's
	// request: a second call is a callback's e.Request.Do or Retry.
	requested bool
	// cached is set when the answer came from the development cache
	// (Config.CacheDir): nothing was sent.
	cached bool
	// rules are the robots rules the page gave about itself, if any.
	rules *pageRules
	// prior is what the state keeps of the page, when the request is a
	// conditional revisit (Config.Revisit); set before the request starts.
	prior *state.Page
	// robotsUsage are the robots.txt usage-preference lines that apply
	// to the last hop's URL, and tdm what the site's tdmrep.json says of
	// it (nil when it was not asked).
	robotsUsage []robots.UsageRule
	tdm         *tdmVerdict
	// prefs are the usage preferences in force for the page, as the
	// worker gathered them for its record.
	prefs []usage.Pref
}

type outcome struct {
	class   string // as audit.Fetch.Class, or "refused-by-gate"
	gate    string // for "refused-by-gate": the check that refused
	status  int
	retryAt time.Time
	reason  string
}

func (r *request) setOutcome(o outcome) {
	r.mu.Lock()
	r.outcome = o
	r.mu.Unlock()
}

// gate is the http.RoundTripper through which every request of a crawl
// passes: pages, redirect hops, robots.txt. It decides, records the decision
// durably, sends with honest headers, and reads the answer.
type gate struct {
	cfg        *Config
	base       http.RoundTripper
	ua, from   string
	limiter    limiter.Limiter
	robots     *robots.Cache
	keepsPages bool // the crawler stores pages (Config.OutDir): usage preferences matter
	addrs      *addrChecker
	blocks     *blocks
	inScope    func(site string) bool
	urlRule    func(*url.URL) string // DisallowedDomains and the URL filters
	redactURL  func(string) string
	redactText func(string) string
	ignore     map[string]string // site -> justification, for IgnoreRobots
	deny       *denyList
	links      linkResolver    // resolves a page's links, for its rules and Config.FollowLinks
	signer     *botauth.Signer // signs every request sent; nil when signing is off
	// paceSite, if set, is told after each grant for a frontier item
	// (not robots.txt) when the site's next slot comes: the frontier then
	// leases nothing of the site before.
	paceSite func(ctx context.Context, site string, next time.Time)

	// keepAlive is the longest interval at which a site's connection is
	// kept between its requests (keepAliveWithin; tests shorten it).
	keepAlive time.Duration

	reqs    sync.Map // id -> *request
	reqSeq  atomic.Uint64
	sites   *siteGates
	stats   *stats
	logOnce sync.Map
	cache   *devCache // nil without Config.CacheDir
	tdm     *tdmCache // nil when the crawl's purpose is not one TDMRep concerns
}

func (g *gate) newRequest(it frontier.Item) *request {
	r := &request{id: strconv.FormatUint(g.reqSeq.Add(1), 10), item: it}
	g.reqs.Store(r.id, r)
	return r
}

func (g *gate) done(r *request) { g.reqs.Delete(r.id) }

// kindPage is the Decision.Kind of a frontier item's first request.
const kindPage = "page"

// RoundTrip implements http.RoundTripper.
func (g *gate) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	u := req.URL
	s := site.Key(u)
	id := req.Header.Get(hdrItem)
	kind := kindPage
	var r *request
	switch {
	case id == robotsItem:
		kind = "robots"
	default:
		if v, ok := g.reqs.Load(id); ok {
			r = v.(*request)
			if r.kind != "" {
				kind = r.kind
			}
		}
	}
	if req.Response != nil {
		switch kind {
		case "page":
			kind = "redirect"
		case "robots":
			kind = "robots-redirect"
		}
	}
	d := &audit.Decision{
		RequestID: id,
		URL:       g.redactURL(u.String()),
		Method:    req.Method,
		Kind:      kind,
	}
	if r != nil {
		d.Depth = r.item.Depth
		if req.Method != http.MethodGet {
			addBodyCheck(d, r.item)
		}
	}
	if kind == kindPage {
		// The log records what is sent: the validators too. Other hops
		// send none (see send).
		d.Conditional = requestConditional(req.Header)
	}

	refuse := func(gateName string, verdict audit.Verdict, reason string, retryAt time.Time) (*http.Response, error) {
		d.Checks = append(d.Checks, audit.Check{Gate: gateName, Verdict: verdict, Reason: reason})
		d.Verdict, d.Reason = verdict, gateName+": "+reason
		g.record(ctx, s, audit.Event{Type: audit.TypeDecision, Decision: d})
		g.stats.refused.Add(1)
		err := &RefusedError{Gate: gateName, Reason: reason, RetryAt: retryAt, URL: d.URL}
		if r != nil {
			r.setOutcome(outcome{class: "refused-by-gate", gate: gateName, retryAt: retryAt, reason: err.Error()})
		}
		return nil, err
	}
	pass := func(gateName, reason string) {
		d.Checks = append(d.Checks, audit.Check{Gate: gateName, Verdict: audit.Allow, Reason: reason})
	}

	// 0. Only requests the crawler started may leave, and none that
	// goodbot refuses by design (checked when they were queued, and
	// again here).
	if r == nil && kind != "robots" && kind != "robots-redirect" {
		return refuse("scope", audit.Refuse, "request not started by the crawler's frontier", time.Time{})
	}
	if r != nil && req.Method != http.MethodGet {
		it := r.item
		it.Method = req.Method
		if name, why := requestRule(u, it); why != "" {
			return refuse(name, audit.Refuse, why, time.Time{})
		}
	}

	// The denylist: hosts never contacted, robots.txt included.
	if why := g.deny.reason(u.Hostname()); why != "" {
		return refuse("denylist", audit.Refuse, why, time.Time{})
	}

	// 1. The stop list.
	reason, stopped, err := g.cfg.StopList.Stopped(ctx, s)
	if err != nil {
		return refuse("stoplist", audit.Defer, "stop list unavailable, sending nothing: "+err.Error(), time.Now().Add(5*time.Second))
	}
	if stopped {
		return refuse("stoplist", audit.Refuse, "site is on the stop list: "+reason, time.Time{})
	}
	pass("stoplist", "")

	// 2. Scope.
	if u.Scheme != "http" && u.Scheme != "https" {
		return refuse("scope", audit.Refuse, "scheme "+u.Scheme+" is not crawled", time.Time{})
	}
	if kind == "redirect" || kind == "robots-redirect" {
		if n := redirectHop(req); n > MaxRedirects {
			return refuse("scope", audit.Refuse, fmt.Sprintf("redirect limit: more than %d hops", MaxRedirects), time.Time{})
		}
		if _, err := NormalizeURL(u.String()); err != nil {
			return refuse("scope", audit.Refuse, "the redirect target is not a crawlable URL: "+g.redactText(err.Error()), time.Time{})
		}
	}
	if kind == "page" || kind == "redirect" || kind == "sitemap" || kind == kindTDMRep {
		if !g.inScope(s) {
			return refuse("scope", audit.Refuse, "site "+s+" is not among the seeds' sites or the allowed hosts", time.Time{})
		}
		if g.cfg.MaxDepth > 0 && r.item.Depth+1 > g.cfg.MaxDepth {
			return refuse("scope", audit.Refuse, depthReason(r.item.Depth, g.cfg.MaxDepth), time.Time{})
		}
		if why := g.urlRule(u); why != "" && kind != "sitemap" && kind != kindTDMRep {
			return refuse("scope", audit.Refuse, why, time.Time{})
		}
	}
	if kind == "redirect" && g.redactURL(u.String()) != u.String() {
		// Links that carry personal data are not followed; neither are
		// redirects that do.
		return refuse("scope", audit.Refuse, "the redirect target carries personal data (the filter replaced it); goodbot does not target personal information", time.Time{})
	}
	allowPrivate, why, err := g.addressAllowed(ctx, req, r, kind)
	if err != nil {
		return refuse("scope", audit.Defer, err.Error(), time.Now().Add(g.cfg.RetryBase))
	}
	if why != "" {
		return refuse("scope", audit.Refuse, why, time.Time{})
	}
	pass("scope", "")

	// 3. Refusals the site has shown: challenge pages, login walls.
	if kind == "redirect" && isLoginURL(u) && !isLoginURL(req.Response.Request.URL) {
		// send blocked the prefix already, when the redirect came in.
		why := g.blockLoginRedirect(req.Response.Request.URL, u)
		g.stats.logins.Add(1)
		res, err := refuse("signal", audit.Refuse, why, time.Time{})
		if r != nil {
			r.setOutcome(outcome{class: "login", reason: why})
		}
		return res, err
	}
	if why := g.blocks.check(s, u); why != "" {
		return refuse("signal", audit.Refuse, why, time.Time{})
	}
	pass("signal", "")

	// The development cache (Config.CacheDir): an answer it holds is
	// served, recorded as a decision, and not sent; robots.txt and the
	// limiter are not asked, since the site is not contacted.
	cacheable := g.cacheable(req, r, kind)
	if cacheable {
		if resp, ok, err := g.fromCache(ctx, req, r, s, d); ok {
			return resp, err
		}
	}

	// 4. robots.txt.
	if kind == "page" || kind == "redirect" || kind == "sitemap" || kind == kindTDMRep {
		if just, ok := g.ignore[s]; ok {
			pass("robots", "ignored by relaxation: "+just)
			// The relaxation is about fetching: the file's usage
			// preferences still apply to what is stored, so a crawler
			// that stores pages still reads them (one that stores
			// nothing, as a complaint's proof fetch, need not ask).
			if g.keepsPages {
				if v, err := g.robots.Check(ctx, u); err == nil && r != nil {
					r.mu.Lock()
					r.robotsUsage = v.Usage
					r.mu.Unlock()
				}
			}
		} else {
			v, err := g.robots.Check(ctx, u)
			if err != nil {
				return nil, err
			}
			d.RobotsRule, d.RobotsSHA256 = v.Rule, v.SHA256
			if !v.Allowed {
				verdict := audit.Refuse
				if !v.RetryAt.IsZero() {
					verdict = audit.Defer
				}
				return refuse("robots", verdict, v.Reason, v.RetryAt)
			}
			pass("robots", v.Reason)
			if r != nil {
				r.mu.Lock()
				r.robotsUsage = v.Usage
				r.mu.Unlock()
			}
		}
	}

	// 4b. The site's tdmrep.json, before its first page: a usage
	// preference, so it refuses nothing, but a page waits for it.
	if g.tdm != nil && (kind == "page" || kind == "redirect") {
		e, err := g.tdm.get(ctx, u)
		if err != nil {
			var refused *RefusedError
			if errors.As(err, &refused) {
				return refuse(kindTDMRep, audit.Defer, "the site's tdmrep.json must be read first and is deferred: "+refused.Reason, refused.RetryAt)
			}
			return nil, err
		}
		v := e.verdict(u)
		if r != nil {
			r.mu.Lock()
			r.tdm = &v
			r.mu.Unlock()
		}
		pass(kindTDMRep, g.redactText(v.String()))
	}

	// 5. The limiter. The request is decided ahead of its send: it takes
	// its grant and waits for its decision to be durable before it takes
	// one of the site's Parallel slots for requests in flight (step 6), so
	// that the log's fsync overlaps the network rather than holding a
	// slot. The frontier leases up to DecideAhead times Parallel items of
	// a site for this.
	sg := g.sites.acquire(s)
	defer g.sites.release(s, sg)
	slowed := sg.slowed.Load()
	wctx, cancelWait := context.WithTimeout(ctx, g.cfg.MaxWait)
	grant, err := g.limiter.Wait(wctx, s)
	cancelWait()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ex *limiter.ExhaustedError
		if errors.As(err, &ex) {
			return refuse("limiter", audit.Defer, ex.Error(), ex.Until)
		}
		var later *limiter.LaterError
		if errors.As(err, &later) {
			return refuse("limiter", audit.Defer, fmt.Sprintf("next slot for %s at %s, beyond the %s a worker waits; deferred until then",
				s, later.At.UTC().Format(time.RFC3339), g.cfg.MaxWait), later.At)
		}
		return refuse("limiter", audit.Defer, "no grant, sending nothing: "+err.Error(), time.Now().Add(2*time.Second))
	}
	// The wait may have been long: a complaint or a refusal may have come
	// in meanwhile.
	if why := g.blocks.check(s, u); why != "" {
		return refuse("signal", audit.Refuse, why, time.Time{})
	}
	if reason, stopped, err := g.cfg.StopList.Stopped(ctx, s); err != nil {
		return refuse("stoplist", audit.Defer, "stop list unavailable, sending nothing: "+err.Error(), time.Now().Add(5*time.Second))
	} else if stopped {
		return refuse("stoplist", audit.Refuse, "site was put on the stop list while the request waited for its slot: "+reason, time.Time{})
	}
	if g.paceSite != nil && r != nil {
		g.paceSite(ctx, s, grant.At.Add(grant.Interval))
	}
	d.Wait = grant.Waited
	pass("limiter", fmt.Sprintf("granted after %s at interval %s", grant.Waited.Round(time.Millisecond), grant.Interval))
	d.Verdict, d.Reason = audit.Allow, "all checks passed"

	// Write-ahead: the decision is durable before the request is sent.
	if err := g.cfg.Sink.Record(ctx, audit.Event{Type: audit.TypeDecision, Time: time.Now().UTC(), Site: s, Decision: d}); err != nil {
		err = fmt.Errorf("goodbot: operation log failed, sending nothing: %w", err)
		if r != nil {
			r.setOutcome(outcome{class: "audit", reason: err.Error()})
		}
		return nil, err
	}
	// 6. A slot among the site's requests in flight.
	if err := sg.slots.acquire(ctx, kind != kindPage && kind != "redirect"); err != nil {
		return nil, err
	}
	release := sync.OnceFunc(sg.slots.release)
	defer release()
	if sg.slowed.Load() != slowed {
		// The site asked to slow down (429, 503, Retry-After) after this
		// request was granted: it is not sent on that grant, but waits
		// for a new one, which the limiter, having backed off, spaces
		// as the site asked.
		return refuse("limiter", audit.Defer, "the site asked to slow down after this request was granted; it waits for a new grant", time.Now())
	}
	if grant, err = g.onTime(ctx, s, sg, grant); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return refuse("limiter", audit.Defer, "the grant's slot passed before the request could leave, and no new one came: "+err.Error(), time.Now().Add(2*time.Second))
	}
	// Pacing may have held the request a moment: a complaint that came
	// meanwhile still stops it (the decision above is then followed by
	// this refusal; nothing is sent). The check and the send hold the
	// site's send lock, which a complaint takes once the site is blocked:
	// when ApplyComplaint returns, no request that missed the block is
	// still on its way.
	sg.sending.RLock()
	if why := g.blocks.check(s, u); why != "" {
		sg.sending.RUnlock()
		return refuse("signal", audit.Refuse, why+" (before the request left)", time.Time{})
	}
	if reason, stopped, err := g.cfg.StopList.Stopped(ctx, s); err == nil && stopped {
		sg.sending.RUnlock()
		return refuse("stoplist", audit.Refuse, "site was put on the stop list before the request left: "+reason, time.Time{})
	}
	// A site whose next request is seconds away does not need the
	// connection kept for it (see keepAliveWithin).
	resp, body, err := g.send(ctx, req, r, s, sg, kind, allowPrivate, grant.Interval > g.keepAlive)
	sg.sending.RUnlock()
	// The answer is in: filtering it takes no connection to the site.
	release()
	if err != nil {
		return nil, err
	}
	if r != nil && r.kind == "" && resp.StatusCode != http.StatusNotModified {
		// A page, or a redirect hop of one: colly hands what RoundTrip
		// returns to the callbacks (OnError for an error status, else
		// OnResponse, OnHTML, OnXML, OnScraped), so it is filtered here,
		// before colly sees it. A 304 has no body (RFC 9110 section
		// 15.4.5): there is nothing to filter, and nothing is handed on
		// (send dropped any the site sent).
		if body, err = g.filterResponse(resp, body, r); err != nil {
			return nil, err
		}
		if cacheable {
			g.toCache(req, r, s, resp, body)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// blockLoginRedirect blocks the part of prev's site that a redirect from
// prev to target, a login page, walls off, and returns why.
func (g *gate) blockLoginRedirect(prev, target *url.URL) string {
	prefix := wallPrefix(prev)
	why := fmt.Sprintf("redirect to a login page (%s); stopping %s%s", g.redactURL(target.String()), site.Key(prev), prefix)
	g.blocks.blockPrefix(site.Key(prev), prefix, "login wall: "+why)
	return why
}

// closeIdle closes the connections kept open for requests to come. A
// connection in use is closed when its request is done.
func (g *gate) closeIdle() {
	if t, ok := g.base.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// drain waits until every request to s that passed its last check has
// been sent and answered. Called after s is blocked, it makes sure nothing
// more reaches the site. A site with nothing under way has no siteGate:
// one made for the drain takes its lock at once.
func (g *gate) drain(s string) {
	sg := g.sites.acquire(s)
	sg.sending.Lock()
	sg.sending.Unlock()
	g.sites.release(s, sg)
}

// onTime paces a granted request (see pace) and makes sure that it leaves
// within its grant's window: a grant whose Latest has passed by then (the
// worker woke late, the decision's fsync was slow) is given back for a new
// one, up to three times, rather than sent bunched with the next slot's
// request, which may be another process's. A limiter whose grants carry no
// Latest is paced only.
func (g *gate) onTime(ctx context.Context, s string, sg *siteGate, grant limiter.Grant) (limiter.Grant, error) {
	rt, canRetake := g.limiter.(limiter.Retaker)
	for retakes := 0; ; retakes++ {
		gap := grant.Interval
		if !grant.Latest.IsZero() {
			// Within the window the slots already space requests by at
			// least interval less the window.
			gap -= limiter.SendWindow(grant.Interval)
		}
		if err := pace(ctx, &sg.pacer, gap); err != nil {
			return grant, err
		}
		if grant.Latest.IsZero() || !time.Now().After(grant.Latest) || !canRetake || retakes == 3 {
			return grant, nil
		}
		wctx, cancel := context.WithTimeout(ctx, g.cfg.MaxWait)
		next, err := rt.Retake(wctx, s, grant)
		cancel()
		if err != nil {
			return grant, err
		}
		grant = next
	}
}

// pace holds a granted request until at least interval after the previous
// request to p's site left this process. The limiter grants slots one interval
// apart, but what happens between the grant and the send (the decision's
// fsync, a late wake-up on a loaded machine) varies: a request that leaves
// late would otherwise arrive at the site bunched with the next one. So
// arrivals are spaced, not only decisions. Across processes (a Redis job)
// this spaces each process's own requests only; a limiter.Config.Burst
// above 1 has its bursts evened out here.
func pace(ctx context.Context, p *pacer, interval time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	// A request leaves when it is written, after its connection is
	// dialled, which can take long: count from then, or the next request,
	// on a kept-alive connection, reaches the site early.
	if wait := time.Until(p.latest().Add(interval)); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	p.last = time.Now()
	return nil
}

// filterResponse runs the personal-data filter over a page's body and
// records what it found. A body it drops is not handed on: the request
// fails with a *StoppedError instead.
func (g *gate) filterResponse(resp *http.Response, body []byte, r *request) ([]byte, error) {
	if followed(resp) {
		// http.Client follows this redirect and discards the body.
		return nil, nil
	}
	rawURL := resp.Request.URL.String()
	body, sum := g.filterBody(resp.Header.Get("Content-Type"), body)
	if len(sum.Counts) > 0 || sum.Drop {
		g.recordFilter(r, rawURL, sum)
	}
	r.mu.Lock()
	r.dropped, r.filtered = sum.Drop, body
	r.mu.Unlock()
	if sum.Drop {
		return nil, &StoppedError{Class: "dropped", Reason: "the personal-data filter dropped the page: " + sum.Reason, URL: g.redactURL(rawURL)}
	}
	g.pageRules(r, resp, body)
	return body, nil
}

// pageRules reads the robots rules a page gives about itself (see
// readPageRules) from its filtered answer, and keeps them for the worker
// (storage) and, in the page's colly.Context, for the links its
// callbacks follow.
func (g *gate) pageRules(r *request, resp *http.Response, body []byte) {
	rules := readPageRules(g.links, resp.Request.URL, resp.Header, body, looksHTML(resp.Header.Get("Content-Type"), body), time.Now())
	if rules == nil {
		return
	}
	rules.page, rules.site = g.redactURL(resp.Request.URL.String()), site.Key(resp.Request.URL)
	r.mu.Lock()
	r.rules = rules
	if r.fetch != nil {
		r.fetch.Signals = rules.rules
	}
	r.mu.Unlock()
	if r.ctx != nil {
		r.ctx.Put(ctxRules, rules)
	}
}

// followed reports whether http.Client follows resp, a redirect, to its
// Location rather than return it.
func followed(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return resp.Header.Get("Location") != ""
	}
	return false
}

// filterBody runs the page filter, failing closed: a page the filter cannot
// read is not passed on.
func (g *gate) filterBody(ctype string, b []byte) ([]byte, FilterSummary) {
	body, sum, err := g.cfg.Filter.FilterBody(ctype, b)
	if err != nil {
		sum = FilterSummary{Drop: true, Reason: "filter failed: " + err.Error()}
	}
	if sum.Drop {
		body = nil
	}
	return body, sum
}

// recordFilter records what the filter found on r's page, or why it dropped it.
func (g *gate) recordFilter(r *request, rawURL string, sum FilterSummary) {
	e := &audit.PII{URL: g.redactURL(rawURL), Counts: sum.Counts, Dropped: sum.Drop, Reason: sum.Reason}
	r.mu.Lock()
	if sum.Drop && r.fetch != nil {
		e.SHA256 = r.fetch.BodySHA256
	}
	r.mu.Unlock()
	if sum.Drop {
		g.stats.dropped.Add(1)
	}
	g.record(context.Background(), r.item.Site, audit.Event{Type: audit.TypePII, PII: e})
}

// MaxRedirects is the number of redirect hops followed from one request,
// robots.txt included (RFC 9309 asks for at least five). The gate refuses
// the next hop, and records that it did.
const MaxRedirects = 5

// redirectHop returns which hop of a redirect chain req is: 0 for a request
// that no redirect led to, 1 for the first redirect's target, and so on. It
// counts at most MaxRedirects+1.
func redirectHop(req *http.Request) int {
	n := 0
	for r := req; r != nil && r.Response != nil && n <= MaxRedirects; r = r.Response.Request {
		n++
	}
	return n
}

// addressAllowed applies the private-network rule. It returns whether the
// dialer may connect to a non-public address, and a reason when the request
// must be refused.
func (g *gate) addressAllowed(ctx context.Context, req *http.Request, r *request, kind string) (bool, string, error) {
	targetPublic, err := g.addrs.hostPublic(ctx, req.URL.Hostname())
	if err != nil {
		return false, "", err
	}
	if targetPublic {
		return false, "", nil
	}
	// The target is private. Who led here?
	var from string
	switch {
	case req.Response != nil:
		from = req.Response.Request.URL.Hostname()
	case r != nil && r.item.Seed:
		return true, "", nil // typed by the user
	case r != nil:
		from = r.item.From
		if h, _, err := splitSite(from); err == nil {
			from = h
		}
	default:
		// robots.txt of a site that is already in the crawl.
		return true, "", nil
	}
	fromPublic, err := g.addrs.hostPublic(ctx, from)
	if err != nil {
		return false, "", err
	}
	if fromPublic {
		return false, fmt.Sprintf("%s leads from public host %s to non-public address %s", kind, from, req.URL.Hostname()), nil
	}
	return true, "", nil
}

func splitSite(s string) (string, string, error) {
	u, err := url.Parse("http://" + s)
	if err != nil {
		return "", "", err
	}
	return u.Hostname(), u.Port(), nil
}

// send sends req with honest headers and reads the answer. It returns the
// response, with its body read and decoded to UTF-8 apart from it. With
// closeConn it asks for the connection to be closed after the answer
// (Connection: close).
func (g *gate) send(ctx context.Context, req *http.Request, r *request, s string, sg *siteGate, kind string, allowPrivate, closeConn bool) (*http.Response, []byte, error) {
	// Config.Timeout bounds the send and the body, not the wait before.
	sendCtx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	out := req.Clone(context.WithValue(sendCtx, addrPolicyKey{}, allowPrivate))
	out.Header.Del(hdrItem)
	out.Close = out.Close || closeConn
	if kind != kindPage {
		// http.Client copies the first request's header fields to each
		// redirect hop; validators of one URL do not apply to another.
		for _, h := range conditionalHeaders {
			out.Header.Del(h)
		}
	}
	for _, h := range spoofHeaders {
		if out.Header.Get(h) != "" {
			g.warnOnce("spoof:"+h, "removed a header that would misstate the crawler's identity or origin", "header", h)
			out.Header.Del(h)
		}
	}
	if ua := out.Header.Get("User-Agent"); ua != "" && ua != g.ua {
		g.warnOnce("ua", "replaced a User-Agent set by a callback; goodbot always sends its own", "user_agent", ua)
	}
	out.Header.Set("User-Agent", g.ua)
	if g.from != "" {
		out.Header.Set("From", g.from)
	}

	f := &audit.Fetch{RequestID: req.Header.Get(hdrItem), URL: g.redactURL(req.URL.String()), Method: req.Method, UserAgent: g.ua}
	// Signed last, once the request is as it is sent: each hop and each
	// retry gets its own signature, for the authority it goes to, and the
	// same identity.
	if g.signer != nil {
		if err := g.signer.Sign(out); err != nil {
			err = fmt.Errorf("goodbot: could not sign the request, sending nothing: %w", err)
			f.Class, f.Error = "network", err.Error()
			g.finish(ctx, s, r, kind, f, outcome{class: "network", reason: err.Error()})
			return nil, nil, err
		}
	}
	wrote := &wroteHeader{h: http.Header{}}
	trace := &httptrace.ClientTrace{WroteHeaderField: wrote.add}
	p := &sg.pacer
	trace.WroteHeaders = func() {
		now := time.Now().UnixNano()
		for old := p.wrote.Load(); now > old && !p.wrote.CompareAndSwap(old, now); old = p.wrote.Load() {
		}
	}
	out = out.WithContext(httptrace.WithClientTrace(out.Context(), trace))
	start := time.Now()
	g.stats.sent.Add(1)
	if r != nil {
		r.mu.Lock()
		r.sent = true
		r.mu.Unlock()
	}
	resp, err := g.base.RoundTrip(out)
	if err != nil {
		f.Duration, f.Class, f.Error = time.Since(start), "network", err.Error()
		g.limiter.Observe(context.WithoutCancel(ctx), s, limiter.Observation{Latency: f.Duration, Err: err})
		g.finish(ctx, s, r, kind, f, outcome{class: "network", reason: err.Error()})
		return nil, nil, err
	}
	latency := time.Since(start)
	body, readErr := g.readBody(resp)
	f.Duration = time.Since(start)
	f.Status = resp.StatusCode
	f.ContentType = resp.Header.Get("Content-Type")
	f.Proto, f.RequestHeader, f.ResponseHeader = resp.Proto, wrote.get(), resp.Header.Clone() // the scrub sink filters them
	f.Bytes = int64(len(body))
	sum := sha256.Sum256(body)
	f.BodySHA256 = hex.EncodeToString(sum[:])

	// Text is read and scanned as UTF-8, whatever it was sent in.
	if kind != "robots" && kind != "robots-redirect" {
		if dec, ct, how, ok := textdecode.Decode(f.ContentType, body); ok {
			body = dec
			resp.Header.Set("Content-Type", ct)
			f.Charset = how.String()
			if r != nil {
				r.mu.Lock()
				r.charset = how
				r.mu.Unlock()
			}
		}
	}
	retryAfter := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	obs := limiter.Observation{Status: resp.StatusCode, Latency: latency, RetryAfter: retryAfter}
	if readErr != nil && !errors.Is(readErr, errTooLarge) {
		obs.Err = readErr
	}
	g.limiter.Observe(context.WithoutCancel(ctx), s, obs)
	if obs.Status == http.StatusTooManyRequests || obs.Status == http.StatusServiceUnavailable || obs.RetryAfter > 0 {
		sg.slowed.Add(1)
	}

	if readErr != nil {
		class := "network"
		var stop error = readErr
		if errors.Is(readErr, errTooLarge) {
			class = "too-large"
			stop = &StoppedError{Class: class, Reason: fmt.Sprintf("body larger than %d bytes", g.cfg.MaxBodySize), URL: f.URL}
		}
		f.Class, f.Error = class, readErr.Error()
		g.finish(ctx, s, r, kind, f, outcome{class: class, status: resp.StatusCode, reason: readErr.Error()})
		return nil, nil, stop
	}

	o := outcome{status: resp.StatusCode}
	var stop error
	isHTML := looksHTML(f.ContentType, body)
	sig, sigWhy := "", ""
	if isHTML && kind != "robots" && kind != "robots-redirect" {
		sig, sigWhy = pageSignal(body)
	}
	switch {
	case sig == "challenge":
		o.class = "challenge"
		g.blocks.blockSite(s, "challenge page: "+sigWhy)
		o.reason = fmt.Sprintf("%s answered a challenge page (%s); goodbot stops crawling the site", s, sigWhy)
		stop = &StoppedError{Class: "challenge", Reason: o.reason, URL: f.URL}
	case resp.StatusCode == http.StatusPaymentRequired || resp.Header.Get("Crawler-Price") != "":
		o.class = "payment"
		why := paymentReason(resp, g.redactText)
		g.blocks.blockSite(s, why)
		g.stats.payments.Add(1)
		o.reason = fmt.Sprintf("%s: %s; goodbot stops crawling the site and neither pays nor retries", s, why)
		stop = &StoppedError{Class: "payment", Reason: o.reason, URL: f.URL}
	case resp.StatusCode == http.StatusNotModified && kind == kindPage && r != nil && r.prior != nil && requestConditional(out.Header) != nil:
		o.class = classNotModified
		o.reason = "304 Not Modified: unchanged since the fetch of " + r.prior.Fetched.UTC().Format(time.RFC3339)
	case resp.StatusCode == http.StatusNotModified:
		o.class = classUnexpected304
		o.reason = "304 Not Modified to a request goodbot knows no earlier answer for: nothing to refer to, nothing stored"
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		o.class = "redirect"
		if loc, err := req.URL.Parse(resp.Header.Get("Location")); err == nil && followed(resp) && isLoginURL(loc) && !isLoginURL(req.URL) {
			// A login wall: blocked now, before this request's slot is
			// free, so that no other request under the prefix leaves
			// before the client asks for the next hop (whose check
			// refuses it and records why).
			g.blockLoginRedirect(req.URL, loc)
		}
	case resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode == 407:
		o.class = "refused"
		o.reason = fmt.Sprintf("%d %s: not retried", resp.StatusCode, http.StatusText(resp.StatusCode))
		if resp.Header.Get("Accept-Signature") != "" {
			// A site asking for a signature (RFC 9421 section 5) is
			// answered by the signature every request carries, never
			// by another identity or a retry.
			if g.signer != nil {
				o.reason += "; the site asked for a signature (Accept-Signature) and this request carried goodbot's (keyid " + g.signer.Key().KeyID() + ")"
			} else {
				o.reason += "; the site asked for a signature (Accept-Signature), and request signing is off (set a key directory: Config.BotDirectory, --bot-directory)"
				g.warnOnce("accept-signature", "a site asked for a signed request (Accept-Signature); signing is off: set Config.BotDirectory (--bot-directory)", "site", s)
			}
		}
		if g.blocks.answered(s, true) {
			g.blocks.blockSite(s, fmt.Sprintf("site refused %d requests in a row (401/403)", refusalsToStop))
		}
	case resp.StatusCode == 429 || resp.StatusCode == 503:
		o.class = "hold"
		hold := retryAfter
		if hold <= 0 {
			hold = g.cfg.RetryBase
		}
		o.retryAt = time.Now().Add(hold)
		o.reason = fmt.Sprintf("%d %s: site held", resp.StatusCode, http.StatusText(resp.StatusCode))
	case resp.StatusCode >= 500:
		o.class = "server-error"
		o.reason = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	case resp.StatusCode >= 400:
		o.class = "client-error"
		o.reason = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	case sig == "login":
		o.class = "login"
		prefix := wallPrefix(req.URL)
		g.blocks.blockPrefix(s, prefix, "login wall: "+sigWhy)
		o.reason = fmt.Sprintf("%s at %s; stopping %s%s", sigWhy, f.URL, s, prefix)
		stop = &StoppedError{Class: "login", Reason: o.reason, URL: f.URL}
	default:
		o.class = "ok"
		g.blocks.answered(s, false)
	}
	f.Class = o.class
	g.finish(ctx, s, r, kind, f, o)
	if stop != nil {
		return nil, nil, stop
	}

	// Callbacks see header values as the filter leaves them.
	for k, vs := range resp.Header {
		if structuralHeader[k] {
			continue
		}
		for i, v := range vs {
			vs[i] = g.redactText(v)
		}
	}
	if resp.StatusCode == http.StatusNotModified {
		body = nil // a 304 has no content (RFC 9110 section 15.4.5)
	}
	resp.Request = req // the request given to RoundTrip, not our clone of it
	resp.Body = http.NoBody
	resp.Header.Del("Content-Length")
	resp.Uncompressed = true // the gate decompressed, within the size limit
	return resp, body, nil
}

// wroteHeader collects the request's header fields as the HTTP client
// writes them.
type wroteHeader struct {
	mu sync.Mutex
	h  http.Header
}

func (w *wroteHeader) add(k string, v []string) {
	w.mu.Lock()
	w.h[k] = append(w.h[k], v...)
	w.mu.Unlock()
}

func (w *wroteHeader) get() http.Header {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.h.Clone()
}

// finish records a fetch. The final hop of a page request is kept for the
// worker, which records it after storage with the stored digest.
func (g *gate) finish(ctx context.Context, s string, r *request, kind string, f *audit.Fetch, o outcome) {
	g.stats.count(o.class)
	if r != nil && r.kind == "" && kind != "robots" && kind != "robots-redirect" {
		r.mu.Lock()
		prev, prevSite := r.fetch, r.fetchSite
		r.fetch, r.fetchSite, r.outcome = f, s, o
		r.mu.Unlock()
		if prev != nil {
			g.record(ctx, prevSite, audit.Event{Type: audit.TypeFetch, Fetch: prev})
		}
		return
	}
	g.record(ctx, s, audit.Event{Type: audit.TypeFetch, Fetch: f})
}

// record sends an event that need not be durable before the crawler goes on
// to the sink, logging (not returning) a failure: only the write-ahead
// decision stops a request.
func (g *gate) record(ctx context.Context, s string, e audit.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if e.Site == "" {
		e.Site = s
	}
	var err error
	if as, ok := g.cfg.Sink.(audit.AsyncSink); ok {
		// Only decisions must be durable before a request leaves; they
		// are recorded with Record, which also makes this event durable.
		err = as.Append(context.WithoutCancel(ctx), e)
	} else {
		err = g.cfg.Sink.Record(context.WithoutCancel(ctx), e)
	}
	if err != nil {
		g.cfg.Logger.Error("operation log write failed", "type", e.Type, "site", s, "err", err)
		g.stats.auditErrors.Add(1)
	}
}

func (g *gate) warnOnce(key, msg string, args ...any) {
	if _, loaded := g.logOnce.LoadOrStore(key, true); !loaded {
		g.cfg.Logger.Warn(msg, args...)
	}
}

// structuralHeader lists the response headers that carry no free text and
// are read by the crawler or the HTTP client as they are.
var structuralHeader = map[string]bool{
	"Content-Type": true, "Content-Length": true, "Content-Encoding": true, "Transfer-Encoding": true,
	"Date": true, "Last-Modified": true, "Expires": true, "Cache-Control": true, "Vary": true,
	"Location": true, "Retry-After": true, "Age": true, "Accept-Ranges": true,
}

var errTooLarge = errors.New("response body exceeds the size limit")

// readBody reads and closes resp.Body, decompressing gzip that the transport
// did not, within MaxBodySize.
func (g *gate) readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	limit := g.cfg.MaxBodySize
	var rd io.Reader = resp.Body
	enc := strings.ToLower(resp.Header.Get("Content-Encoding"))
	ctype := strings.ToLower(resp.Header.Get("Content-Type"))
	gz := !resp.Uncompressed && (strings.Contains(enc, "gzip") || (enc == "" && strings.Contains(ctype, "gzip")) || strings.HasSuffix(strings.ToLower(resp.Request.URL.Path), ".xml.gz"))
	if gz {
		// The compressed size is bounded too.
		zr, err := gzip.NewReader(io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		defer zr.Close()
		rd = zr
		resp.Header.Del("Content-Encoding")
	}
	size := int64(512)
	if !gz && resp.ContentLength > 0 {
		// Room for the whole body, and the one byte more that tells a
		// body longer than announced (or than the limit).
		size = min(resp.ContentLength, limit) + 1
	}
	body, err := readAll(io.LimitReader(rd, limit+1), int(size))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, errTooLarge
	}
	return body, nil
}

// readAll is io.ReadAll starting with a buffer of size bytes, so that a
// body of known length is read without growing one.
func readAll(r io.Reader, size int) ([]byte, error) {
	b := make([]byte, 0, size)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// parseRetryAfter reads a Retry-After header in either form: seconds or an
// HTTP date. It returns 0 when the header is absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		if n > 7*24*3600 {
			n = 7 * 24 * 3600
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func looksHTML(ctype string, body []byte) bool {
	if ctype != "" {
		mt, _, err := mime.ParseMediaType(ctype)
		if err == nil {
			return mt == "text/html" || mt == "application/xhtml+xml"
		}
	}
	return strings.Contains(http.DetectContentType(body), "text/html")
}

// stats counts what the gate did. All fields are updated atomically.
type stats struct {
	sent, refused, ok, redirects, refusedByServer, holds, errors, challenges, logins, auditErrors atomic.Int64
	pages, dropped, unreadable, cached, notStored, payments, revisits, spared, unchanged          atomic.Int64
}

func (s *stats) count(class string) {
	switch class {
	case "ok":
		s.ok.Add(1)
	case "redirect":
		s.redirects.Add(1)
	case classNotModified:
		s.revisits.Add(1)
	case "refused":
		s.refusedByServer.Add(1)
	case "hold":
		s.holds.Add(1)
	case "challenge":
		s.challenges.Add(1)
	case "login":
		s.logins.Add(1)
	default:
		s.errors.Add(1)
	}
}
