package crawler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goodbot/goodbot/audit"
)

// DefaultCacheTTL is Config.CacheTTL's default: a day, the longest RFC
// 9309 lets a robots.txt be cached, so that a page is not served from the
// cache for longer than the robots.txt it was fetched under held.
const DefaultCacheTTL = 24 * time.Hour

// devCache is the development cache of Config.CacheDir: one file per
// answer, holding the status, the header values and the body as the
// personal-data filter left them, under
// dir/<site>/<key[:2]>/<key>.json. A file is written to a temporary name
// and renamed, so that a reader sees a whole entry or none.
type devCache struct {
	dir string
	ttl time.Duration
}

// cacheEntry is one cached answer.
type cacheEntry struct {
	Method string      `json:"method"`
	URL    string      `json:"url"` // as the filter left it (only URLs it leaves as they are are cached)
	Status int         `json:"status"`
	Header http.Header `json:"header"` // values as the filter left them; no Set-Cookie
	Body   []byte      `json:"body"`   // as the filter left it
	Stored time.Time   `json:"stored"`
}

func openDevCache(dir string, ttl time.Duration) (*devCache, error) {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("development cache: %w", err)
	}
	return &devCache{dir: dir, ttl: ttl}, nil
}

// cacheKey is the key of a request: its method, URL and a digest of its
// body.
func cacheKey(method, u string, body []byte) string {
	b := sha256.Sum256(body)
	h := sha256.Sum256([]byte(method + "\n" + u + "\n" + hex.EncodeToString(b[:])))
	return hex.EncodeToString(h[:])
}

var siteDirName = strings.NewReplacer(":", "_", "[", "", "]", "", "/", "_", `\`, "_")

func (c *devCache) siteDir(s string) string { return filepath.Join(c.dir, siteDirName.Replace(s)) }

func (c *devCache) path(s, key string) string {
	return filepath.Join(c.siteDir(s), key[:2], key+".json")
}

// get returns the entry of key for site s if there is one younger than
// the TTL. An expired entry is removed.
func (c *devCache) get(s, key string) (*cacheEntry, bool) {
	p := c.path(s, key)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || time.Since(e.Stored) > c.ttl || e.Stored.After(time.Now().Add(time.Minute)) {
		os.Remove(p)
		return nil, false
	}
	return &e, true
}

// put writes e as the entry of key for site s, atomically.
func (c *devCache) put(s, key string, e *cacheEntry) error {
	p := c.path(s, key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// deleteSite removes every entry of site s, e.g. on a complaint.
func (c *devCache) deleteSite(s string) error {
	err := os.RemoveAll(c.siteDir(s))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// cacheable reports whether the answer to req, the request of item r, may
// be cached and served from the cache: a page's request whose URL and body
// the filter leaves as they are (nothing derived from personal data names
// a cache file).
func (g *gate) cacheable(req *http.Request, r *request, kind string) bool {
	if g.cache == nil || r == nil || r.kind != "" || (kind != kindPage && kind != "redirect") {
		return false
	}
	if req.Method != http.MethodGet && req.Method != http.MethodPost && req.Method != http.MethodHead {
		return false
	}
	u := req.URL.String()
	return g.redactURL(u) == u && CleanBody(g.cfg.Filter)(r.item.ContentType, g.cacheBody(req, r))
}

// cacheBody is the body req sends: its item's, unless a redirect made it
// a GET.
func (g *gate) cacheBody(req *http.Request, r *request) []byte {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return nil
	}
	return r.item.Body
}

// fromCache answers req from the development cache if it holds a fresh
// answer, and records that it did: a decision that allows, with the cache
// as its reason. Nothing is sent and the limiter is not charged. The
// answer's body passes the filter again on its way to the callbacks.
func (g *gate) fromCache(ctx context.Context, req *http.Request, r *request, s string, d *audit.Decision) (*http.Response, bool, error) {
	key := cacheKey(req.Method, req.URL.String(), g.cacheBody(req, r))
	e, ok := g.cache.get(s, key)
	if !ok {
		return nil, false, nil
	}
	d.Checks = append(d.Checks, audit.Check{Gate: "cache", Verdict: audit.Allow,
		Reason: "served from the development cache (stored " + e.Stored.UTC().Format(time.RFC3339) + "); not sent"})
	d.Verdict, d.Reason = audit.Allow, "cache: served from the development cache"
	g.record(ctx, s, audit.Event{Type: audit.TypeDecision, Decision: d})
	g.stats.cached.Add(1)
	class := "ok"
	if e.Status >= 300 && e.Status < 400 {
		class = "redirect"
	}
	resp := &http.Response{
		Status:     fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status)),
		StatusCode: e.Status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:       e.Header.Clone(),
		Request:      req,
		Uncompressed: true,
	}
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	for k, vs := range resp.Header {
		if structuralHeader[k] {
			continue
		}
		for i, v := range vs {
			vs[i] = g.redactText(v)
		}
	}
	r.mu.Lock()
	r.cached = true
	r.outcome = outcome{class: class, status: e.Status}
	r.mu.Unlock()
	body, err := g.filterResponse(resp, e.Body, r)
	if err != nil {
		return nil, true, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, true, nil
}

// toCache writes the answer to req, as the filter left it, to the
// development cache: 2xx pages the filter did not drop, and redirects.
// A failure is logged, once: the cache is for development only.
func (g *gate) toCache(req *http.Request, r *request, s string, resp *http.Response, body []byte) {
	r.mu.Lock()
	class, dropped := r.outcome.class, r.dropped
	r.mu.Unlock()
	if dropped || (class != "ok" && class != "redirect") {
		return
	}
	for _, vs := range resp.Header {
		for _, v := range vs {
			if g.redactText(v) != v {
				// A structural header (a Location) that names
				// someone's data: the answer is not cached.
				return
			}
		}
	}
	hdr := resp.Header.Clone()
	hdr.Del("Set-Cookie")
	hdr.Del("Content-Length")
	e := &cacheEntry{Method: req.Method, URL: req.URL.String(), Status: resp.StatusCode, Header: hdr, Body: body, Stored: time.Now().UTC()}
	if class == "redirect" {
		e.Body = nil
	}
	if err := g.cache.put(s, cacheKey(req.Method, req.URL.String(), g.cacheBody(req, r)), e); err != nil {
		g.warnOnce("cache", "could not write the development cache", "dir", g.cache.dir, "err", err)
	}
}
