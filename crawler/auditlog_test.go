package crawler

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/limiter"
)

// userDirs points the user's home, configuration and data directories at a
// temporary one, where a Crawler's default log and key then go, and
// returns it.
func userDirs(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, "data"))
	return home
}

// highLimiter is a limiter whose estimates of sites do not bind.
func highLimiter(t *testing.T, sites ...*testSite) limiter.Limiter {
	var es []limiter.Estimate
	for _, s := range sites {
		es = append(es, limiter.Estimate{Site: s.site(), PerDay: 864000000, Source: "test site", Kind: limiter.KindUser})
	}
	est, err := limiter.NewEstimates(es...)
	if err != nil {
		t.Fatal(err)
	}
	lim, err := limiter.NewLocal(limiter.Config{Estimates: est})
	if err != nil {
		t.Fatal(err)
	}
	return lim
}

// logged verifies the log in dir and returns, by URL, the types of the
// entries that name it, and how many runs it records.
func logged(t *testing.T, dir string) (byURL map[string]map[audit.Type]int, runs int) {
	t.Helper()
	byURL = map[string]map[audit.Type]int{}
	add := func(u string, ty audit.Type) {
		if byURL[u] == nil {
			byURL[u] = map[audit.Type]int{}
		}
		byURL[u][ty]++
	}
	_, err := audit.Verify(context.Background(), dir, audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		switch ev := e.Event; {
		case ev.Decision != nil && ev.Decision.Verdict == audit.Allow:
			add(ev.Decision.URL, ev.Type)
		case ev.Fetch != nil:
			add(ev.Fetch.URL, ev.Type)
		case ev.Run != nil:
			runs++
		}
		return nil
	}})
	if err != nil {
		t.Fatalf("audit.Verify %s: %v", dir, err)
	}
	return byURL, runs
}

// wantLogged fails unless every URL ts was asked for has an allowing
// decision and a fetch, n times each, in byURL.
func wantLogged(t *testing.T, byURL map[string]map[audit.Type]int, ts *testSite, n int) {
	t.Helper()
	uris := ts.uris()
	if len(uris) == 0 {
		t.Fatal("the site received no request")
	}
	for _, uri := range uris {
		got := byURL[ts.url(uri)]
		if got[audit.TypeDecision] != n || got[audit.TypeFetch] != n {
			t.Errorf("%s: %d decisions and %d fetches in the log, want %d of each", ts.url(uri), got[audit.TypeDecision], got[audit.TypeFetch], n)
		}
	}
}

// A Crawler given nothing but a contact keeps a signed operation log in
// the user's data directory, closes it when Run ends, and the next Crawler
// of the process appends to it.
func TestDefaultOperationLog(t *testing.T) {
	home := userDirs(t)
	ts := newTestSite(t)
	ts.links("/index", "/a", "/b")
	dir, err := DefaultAuditDir("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, home+string(filepath.Separator)) {
		t.Fatalf("default log directory %s is not under the user's home %s", dir, home)
	}
	for run := 1; run <= 2; run++ {
		_, sum := crawl(t, Config{Contact: "mailto:me@example.org", Limiter: highLimiter(t, ts)}, ts.url("/index"))
		if sum.AuditLog != dir || sum.NoAuditLog != "" {
			t.Fatalf("run %d: Summary.AuditLog %q, NoAuditLog %q; want %q, \"\"", run, sum.AuditLog, sum.NoAuditLog, dir)
		}
		// Run closed the log: it verifies, and holds each run's requests.
		byURL, runs := logged(t, dir)
		if runs != run {
			t.Fatalf("the log records %d runs, want %d", runs, run)
		}
		wantLogged(t, byURL, ts, run)
	}
	key, err := KeyFileFor(DefaultOrigin("mailto:me@example.org"), true)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(key); err != nil || !strings.HasPrefix(key, home) || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("signing key %s: %v, %v", key, fi, err)
	}
}

// With OutDir set, the log is OutDir/audit, as goodbot crawl keeps it.
func TestDefaultOperationLogUnderOutDir(t *testing.T) {
	userDirs(t)
	ts := newTestSite(t)
	ts.links("/index")
	out := t.TempDir()
	_, sum := crawl(t, Config{Contact: "mailto:me@example.org", Limiter: highLimiter(t, ts), OutDir: out}, ts.url("/index"))
	if want := filepath.Join(out, "audit"); sum.AuditLog != want {
		t.Fatalf("Summary.AuditLog %q, want %q", sum.AuditLog, want)
	}
	byURL, _ := logged(t, sum.AuditLog)
	wantLogged(t, byURL, ts, 1)
}

// Declining the log takes a reason, which is logged, recorded in the
// config event and reported in the summary; nothing is written to disk.
func TestNoAuditLogIsRecorded(t *testing.T) {
	home := userDirs(t)
	ts := newTestSite(t)
	ts.links("/index", "/a")
	var buf bytes.Buffer // slog's handlers write under a lock
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	const why = "unit test of the opt-out"
	_, sum := crawl(t, Config{Contact: "mailto:me@example.org", Limiter: highLimiter(t, ts), Logger: logger, NoAuditLog: why}, ts.url("/index"))
	if sum.NoAuditLog != why || sum.AuditLog != "" {
		t.Fatalf("Summary.NoAuditLog %q, AuditLog %q", sum.NoAuditLog, sum.AuditLog)
	}
	logs := buf.String()
	for _, want := range []string{`level=WARN msg="crawler: no operation log`, `reason="` + why + `"`, `operation_log:none: ` + why} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logger got no %q:\n%s", want, logs)
		}
	}
	filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("opting out wrote %s", p)
		}
		return err
	})

	for _, cfg := range []Config{
		{NoAuditLog: " "},
		{NoAuditLog: why, Sink: &recorder{}},
		{NoAuditLog: why, AuditDir: t.TempDir()},
		{NoAuditLog: why, AuditKeyFile: filepath.Join(t.TempDir(), "key")},
		{Sink: &recorder{}, AuditDir: t.TempDir()},
	} {
		cfg.Contact = "mailto:me@example.org"
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded; want an error", cfg)
		}
	}
}

// Crawlers that run at the same time share one log opened with OpenLog;
// none closes it, and a Crawler that would open it as its own is told how
// to share it.
func TestCrawlersShareOneLog(t *testing.T) {
	dir, key := t.TempDir(), filepath.Join(t.TempDir(), "key")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := OpenLog(context.Background(), dir, audit.Options{KeyFile: key, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = New(Config{Contact: "mailto:me@example.org", AuditDir: dir, AuditKeyFile: key, Logger: quiet})
	if !errors.Is(err, audit.ErrInUse) || !strings.Contains(err.Error(), "OpenLog") {
		t.Fatalf("New on a log in use: %v; want audit.ErrInUse and a hint at OpenLog", err)
	}

	sites := []*testSite{newTestSite(t), newTestSite(t)}
	errs := make([]error, len(sites))
	var wg sync.WaitGroup
	for i, ts := range sites {
		ts.links("/index", "/a", "/b")
		cr, err := New(Config{Contact: "mailto:me@example.org", Limiter: highLimiter(t, ts), Sink: l, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
		if err := cr.Seed(ts.url("/index")); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			sum, err := cr.Run(ctx)
			switch {
			case err != nil:
				errs[i] = err
			case sum.Reason != "done" || sum.AuditLog != dir:
				errs[i] = errors.New("run ended with " + sum.Reason + ", log " + sum.AuditLog)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// The runs left the log open.
	if _, err := l.Checkpoint(context.Background()); err != nil {
		t.Fatalf("the log was closed by a Crawler: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	byURL, runs := logged(t, dir)
	if runs != 2 {
		t.Fatalf("the log records %d runs, want 2", runs)
	}
	for _, ts := range sites {
		wantLogged(t, byURL, ts, 1)
	}
}

// A Crawler releases the log it opened when it is closed without running,
// and when New fails after opening it.
func TestOwnLogIsReleased(t *testing.T) {
	dir, key := t.TempDir(), filepath.Join(t.TempDir(), "key")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := Config{Contact: "mailto:me@example.org", AuditDir: dir, AuditKeyFile: key, Logger: quiet}
	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := cr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := cfg
	bad.OutDir = notDir // output.Open fails after the log was opened
	if _, err := New(bad); err == nil {
		t.Fatal("New with OutDir a regular file succeeded")
	}

	l, err := OpenLog(context.Background(), dir, audit.Options{KeyFile: key, Logger: quiet})
	if err != nil {
		t.Fatalf("the log is still held: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(context.Background(), dir, audit.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}
