package crawler

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goodbot/goodbot/limiter"
)

// connSite is a loopback site of a few linked pages that counts the
// connections it is sent and those open, and what each request asked of
// its connection.
type connSite struct {
	srv *httptest.Server

	mu      sync.Mutex
	opened  int
	open    int
	closing int // requests with Connection: close
	reqs    int
}

func newConnSite(t *testing.T, pages int) *connSite {
	cs := &connSite{}
	cs.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.mu.Lock()
		cs.reqs++
		if r.Close {
			cs.closing++
		}
		cs.mu.Unlock()
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		if r.URL.Path == "/" {
			for i := range pages {
				fmt.Fprintf(&b, `<a href="/p%d">p</a>`, i)
			}
		}
		page(w, b.String())
	}))
	cs.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		switch s {
		case http.StateNew:
			cs.opened++
			cs.open++
		case http.StateClosed, http.StateHijacked:
			cs.open--
		}
	}
	cs.srv.Start()
	t.Cleanup(cs.srv.Close)
	return cs
}

func (cs *connSite) counts() (reqs, closing, opened, open int) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.reqs, cs.closing, cs.opened, cs.open
}

// connCrawl crawls cs at one request every interval, keeping connections
// for sites paced keepAlive or closer.
func connCrawl(t *testing.T, cs *connSite, interval, keepAlive time.Duration) {
	t.Helper()
	s := strings.TrimPrefix(cs.srv.URL, "http://")
	est, err := limiter.NewEstimates(limiter.Estimate{Site: s, PerDay: perDayFor(interval), Source: "test", At: time.Now().UTC(), Kind: limiter.KindUser})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	lim, err := limiter.NewLocal(limiter.Config{Estimates: est, Sink: rec})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, rec)
	cfg.Limiter = lim
	cfg.Parallel = 1
	cr := seeded(t, cfg, cs.srv.URL+"/")
	cr.gate.keepAlive = keepAlive
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if sum, err := cr.Run(ctx); err != nil || sum.Reason != "done" {
		t.Fatalf("Run: %v, %q", err, sum.Reason)
	}
}

// TestConnectionKeptForBusySitesOnly: a site paced closer than the
// keep-alive limit has its requests sent on one connection; a site
// paced further apart has each request ask for its connection to be
// closed, and gets one connection per request. Either way no connection
// is left open once Run returns.
func TestConnectionKeptForBusySitesOnly(t *testing.T) {
	const pages = 3
	for _, tc := range []struct {
		name      string
		keepAlive time.Duration
		keep      bool
	}{
		{"kept", time.Second, true},
		{"closed", 50 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := newConnSite(t, pages)
			connCrawl(t, cs, 100*time.Millisecond, tc.keepAlive)
			reqs, closing, opened, _ := cs.counts()
			if reqs != pages+2 { // robots.txt, /, the pages
				t.Fatalf("%d requests, want %d", reqs, pages+2)
			}
			switch {
			case tc.keep && (closing != 0 || opened != 1):
				t.Errorf("%d requests on %d connections, %d asking to close; want all on 1, none asking", reqs, opened, closing)
			case !tc.keep && (closing != reqs || opened != reqs):
				t.Errorf("%d requests on %d connections, %d asking to close; want one connection each, all asking", reqs, opened, closing)
			}
			// The server sees a closed connection when it reads its end:
			// at once, but asynchronously. Bounded wait, shorter than the
			// transport's idle timeout, which would close it too.
			for i := 0; i < 500; i++ {
				if _, _, _, open := cs.counts(); open == 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if _, _, _, open := cs.counts(); open != 0 {
				t.Errorf("%d connections still open after Run returned", open)
			}
		})
	}
}
