package crawler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/gocolly/colly/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/output"
)

// planted are the personal values the invariant site hides in every part
// of its pages, headers, URLs and robots.txt.
var planted = []string{
	"13812345678", "１３８１２３４５６７８", "13912345678", "wang@example.cn", "wang%40example.cn",
	"robots-admin@example.cn", "11010519491231002X", "13712345678", "zhao@example.cn",
}

func gbk(t *testing.T, s string) string {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// What goodbot stores, logs and hands to callbacks has passed the filter,
// in its decoded form, on every path: pages (HTML, text, title, URL), the
// operation log (URLs, reasons, robots.txt copies), callbacks (bodies,
// headers, request URLs). Legacy encodings are decoded first; pages that
// cannot be read are not stored.
func TestStoredIsWhatWasChecked(t *testing.T) {
	ts := newTestSite(t)
	ts.robots("# contact robots-admin@example.cn\nUser-agent: *\nAllow: /\n")
	ts.handle("/index", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Contact", "wang@example.cn")
		page(w, `<a href="/gbk-meta">a</a> <a href="/gbk-header">b</a> <a href="/deep">c</a> <a href="/img.png">d</a>
<a href="/data.json">e</a> <a href="/u?email=wang%40example.cn">f</a> <a href="/redir">g</a> <a href="/script">h</a>`)
	})
	ts.handle("/gbk-meta", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html") // the charset is only in <meta>
		fmt.Fprint(w, gbk(t, `<html><head><meta charset="gbk"><title>联系我们</title></head><body>
<p>联系人手机：１３８１２３４５６７８</p><!-- 身份证 11010519491231002X --></body></html>`))
	})
	ts.handle("/gbk-header", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=GBK")
		fmt.Fprint(w, gbk(t, `<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body><p>客服电话 139 1234 5678</p></body></html>`))
	})
	ts.handle("/deep", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<html><body>"+strings.Repeat("<div>", 600)+`<a href="/after-deep">x</a>`+strings.Repeat("</div>", 600)+"</body></html>")
	})
	ts.handle("/img.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n wang@example.cn"))
	})
	ts.handle("/data.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"user":{"mobile":"\u0031\u0033\u0037\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038"}}`)
	})
	ts.handle("/redir", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/x?mail=zhao%40example.cn", http.StatusFound)
	})
	ts.handle("/script", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<script>window.__INITIAL_STATE__={"contact":{"mobile":"13712345678"}}</script><span onclick="mail('zhao@example.cn')">x</span>`)
	})

	rec := &recorder{}
	cfg := testConfig(t, rec, ts)
	cfg.OutDir = t.TempDir()
	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen bytes.Buffer // everything callbacks were handed
	cr.OnResponse(func(r *colly.Response) {
		mu.Lock()
		defer mu.Unlock()
		seen.Write(r.Body)
		seen.WriteString(r.Request.URL.String())
		for k, vs := range *r.Headers {
			seen.WriteString(k + strings.Join(vs, " "))
		}
	})
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) {
		mu.Lock()
		seen.WriteString(e.Attr("href"))
		mu.Unlock()
		e.Request.Visit(e.Attr("href"))
	})
	cr.OnHTML("script", func(e *colly.HTMLElement) {
		mu.Lock()
		seen.WriteString(e.Text)
		mu.Unlock()
	})
	if err := cr.Seed(ts.url("/index")); err != nil {
		t.Fatal(err)
	}
	sum, err := cr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// Links and redirects that carry personal data are not followed.
	for _, u := range ts.uris() {
		if strings.Contains(u, "email=") || strings.Contains(u, "mail=") || u == "/after-deep" {
			t.Errorf("requested %s", u)
		}
	}
	var all bytes.Buffer
	filepath.Walk(cfg.OutDir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			all.Write(b)
		}
		return nil
	})
	rec.mu.Lock()
	for _, e := range rec.events {
		b, _ := json.Marshal(e)
		all.Write(b)
	}
	rec.mu.Unlock()
	for where, b := range map[string][]byte{"storage and log": all.Bytes(), "callbacks": seen.Bytes()} {
		for _, v := range planted {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s: planted value %q got through", where, v)
			}
		}
	}

	recs := storedRecords(t, cfg.OutDir, ts.site())
	byPath := map[string]output.Record{}
	for _, r := range recs {
		byPath[r.URL[len(ts.srv.URL):]] = r
		if !utf8.ValidString(r.HTML) || strings.Contains(r.HTML, "<script") || strings.Contains(r.HTML, "<!--") || strings.Contains(r.HTML, "onclick") {
			t.Errorf("%s: stored HTML is not clean UTF-8: %s", r.URL, r.HTML)
		}
		if r.Stored != "clean" {
			t.Errorf("%s: stored %q", r.URL, r.Stored)
		}
	}
	for path, cs := range map[string]string{"/gbk-meta": "gbk", "/gbk-header": "gbk"} {
		r, ok := byPath[path]
		if !ok {
			t.Errorf("%s not stored; have %v", path, recs)
			continue
		}
		if r.Charset != cs || !strings.Contains(r.ContentType, "utf-8") || strings.Contains(strings.ToLower(r.HTML), "gb2312") || strings.Contains(strings.ToLower(r.HTML), `charset="gbk"`) {
			t.Errorf("%s: charset %q, content type %q, html %s", path, r.Charset, r.ContentType, r.HTML)
		}
	}
	if r := byPath["/gbk-meta"]; !strings.Contains(r.HTML, "联系人手机") || r.Title != "联系我们" {
		t.Errorf("GBK page not decoded: %+v", r)
	}
	if r := byPath["/index"]; !strings.Contains(r.HTML, `<a href="/gbk-meta">a</a>`) {
		t.Errorf("the cleaned DOM lost its markup: %s", r.HTML)
	}
	if r := byPath["/script"]; !strings.Contains(r.HTML, `<span>x</span>`) {
		t.Errorf("the cleaned DOM lost its markup: %s", r.HTML)
	}
	for _, p := range []string{"/deep", "/img.png"} {
		if _, ok := byPath[p]; ok {
			t.Errorf("%s was stored", p)
		}
	}
	if sum.Unreadable != 1 || sum.Dropped != 1 {
		t.Errorf("summary: %d unreadable, %d dropped; want 1 and 1", sum.Unreadable, sum.Dropped)
	}
	var unreadable, dropped bool
	for _, e := range rec.all(audit.TypePII) {
		if e.PII.Unreadable && strings.Contains(e.PII.URL, "/deep") && len(e.PII.SHA256) == 64 && strings.Contains(e.PII.Reason, "parser") {
			unreadable = true
		}
		if e.PII.Dropped && strings.Contains(e.PII.URL, "/img.png") && len(e.PII.SHA256) == 64 {
			dropped = true
		}
	}
	if !unreadable || !dropped {
		t.Errorf("operation log lacks the unreadable (%v) or dropped (%v) page with its digest", unreadable, dropped)
	}
	for _, e := range rec.all(audit.TypeRobots) {
		if !e.Robots.Redacted || len(e.Robots.Body) == 0 {
			t.Errorf("robots.txt copy: redacted %v, body %q", e.Robots.Redacted, e.Robots.Body)
		}
	}
}

func storedRecords(t *testing.T, dir, siteKey string) []output.Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "sites", output.SiteDir(siteKey), output.PagesFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []output.Record
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var r output.Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// A callback that changes the body cannot smuggle personal data into
// storage: the changed body passes the filter again.
func TestChangedBodyIsFilteredAgain(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index")
	rec := &recorder{}
	cfg := testConfig(t, rec, ts)
	cfg.OutDir = t.TempDir()
	cfg.Store = StoreFull
	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cr.OnResponse(func(r *colly.Response) {
		r.Body = append(r.Body, []byte("<p>手机 13812345678</p>")...)
	})
	cr.Seed(ts.url("/index"))
	if _, err := cr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := storedRecords(t, cfg.OutDir, ts.site())
	if len(recs) != 1 || strings.Contains(recs[0].HTML, "13812345678") || !strings.Contains(recs[0].HTML, "[CN_MOBILE]") || recs[0].Stored != "full" {
		t.Errorf("stored %+v", recs)
	}
}
