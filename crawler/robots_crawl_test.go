package crawler

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Each RFC 9309 rule, driven through the whole crawler: a loopback site
// serves robots.txt and an index page linking to URLs, and the test checks
// which URLs the site was actually asked for.
func TestRobotsRulesThroughCrawler(t *testing.T) {
	big := strings.Repeat("# padding to push the next rule past 500 KiB\n", (500<<10)/45+10)
	for _, tc := range []struct {
		name    string
		robots  string
		links   []string
		fetched []string // request URIs that must arrive
		never   []string // request URIs that must not arrive
	}{
		{
			name:    "product token matched case-insensitively, version ignored",
			robots:  "User-agent: *\nDisallow: /\n\nUser-agent: GoodBot/9.9\nDisallow: /private\n",
			links:   []string{"/public", "/private"},
			fetched: []string{"/public"},
			never:   []string{"/private"},
		},
		{
			name:    "no prefix match on the user agent",
			robots:  "User-agent: good\nDisallow: /\n\nUser-agent: *\nDisallow: /star-only\n",
			links:   []string{"/a", "/star-only"},
			fetched: []string{"/a"},
			never:   []string{"/star-only"},
		},
		{
			name:    "groups for the same agent are merged",
			robots:  "User-agent: goodbot\nDisallow: /one\n\nUser-agent: *\nDisallow: /\n\nUser-agent: goodbot\nDisallow: /two\n",
			links:   []string{"/one", "/two", "/three"},
			fetched: []string{"/three"},
			never:   []string{"/one", "/two"},
		},
		{
			name:    "star group ignored when a group names goodbot",
			robots:  "User-agent: *\nDisallow: /x\n\nUser-agent: goodbot\nAllow: /\n",
			links:   []string{"/x"},
			fetched: []string{"/x"},
		},
		{
			name:    "longest match wins",
			robots:  "User-agent: *\nDisallow: /shop\nAllow: /shop/public\n",
			links:   []string{"/shop/cart", "/shop/public/item"},
			fetched: []string{"/shop/public/item"},
			never:   []string{"/shop/cart"},
		},
		{
			name:    "allow wins a tie whatever the order",
			robots:  "User-agent: *\nDisallow: /page\nAllow: /page\n",
			links:   []string{"/page"},
			fetched: []string{"/page"},
		},
		{
			name:    "wildcards are anchored at the first octet",
			robots:  "User-agent: *\nDisallow: /a*b\n",
			links:   []string{"/x/a/b", "/aXb"},
			fetched: []string{"/x/a/b"},
			never:   []string{"/aXb"},
		},
		{
			name:    "specificity counts the rule's octets, not a regex",
			robots:  "User-agent: *\nDisallow: /*.c\nAllow: /ab.c\n",
			links:   []string{"/ab.c", "/zz.c"},
			fetched: []string{"/ab.c"},
			never:   []string{"/zz.c"},
		},
		{
			name:    "dollar anchors the end",
			robots:  "User-agent: *\nDisallow: /*.pdf$\n",
			links:   []string{"/doc.pdf", "/doc.pdf.html"},
			fetched: []string{"/doc.pdf.html"},
			never:   []string{"/doc.pdf"},
		},
		{
			name:    "percent-encoding normalised on both sides",
			robots:  "User-agent: *\nDisallow: /~joe\nDisallow: /%c3%bc\n",
			links:   []string{"/%7Ejoe/page", "/%C3%BCber", "/ok"},
			fetched: []string{"/ok"},
			never:   []string{"/~joe/page", "/%7Ejoe/page", "/%C3%BCber"},
		},
		{
			name:    "query matched as sent, never re-sorted",
			robots:  "User-agent: *\nDisallow: /s?b=1&a=2\n",
			links:   []string{"/s?b=1&a=2", "/s?a=2&b=1"},
			fetched: []string{"/s?a=2&b=1"},
			never:   []string{"/s?b=1&a=2"},
		},
		{
			name:    "unparseable lines are skipped, the rest is used",
			robots:  "Disallow: /before-any-agent\nUser-agent: *\nCrawl-delay: 10s\n<html>garbage</html>\nDisallow: /blocked\n",
			links:   []string{"/before-any-agent", "/blocked"},
			fetched: []string{"/before-any-agent"},
			never:   []string{"/blocked"},
		},
		{
			name:    "robots.txt itself is always allowed",
			robots:  "User-agent: *\nDisallow: /\n",
			links:   nil,
			fetched: []string{"/robots.txt"},
			never:   []string{"/"},
		},
		{
			name:    "only the first 500 KiB are used",
			robots:  "User-agent: *\nDisallow: /early\n" + big + "Disallow: /late\n",
			links:   []string{"/early", "/late"},
			fetched: []string{"/late"},
			never:   []string{"/early"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestSite(t)
			ts.robots(tc.robots)
			// The index is the seed; make sure robots.txt allows it unless
			// the case disallows everything.
			ts.links("/index", tc.links...)
			crawl(t, testConfig(t, &recorder{}, ts), ts.url("/index"))
			for _, u := range tc.fetched {
				if ts.count(u) == 0 {
					t.Errorf("%s was not requested; requests: %v", u, ts.uris())
				}
			}
			for _, u := range tc.never {
				if n := ts.count(u); n != 0 {
					t.Errorf("%s was requested %d times; robots.txt disallows it", u, n)
				}
			}
		})
	}
}

func TestRobotsStatusHandling(t *testing.T) {
	t.Run("4xx allows everything", func(t *testing.T) {
		ts := newTestSite(t)
		ts.handle("/robots.txt", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) })
		ts.links("/index", "/a")
		crawl(t, testConfig(t, &recorder{}, ts), ts.url("/index"))
		if ts.count("/a") != 1 {
			t.Fatalf("requests %v; want /a fetched under a 410 robots.txt", ts.uris())
		}
	})
	t.Run("503 means nothing else is fetched", func(t *testing.T) {
		ts := newTestSite(t)
		ts.handle("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down", http.StatusServiceUnavailable)
		})
		ts.links("/index", "/a")
		cfg := testConfig(t, &recorder{}, ts)
		cfg.MaxRetries = 2
		crawl(t, cfg, ts.url("/index"))
		for _, u := range ts.uris() {
			if u != "/robots.txt" {
				t.Fatalf("%s was requested while robots.txt answered 503; requests %v", u, ts.uris())
			}
		}
		if n := ts.count("/robots.txt"); n < 2 {
			t.Fatalf("robots.txt fetched %d times; want a retry after backoff", n)
		}
	})
	t.Run("redirects are followed", func(t *testing.T) {
		ts := newTestSite(t)
		ts.handle("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/real-robots.txt", http.StatusMovedPermanently)
		})
		ts.handle("/real-robots.txt", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("User-agent: *\nDisallow: /private\n"))
		})
		ts.links("/index", "/private", "/public")
		crawl(t, testConfig(t, &recorder{}, ts), ts.url("/index"))
		if ts.count("/private") != 0 || ts.count("/public") != 1 {
			t.Fatalf("requests %v: the redirected robots.txt was not applied", ts.uris())
		}
	})
	t.Run("fetched once per origin under concurrency", func(t *testing.T) {
		ts := newTestSite(t)
		ts.robots("User-agent: *\nAllow: /\n")
		var links []string
		for i := range 30 {
			links = append(links, "/p"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		}
		ts.links("/index", links...)
		cfg := testConfig(t, &recorder{}, ts)
		cfg.Parallel = 8
		crawl(t, cfg, ts.url("/index"))
		if n := ts.count("/robots.txt"); n != 1 {
			t.Fatalf("robots.txt fetched %d times, want 1", n)
		}
	})
}

func TestRobotsAppliesToRedirectTargets(t *testing.T) {
	ts := newTestSite(t)
	ts.robots("User-agent: *\nDisallow: /private\n")
	ts.handle("/go", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/private/x", http.StatusFound) })
	ts.links("/index", "/go")
	rec := &recorder{}
	crawl(t, testConfig(t, rec, ts), ts.url("/index"))
	if ts.count("/go") != 1 {
		t.Fatalf("/go not requested: %v", ts.uris())
	}
	if n := ts.count("/private/x"); n != 0 {
		t.Fatalf("redirect target disallowed by robots.txt was requested %d times", n)
	}
	found := false
	for _, e := range rec.all("decision") {
		if e.Decision.Kind == "redirect" && e.Decision.Verdict == "refuse" && strings.Contains(e.Decision.RobotsRule, "/private") {
			found = true
		}
	}
	if !found {
		t.Fatal("no refused redirect decision naming the robots rule was recorded")
	}
}

func TestCrawlDelayPacesRequests(t *testing.T) {
	ts := newTestSite(t)
	ts.robots("User-agent: *\nCrawl-delay: 0.3\n")
	ts.links("/index", "/a", "/b", "/c")
	crawl(t, testConfig(t, &recorder{}, ts), ts.url("/index"))
	var at []time.Time
	for _, r := range ts.seen() {
		if r.URI != "/robots.txt" {
			at = append(at, r.At)
		}
	}
	if len(at) != 4 {
		t.Fatalf("got %d page requests, want 4", len(at))
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(at); i++ {
		// Slots are 300 ms apart; an arrival gap shrinks by however late
		// the earlier request left, which on a loaded 2-core machine can
		// be tens of milliseconds (one suite run saw 220 ms). Without
		// Crawl-delay the gaps would be about 1 ms.
		if gap := at[i].Sub(at[i-1]); gap < 150*time.Millisecond {
			t.Fatalf("requests %d and %d arrived %s apart; Crawl-delay asks for 300ms", i-1, i, gap)
		}
	}
}
