package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/crawler/robots"
	"github.com/goodbot/goodbot/crawler/usage"
	"github.com/goodbot/goodbot/internal/site"
)

// This file fetches and keeps each site's /.well-known/tdmrep.json (W3C
// TDMRep), the site-wide statement of which paths reserve text and data
// mining. Like robots.txt it is fetched once per origin and kept for at
// most a day; unlike robots.txt it governs use, not fetching: the page is
// fetched either way, and a reservation only keeps it from being stored.

// TDMRepPath is where a site states its TDM reservations.
const TDMRepPath = "/.well-known/tdmrep.json"

// kindTDMRep is the Decision.Kind of a tdmrep.json request.
const kindTDMRep = "tdmrep"

// tdmRetry is how long an origin whose tdmrep.json could not be had (a
// network error, a 5xx or 429) is taken to have none before it is asked
// again.
const tdmRetry = 10 * time.Minute

// tdmCache fetches, through the gate, and keeps each origin's tdmrep.json.
type tdmCache struct {
	g      *gate
	ttl    time.Duration
	flight singleflight.Group

	mu      sync.Mutex
	entries map[string]*tdmEntry // by origin "scheme://sitekey"
}

// tdmEntry is what an origin's tdmrep.json says.
type tdmEntry struct {
	url     string          // redacted
	rules   []usage.TDMRule // nil when there is no usable file
	note    string          // for no rules: why ("answered 404: no file")
	expires time.Time
}

func newTDMCache(g *gate, ttl time.Duration) *tdmCache {
	if ttl <= 0 || ttl > robots.MaxTTL {
		ttl = robots.MaxTTL
	}
	return &tdmCache{g: g, ttl: ttl, entries: map[string]*tdmEntry{}}
}

// get returns the entry for u's origin, fetching its tdmrep.json first when
// it is not held or has expired. It returns a *RefusedError with RetryAt
// set when the gate deferred the fetch (the site's budget): the page must
// wait too, since its preferences are not known yet.
func (c *tdmCache) get(ctx context.Context, u *url.URL) (*tdmEntry, error) {
	key := strings.ToLower(u.Scheme) + "://" + site.Key(u)
	if e := c.lookup(key); e != nil {
		return e, nil
	}
	ch := c.flight.DoChan(key, func() (any, error) {
		if e := c.lookup(key); e != nil {
			return e, nil
		}
		// The fetch serves every page waiting for it: one giving up must
		// not cancel it. It is bounded by the longest a request waits
		// for its slot and then takes.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.g.cfg.MaxWait+2*c.g.cfg.Timeout)
		defer cancel()
		e, err := c.fetch(fctx, key, u)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.entries[key] = e
		c.mu.Unlock()
		return e, nil
	})
	select {
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*tdmEntry), nil
	}
}

func (c *tdmCache) lookup(key string) *tdmEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[key]; e != nil && time.Now().Before(e.expires) {
		return e
	}
	return nil
}

// fetch sends the tdmrep.json request of u's origin through the gate, as
// a request of its own (decided, logged and charged to the site's budget
// like any other), and reads the answer.
func (c *tdmCache) fetch(ctx context.Context, key string, u *url.URL) (*tdmEntry, error) {
	g := c.g
	s := site.Key(u)
	raw := key + TDMRepPath
	e := &tdmEntry{url: g.redactURL(raw), expires: time.Now().Add(c.ttl)}
	r := g.newRequest(frontier.Item{URL: raw, Site: s, From: s})
	r.kind = kindTDMRep
	defer g.done(r)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, fmt.Errorf("crawler: tdmrep.json request for %s: %w", s, err)
	}
	req.Header.Set(hdrItem, r.id)
	client := &http.Client{Transport: g, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > MaxRedirects {
			return fmt.Errorf("tdmrep.json redirected more than %d times", MaxRedirects)
		}
		return nil
	}}
	resp, err := client.Do(req)
	if err != nil {
		var refused *RefusedError
		switch {
		case errors.As(err, &refused) && !refused.RetryAt.IsZero():
			return nil, refused
		case errors.As(err, &refused):
			// robots.txt disallows it, say: goodbot cannot read it, and
			// takes the site to have none.
			e.note = "not fetched (" + refused.Reason + "): no reservation known from tdmrep.json"
		case ctx.Err() != nil:
			return nil, fmt.Errorf("crawler: tdmrep.json of %s: %w", s, context.Cause(ctx))
		default:
			e.note = "unreachable (" + g.redactText(err.Error()) + "): treated as no file, asked again later"
			e.expires = time.Now().Add(tdmRetry)
		}
		return e, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, usage.MaxTDMFile+1))
	resp.Body.Close()
	switch {
	case err != nil:
		e.note = "unreadable (" + err.Error() + "): treated as no file, asked again later"
		e.expires = time.Now().Add(tdmRetry)
	case resp.StatusCode >= 200 && resp.StatusCode <= 299 && looksHTML(resp.Header.Get("Content-Type"), body):
		// Many sites answer any path with a page (a "soft 404").
		e.note = fmt.Sprintf("answered %d with an HTML page, not a JSON file: no file", resp.StatusCode)
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		rules, perr := usage.ParseTDMRep(body)
		e.rules = rules
		if perr != nil {
			why := g.redactText(perr.Error())
			if len(rules) == 0 {
				e.note = "unreadable, treated as no file: " + why
			} else {
				e.note = "partly unreadable: " + why
			}
			g.cfg.Logger.Warn("tdmrep.json not fully readable", "site", s, "url", e.url, "reason", why)
		}
		if len(rules) == 0 && e.note == "" {
			e.note = "holds no rules"
		}
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		e.note = fmt.Sprintf("answered %d: treated as no file, asked again later", resp.StatusCode)
		e.expires = time.Now().Add(tdmRetry)
	default:
		e.note = fmt.Sprintf("answered %d: no file, so no site-wide reservation", resp.StatusCode)
	}
	return e, nil
}

// tdmVerdict is what an origin's tdmrep.json says of one URL.
type tdmVerdict struct {
	pref *usage.Pref // nil when no rule with a reservation applies
	note string      // otherwise, why
}

// verdict applies e to the URL u.
func (e *tdmEntry) verdict(u *url.URL) tdmVerdict {
	if len(e.rules) == 0 {
		return tdmVerdict{note: e.url + " " + e.note}
	}
	pq := u.EscapedPath()
	if u.RawQuery != "" {
		pq += "?" + u.RawQuery
	}
	rule, ok := usage.MatchTDM(e.rules, pq, robots.MatchPattern)
	if !ok {
		return tdmVerdict{note: e.url + ": no rule matches the path"}
	}
	stated, _ := json.Marshal(rule)
	pref, ok := usage.TDMPref(usage.SourceTDMFile, rule.Reservation, string(stated))
	if !ok {
		return tdmVerdict{note: e.url + ": the matching rule " + string(stated) + " has no tdm-reservation of 0 or 1: unset"}
	}
	return tdmVerdict{pref: &pref}
}

// String describes v for the decision's check.
func (v tdmVerdict) String() string {
	if v.pref != nil {
		return fmt.Sprintf("tdmrep.json rule %s", v.pref.Value)
	}
	return v.note
}
