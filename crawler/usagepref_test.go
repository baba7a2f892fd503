package crawler

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/usage"
)

// usageSite serves pages under each kind of usage preference, each page
// linking to a plain child page.
func usageSite(t *testing.T) *testSite {
	ts := newTestSite(t)
	ts.robots("User-agent: *\nContent-Signal: search=yes, ai-input=yes\nContent-Signal: /cs/ ai-train=no\nContent-Usage: /nogen/ ai-use=n\nAllow: /\n")
	ts.handle(TDMRepPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"location":"/mine/","tdm-reservation":1,"tdm-policy":"https://example.com/policy"},{"location":"/","tdm-reservation":0}]`)
	})
	pages := []string{"/hdr", "/meta", "/metaonly", "/mine/a", "/nogen/x", "/cs/y", "/plain"}
	ts.links("/index", pages...)
	for _, p := range pages {
		ts.handle(p, func(w http.ResponseWriter, r *http.Request) {
			head := ""
			switch p {
			case "/hdr":
				w.Header().Set("Content-Usage", "train-ai=n, search=y")
			case "/meta":
				w.Header().Set("Tdm-Reservation", "0")
				head = `<meta name="tdm-reservation" content="1">`
			case "/metaonly":
				head = `<meta name="tdm-reservation" content="1"><meta name="tdm-policy" content="https://example.com/p">`
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<html><head><title>%s</title>%s</head><body><a href="/c%s">child</a></body></html>`, p, head, p)
		})
	}
	return ts
}

// For each purpose: what is stored, what is still fetched and followed,
// and what the log says.
func TestUsagePreferencesByPurpose(t *testing.T) {
	all := []string{"/index", "/hdr", "/meta", "/metaonly", "/mine/a", "/nogen/x", "/cs/y", "/plain"}
	tests := []struct {
		purpose  usage.Purpose
		reserved []string
		tdmrep   int // tdmrep.json requests
	}{
		{usage.AITrain, []string{"/hdr", "/metaonly", "/mine/a", "/cs/y"}, 1},
		{usage.AIInput, []string{"/metaonly", "/mine/a", "/nogen/x"}, 1},
		{usage.Research, []string{"/metaonly", "/mine/a"}, 1},
		{usage.Search, nil, 0},
		{usage.Archive, nil, 0},
		{usage.Unspecified, []string{"/hdr", "/metaonly", "/mine/a", "/nogen/x", "/cs/y"}, 1},
	}
	for _, tt := range tests {
		t.Run(string(tt.purpose), func(t *testing.T) {
			ts := usageSite(t)
			rec := &recorder{}
			cfg := testConfig(t, rec, ts)
			cfg.Purpose = tt.purpose
			cfg.OutDir = t.TempDir()
			_, sum := crawl(t, cfg, ts.url("/index"))
			if got := ts.count(TDMRepPath); got != tt.tdmrep {
				t.Errorf("tdmrep.json fetched %d times, want %d", got, tt.tdmrep)
			}
			stored := storedURLs(t, cfg.OutDir, ts.site())
			for _, p := range all {
				_, ok := stored[p]
				if want := !slices.Contains(tt.reserved, p); ok != want {
					t.Errorf("%s stored %v, want %v", p, ok, want)
				}
				// Fetched, and its link followed, either way.
				if p != "/index" && (ts.count(p) != 1 || ts.count("/c"+p) != 1) {
					t.Errorf("%s fetched %d times, its child %d; want 1 and 1", p, ts.count(p), ts.count("/c"+p))
				}
			}
			if sum.NotStored != len(tt.reserved) {
				t.Errorf("Summary.NotStored %d, want %d", sum.NotStored, len(tt.reserved))
			}
			fetches := map[string]*audit.Fetch{}
			for _, e := range rec.all(audit.TypeFetch) {
				u, _ := url.Parse(e.Fetch.URL)
				fetches[u.Path] = e.Fetch
			}
			for _, p := range tt.reserved {
				f := fetches[p]
				if f == nil || !strings.Contains(f.NotStored, "reserve the crawl's purpose "+string(tt.purpose)) {
					t.Errorf("%s: fetch entry %+v does not say the purpose was reserved", p, f)
					continue
				}
				found := false
				for _, s := range f.Signals {
					found = found || strings.HasPrefix(s.Decision, "not stored: reserves purpose")
				}
				if !found {
					t.Errorf("%s: no signal says what reserved it: %+v", p, f.Signals)
				}
			}
			if slices.Contains(tt.reserved, "/hdr") && !strings.Contains(fetches["/hdr"].NotStored, `Content-Usage header: train-ai=n (train-ai=n, search=y)`) {
				t.Errorf("/hdr: %q does not name the header and its value", fetches["/hdr"].NotStored)
			}
			if slices.Contains(tt.reserved, "/mine/a") && !strings.Contains(fetches["/mine/a"].NotStored, `tdmrep.json: tdm=n ({"location":"/mine/","tdm-reservation":1,"tdm-policy":"https://example.com/policy"})`) {
				t.Errorf("/mine/a: %q does not name the tdmrep.json rule", fetches["/mine/a"].NotStored)
			}
			if slices.Contains(tt.reserved, "/cs/y") && !strings.Contains(fetches["/cs/y"].NotStored, "robots.txt Content-Signal: ai-train=n (Content-Signal: /cs/ ai-train=no (line 3))") {
				t.Errorf("/cs/y: %q does not name the robots.txt line", fetches["/cs/y"].NotStored)
			}
			// The tdmrep.json request went through the gate: decided
			// and logged before it was sent.
			var tdmDecisions int
			for _, e := range rec.all(audit.TypeDecision) {
				if e.Decision.Kind == kindTDMRep && e.Decision.Verdict == audit.Allow {
					tdmDecisions++
				}
			}
			if tdmDecisions != tt.tdmrep {
				t.Errorf("%d tdmrep.json decisions, want %d", tdmDecisions, tt.tdmrep)
			}
			// Each stored record carries the preferences in force.
			idx := stored["/index"]
			if idx.Purpose != string(tt.purpose) {
				t.Errorf("record purpose %q", idx.Purpose)
			}
			wantTerms := []string{"search", "ai-input"}
			if tt.tdmrep > 0 {
				wantTerms = append(wantTerms, "tdm")
			}
			var terms []string
			for _, p := range idx.Usage {
				terms = append(terms, p.Term)
			}
			if !slices.Equal(terms, wantTerms) {
				t.Errorf("/index record usage %+v, want terms %q", idx.Usage, wantTerms)
			}
			if r, ok := stored["/meta"]; ok && (len(r.Usage) < 1 || r.Usage[0].Source != usage.SourceTDMHeader || !r.Usage[0].Allow) {
				t.Errorf("/meta: the header's tdm-reservation 0 should override the meta's 1: %+v", r.Usage)
			}
		})
	}
}

// A tdmrep.json that is not JSON is read as no file, and the log says so.
func TestTDMRepUnreadable(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "/a")
	ts.handle(TDMRepPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"location": "/", "tdm-reservation": 1`)
	})
	rec := &recorder{}
	cfg := testConfig(t, rec, ts)
	cfg.Purpose = usage.AITrain
	cfg.OutDir = t.TempDir()
	crawl(t, cfg, ts.url("/index"))
	if n := len(storedURLs(t, cfg.OutDir, ts.site())); n != 2 {
		t.Errorf("%d pages stored, want 2", n)
	}
	found := false
	for _, e := range rec.all(audit.TypeDecision) {
		for _, c := range e.Decision.Checks {
			if c.Gate == kindTDMRep && strings.Contains(c.Reason, "unreadable, treated as no file: usage: tdmrep.json is not a JSON array of rules") {
				found = true
			}
		}
	}
	if !found {
		t.Error("no decision says the tdmrep.json was unreadable")
	}
	if ts.count(TDMRepPath) != 1 {
		t.Errorf("tdmrep.json fetched %d times, want once", ts.count(TDMRepPath))
	}
}

// The values of preferences come from the site: what is stored and
// logged of them has passed the personal-data filter.
func TestUsageValuesFiltered(t *testing.T) {
	const phone = "13800138000"
	ts := newTestSite(t)
	// The robots.txt line is not ASCII, so not a structured field: it is
	// logged as unreadable, with its value filtered.
	ts.robots("User-agent: *\nContent-Usage: / search=y;contact=\"手机 " + phone + "\"\nContent-Signal: ai-train=yes, note=ops@example.com\nAllow: /\n")
	ts.handle("/index", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Usage", `train-ai=y;who="mail ops@example.com, mobile `+phone+`"`)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<html><head><title>x</title></head><body>hello</body></html>")
	})
	rec := &recorder{}
	cfg := testConfig(t, rec, ts)
	cfg.OutDir = t.TempDir()
	crawl(t, cfg, ts.url("/index"))
	r, ok := storedURLs(t, cfg.OutDir, ts.site())["/index"]
	if !ok || len(r.Usage) != 2 {
		t.Fatalf("record %+v: want two preferences", r.Usage)
	}
	var logged int
	for _, p := range r.Usage {
		if strings.Contains(p.Value, phone) || strings.Contains(p.Value, "ops@example.com") {
			t.Errorf("stored preference carries personal data: %q", p.Value)
		}
	}
	for _, e := range rec.all(audit.TypeFetch) {
		for _, s := range e.Fetch.Signals {
			logged++
			if strings.Contains(s.Rule+s.Decision, phone) || strings.Contains(s.Rule, "ops@example.com") {
				t.Errorf("logged signal carries personal data: %q", s.Rule)
			}
		}
	}
	if logged != 3 {
		t.Errorf("%d usage signals logged, want 3 (two preferences, one unreadable line)", logged)
	}
}

func TestReadPageUsage(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1/p")
	for _, tc := range []struct {
		name   string
		hdr    map[string]string
		head   string
		want   []string // source: term=allow
		errSrc string   // source of an unreadable statement
	}{
		{"content-usage", map[string]string{"Content-Usage": "train-ai=n, search=y"}, "", []string{"Content-Usage header: train-ai=false", "Content-Usage header: search=true"}, ""},
		{"unparseable", map[string]string{"Content-Usage": "Train-AI=n"}, "", nil, usage.SourceHeader},
		{"header over meta", map[string]string{"Tdm-Reservation": "0"}, `<meta name="tdm-reservation" content="1">`, []string{"tdm-reservation header: tdm=true"}, ""},
		{"meta", nil, `<meta name="TDM-Reservation" content="1"><meta name="tdm-policy" content="https://example.com/p">`, []string{"meta tdm-reservation: tdm=false"}, ""},
		{"bad header, meta", map[string]string{"Tdm-Reservation": "yes"}, `<meta name="tdm-reservation" content="1">`, []string{"meta tdm-reservation: tdm=false"}, usage.SourceTDMHeader},
		{"nothing", nil, `<meta name="description" content="tdm-reservation">`, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.hdr {
				h.Set(k, v)
			}
			body := []byte("<html><head>" + tc.head + "</head><body>x</body></html>")
			p := readPageRules(newLinkResolver(), base, h, body, true, rulesNow)
			if len(tc.want) == 0 && tc.errSrc == "" {
				if p != nil {
					t.Fatalf("rules %+v, want none", p)
				}
				return
			}
			var got []string
			for _, u := range p.usage {
				got = append(got, fmt.Sprintf("%s: %s=%v", u.Source, u.Term, u.Allow))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("usage %q, want %q", got, tc.want)
			}
			if tc.errSrc != "" && (len(p.usageErrs) != 1 || p.usageErrs[0].Source != tc.errSrc) {
				t.Errorf("unreadable statements %+v, want one from %s", p.usageErrs, tc.errSrc)
			}
			if tc.name == "meta" && !strings.Contains(p.usage[0].Value, "tdm-policy: https://example.com/p") {
				t.Errorf("the policy is not recorded: %q", p.usage[0].Value)
			}
		})
	}
}
