package robots

import (
	"context"
	"net/url"
	"os"
	"testing"
)

// benchPaths are URL paths as a shop crawl sends them: most are allowed
// pages, some hit wildcard and query rules.
var benchPaths = []string{
	"/",
	"/catalog/shoes/running/",
	"/product/12345-trail-runner-gtx?color=blue&size=42",
	"/product/12345/questions/ask",
	"/category/outdoor/tents?price=100-200&sort=asc",
	"/blog/2026/11/how-to-choose-a-tent",
	"/account/orders/998877",
	"/search/popular",
	"/legacy/section-37/page.html",
	"/help/contact/faq",
	"/deals/black-friday?utm_source=mail&utm_medium=x",
	"/images/catalog/big/0001.tif",
	"/%e5%95%86%e5%93%81/%e5%86%85%e9%83%a8/x",
	"/stores/berlin/mitte/opening-hours",
}

func realisticFile(b *testing.B) []byte {
	b.Helper()
	body, err := os.ReadFile("testdata/realistic_robots.txt")
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func TestRealisticFile(t *testing.T) {
	body, err := os.ReadFile("testdata/realistic_robots.txt")
	if err != nil {
		t.Fatal(err)
	}
	f := Parse(body)
	if len(f.Warnings) != 0 {
		t.Errorf("warnings: %v", f.Warnings)
	}
	want := map[string]bool{
		"/":                        true,
		"/catalog/shoes/running/":  true,
		"/account/orders/998877":   false,
		"/search/popular":          true,
		"/search?q=tent":           false,
		"/product/1?sessionid=abc": false,
		"/%e5%95%86%e5%93%81/%e5%86%85%e9%83%a8/x": false,
		"/legacy/section-37/a.html":                true, // the "*" group's rule; goodbot has its own group
	}
	g := f.Group("goodbot")
	for p, allowed := range want {
		if r := g.Test(p); r.Allowed != allowed {
			t.Errorf("goodbot: Test(%q) = %v by %v, want %v", p, r.Allowed, r.Rule, allowed)
		}
	}
	if r := f.Group("somebot").Test("/legacy/section-37/a.html"); r.Allowed {
		t.Errorf("star group: legacy section allowed")
	}
	if r := f.Group("badbot").Test("/catalog/"); r.Allowed {
		t.Errorf("badbot allowed")
	}
}

func BenchmarkParse(b *testing.B) {
	body := realisticFile(b)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		Parse(body)
	}
}

// BenchmarkTest measures one Test against the merged "*" group of the
// realistic file (92 rules, 20 of them with wildcards).
func BenchmarkTest(b *testing.B) {
	g := Parse(realisticFile(b)).Group("somebot")
	if len(g.Rules) != 92 {
		b.Fatalf("%d rules, want 92", len(g.Rules))
	}
	i := 0
	for b.Loop() {
		g.Test(benchPaths[i%len(benchPaths)])
		i++
	}
}

// BenchmarkCheckCached measures Cache.Check once the file is cached: the
// cost the crawler's gate pays per request.
func BenchmarkCheckCached(b *testing.B) {
	body := realisticFile(b)
	s := newSite(b, serve(200, string(body)))
	c := NewCache(nil, Options{ProductToken: "goodbot"})
	var urls []*url.URL
	for _, p := range benchPaths {
		u, err := url.Parse(s.URL + p)
		if err != nil {
			b.Fatal(err)
		}
		urls = append(urls, u)
	}
	ctx := context.Background()
	if _, err := c.Check(ctx, urls[0]); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, err := c.Check(ctx, urls[i%len(urls)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
