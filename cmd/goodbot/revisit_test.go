package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/state"
)

// revisitSite is a loopback site of n linked pages, each with a strong
// ETag and a Last-Modified, served by http.ServeContent (which answers
// conditional requests itself), and a few odd ones. It counts, at the
// server, the requests with and without validators, the 304s, and the
// bytes of every response (status line and header fields included).
type revisitSite struct {
	srv     *httptest.Server
	n       int
	version atomic.Int32 // the version of /changes: 1, then 2
	// sitemap, if set, is served at /sitemap.xml and named in robots.txt.
	sitemap string
	// plainOnly leaves out the odd pages: the site is n pages and /.
	plainOnly bool

	mu          sync.Mutex
	conditional map[string]int // path -> requests with If-None-Match or If-Modified-Since
	plain       map[string]int // path -> requests without
	notMod      map[string]int // path -> 304 answers
	inm         map[string]string
	bytes       int64
}

// mod is the pages' Last-Modified.
var mod = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

func newRevisitSite(t testing.TB, n int, plainOnly bool) *revisitSite {
	s := &revisitSite{n: n, plainOnly: plainOnly, conditional: map[string]int{}, plain: map[string]int{}, notMod: map[string]int{}, inm: map[string]string{}}
	s.version.Store(1)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{ResponseWriter: w}
		s.serve(cw, r)
		s.mu.Lock()
		defer s.mu.Unlock()
		p := r.URL.Path
		if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
			s.conditional[p]++
			s.inm[p] = r.Header.Get("If-None-Match")
		} else {
			s.plain[p]++
		}
		if cw.status == http.StatusNotModified {
			s.notMod[p]++
		}
		s.bytes += cw.bytes + cw.headerBytes()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *revisitSite) serve(w http.ResponseWriter, r *http.Request) {
	page := func(etag string, lm time.Time, body string) {
		if etag != "" {
			w.Header().Set("ETag", etag)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeContent(w, r, "", lm, strings.NewReader(body))
	}
	// A paragraph long enough that a page weighs what a small real one does.
	filler := strings.Repeat("Unchanged text of the page, kept as it was. ", 40)
	switch p := r.URL.Path; {
	case p == "/robots.txt" && s.sitemap != "":
		fmt.Fprintf(w, "User-agent: *\nAllow: /\nSitemap: %s/sitemap.xml\n", s.srv.URL)
	case p == "/sitemap.xml" && s.sitemap != "":
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, s.sitemap)
	case p == "/robots.txt":
		http.NotFound(w, r)
	case p == "/":
		var b strings.Builder
		b.WriteString("<html><body><p>home</p>")
		for i := range s.n {
			fmt.Fprintf(&b, `<a href="/page%d">%d</a>`, i, i)
		}
		if !s.plainOnly {
			b.WriteString(`<a href="/weak">w</a><a href="/lm-only">l</a><a href="/bad-lm">b</a><a href="/changes">c</a><a href="/pii-etag">e</a><a href="/always-304">a</a>`)
		}
		b.WriteString("</body></html>")
		page(`"home-1"`, mod, b.String())
	case strings.HasPrefix(p, "/page"):
		page(`"`+p[1:]+`-1"`, mod, "<html><body><p>page "+p+"</p><p>"+filler+"</p></body></html>")
	case p == "/weak":
		page(`W/"weak-1"`, time.Time{}, "<html><body><p>weak</p></body></html>")
	case p == "/lm-only":
		page("", mod, "<html><body><p>last-modified only</p></body></html>")
	case p == "/bad-lm":
		w.Header().Set("Last-Modified", "yesterday, around noon")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<html><body><p>bad date</p></body></html>")
	case p == "/changes":
		v := s.version.Load()
		body := fmt.Sprintf("<html><body><p>version %d</p>", v)
		if v > 1 {
			body += `<a href="/new">new</a>`
		}
		page(fmt.Sprintf(`"changes-%d"`, v), time.Time{}, body+"</body></html>")
	case p == "/new":
		page(`"new-1"`, time.Time{}, "<html><body><p>new page</p></body></html>")
	case p == "/pii-etag":
		// An ETag that holds an e-mail address: never stored, never sent back.
		page(`"zhang.san@example.cn"`, time.Time{}, "<html><body><p>pii etag</p></body></html>")
	case p == "/always-304":
		w.WriteHeader(http.StatusNotModified)
	default:
		http.NotFound(w, r)
	}
}

func (s *revisitSite) hostport() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// counts returns the requests with and without validators, the 304s and
// the response bytes since the last call, and resets them.
func (s *revisitSite) counts() (conditional, plain, notMod map[string]int, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	conditional, plain, notMod, n = s.conditional, s.plain, s.notMod, s.bytes
	s.conditional, s.plain, s.notMod, s.bytes = map[string]int{}, map[string]int{}, map[string]int{}, 0
	return
}

// countingWriter counts what a handler writes.
type countingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (c *countingWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(b)
	c.bytes += int64(n)
	return n, err
}

// headerBytes is the size of the status line and header fields as
// written (close to what the server sends; Date and Content-Length
// included).
func (c *countingWriter) headerBytes() int64 {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", c.status, http.StatusText(c.status))
	c.Header().Write(&b)
	b.WriteString("Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n\r\n")
	return int64(b.Len())
}

func revisitCrawl(t testing.TB, s *revisitSite, out, key string, extra ...string) string {
	t.Helper()
	args := append([]string{"crawl", "--contact", "mailto:ops@example.org", "--traffic", s.hostport() + "=864000000",
		"--out", out, "--audit-key", key, "--progress", "0", "--parallel", "4"}, extra...)
	code, stdout, stderr := runCLIctx(context.Background(), append(args, s.srv.URL+"/")...)
	if code != 0 {
		t.Fatalf("crawl %v: exit %d\n%s\n%s", extra, code, stdout, stderr)
	}
	return stdout + stderr
}

// storedLines counts the records of pages.jsonl by URL path.
func storedLines(t *testing.T, out, hostport, base string) map[string]int {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(out, "sites", strings.ReplaceAll(hostport, ":", "_"), "pages.jsonl"))
	m := map[string]int{}
	for _, ln := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if i := bytes.Index(ln, []byte(`"url":"`+base)); i >= 0 {
			rest := ln[i+len(`"url":"`+base):]
			m[string(rest[:bytes.IndexByte(rest, '"')])]++
		}
	}
	return m
}

// A second crawl with --revisit of an unchanged site sends only
// conditional requests for the pages with validators, each answered 304:
// nothing is stored again, the log has a revisit for each (validators,
// the earlier fetch, the bytes spared), the summary and the WARC export
// say so; a changed page is stored as a new version and the link it
// gained is followed; the odd validators are handled as the README says.
func TestCrawlRevisit(t *testing.T) {
	const n, unchangedPages = 50, 10
	const revisitsWant = n - unchangedPages + 3 // and /, /weak, /lm-only
	s := newRevisitSite(t, n, false)
	// The sitemap dates /page0 to /page9 before the first crawl (as a
	// date, a time and a month), /page10 after it, /page11 unreadably.
	var sm strings.Builder
	sm.WriteString(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
	for i := range unchangedPages {
		lastmod := []string{"2026-11-01", "2026-11-01T08:00:00Z", "2026-10"}[i%3]
		fmt.Fprintf(&sm, "<url><loc>%s/page%d</loc><lastmod>%s</lastmod></url>", s.srv.URL, i, lastmod)
	}
	fmt.Fprintf(&sm, "<url><loc>%s/page10</loc><lastmod>%s</lastmod></url>", s.srv.URL, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	fmt.Fprintf(&sm, "<url><loc>%s/page11</loc><lastmod>last week</lastmod></url></urlset>", s.srv.URL)
	s.sitemap = sm.String()
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	revisitCrawl(t, s, out, key)
	_, plain1, _, bytes1 := s.counts()
	stored1 := storedLines(t, out, s.hostport(), s.srv.URL)
	if plain1["/page0"] != 1 || stored1["/page0"] != 1 || stored1["/always-304"] != 0 {
		t.Fatalf("first crawl: requests %v, stored %v", plain1, stored1)
	}

	s.version.Store(2)
	outText := revisitCrawl(t, s, out, key, "--revisit")
	cond, plain, notMod, bytes2 := s.counts()
	stored2 := storedLines(t, out, s.hostport(), s.srv.URL)

	// Pages the sitemap dates before the stored copy: not asked for.
	for i := range unchangedPages {
		p := fmt.Sprintf("/page%d", i)
		if cond[p] != 0 || plain[p] != 0 || stored2[p] != 1 {
			t.Errorf("%s: %d conditional, %d plain requests, stored %d times; want 0, 0, 1", p, cond[p], plain[p], stored2[p])
		}
	}
	if plain["/sitemap.xml"] != 1 {
		t.Errorf("the sitemap was fetched %d times, want 1", plain["/sitemap.xml"])
	}
	// Pages with validators: asked for conditionally, answered 304, not
	// stored again.
	for i := unchangedPages; i < n; i++ {
		p := fmt.Sprintf("/page%d", i)
		if cond[p] != 1 || plain[p] != 0 || notMod[p] != 1 || stored2[p] != 1 {
			t.Errorf("%s: %d conditional, %d plain requests, %d answered 304, stored %d times; want 1, 0, 1, 1", p, cond[p], plain[p], notMod[p], stored2[p])
		}
	}
	for _, p := range []string{"/", "/weak", "/lm-only"} {
		if cond[p] != 1 || notMod[p] != 1 || stored2[p] != 1 {
			t.Errorf("%s: %d conditional requests, %d answered 304, stored %d times; want 1, 1, 1", p, cond[p], notMod[p], stored2[p])
		}
	}
	if s.inm["/weak"] != `W/"weak-1"` || s.inm["/page17"] != `"page17-1"` {
		t.Errorf("If-None-Match sent: /weak %q, /page17 %q", s.inm["/weak"], s.inm["/page17"])
	}
	// No usable validator: asked for in full, and stored again.
	for _, p := range []string{"/bad-lm", "/pii-etag"} {
		if cond[p] != 0 || plain[p] != 1 || stored2[p] != 2 {
			t.Errorf("%s: %d conditional, %d plain requests, stored %d times; want 0, 1, 2", p, cond[p], plain[p], stored2[p])
		}
	}
	// A page that changed: a 200 to the conditional request, stored as a
	// new version, and its new link followed.
	if cond["/changes"] != 1 || notMod["/changes"] != 0 || stored2["/changes"] != 2 || stored2["/new"] != 1 {
		t.Errorf("/changes: %d conditional, %d 304, stored %d; /new stored %d; want 1, 0, 2, 1", cond["/changes"], notMod["/changes"], stored2["/changes"], stored2["/new"])
	}
	if !strings.Contains(outText, fmt.Sprintf("revisits: %d pages unchanged", revisitsWant)) || !strings.Contains(outText, fmt.Sprintf("%d not asked for", unchangedPages)) || !strings.Contains(outText, "sites were spared sending") {
		t.Errorf("summary does not report the revisits:\n%s", outText)
	}
	t.Logf("first crawl: %d response bytes; second crawl: %d (%.1f%%)", bytes1, bytes2, 100*float64(bytes2)/float64(bytes1))
	if bytes2*3 > bytes1 {
		t.Errorf("second crawl transferred %d bytes, the first %d: want much less", bytes2, bytes1)
	}

	// The log: each 304 is a fetch of class not-modified with its
	// revisit, after a decision that shows the validators sent; the
	// unexpected 304 is an error.
	var revisits, unexpected, sitemapSkips int
	var spared int64
	decisions := map[string]*audit.Decision{}
	if _, err := audit.Verify(context.Background(), filepath.Join(out, "audit"), audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		if d := e.Event.Decision; d != nil && d.Conditional != nil {
			decisions[d.RequestID+" "+d.URL] = d
		}
		if d := e.Event.Decision; d != nil && strings.HasPrefix(d.Reason, "sitemap: the sitemap's lastmod") {
			sitemapSkips++
		}
		f := e.Event.Fetch
		if f == nil {
			return nil
		}
		switch f.Class {
		case "not-modified":
			rv := f.Revisit
			if rv == nil || rv.RefersToDate.IsZero() || rv.Spared <= 0 || rv.StoredSHA256 == "" || f.Status != 304 || (rv.IfNoneMatch == "" && rv.IfModifiedSince == "") {
				t.Errorf("revisit entry for %s: %+v %+v", f.URL, f, rv)
				return nil
			}
			if d := decisions[f.RequestID+" "+f.URL]; d == nil || d.Conditional.IfNoneMatch != rv.IfNoneMatch {
				t.Errorf("%s: the decision before the revisit does not show the validators sent: %+v", f.URL, d)
			}
			if got := strings.Join(f.RequestHeader["If-None-Match"], ""); got != rv.IfNoneMatch {
				t.Errorf("%s: request header If-None-Match %q, revisit says %q", f.URL, got, rv.IfNoneMatch)
			}
			revisits++
			spared += rv.Spared
		case "unexpected-304":
			unexpected++
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	// /always-304 answered 304 to the first crawl's plain request; the
	// second crawl did not ask again: it was not stored, and its link is
	// on a page that did not change.
	if revisits != revisitsWant || unexpected != 1 || spared < int64(revisitsWant-3)*1000 || sitemapSkips != unchangedPages {
		t.Errorf("log: %d revisits sparing %d bytes, %d unexpected 304s, %d sitemap skips; want %d, at least %d, 1, %d",
			revisits, spared, unexpected, sitemapSkips, revisitsWant, (revisitsWant-3)*1000, unchangedPages)
	}

	// The state kept no validator the filter would change.
	st, err := state.Open(filepath.Join(out, "state"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	front, _, err := st.Frontier(state.FrontierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	front.Pages(context.Background(), func(p state.Page) error {
		pages++
		if strings.Contains(p.ETag, "@") || strings.Contains(p.ETag, "zhang") {
			t.Errorf("the state kept the ETag %q", p.ETag)
		}
		if strings.HasSuffix(p.URL, "/bad-lm") && p.LastModified != "" {
			t.Errorf("the state kept a malformed Last-Modified %q", p.LastModified)
		}
		return nil
	})
	st.Close()
	if pages != n+7 {
		t.Errorf("the state keeps %d pages, want %d", pages, n+7)
	}

	// The evidence bundle: a revisit record for each 304, referring to
	// the response it repeats.
	bundle := filepath.Join(t.TempDir(), "bundle")
	if code, o, e := runCLI(t, "audit", "export", filepath.Join(out, "audit"), "--site", s.hostport(), "-o", bundle, "--sign", key); code != 0 {
		t.Fatalf("export: exit %d\n%s\n%s", code, o, e)
	}
	if code, o, e := runCLI(t, "audit", "verify-bundle", bundle); code != 0 {
		t.Fatalf("verify-bundle: exit %d\n%s\n%s", code, o, e)
	}
	if report, _ := os.ReadFile(filepath.Join(bundle, "report.html")); !bytes.Contains(report, []byte(fmt.Sprintf("%d pages unchanged (304 Not Modified), %d bytes the site was spared", revisits, spared))) {
		t.Errorf("the report does not give the revisits (%d, %d bytes spared)", revisits, spared)
	}
	warcPath := filepath.Join(bundle, "pages.warc.gz")
	recs := readWARCSpec(t, warcPath)
	ids := map[string]specRecord{}
	for _, r := range recs {
		ids[r.get("WARC-Record-ID")] = r
	}
	nrev := 0
	for _, r := range recs {
		if r.get("WARC-Type") != "revisit" {
			continue
		}
		nrev++
		orig, ok := ids[r.get("WARC-Refers-To")]
		if r.get("WARC-Profile") != "http://netpreserve.org/warc/1.1/revisit/server-not-modified" || !ok ||
			orig.get("WARC-Type") != "response" || orig.get("WARC-Target-URI") != r.get("WARC-Target-URI") ||
			r.get("WARC-Refers-To-Target-URI") != r.get("WARC-Target-URI") || r.get("WARC-Refers-To-Date") != orig.get("WARC-Date") ||
			!bytes.HasPrefix(r.block, []byte("HTTP/1.1 304 Not Modified\r\n")) {
			t.Errorf("revisit record %v\nrefers to %v", r.headers, orig.headers)
		}
	}
	if nrev != revisitsWant {
		t.Errorf("%d revisit records, want %d", nrev, revisitsWant)
	}
	// What is stored is what was checked: the e-mail address the ETag of
	// /pii-etag carried is nowhere, in the log, the state, the pages or
	// the bundle (the WARC unzipped).
	checkNowhere(t, []string{"zhang.san@example.cn"}, warcPath, out, bundle)
	// warcio.js reads the revisit records, and indexes them as revisits.
	if wrecs, cdx, ok := readWithWarcio(t, warcPath); ok {
		wrev := 0
		for _, r := range wrecs {
			if r.Type == "revisit" {
				wrev++
				if r.Status != 304 || r.Refers == "" || r.Error != "" {
					t.Errorf("warcio.js read a revisit record as %+v", r)
				}
			}
		}
		if wrev != revisitsWant || bytes.Count(cdx, []byte(`"mime":"warc/revisit","status":"304"`)) != revisitsWant {
			t.Errorf("warcio.js read %d revisit records, cdx-index lists %d; want %d\n%s", wrev, bytes.Count(cdx, []byte(`"mime":"warc/revisit"`)), revisitsWant, cdx)
		}
	}
}

// revisitRun crawls an unchanged site of n pages twice on one --out, the
// second time with --revisit, and returns what the server counted for
// each: requests with and without validators, 304 answers, response
// bytes. It fails when the second crawl sent anything but conditional
// requests answered 304, or stored anything.
func revisitRun(tb testing.TB, n int) (first, second revisitCounts) {
	s := newRevisitSite(tb, n, true)
	out := tb.TempDir()
	key := filepath.Join(tb.TempDir(), "key")
	revisitCrawl(tb, s, out, key)
	first = s.take()
	pages := filepath.Join(out, "sites", strings.ReplaceAll(s.hostport(), ":", "_"), "pages.jsonl")
	before, _ := os.ReadFile(pages)
	revisitCrawl(tb, s, out, key, "--revisit")
	second = s.take()
	after, _ := os.ReadFile(pages)
	if first.plain < n+1 || second.plain != 0 || second.conditional != n+1 || second.notModified != n+1 || !bytes.Equal(before, after) {
		tb.Fatalf("first crawl %+v, second %+v (want %d conditional requests, each answered 304, none plain); pages.jsonl %d -> %d bytes",
			first, second, n+1, len(before), len(after))
	}
	return first, second
}

// revisitCounts is what the server counted during one crawl.
type revisitCounts struct {
	conditional, plain, notModified int
	bytes                           int64
}

func (s *revisitSite) take() revisitCounts {
	cond, plain, notMod, n := s.counts()
	var c revisitCounts
	for _, v := range cond {
		c.conditional += v
	}
	for p, v := range plain {
		// The site's tdmrep.json is asked for once per run, without
		// validators: it is kept in memory only (see the README's Status).
		if p != "/.well-known/tdmrep.json" {
			c.plain += v
		}
	}
	for _, v := range notMod {
		c.notModified += v
	}
	c.bytes = n
	return c
}

// The second crawl of an unchanged 50-page site sends only conditional
// requests, each answered 304, and stores nothing (BenchmarkRevisit1000
// measures a 1,000-page site).
func TestRevisitUnchangedSite(t *testing.T) {
	first, second := revisitRun(t, 50)
	t.Logf("first crawl: %d requests, %d response bytes; revisit: %d conditional requests, %d answered 304, %d response bytes (%.1f%% of the first)",
		first.plain+first.conditional, first.bytes, second.conditional, second.notModified, second.bytes, 100*float64(second.bytes)/float64(first.bytes))
}

// BenchmarkRevisit1000 crawls an unchanged loopback site of 1,000 pages,
// then revisits it, and reports, as counted at the server, the requests
// and response bytes (status line, header fields and body) of each crawl.
func BenchmarkRevisit1000(b *testing.B) {
	var first, second revisitCounts
	for b.Loop() {
		first, second = revisitRun(b, 1000)
	}
	b.ReportMetric(float64(first.plain+first.conditional), "req-first")
	b.ReportMetric(float64(first.bytes), "B-first")
	b.ReportMetric(float64(second.conditional), "cond-req-revisit")
	b.ReportMetric(float64(second.plain), "plain-req-revisit")
	b.ReportMetric(float64(second.bytes), "B-revisit")
	b.ReportMetric(100*float64(second.bytes)/float64(first.bytes), "%B-of-first")
}

// --fresh --revisit discards the queue and keeps the validators: the
// pages are asked for again, conditionally, and nothing is stored twice;
// the log says how many validators were kept.
func TestRevisitAfterFresh(t *testing.T) {
	const n = 5
	s := newRevisitSite(t, n, true)
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	revisitCrawl(t, s, out, key)
	s.take()
	text := revisitCrawl(t, s, out, key, "--fresh", "--revisit")
	c := s.take()
	if c.conditional != n+1 || c.notModified != n+1 || c.plain > 1 { // robots.txt is fetched again after --fresh
		t.Errorf("after --fresh --revisit: %+v, want %d conditional requests answered 304", c, n+1)
	}
	if !strings.Contains(text, fmt.Sprintf("keeping the validators of %d pages stored", n+1)) {
		t.Errorf("the crawl does not say what --fresh kept:\n%s", text)
	}
	if got := storedLines(t, out, s.hostport(), s.srv.URL); got["/page0"] != 1 || got["/"] != 1 {
		t.Errorf("stored: %v", got)
	}
}
