package crawler

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/crawler/robots"
	"github.com/goodbot/goodbot/crawler/state"
	"github.com/goodbot/goodbot/crawler/usage"
	"github.com/goodbot/goodbot/internal/site"
	"github.com/goodbot/goodbot/limiter"
)

// DefaultHorizon is Config.Horizon's default.
const DefaultHorizon = time.Minute

// Version is goodbot's version, sent in the User-Agent.
const Version = "0.1.0"

// ProductToken is the name goodbot gives in its User-Agent and matches in
// robots.txt groups. It cannot be changed: site operators who write rules for
// goodbot must get them applied.
const ProductToken = "goodbot"

// Config configures a Crawler. The zero value of every field but Contact is a
// safe default.
//
// There is deliberately no option to set another User-Agent, rotate user
// agents, add forged headers or use proxies: Chinese courts have convicted
// scrapers who forged their identity to get round a site's limits. The only
// way to relax a rule is a Relaxation, which names the site and the
// justification and is recorded in the operation log.
type Config struct {
	// Contact is where a site operator reaches whoever runs the crawl: an
	// http(s) URL or a mailto: address. Required. It goes into the
	// User-Agent, and into a From header when it is an e-mail address.
	Contact string

	// BotDirectory is the https origin of the operator's Web Bot Auth key
	// directory (served at botauth.DirectoryPath there; the well-known
	// URL is accepted too). When it is set, or when Contact is an https
	// URL (the default is then the contact's origin, see
	// DefaultBotDirectory), every request goodbot sends (pages,
	// robots.txt, sitemaps, each redirect hop, each retry) is signed with
	// HTTP Message Signatures (RFC 9421) as Web Bot Auth asks, naming it
	// in Signature-Agent, so that a site can tell goodbot from an
	// impostor that copies its User-Agent. With a mailto: contact and no
	// BotDirectory nothing is signed: a signature whose key no site can
	// fetch proves nothing. See package botauth.
	BotDirectory string
	// BotKey is the Ed25519 key that signs requests. Default: the key in
	// BotKeyFile.
	BotKey ed25519.PrivateKey
	// BotKeyFile is the PKCS #8 PEM file of the key that signs requests;
	// it is generated, with mode 0600, when it does not exist. It must be
	// outside OutDir and the operation log, and is never the log's own
	// key. Default DefaultBotKeyFile(directory origin), in the user's
	// configuration directory. The key's creation, and the key in use at
	// each run, are recorded in the operation log (audit.TypeBotKey).
	BotKeyFile string
	// NoBotAuth, if not empty, says why requests are not signed even
	// though a key directory is known. It is recorded in the config
	// event. It cannot be combined with BotDirectory, BotKey or
	// BotKeyFile.
	NoBotAuth string

	// AllowedHosts lists site keys (host or host:port) that links may lead
	// to in addition to the seeds' sites.
	AllowedHosts []string
	// DisallowedDomains lists hosts (a host name, or a site key
	// host:port) that are never crawled, as colly's DisallowedDomains: a
	// seed on one is refused with an error, a link to one is refused and
	// recorded, and so is a redirect to one.
	DisallowedDomains []string
	// Deny lists hosts that are never contacted, in addition to
	// goodbot's built-in denylist (BuiltinDeny): each a host name or IP
	// address, or "*.suffix" for a domain and every host under it. A
	// seed on one is refused with an error naming the entry; a link or a
	// redirect to one, and its robots.txt, are refused and recorded. No
	// Relaxation lifts an entry, and New refuses a Relaxation for a host
	// the denylist holds. CLI: --deny-file.
	Deny []string
	// URLFilters, if not empty, admits only URLs that match one of them,
	// as colly's URLFilters; DisallowedURLFilters refuses URLs that match
	// any of them. They apply, as the refused or recorded decisions say,
	// to seeds, links and redirect targets, matched against the URL in
	// the form NormalizeURL gives it.
	URLFilters, DisallowedURLFilters []*regexp.Regexp
	// MaxDepth limits how deep links are followed, counting as colly
	// does: a seed is at depth 1, a link on it at depth 2, and MaxDepth 1
	// crawls the seeds only. 0 means no limit. (A Visit called while a
	// crawl runs adds a link at depth 1, as colly's Collector.Visit does.)
	MaxDepth int
	// FollowLinks queues the links of every HTML page fetched: the href
	// of each <a> and <area>, resolved against the page's URL or its
	// <base href> as a browser does. A link queued this way passes the
	// same rules as one a callback queues with e.Request.Visit (scope,
	// MaxDepth, the URL rules, the page's nofollow, a link that carried
	// personal data), and gets the page's colly.Context; but the page is
	// tokenised once for its links, and colly builds no request for them,
	// which costs a fifth of a crawl's CPU. The links are read from the
	// page as the personal-data filter left it. Callbacks that queue
	// links with e.Request.Visit can be used with it, or instead.
	FollowLinks bool
	// MaxPages stops the crawl after this many pages were fetched. 0 means
	// no limit.
	MaxPages int
	// MaxPagesPerSite stops a site after this many pages. 0 means no limit.
	// The pages are counted across the whole job when the frontier is a
	// frontier.SiteCounter (both goodbot's frontiers are), leases out at
	// the moment included, so a site may stop up to Parallel-1 pages early;
	// never late.
	MaxPagesPerSite int
	// MaxSiteShare stops a site after this share (0 < F <= 1) of the pages
	// its sitemaps list; the sitemaps are fetched, through the gate, only
	// when it is set. A site without sitemaps gets only MaxPagesPerSite.
	MaxSiteShare float64
	// Parallel is the most requests in flight per site. Default 2.
	Parallel int
	// Workers is the most requests in flight in total. Default 8×Parallel.
	Workers int
	// MaxBodySize is the largest response body accepted, after
	// decompression. Larger responses are refused. Default 10 MiB.
	MaxBodySize int64
	// Timeout bounds each request, from sending to the end of the body.
	// Default 30 s.
	Timeout time.Duration
	// MaxRetries bounds how often a request that failed with a 5xx, 429 or
	// a network error is tried again. 0 means the default, 3, so that the
	// zero Config retries; -1 (any negative value) turns retries off, as
	// in go-redis. Waiting for a site's budget is not a retry: a request
	// the limiter defers is always tried again when its slot comes.
	MaxRetries int
	// RetryBase is the first backoff after an error without Retry-After;
	// it doubles with each attempt. Default 30 s.
	RetryBase time.Duration
	// MaxWait is the longest a worker waits for a site's next slot. When
	// the slot is later (a long Crawl-delay, a small budget, a spent daily
	// budget), the URL is put back in the frontier until then and the
	// worker moves on. Default 1 min.
	MaxWait time.Duration
	// Horizon bounds how long a crawl waits for deferred work. When all
	// that is left is deferred further than Horizon from now (a site's
	// next slot under its budget, a hold, a Retry-After, a retry's
	// backoff), Run and Visit return instead of waiting: the Summary's
	// Deferred field lists, per site, what is waiting and until when, the
	// Logger gets a warning for each such site, and Visit returns a
	// *DeferredError. The work stays in the frontier (with State, on disk
	// for the next process). Default 1 min: the time MaxWait lets a worker
	// wait for one slot, and about what a person running a program expects
	// to wait without being told why; a site paced slower than that
	// (under the default estimate an unknown site gets 2 requests a day)
	// gets what its budget allows now, and the rest is reported. Set a
	// longer Horizon for long crawls of slowly paced sites; -1 (any
	// negative value) waits as long as the work needs. It applies with
	// goodbot's own frontiers (those that are a frontier.Deferrer: the
	// in-memory one and State's); the workers of a distributed job wait
	// for the job's work as before.
	Horizon time.Duration
	// RobotsTTL is how long a robots.txt is cached, at most 24 h (RFC
	// 9309). Default 24 h.
	RobotsTTL time.Duration
	// RobotsRetry is the first backoff after robots.txt could not be
	// fetched (5xx, 429, network error); meanwhile the site is treated as
	// disallowing everything. Default 1 min.
	RobotsRetry time.Duration

	// State, if set, keeps the crawl's state on disk (see package
	// crawler/state): the frontier, the robots.txt cache and the limiter
	// default to the State's, so that a Crawler resumes where an earlier
	// one, in this process or an earlier one, stopped, and the budget of
	// each site holds across them. Share one Store between the Crawlers of
	// a process; the caller closes it.
	State *state.Store

	// Limiter paces requests per site. Default: State's limiter when State
	// is set, else a local limiter with the default share and estimates
	// (see package limiter).
	Limiter limiter.Limiter
	// Frontier holds the URLs to visit. Default: State's frontier when
	// State is set, else in memory.
	Frontier frontier.Frontier
	// RobotsShared, if set, shares robots.txt fetches with the other
	// workers of a distributed job, so that each site's robots.txt is
	// fetched once per job (see package job). Default: State's robots.txt
	// store when State is set.
	RobotsShared robots.Shared
	// StopList holds sites that must not be contacted (complaints).
	// Default: an empty in-memory list.
	StopList StopList
	// Sink receives every decision and request as an audit event. Default:
	// the Crawler's own operation log in AuditDir, signed with
	// AuditKeyFile, which Run closes when it ends. Crawlers that run at
	// the same time share one log: open it with OpenLog, pass it to each
	// as Sink, and close it after the last Run.
	Sink audit.Sink
	// AuditDir is where the Crawler's own operation log lives when Sink is
	// nil. Default DefaultAuditDir(OutDir): OutDir/audit, or goodbot/audit
	// in the user's data directory when OutDir is empty.
	AuditDir string
	// AuditKeyFile is the private key that signs the Crawler's own
	// operation log, outside AuditDir; it is created when neither it nor
	// the log exists. Default KeyFileFor(origin).
	AuditKeyFile string
	// NoAuditLog, if not empty, says why the crawl keeps no operation log,
	// e.g. "unit test" or "records kept by the caller's system X". Events
	// then go to Logger only (audit.SlogSink), and nothing a third party
	// can verify is kept. The reason is logged as a warning by New,
	// recorded in the config event and reported in Summary.NoAuditLog. It
	// cannot be combined with Sink, AuditDir or AuditKeyFile.
	NoAuditLog string
	// Logger receives operational logs. Default slog.Default().
	Logger *slog.Logger
	// OutDir, if not empty, is where pages are stored (see package
	// crawler/output).
	OutDir string
	// Store says what of a page is stored: StoreClean (the default) or
	// StoreFull. Callbacks always see the whole filtered page.
	Store StoreMode
	// Filter is applied to every response before any callback sees it, and
	// to every URL before it is written anywhere. Default: PIIFilter with
	// the default pii.Config (every entity, typed placeholders, pages in a
	// PIPL Art. 28 sensitive category dropped) and a random HMAC key. There
	// is no way to turn it off.
	Filter PageFilter

	// AllowURLRevisit lets a URL seen before be fetched again, as colly's
	// AllowURLRevisit: a Visit of a URL fetched by an earlier Visit or Run
	// (or, with State, by an earlier process) fetches it again, and links
	// to such URLs are followed again. Within one crawl (one Run, or one
	// Visit and the links it follows) a URL is still fetched at most once,
	// so that pages linking to each other do not loop. Every revisit is a
	// request like any other: it passes the gate and is charged to the
	// site's budget. It needs a frontier that is a frontier.Revisitor
	// (goodbot's in-memory one and State's are; a job's is not): New
	// refuses it otherwise.
	AllowURLRevisit bool
	// Revisit revisits the pages a crawl State kept from earlier runs,
	// with conditional requests. The state keeps, for every page stored
	// whose URL passed the personal-data filter unchanged, the
	// validators of its answer (ETag, Last-Modified; see state.Page),
	// across Fresh too. With Revisit, the first Run (or Visit) of the
	// Crawler queues again every such page whose site is in the scope
	// (a seed's site or an AllowedHosts host), and each is asked for with
	// If-None-Match and If-Modified-Since, as the site sent them; seeds
	// and links are queued as with AllowURLRevisit. A 304 Not Modified
	// answer is a request like any other for the gate, the site's budget
	// and the page limits; it stores nothing, is recorded in the fetch
	// entry as a revisit (audit.Revisit: the validators, the earlier
	// fetch it refers to, the bytes spared), does not reach OnError, and
	// its page is a leaf: its links were followed at the earlier visit,
	// and the pages stored through them are queued again themselves. A
	// 200 answer is stored as a new version and its links are followed.
	// A 304 to a request without validators goodbot knows is an error
	// (fetch class "unexpected-304"). It needs a State (or the State's
	// frontier as Frontier): New refuses it otherwise.
	Revisit bool
	// DetectCharset is accepted so that a colly configuration carries
	// over, and changes nothing: goodbot always decodes a text body to
	// UTF-8 before any callback sees it (byte-order mark, the
	// Content-Type charset, <meta charset> or http-equiv, then sniffing;
	// see internal/textdecode), because the personal-data filter must
	// read what it scans in one encoding.
	DetectCharset bool

	// CacheDir, if not empty, keeps a development cache there, as colly's
	// CacheDir does, so that reruns of a program under development do
	// not spend the site's budget again: each answer (2xx pages and
	// redirects) is kept as the personal-data filter left it, body and
	// header values, and a later request with the same method, URL and
	// body is answered from it, recorded in the operation log as a
	// decision ("cache: served from the development cache"), and not
	// sent: neither robots.txt nor the limiter is asked. Requests whose
	// URL or body the filter would change are neither cached nor served
	// from it. Unlike colly's, the cache is written after the filter,
	// never before. A complaint (ApplyComplaint) deletes the site's
	// entries.
	CacheDir string
	// CacheTTL is how long a development cache entry is served. Default
	// DefaultCacheTTL, 24 h.
	CacheTTL time.Duration

	// Relaxations lists the rules the operator relaxed on purpose. Each is
	// recorded in the operation log with its justification.
	Relaxations []Relaxation
	// Job names the crawl in the operation log.
	Job string
	// Purpose says what the collected pages are for, from a fixed
	// vocabulary (see package usage): "search", "research", "ai-train",
	// "ai-input", "archive", or "" for usage.Unspecified. A page whose
	// usage preferences (Content-Usage, Content-Signal, TDMRep) reserve
	// the purpose is fetched, its links followed, but it is not stored,
	// and the operation log says which statement reserved it. With no
	// purpose, any reservation of any use keeps a page from being stored.
	// The purpose is recorded in the log's config entry.
	Purpose usage.Purpose
}

// RelaxationKind names a rule that a Relaxation relaxes.
type RelaxationKind string

// The rules that can be relaxed.
const (
	// IgnoreRobots ignores robots.txt for one site, e.g. because its
	// operator agreed in writing. The site's limiter budget still applies.
	IgnoreRobots RelaxationKind = "ignore-robots"
	// FollowRelNofollow follows, on one site's pages, the links that
	// every anchor to them marks rel="nofollow", "ugc" or "sponsored",
	// which goodbot otherwise does not follow. A page's own nofollow
	// (meta robots, X-Robots-Tag) still applies.
	FollowRelNofollow RelaxationKind = "follow-rel-nofollow"
)

// Relaxation relaxes one rule for one site, for a stated reason.
type Relaxation struct {
	Kind RelaxationKind
	// Site is the site key the relaxation applies to.
	Site string
	// Justification says why, e.g. "written permission from
	// ops@example.com, 2026-11-01, ref. 4711". Required.
	Justification string
}

func (r Relaxation) String() string {
	return fmt.Sprintf("%s for %s: %s", r.Kind, r.Site, r.Justification)
}

// StoreMode says what of a page is stored.
type StoreMode string

// The store modes.
const (
	// StoreClean stores the page's visible text and a cleaned DOM: no
	// scripts, styles, comments, event-handler attributes or javascript:
	// URLs. Everything in a page is scanned for personal data either way,
	// but scripts and comments are where values hide in forms no scanner
	// can know all of (encoded, split, computed), and they are seldom what
	// a crawl is for; what is not kept cannot leak.
	StoreClean StoreMode = "clean"
	// StoreFull stores the whole page as the filter left it.
	StoreFull StoreMode = "full"
)

// ParseStoreMode parses "clean" or "full".
func ParseStoreMode(s string) (StoreMode, error) {
	switch m := StoreMode(strings.ToLower(strings.TrimSpace(s))); m {
	case StoreClean, StoreFull:
		return m, nil
	}
	return "", fmt.Errorf("crawler: unknown store mode %q (want clean or full)", s)
}

// PageFilter removes personal data. The crawler calls it on every response
// body before any callback sees it, on every URL before it is written to the
// output, the logs or the operation log, and on every other text it writes
// (reasons, errors, robots.txt copies, header values, extracted text).
type PageFilter interface {
	// FilterBody returns the body to use instead of b, and a summary. When
	// drop is true the page is not passed on or stored.
	FilterBody(contentType string, b []byte) (out []byte, s FilterSummary, err error)
	// FilterURL returns u with personal data replaced.
	FilterURL(u string) string
	// FilterText returns a short text (a log message, a header value)
	// with personal data replaced; it never drops the text.
	FilterText(s string) string
}

// FilterSummary is what a PageFilter found on one page: counts by type, and
// whether and why the page was dropped. It never holds the values.
type FilterSummary struct {
	Counts  map[string]int
	Drop    bool
	Reason  string
	Changed bool
}

func (c *Config) setDefaults() {
	if c.Parallel <= 0 {
		c.Parallel = 2
	}
	if c.Workers <= 0 {
		c.Workers = 8 * c.Parallel
	}
	if c.MaxBodySize <= 0 {
		c.MaxBodySize = 10 << 20
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = -1
	}
	if c.Horizon == 0 {
		c.Horizon = DefaultHorizon
	}
	if c.Horizon < 0 {
		c.Horizon = -1
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 30 * time.Second
	}
	if c.MaxWait <= 0 {
		c.MaxWait = time.Minute
	}
	if c.RobotsTTL <= 0 || c.RobotsTTL > 24*time.Hour {
		c.RobotsTTL = 24 * time.Hour
	}
	if c.RobotsRetry <= 0 {
		c.RobotsRetry = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Store == "" {
		c.Store = StoreClean
	}
	if c.StopList == nil {
		c.StopList = NewMemoryStopList()
	}
}

func (c *Config) validate() error {
	if _, _, err := ParseContact(c.Contact); err != nil {
		return err
	}
	if c.MaxDepth < 0 || c.MaxPages < 0 || c.MaxPagesPerSite < 0 {
		return errors.New("crawler: MaxDepth, MaxPages and MaxPagesPerSite must not be negative")
	}
	if _, err := ParseStoreMode(string(c.Store)); err != nil {
		return err
	}
	p, err := usage.ParsePurpose(string(c.Purpose))
	if err != nil {
		return fmt.Errorf("crawler: %w", err)
	}
	c.Purpose = p
	if !(c.MaxSiteShare >= 0 && c.MaxSiteShare <= 1) { // NaN included
		return fmt.Errorf("crawler: MaxSiteShare %v: want a share of the site's pages, 0 < F <= 1 (0 for no limit)", c.MaxSiteShare)
	}
	for i, h := range c.DisallowedDomains {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			return fmt.Errorf("crawler: DisallowedDomains[%d] is empty", i)
		}
		c.DisallowedDomains[i] = h
	}
	for i, re := range c.URLFilters {
		if re == nil {
			return fmt.Errorf("crawler: URLFilters[%d] is nil", i)
		}
	}
	for i, re := range c.DisallowedURLFilters {
		if re == nil {
			return fmt.Errorf("crawler: DisallowedURLFilters[%d] is nil", i)
		}
	}
	for i, h := range c.AllowedHosts {
		k, err := site.Parse(h)
		if err != nil {
			return fmt.Errorf("crawler: allowed host: %w", err)
		}
		c.AllowedHosts[i] = k
	}
	deny, err := newDenyList(c.Deny)
	if err != nil {
		return err
	}
	for i, r := range c.Relaxations {
		if r.Kind != IgnoreRobots && r.Kind != FollowRelNofollow {
			return fmt.Errorf("crawler: relaxation %d: unknown kind %q", i, r.Kind)
		}
		k, err := site.Parse(r.Site)
		if err != nil {
			return fmt.Errorf("crawler: relaxation %d: %w", i, err)
		}
		c.Relaxations[i].Site = k
		if h, _, err := splitSite(k); err == nil {
			if e, ok := deny.match(h); ok && e.Builtin {
				return fmt.Errorf("crawler: relaxation %s for %s: the host is on goodbot's built-in denylist (%s), which no relaxation lifts: %s", r.Kind, k, e.Pattern, e.Why)
			} else if ok {
				return fmt.Errorf("crawler: relaxation %s for %s: the host is on the operator's denylist (%s), which no relaxation lifts; take it off the list instead", r.Kind, k, e.Pattern)
			}
		}
		if strings.TrimSpace(r.Justification) == "" {
			return fmt.Errorf("crawler: relaxation %s for %s needs a justification (who agreed, when, reference)", r.Kind, k)
		}
	}
	return nil
}

// ParseContact checks a contact as Config.Contact takes it and returns the
// User-Agent to send and the From header value ("" unless the contact is an
// e-mail address).
func ParseContact(contact string) (userAgent, from string, err error) {
	const why = "goodbot identifies itself honestly so that site operators can reach whoever runs the crawl; give an http(s) URL or a mailto: address"
	if contact == "" {
		return "", "", fmt.Errorf("crawler: a contact is required: %s", why)
	}
	u, err := url.Parse(contact)
	if err != nil {
		return "", "", fmt.Errorf("crawler: contact %q: %w (%s)", contact, err, why)
	}
	switch u.Scheme {
	case "mailto":
		addr, err := mail.ParseAddress(u.Opaque)
		if err != nil || u.Opaque == "" {
			return "", "", fmt.Errorf("crawler: contact %q is not a valid mailto: address (%s)", contact, why)
		}
		from = addr.Address
	case "http", "https":
		if u.Host == "" {
			return "", "", fmt.Errorf("crawler: contact %q has no host (%s)", contact, why)
		}
	default:
		return "", "", fmt.Errorf("crawler: contact %q must be an http(s) URL or a mailto: address (%s)", contact, why)
	}
	if strings.ContainsAny(contact, "()\r\n") {
		return "", "", fmt.Errorf("crawler: contact %q must not contain parentheses or line breaks", contact)
	}
	return fmt.Sprintf("%s/%s (+%s)", ProductToken, Version, contact), from, nil
}
