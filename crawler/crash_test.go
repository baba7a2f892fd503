package crawler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/crawler/state"
	"github.com/goodbot/goodbot/limiter"
)

// crashHelperEnv makes the test binary run crashHelper instead of tests.
const crashHelperEnv = "GOODBOT_CRASH_HELPER"

// TestCrashHelper is not a test: run by TestLibraryResumesAfterKill as a
// child process, it crawls the site named in its environment with a state
// and the Crawler's own operation log, until it is killed.
func TestCrashHelper(t *testing.T) {
	if os.Getenv(crashHelperEnv) == "" {
		t.Skip("run by TestLibraryResumesAfterKill")
	}
	cr, err := newStateCrawler(os.Getenv("GOODBOT_CRASH_DIR"), os.Getenv("GOODBOT_CRASH_SITE"))
	if err != nil {
		t.Fatal(err)
	}
	cr.Run(context.Background())
}

// newStateCrawler builds a Crawler as a library user would, with a state
// and the default operation log, both under dir, for the test site at
// seed.
func newStateCrawler(dir, seed string) (*Crawler, error) {
	st, err := state.Open(filepath.Join(dir, "state"), state.Options{})
	if err != nil {
		return nil, err
	}
	u, err := NormalizeURL(seed)
	if err != nil {
		return nil, err
	}
	// 20 requests a second.
	e, err := limiter.ParseTraffic(u.Host + "=17280000")
	if err != nil {
		return nil, err
	}
	est, _ := limiter.NewEstimates(e)
	lim, err := st.Limiter(limiter.Config{Estimates: est})
	if err != nil {
		return nil, err
	}
	cr, err := New(Config{
		Contact: "mailto:me@example.org",
		State:   st,
		Limiter: lim,
		OutDir:  filepath.Join(dir, "out"),
		// One request at a time: while /p9 is answered, nothing else is
		// in flight, so the kill leaves exactly one request unanswered.
		Parallel:     1,
		AuditKeyFile: filepath.Join(dir, "key"),
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, err
	}
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	if err := cr.Seed(seed); err != nil {
		return nil, err
	}
	return cr, nil
}

// A library Crawler on a state whose last process was killed asks its
// operation log what that process sent: nothing is requested twice.
func TestLibraryResumesAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	ts := newTestSite(t)
	const pages = 30
	for i := range pages {
		var links []string
		for j := i + 1; j < min(i+4, pages); j++ {
			links = append(links, fmt.Sprintf("/p%d", j))
		}
		ts.links(fmt.Sprintf("/p%d", i), links...)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), crashHelperEnv+"=1", "GOODBOT_CRASH_DIR="+dir, "GOODBOT_CRASH_SITE="+ts.url("/p0"))
	// The child dies while /p9 is being answered: its request was sent
	// and logged, its answer never arrives.
	killed := make(chan struct{})
	var once sync.Once
	started := make(chan *os.Process, 1)
	ts.handle("/p9", func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			(<-started).Kill()
			close(killed)
		})
		page(w, `<a href="/p10">p10</a>`)
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started <- cmd.Process
	select {
	case <-killed:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the child never requested /p9")
	}
	cmd.Wait()
	before := len(ts.uris())
	if before < 10 {
		t.Fatalf("the child sent %d requests before it was killed", before)
	}

	cr, err := newStateCrawler(dir, ts.url("/p0"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := cr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, u := range ts.uris() {
		counts[u]++
	}
	for i := range pages {
		if n := counts[fmt.Sprintf("/p%d", i)]; n != 1 {
			t.Errorf("/p%d requested %d times (the child sent %d requests)", i, n, before)
		}
	}
}
