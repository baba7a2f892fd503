package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/antchfx/xmlquery"
	"github.com/gocolly/colly/v2"
	"golang.org/x/net/html"
)

// cnResidentID completes the 17 digits base with its GB 11643 check
// character.
func cnResidentID(base string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(base[i]-'0') * w
	}
	return base + string("10X98765432"[sum%11])
}

// percentAll percent-encodes every byte of s.
func percentAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// callbackLog keeps, per callback kind, everything the callbacks were
// handed, serialised as text.
type callbackLog struct {
	mu    sync.Mutex
	seen  map[string]*strings.Builder
	calls map[string]int
	errs  map[string][]error // OnError's errors by path
	empty []string           // OnResponse calls with an empty body
}

func newCallbackLog() *callbackLog {
	return &callbackLog{seen: map[string]*strings.Builder{}, calls: map[string]int{}, errs: map[string][]error{}}
}

func (l *callbackLog) add(kind string, f func(b *strings.Builder)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.seen[kind]
	if b == nil {
		b = &strings.Builder{}
		l.seen[kind] = b
	}
	l.calls[kind]++
	f(b)
	b.WriteByte('\n')
}

func dumpHeader(b *strings.Builder, h *http.Header) {
	if h == nil {
		return
	}
	for k, vs := range *h {
		fmt.Fprintf(b, "%s: %s\n", k, strings.Join(vs, ", "))
	}
}

func dumpCtx(b *strings.Builder, c *colly.Context) {
	if c == nil {
		return
	}
	c.ForEach(func(k string, v any) any {
		switch v := v.(type) {
		case *colly.Response:
			fmt.Fprintf(b, "ctx %s: ", k)
			dumpResponse(b, v)
		default:
			fmt.Fprintf(b, "ctx %s: %v\n", k, v)
		}
		return nil
	})
}

func dumpRequest(b *strings.Builder, r *colly.Request) {
	if r == nil {
		return
	}
	fmt.Fprintf(b, "%s %s depth %d proxy %q\n", r.Method, r.URL, r.Depth, r.ProxyURL)
	if r.URL != nil {
		fmt.Fprintf(b, "raw query %s path %s\n", r.URL.RawQuery, r.URL.Path)
	}
	dumpHeader(b, r.Headers)
}

func dumpResponse(b *strings.Builder, r *colly.Response) {
	if r == nil {
		return
	}
	fmt.Fprintf(b, "status %d\n", r.StatusCode)
	dumpHeader(b, r.Headers)
	b.Write(r.Body)
	b.WriteByte('\n')
	dumpRequest(b, r.Request)
}

// dumpErr writes the error and every error it wraps.
func dumpErr(b *strings.Builder, err error) {
	for i := 0; err != nil && i < 20; i++ {
		fmt.Fprintf(b, "err %T: %s\n", err, err.Error())
		var ue *url.Error
		if errors.As(err, &ue) {
			b.WriteString("url.Error URL " + ue.URL + "\n")
		}
		var se *StoppedError
		if errors.As(err, &se) {
			fmt.Fprintf(b, "stopped %+v\n", *se)
		}
		err = errors.Unwrap(err)
	}
}

// No user callback, of any kind, is handed personal data the filter did
// not see first: not in a 200 page, an error page, a header, a link, a
// redirect's target, an XML feed, nor in a body that cannot be scanned.
func TestCallbacksSeeOnlyFilteredData(t *testing.T) {
	id := func(base string) string { return cnResidentID(base) }
	plant := map[string]string{
		"200 body":        "13812345678",
		"200 body id":     id("11010519800101001"),
		"200 title":       "title-owner@example.cn",
		"200 attr mobile": "13912345678",
		"200 attr email":  "attr-owner@example.cn",
		"link query":      "13712345678",
		"link email":      "link-owner@example.cn",
		"404 body":        "e404-owner@example.cn",
		"404 mobile":      "13612345678",
		"500 body":        "e500-owner@example.cn",
		"500 id":          id("31010119900307123"),
		"header":          "hdr-owner@example.cn",
		"xml email":       "rss-owner@example.cn",
		"xml mobile":      "15012345678",
		"redirect email":  "redir-owner@example.cn",
		"redirect mobile": "18612345678",
		"png":             "png-owner@example.cn",
		"pdf":             "pdf-owner@example.cn",
		"pdf id":          id("44030419900307456"),
		"seed query":      "seed-owner@example.cn",
	}
	p := func(k string) string {
		v, ok := plant[k]
		if !ok {
			t.Fatalf("no planted value %q", k)
		}
		return v
	}

	ts := newTestSite(t)
	ts.handle("/index", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<html><head><title>联系 %s</title></head><body>
<p>客服手机：%s，身份证号：%s</p>
<div data-mobile="%s" title="邮箱 %s">x</div>
<a href="/404">a</a> <a href="/500">b</a> <a href="/hdr">c</a> <a href="/feed.xml">d</a>
<a href="/redir">e</a> <a href="/img.png">f</a> <a href="/doc.pdf">g</a>
<a href="/u?tel=%s&amp;mail=%s">h</a>
</body></html>`, p("200 title"), p("200 body"), p("200 body id"), p("200 attr mobile"), p("200 attr email"),
			p("link query"), url.QueryEscape(p("link email")))
	})
	ts.handle("/404", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `<html><body><p>Not found. Webmaster: %s, 手机 %s</p></body></html>`, p("404 body"), p("404 mobile"))
	})
	ts.handle("/500", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `<html><body><pre>panic: user %s 身份证号 %s</pre></body></html>`, p("500 body"), p("500 id"))
	})
	ts.handle("/hdr", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Debug", "contact "+p("header"))
		page(w, "headers")
	})
	ts.handle("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title>
<item><title>News</title><author>%s</author><description>联系手机 %s</description></item></channel></rss>`,
			p("xml email"), p("xml mobile"))
	})
	ts.handle("/redir", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/next?email="+url.QueryEscape(p("redirect email"))+"&tel="+p("redirect mobile"), http.StatusFound)
	})
	ts.handle("/img.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		fmt.Fprintf(w, "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR tEXtAuthor %s", p("png"))
	})
	ts.handle("/doc.pdf", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		fmt.Fprintf(w, "%%PDF-1.4\n1 0 obj << /Author (%s) /Subject (身份证 %s) >> endobj\n%%%%EOF\n", p("pdf"), p("pdf id"))
	})

	cfg := testConfig(t, &recorder{}, ts)
	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := newCallbackLog()
	cr.OnRequest(func(r *colly.Request) {
		log.add("OnRequest", func(b *strings.Builder) { dumpRequest(b, r); dumpCtx(b, r.Ctx) })
	})
	cr.OnResponseHeaders(func(r *colly.Response) {
		log.add("OnResponseHeaders", func(b *strings.Builder) { dumpResponse(b, r); dumpCtx(b, r.Ctx) })
	})
	cr.OnResponse(func(r *colly.Response) {
		log.add("OnResponse", func(b *strings.Builder) { dumpResponse(b, r); dumpCtx(b, r.Ctx) })
		if len(r.Body) == 0 {
			log.mu.Lock()
			log.empty = append(log.empty, r.Request.URL.Path)
			log.mu.Unlock()
		}
	})
	cr.OnHTML("*", func(e *colly.HTMLElement) {
		log.add("OnHTML", func(b *strings.Builder) {
			fmt.Fprintf(b, "%s %d %s\n", e.Name, e.Index, e.Text)
			for _, n := range e.DOM.Nodes {
				for _, a := range n.Attr {
					fmt.Fprintf(b, "%s=%s\n", a.Key, a.Val)
				}
			}
			dumpResponse(b, e.Response)
			dumpCtx(b, e.Request.Ctx)
		})
		if e.Name == "a" {
			e.Request.Visit(e.Attr("href"))
		}
	})
	cr.OnXML("//*", func(e *colly.XMLElement) {
		log.add("OnXML", func(b *strings.Builder) {
			fmt.Fprintf(b, "%s %s\n", e.Name, e.Text)
			switch n := e.DOM.(type) {
			case *html.Node:
				for _, a := range n.Attr {
					fmt.Fprintf(b, "%s=%s\n", a.Key, a.Val)
				}
			case *xmlquery.Node:
				for _, a := range n.Attr {
					fmt.Fprintf(b, "%s=%s\n", a.Name.Local, a.Value)
				}
			}
			dumpResponse(b, e.Response)
			dumpCtx(b, e.Request.Ctx)
		})
	})
	cr.OnError(func(r *colly.Response, err error) {
		log.add("OnError", func(b *strings.Builder) { dumpResponse(b, r); dumpErr(b, err); dumpCtx(b, r.Ctx) })
		log.mu.Lock()
		log.errs[r.Request.URL.Path] = append(log.errs[r.Request.URL.Path], err)
		log.mu.Unlock()
	})
	cr.OnScraped(func(r *colly.Response) {
		log.add("OnScraped", func(b *strings.Builder) { dumpResponse(b, r); dumpCtx(b, r.Ctx) })
	})
	// A seed the user typed with someone's address in it.
	for _, seed := range []string{ts.url("/index"), ts.url("/seed?owner=" + url.QueryEscape(p("seed query")))} {
		if err := cr.Seed(seed); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}

	kinds := []string{"OnRequest", "OnResponseHeaders", "OnResponse", "OnHTML", "OnXML", "OnError", "OnScraped"}
	for _, k := range kinds {
		if log.calls[k] == 0 {
			t.Errorf("%s was never called", k)
		}
	}
	// Every planted value, in every simple form it could be handed on in.
	var names []string
	for n := range plant {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, k := range kinds {
		var b strings.Builder
		if s := log.seen[k]; s != nil {
			b.WriteString(s.String())
		}
		got := b.String()
		for _, n := range names {
			v := plant[n]
			for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v), percentAll(v)} {
				if strings.Contains(got, form) {
					t.Errorf("%s was handed the %s value %q (as %q)", k, n, v, form)
					break
				}
			}
		}
	}
	// Bodies that cannot be scanned reach OnError as a *StoppedError, and
	// never OnResponse as an empty body.
	for _, path := range []string{"/img.png", "/doc.pdf"} {
		var se *StoppedError
		errs := log.errs[path]
		if len(errs) != 1 || !errors.As(errs[0], &se) || se.Reason == "" || !strings.HasSuffix(se.URL, path) {
			t.Errorf("%s: OnError got %v; want one *StoppedError with its reason and URL", path, errs)
		}
	}
	if len(log.empty) > 0 {
		t.Errorf("OnResponse was handed empty bodies for %v", log.empty)
	}
	for _, path := range []string{"/404", "/500"} {
		if len(log.errs[path]) == 0 {
			t.Errorf("%s did not reach OnError", path)
		}
	}
}

// Errors reach OnError with their URLs and text filtered, and still answer
// errors.Is for what they stand for.
func TestCallbackErrorIsFiltered(t *testing.T) {
	ts := newTestSite(t)
	cr, err := New(testConfig(t, &recorder{}, ts))
	if err != nil {
		t.Fatal(err)
	}
	const mail = "err-owner@example.cn"
	in := &url.Error{Op: "Get", URL: "http://127.0.0.1/x?m=" + url.QueryEscape(mail), Err: fmt.Errorf("reading for %s: %w", mail, context.DeadlineExceeded)}
	got := cr.callbackError(in)
	var ue *url.Error
	if !errors.As(got, &ue) || strings.Contains(got.Error(), "err-owner") || strings.Contains(ue.URL, "err-owner") {
		t.Errorf("callbackError = %v (%T)", got, got)
	}
	if !errors.Is(got, context.DeadlineExceeded) {
		t.Errorf("%v no longer answers errors.Is(context.DeadlineExceeded)", got)
	}
	for e := error(got); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), "err-owner") {
			t.Errorf("a wrapped error still says %q", e.Error())
		}
	}
	// goodbot's own errors come as themselves, not wrapped.
	se := &StoppedError{Class: "dropped", Reason: "why " + mail, URL: "http://127.0.0.1/?m=" + mail}
	got = cr.callbackError(&url.Error{Op: "Get", URL: se.URL, Err: se})
	if s, ok := got.(*StoppedError); !ok || s.Class != "dropped" || strings.Contains(s.Reason+s.URL, "err-owner") {
		t.Errorf("callbackError = %#v", got)
	}
	if cr.callbackError(nil) != nil {
		t.Error("callbackError(nil) is not nil")
	}
	plain := errors.New("Not Found")
	if cr.callbackError(plain) != plain {
		t.Error("an error without personal data was replaced")
	}
}
