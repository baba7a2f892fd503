package robots

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// usageRobots mixes Content-Usage and Content-Signal lines into groups,
// with and without paths, between and around Allow and Disallow rules.
const usageRobots = `# Content signals, as Cloudflare writes them
User-agent: *
Content-Signal: search=yes, ai-train=no
Allow: /
Disallow: /never/
Content-Usage: / train-ai=n
Content-Usage: /ai-ok/ train-ai=y
Content-Usage: /ai-ok/ search=n	# same path: both apply

User-agent: goodbot
Allow: /
Content-Usage: train-ai=y
Content-Signal: /news/ ai-input=no
`

func TestUsageLinesPerGroup(t *testing.T) {
	f := Parse([]byte(usageRobots))
	for _, w := range f.Warnings {
		t.Errorf("warning: %s", w)
	}
	star := f.Group("otherbot")
	if len(star.Usage) != 4 {
		t.Fatalf("* group has %d usage lines, want 4: %+v", len(star.Usage), star.Usage)
	}
	if got := star.Usage[0]; got.Key != KeyContentSignal || got.Pattern != "/" || got.Value != "search=yes, ai-train=no" || got.Line != 3 {
		t.Errorf("first usage line = %+v", got)
	}
	tests := []struct {
		group, path string
		want        []string // UsageRule.String of what applies
	}{
		{"otherbot", "/page", []string{"Content-Signal: / search=yes, ai-train=no", "Content-Usage: / train-ai=n"}},
		{"otherbot", "/ai-ok/x", []string{"Content-Signal: / search=yes, ai-train=no", "Content-Usage: /ai-ok/ train-ai=y", "Content-Usage: /ai-ok/ search=n"}},
		{"goodbot", "/page", []string{"Content-Usage: / train-ai=y"}},
		{"goodbot", "/news/today", []string{"Content-Usage: / train-ai=y", "Content-Signal: /news/ ai-input=no"}},
	}
	for _, tt := range tests {
		var got []string
		for _, u := range f.Group(tt.group).UsageFor(tt.path) {
			got = append(got, u.String())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s %s: got %q, want %q", tt.group, tt.path, got, tt.want)
		}
	}
}

// Usage lines do not end a group: the rules, and so what may be fetched,
// are what RFC 9309 alone gives.
func TestUsageLinesKeepRFC9309Groups(t *testing.T) {
	with := Parse([]byte("User-agent: a\nContent-Signal: ai-train=no\nContent-Usage: / train-ai=n\nUser-agent: b\nDisallow: /\n"))
	without := Parse([]byte("User-agent: a\nUser-agent: b\nDisallow: /\n"))
	for _, agent := range []string{"a", "b"} {
		if got, want := with.Group(agent).Test("/x").Allowed, without.Group(agent).Test("/x").Allowed; got != want || got {
			t.Errorf("agent %s: allowed %v with usage lines, %v without; want both false", agent, got, want)
		}
	}
	if n := len(with.Group("b").Usage); n != 2 {
		t.Errorf("agent b has %d usage lines, want the group's 2", n)
	}
}

func TestUsageLinesWarnings(t *testing.T) {
	f := Parse([]byte("Content-Usage: / train-ai=n\nUser-agent: *\nContent-Usage: /only-a-path\nContent-Signal:\nAllow: /\n"))
	var reasons []string
	for _, w := range f.Warnings {
		reasons = append(reasons, w.Reason)
	}
	want := []string{"content-usage line before any user-agent line", "content-usage line without a preference", "content-signal line without a preference"}
	if !slices.Equal(reasons, want) {
		t.Errorf("warnings %q, want %q", reasons, want)
	}
	if n := len(f.Group("goodbot").Usage); n != 0 {
		t.Errorf("%d usage lines kept, want none", n)
	}
}

// The Cache's verdict carries the lines that apply, for a URL that may be
// fetched only; and they come back from a Shared store, which keeps the
// file's text, after a restart.
func TestVerdictUsage(t *testing.T) {
	site := newSite(t, serve(http.StatusOK, usageRobots))
	shared := &memShared{m: map[string]Stored{}, claims: map[string]time.Time{}}
	c := NewCache(site.Client().Transport, Options{ProductToken: "otherbot", Shared: shared})
	v := check(t, c, site.url(t, "/ai-ok/page"))
	if len(v.Usage) != 3 {
		t.Errorf("verdict usage %+v, want 3 lines", v.Usage)
	}
	if v := check(t, c, site.url(t, "/never/x")); v.Allowed || len(v.Usage) != 0 {
		t.Errorf("a disallowed URL: allowed %v, usage %+v; want no usage", v.Allowed, v.Usage)
	}
	// A second cache (a restarted crawl) takes the file from the store.
	c2 := NewCache(site.Client().Transport, Options{ProductToken: "otherbot", Shared: shared})
	v2 := check(t, c2, site.url(t, "/ai-ok/page"))
	if site.robotsHits.Load() != 1 {
		t.Errorf("robots.txt fetched %d times, want once", site.robotsHits.Load())
	}
	if !slices.Equal(v.Usage, v2.Usage) {
		t.Errorf("usage after reload %+v, before %+v", v2.Usage, v.Usage)
	}
}

func TestMatchPattern(t *testing.T) {
	for _, tt := range []struct {
		pattern, path string
		want          bool
	}{
		{"/", "/x", true}, {"/images/*", "/images/a.png", true}, {"/a$", "/a", true}, {"/a$", "/ab", false},
		{"*.pdf$", "/doc/x.pdf", true}, {"/%7Ea", "/~a", true}, {"/b", "/a", false},
	} {
		if got := MatchPattern(tt.pattern, tt.path); got != tt.want {
			t.Errorf("MatchPattern(%q, %q) = %v", tt.pattern, tt.path, got)
		}
	}
}

// FuzzUsageLinesChangeNoVerdict checks that Content-Usage and
// Content-Signal lines never change what may be fetched: a file with them
// gives the verdicts of the same file without them.
func FuzzUsageLinesChangeNoVerdict(f *testing.F) {
	f.Add([]byte(usageRobots), "/ai-ok/x")
	f.Add([]byte("User-agent: a\nContent-Signal: ai-train=no\nUser-agent: goodbot\nDisallow: /\n"), "/x")
	f.Add([]byte("Content-Usage: / train-ai=n\nUser-agent: *\nContent-usage:/p\ttrain-ai=y\nDisallow: /p\n"), "/p")
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		var kept [][]byte
		for line := range bytes.Lines(data) {
			key, _, _ := bytes.Cut(line, []byte(":"))
			k := strings.ToLower(strings.TrimSpace(string(key)))
			if k != KeyContentUsage && k != KeyContentSignal {
				kept = append(kept, line)
			}
		}
		with, without := Parse(data), Parse(bytes.Join(kept, nil))
		for _, token := range []string{"goodbot", "a", "*"} {
			gw, gwo := with.Group(token), without.Group(token)
			if a, b := gw.Test(path).Allowed, gwo.Test(path).Allowed; a != b {
				t.Fatalf("%q: %s allowed %v with usage lines, %v without", path, token, a, b)
			}
			if gw.Delay() != gwo.Delay() {
				t.Fatalf("usage lines changed the delay of %s", token)
			}
			for _, u := range gw.UsageFor(path) {
				if u.Value == "" || u.Line < 1 {
					t.Fatalf("usage rule %+v", u)
				}
				checkNormalForm(t, u.Pattern)
			}
		}
	})
}
