package state

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Page is what the state keeps about a page a crawl stored, so that a
// later run can revisit it with a conditional request (RFC 9110 section
// 13): the validators the site sent (ETag, Last-Modified) are sent back
// verbatim as If-None-Match and If-Modified-Since, and an answer 304 Not
// Modified refers to the fetch recorded here.
//
// Only pages whose URL passed the personal-data filter unchanged are kept
// (the rule of FrontierOptions.Clean); the crawler keeps a validator only
// if the filter leaves it unchanged too. Pages survive Options.Fresh:
// starting over discards the frontier, not what is known of the pages
// already stored. A complaint's DropSite deletes the site's pages.
type Page struct {
	URL  string `json:"url"`
	Site string `json:"site"`
	// Depth and From are the frontier item's (see frontier.Item), so that
	// a revisit is queued as the page was.
	Depth int    `json:"depth,omitempty"`
	From  string `json:"from,omitempty"`
	Seed  bool   `json:"seed,omitempty"`
	// ETag and LastModified are the validators of the stored answer, as
	// the site sent them; either may be empty.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Fetched is when the stored answer was fetched: the time of its
	// fetch entry in the operation log (and of its WARC response record).
	Fetched time.Time `json:"fetched"`
	// Checked is when the site last confirmed the page unchanged (a 304),
	// or zero.
	Checked time.Time `json:"checked,omitzero"`
	// Bytes is the length of the body received; BodySHA256 its digest,
	// StoredSHA256 that of what was stored (hex).
	Bytes        int64  `json:"bytes"`
	BodySHA256   string `json:"body_sha256,omitempty"`
	StoredSHA256 string `json:"stored_sha256,omitempty"`
}

// HasValidators reports whether p has a validator to send.
func (p Page) HasValidators() bool { return p.ETag != "" || p.LastModified != "" }

// Known is when the content of p was last known: the later of Fetched and
// Checked.
func (p Page) Known() time.Time {
	if p.Checked.After(p.Fetched) {
		return p.Checked
	}
	return p.Fetched
}

// pagePrefix is the key prefix of site's pages: v + site + 0.
func pagePrefix(site string) []byte {
	k := append([]byte{pPage}, site...)
	return append(k, 0)
}

func pageKey(site, url string) []byte { return append(pagePrefix(site), url...) }

// PutPage keeps p, replacing what was kept for its URL. It reports false,
// and keeps nothing, when the URL (or From) is not clean (see
// FrontierOptions.Clean): such a page is not written to disk.
func (f *Frontier) PutPage(p Page) (bool, error) {
	if p.URL == "" || p.Site == "" {
		return false, fmt.Errorf("state: page without URL or site (URL %q, site %q)", p.URL, p.Site)
	}
	if !f.opts.Clean(p.URL) || (p.From != "" && !f.opts.Clean(p.From)) {
		return false, nil
	}
	f.mu.Lock()
	dropped := f.sites[p.Site] != nil && f.sites[p.Site].Dropped
	f.mu.Unlock()
	if dropped {
		return false, nil
	}
	if err := f.s.setJSON(pageKey(p.Site, p.URL), p, pebble.NoSync); err != nil {
		return false, err
	}
	return true, nil
}

// Page returns what is kept about url on site.
func (f *Frontier) Page(site, url string) (Page, bool, error) {
	var p Page
	ok, err := f.s.getJSON(pageKey(site, url), &p)
	return p, ok, err
}

// Pages calls fn for every page kept, site by site, until fn returns an
// error, which Pages returns.
func (f *Frontier) Pages(ctx context.Context, fn func(Page) error) error {
	return f.scan([]byte{pPage}, func(k, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var p Page
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("state: page record %q is damaged: %w", bytes.TrimPrefix(k, []byte{pPage}), err)
		}
		return fn(p)
	})
}

// dropPages writes into b the deletion of site's pages.
func dropPages(b *pebble.Batch, site string) {
	p := pagePrefix(site)
	b.DeleteRange(p, append(bytes.Clone(p[:len(p)-1]), 1), nil)
}
