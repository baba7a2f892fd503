package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
)

// site is a loopback site that logs every request.
type testSite struct {
	srv *httptest.Server
	mu  sync.Mutex
	log []hit
}

type hit struct {
	uri, ua string
	at      time.Time
}

func newSite(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *testSite {
	s := &testSite{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.log = append(s.log, hit{r.RequestURI, r.UserAgent(), time.Now()})
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *testSite) hostport() string {
	u, _ := url.Parse(s.srv.URL)
	return u.Host
}

func (s *testSite) hits() []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hit(nil), s.log...)
}

func (s *testSite) count(uri string) int {
	n := 0
	for _, h := range s.hits() {
		if h.uri == uri {
			n++
		}
	}
	return n
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCLIctx(context.Background(), args...)
}

func runCLIctx(ctx context.Context, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCrawlUsageErrors(t *testing.T) {
	outDir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"crawl", "http://127.0.0.1:1/"}, "--contact is required"},
		{[]string{"crawl", "--contact", "me@example.org", "http://127.0.0.1:1/"}, "mailto:"},
		{[]string{"crawl", "--contact", "mailto:me@example.org"}, "no URL to crawl"},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "ftp://x/"}, "scheme"},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "not a url"}, "not absolute"},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "--share", "0.34", "http://127.0.0.1:1/"}, "Article 16"},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "--traffic", "127.0.0.1:1", "http://127.0.0.1:1/"}, "HOST="},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "--traffic", "127.0.0.1:1=lots", "http://127.0.0.1:1/"}, "lots"},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "--ignore-robots", "127.0.0.1:1", "http://127.0.0.1:1/"}, "JUSTIFICATION"},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "--redis", "redis://127.0.0.1:1", "http://127.0.0.1:1/"}, "--job"},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "--redis", "tcp://x", "--job", "j", "--out", "OUTDIR", "http://127.0.0.1:1/"}, "--redis"},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "--redis", "redis://127.0.0.1:1", "--job", "j", "--revisit", "http://127.0.0.1:1/"}, "--revisit are for local mode"},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "--no-such-flag", "http://127.0.0.1:1/"}, "no-such-flag"},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "--purpose", "marketing", "http://127.0.0.1:1/"}, `--purpose "marketing": want one of unspecified, search, research, ai-train, ai-input, archive`},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "--tsa", "ftp://tsa.example/", "http://127.0.0.1:1/"}, "--tsa"},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "--tsa-ca", "ca.pem", "http://127.0.0.1:1/"}, "--tsa-ca needs --tsa"},
		{[]string{"crawl", "--contact", "mailto:me@example.org", "--witness-key-file", "w.key", "http://127.0.0.1:1/"}, "--witness-key-file needs --redis and --job"},
		{[]string{"frobnicate"}, "unknown command"},
	} {
		for i, a := range tc.args {
			if a == "OUTDIR" {
				tc.args[i] = outDir
			}
		}
		code, _, stderr := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("goodbot %v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// The acceptance run: disallowed URLs are never requested, every
// request carries the same honest UA, 401/403 pages are requested once,
// nothing reaches the host inside a 429's Retry-After.
func TestCrawlAcceptance(t *testing.T) {
	var first429 time.Time
	var mu sync.Mutex
	busy := 0
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
		case "/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<a href="/a">a</a><a href="/private/x">x</a><a href="/401">u</a><a href="/403">f</a><a href="/busy">b</a><a href="/b">b</a>`)
		case "/401":
			http.Error(w, "login", 401)
		case "/403":
			http.Error(w, "no", 403)
		case "/busy":
			mu.Lock()
			busy++
			n := busy
			if n == 1 {
				first429 = time.Now()
			}
			mu.Unlock()
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "slow down", 429)
				return
			}
			fmt.Fprint(w, "<p>ok</p>")
		default:
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, "<title>%s</title><p>page %s</p>", r.URL.Path, r.URL.Path)
		}
	})
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "crawl", "--contact", "mailto:me@example.org", "--traffic", s.hostport()+"=864000000",
		"--out", out, "--audit-key", filepath.Join(t.TempDir(), "key"), "--progress", "0", s.srv.URL+"/")
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	want := "goodbot/0.1.0 (+mailto:me@example.org)"
	for _, h := range s.hits() {
		if h.ua != want {
			t.Errorf("%s sent with User-Agent %q", h.uri, h.ua)
		}
		if strings.HasPrefix(h.uri, "/private/") {
			t.Errorf("disallowed %s was requested", h.uri)
		}
		if h.at.After(first429.Add(50*time.Millisecond)) && h.at.Before(first429.Add(950*time.Millisecond)) {
			t.Errorf("%s arrived %s after the 429 with Retry-After: 1", h.uri, h.at.Sub(first429))
		}
	}
	for _, p := range []string{"/401", "/403"} {
		if n := s.count(p); n != 1 {
			t.Errorf("%s requested %d times, want 1", p, n)
		}
	}
	if s.count("/busy") != 2 || s.count("/a") != 1 || s.count("/b") != 1 {
		t.Errorf("requests: %+v", s.hits())
	}
	if !strings.Contains(stdout, "done after") || !strings.Contains(stderr, "cap 86400000/day") {
		t.Errorf("stdout %q stderr %q: want a summary and the site's budget", stdout, stderr)
	}
	pages, err := os.ReadFile(filepath.Join(out, "sites", strings.ReplaceAll(s.hostport(), ":", "_"), "pages.jsonl"))
	if err != nil || bytes.Count(pages, []byte("\n")) != 4 {
		t.Fatalf("stored pages: %v\n%s", err, pages)
	}
}

func TestCrawlRobots503FetchesNothingElse(t *testing.T) {
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.Error(w, "down", 503)
			return
		}
		fmt.Fprint(w, "<p>content</p>")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"crawl", "--contact", "https://example.org/bot", "--traffic", s.hostport() + "=864000000",
		"--out", t.TempDir(), "--audit-key", filepath.Join(t.TempDir(), "key"), "--bot-key", filepath.Join(t.TempDir(), "bot.key"), "--progress", "0", s.srv.URL + "/"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	for _, h := range s.hits() {
		if h.uri != "/robots.txt" {
			t.Fatalf("%s was requested while robots.txt answered 503", h.uri)
		}
	}
}

// SIGINT stops sending, flushes and exits 0 with a summary. This runs the
// real binary.
func TestCrawlInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "goodbot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var links strings.Builder
	for i := range 50 {
		fmt.Fprintf(&links, `<a href="/p%d">p</a>`, i)
	}
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<title>x</title>%s", links.String())
	})
	out := t.TempDir()
	// 4 requests per second: the crawl would take over 10 s.
	cmd := exec.Command(bin, "crawl", "--contact", "mailto:me@example.org", "--traffic", s.hostport()+"=3456000",
		"--out", out, "--audit-key", filepath.Join(t.TempDir(), "key"), "--progress", "0", s.srv.URL+"/")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(s.hits()) < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	sent := time.Now()
	err := cmd.Wait()
	if err != nil {
		t.Fatalf("exit: %v\nstdout %s\nstderr %s", err, stdout.String(), stderr.String())
	}
	for _, h := range s.hits() {
		if h.at.After(sent.Add(100 * time.Millisecond)) {
			t.Errorf("%s sent %s after SIGINT", h.uri, h.at.Sub(sent))
		}
	}
	if !strings.Contains(stdout.String(), "interrupted after") {
		t.Fatalf("no summary on stdout: %s", stdout.String())
	}
	pages, _ := os.ReadFile(filepath.Join(out, "sites", strings.ReplaceAll(s.hostport(), ":", "_"), "pages.jsonl"))
	if bytes.Count(pages, []byte("\n")) < 2 {
		t.Fatalf("pages fetched before SIGINT were not stored: %q", pages)
	}
	// The operation log was closed cleanly and verifies.
	var vout, verr bytes.Buffer
	if code := run(context.Background(), []string{"audit", "verify", filepath.Join(out, "audit")}, &vout, &verr); code != 0 {
		t.Fatalf("goodbot audit verify: exit %d: %s %s", code, vout.String(), verr.String())
	}
	sum, err := audit.Verify(context.Background(), filepath.Join(out, "audit"), audit.VerifyOptions{})
	if err != nil || sum.Entries < 5 {
		t.Fatalf("the operation log of an interrupted crawl: %d entries, %v", sum.Entries, err)
	}
}

func TestCrawlMetrics(t *testing.T) {
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<title>x</title><p>hello</p>")
	})
	// Find a free port for the metrics server.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	done := make(chan int)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	go func() {
		// 1 request a second: the crawl lasts long enough to be scraped.
		done <- run(ctx, []string{"crawl", "--contact", "mailto:me@example.org", "--traffic", s.hostport() + "=864000",
			"--metrics", addr, "--out", t.TempDir(), "--audit-key", filepath.Join(t.TempDir(), "key"), "--progress", "0", s.srv.URL + "/"}, &out, &errb)
	}()
	var body string
	for i := 0; i < 100 && !strings.Contains(body, `goodbot_requests_total{class="ok"`); i++ {
		time.Sleep(50 * time.Millisecond)
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
	}
	cancel()
	<-done
	for _, want := range []string{`goodbot_requests_total{class="ok",site="` + s.hostport() + `"}`, "goodbot_frontier_queued", "goodbot_budget_requests_per_day"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s:\n%s\nstderr %s", want, body, errb.String())
		}
	}
}
