package robots

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// probe is one path tested against a group, with the expected outcome.
type probe struct {
	path    string
	allowed bool
	rule    string // Rule.String() of the deciding rule, "" when none
}

// groupCase is a robots.txt file, the product token to look up, and probes.
type groupCase struct {
	name   string
	file   string
	agent  string
	probes []probe
}

func runGroupCases(t *testing.T, cases []groupCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := Parse([]byte(tc.file))
			g := f.Group(tc.agent)
			for _, p := range tc.probes {
				r := g.Test(p.path)
				rule := ""
				if r.Rule != nil {
					rule = r.Rule.String()
				}
				if r.Allowed != p.allowed || rule != p.rule {
					t.Errorf("Group(%q).Test(%q) = allowed %v by %q, want allowed %v by %q\nfile:\n%s\nwarnings: %v",
						tc.agent, p.path, r.Allowed, rule, p.allowed, p.rule, tc.file, f.Warnings)
				}
			}
		})
	}
}

func TestUserAgentMatching(t *testing.T) {
	runGroupCases(t, []groupCase{
		{
			name:  "token is case-insensitive",
			file:  "User-agent: GoodBot\nDisallow: /a\n",
			agent: "goodbot",
			probes: []probe{
				{"/a", false, "disallow: /a"},
				{"/b", true, ""},
			},
		},
		{
			name:  "version on the user-agent line is ignored",
			file:  "User-agent: Goodbot/2.1\nDisallow: /a\n",
			agent: "goodbot",
			probes: []probe{
				{"/a", false, "disallow: /a"},
			},
		},
		{
			name:  "lookup with a whole UA string uses its token",
			file:  "User-agent: goodbot\nDisallow: /a\n",
			agent: "goodbot/0.1 (+mailto:me@example.org)",
			probes: []probe{
				{"/a", false, "disallow: /a"},
			},
		},
		{
			name:  "a prefix of the token does not match",
			file:  "User-agent: good\nDisallow: /\n\nUser-agent: *\nDisallow: /star\n",
			agent: "goodbot",
			probes: []probe{
				{"/page", true, ""},
				{"/star", false, "disallow: /star"},
			},
		},
		{
			name:  "a longer token does not match",
			file:  "User-agent: goodbotx\nDisallow: /\n",
			agent: "goodbot",
			probes: []probe{
				{"/page", true, ""},
			},
		},
		{
			name:  "a token inside a longer UA value does not match",
			file:  "User-agent: Mozilla/5.0 (compatible; goodbot/1.0)\nDisallow: /\n",
			agent: "goodbot",
			probes: []probe{
				{"/page", true, ""},
			},
		},
		{
			name:  "consecutive user-agent lines form one group",
			file:  "User-agent: otherbot\nUser-agent: goodbot\nUser-agent: thirdbot\nDisallow: /shared\n",
			agent: "goodbot",
			probes: []probe{
				{"/shared/x", false, "disallow: /shared"},
			},
		},
		{
			name:  "blank lines and comments between user-agent lines keep the group",
			file:  "User-agent: otherbot\n\n# note\nUser-agent: goodbot\n\nDisallow: /shared\n",
			agent: "goodbot",
			probes: []probe{
				{"/shared/x", false, "disallow: /shared"},
			},
		},
		{
			name:  "groups naming the same agent are merged",
			file:  "User-agent: goodbot\nDisallow: /a\n\nUser-agent: otherbot\nDisallow: /b\n\nUser-agent: GOODBOT/3\nDisallow: /c\n",
			agent: "goodbot",
			probes: []probe{
				{"/a", false, "disallow: /a"},
				{"/b", true, ""},
				{"/c", false, "disallow: /c"},
			},
		},
		{
			name:  "the star group applies only when no group names the token",
			file:  "User-agent: *\nDisallow: /\n\nUser-agent: goodbot\nDisallow: /private\n",
			agent: "goodbot",
			probes: []probe{
				{"/public", true, ""},
				{"/private", false, "disallow: /private"},
			},
		},
		{
			name:  "the star group applies when no group names the token",
			file:  "User-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow: /private\n",
			agent: "goodbot",
			probes: []probe{
				{"/public", true, ""},
				{"/private", false, "disallow: /private"},
			},
		},
		{
			name:  "star groups are merged",
			file:  "User-agent: *\nDisallow: /a\n\nUser-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow: /b\n",
			agent: "goodbot",
			probes: []probe{
				{"/a", false, "disallow: /a"},
				{"/b", false, "disallow: /b"},
				{"/c", true, ""},
			},
		},
		{
			name:  "no group at all allows everything",
			file:  "User-agent: otherbot\nDisallow: /\n",
			agent: "goodbot",
			probes: []probe{
				{"/", true, ""},
			},
		},
		{
			name:  "a user-agent line after rules opens a new group",
			file:  "User-agent: goodbot\nDisallow: /a\nUser-agent: otherbot\nDisallow: /b\n",
			agent: "goodbot",
			probes: []probe{
				{"/a", false, "disallow: /a"},
				{"/b", true, ""},
			},
		},
		{
			name:  "a crawl-delay line also ends the user-agent lines of a group",
			file:  "User-agent: goodbot\nCrawl-delay: 5\nUser-agent: otherbot\nDisallow: /b\n",
			agent: "goodbot",
			probes: []probe{
				{"/b", true, ""},
			},
		},
		{
			name:  "a user-agent line without a token ends the group before it",
			file:  "User-agent: goodbot\nDisallow: /a\nUser-agent: /123\nDisallow: /b\n",
			agent: "goodbot",
			probes: []probe{
				{"/a", false, "disallow: /a"},
				{"/b", true, ""},
			},
		},
	})
}

func TestGroupAgentsAndSharing(t *testing.T) {
	f := Parse([]byte("User-agent: Goodbot/2.1\nUser-agent: goodbot\nDisallow: /a\n\nUser-agent: *\nDisallow: /\n"))
	g := f.Group("GOODBOT")
	if want := []string{"Goodbot/2.1", "goodbot"}; !slices.Equal(g.Agents, want) {
		t.Errorf("Agents = %q, want %q", g.Agents, want)
	}
	// The same group names the token twice: its rules are used once.
	if len(g.Rules) != 1 {
		t.Errorf("Rules = %v, want one rule", g.Rules)
	}
	if got := f.Group("otherbot").Agents; !slices.Equal(got, []string{"*"}) {
		t.Errorf("star Agents = %q", got)
	}
	if got := Parse(nil).Group("goodbot"); got == nil || len(got.Rules) != 0 || len(got.Agents) != 0 {
		t.Errorf("empty file: Group = %+v, want an empty group", got)
	}
}

func TestUnparseableLinesAreSkipped(t *testing.T) {
	file := strings.Join([]string{
		"Disallow: /before",           // 1: before any user-agent
		"Allow: /before-allow",        // 2: before any user-agent
		"User-agent: goodbot",         // 3
		"Crawl-delay: 10s",            // 4: bad value
		"Disallow /no-colon",          // 5: no colon
		"Nonsense: value",             // 6: unknown key
		"\x00\x01\x02binary\xff",      // 7: binary
		": empty key",                 // 8
		"Request-rate: fast",          // 9: bad value
		"Disallow: /private",          // 10
		"Host: example.com",           // 11: unknown key
		"Allow: /private/open",        // 12
		"Crawl-delay: -1",             // 13: negative
		"Sitemap:",                    // 14: empty sitemap
		"Disallow: /caf\xe9",          // 15: Latin-1 octet, read on
		"Disallow: /private-too # ok", // 16
	}, "\n")
	f := Parse([]byte(file))
	wantLines := []int{1, 2, 4, 5, 6, 7, 8, 9, 11, 13, 14, 15}
	var got []int
	for _, w := range f.Warnings {
		got = append(got, w.Line)
		if w.Reason == "" {
			t.Errorf("warning %v has no reason", w)
		}
	}
	if !slices.Equal(got, wantLines) {
		t.Errorf("warning lines = %v, want %v\n%v", got, wantLines, f.Warnings)
	}
	if !strings.Contains(f.Warnings[0].Reason, "before any user-agent") {
		t.Errorf("warning 0 = %v, want a rule-before-user-agent reason", f.Warnings[0])
	}
	if f.Warnings[2].Text != "Crawl-delay: 10s" {
		t.Errorf("warning 2 text = %q", f.Warnings[2].Text)
	}
	g := f.Group("goodbot")
	if g.CrawlDelay != 0 {
		t.Errorf("CrawlDelay = %v, want 0 (bad lines skipped)", g.CrawlDelay)
	}
	runGroupCases(t, []groupCase{{
		name:  "rest of file used",
		file:  file,
		agent: "goodbot",
		probes: []probe{
			{"/before", true, ""},
			{"/no-colon", true, ""},
			{"/private", false, "disallow: /private"},
			{"/private/open", true, "allow: /private/open"},
			{"/private-too", false, "disallow: /private-too"},
			{"/caf%E9", false, "disallow: /caf%E9"},
			{"/caf%e9", false, "disallow: /caf%E9"},
		},
	}})
}

func TestWarningsAreBounded(t *testing.T) {
	var b strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&b, "garbage line %d %s\n", i, strings.Repeat("x", 200))
	}
	b.WriteString("User-agent: *\nDisallow: /x\n")
	f := Parse([]byte(b.String()))
	if len(f.Warnings) != MaxWarnings || f.MoreWarnings != 2000-MaxWarnings {
		t.Errorf("len(Warnings) = %d, MoreWarnings = %d; want %d, %d", len(f.Warnings), f.MoreWarnings, MaxWarnings, 2000-MaxWarnings)
	}
	for _, w := range f.Warnings {
		if len(w.Text) > maxWarningText {
			t.Fatalf("warning text is %d bytes, want at most %d", len(w.Text), maxWarningText)
		}
	}
	if r := f.Group("goodbot").Test("/x"); r.Allowed {
		t.Errorf("rule after many bad lines not used")
	}
}

func TestMatchingAnchoredAndWildcards(t *testing.T) {
	runGroupCases(t, []groupCase{
		{
			name:  "plain pattern is a prefix anchored at the first octet",
			file:  "User-agent: *\nDisallow: /fish\n",
			agent: "goodbot",
			probes: []probe{
				{"/fish", false, "disallow: /fish"},
				{"/fish.html", false, "disallow: /fish"},
				{"/fish/salmon", false, "disallow: /fish"},
				{"/fishheads?id=1", false, "disallow: /fish"},
				{"/Fish.asp", true, ""},
				{"/catfish", true, ""},
				{"/x/fish", true, ""},
			},
		},
		{
			name:  "wildcard rule is anchored at the start",
			file:  "User-agent: *\nDisallow: /a*b\n",
			agent: "goodbot",
			probes: []probe{
				{"/ab", false, "disallow: /a*b"},
				{"/a/x/b", false, "disallow: /a*b"},
				{"/axxbyy", false, "disallow: /a*b"},
				{"/x/a/b", true, ""},
				{"/a", true, ""},
			},
		},
		{
			name:  "star matches any sequence, including none",
			file:  "User-agent: *\nDisallow: /*.php\nDisallow: /x**y\n",
			agent: "goodbot",
			probes: []probe{
				{"/index.php", false, "disallow: /*.php"},
				{"/.php", false, "disallow: /*.php"},
				{"/a/b/c.php?x=1", false, "disallow: /*.php"},
				{"/index.phtml", true, ""},
				{"/xy", false, "disallow: /x**y"},
				{"/x/long/y", false, "disallow: /x**y"},
			},
		},
		{
			name:  "dollar at the end anchors",
			file:  "User-agent: *\nDisallow: /*.php$\nDisallow: /exact$\n",
			agent: "goodbot",
			probes: []probe{
				{"/index.php", false, "disallow: /*.php$"},
				{"/a.php.php", false, "disallow: /*.php$"},
				{"/index.php?x", true, ""},
				{"/index.php/", true, ""},
				{"/exact", false, "disallow: /exact$"},
				{"/exactly", true, ""},
			},
		},
		{
			name:  "dollar elsewhere is a literal",
			file:  "User-agent: *\nDisallow: /a$b\nDisallow: /price$*x$\n",
			agent: "goodbot",
			probes: []probe{
				{"/a$b", false, "disallow: /a$b"},
				{"/a$bc", false, "disallow: /a$b"},
				{"/a", true, ""},
				{"/ab", true, ""},
				{"/price$1x", false, "disallow: /price$*x$"},
				{"/price$1xy", true, ""},
				{"/price1x", true, ""},
			},
		},
		{
			name:  "star then dollar",
			file:  "User-agent: *\nDisallow: /p*$\n",
			agent: "goodbot",
			probes: []probe{
				{"/p", false, "disallow: /p*$"},
				{"/pq/r", false, "disallow: /p*$"},
				{"/q", true, ""},
			},
		},
		{
			name:  "root disallow",
			file:  "User-agent: *\nDisallow: /\n",
			agent: "goodbot",
			probes: []probe{
				{"/", false, "disallow: /"},
				{"/anything", false, "disallow: /"},
				{"", false, "disallow: /"},
			},
		},
	})
}

func TestSpecificity(t *testing.T) {
	runGroupCases(t, []groupCase{
		{
			name:  "longest match wins",
			file:  "User-agent: *\nAllow: /p\nDisallow: /\n\n",
			agent: "goodbot",
			probes: []probe{
				{"/page", true, "allow: /p"},
				{"/other", false, "disallow: /"},
			},
		},
		{
			name:  "longest match wins regardless of order",
			file:  "User-agent: *\nDisallow: /folder/page\nAllow: /folder\n",
			agent: "goodbot",
			probes: []probe{
				{"/folder/page", false, "disallow: /folder/page"},
				{"/folder/other", true, "allow: /folder"},
			},
		},
		{
			name:  "allow wins a tie",
			file:  "User-agent: *\nDisallow: /page\nAllow: /page\n",
			agent: "goodbot",
			probes: []probe{
				{"/page", true, "allow: /page"},
			},
		},
		{
			name:  "allow wins a tie between wildcard patterns",
			file:  "User-agent: *\nDisallow: /*.x\nAllow: /a*x\n",
			agent: "goodbot",
			probes: []probe{
				{"/a.x", true, "allow: /a*x"},
			},
		},
		{
			name:  "wildcard specificity is the pattern's octets",
			file:  "User-agent: *\nAllow: /ab.c\nDisallow: /*.c\n",
			agent: "goodbot",
			probes: []probe{
				{"/ab.c", true, "allow: /ab.c"},
				{"/zz.c", false, "disallow: /*.c"},
			},
		},
		{
			name:  "a longer wildcard pattern beats a shorter literal",
			file:  "User-agent: *\nAllow: /shop\nDisallow: /shop*cart\n",
			agent: "goodbot",
			probes: []probe{
				{"/shop/x/cart", false, "disallow: /shop*cart"},
				{"/shop/x", true, "allow: /shop"},
			},
		},
		{
			name:  "specificity counts octets of the normal form",
			file:  "User-agent: *\nDisallow: /%7Ea\nAllow: /~a\n",
			agent: "goodbot",
			probes: []probe{
				// Both normalise to "/~a": a tie, which allow wins.
				{"/~a", true, "allow: /~a"},
			},
		},
		{
			name:  "empty disallow is no rule",
			file:  "User-agent: *\nDisallow:\n",
			agent: "goodbot",
			probes: []probe{
				{"/", true, ""},
				{"/x", true, ""},
			},
		},
		{
			name:  "empty disallow leaves other rules",
			file:  "User-agent: *\nDisallow:\nDisallow: /x\n",
			agent: "goodbot",
			probes: []probe{
				{"/", true, ""},
				{"/x", false, "disallow: /x"},
			},
		},
		{
			name:  "a disallow pattern without a leading slash is read with one",
			file:  "User-agent: *\nDisallow: private\nAllow: public\n",
			agent: "goodbot",
			probes: []probe{
				{"/private/x", false, "disallow: /private"},
				{"/public", true, ""},
			},
		},
	})
}

func TestPercentEncoding(t *testing.T) {
	runGroupCases(t, []groupCase{
		{
			name:  "escaped unreserved equals raw",
			file:  "User-agent: *\nDisallow: /%7Ejoe\nDisallow: /~ann\nDisallow: /%41b%2dc\n",
			agent: "goodbot",
			probes: []probe{
				{"/~joe/x", false, "disallow: /~joe"},
				{"/%7ejoe", false, "disallow: /~joe"},
				{"/%7Eann", false, "disallow: /~ann"},
				{"/Ab-c", false, "disallow: /Ab-c"},
			},
		},
		{
			name:  "non-ASCII raw or escaped in any case",
			file:  "User-agent: *\nDisallow: /ü\nDisallow: /%e4%b8%ad\n",
			agent: "goodbot",
			probes: []probe{
				{"/%C3%BC", false, "disallow: /%C3%BC"},
				{"/%c3%bc", false, "disallow: /%C3%BC"},
				{"/ü", false, "disallow: /%C3%BC"},
				{"/中文", false, "disallow: /%E4%B8%AD"},
				{"/%E4%B8%AD", false, "disallow: /%E4%B8%AD"},
				{"/u", true, ""},
			},
		},
		{
			name:  "reserved escapes stay distinct",
			file:  "User-agent: *\nDisallow: /a%2Fb\nDisallow: /c/d\n",
			agent: "goodbot",
			probes: []probe{
				{"/a%2fb", false, "disallow: /a%2Fb"},
				{"/a/b", true, ""},
				{"/c%2Fd", true, ""},
				{"/c/d", false, "disallow: /c/d"},
			},
		},
		{
			name:  "characters that must be escaped match their escapes",
			file:  "User-agent: *\nDisallow: /a b\nDisallow: /x|y\n",
			agent: "goodbot",
			probes: []probe{
				{"/a%20b", false, "disallow: /a%20b"},
				{"/x%7Cy", false, "disallow: /x%7Cy"},
				{"/x%7cy", false, "disallow: /x%7Cy"},
			},
		},
		{
			name:  "a stray percent is an escaped percent",
			file:  "User-agent: *\nDisallow: /100%\nDisallow: /50%25off\n",
			agent: "goodbot",
			probes: []probe{
				{"/100%25", false, "disallow: /100%25"},
				{"/50%25off", false, "disallow: /50%25off"},
				{"/50%off", false, "disallow: /50%25off"},
			},
		},
	})
}

func TestQueryMatchedAsSent(t *testing.T) {
	runGroupCases(t, []groupCase{
		{
			name:  "query order matters",
			file:  "User-agent: *\nDisallow: /s?b=1&a=2\n",
			agent: "goodbot",
			probes: []probe{
				{"/s?b=1&a=2", false, "disallow: /s?b=1&a=2"},
				{"/s?b=1&a=2&c=3", false, "disallow: /s?b=1&a=2"},
				{"/s?a=2&b=1", true, ""},
				{"/s", true, ""},
			},
		},
		{
			name:  "wildcard in the query",
			file:  "User-agent: *\nDisallow: /*?*sessionid=\nDisallow: /*?$\n",
			agent: "goodbot",
			probes: []probe{
				{"/page?x=1&sessionid=abc", false, "disallow: /*?*sessionid="},
				{"/page?x=1", true, ""},
				{"/page?", false, "disallow: /*?$"},
			},
		},
		{
			name:  "query escapes are normalised too",
			file:  "User-agent: *\nDisallow: /q?name=%7e\n",
			agent: "goodbot",
			probes: []probe{
				{"/q?name=~", false, "disallow: /q?name=~"},
				{"/q?name=%7E", false, "disallow: /q?name=~"},
			},
		},
	})
}

func TestRobotsTxtAlwaysAllowed(t *testing.T) {
	runGroupCases(t, []groupCase{
		{
			name:  "disallow all leaves robots.txt",
			file:  "User-agent: *\nDisallow: /\nDisallow: /robots.txt$\n",
			agent: "goodbot",
			probes: []probe{
				{"/robots.txt", true, ""},
				{"/%72obots.txt", true, ""},
				{"/robots.txt?x=1", false, "disallow: /"},
				{"/robots.txt.bak", false, "disallow: /"},
			},
		},
	})
	if r := DisallowAll().Group("goodbot").Test("/robots.txt"); !r.Allowed {
		t.Errorf("DisallowAll: /robots.txt not allowed")
	}
}

func TestSyntax(t *testing.T) {
	runGroupCases(t, []groupCase{
		{
			name:  "BOM and CRLF",
			file:  "\xef\xbb\xbfUser-agent: goodbot\r\nDisallow: /a\r\nDisallow: /b\r\n",
			agent: "goodbot",
			probes: []probe{
				{"/a", false, "disallow: /a"},
				{"/b", false, "disallow: /b"},
			},
		},
		{
			name:  "CR only",
			file:  "User-agent: goodbot\rDisallow: /a\rDisallow: /b",
			agent: "goodbot",
			probes: []probe{
				{"/a", false, "disallow: /a"},
				{"/b", false, "disallow: /b"},
			},
		},
		{
			name:  "mixed line ends and no final newline",
			file:  "User-agent: goodbot\nDisallow: /a\r\nDisallow: /b\rDisallow: /c",
			agent: "goodbot",
			probes: []probe{
				{"/a", false, "disallow: /a"},
				{"/b", false, "disallow: /b"},
				{"/c", false, "disallow: /c"},
			},
		},
		{
			name:  "comments and whitespace",
			file:  "# robots for example.com\n  User-agent :\tgoodbot   # us\n\tDisallow :  /a  # private\n#Disallow: /b\n",
			agent: "goodbot",
			probes: []probe{
				{"/a", false, "disallow: /a"},
				{"/b", true, ""},
			},
		},
		{
			name:  "keys are case-insensitive",
			file:  "USER-AGENT: goodbot\nDISALLOW: /a\nallow: /a/b\nDiSaLlOw: /c\n",
			agent: "goodbot",
			probes: []probe{
				{"/a", false, "disallow: /a"},
				{"/a/b", true, "allow: /a/b"},
				{"/c", false, "disallow: /c"},
			},
		},
		{
			name:  "sitemap lines do not end a group",
			file:  "User-agent: goodbot\nDisallow: /a\nSitemap: https://example.com/sitemap.xml\nDisallow: /b\n",
			agent: "goodbot",
			probes: []probe{
				{"/a", false, "disallow: /a"},
				{"/b", false, "disallow: /b"},
			},
		},
		{
			name:  "sitemap between user-agent lines keeps them together",
			file:  "User-agent: otherbot\nSitemap: https://example.com/s.xml\nUser-agent: goodbot\nDisallow: /x\n",
			agent: "otherbot",
			probes: []probe{
				{"/x", false, "disallow: /x"},
			},
		},
	})
	f := Parse([]byte("Sitemap: https://example.com/a.xml\nUser-agent: *\nSitemap: https://example.com/b.xml\n"))
	if want := []string{"https://example.com/a.xml", "https://example.com/b.xml"}; !slices.Equal(f.Sitemaps, want) {
		t.Errorf("Sitemaps = %q, want %q", f.Sitemaps, want)
	}
	if len(f.Warnings) != 0 {
		t.Errorf("Warnings = %v, want none", f.Warnings)
	}
}

func TestCrawlDelayAndRequestRate(t *testing.T) {
	tests := []struct {
		name        string
		file        string
		crawlDelay  time.Duration
		requestRate time.Duration
		warnings    int
	}{
		{"whole seconds", "Crawl-delay: 10", 10 * time.Second, 0, 0},
		{"decimal seconds", "Crawl-delay: 2.5", 2500 * time.Millisecond, 0, 0},
		{"leading dot", "Crawl-delay: .5", 500 * time.Millisecond, 0, 0},
		{"zero", "Crawl-delay: 0", 0, 0, 0},
		{"unit suffix is not allowed", "Crawl-delay: 10s", 0, 0, 1},
		{"negative", "Crawl-delay: -3", 0, 0, 1},
		{"exponent", "Crawl-delay: 1e3", 0, 0, 1},
		{"empty", "Crawl-delay:", 0, 0, 1},
		{"huge is capped", "Crawl-delay: 99999999999999999999", 24 * time.Hour, 0, 1},
		{"largest of two", "Crawl-delay: 3\nCrawl-delay: 7\nCrawl-delay: 5", 7 * time.Second, 0, 0},
		{"request-rate seconds", "Request-rate: 1/5", 0, 5 * time.Second, 0},
		{"request-rate s", "Request-rate: 1/5s", 0, 5 * time.Second, 0},
		{"request-rate m", "Request-rate: 1/10m", 0, 10 * time.Minute, 0},
		{"request-rate h", "Request-rate: 6/1h", 0, 10 * time.Minute, 0},
		{"request-rate n/m", "Request-rate: 3/1s", 0, time.Second / 3, 0},
		{"request-rate with window", "Request-rate: 1/10m 0600-0845", 0, 10 * time.Minute, 1},
		{"request-rate zero n", "Request-rate: 0/5s", 0, 0, 1},
		{"request-rate zero m", "Request-rate: 1/0", 0, 0, 1},
		{"request-rate no slash", "Request-rate: 5", 0, 0, 1},
		{"request-rate bad unit", "Request-rate: 1/5d", 0, 0, 1},
		{"request-rate negative", "Request-rate: -1/5s", 0, 0, 1},
		{"both", "Crawl-delay: 2\nRequest-rate: 1/5s", 2 * time.Second, 5 * time.Second, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Parse([]byte("User-agent: goodbot\n" + tc.file + "\nDisallow: /x\n"))
			g := f.Group("goodbot")
			if g.CrawlDelay != tc.crawlDelay || g.RequestRate != tc.requestRate || len(f.Warnings) != tc.warnings {
				t.Errorf("CrawlDelay %v, RequestRate %v, %d warnings %v; want %v, %v, %d",
					g.CrawlDelay, g.RequestRate, len(f.Warnings), f.Warnings, tc.crawlDelay, tc.requestRate, tc.warnings)
			}
			if g.Delay() != max(tc.crawlDelay, tc.requestRate) {
				t.Errorf("Delay() = %v", g.Delay())
			}
			if g.Test("/x").Allowed {
				t.Errorf("the rule after the delay line was lost")
			}
		})
	}
	// Max-Crawl-Rate (draft-meunier-signature-agent-rep).
	for _, tc := range []struct {
		file     string
		want     time.Duration
		warnings int
	}{
		{"Max-Crawl-Rate: 10/m", 6 * time.Second, 0},
		{"max-crawl-rate: 100 / d", 864 * time.Second, 0},
		{"Max-Crawl-Rate: 2/s", 500 * time.Millisecond, 0},
		{"Max-Crawl-Rate: 6/H", 10 * time.Minute, 0},
		{"Max-Crawl-Rate: 4", 250 * time.Millisecond, 0}, // no unit: per second
		{"Max-Crawl-Rate: 1/w", 24 * time.Hour, 1},       // capped
		{"Max-Crawl-Rate: 0", 24 * time.Hour, 1},         // no requests: the longest interval
		{"Max-Crawl-Rate: 0/h", 24 * time.Hour, 1},
		{"Max-Crawl-Rate: 1.5/m", 0, 1},
		{"Max-Crawl-Rate: -1/m", 0, 1},
		{"Max-Crawl-Rate: 1/y", 0, 1},
		{"Max-Crawl-Rate: 1/", 0, 1},
		{"Max-Crawl-Rate: fast", 0, 1},
		{"Max-Crawl-Rate:", 0, 1},
		{"Max-Crawl-Rate: 1/m\nMax-Crawl-Rate: 1/h", time.Hour, 0},
	} {
		f := Parse([]byte("User-agent: goodbot\nCrawl-delay: 1\n" + tc.file + "\nDisallow: /x\n"))
		g := f.Group("goodbot")
		if g.MaxCrawlRate != tc.want || len(f.Warnings) != tc.warnings || g.Delay() != max(time.Second, tc.want) || g.Test("/x").Allowed {
			t.Errorf("%q: MaxCrawlRate %v, Delay %v, %d warnings %v; want %v, %d", tc.file, g.MaxCrawlRate, g.Delay(), len(f.Warnings), f.Warnings, tc.want, tc.warnings)
		}
	}
	if g := Parse([]byte("User-agent: goodbot\nMax-Crawl-Rate: 1/m\n\nUser-agent: goodbot\nMax-Crawl-Rate: 1/h\n")).Group("goodbot"); g.MaxCrawlRate != time.Hour {
		t.Errorf("merged Max-Crawl-Rate %v, want 1h", g.MaxCrawlRate)
	}
	if g := Parse([]byte("Max-Crawl-Rate: 1/h\nUser-agent: *\nDisallow: /x\n")).Group("goodbot"); g.MaxCrawlRate != 0 {
		t.Errorf("Max-Crawl-Rate before any group applied: %v", g.MaxCrawlRate)
	}

	// Delays of merged groups: the largest applies.
	f := Parse([]byte("User-agent: goodbot\nCrawl-delay: 1\n\nUser-agent: goodbot\nCrawl-delay: 4\nRequest-rate: 1/2s\n"))
	if g := f.Group("goodbot"); g.CrawlDelay != 4*time.Second || g.RequestRate != 2*time.Second {
		t.Errorf("merged: CrawlDelay %v RequestRate %v, want 4s 2s", g.CrawlDelay, g.RequestRate)
	}
	// A delay in another group does not apply.
	f = Parse([]byte("User-agent: otherbot\nCrawl-delay: 9\n\nUser-agent: goodbot\nDisallow: /x\n"))
	if g := f.Group("goodbot"); g.Delay() != 0 {
		t.Errorf("other group's delay applied: %v", g.Delay())
	}
}

// filler returns n bytes of comment lines, ending in a newline.
func filler(n int) string {
	var b strings.Builder
	for n > 100 {
		b.WriteString("#" + strings.Repeat("p", 98) + "\n")
		n -= 100
	}
	b.WriteString(strings.Repeat("#", n-1) + "\n")
	return b.String()
}

func TestSizeLimit(t *testing.T) {
	head := "User-agent: *\nDisallow: /early\n"

	t.Run("exactly the limit is parsed whole", func(t *testing.T) {
		body := head + filler(MaxSize-len(head)-len("Disallow: /z")) + "Disallow: /z"
		if len(body) != MaxSize {
			t.Fatalf("setup: %d bytes", len(body))
		}
		f := Parse([]byte(body))
		if f.Truncated {
			t.Errorf("Truncated at exactly MaxSize")
		}
		if f.Group("goodbot").Test("/z").Allowed {
			t.Errorf("last rule within the limit was not used")
		}
	})
	t.Run("rules after the limit are ignored", func(t *testing.T) {
		f := Parse([]byte(head + filler(MaxSize-len(head)) + "Disallow: /late\n"))
		if !f.Truncated {
			t.Fatalf("Truncated = false")
		}
		g := f.Group("goodbot")
		if g.Test("/early").Allowed {
			t.Errorf("rule before the limit not used")
		}
		if !g.Test("/late").Allowed {
			t.Errorf("rule beyond the limit used")
		}
		last := f.Warnings[len(f.Warnings)-1]
		if !strings.Contains(last.Reason, "longer than") {
			t.Errorf("last warning = %v, want a size warning", last)
		}
	})
	t.Run("a line ending right at the limit is kept", func(t *testing.T) {
		body := head + filler(MaxSize-len(head)-len("Disallow: /z")) + "Disallow: /z\r\nDisallow: /late\n"
		f := Parse([]byte(body))
		if !f.Truncated {
			t.Fatalf("Truncated = false")
		}
		g := f.Group("goodbot")
		if g.Test("/z").Allowed {
			t.Errorf("the line ending at the limit was dropped")
		}
		if !g.Test("/late").Allowed {
			t.Errorf("rule beyond the limit used")
		}
	})
	t.Run("a line cut by the limit is dropped", func(t *testing.T) {
		// "Disallow: /ab" straddles the limit: reading "Disallow: /a"
		// would disallow more than the site asked.
		body := head + filler(MaxSize-len(head)-len("Disallow: /a")) + "Disallow: /ab\n"
		f := Parse([]byte(body))
		if !f.Truncated {
			t.Fatalf("Truncated = false")
		}
		if r := f.Group("goodbot").Test("/a"); !r.Allowed {
			t.Errorf("cut line read as %v", r.Rule)
		}
		if r := f.Group("goodbot").Test("/early"); r.Allowed {
			t.Errorf("rule before the limit not used")
		}
	})
}

func TestAllowAllDisallowAll(t *testing.T) {
	if r := AllowAll().Group("goodbot").Test("/x"); !r.Allowed || r.Rule != nil {
		t.Errorf("AllowAll: %+v", r)
	}
	for _, p := range []string{"/", "/x", "/robots.txt.bak", "/a?b"} {
		if r := DisallowAll().Group("goodbot").Test(p); r.Allowed {
			t.Errorf("DisallowAll allows %q", p)
		}
	}
}

func TestRuleString(t *testing.T) {
	for _, tc := range []struct {
		r    Rule
		want string
	}{
		{Rule{Allow: true, Pattern: "/public/"}, "allow: /public/"},
		{Rule{Allow: false, Pattern: "/private"}, "disallow: /private"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestHandBuiltGroup(t *testing.T) {
	g := &Group{Rules: []Rule{{Allow: false, Pattern: "/a"}, {Allow: true, Pattern: "/a/b"}}}
	if r := g.Test("/a/b"); !r.Allowed || r.Rule != &g.Rules[1] {
		t.Errorf("Test(/a/b) = %+v", r)
	}
	if r := g.Test("/a/c"); r.Allowed || r.Rule != &g.Rules[0] {
		t.Errorf("Test(/a/c) = %+v", r)
	}
}

func TestManyAgentsOverManyRules(t *testing.T) {
	// One group naming 5,000 agents over 2,000 rules. Merging up front for
	// every agent would copy 10 million rules; Parse must stay linear.
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, "User-agent: bot%c%c%c\n", 'a'+i%26, 'a'+i/26%26, 'a'+i/676%26)
	}
	for i := range 2000 {
		fmt.Fprintf(&b, "Disallow: /d%d\n", i)
	}
	body := []byte(b.String())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f := Parse(body)
	g := f.Group("botabc")
	runtime.ReadMemStats(&after)
	if len(g.Rules) != 2000 || g.Test("/d1999").Allowed {
		t.Fatalf("group: %d rules", len(g.Rules))
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes allocated for a %d-byte file", alloc, len(body))
	if alloc > 40*uint64(len(body)) {
		t.Errorf("Parse and Group allocated %d bytes for a %d-byte file", alloc, len(body))
	}
}

func TestFileConcurrentUse(t *testing.T) {
	f := Parse([]byte(testRobots))
	var wg sync.WaitGroup
	groups := make([]*Group, 8)
	for i := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			token := "goodbot"
			if i%2 == 1 {
				token = "otherbot"
			}
			g := f.Group(token)
			for range 100 {
				if g.Test("/private/x").Allowed || !g.Test("/private/open").Allowed {
					t.Errorf("%s: wrong verdict", token)
					return
				}
			}
			groups[i] = g
		}()
	}
	wg.Wait()
	for i := 2; i < len(groups); i++ {
		if groups[i] != groups[i%2] {
			t.Errorf("Group built twice for the same token")
		}
	}
}
