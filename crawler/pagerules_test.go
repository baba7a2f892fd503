package crawler

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/output"
)

var rulesNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func TestReadPageRulesHeader(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		values                       []string
		noindex, nofollow, noarchive bool
		stored                       bool // notStored() == ""
		unavailable                  string
		wantRules                    int
	}{
		{"generic", []string{"noindex"}, true, false, false, false, "", 1},
		{"several values", []string{"noindex, nofollow"}, true, true, false, false, "", 2},
		{"several headers", []string{"noarchive", "nofollow"}, false, true, true, true, "", 2},
		{"none", []string{"none"}, true, true, false, false, "", 1},
		{"ours", []string{"goodbot: noindex"}, true, false, false, false, "", 1},
		{"ours, case", []string{"GoodBot: NoFollow"}, false, true, false, true, "", 1},
		{"other bot", []string{"googlebot: noindex, nofollow"}, false, false, false, true, "", 0},
		{"other then ours", []string{"otherbot: noindex, goodbot: nofollow"}, false, true, false, true, "", 1},
		{"ours then other", []string{"goodbot: noarchive, otherbot: noindex"}, false, false, true, true, "", 1},
		{"generic and other", []string{"nofollow", "otherbot: noindex"}, false, true, false, true, "", 1},
		{"unavailable passed, RFC 850 with comma", []string{"unavailable_after: Friday, 25-Jun-2010 15:00:00 GMT"}, false, false, false, false, "2010-06-25T15:00:00Z", 1},
		{"unavailable passed, then nofollow", []string{"unavailable_after: 2020-01-02, nofollow"}, false, true, false, false, "2020-01-02T00:00:00Z", 2},
		{"unavailable future", []string{"goodbot: unavailable_after: 2030-01-02T00:00:00Z"}, false, false, false, true, "2030-01-02T00:00:00Z", 1},
		{"unavailable unreadable", []string{"unavailable_after: soon"}, false, false, false, false, "", 1},
		{"nothing to do", []string{"index, follow, max-snippet: 20"}, false, false, false, true, "", 0},
		{"unavailable for other bot", []string{"otherbot: unavailable_after: 2020-01-02"}, false, false, false, true, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.values {
				h.Add("X-Robots-Tag", v)
			}
			base, _ := url.Parse("http://127.0.0.1/p")
			p := readPageRules(newLinkResolver(), base, h, nil, false, rulesNow)
			if tc.wantRules == 0 {
				if p != nil {
					t.Fatalf("rules %+v, want none", p.rules)
				}
				return
			}
			if p == nil {
				t.Fatal("no rules read")
			}
			if p.noindex != tc.noindex || p.nofollow != tc.nofollow || p.noarchive != tc.noarchive {
				t.Errorf("noindex %v nofollow %v noarchive %v; want %v %v %v", p.noindex, p.nofollow, p.noarchive, tc.noindex, tc.nofollow, tc.noarchive)
			}
			if got := p.notStored() == ""; got != tc.stored {
				t.Errorf("stored = %v (%q), want %v", got, p.notStored(), tc.stored)
			}
			if tc.unavailable != "" && p.unavailableAfter.Format(time.RFC3339) != tc.unavailable {
				t.Errorf("unavailable_after = %s, want %s", p.unavailableAfter.Format(time.RFC3339), tc.unavailable)
			}
			if len(p.rules) != tc.wantRules {
				t.Errorf("rules %+v, want %d", p.rules, tc.wantRules)
			}
			for _, r := range p.rules {
				if r.Source != srcHeader || r.Decision == "" {
					t.Errorf("rule %+v: want source %s and a decision", r, srcHeader)
				}
			}
		})
	}
}

func TestReadPageRulesHTML(t *testing.T) {
	body := `<html><head><base href="/dir/">
<meta name="ROBOTS" content="noarchive">
<meta name="googlebot" content="noindex">
<meta name="goodbot" content="nofollow">
</head><body>
<a rel="nofollow" href="a">a</a>
<a rel="external UGC" href="/b">b</a>
<a rel="sponsored" href="c"><area rel=nofollow href="c"></a>
<a href="d">d</a><a rel=nofollow href="d">d again</a>
<a rel="noopener" href="e">e</a>
</body></html>`
	base, _ := url.Parse("http://127.0.0.1:8080/page")
	p := readPageRules(newLinkResolver(), base, http.Header{}, []byte(body), true, rulesNow)
	if p == nil {
		t.Fatal("no rules")
	}
	if p.noindex || !p.nofollow || !p.noarchive {
		t.Errorf("noindex %v nofollow %v noarchive %v; want false true true (googlebot's noindex is not ours)", p.noindex, p.nofollow, p.noarchive)
	}
	want := map[string]string{
		"http://127.0.0.1:8080/dir/a": "nofollow",
		"http://127.0.0.1:8080/b":     "ugc",
		"http://127.0.0.1:8080/dir/c": "sponsored",
	}
	if fmt.Sprint(p.relNofollow) != fmt.Sprint(want) {
		t.Errorf("rel=nofollow links %v, want %v (d has a followed anchor too, e is not marked)", p.relNofollow, want)
	}
	srcs := map[string]bool{}
	for _, r := range p.rules {
		srcs[r.Source] = true
	}
	if !srcs[srcMetaRobots] || !srcs[srcMetaGoodbot] || len(p.rules) != 2 {
		t.Errorf("rules %+v: want one from meta robots and one from meta goodbot", p.rules)
	}
}

// signalSite serves a site whose pages give each robots rule.
func signalSite(t *testing.T) *testSite {
	ts := newTestSite(t)
	ts.links("/index", "/noindex", "/meta-nofollow", "/hdr-nofollow", "/ours-nofollow", "/other-bot", "/noarchive", "/rel", "/expired", "/future", "/none")
	html := func(path, head, hdr, body string) {
		ts.handle(path, func(w http.ResponseWriter, r *http.Request) {
			if hdr != "" {
				w.Header().Add("X-Robots-Tag", hdr)
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<html><head><title>%s</title>%s</head><body><p>%s</p></body></html>", path, head, body)
		})
	}
	html("/noindex", `<meta name="robots" content="noindex">`, "", `<a href="/from-noindex">x</a>`)
	html("/meta-nofollow", `<meta name="goodbot" content="nofollow">`, "", `<a href="/x-meta">x</a>`)
	html("/hdr-nofollow", "", "nofollow", `<a href="/x-hdr">x</a>`)
	html("/ours-nofollow", "", "goodbot: nofollow", `<a href="/x-ours">x</a>`)
	html("/other-bot", `<meta name="otherbot" content="noindex, nofollow">`, "otherbot: noindex, nofollow", `<a href="/x-other">x</a>`)
	html("/noarchive", `<meta name="robots" content="noarchive">`, "", "kept, no archive")
	html("/rel", "", "", `<a rel="nofollow" href="/r-nofollow">1</a> <a rel="ugc" href="/r-ugc">2</a> <a href="/r-plain">3</a>`)
	html("/expired", "", "unavailable_after: 2001-01-01", "old")
	html("/future", `<meta name="robots" content="unavailable_after: 2999-01-01">`, "", "current")
	html("/none", `<meta name="robots" content="none">`, "", `<a href="/x-none">x</a>`)
	return ts
}

func storedURLs(t *testing.T, out, site string) map[string]output.Record {
	t.Helper()
	got := map[string]output.Record{}
	if err := output.ReadSite(context.Background(), out, site, func(r output.Record) error {
		u, _ := url.Parse(r.URL)
		got[u.Path] = r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// Each page-level rule is obeyed: what is stored, what is followed, and
// what the operation log says.
func TestPageRobotsRules(t *testing.T) {
	ts := signalSite(t)
	rec := &recorder{}
	cfg := testConfig(t, rec, ts)
	cfg.OutDir = t.TempDir()
	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	titles := map[string]bool{}
	cr.OnHTML("title", func(e *colly.HTMLElement) {
		mu.Lock()
		titles[e.Text] = true
		mu.Unlock()
	})
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	if err := cr.Seed(ts.url("/index")); err != nil {
		t.Fatal(err)
	}
	sum, err := cr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// Followed or not.
	for _, p := range []string{"/from-noindex", "/x-other", "/r-plain"} {
		if ts.count(p) != 1 {
			t.Errorf("%s fetched %d times, want 1: %v", p, ts.count(p), ts.uris())
		}
	}
	for _, p := range []string{"/x-meta", "/x-hdr", "/x-ours", "/x-none", "/r-nofollow", "/r-ugc"} {
		if ts.count(p) != 0 {
			t.Errorf("%s was fetched; its page said not to follow it", p)
		}
	}
	// Stored or not; callbacks saw every page.
	stored := storedURLs(t, cfg.OutDir, ts.site())
	for _, p := range []string{"/noindex", "/expired", "/none"} {
		if _, ok := stored[p]; ok {
			t.Errorf("%s was stored; it asked not to be", p)
		}
		if !titles[p] {
			t.Errorf("OnHTML did not see %s", p)
		}
	}
	for _, p := range []string{"/meta-nofollow", "/hdr-nofollow", "/other-bot", "/noarchive", "/rel", "/future", "/from-noindex"} {
		if _, ok := stored[p]; !ok {
			t.Errorf("%s was not stored", p)
		}
	}
	if !stored["/noarchive"].NoArchive || stored["/future"].NoArchive {
		t.Errorf("noarchive marks: /noarchive %v, /future %v; want true, false", stored["/noarchive"].NoArchive, stored["/future"].NoArchive)
	}
	if sum.NotStored != 3 {
		t.Errorf("Summary.NotStored = %d, want 3", sum.NotStored)
	}

	// The log: each rule with its decision on the fetch, and each link
	// refused with the rule that refused it.
	fetches := map[string]*audit.Fetch{}
	for _, e := range rec.all(audit.TypeFetch) {
		u, _ := url.Parse(e.Fetch.URL)
		fetches[u.Path] = e.Fetch
	}
	for p, want := range map[string]string{
		"/noindex": "meta robots: noindex -> not stored", "/expired": "X-Robots-Tag: unavailable_after: 2001-01-01 -> not stored: unavailable since 2001-01-01T00:00:00Z",
		"/none": "meta robots: none -> not stored; links not followed", "/ours-nofollow": "X-Robots-Tag: nofollow -> links not followed",
		"/noarchive": "meta robots: noarchive -> stored without an archive copy (no body in the WARC or exports)",
	} {
		f := fetches[p]
		if f == nil {
			t.Errorf("no fetch entry for %s", p)
			continue
		}
		var got []string
		for _, s := range f.Signals {
			got = append(got, s.Source+": "+s.Rule+" -> "+s.Decision)
		}
		if !slices.Contains(got, want) {
			t.Errorf("%s: signals %q, want %q", p, got, want)
		}
		if strings.HasPrefix(strings.SplitN(want, "-> ", 2)[1], "not stored") != (f.NotStored != "") || (f.NotStored != "") == (f.StoredSHA256 != "") {
			t.Errorf("%s: not_stored %q, stored %q", p, f.NotStored, f.StoredSHA256)
		}
	}
	if f := fetches["/noarchive"]; f == nil || !f.NoArchive {
		t.Errorf("/noarchive fetch entry not marked noarchive: %+v", f)
	}
	if f := fetches["/other-bot"]; f == nil || len(f.Signals) != 0 {
		t.Errorf("/other-bot: rules for another bot recorded as ours: %+v", f)
	}
	refused := map[string]string{}
	for _, e := range rec.all(audit.TypeDecision) {
		if d := e.Decision; d.Kind == "link" && d.Verdict == audit.Refuse && len(d.Checks) == 1 && d.Checks[0].Gate == "signal" {
			u, _ := url.Parse(d.URL)
			refused[u.Path] = d.Reason
		}
	}
	for p, want := range map[string]string{
		"/x-meta": "meta goodbot: nofollow", "/x-hdr": "X-Robots-Tag: nofollow", "/x-none": "meta robots: none",
		"/r-nofollow": `rel="nofollow"`, "/r-ugc": `rel="ugc"`,
	} {
		if !strings.Contains(refused[p], want) {
			t.Errorf("link %s refused with %q, want it to name %q", p, refused[p], want)
		}
	}
}

// The follow-rel-nofollow relaxation follows rel=nofollow links on its
// site, and not a page's own nofollow.
func TestFollowRelNofollowRelaxation(t *testing.T) {
	ts := signalSite(t)
	rec := &recorder{}
	cfg := testConfig(t, rec, ts)
	cfg.Relaxations = []Relaxation{{Kind: FollowRelNofollow, Site: ts.site(), Justification: "operator asked us to, ticket 12"}}
	crawl(t, cfg, ts.url("/index"))
	for _, p := range []string{"/r-nofollow", "/r-ugc", "/r-plain"} {
		if ts.count(p) != 1 {
			t.Errorf("%s fetched %d times, want 1", p, ts.count(p))
		}
	}
	if ts.count("/x-meta") != 0 || ts.count("/x-hdr") != 0 {
		t.Errorf("a page's own nofollow was lifted by the relaxation: %v", ts.uris())
	}
	cfgs := rec.all(audit.TypeConfig)
	if len(cfgs) == 0 || !strings.Contains(strings.Join(cfgs[0].Config.Relaxations, "\n"), string(FollowRelNofollow)) {
		t.Errorf("relaxation not in the config entry: %+v", cfgs)
	}
}
