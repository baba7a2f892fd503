package crawler

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"strings"
	"sync"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/internal/site"
)

// A crawl must not substitute the source (the "substantive substitute" test
// of Dianping v Baidu Map, 2016): Config.MaxPagesPerSite and
// Config.MaxSiteShare bound how much of one site a job takes. The share is
// measured against the number of pages the site lists in its sitemaps.

// maxSitemapFiles bounds how many sitemap files are fetched per site to
// count its pages: each fetch is charged to the site's budget.
const maxSitemapFiles = 10

// siteLimits counts the pages taken from each site and knows each site's
// limit.
type siteLimits struct {
	perSite int     // Config.MaxPagesPerSite
	share   float64 // Config.MaxSiteShare

	mu      sync.Mutex
	taken   map[string]int
	limit   map[string]int    // from the share, once the sitemaps are counted
	counted map[string]bool   // sitemap count started
	stopped map[string]string // site -> why it was stopped
}

func newSiteLimits(perSite int, share float64) *siteLimits {
	return &siteLimits{perSite: perSite, share: share, taken: map[string]int{}, limit: map[string]int{},
		counted: map[string]bool{}, stopped: map[string]string{}}
}

// take counts one more page of s, and reports the limit it exceeds, if any.
// jobWide, when at least 0, is the number of pages the whole job has taken
// of s, this one included (see frontier.SiteCounter); else this process
// counts.
func (l *siteLimits) take(s string, jobWide int) (reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.taken[s] + 1
	if jobWide >= 0 {
		n = jobWide
	}
	if l.perSite > 0 && n > l.perSite {
		return fmt.Sprintf("--max-pages-per-site %d reached for %s", l.perSite, s)
	}
	if lim, ok := l.limit[s]; ok && n > lim {
		return fmt.Sprintf("--max-site-share %.3g reached for %s: %d of the pages its sitemaps list", l.share, s, lim)
	}
	l.taken[s] = n
	return ""
}

// startCount reports whether the sitemap count of s should start now (once).
func (l *siteLimits) startCount(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.share <= 0 || l.counted[s] {
		return false
	}
	l.counted[s] = true
	return true
}

func (l *siteLimits) setLimit(s string, pages int) int {
	lim := max(1, int(math.Floor(l.share*float64(pages))))
	l.mu.Lock()
	l.limit[s] = lim
	l.mu.Unlock()
	return lim
}

// firstStop records why s was stopped and reports whether this is the
// first time.
func (l *siteLimits) firstStop(s, why string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.stopped[s]; ok {
		return false
	}
	l.stopped[s] = why
	return true
}

func (l *siteLimits) stoppedSites() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.stopped)
}

// checkSiteLimit counts the leased item against its site's limits. When a
// limit is reached, it drops the site's queued URLs with a recorded reason
// and reports false: the item is not fetched. Pages already within the
// limit and in flight are fetched.
func (cr *Crawler) checkSiteLimit(ctx context.Context, it frontier.Item) bool {
	if cr.limits == nil {
		return true
	}
	jobWide := -1
	if sc, ok := cr.front.(frontier.SiteCounter); ok {
		if n, err := sc.SiteTaken(ctx, it.Site); err == nil {
			jobWide = n
		} else {
			cr.cfg.Logger.Warn("job-wide page count unavailable; counting this process's pages", "site", it.Site, "err", err)
		}
	}
	why := cr.limits.take(it.Site, jobWide)
	if why == "" {
		return true
	}
	if cr.limits.firstStop(it.Site, why) {
		n, _ := cr.front.DropSite(ctx, it.Site)
		cr.gate.record(ctx, it.Site, audit.Event{Type: audit.TypeDecision, Decision: &audit.Decision{
			URL: cr.gate.redactURL(it.URL), Method: http.MethodGet, Kind: "page", Depth: it.Depth,
			Verdict: audit.Refuse, Reason: "scope: " + why + fmt.Sprintf("; the site is stopped (%d queued URLs dropped)", n),
			Checks: []audit.Check{{Gate: "scope", Verdict: audit.Refuse, Reason: why}},
		}})
		cr.cfg.Logger.Info("site stopped: collection limit reached", "site", it.Site, "reason", why)
	}
	return false
}

// countSitemaps counts the pages listed in the sitemaps of s, fetched
// through the gate, and sets the site's share limit from it.
func (cr *Crawler) countSitemaps(ctx context.Context, s string, sitemaps []string) {
	if st := cr.cfg.State; st != nil {
		// Counted by an earlier run on the same state: not fetched again.
		if pages, when, ok, err := st.SitemapPages(s); err == nil && ok && pages > 0 {
			lim := cr.limits.setLimit(s, pages)
			cr.cfg.Logger.Info("site collection limit from its sitemaps, as counted earlier", "site", s, "sitemap_pages", pages, "counted", when, "limit", lim)
			return
		}
	}
	if len(sitemaps) == 0 {
		cr.cfg.Logger.Warn("site has no sitemap: --max-site-share cannot be measured; only --max-pages-per-site applies", "site", s)
		return
	}
	client := &http.Client{Transport: cr.gate}
	queue := append([]string(nil), sitemaps...)
	pages, fetched := 0, 0
	for len(queue) > 0 && fetched < maxSitemapFiles {
		u := queue[0]
		queue = queue[1:]
		nu, err := NormalizeURL(u)
		if err != nil || site.Key(nu) != s {
			continue // sitemaps on other sites are not fetched
		}
		fetched++
		r := cr.gate.newRequest(frontier.Item{URL: nu.String(), Site: s, From: s})
		r.kind = "sitemap"
		n, children, err := cr.fetchSitemap(ctx, client, r, nu.String(), nil)
		cr.gate.done(r)
		if err != nil {
			cr.cfg.Logger.Warn("sitemap not counted", "site", s, "url", cr.gate.redactURL(nu.String()), "err", err)
			continue
		}
		pages += n
		queue = append(queue, children...)
	}
	if pages == 0 {
		cr.cfg.Logger.Warn("sitemaps list no pages: --max-site-share cannot be measured; only --max-pages-per-site applies", "site", s)
		return
	}
	// Sitemap files left unread count as empty: a smaller count gives a
	// smaller, safer limit.
	lim := cr.limits.setLimit(s, pages)
	cr.cfg.Logger.Info("site collection limit from its sitemaps", "site", s, "sitemap_pages", pages, "files_read", fetched, "limit", lim)
	if ctx.Err() != nil {
		// The run ended before every file was read: the count is kept
		// for this run only, and the next run on the state counts again.
		cr.cfg.Logger.Info("sitemap count interrupted by the end of the run; not kept in the state", "site", s, "files_read", fetched)
		return
	}
	if st := cr.cfg.State; st != nil {
		if err := st.SetSitemapPages(s, pages); err != nil {
			cr.cfg.Logger.Warn("sitemap count not kept in the state", "site", s, "err", err)
		}
	}
}

// fetchSitemap fetches one sitemap and counts its <url> entries, calling
// onURL for each if not nil (see parseSitemap), or returns the child
// sitemaps of a sitemap index.
func (cr *Crawler) fetchSitemap(ctx context.Context, client *http.Client, r *request, u string, onURL func(loc, lastmod string)) (int, []string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set(hdrItem, r.id)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, nil, fmt.Errorf("sitemap answered %d", resp.StatusCode)
	}
	return parseSitemap(resp.Body, onURL)
}

// countSitemap counts the <url> entries of a sitemap (sitemaps.org 0.9), or
// lists the <loc> of each <sitemap> of a sitemap index.
func countSitemap(rd io.Reader) (int, []string, error) { return parseSitemap(rd, nil) }

// parseSitemap reads a sitemap (sitemaps.org 0.9): it counts its <url>
// entries and calls onURL, if not nil, with the <loc> and <lastmod> of
// each (trimmed; lastmod may be empty), or lists the <loc> of each
// <sitemap> of a sitemap index.
func parseSitemap(rd io.Reader, onURL func(loc, lastmod string)) (int, []string, error) {
	d := xml.NewDecoder(rd)
	d.Strict = false
	n := 0
	var children []string
	inSitemap, inURL := false, false
	var text, loc, lastmod strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return n, children, nil
		}
		if err != nil {
			return n, children, fmt.Errorf("sitemap: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "url":
				n++
				inURL = true
				loc.Reset()
				lastmod.Reset()
			case "sitemap":
				inSitemap = true
			case "loc", "lastmod":
				text.Reset()
			}
		case xml.CharData:
			if text.Len() < maxSitemapText {
				text.Write(t)
			}
		case xml.EndElement:
			switch v := strings.TrimSpace(text.String()); t.Name.Local {
			case "loc":
				switch {
				case inSitemap:
					children = append(children, v)
				case inURL:
					loc.Reset()
					loc.WriteString(v)
				}
			case "lastmod":
				if inURL {
					lastmod.Reset()
					lastmod.WriteString(v)
				}
			case "sitemap":
				inSitemap = false
			case "url":
				if inURL && onURL != nil && loc.Len() > 0 {
					onURL(loc.String(), lastmod.String())
				}
				inURL = false
			}
		}
	}
}

// maxSitemapText bounds the text kept of one sitemap element: a URL is at
// most 2,048 characters (sitemaps.org).
const maxSitemapText = 4096
