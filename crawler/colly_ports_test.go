package crawler_test

// Typical small colly programs, ported by the changes README.md's "Moving
// from colly" lists: the constructor (colly.NewCollector(options...)
// becomes crawler.New(crawler.Config{Contact: ..., fields for the
// options})), and shared state in callbacks guarded by a mutex or
// Workers: 1, since goodbot runs callbacks in several workers. The rest of
// each program is as it was written for colly. Each runs against a
// loopback site whose traffic estimate is high enough that the budget
// never defers.

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/crawler"
	"github.com/goodbot/goodbot/internal/site"
	"github.com/goodbot/goodbot/limiter"
)

// portSite serves pages from a map of path to HTML (or XML, by suffix).
func portSite(t *testing.T, pages map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Path
		if r.URL.RawQuery != "" {
			key += "?" + r.URL.RawQuery
		}
		body, ok := pages[key]
		if !ok {
			http.NotFound(w, r)
			return
		}
		ctype := "text/html; charset=utf-8"
		if strings.HasSuffix(r.URL.Path, ".xml") {
			ctype = "application/xml"
		}
		w.Header().Set("Content-Type", ctype)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// portConfig is what a port's constructor gets besides the fields for its
// colly options: a contact, and for the test a high traffic estimate for
// the loopback site, with its source, and a quiet logger.
func portConfig(t *testing.T, srv *httptest.Server) crawler.Config {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	est, err := limiter.NewEstimates(limiter.Estimate{Site: site.Key(u), PerDay: 864_000_000, Source: "test: loopback site"})
	if err != nil {
		t.Fatal(err)
	}
	lim, err := limiter.NewLocal(limiter.Config{Estimates: est})
	if err != nil {
		t.Fatal(err)
	}
	// The operation log goes where the default puts it, but under a
	// temporary directory rather than the user's own data directory, which
	// other programs and tests on the machine write to.
	dir := t.TempDir()
	return crawler.Config{
		Contact:      "mailto:me@example.org",
		Limiter:      lim,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		AuditDir:     filepath.Join(dir, "audit"),
		AuditKeyFile: filepath.Join(dir, "audit.key"),
	}
}

func htmlPage(title, body string) string {
	return "<html><head><title>" + title + "</title></head><body>" + body + "</body></html>"
}

// Link following: every page's title, following links on the site.
//
//	c := colly.NewCollector(colly.MaxDepth(3))
func TestPortLinkFollowing(t *testing.T) {
	srv := portSite(t, map[string]string{
		"/":         htmlPage("Home", `<a href="/about">About</a> <a href="/blog/">Blog</a> <a href="https://elsewhere.example/">out</a>`),
		"/about":    htmlPage("About us", `<a href="/">home</a>`),
		"/blog/":    htmlPage("Blog", `<a href="/blog/one">one</a> <a href="/blog/two">two</a>`),
		"/blog/one": htmlPage("Post one", `<a href="/blog/deep">deeper</a>`),
		"/blog/two": htmlPage("Post two", ""),
		// Depth 4: beyond MaxDepth 3.
		"/blog/deep": htmlPage("Too deep", ""),
	})
	cfg := portConfig(t, srv)
	cfg.MaxDepth = 3
	c, err := crawler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	titles := map[string]string{}
	c.OnHTML("a[href]", func(e *colly.HTMLElement) {
		e.Request.Visit(e.Attr("href"))
	})
	c.OnHTML("title", func(e *colly.HTMLElement) {
		mu.Lock()
		defer mu.Unlock()
		titles[e.Request.URL.Path] = e.Text
	})
	if err := c.Visit(srv.URL + "/"); err != nil {
		t.Fatal(err)
	}
	c.Wait()

	want := map[string]string{"/": "Home", "/about": "About us", "/blog/": "Blog", "/blog/one": "Post one", "/blog/two": "Post two"}
	if fmt.Sprint(titles) != fmt.Sprint(want) {
		t.Fatalf("titles %v, want %v", titles, want)
	}
}

// Pagination: items from ?page=1, 2, ... until a page lists none.
//
//	c := colly.NewCollector()
func TestPortPaginationUntilEmpty(t *testing.T) {
	pages := map[string]string{}
	for p := 1; p <= 4; p++ {
		var b strings.Builder
		if p < 4 {
			for i := range 3 {
				fmt.Fprintf(&b, `<li class="item">item %d-%d</li>`, p, i)
			}
		}
		// Every page links to the next; the empty one ends it.
		pages["/list?page="+strconv.Itoa(p)] = htmlPage("List", "<ul>"+b.String()+`</ul><a class="next" href="/list?page=`+strconv.Itoa(p+1)+`">next</a>`)
	}
	srv := portSite(t, pages)
	cfg := portConfig(t, srv)
	cfg.Workers = 1 // callbacks one at a time, as in colly's synchronous collector
	c, err := crawler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}

	var items []string
	empty := false
	c.OnHTML("ul", func(e *colly.HTMLElement) {
		n := 0
		e.ForEach("li.item", func(_ int, li *colly.HTMLElement) {
			items = append(items, li.Text)
			n++
		})
		if n == 0 {
			empty = true
		}
	})
	c.OnHTML("a.next", func(e *colly.HTMLElement) {
		if !empty {
			e.Request.Visit(e.Attr("href"))
		}
	})
	if err := c.Visit(srv.URL + "/list?page=1"); err != nil {
		t.Fatal(err)
	}

	if len(items) != 9 || items[0] != "item 1-0" || items[8] != "item 3-2" || !empty {
		t.Fatalf("items %v (empty page seen: %v), want 9 from three pages", items, empty)
	}
}

// URL filters: only the blog is crawled, not the shop.
//
//	c := colly.NewCollector(
//		colly.URLFilters(regexp.MustCompile(`/(blog/.*)?$`)),
//		colly.DisallowedURLFilters(regexp.MustCompile(`/drafts/`)),
//	)
func TestPortURLFilters(t *testing.T) {
	srv := portSite(t, map[string]string{
		"/":              htmlPage("Home", `<a href="/blog/a">a</a> <a href="/shop/x">x</a> <a href="/blog/drafts/z">z</a>`),
		"/blog/a":        htmlPage("A", `<h1>Post A</h1><a href="/blog/b">b</a> <a href="/shop/y">y</a>`),
		"/blog/b":        htmlPage("B", `<h1>Post B</h1>`),
		"/blog/drafts/z": htmlPage("Z", `<h1>Draft</h1>`),
		"/shop/x":        htmlPage("X", `<h1>Product X</h1>`),
		"/shop/y":        htmlPage("Y", `<h1>Product Y</h1>`),
	})
	cfg := portConfig(t, srv)
	cfg.URLFilters = []*regexp.Regexp{regexp.MustCompile(`/(blog/.*)?$`)}
	cfg.DisallowedURLFilters = []*regexp.Regexp{regexp.MustCompile(`/drafts/`)}
	c, err := crawler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var headings []string
	c.OnHTML("a[href]", func(e *colly.HTMLElement) {
		e.Request.Visit(e.Attr("href"))
	})
	c.OnHTML("h1", func(e *colly.HTMLElement) {
		mu.Lock()
		defer mu.Unlock()
		headings = append(headings, e.Text)
	})
	c.Visit(srv.URL + "/")
	c.Wait()

	slices.Sort(headings)
	if strings.Join(headings, ",") != "Post A,Post B" {
		t.Fatalf("headings %v, want the two blog posts only", headings)
	}
}

// Request context: a category page passes its name on to the product
// pages it links to.
//
//	c := colly.NewCollector()
func TestPortContextToNextPage(t *testing.T) {
	srv := portSite(t, map[string]string{
		"/":          htmlPage("Shop", `<a class="cat" href="/c/tea">Tea</a> <a class="cat" href="/c/cups">Cups</a>`),
		"/c/tea":     htmlPage("Tea", `<h2>Tea</h2><a class="product" href="/p/green">green</a> <a class="product" href="/p/black">black</a>`),
		"/c/cups":    htmlPage("Cups", `<h2>Cups</h2><a class="product" href="/p/mug">mug</a>`),
		"/p/green":   htmlPage("Green", `<span class="name">Green tea</span>`),
		"/p/black":   htmlPage("Black", `<span class="name">Black tea</span>`),
		"/p/mug":     htmlPage("Mug", `<span class="name">Mug</span>`),
		"/p/unknown": htmlPage("?", `<span class="name">Unlisted</span>`),
	})
	c, err := crawler.New(portConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	category := map[string]string{}
	c.OnHTML("a.cat", func(e *colly.HTMLElement) {
		e.Request.Visit(e.Attr("href"))
	})
	c.OnHTML("h2", func(e *colly.HTMLElement) {
		e.Request.Ctx.Put("category", e.Text)
	})
	c.OnHTML("a.product", func(e *colly.HTMLElement) {
		e.Request.Visit(e.Attr("href"))
	})
	c.OnHTML("span.name", func(e *colly.HTMLElement) {
		mu.Lock()
		defer mu.Unlock()
		category[e.Text] = e.Request.Ctx.Get("category")
	})
	c.Visit(srv.URL + "/")
	c.Wait()

	want := map[string]string{"Green tea": "Tea", "Black tea": "Tea", "Mug": "Cups"}
	if fmt.Sprint(category) != fmt.Sprint(want) {
		t.Fatalf("products by category %v, want %v", category, want)
	}
}

// A sitemap-ish list: an XML list of pages, each visited with c.Visit
// from the callback (colly's idiom), their headline extracted.
//
//	c := colly.NewCollector(colly.AllowedDomains(host))
func TestPortSitemapList(t *testing.T) {
	var srv *httptest.Server
	pages := map[string]string{
		"/a1": htmlPage("A1", `<h1 class="headline">Rain expected</h1>`),
		"/a2": htmlPage("A2", `<h1 class="headline">Markets calm</h1>`),
		"/a3": htmlPage("A3", `<h1 class="headline">New bridge opens</h1>`),
	}
	srv = portSite(t, pages)
	pages["/news-sitemap.xml"] = `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>` + srv.URL + `/a1</loc></url>
<url><loc>` + srv.URL + `/a2</loc></url>
<url><loc>` + srv.URL + `/a3</loc></url>
<url><loc>https://elsewhere.example/not-ours</loc></url>
</urlset>`
	u, _ := url.Parse(srv.URL)
	cfg := portConfig(t, srv)
	cfg.AllowedHosts = []string{site.Key(u)}
	c, err := crawler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var headlines []string
	var refused []string
	c.OnXML("//urlset/url/loc", func(e *colly.XMLElement) {
		if err := c.Visit(strings.TrimSpace(e.Text)); err != nil {
			mu.Lock()
			refused = append(refused, e.Text)
			mu.Unlock()
		}
	})
	c.OnHTML("h1.headline", func(e *colly.HTMLElement) {
		mu.Lock()
		defer mu.Unlock()
		headlines = append(headlines, e.Text)
	})
	if err := c.Visit(srv.URL + "/news-sitemap.xml"); err != nil {
		t.Fatal(err)
	}

	slices.Sort(headlines)
	if strings.Join(headlines, "|") != "Markets calm|New bridge opens|Rain expected" {
		t.Fatalf("headlines %v, want the three listed pages'", headlines)
	}
	if len(refused) != 1 || !strings.Contains(refused[0], "elsewhere.example") {
		t.Fatalf("refused %v, want the page on another site only", refused)
	}
}

// Forms via POST: a search form found on the home page is posted from the
// callback, and the results page is parsed.
//
//	c := colly.NewCollector()
func TestPortFormsViaPost(t *testing.T) {
	books := map[string][]string{"go": {"The Go Programming Language", "Concurrency in Go"}, "rust": {"The Rust Book"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch {
		case r.URL.Path == "/":
			io.WriteString(w, htmlPage("Library", `<form id="search" action="/search" method="post">
<input type="text" name="q"><select name="lang"><option value="go">Go</option><option value="rust">Rust</option></select></form>`))
		case r.URL.Path == "/search" && r.Method == http.MethodPost:
			r.ParseForm()
			var b strings.Builder
			for _, t := range books[r.PostForm.Get("lang")] {
				fmt.Fprintf(&b, `<li class="book">%s</li>`, t)
			}
			io.WriteString(w, htmlPage("Results", "<ul>"+b.String()+"</ul>"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := crawler.New(portConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	found := map[string][]string{}
	c.OnHTML("form#search", func(e *colly.HTMLElement) {
		e.ForEach("option", func(_ int, o *colly.HTMLElement) {
			e.Request.Post(e.Attr("action"), map[string]string{"q": "", "lang": o.Attr("value")})
		})
	})
	c.OnHTML("li.book", func(e *colly.HTMLElement) {
		mu.Lock()
		defer mu.Unlock()
		found[e.Request.Method] = append(found[e.Request.Method], e.Text)
	})
	if err := c.Visit(srv.URL + "/"); err != nil {
		t.Fatal(err)
	}
	c.Wait()

	got := found[http.MethodPost]
	slices.Sort(got)
	if strings.Join(got, "|") != "Concurrency in Go|The Go Programming Language|The Rust Book" || len(found) != 1 {
		t.Fatalf("books %v, want the three from the two POSTed searches", found)
	}
}

// Multi-stage with Clone: a list collector walks the paginated list and
// hands each detail link to a detail collector it cloned, which extracts
// the item. One robots.txt fetch and one log serve both.
//
//	c := colly.NewCollector()
//	detail := c.Clone()
func TestPortMultiStageWithClone(t *testing.T) {
	var robots sync.Mutex
	robotsFetches := 0
	pages := map[string]string{
		"/list?p=1": htmlPage("List 1", `<a class="item" href="/item/1">1</a> <a class="item" href="/item/2">2</a> <a class="next" href="/list?p=2">next</a>`),
		"/list?p=2": htmlPage("List 2", `<a class="item" href="/item/3">3</a> <a class="item" href="/item/1">1 again</a>`),
	}
	for i := 1; i <= 3; i++ {
		pages["/item/"+strconv.Itoa(i)] = htmlPage("Item", fmt.Sprintf(`<h1>Item %d</h1><span class="price">%d.00</span>`, i, 10*i))
	}
	inner := portSite(t, pages)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			robots.Lock()
			robotsFetches++
			robots.Unlock()
			io.WriteString(w, "User-agent: *\nDisallow: /admin\n")
			return
		}
		inner.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := portConfig(t, srv)
	dir := filepath.Dir(cfg.AuditDir)
	c, err := crawler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	detail := c.Clone()

	var mu sync.Mutex
	prices := map[string]string{}
	var listPages int
	c.OnHTML("a.item", func(e *colly.HTMLElement) {
		detail.Visit(e.Request.AbsoluteURL(e.Attr("href")))
	})
	c.OnHTML("a.next", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	c.OnScraped(func(*colly.Response) {
		mu.Lock()
		listPages++
		mu.Unlock()
	})
	detail.OnHTML("body", func(e *colly.HTMLElement) {
		mu.Lock()
		defer mu.Unlock()
		prices[e.ChildText("h1")] = e.ChildText("span.price")
	})
	if err := c.Visit(srv.URL + "/list?p=1"); err != nil {
		t.Fatal(err)
	}
	c.Wait()

	want := map[string]string{"Item 1": "10.00", "Item 2": "20.00", "Item 3": "30.00"}
	if fmt.Sprint(prices) != fmt.Sprint(want) || listPages != 2 {
		t.Fatalf("prices %v from %d list pages, want %v from 2", prices, listPages, want)
	}
	if robotsFetches != 1 {
		t.Errorf("robots.txt fetched %d times, want once for both collectors", robotsFetches)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("%d entries in %s, want one log and its key", len(entries), dir)
	}
}
