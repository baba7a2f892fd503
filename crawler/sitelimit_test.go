package crawler

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/crawler/state"
)

func TestMaxPagesPerSite(t *testing.T) {
	ts := newTestSite(t)
	var links []string
	for i := range 20 {
		links = append(links, "/p"+strconv.Itoa(i))
	}
	ts.links("/index", links...)
	cfg := testConfig(t, &recorder{}, ts)
	cfg.MaxPagesPerSite = 6
	// With one request at a time the count is exact; with more, leases out
	// at once count too, and a site may stop up to Parallel-1 pages early.
	cfg.Parallel = 1
	_, sum := crawl(t, cfg, ts.url("/index"))
	pages := 0
	for _, u := range ts.uris() {
		if u != "/robots.txt" {
			pages++
		}
	}
	if pages != 6 {
		t.Fatalf("%d pages requested with --max-pages-per-site 6", pages)
	}
	if !strings.Contains(sum.Stopped[ts.site()], "max-pages-per-site") {
		t.Fatalf("the site was not stopped with a reason: %v", sum.Stopped)
	}
}

func TestMaxSiteShareFromSitemaps(t *testing.T) {
	ts := sitemapSite(t)
	cfg := testConfig(t, &recorder{}, ts)
	cfg.MaxSiteShare = 0.25 // 10 of the 40 pages listed
	cfg.Parallel = 1
	_, sum := crawl(t, cfg, ts.url("/index"))
	pages := 0
	for _, u := range ts.uris() {
		if strings.HasPrefix(u, "/p") || u == "/index" {
			pages++
		}
	}
	// The limit applies once the sitemaps are counted; with one request in
	// flight at a time that is after a page or two at most.
	if pages < 10 || pages > 12 {
		t.Fatalf("%d pages requested with --max-site-share 0.25 of 40 listed pages; requests %v", pages, ts.uris())
	}
	if ts.count("/s1.xml") != 1 || ts.count("/s2.xml") != 1 {
		t.Fatalf("sitemaps not fetched once each: %v", ts.uris())
	}
	if !strings.Contains(sum.Stopped[ts.site()], "max-site-share") {
		t.Fatalf("the site was not stopped with a reason: %v", sum.Stopped)
	}
}

// On a durable state the share holds across runs, and the sitemaps an
// earlier run counted are not fetched again.
func TestMaxSiteShareAcrossRuns(t *testing.T) {
	ts := sitemapSite(t)
	dir := t.TempDir()
	for run := range 3 {
		st, err := state.Open(dir, state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cfg := testConfig(t, &recorder{}, ts)
		cfg.MaxSiteShare = 0.25
		cfg.Parallel = 1
		cfg.State = st
		cfg.MaxPages = 4 * (run + 1) // each run stops early, the last one at the share
		crawl(t, cfg, ts.url("/index"))
		st.Close()
	}
	pages := 0
	for _, u := range ts.uris() {
		if strings.HasPrefix(u, "/p") || u == "/index" {
			pages++
		}
	}
	if pages < 10 || pages > 12 {
		t.Fatalf("%d pages requested in three runs with --max-site-share 0.25 of 40 listed pages; requests %v", pages, ts.uris())
	}
	if ts.count("/s1.xml") != 1 || ts.count("/s2.xml") != 1 || ts.count("/robots.txt") != 1 {
		t.Fatalf("robots.txt and sitemaps not fetched once each in three runs: %v", ts.uris())
	}
}

// sitemapSite is a site whose sitemaps list 40 pages, all linked from
// /index.
func sitemapSite(t *testing.T) *testSite {
	ts := newTestSite(t)
	ts.robots("User-agent: *\nAllow: /\nSitemap: " + ts.url("/sitemap-index.xml") + "\n")
	ts.handle("/sitemap-index.xml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>%s</loc></sitemap><sitemap><loc>%s</loc></sitemap></sitemapindex>`, ts.url("/s1.xml"), ts.url("/s2.xml"))
	})
	urlset := func(from, to int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var b strings.Builder
			b.WriteString(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
			for i := from; i < to; i++ {
				fmt.Fprintf(&b, "<url><loc>%s</loc></url>", ts.url("/p"+strconv.Itoa(i)))
			}
			b.WriteString("</urlset>")
			w.Write([]byte(b.String()))
		}
	}
	ts.handle("/s1.xml", urlset(0, 30))
	ts.handle("/s2.xml", urlset(30, 40))
	var links []string
	for i := range 40 {
		links = append(links, "/p"+strconv.Itoa(i))
	}
	ts.links("/index", links...)
	return ts
}

func TestCountSitemap(t *testing.T) {
	n, kids, err := countSitemap(strings.NewReader(`<urlset><url><loc>a</loc></url><url><loc>b</loc></url></urlset>`))
	if err != nil || n != 2 || len(kids) != 0 {
		t.Fatalf("urlset: %d %v %v", n, kids, err)
	}
	n, kids, err = countSitemap(strings.NewReader(`<sitemapindex><sitemap><loc> http://h/s1.xml </loc></sitemap></sitemapindex>`))
	if err != nil || n != 0 || len(kids) != 1 || kids[0] != "http://h/s1.xml" {
		t.Fatalf("index: %d %v %v", n, kids, err)
	}
	if _, _, err := countSitemap(strings.NewReader(`<urlset><url>`)); err == nil {
		t.Fatal("truncated sitemap accepted without error")
	}
}

func TestMaxSiteShareRefusesBadValues(t *testing.T) {
	for _, v := range []float64{-0.1, 1.5, math.NaN(), math.Inf(1)} {
		cfg := Config{Contact: "mailto:me@example.org", MaxSiteShare: v}
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "MaxSiteShare") {
			t.Errorf("New with MaxSiteShare %v: %v, want an error naming MaxSiteShare", v, err)
		}
	}
}
