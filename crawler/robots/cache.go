package robots

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/goodbot/goodbot/internal/site"
)

// MaxRedirects is the number of consecutive redirects the Cache follows
// when fetching a robots.txt file (RFC 9309 section 2.3.1.2 asks for at
// least five).
const MaxRedirects = 5

// MaxTTL is the longest time a fetched robots.txt is used (RFC 9309
// section 2.4), and the default Options.TTL.
const MaxTTL = 24 * time.Hour

// The policies a robots.txt fetch can result in.
const (
	PolicyParsed      = "parsed"       // a 2xx answer: the file's rules apply
	PolicyAllowAll    = "allow-all"    // a 4xx answer other than 429: everything is allowed
	PolicyDisallowAll = "disallow-all" // unreachable: nothing is allowed until a retry
	// PolicyDeferred is what a Shared store keeps for a robots.txt
	// request that was not sent (see Deferral): every crawler waits for
	// the time it was put off to, and nothing is allowed before.
	PolicyDeferred = "deferred"
)

// Options configures a Cache. The zero value of each field selects its
// default.
type Options struct {
	// ProductToken names the crawler in User-agent lines, e.g. "goodbot".
	// Only its token part is used (see File.Group). When it is empty, only
	// the "*" group applies.
	ProductToken string
	// TTL is how long a fetched robots.txt is used. The default, and the
	// maximum, is MaxTTL (24h).
	TTL time.Duration
	// Header is added to every robots.txt request, including redirect hops
	// (User-Agent, From, and whatever marks the crawler's own requests).
	// Leave Accept-Encoding out: the transport then asks for gzip and
	// decodes it, and the Cache reads at most MaxSize decoded bytes.
	Header http.Header
	// RetryBase and RetryMax bound the backoff after robots.txt was
	// unreachable: the n-th consecutive failure disallows the origin for
	// RetryBase·2^(n-1), at most RetryMax. The defaults are 1m and 1h.
	RetryBase, RetryMax time.Duration
	// Timeout bounds each robots.txt fetch, redirects included. The
	// default is 30s.
	Timeout time.Duration
	// Now is the clock. The default is time.Now.
	Now func() time.Time
	// OnFetch, if set, is called once per robots.txt fetch, whatever the
	// outcome, before any Check waiting for it returns. It must not call
	// Check for the same origin (that Check would wait for this fetch).
	OnFetch func(ctx context.Context, f Fetched)
	// Shared, if set, shares fetches with other caches (the workers of a
	// distributed job), so that each origin's robots.txt is fetched once
	// per job. When it fails, the cache fetches on its own.
	Shared Shared
}

// Shared is a store through which the Caches of several crawlers share
// robots.txt fetches. Implementations must be safe for concurrent use.
type Shared interface {
	// Load returns the fetch stored for origin, if there is one that has
	// not expired.
	Load(ctx context.Context, origin string) (Stored, bool, error)
	// Claim asks to be the one that fetches origin's robots.txt now and
	// reports whether this caller won. A claim lapses after ttl.
	Claim(ctx context.Context, origin string, ttl time.Duration) (bool, error)
	// Save stores s for origin until s.Expires, replacing what was there,
	// and releases the claim.
	Save(ctx context.Context, origin string, s Stored) error
}

// Stored is one robots.txt fetch as a Shared store keeps it.
type Stored struct {
	URL       string    `json:"url"`
	Status    int       `json:"status"`
	Body      []byte    `json:"body,omitempty"` // the file, for PolicyParsed
	Policy    string    `json:"policy"`
	Cause     string    `json:"cause,omitempty"`
	FetchedAt time.Time `json:"fetched_at"`
	Expires   time.Time `json:"expires"`
	RetryAt   time.Time `json:"retry_at,omitzero"`
	Failures  int       `json:"failures,omitempty"`
}

// Fetched describes one robots.txt fetch and the policy it set.
type Fetched struct {
	// URL is the robots.txt URL requested (before redirects).
	URL string
	// Site is the site key of the origin (see package internal/site).
	Site string
	// Status is the HTTP status of the final answer, or 0 when there was
	// none (a network error or too many redirects).
	Status int
	// Body is the file as fetched on a 2xx answer, at most MaxSize bytes;
	// nil otherwise.
	Body []byte
	// SHA256 is the hex SHA-256 digest of Body, or "" when Body is nil.
	SHA256 string
	// Policy is PolicyParsed, PolicyAllowAll or PolicyDisallowAll.
	Policy string
	// Expires is when the policy lapses and robots.txt is fetched again.
	// For PolicyDisallowAll it is the retry time.
	Expires time.Time
	// Err is the network error, timeout or redirect-limit error, if any.
	Err error
	// File is the parsed file for PolicyParsed, AllowAll() or DisallowAll().
	File *File
	// Group is the group of File that applies to Options.ProductToken.
	Group *Group
	// Shared is true when another crawler fetched the file and this
	// cache took it from the Shared store.
	Shared bool
}

// Verdict is the Cache's answer for one URL.
type Verdict struct {
	// Allowed reports whether the URL may be fetched.
	Allowed bool
	// Rule is the rule that decided, as Rule.String formats it, or "" when
	// no rule of the file matched or no file applies.
	Rule string
	// Reason explains the verdict, e.g. `disallowed by "disallow: /private"
	// (line 4)` or "robots.txt answered 503: disallow all until
	// 2026-11-23T14:03:00Z".
	Reason string
	// SHA256 is the hex digest of the robots.txt in force, or "".
	SHA256 string
	// Policy is the policy in force (PolicyParsed, PolicyAllowAll or
	// PolicyDisallowAll), or "" for /robots.txt itself.
	Policy string
	// CrawlDelay is the minimum interval between requests the file asks
	// of this crawler: the larger of its Crawl-delay and Request-rate.
	CrawlDelay time.Duration
	// RetryAt is set when the disallow is temporary, because robots.txt
	// was unreachable: robots.txt is fetched again after this time.
	RetryAt time.Time
	// Sitemaps are the file's Sitemap lines, if a file applies.
	Sitemaps []string
	// Usage lists the usage-preference lines (Content-Usage,
	// Content-Signal) of the file in force that apply to the URL, as
	// Group.UsageFor finds them. It is empty for a URL that may not be
	// fetched: preferences apply only to what can be crawled.
	Usage []UsageRule
}

// Cache fetches, parses and keeps the robots.txt of each origin (scheme and
// authority: http://a and https://a are separate), and checks URLs
// against it. It is safe for concurrent use; concurrent checks for an origin
// share one fetch.
//
// Status codes are handled as RFC 9309 section 2.3.1 says:
//   - 2xx: the file is parsed and its rules apply for TTL;
//   - 4xx other than 429 (401 and 403 included): everything is allowed for TTL;
//   - 5xx, 429, any other status, or a network error: everything is
//     disallowed until a retry after exponential backoff, lengthened by a
//     Retry-After header on 429 and 503 (seconds or an HTTP date, capped
//     at 24h);
//   - redirects are followed up to MaxRedirects hops, and the file reached
//     applies to the original origin. More hops than that count as
//     unreachable (disallow all, retry later). RFC 9309 allows treating them
//     as unavailable (allow all); goodbot takes the choice that sends less.
type Cache struct {
	client    *http.Client
	token     string
	ttl       time.Duration
	header    http.Header
	retryBase time.Duration
	retryMax  time.Duration
	timeout   time.Duration
	now       func() time.Time
	onFetch   func(context.Context, Fetched)
	shared    Shared

	flight singleflight.Group

	mu         sync.Mutex
	entries    map[string]*entry // by origin "scheme://sitekey"
	stores     int               // entries stored since the last sweep
	sweepEvery int               // stores between sweeps of lapsed entries
}

// entry is the policy in force for one origin. It keeps what a verdict
// needs and no more: one is kept per origin crawled, for as long as its
// file is used, so a crawl of many sites keeps many (the file's other
// groups, its warnings and its body are not needed for a verdict, and a
// Shared store is given those when the file is fetched).
type entry struct {
	group    *Group   // the group of the file that applies to the Cache's product token
	sitemaps []string // the file's Sitemap lines
	policy   string
	sha      string
	cause    string    // for allow-all and disallow-all: why
	expires  time.Time // fetch again after this
	retryAt  time.Time // set for disallow-all
	failures int       // consecutive unreachable fetches
	// deferred marks an entry for a robots.txt request that was not
	// sent (see Deferral): nothing was read, so nothing is reported,
	// and the fetch is tried again at retryAt.
	deferred bool
}

// newEntry returns the entry for file, a parsed file or AllowAll() or
// DisallowAll(), under policy.
func (c *Cache) newEntry(file *File, policy string) *entry {
	return &entry{group: file.Group(c.token), sitemaps: file.Sitemaps, policy: policy}
}

// NewCache returns a Cache that fetches robots.txt files through rt (nil
// means http.DefaultTransport). It builds its own http.Client around rt,
// which follows at most MaxRedirects redirects.
func NewCache(rt http.RoundTripper, opts Options) *Cache {
	if rt == nil {
		rt = http.DefaultTransport
	}
	c := &Cache{
		token:     opts.ProductToken,
		ttl:       opts.TTL,
		header:    opts.Header.Clone(),
		retryBase: opts.RetryBase,
		retryMax:  opts.RetryMax,
		timeout:   opts.Timeout,
		now:       opts.Now,
		onFetch:   opts.OnFetch,
		shared:    opts.Shared,
		entries:   map[string]*entry{},

		sweepEvery: 1024,
	}
	if c.ttl <= 0 || c.ttl > MaxTTL {
		c.ttl = MaxTTL
	}
	if c.retryBase <= 0 {
		c.retryBase = time.Minute
	}
	if c.retryMax <= 0 {
		c.retryMax = time.Hour
	}
	c.retryMax = max(c.retryMax, c.retryBase)
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.client = &http.Client{
		Transport: rt,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return errTooManyRedirects
			}
			return nil
		},
	}
	return c
}

var errTooManyRedirects = fmt.Errorf("robots.txt redirected more than %d times", MaxRedirects)

// Deferral is an error a Cache's transport may return for a robots.txt
// request it did not send but will send from DeferredUntil on: the
// crawler's own rate limiter put it off to the site's next slot, say. The
// site did not answer, so it is not unreachable: no failure is counted,
// nothing is reported to OnFetch, a Shared store is told to make the
// others wait too (PolicyDeferred), and the origin's URLs are disallowed
// until then, when the fetch is tried again. A zero DeferredUntil is not
// a deferral.
type Deferral interface {
	error
	DeferredUntil() time.Time
}

// deferredUntil returns the time of the Deferral in err's chain, if any.
func deferredUntil(err error) (time.Time, bool) {
	var d Deferral
	if errors.As(err, &d) {
		if t := d.DeferredUntil(); !t.IsZero() {
			return t, true
		}
	}
	return time.Time{}, false
}

// fetchKey is the context key that marks the Cache's own requests.
type fetchKey struct{}

// IsFetch reports whether r is a request the Cache sends to fetch a
// robots.txt file (the first request or a redirect hop). A gate that calls
// Check for every outgoing request may use it to skip the robots check for
// these; Check itself allows them.
func IsFetch(r *http.Request) bool {
	return r.Context().Value(fetchKey{}) != nil
}

// Check reports whether u may be fetched under its origin's robots.txt,
// fetching that file first if it is not cached or has expired. Check for
// /robots.txt itself, and for the Cache's own robots.txt requests (see
// IsFetch), allows without fetching.
//
// Check returns an error only when u is not an absolute http or https URL,
// or when ctx ends before the verdict is known. An unreachable robots.txt
// is not an error: it is a Verdict that disallows, with RetryAt set.
func (c *Cache) Check(ctx context.Context, u *url.URL) (Verdict, error) {
	if u == nil {
		return Verdict{}, errors.New("robots: check: nil URL")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return Verdict{}, fmt.Errorf("robots: check %q: scheme %q is not http or https", u.Redacted(), u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return Verdict{}, fmt.Errorf("robots: check %q: no host", u.Redacted())
	}
	if ctx.Value(fetchKey{}) != nil {
		return Verdict{Allowed: true, Reason: "part of a robots.txt fetch"}, nil
	}
	pq := u.EscapedPath()
	if pq == "" {
		pq = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		pq += "?" + u.RawQuery
	}
	if normalize(pq) == "/robots.txt" {
		return Verdict{Allowed: true, Reason: "robots.txt itself is always allowed"}, nil
	}

	authority := site.Key(u)
	key := scheme + "://" + authority
	e := c.lookup(key)
	if e == nil {
		origin := &url.URL{Scheme: scheme, Host: authority}
		ch := c.flight.DoChan(key, func() (any, error) {
			// Another flight may have stored a fresh entry between our
			// lookup and this flight's start: use it, fetch only once.
			if e := c.lookup(key); e != nil {
				return e, nil
			}
			return c.fetch(ctx, key, origin), nil
		})
		select {
		case <-ctx.Done():
			return Verdict{}, fmt.Errorf("robots: check %s: %w", u.Redacted(), context.Cause(ctx))
		case r := <-ch:
			e = r.Val.(*entry)
		}
	}
	return e.verdict(pq), nil
}

// lookup returns the fresh entry for key, or nil.
func (c *Cache) lookup(key string) *entry {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[key]; e != nil && now.Before(e.expires) {
		return e
	}
	return nil
}

// fetch gets the robots.txt policy of origin: from the Shared store when
// another crawler fetched it, else by fetching it. It stores the entry
// under key, reports it to OnFetch, and returns it.
func (c *Cache) fetch(parent context.Context, key string, origin *url.URL) *entry {
	if c.shared == nil {
		e, _ := c.fetchOwn(parent, key, origin)
		return e
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), c.timeout)
	defer cancel()
	if e, ok := c.loadShared(ctx, parent, key, origin); ok {
		return e
	}
	won, err := c.shared.Claim(ctx, key, c.timeout)
	if err == nil && !won {
		// Another crawler is fetching it: wait for its result, within the
		// fetch time limit, then fetch it ourselves.
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
	wait:
		for {
			select {
			case <-ctx.Done():
				break wait
			case <-t.C:
				if e, ok := c.loadShared(ctx, parent, key, origin); ok {
					return e
				}
			}
		}
	}
	e, st := c.fetchOwn(parent, key, origin)
	// Best effort: if the store fails, other crawlers fetch it themselves.
	_ = c.shared.Save(context.WithoutCancel(ctx), key, st)
	return e
}

// loadShared takes origin's policy from the Shared store, if it has one.
func (c *Cache) loadShared(ctx, parent context.Context, key string, origin *url.URL) (*entry, bool) {
	st, ok, err := c.shared.Load(ctx, key)
	if err != nil || !ok || !c.now().Before(st.Expires) {
		return nil, false
	}
	f := Fetched{URL: st.URL, Site: site.Key(origin), Status: st.Status, Policy: st.Policy, Expires: st.Expires, Shared: true}
	switch st.Policy {
	case PolicyParsed:
		f.File = Parse(st.Body)
		f.Body = st.Body[:min(len(st.Body), MaxSize)]
		sum := sha256.Sum256(f.Body)
		f.SHA256 = hex.EncodeToString(sum[:])
	case PolicyAllowAll:
		f.File = AllowAll()
	case PolicyDisallowAll:
		f.File = DisallowAll()
	case PolicyDeferred:
		e := c.newEntry(DisallowAll(), PolicyDisallowAll)
		e.cause, e.expires, e.retryAt, e.failures, e.deferred = st.Cause, st.Expires, st.RetryAt, st.Failures, true
		c.store(key, e, c.now())
		return e, true // not read: nothing to report
	default:
		return nil, false // not a policy this version knows: fetch it
	}
	e := c.newEntry(f.File, st.Policy)
	e.sha, e.cause, e.expires, e.retryAt, e.failures = f.SHA256, st.Cause, st.Expires, st.RetryAt, st.Failures
	f.Group = e.group
	c.store(key, e, c.now())
	if c.onFetch != nil {
		c.onFetch(context.WithoutCancel(parent), f)
	}
	return e, true
}

// fetchOwn fetches the robots.txt of origin, stores the resulting entry
// under key, reports it to OnFetch, and returns it with the fetch as a
// Shared store keeps it.
func (c *Cache) fetchOwn(parent context.Context, key string, origin *url.URL) (*entry, Stored) {
	// The fetch serves every caller waiting for it, so one caller giving up
	// must not cancel it; it has its own time limit instead.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), c.timeout)
	defer cancel()
	ctx = context.WithValue(ctx, fetchKey{}, key)

	robotsURL := origin.JoinPath("/robots.txt").String()
	f := Fetched{URL: robotsURL, Site: site.Key(origin)}
	status, body, retryAfter, err := c.get(ctx, robotsURL)
	f.Status, f.Err = status, err
	now := c.now()

	c.mu.Lock()
	prevFailures := 0
	if prev := c.entries[key]; prev != nil {
		prevFailures = prev.failures
	}
	c.mu.Unlock()

	if until, ok := deferredUntil(err); ok {
		e := c.newEntry(DisallowAll(), PolicyDisallowAll)
		e.failures, e.deferred = prevFailures, true
		e.retryAt, e.expires = until, until
		e.cause = "robots.txt not read yet: its request was not sent (" + err.Error() + ")"
		c.store(key, e, now)
		// The others wait for the same time rather than for the claim
		// to lapse, and the claim is released.
		return e, Stored{URL: robotsURL, Policy: PolicyDeferred, Cause: e.cause, FetchedAt: now,
			Expires: e.expires, RetryAt: e.retryAt, Failures: e.failures}
	}
	var e *entry
	switch {
	case err == nil && status >= 200 && status <= 299:
		// A copy of its own size, not io.ReadAll's buffer (512 bytes at
		// least, for a file of 30): OnFetch and a Shared store may keep it.
		f.Body = bytes.Clone(body[:min(len(body), MaxSize)])
		sum := sha256.Sum256(f.Body)
		f.SHA256 = hex.EncodeToString(sum[:])
		f.File = Parse(body)
		e = c.newEntry(f.File, PolicyParsed)
		e.sha = f.SHA256
		e.expires = now.Add(c.ttl)
	case err == nil && status >= 400 && status <= 499 && status != http.StatusTooManyRequests:
		f.File = AllowAll()
		e = c.newEntry(f.File, PolicyAllowAll)
		e.cause = fmt.Sprintf("robots.txt answered %d", status)
		e.expires = now.Add(c.ttl)
	default:
		f.File = DisallowAll()
		e = c.newEntry(f.File, PolicyDisallowAll)
		e.failures = prevFailures + 1
		wait := c.backoff(e.failures)
		if retryAfter > wait {
			wait = retryAfter
		}
		e.retryAt = now.Add(wait)
		e.expires = e.retryAt
		switch {
		case errors.Is(err, errTooManyRedirects):
			e.cause = errTooManyRedirects.Error()
		case err != nil:
			e.cause = "robots.txt unreachable (" + err.Error() + ")"
		default:
			e.cause = fmt.Sprintf("robots.txt answered %d", status)
		}
	}
	f.Policy, f.Expires, f.Group = e.policy, e.expires, e.group

	c.store(key, e, now)
	if c.onFetch != nil {
		// Not ctx: requests made with it would pass Check unchecked.
		c.onFetch(context.WithoutCancel(parent), f)
	}
	return e, Stored{URL: robotsURL, Status: status, Body: f.Body, Policy: e.policy, Cause: e.cause,
		FetchedAt: now, Expires: e.expires, RetryAt: e.retryAt, Failures: e.failures}
}

// get sends one robots.txt request, following redirects. It returns the
// final status, the body of a 2xx answer (at most MaxSize+1 bytes, so that
// Parse can tell a longer file), and the Retry-After of a 429 or 503.
func (c *Cache) get(ctx context.Context, robotsURL string) (status int, body []byte, retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, robotsURL, nil)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("robots: build request for %s: %w", robotsURL, err)
	}
	for k, vs := range c.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		if errors.Is(err, errTooManyRedirects) {
			return 0, nil, 0, errTooManyRedirects
		}
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, nil, retryAfter, nil
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxSize+1))
	if err != nil {
		return resp.StatusCode, nil, 0, fmt.Errorf("robots: read %s: %w", robotsURL, err)
	}
	return resp.StatusCode, body, 0, nil
}

// backoff returns the disallow time after the n-th consecutive failure.
func (c *Cache) backoff(n int) time.Duration {
	d := c.retryBase
	for i := 1; i < n && d < c.retryMax; i++ {
		d *= 2
	}
	return min(d, c.retryMax)
}

// parseRetryAfter reads a Retry-After value, delay-seconds or an HTTP date,
// and returns the wait it asks for, at most MaxTTL; 0 when absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if isDecimal(v) && !strings.Contains(v, ".") {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(MaxTTL/time.Second) {
			return MaxTTL
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(t.Sub(now), 0), MaxTTL)
}

// store records e under key, and now and then drops entries that lapsed
// long ago, so that a long crawl over many origins does not grow the map
// without bound.
func (c *Cache) store(key string, e *entry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = e
	c.stores++
	if c.stores < c.sweepEvery {
		return
	}
	c.stores = 0
	for k, old := range c.entries {
		if now.After(old.expires.Add(c.retryMax)) {
			delete(c.entries, k)
		}
	}
}

// verdict checks the normal-form-agnostic path pq against e.
func (e *entry) verdict(pq string) Verdict {
	v := Verdict{Policy: e.policy, SHA256: e.sha, CrawlDelay: e.group.Delay(), Sitemaps: e.sitemaps}
	switch e.policy {
	case PolicyAllowAll:
		v.Allowed = true
		v.Reason = e.cause + ": allow all"
		return v
	case PolicyDisallowAll:
		v.RetryAt = e.retryAt
		if e.deferred {
			v.Reason = e.cause + ": nothing is fetched before it is read, at " + e.retryAt.UTC().Format(time.RFC3339)
			return v
		}
		v.Reason = e.cause + ": disallow all until " + e.retryAt.UTC().Format(time.RFC3339)
		return v
	}
	r := e.group.Test(pq)
	v.Allowed = r.Allowed
	if r.Allowed {
		v.Usage = e.group.UsageFor(pq)
	}
	switch {
	case r.Rule == nil:
		v.Reason = "no robots.txt rule matches: allowed"
	case r.Allowed:
		v.Rule = r.Rule.String()
		v.Reason = fmt.Sprintf("allowed by %q (line %d)", v.Rule, r.Rule.Line)
	default:
		v.Rule = r.Rule.String()
		v.Reason = fmt.Sprintf("disallowed by %q (line %d)", v.Rule, r.Rule.Line)
	}
	return v
}
