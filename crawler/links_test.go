package crawler

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
)

// linkPages are pages as sites write them, with the links a browser
// follows and the ones it does not. Each is served under /dir/page.html.
var linkPages = map[string]string{
	"news": `<!doctype html><html><head><meta charset="utf-8"><title>新闻</title>
<link rel="stylesheet" href="/static/site.css"></head><body>
<nav><a href="/">首页</a> | <a href="/news/">新闻</a> | <a href="../about.html">关于</a> | <a href="./contact">联系</a></nav>
<ul><li><a href="article?id=1&amp;page=2">one</a></li>
<li><a href='article?id=2&page=3#comments'>two</a></li>
<li><a href=article?id=3>three</a></li>
<li><a href="
   /news/2026/12/01/story.html
">four</a></li>
<li><a href="/搜索?q=天气">five</a></li>
<li><a href="/path%20with%20space/x%2Fy">six</a></li>
<li><a href="/a b/c">seven</a></li>
<li><a href="/100%">eight</a></li>
<li><a href="\windows\path">nine</a></li>
<li><a href="//cdn.example.org/lib.js">ten</a></li>
<li><a href="HTTP://Example.COM:80/Upper">eleven</a></li>
<li><a href="https://例子.中国/路径">twelve</a></li>
<li><a href="http://0x7f.1/hex">thirteen</a></li>
<li><a href="#top">top</a> <a href="">self</a> <a href="?sort=new">sorted</a></li>
<li><a href="mailto:editor@example.org">mail</a> <a href="tel:+86-10-1234">tel</a> <a href="javascript:void(0)">js</a></li>
<li><a href="http:relative-with-scheme">odd</a> <a href="a:b/c">colon</a> <a href="x/y:z">colon-later</a></li>
<li><a name="anchor">no href</a> <a HREF="/caps-attr">caps</a> <a href="/dup" href="/second">dup attr</a></li>
<li><a href="/./dots/../dotted/./x">dots</a> <a href="/%2e%2e/encoded-dots">enc dots</a> <a href="/~user/!$&'()*+,;=:@">marks</a></li>
</ul>
<map name="m"><area href="/area-link" alt="x"><area nohref alt="y"></map>
<script>var s = '<a href="/in-script">x</a>';</script>
<style>a[href="/in-style"] {}</style>
<!-- <a href="/in-comment">x</a> -->
<noscript><a href="/in-noscript">x</a></noscript>
<textarea><a href="/in-textarea">x</a></textarea>
<svg><a href="/in-svg"><text>x</text></a></svg>
<template><a href="/in-template">x</a></template>
</body></html>`,
	"base": `<html><head><base href="https://mirror.example.net/root/"><base href="/ignored/"></head>
<body><a href="rel">rel</a> <a href="/abs">abs</a> <a href="../up">up</a> <a href="?q">query</a></body></html>`,
	"base-relative": `<html><head><base href="sub/"></head><body><a href="x">x</a></body></html>`,
	"base-late":     `<html><body><a href="before">before</a><base href="/late/"><a href="after">after</a></body></html>`,
}

// collyLinks returns the links colly's e.Request.AbsoluteURL gives for
// every a[href] and area[href] of the page at u, put in the crawler's
// form: the behaviour FollowLinks must match.
func collyLinks(t *testing.T, u string) []string {
	t.Helper()
	c := colly.NewCollector()
	var out []string
	c.OnHTML("a[href], area[href]", func(e *colly.HTMLElement) {
		if abs := e.Request.AbsoluteURL(e.Attr("href")); abs != "" {
			if n, err := NormalizeURL(abs); err == nil {
				out = append(out, n.String())
			}
		}
	})
	if err := c.Visit(u); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPageLinksMatchColly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/dir/"), ".html")
		body, ok := linkPages[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	lr := newLinkResolver()
	for name, body := range linkPages {
		t.Run(name, func(t *testing.T) {
			pageURL := srv.URL + "/dir/" + name + ".html"
			want := collyLinks(t, pageURL)
			base, _ := url.Parse(pageURL)
			var got []string
			lr.pageLinks(base, []byte(body), func(abs string) {
				if n, err := NormalizeURL(abs); err == nil {
					got = append(got, n.String())
				}
			})
			if !slices.Equal(got, want) {
				t.Errorf("links differ from colly's:\n got %q\nwant %q", got, want)
			}
			for _, l := range got {
				if strings.Contains(l, "/in-") && !strings.Contains(l, "/in-svg") && !strings.Contains(l, "/in-template") {
					t.Errorf("followed a link that is not one: %s", l)
				}
			}
		})
	}
}

// FuzzResolveHref checks the fast path of linkResolver.resolve against
// the WHATWG parser: for every href plainRelative accepts, net/url and
// the WHATWG parser give the same URL once normalised, or both none.
//
//	go test -run '^$' -fuzz FuzzResolveHref ./crawler/
func FuzzResolveHref(f *testing.F) {
	for _, s := range []string{"/p/2", "a/b", "../c", "./d/../e", "?q=1&r=2", "item?id=3;x", "/~u/!$&'()*+,;=:@", "a/b:c", "/.", "..", "/..//", "x/..?", "/a//b", "/%41", "/a?b?c", "@x", "/p/:x"} {
		f.Add(uint8(0), s)
	}
	bases := []string{"http://example.org/dir/page.html", "https://example.org:8443/a/b/?x=1", "http://127.0.0.1:8080/", "http://example.org/dir/sub/", "http://[::1]:9/x/y"}
	lr := newLinkResolver()
	f.Fuzz(func(t *testing.T, bi uint8, href string) {
		href = strings.Trim(href, asciiSpace)
		if !plainRelative(href) {
			return
		}
		base, err := url.Parse(bases[int(bi)%len(bases)])
		if err != nil {
			t.Fatal(err)
		}
		fast := ""
		if u, err := base.Parse(href); err == nil {
			fast = u.String()
		}
		slow := ""
		if u, err := lr.whatwg.ParseRef(base.String(), href); err == nil {
			slow = u.Href(false)
		}
		norm := func(s string) string {
			if s == "" {
				return ""
			}
			n, err := NormalizeURL(s)
			if err != nil {
				return "error"
			}
			return n.String()
		}
		if a, b := norm(fast), norm(slow); a != b {
			t.Errorf("href %q on %s: net/url gives %q (%q), WHATWG %q (%q)", href, base, a, fast, b, slow)
		}
	})
}

// TestFollowLinksAsVisit crawls the same sites twice, once following
// links with e.Request.Visit and once with Config.FollowLinks, and checks
// that the same pages are fetched and the same links refused, for the
// same reasons: scope, depth, nofollow (meta and rel), robots.txt, and
// links that carried personal data, which neither way lets through.
func TestFollowLinksAsVisit(t *testing.T) {
	const phone = "13812345678"
	type result struct {
		uris    []string
		refused []string
		events  string
	}
	run := func(follow bool) result {
		other := newTestSite(t)
		ts := newTestSite(t)
		ts.robots("User-agent: *\nDisallow: /private/\n")
		ts.links("/index", "/d1", other.url("/x"), "/private/p", "mailto:a@b.c", "/nofollow-page", "/user?mobile="+phone, "/u/%31%33%38%31%32%33%34%35%36%37%38", "/e?m=&#49;&#51;&#56;&#49;&#50;&#51;&#52;&#53;&#54;&#55;&#56;", "/d1#frag", "./rel")
		ts.links("/d1", "/d2")
		ts.links("/d2", "/d3")
		ts.links("/d3", "/d4")
		ts.handle("/nofollow-page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><head><meta name="robots" content="nofollow"></head><body><a href="/nf-target">x</a></body></html>`)
		})
		ts.handle("/rel", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			// A backslash is a slash to the WHATWG parser (and a browser),
			// not to net/url: the nofollow mark must follow the link as
			// it is queued.
			fmt.Fprint(w, `<html><body><a rel="nofollow" href="/rel-target">x</a> <a rel="ugc" href="/ugc-target">y</a> <a href="/ugc-target">again</a> <a rel="nofollow" href="\back-target">z</a></body></html>`)
		})
		rec := &recorder{}
		cfg := testConfig(t, rec, ts, other)
		cfg.MaxDepth = 4
		cfg.FollowLinks = follow
		crawl(t, cfg, ts.url("/index"))
		var res result
		res.uris = append(ts.uris(), other.uris()...)
		slices.Sort(res.uris)
		for _, e := range rec.all(audit.TypeDecision) {
			if e.Decision.Kind == "link" {
				u, _ := url.Parse(e.Decision.URL)
				why := strings.ReplaceAll(e.Decision.Reason, ts.srv.Listener.Addr().String(), "SITE")
				why = strings.ReplaceAll(why, other.srv.Listener.Addr().String(), "OTHER")
				res.refused = append(res.refused, u.RequestURI()+" "+why)
			}
		}
		slices.Sort(res.refused)
		rec.mu.Lock()
		raw, err := json.Marshal(rec.events)
		rec.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		res.events = string(raw)
		return res
	}
	visit, follow := run(false), run(true)
	if !slices.Equal(visit.uris, follow.uris) {
		t.Errorf("pages fetched differ:\nVisit       %q\nFollowLinks %q", visit.uris, follow.uris)
	}
	if !slices.Equal(visit.refused, follow.refused) {
		t.Errorf("refused links differ:\nVisit       %q\nFollowLinks %q", visit.refused, follow.refused)
	}
	for _, want := range []string{"/d3", "/ugc-target"} {
		if !slices.Contains(follow.uris, want) {
			t.Errorf("FollowLinks did not fetch %s: %q", want, follow.uris)
		}
	}
	for _, not := range []string{"/d4", "/nf-target", "/rel-target", "/back-target", "/private/p", "/x"} {
		if slices.Contains(follow.uris, not) {
			t.Errorf("FollowLinks fetched %s: %q", not, follow.uris)
		}
	}
	for _, u := range follow.uris {
		if strings.Contains(u, "mobile") || strings.Contains(u, "/u/") || strings.HasPrefix(u, "/e?") {
			t.Errorf("a link that carried a phone number was fetched: %s", u)
		}
	}
	if len(follow.refused) < 5 {
		t.Errorf("expected the refused links (scope, robots, depth, nofollow, personal data) to be recorded, got %q", follow.refused)
	}
	for name, r := range map[string]result{"Visit": visit, "FollowLinks": follow} {
		if strings.Contains(r.events, phone) || strings.Contains(r.events, "%31%33%38%31") || strings.Contains(r.events, "#49;") { // JSON writes & as \u0026
			t.Errorf("%s: the planted phone number reached the operation log", name)
		}
	}
}

// TestRefusedVisitErrorURLFiltered: a request a callback starts that
// goodbot refuses by design (a POST to a login page) reaches OnError with
// its URL as the filter leaves it, not with the personal data it carried.
// Before, OnError was called before the URL was filtered.
func TestRefusedVisitErrorURLFiltered(t *testing.T) {
	const phone = "13812345678"
	ts := newTestSite(t)
	ts.links("/index")
	cfg := testConfig(t, &recorder{}, ts)
	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	cr.OnError(func(resp *colly.Response, err error) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, resp.Request.URL.String()+" "+err.Error())
	})
	cr.OnHTML("html", func(e *colly.HTMLElement) {
		e.Request.Post("/login?mobile="+phone, map[string]string{"user": "x"})
	})
	if err := cr.Seed(ts.url("/index")); err != nil {
		t.Fatal(err)
	}
	if _, err := cr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("the refused login link did not reach OnError")
	}
	for _, s := range seen {
		if strings.Contains(s, phone) {
			t.Errorf("OnError saw the phone number: %s", s)
		}
	}
}
