package crawler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/state"
)

func TestParseETags(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{`"abc"`, []string{`"abc"`}, false},
		{`W/"abc"`, []string{`W/"abc"`}, false},
		{`"a", W/"b" ,"c"`, []string{`"a"`, `W/"b"`, `"c"`}, false},
		{`"a", "a"`, []string{`"a"`}, false},
		{`""`, []string{`""`}, false},
		{`abc`, nil, true},
		{`"unterminated`, nil, true},
		{`"a b"`, nil, true}, // a space is not an etagc
		{`"x"junk, "y"`, []string{`"x"`, `"y"`}, true},
		{`w/"lower"`, nil, true},
		{`, ,`, nil, false},
		{`"中文"`, []string{`"中文"`}, false}, // obs-text
	} {
		got, bad := ParseETags(tc.in)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || bad != tc.bad {
			t.Errorf("ParseETags(%q) = %q, %v; want %q, %v", tc.in, got, bad, tc.want, tc.bad)
		}
	}
}

func TestParseLastmod(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		in          string
		from, until string
	}{
		{"2026-11-01T08:00:00Z", "2026-11-01T08:00:00Z", "2026-11-01T08:00:00Z"},
		{"2026-11-01T08:00:00.5+08:00", "2026-11-01T00:00:00.5Z", "2026-11-01T00:00:00.5Z"},
		{"2026-11-01T08:00+08:00", "2026-11-01T00:00:00Z", "2026-11-01T00:00:59.999999999Z"},
		{"2026-11-01", "2026-10-31T10:00:00Z", "2026-11-02T11:59:59.999999999Z"},
		{" 2026-11 ", "2026-10-31T10:00:00Z", "2026-12-01T11:59:59.999999999Z"},
		{"2026", "2025-12-31T10:00:00Z", "2027-01-01T11:59:59.999999999Z"},
	} {
		from, until, err := ParseLastmod(tc.in)
		if err != nil || !from.Equal(utc(tc.from)) || !until.Equal(utc(tc.until)) {
			t.Errorf("ParseLastmod(%q) = %v, %v, %v; want %s, %s", tc.in, from, until, err, tc.from, tc.until)
		}
	}
	for _, in := range []string{"", "yesterday", "2026-13-01", "2026-11-01T08:00", "01/11/2026", "Sun, 01 Nov 2026 08:00:00 GMT"} {
		if _, _, err := ParseLastmod(in); err == nil {
			t.Errorf("ParseLastmod(%q): no error", in)
		}
	}
}

func FuzzParseETags(f *testing.F) {
	for _, s := range []string{`"a"`, `W/"b", "c"`, `"x"junk, "y"`, `,,W/`, `"`, `W/"中"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags, _ := ParseETags(s)
		seen := map[string]bool{}
		for _, tag := range tags {
			// Every tag is one well-formed entity tag, sent back as it is:
			// it reads as itself, and holds nothing that would split a
			// header field or a list.
			if again, bad := ParseETags(tag); bad || len(again) != 1 || again[0] != tag {
				t.Fatalf("ParseETags(%q): tag %q reads back as %q, %v", s, tag, again, bad)
			}
			if strings.ContainsAny(tag, "\r\n ") || seen[tag] || !strings.Contains(s, tag) {
				t.Fatalf("ParseETags(%q): tag %q", s, tag)
			}
			seen[tag] = true
		}
	})
}

func FuzzParseLastmod(f *testing.F) {
	for _, s := range []string{"2026-11-01", "2026-11-01T08:00:00Z", "2026-11-01T08:00+08:00", "2026", "2026-11", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		from, until, err := ParseLastmod(s)
		if err != nil {
			return
		}
		if until.Before(from) {
			t.Fatalf("ParseLastmod(%q) = %v, %v: the span ends before it starts", s, from, until)
		}
	})
}

// A library crawl with a State, run twice: the second Run, with Revisit,
// sends back every ETag an answer carried (two ETag fields here), a 304
// stores nothing and does not reach OnError, a 304 to a request whose
// validators goodbot does not know (a callback set them) is an error
// that does, and Revisit without a State is refused.
func TestRevisitLibrary(t *testing.T) {
	var mu sync.Mutex
	inm := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inm[r.URL.Path] = r.Header.Get("If-None-Match")
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/robots.txt":
			http.NotFound(w, r)
		case "/":
			w.Header().Set("ETag", `"home"`)
			if r.Header.Get("If-None-Match") == `"home"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			fmt.Fprint(w, `<html><body><a href="/multi">m</a><a href="/callback">c</a></body></html>`)
		case "/multi":
			w.Header().Add("ETag", `"a"`)
			w.Header().Add("ETag", `W/"b"`)
			if strings.Contains(r.Header.Get("If-None-Match"), `W/"b"`) {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			fmt.Fprint(w, `<html><body><p>two etags</p></body></html>`)
		case "/callback":
			if r.Header.Get("If-None-Match") != "" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			fmt.Fprint(w, `<html><body><p>no validators</p></body></html>`)
		}
	}))
	defer srv.Close()
	ts := &testSite{srv: srv}
	dir := t.TempDir()
	out := t.TempDir()
	var errs []string
	for run := range 2 {
		st, err := state.Open(dir, state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		cfg := testConfig(t, rec, ts)
		cfg.State, cfg.OutDir, cfg.Revisit = st, out, run == 1
		cr, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
		cr.OnRequest(func(r *colly.Request) {
			if run == 1 && r.URL.Path == "/callback" {
				// A validator with personal data in it: sent as the
				// callback set it, and in the log only as filtered.
				r.Headers.Set("If-None-Match", `"zhang.san@example.cn"`)
			}
		})
		cr.OnError(func(r *colly.Response, err error) {
			mu.Lock()
			errs = append(errs, r.Request.URL.Path+": "+err.Error())
			mu.Unlock()
		})
		if err := cr.Seed(srv.URL + "/"); err != nil {
			t.Fatal(err)
		}
		sum, err := cr.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		mu.Lock()
		nerrs := len(errs)
		mu.Unlock()
		if run == 0 {
			if sum.Pages != 3 || nerrs != 0 {
				t.Fatalf("first run: %+v, errors %q", sum, errs)
			}
			continue
		}
		if sum.Revisits != 2 || sum.Pages != 0 || sum.Spared <= 0 {
			t.Errorf("second run: %d revisits, %d pages stored, %d bytes spared; want 2, 0, > 0", sum.Revisits, sum.Pages, sum.Spared)
		}
		classes := map[string]string{}
		for _, e := range rec.all(audit.TypeFetch) {
			classes[strings.TrimPrefix(e.Fetch.URL, srv.URL)] = e.Fetch.Class
		}
		if classes["/"] != "not-modified" || classes["/multi"] != "not-modified" || classes["/callback"] != "unexpected-304" {
			t.Errorf("second run's fetch classes: %v", classes)
		}
		conditional := 0
		for _, e := range rec.all(audit.TypeDecision) {
			if c := e.Decision.Conditional; c != nil {
				conditional++
				if strings.HasSuffix(e.Decision.URL, "/callback") && c.IfNoneMatch != `"[EMAIL]"` {
					t.Errorf("the decision for /callback logs If-None-Match %q, want it filtered", c.IfNoneMatch)
				}
			}
		}
		if conditional != 3 {
			t.Errorf("%d decisions show validators, want 3", conditional)
		}
		b, _ := json.Marshal(rec.events)
		if bytes.Contains(b, []byte("zhang.san@example.cn")) {
			t.Error("the log holds the e-mail address a callback put in If-None-Match")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if inm["/multi"] != `"a", W/"b"` || inm["/"] != `"home"` || inm["/callback"] != `"zhang.san@example.cn"` {
		t.Errorf("If-None-Match sent: %q", inm)
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "/callback: ") {
		t.Errorf("OnError got %q, want the unexpected 304 of /callback only", errs)
	}

	cfg := testConfig(t, &recorder{}, ts)
	cfg.Revisit = true
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "Revisit needs a crawl State") {
		t.Errorf("New with Revisit and no State: %v", err)
	}
}
