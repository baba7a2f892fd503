package robots

import (
	"strings"
	"testing"
)

// naiveMatch is a reference matcher for normal-form patterns and paths: a
// plain dynamic-programming glob match, anchored at the start, with "$" at
// the end of the pattern anchoring the end.
func naiveMatch(pat, p string) bool {
	anchored := strings.HasSuffix(pat, "$")
	if anchored {
		pat = pat[:len(pat)-1]
	}
	// ok[j] reports whether pat[:i] matches p[:j], for the current i.
	ok := make([]bool, len(p)+1)
	ok[0] = true
	for i := 0; i < len(pat); i++ {
		next := make([]bool, len(p)+1)
		if pat[i] == '*' {
			seen := false
			for j := 0; j <= len(p); j++ {
				seen = seen || ok[j]
				next[j] = seen
			}
		} else {
			for j := 1; j <= len(p); j++ {
				next[j] = ok[j-1] && p[j-1] == pat[i]
			}
		}
		ok = next
	}
	if anchored {
		return ok[len(p)]
	}
	for _, v := range ok {
		if v {
			return true
		}
	}
	return false
}

// naiveTest is a reference for Group.Test: every rule is tried, the longest
// pattern wins, allow wins ties.
func naiveTest(g *Group, path string) bool {
	p := normalize(path)
	if p == "" {
		p = "/"
	}
	if p == "/robots.txt" {
		return true
	}
	best, allowed := -1, true
	for _, r := range g.Rules {
		pat := normalize(r.Pattern)
		if !naiveMatch(pat, p) {
			continue
		}
		if len(pat) > best || len(pat) == best && r.Allow {
			best, allowed = len(pat), r.Allow
		}
	}
	return allowed
}

// checkNormalForm fails unless s is in the normal form normalize produces.
func checkNormalForm(t *testing.T, s string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) {
				t.Fatalf("%q: stray %% at %d", s, i)
			}
			v, ok := escapeAt(s, i)
			if !ok || unreserved(v) || s[i+1] != upperHex[v>>4] || s[i+2] != upperHex[v&15] {
				t.Fatalf("%q: escape at %d is not in normal form", s, i)
			}
			i += 2
			continue
		}
		if !rawOK(c) {
			t.Fatalf("%q: raw octet %#x at %d", s, c, i)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(testRobots), "/private/open/x")
	f.Add([]byte("User-agent: *\nDisallow: /\n"), "/robots.txt")
	f.Add([]byte("\xef\xbb\xbfUser-agent: goodbot\r\nDisallow: /a*b$\r\nAllow: /a%7e\r\n"), "/a~b")
	f.Add([]byte("Disallow: /x\nUser-agent: GoodBot/1.0\nCrawl-delay: 10s\nRequest-rate: 1/5m\nDisallow: /%c3%bc\n"), "/ü")
	f.Add([]byte("User-agent: *\nDisallow: /s?b=1&a=2\nSitemap: https://example.org/s.xml\n"), "/s?b=1&a=2")
	f.Add([]byte("\x00\x01binary\xff\xfe\n:\n#\nUser-agent:\nAllow:\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		file := Parse(data)
		if len(file.Warnings) > MaxWarnings {
			t.Fatalf("%d warnings", len(file.Warnings))
		}
		for _, token := range []string{"goodbot", "*", ""} {
			g := file.Group(token)
			if g == nil {
				t.Fatalf("Group(%q) = nil", token)
			}
			for _, r := range g.Rules {
				checkNormalForm(t, r.Pattern)
				if r.Line < 1 || r.Pattern == "" {
					t.Fatalf("rule %+v", r)
				}
			}
			if !g.Test("/robots.txt").Allowed {
				t.Fatalf("Group(%q) disallows /robots.txt", token)
			}
			r1, r2 := g.Test(path), g.Test(path)
			if r1 != r2 {
				t.Fatalf("Test(%q) not deterministic: %+v, %+v", path, r1, r2)
			}
			if want := naiveTest(g, path); r1.Allowed != want {
				t.Fatalf("Group(%q).Test(%q) = %v, reference says %v (rules %v)", token, path, r1.Allowed, want, g.Rules)
			}
			if r1.Rule != nil && !matchPattern(r1.Rule.Pattern, path) {
				t.Fatalf("deciding rule %v does not match %q", r1.Rule, path)
			}
			if g.CrawlDelay < 0 || g.RequestRate < 0 || g.Delay() > maxDelay {
				t.Fatalf("delays %v %v", g.CrawlDelay, g.RequestRate)
			}
		}
	})
}

func FuzzMatch(f *testing.F) {
	f.Add("/a*b$", "/a/x/b")
	f.Add("/%7Ejoe", "/~joe")
	f.Add("/%c3%bc", "/ü")
	f.Add("/a$b", "/a$b")
	f.Add("/100%", "/100%25")
	f.Add("/*?*id=", "/p?x=1&id=2")
	f.Add("/a%2Fb", "/a/b")
	f.Add("**$", "")
	f.Fuzz(func(t *testing.T, pattern, path string) {
		np, npath := normalize(pattern), normalize(path)
		checkNormalForm(t, np)
		checkNormalForm(t, npath)
		if normalize(np) != np || normalize(npath) != npath {
			t.Fatalf("normalize not idempotent on %q or %q", pattern, path)
		}
		got := matchPattern(pattern, path)
		if got != matchPattern(np, npath) {
			t.Fatalf("matchPattern(%q, %q) changes under normalisation", pattern, path)
		}
		ref := npath
		if ref == "" {
			ref = "/"
		}
		if want := naiveMatch(np, ref); got != want {
			t.Fatalf("matchPattern(%q, %q) = %v, reference says %v", pattern, path, got, want)
		}
		if !strings.ContainsAny(pattern, "*$") && !matchPattern(pattern, pattern) {
			t.Fatalf("literal pattern %q does not match itself", pattern)
		}
	})
}
