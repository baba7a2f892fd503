package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/output"
)

// prefSite serves a site whose index links to three pages, each linking
// to a plain child page. robots is its robots.txt, tdmrep its
// /.well-known/tdmrep.json ("" for a 404), and headers and heads what
// its pages send.
func prefSite(t *testing.T, robots, tdmrep string, headers map[string][2]string, heads map[string]string) *testSite {
	return newSite(t, func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/robots.txt":
			fmt.Fprint(w, robots)
			return
		case p == "/.well-known/tdmrep.json":
			if tdmrep == "" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, tdmrep)
			return
		}
		if h, ok := headers[p]; ok {
			w.Header().Set(h[0], h[1])
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		body := "a child page"
		switch p {
		case "/":
			body = `<a href="/one">1</a><a href="/two/x">2</a><a href="/three">3</a>`
		case "/one", "/two/x", "/three":
			body = `<a href="/c` + p + `">child</a>`
		}
		fmt.Fprintf(w, "<html><head><title>%s</title>%s</head><body>%s</body></html>", p, heads[p], body)
	})
}

// storedPaths reads a site's pages.jsonl.
func storedPaths(t *testing.T, out string, s *testSite) map[string]output.Record {
	t.Helper()
	got := map[string]output.Record{}
	b, err := os.ReadFile(filepath.Join(out, "sites", strings.ReplaceAll(s.hostport(), ":", "_"), "pages.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(b) {
		var r output.Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("pages.jsonl line %q: %v", line, err)
		}
		u, _ := url.Parse(r.URL)
		got[u.Path] = r
	}
	return got
}

// shown runs "goodbot audit show --json --type typ" on dir and decodes the
// entries.
func shown(t *testing.T, dir, typ string) []audit.Event {
	t.Helper()
	code, stdout, stderr := runCLI(t, "audit", "show", "--json", "--type", typ, dir)
	if code != 0 {
		t.Fatalf("audit show: exit %d: %s", code, stderr)
	}
	var evs []audit.Event
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct{ Event audit.Event }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("entry %q: %v", sc.Text(), err)
		}
		evs = append(evs, e.Event)
	}
	return evs
}

// The acceptance run of usage preferences: one loopback site for each of
// Content-Usage, Content-Signal and TDMRep, crawled through the CLI under
// --purpose ai-train and --purpose search. Reserved pages are fetched and
// their links followed, but not stored; the log says which statement
// reserved each; stored records carry the preferences in force.
func TestCrawlUsagePreferences(t *testing.T) {
	type want struct {
		reserved map[string]string // path -> what the not_stored reason names
	}
	for _, tc := range []struct {
		purpose              string
		contentUsage, signal want
		tdm                  want
		tdmrepFetches        int
	}{
		{"ai-train",
			want{map[string]string{"/one": "Content-Usage header: train-ai=n (train-ai=n)", "/two/x": "robots.txt Content-Usage: train-ai=n (Content-Usage: /two/ train-ai=n (line 2))"}},
			want{map[string]string{"/": "robots.txt Content-Signal: ai-train=n", "/one": "ai-train=n", "/two/x": "ai-train=n", "/three": "ai-train=n"}},
			want{map[string]string{"/two/x": `tdmrep.json: tdm=n ({"location":"/two/","tdm-reservation":1})`, "/three": "meta tdm-reservation: tdm=n (tdm-reservation: 1)"}},
			1},
		{"search",
			want{map[string]string{"/one": "Content-Usage header: search=n"}},
			want{map[string]string{}},
			want{map[string]string{}},
			0},
	} {
		t.Run(tc.purpose, func(t *testing.T) {
			cu := prefSite(t, "User-agent: *\nContent-Usage: /two/ train-ai=n\nAllow: /\n", "",
				map[string][2]string{"/one": {"Content-Usage", map[string]string{"ai-train": "train-ai=n", "search": "search=n"}[tc.purpose]}}, nil)
			cs := prefSite(t, "User-agent: *\nContent-Signal: search=yes, ai-input=yes, ai-train=no\nAllow: /\n", "", nil, nil)
			tdm := prefSite(t, "User-agent: *\nAllow: /\n", `[{"location":"/two/","tdm-reservation":1},{"location":"/","tdm-reservation":0}]`,
				map[string][2]string{"/one": {"Tdm-Reservation", "0"}}, map[string]string{"/one": `<meta name="tdm-reservation" content="1">`, "/three": `<meta name="tdm-reservation" content="1">`})
			out := t.TempDir()
			args := []string{"crawl", "--contact", "mailto:me@example.org", "--purpose", tc.purpose, "--out", out,
				"--audit-key", filepath.Join(t.TempDir(), "key"), "--progress", "0"}
			for _, s := range []*testSite{cu, cs, tdm} {
				args = append(args, "--traffic", s.hostport()+"=864000000")
			}
			code, stdout, stderr := runCLI(t, append(args, cu.srv.URL+"/", cs.srv.URL+"/", tdm.srv.URL+"/")...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, "purpose="+tc.purpose) {
				t.Errorf("the purpose is not logged at start: %s", stderr)
			}
			auditDir := filepath.Join(out, "audit")
			fetches := map[string]*audit.Fetch{} // site + path
			for _, e := range shown(t, auditDir, "fetch") {
				u, _ := url.Parse(e.Fetch.URL)
				fetches[u.Host+u.Path] = e.Fetch
			}
			for _, c := range []struct {
				name string
				s    *testSite
				w    want
			}{{"Content-Usage", cu, tc.contentUsage}, {"Content-Signal", cs, tc.signal}, {"TDMRep", tdm, tc.tdm}} {
				var stored map[string]output.Record
				if len(c.w.reserved) < 4 {
					stored = storedPaths(t, out, c.s)
				}
				for _, p := range []string{"/", "/one", "/two/x", "/three"} {
					// Fetched once, and its links followed, stored or not.
					if n := c.s.count(p); n != 1 {
						t.Errorf("%s %s requested %d times, want once", c.name, p, n)
					}
					if p != "/" && c.s.count("/c"+p) != 1 {
						t.Errorf("%s: the link on %s was not followed", c.name, p)
					}
					reason, reserved := c.w.reserved[p]
					if _, ok := stored[p]; ok == reserved {
						t.Errorf("%s %s: stored %v, want %v", c.name, p, ok, !reserved)
					}
					f := fetches[c.s.hostport()+p]
					if f == nil {
						t.Errorf("%s %s: no fetch entry", c.name, p)
						continue
					}
					if reserved != (f.NotStored != "") || !strings.Contains(f.NotStored, reason) ||
						reserved && !strings.Contains(f.NotStored, "reserve the crawl's purpose "+tc.purpose) {
						t.Errorf("%s %s: not_stored %q, want it to name %q", c.name, p, f.NotStored, reason)
					}
				}
				if n := c.s.count("/.well-known/tdmrep.json"); n != tc.tdmrepFetches {
					t.Errorf("%s: tdmrep.json requested %d times, want %d", c.name, n, tc.tdmrepFetches)
				}
			}
			// Stored records carry the preferences in force.
			if tc.purpose == "search" {
				rec := storedPaths(t, out, cs)["/"]
				var terms []string
				for _, p := range rec.Usage {
					terms = append(terms, fmt.Sprintf("%s=%v", p.Term, p.Allow))
				}
				if rec.Purpose != "search" || !slices.Equal(terms, []string{"search=true", "ai-input=true", "ai-train=false"}) {
					t.Errorf("Content-Signal record: purpose %q, usage %q", rec.Purpose, terms)
				}
			} else {
				rec := storedPaths(t, out, tdm)["/one"]
				if len(rec.Usage) != 2 || rec.Usage[0].Source != "tdm-reservation header" || !rec.Usage[0].Allow || rec.Usage[1].Source != "tdmrep.json" {
					t.Errorf("TDMRep /one record (header 0 overrides meta 1): %+v", rec.Usage)
				}
			}
			// The tdmrep.json requests were decided and logged like any.
			var tdmDecisions int
			for _, e := range shown(t, auditDir, "decision") {
				if e.Decision.Kind == "tdmrep" && e.Decision.Verdict == audit.Allow {
					tdmDecisions++
				}
			}
			if tdmDecisions != 3*tc.tdmrepFetches {
				t.Errorf("%d tdmrep.json decisions logged, want %d", tdmDecisions, 3*tc.tdmrepFetches)
			}
			cfgs := shown(t, auditDir, "config")
			if len(cfgs) != 1 || cfgs[0].Config.Settings["purpose"] != tc.purpose {
				t.Errorf("config entries %+v: want one with purpose %s", cfgs, tc.purpose)
			}
		})
	}
}
