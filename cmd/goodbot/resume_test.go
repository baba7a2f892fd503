package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodbot/goodbot/internal/redistest"
)

// runTime is how long a restart test lets run number run go: the first one
// long enough to send on a loaded machine, the later ones long enough that
// they would send if the budget did not hold them.
func runTime(run int) time.Duration {
	if run == 0 {
		return 5 * time.Second
	}
	return 1500 * time.Millisecond
}

// The safe harbor survives restarts: five runs in a row on the same --out
// against a site with the default estimate (2 requests a day, one every
// 12 h) send one request in all, not one each. Each run is stopped after a
// few seconds, as a cron job or a deploy would stop it.
func TestBudgetHoldsAcrossRestarts(t *testing.T) {
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `<html><body><a href="/a">a</a></body></html>`)
	})
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	for run := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), runTime(run))
		code, stdout, stderr := runCLIctx(ctx, "crawl", "--contact", "mailto:me@example.org", "--out", out,
			"--audit-key", key, "--progress", "0", s.srv.URL+"/")
		cancel()
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s", run, code, stdout, stderr)
		}
		if run > 0 && !strings.Contains(stderr, "budget resumed from the operation log") {
			t.Errorf("run %d did not resume the budget:\n%s", run, stderr)
		}
	}
	if n := len(s.hits()); n != 1 {
		t.Fatalf("five runs sent %d requests, want 1 (one every 12 h): %+v", n, s.hits())
	}
	// The log of all five runs verifies, and says what was resumed.
	code, stdout, stderr := runCLI(t, "audit", "show", "--type", "budget", filepath.Join(out, "audit"))
	if code != 0 || !strings.Contains(stdout, "resume") {
		t.Errorf("audit show: %d %s %s", code, stdout, stderr)
	}
}

// goodbot crawl --redis warns when the job's state would not survive a
// restart of Redis, and not when Redis keeps an append-only file.
func TestCrawlWarnsOfRedisWithoutPersistence(t *testing.T) {
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	for _, c := range []struct {
		srv  *redistest.Server
		warn bool
	}{{redistest.Start(t), true}, {redistest.StartPersistent(t), false}} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, _, stderr := runCLIctx(ctx, "crawl", "--contact", "mailto:me@example.org", "--out", t.TempDir(),
			"--audit-key", filepath.Join(t.TempDir(), "key"), "--progress", "0", "--traffic", s.hostport()+"=864000000",
			"--redis", "redis://"+c.srv.Addr, "--job", redistest.Namespace(t), s.srv.URL+"/")
		cancel()
		if got := strings.Contains(stderr, "in memory only"); got != c.warn {
			t.Errorf("Redis at %s: warned %v, want %v:\n%s", c.srv.Addr, got, c.warn, stderr)
		}
	}
}

// A hold the site asked for (503 with Retry-After) still holds after a
// restart: the second run sends nothing, robots.txt included.
func TestHoldHoldsAcrossRestarts(t *testing.T) {
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	for run := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), runTime(run))
		code, stdout, stderr := runCLIctx(ctx, "crawl", "--contact", "mailto:me@example.org", "--out", out,
			"--audit-key", key, "--progress", "0", "--traffic", s.hostport()+"=864000000", s.srv.URL+"/")
		cancel()
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s", run, code, stdout, stderr)
		}
		if run == 0 && len(s.hits()) != 2 {
			t.Fatalf("first run sent %d requests, want robots.txt and the page: %+v", len(s.hits()), s.hits())
		}
	}
	if n := len(s.hits()); n != 2 {
		t.Fatalf("the run after a one-hour hold sent %d requests more: %+v", n-2, s.hits())
	}
}
