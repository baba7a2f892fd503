package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/crawler/frontier/frontiertest"
	"github.com/goodbot/goodbot/crawler/robots"
	"github.com/goodbot/goodbot/limiter"
)

func open(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFrontierConformance(t *testing.T) {
	frontiertest.Run(t, func(t *testing.T, opts frontier.Options) frontier.Frontier {
		s := open(t, t.TempDir(), Options{})
		t.Cleanup(func() { s.Close() })
		f, _, err := s.Frontier(FrontierOptions{Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		return f
	})
}

func item(site string, n int) frontier.Item {
	return frontier.Item{URL: fmt.Sprintf("http://%s/%d", site, n), Site: site}
}

// A frontier reopened after its process stopped keeps what was queued,
// what was fetched, and settles what was leased by what the log says.
func TestFrontierSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, Options{})
	f, rec, err := s.Frontier(FrontierOptions{Options: frontier.Options{PerSite: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Resumed() || rec != (Recovered{}) {
		t.Fatalf("new state: resumed %v, recovered %+v", s.Resumed(), rec)
	}
	for i := range 10 {
		if ok, err := f.Add(ctx, item("a", i)); !ok || err != nil {
			t.Fatalf("Add %d: %v %v", i, ok, err)
		}
	}
	var leases []frontier.Lease
	for range 5 {
		l, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		leases = append(leases, l)
	}
	// Two fetched and complete; three leased when the process "dies":
	// the log says the first of them was sent.
	f.Complete(ctx, leases[0], true)
	f.Complete(ctx, leases[1], true)
	if err := f.Retry(ctx, leases[4], time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	leases = leases[2:4]
	s.Close()

	s = open(t, dir, Options{})
	defer s.Close()
	sentURL := leases[0].Item.URL
	f, rec, err = s.Frontier(FrontierOptions{
		Options: frontier.Options{PerSite: 10},
		Sent:    func(it frontier.Item) bool { return it.URL == sentURL },
	})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Resumed() {
		t.Error("reopened state not marked resumed")
	}
	want := Recovered{Queued: 7, Seen: 10, Pages: 3, Settled: 1, Requeued: 1}
	if rec != want {
		t.Fatalf("recovered %+v, want %+v", rec, want)
	}
	for i := range 10 {
		if ok, _ := f.Add(ctx, item("a", i)); ok {
			t.Errorf("item %d queued again after restart", i)
		}
	}
	got := map[string]bool{}
	for range 6 { // the one deferred for an hour stays
		l, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got[l.Item.URL] {
			t.Fatalf("%s leased twice", l.Item.URL)
		}
		got[l.Item.URL] = true
		f.Complete(ctx, l, true)
	}
	for _, u := range []string{item("a", 0).URL, item("a", 1).URL, sentURL} {
		if got[u] {
			t.Errorf("%s was fetched before the restart and leased again", u)
		}
	}
	st, _ := f.Stats(ctx)
	if st.Queued != 1 || st.Pages != 9 {
		t.Fatalf("stats %+v, want 1 queued (deferred) and 9 pages", st)
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := f.Next(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next with only a deferred item: %v", err)
	}
}

func TestLockNamesHolderAndFreshStartsOver(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, Options{Holder: "goodbot crawl --out test"})
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	} else if want := "goodbot crawl --out test"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the holder %q", err, want)
	}
	f, _, _ := s.Frontier(FrontierOptions{})
	f.Add(ctx, item("a", 1))
	s.Close()

	s = open(t, dir, Options{Fresh: true})
	defer s.Close()
	if s.Resumed() {
		t.Error("fresh state marked resumed")
	}
	if d := s.Discarded(); d == nil || d.Queued != 1 || d.Seen != 1 || d.Created.IsZero() {
		t.Errorf("Discarded() = %+v, want the one queued URL", d)
	}
	f, rec, _ := s.Frontier(FrontierOptions{})
	if rec.Queued != 0 || rec.Seen != 0 {
		t.Fatalf("fresh state holds %+v", rec)
	}
	if ok, _ := f.Add(ctx, item("a", 1)); !ok {
		t.Fatal("fresh state remembered a URL")
	}
}

func TestRobotsAndLimiterKept(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, Options{})
	r := s.Robots(func(t string) bool { return !strings.Contains(t, "@") })
	now := time.Now()
	st := robots.Stored{URL: "http://a/robots.txt", Status: 200, Body: []byte("User-agent: *\nDisallow: /x\n"), Policy: "parsed", FetchedAt: now, Expires: now.Add(time.Hour)}
	if err := r.Save(ctx, "http://a", st); err != nil {
		t.Fatal(err)
	}
	private := st
	private.Body = []byte("# contact ops@a.example\nUser-agent: *\nDisallow: /x\n")
	if err := r.Save(ctx, "http://private", private); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := r.Load(ctx, "http://private"); !ok || string(got.Body) != string(private.Body) {
		t.Errorf("a robots.txt kept in memory was not loaded: %v %q", ok, got.Body)
	}
	old := st
	old.Expires = now.Add(-time.Second)
	r.Save(ctx, "http://old", old)
	est, _ := limiter.NewEstimates()
	lim, err := s.Limiter(limiter.Config{Estimates: est})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lim.Wait(ctx, "a.example"); err != nil {
		t.Fatal(err)
	}
	before, _ := lim.Status(ctx, "a.example")
	if again, _ := s.Limiter(limiter.Config{}); again != lim {
		t.Error("a second Limiter call made a second limiter")
	}
	s.Close()

	s = open(t, dir, Options{})
	defer s.Close()
	got, ok, err := s.Robots(func(t string) bool { return !strings.Contains(t, "@") }).Load(ctx, "http://a")
	if err != nil || !ok || string(got.Body) != string(st.Body) {
		t.Fatalf("Load after restart: %v %v %+v", ok, err, got)
	}
	if _, ok, _ := s.Robots(nil).Load(ctx, "http://old"); ok {
		t.Error("an expired robots.txt was loaded")
	}
	lim, err = s.Limiter(limiter.Config{Estimates: est})
	if err != nil {
		t.Fatal(err)
	}
	// The default estimate allows one request every 12 h: the one sent
	// before the restart holds the next one back.
	st2, _ := lim.Status(ctx, "a.example")
	if st2.SentToday != before.SentToday || before.SentToday != 1 {
		t.Errorf("after restart the limiter counts %d sent today, before it %d; want 1", st2.SentToday, before.SentToday)
	}
	if s.Mark().IsZero() {
		t.Error("no sync mark after a clean close")
	}
}

// An item whose URL is not clean is crawled but never written to disk, and
// is not resumed after a restart.
func TestFrontierKeepsUncleanURLsInMemory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clean := func(u string) bool { return !strings.Contains(u, "@") }
	s := open(t, dir, Options{})
	f, _, err := s.Frontier(FrontierOptions{Clean: clean})
	if err != nil {
		t.Fatal(err)
	}
	private := frontier.Item{URL: "http://a/u/bob@example.com", Site: "a"}
	for _, it := range []frontier.Item{item("a", 1), private} {
		if ok, err := f.Add(ctx, it); !ok || err != nil {
			t.Fatalf("Add %s: %v %v", it.URL, ok, err)
		}
	}
	got := map[string]bool{}
	for range 2 {
		l, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got[l.Item.URL] = true
		if l.Item.URL == private.URL {
			// Deferred once: still kept in memory.
			if err := f.Retry(ctx, l, time.Now().Add(20*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		f.Complete(ctx, l, true)
	}
	l, err := f.Next(ctx)
	if err != nil || l.Item.URL != private.URL || l.Item.Attempt != 1 {
		t.Fatalf("Next after the retry: %+v %v", l, err)
	}
	s.Close()
	if !got[private.URL] {
		t.Fatal("the item kept in memory was not handed out")
	}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("bob@example.com")) {
			t.Errorf("%s holds the unclean URL", p)
		}
		return nil
	})
	s = open(t, dir, Options{})
	defer s.Close()
	f, rec, err := s.Frontier(FrontierOptions{Clean: clean})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Queued != 0 {
		t.Fatalf("recovered %+v, want nothing queued", rec)
	}
	if ok, _ := f.Add(ctx, private); ok {
		t.Error("the unclean URL was forgotten as seen")
	}
}

// An item whose body is not clean (a POST's form holding personal data)
// stays in memory, as one whose URL is not; one whose body is clean is
// kept on disk with its method and body, and without CleanBody no body is
// taken as clean.
func TestFrontierKeepsUncleanBodiesInMemory(t *testing.T) {
	ctx := context.Background()
	const planted = "13812345678"
	cleanBody := func(_ string, b []byte) bool { return !bytes.Contains(b, []byte(planted)) }
	for _, withCheck := range []bool{true, false} {
		dir := t.TempDir()
		opts := FrontierOptions{}
		if withCheck {
			opts.CleanBody = cleanBody
		}
		s := open(t, dir, Options{})
		f, _, err := s.Frontier(opts)
		if err != nil {
			t.Fatal(err)
		}
		public := frontier.Item{URL: "http://a/search", Site: "a", Method: "POST", Body: []byte("q=goodbot"), ContentType: "application/x-www-form-urlencoded"}
		private := frontier.Item{URL: "http://a/search", Site: "a", Method: "POST", Body: []byte("q=" + planted), ContentType: "application/x-www-form-urlencoded"}
		for _, it := range []frontier.Item{public, private} {
			if ok, err := f.Add(ctx, it); !ok || err != nil {
				t.Fatalf("Add %s: %v %v", it.Body, ok, err)
			}
		}
		if ok, _ := f.Add(ctx, public); ok {
			t.Error("the same POST was queued twice")
		}
		s.Close()
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() {
				return err
			}
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(planted)) {
				t.Errorf("%s holds the body with personal data", p)
			}
			return nil
		})
		s = open(t, dir, Options{})
		f, rec, err := s.Frontier(opts)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if withCheck {
			want = 1 // the clean POST
		}
		if rec.Queued != want {
			t.Fatalf("CleanBody set %v: recovered %+v, want %d queued", withCheck, rec, want)
		}
		if withCheck {
			l, err := f.Next(ctx)
			if err != nil || l.Item.Method != "POST" || string(l.Item.Body) != "q=goodbot" || l.Item.ContentType != public.ContentType {
				t.Fatalf("resumed item %+v, %v; want the clean POST with its body", l.Item, err)
			}
		}
		s.Close()
	}
}

// The robots store keeps a file's text, so its Content-Usage and
// Content-Signal lines come back, parsed again, after a restart.
func TestRobotsUsageKept(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, Options{})
	body := "User-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\nContent-Usage: /private/ train-ai=n\n"
	now := time.Now()
	st := robots.Stored{URL: "http://a/robots.txt", Status: 200, Body: []byte(body), Policy: robots.PolicyParsed, FetchedAt: now, Expires: now.Add(time.Hour)}
	if err := s.Robots(nil).Save(ctx, "http://a", st); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir, Options{})
	defer s.Close()
	got, ok, err := s.Robots(nil).Load(ctx, "http://a")
	if err != nil || !ok {
		t.Fatalf("Load after restart: %v %v", ok, err)
	}
	var lines []string
	for _, u := range robots.Parse(got.Body).Group("goodbot").UsageFor("/private/x") {
		lines = append(lines, u.String())
	}
	want := []string{"Content-Signal: / search=yes, ai-train=no", "Content-Usage: /private/ train-ai=n"}
	if !slices.Equal(lines, want) {
		t.Errorf("usage lines after restart %q, want %q", lines, want)
	}
}
