package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/limiter"
)

// budgetEvents returns the budget events of the operation log in out.
func budgetEvents(t *testing.T, out string) ([]*audit.Budget, []*audit.Robots) {
	t.Helper()
	var bs []*audit.Budget
	var rs []*audit.Robots
	if _, err := audit.Verify(context.Background(), filepath.Join(out, "audit"), audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		if e.Event.Budget != nil {
			bs = append(bs, e.Event.Budget)
		}
		if e.Event.Robots != nil {
			rs = append(rs, e.Event.Robots)
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	return bs, rs
}

func pagesSite(t *testing.T, robots string) *testSite {
	return newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, robots)
		case "/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<a href="/a">a</a><a href="/b">b</a>`)
		default:
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, "<p>page %s</p>", r.URL.Path)
		}
	})
}

// A crawl with --rank-file prints the estimate's range, records it in the
// operation log, and budgets from its low end.
func TestCrawlRankFileUsesLowEnd(t *testing.T) {
	s := pagesSite(t, "User-agent: *\nDisallow:\n")
	ranks := filepath.Join(t.TempDir(), "crux.csv")
	if err := os.WriteFile(ranks, []byte("origin,rank\n"+s.srv.URL+",1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, ok := limiter.RankEstimate(1000)
	if !ok {
		t.Fatal("no bucket for rank 1000")
	}
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "crawl", "--contact", "mailto:me@example.org", "--rank-file", ranks,
		"--out", out, "--audit-key", filepath.Join(t.TempDir(), "key"), "--progress", "0", s.srv.URL+"/")
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	budget := b.Low * limiter.DefaultShare
	line := fmt.Sprintf("%s: traffic %.0f to %.0f/day, central %.0f (rank: %s:2 (rank 1000, bucket 1000 of ranking-to-pageviews 2024+2025, 4 sites)), cap %.0f/day from the low end, one request every",
		s.hostport(), b.Low, b.High, b.Central, ranks, budget)
	if !strings.Contains(stderr, line) {
		t.Errorf("stderr does not print the range:\n%s\nwant a line containing\n%s", stderr, line)
	}
	bs, _ := budgetEvents(t, out)
	if len(bs) == 0 || bs[0].Change != "initial" {
		t.Fatalf("budget events %+v: want an initial one first", bs)
	}
	e := bs[0]
	if e.EstimateLow != b.Low || e.EstimatePerDay != b.Central || e.EstimateHigh != b.High || !strings.HasPrefix(e.Source, "rank: "+ranks+":2") {
		t.Errorf("initial budget event %+v: want the range %+v from the rank file", e, b)
	}
	if interval := time.Duration(math.Ceil(86400e6/budget)) * time.Microsecond; e.BudgetPerDay != budget || e.Interval != interval {
		t.Errorf("budget %v/day, interval %v: want %v/day from the low end", e.BudgetPerDay, e.Interval, budget)
	}
	// With no --purpose the site's tdmrep.json is read too.
	if len(s.hits()) != 5 || s.count("/.well-known/tdmrep.json") != 1 {
		t.Errorf("requests %+v, want robots.txt, tdmrep.json and three pages", s.hits())
	}
}

// A Max-Crawl-Rate line in robots.txt lengthens the interval: the log
// records the robots.txt delay and the budget event with the longer
// interval.
func TestCrawlMaxCrawlRate(t *testing.T) {
	s := pagesSite(t, "User-agent: *\nMax-Crawl-Rate: 300/m\nDisallow:\n")
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "crawl", "--contact", "mailto:me@example.org", "--traffic", s.hostport()+"=864000000",
		"--out", out, "--audit-key", filepath.Join(t.TempDir(), "key"), "--progress", "0", s.srv.URL+"/")
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	bs, rs := budgetEvents(t, out)
	if len(rs) != 1 || rs[0].CrawlDelay != 200*time.Millisecond {
		t.Errorf("robots events %+v: want one with the Max-Crawl-Rate interval, 200ms", rs)
	}
	var initial, robots *audit.Budget
	for _, b := range bs {
		switch b.Change {
		case "initial":
			initial = b
		case "robots":
			robots = b
		}
	}
	if initial == nil || initial.Interval != time.Millisecond || initial.EstimateLow != 864000000 || initial.EstimateHigh != 864000000 || initial.Source != "user: --traffic" {
		t.Errorf("initial budget event %+v: want the user's figure, 1ms", initial)
	}
	if robots == nil || robots.Interval != 200*time.Millisecond || !strings.Contains(robots.Reason, "robots.txt asks for 200ms") {
		t.Errorf("robots budget event %+v: want the interval lengthened to 200ms", robots)
	}
	// With no --purpose the site's tdmrep.json is read too.
	if len(s.hits()) != 5 || s.count("/.well-known/tdmrep.json") != 1 {
		t.Errorf("requests %+v, want robots.txt, tdmrep.json and three pages", s.hits())
	}
}
