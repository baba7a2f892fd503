package crawler_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler"
	"github.com/goodbot/goodbot/crawler/state"
	"github.com/goodbot/goodbot/internal/site"
	"github.com/goodbot/goodbot/limiter"
)

// A scraper server: a colly program that builds a collector per incoming
// HTTP request, visits the URL it was asked for and answers with the
// page's title. Ported, it builds a Crawler per request too, on one state
// and one operation log that the server opens once (the README's "Moving
// from colly" lists this): the requests share the site's budget and its
// robots.txt copy, and with AllowURLRevisit a page asked for twice is
// fetched twice, each time charged.
func TestPortScraperServer(t *testing.T) {
	target := portSite(t, map[string]string{
		"/a": htmlPage("Alpha", "a"),
		"/b": htmlPage("Beta", "b"),
	})
	robots := 0
	var robotsMu sync.Mutex
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			robotsMu.Lock()
			robots++
			robotsMu.Unlock()
		}
		u, _ := url.Parse(target.URL + r.URL.RequestURI())
		resp, err := http.Get(u.String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(counting.Close)

	dir := t.TempDir()
	st, err := state.Open(filepath.Join(dir, "state"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cu, _ := url.Parse(counting.URL)
	est, _ := limiter.NewEstimates(limiter.Estimate{Site: site.Key(cu), PerDay: 864_000_000, Source: "test: loopback site"})
	lim, err := st.Limiter(limiter.Config{Estimates: est})
	if err != nil {
		t.Fatal(err)
	}
	log, err := crawler.OpenLog(context.Background(), filepath.Join(dir, "audit"), audit.Options{KeyFile: filepath.Join(dir, "key"), Origin: "example.org/goodbot"})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// The scraper server, as the colly program had it, with the
	// constructor changed.
	scraper := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := crawler.New(crawler.Config{
			Contact: "mailto:me@example.org", State: st, Limiter: lim, Sink: log, Logger: quiet,
			AllowURLRevisit: true,
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var title string
		c.OnHTML("title", func(e *colly.HTMLElement) { title = e.Text })
		if err := c.Visit(r.URL.Query().Get("url")); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"title": title})
	}))
	t.Cleanup(scraper.Close)

	for _, c := range []struct{ path, want string }{{"/a", "Alpha"}, {"/b", "Beta"}, {"/a", "Alpha"}} {
		resp, err := http.Get(scraper.URL + "/?url=" + url.QueryEscape(counting.URL+c.path))
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || got["title"] != c.want {
			t.Fatalf("scrape %s: status %d, %v, %v; want title %q", c.path, resp.StatusCode, got, err, c.want)
		}
	}
	robotsMu.Lock()
	n := robots
	robotsMu.Unlock()
	if n != 1 {
		t.Errorf("robots.txt fetched %d times for three scrapes, want once (the state keeps it)", n)
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(context.Background(), filepath.Join(dir, "audit"), audit.VerifyOptions{}); err != nil {
		t.Fatalf("the shared log does not verify: %v", err)
	}
}
