package crawler

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/crawler/state"
	"github.com/goodbot/goodbot/internal/site"
)

// Revisits (Config.Revisit): a page stored before is asked for again with
// its validators, and a 304 Not Modified answer is recorded as a revisit
// that refers to the earlier fetch, stores nothing and spares the site the
// body.

// pageStore keeps what is known of the pages stored before; the state's
// frontier is one.
type pageStore interface {
	PutPage(state.Page) (bool, error)
	Page(site, url string) (state.Page, bool, error)
	Pages(ctx context.Context, fn func(state.Page) error) error
}

var _ pageStore = (*state.Frontier)(nil)

// Fetch classes of a 304 answer.
const (
	classNotModified   = "not-modified"
	classUnexpected304 = "unexpected-304"
)

// priorPage returns what the state keeps about it's URL, when the crawl
// revisits and it is a GET: the validators its request carries.
func (cr *Crawler) priorPage(it frontier.Item) *state.Page {
	if !cr.cfg.Revisit || cr.pages == nil || !it.IsGet() {
		return nil
	}
	p, ok, err := cr.pages.Page(it.Site, it.URL)
	if err != nil {
		cr.cfg.Logger.Warn("crawl state: could not read the page's validators; asking for it unconditionally", "url", cr.gate.redactURL(it.URL), "err", err)
		return nil
	}
	if !ok || !p.HasValidators() {
		return nil
	}
	return &p
}

// conditionalOf returns the validators of p as the request sends them.
func conditionalOf(p *state.Page) audit.Conditional {
	return audit.Conditional{IfNoneMatch: p.ETag, IfModifiedSince: p.LastModified}
}

// setConditional adds p's validators to h.
func setConditional(h http.Header, p *state.Page) {
	if p.ETag != "" {
		h.Set("If-None-Match", p.ETag)
	}
	if p.LastModified != "" {
		h.Set("If-Modified-Since", p.LastModified)
	}
}

// conditionalHeaders are the request header fields that make a request
// conditional on an earlier answer.
var conditionalHeaders = []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range"}

// requestConditional returns the validators h carries, or nil.
func requestConditional(h http.Header) *audit.Conditional {
	c := audit.Conditional{IfNoneMatch: strings.Join(h.Values("If-None-Match"), ", "), IfModifiedSince: h.Get("If-Modified-Since")}
	if c == (audit.Conditional{}) {
		return nil
	}
	return &c
}

// notModified records a 304 answer to the conditional revisit of p: the
// fetch refers to the earlier one, and the state notes when the site
// confirmed the page unchanged.
func (cr *Crawler) notModified(f *audit.Fetch, p *state.Page, at time.Time) {
	f.Revisit = &audit.Revisit{
		Conditional:    conditionalOf(p),
		RefersToDate:   p.Fetched,
		RefersToSHA256: p.BodySHA256,
		StoredSHA256:   p.StoredSHA256,
		Spared:         p.Bytes,
	}
	cr.gate.stats.spared.Add(p.Bytes)
	q := *p
	q.Checked = at
	if _, err := cr.pages.PutPage(q); err != nil {
		cr.cfg.Logger.Warn("crawl state: could not note the revisit", "url", f.URL, "err", err)
	}
}

// keepPage keeps in the state what a later revisit of the stored page it
// needs: its validators, when the answer came for its URL (no redirect)
// and the filter leaves them unchanged, and the fetch they refer to.
func (cr *Crawler) keepPage(it frontier.Item, f *audit.Fetch, at time.Time) {
	if cr.pages == nil || !it.IsGet() || f.StoredSHA256 == "" {
		return
	}
	p := state.Page{URL: it.URL, Site: it.Site, Depth: it.Depth, From: it.From, Seed: it.Seed,
		Fetched: at, Bytes: f.Bytes, BodySHA256: f.BodySHA256, StoredSHA256: f.StoredSHA256}
	if f.URL == it.URL {
		p.ETag, p.LastModified = cr.validators(f.URL, http.Header(f.ResponseHeader))
	}
	if _, err := cr.pages.PutPage(p); err != nil {
		cr.cfg.Logger.Warn("crawl state: could not keep the page's validators", "url", f.URL, "err", err)
	}
}

// validators returns the ETag and Last-Modified of an answer as they are
// sent back in a conditional request: verbatim, and only when they are
// well-formed and the personal-data filter leaves them unchanged (they are
// opaque strings of the site's, written to the state and the log).
func (cr *Crawler) validators(u string, h http.Header) (etag, lastModified string) {
	if vs := h.Values("Etag"); len(vs) > 0 {
		tags, bad := ParseETags(strings.Join(vs, ", "))
		if bad {
			cr.cfg.Logger.Warn("ignored a malformed ETag", "url", u)
		}
		etag = strings.Join(tags, ", ")
		if etag != "" && cr.cfg.Filter.FilterText(etag) != etag {
			cr.cfg.Logger.Warn("ETag not kept: the personal-data filter would change it", "url", u)
			etag = ""
		}
	}
	if lm := strings.TrimSpace(h.Get("Last-Modified")); lm != "" {
		switch t, err := http.ParseTime(lm); {
		case err != nil:
			cr.cfg.Logger.Warn("ignored a Last-Modified in a bad format", "url", u, "last_modified", cr.gate.redactText(lm))
		case t.After(time.Now().Add(time.Minute)):
			cr.cfg.Logger.Warn("ignored a Last-Modified in the future", "url", u, "last_modified", lm)
		case cr.cfg.Filter.FilterText(lm) != lm:
		default:
			lastModified = lm
		}
	}
	return etag, lastModified
}

// ParseETags reads a list of entity tags (RFC 9110 section 8.8.3), as
// one or several ETag fields joined with commas hold them: each
// `"opaque"` or weak `W/"opaque"`. It returns the well-formed tags,
// each once, in order, and whether anything else was there.
func ParseETags(s string) (tags []string, bad bool) {
	seen := map[string]bool{}
	for range len(s) + 1 { // each turn consumes at least a byte
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return tags, bad
		}
		if s[0] == ',' {
			s = s[1:]
			continue
		}
		tag, rest, ok := cutETag(s)
		if !ok {
			bad = true
			// Skip to the next comma outside the malformed part.
			i := strings.IndexByte(s, ',')
			if i < 0 {
				return tags, bad
			}
			s = s[i+1:]
			continue
		}
		if !seen[tag] {
			seen[tag] = true
			tags = append(tags, tag)
		}
		s = rest
		if t := strings.TrimLeft(s, " \t"); t != "" && t[0] != ',' {
			bad = true
			i := strings.IndexByte(t, ',')
			if i < 0 {
				return tags, bad
			}
			s = t[i:]
		}
	}
	return tags, bad
}

// cutETag cuts one entity tag from the start of s.
func cutETag(s string) (tag, rest string, ok bool) {
	i := 0
	if strings.HasPrefix(s, "W/") {
		i = 2
	}
	if i >= len(s) || s[i] != '"' {
		return "", s, false
	}
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '"':
			return s[:j+1], s[j+1:], true
		case c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80:
		default:
			return "", s, false
		}
	}
	return "", s, false
}

// queueRevisits queues again every page the state keeps whose site is in
// the crawl's scope, once per Crawler, at the start of crawl k. A page its
// site's sitemap says is unchanged since it was stored (a <lastmod>
// before then) is not asked for: the skip is recorded, with its reason.
func (cr *Crawler) queueRevisits(ctx context.Context, k *runState) error {
	rv, ok := cr.front.(frontier.Revisitor)
	if !ok || cr.pages == nil {
		return nil
	}
	queued, skipped, unchanged := 0, 0, 0
	site, lastmods := "", map[string]time.Time(nil)
	err := cr.pages.Pages(ctx, func(p state.Page) error {
		it := frontier.Item{URL: p.URL, Site: p.Site, Depth: p.Depth, From: p.From, Seed: p.Seed}
		u, err := NormalizeURL(p.URL)
		if err != nil || !cr.inScope(p.Site) || cr.gate.deny.reason(u.Hostname()) != "" || cr.urlRule(u) != "" ||
			(cr.cfg.MaxDepth > 0 && p.Depth+1 > cr.cfg.MaxDepth) {
			skipped++
			return nil
		}
		if !k.firstInCrawl(it.Key()) {
			return nil
		}
		if p.Site != site {
			site, lastmods = p.Site, cr.sitemapLastmods(ctx, u)
		}
		if until, ok := lastmods[p.URL]; ok && until.Before(p.Known()) {
			unchanged++
			cr.gate.stats.unchanged.Add(1)
			why := fmt.Sprintf("the sitemap's lastmod (up to %s) is before the stored copy was last known (%s): unchanged, not asked for",
				until.UTC().Format(time.RFC3339), p.Known().UTC().Format(time.RFC3339))
			cr.gate.record(ctx, p.Site, audit.Event{Type: audit.TypeDecision, Decision: &audit.Decision{
				URL: cr.gate.redactURL(p.URL), Method: http.MethodGet, Kind: kindPage, Depth: p.Depth,
				Verdict: audit.Refuse, Reason: "sitemap: " + why,
				Checks: []audit.Check{{Gate: "sitemap", Verdict: audit.Refuse, Reason: why}},
			}})
			return nil
		}
		added, err := rv.Revisit(ctx, it)
		if err != nil {
			return fmt.Errorf("crawler: queueing the revisit of %s: %w", cr.gate.redactURL(p.URL), err)
		}
		if added {
			queued++
		}
		return nil
	})
	cr.cfg.Logger.Info("revisit: pages stored before queued again", "queued", queued, "unchanged_per_sitemap", unchanged, "out_of_scope", skipped)
	return err
}

// sitemapLastmods reads the sitemaps the robots.txt of u's origin names
// (on u's site, at most maxSitemapFiles files, each fetched through the
// gate and charged to the site's budget) and returns, for each URL with a
// readable <lastmod>, the latest time that lastmod allows. It returns
// nil when there is nothing to read.
func (cr *Crawler) sitemapLastmods(ctx context.Context, u *url.URL) map[string]time.Time {
	s := site.Key(u)
	v, err := cr.gate.robots.Check(ctx, &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"})
	if err != nil || len(v.Sitemaps) == 0 {
		return nil
	}
	out := map[string]time.Time{}
	client := &http.Client{Transport: cr.gate}
	queue := append([]string(nil), v.Sitemaps...)
	bad := 0
	for fetched := 0; len(queue) > 0 && fetched < maxSitemapFiles; {
		nu, err := NormalizeURL(queue[0])
		queue = queue[1:]
		if err != nil || site.Key(nu) != s {
			continue // sitemaps on other sites are not fetched
		}
		fetched++
		r := cr.gate.newRequest(frontier.Item{URL: nu.String(), Site: s, From: s})
		r.kind = "sitemap"
		_, children, err := cr.fetchSitemap(ctx, client, r, nu.String(), func(loc, lastmod string) {
			lu, err := NormalizeURL(loc)
			if err != nil || lastmod == "" {
				return
			}
			_, until, err := ParseLastmod(lastmod)
			if err != nil {
				bad++
				return
			}
			out[lu.String()] = until
		})
		cr.gate.done(r)
		if err != nil {
			cr.cfg.Logger.Warn("sitemap not read for revisits", "site", s, "url", cr.gate.redactURL(nu.String()), "err", err)
			continue
		}
		queue = append(queue, children...)
	}
	if bad > 0 {
		cr.cfg.Logger.Warn("ignored sitemap lastmod values in a bad format", "site", s, "count", bad)
	}
	return out
}

// ParseLastmod reads a sitemap <lastmod>, a W3C Datetime
// (https://www.w3.org/TR/NOTE-datetime): YYYY, YYYY-MM, YYYY-MM-DD, or a
// date and time to the minute, second or fraction of a second with a
// time zone designator. It returns the span the value names: from its
// start to the latest time it allows (the end of the day for a date,
// the instant itself for a time to the second or finer).
func ParseLastmod(s string) (from, until time.Time, err error) {
	s = strings.TrimSpace(s)
	for _, f := range []struct {
		layout string
		span   func(time.Time) time.Time // the latest time the value allows
		zoned  bool
	}{
		{time.RFC3339Nano, func(t time.Time) time.Time { return t }, true},
		{"2006-01-02T15:04Z07:00", func(t time.Time) time.Time { return t.Add(time.Minute - time.Nanosecond) }, true},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1).Add(-time.Nanosecond) }, false},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0).Add(-time.Nanosecond) }, false},
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0).Add(-time.Nanosecond) }, false},
	} {
		t, err := time.Parse(f.layout, s)
		if err != nil {
			continue
		}
		if !f.zoned {
			// A date names no zone: its day starts earliest at UTC+14
			// and ends latest at UTC-12.
			return t.Add(-14 * time.Hour), f.span(t).Add(12 * time.Hour), nil
		}
		return t, f.span(t), nil
	}
	return time.Time{}, time.Time{}, fmt.Errorf("crawler: sitemap lastmod %q is not a W3C Datetime", s)
}
