package evidence

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"
	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler"
	"github.com/goodbot/goodbot/internal/site"
	"github.com/goodbot/goodbot/limiter"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/net/html"
)

// planted is personal data the test site serves, in a page and in a URL:
// an e-mail address and a Chinese mobile number. No bundle file may hold
// either.
var planted = []string{"zhang.san@example.cn", "13812345678"}

// realCrawl runs goodbot's crawler against a loopback site with the
// operation log as its sink, and returns the log dir, output dir and site
// key, and the log's signing key.
func realCrawl(t *testing.T) (auditDir, out, key string, signer note.Signer) {
	t.Helper()
	return realCrawlStamped(t, nil)
}

// realCrawlStamped is realCrawl with the log's checkpoints time-stamped by
// ts (none if nil).
func realCrawlStamped(t *testing.T, ts audit.Timestamper) (auditDir, out, key string, signer note.Signer) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "User-agent: *\nDisallow: /private/\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/":
			io.WriteString(w, `<html><head><title>Home</title></head><body><a href="/a">a</a> <a href="/b">b</a> <a href="/private/x">x</a> <a href="/u/`+planted[1]+`?mail=`+planted[0]+`">me</a></body></html>`)
		case "/a":
			fmt.Fprintf(w, `<html><head><title>联系</title></head><body>写信给 %s 或致电 %s <a href="/">home</a></body></html>`, planted[0], planted[1])
		case "/b":
			fmt.Fprintf(w, `<html><head><title>%s</title></head><body>page %s <a href="/">home</a></body></html>`, r.URL.Path, r.URL.Path)
		default:
			http.NotFound(w, r)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	key = site.Key(u)
	// Another site in the same crawl: its entries are withheld from the
	// first site's bundle.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<html><head><title>other</title></head><body>other site</body></html>`)
	}))
	t.Cleanup(other.Close)
	ou, _ := url.Parse(other.URL)

	root := t.TempDir()
	auditDir, out = filepath.Join(root, "out", "audit"), filepath.Join(root, "out")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := audit.Open(auditDir, audit.Options{KeyFile: filepath.Join(root, "keys", "audit.key"), Origin: "goodbot.test/evidence", Logger: quiet, Timestamper: ts})
	if err != nil {
		t.Fatal(err)
	}
	est, err := limiter.ParseTraffic(key + "=864000000")
	if err != nil {
		t.Fatal(err)
	}
	est2, err := limiter.ParseTraffic(site.Key(ou) + "=864000000")
	if err != nil {
		t.Fatal(err)
	}
	ests, err := limiter.NewEstimates(est, est2)
	if err != nil {
		t.Fatal(err)
	}
	lim, err := limiter.NewLocal(limiter.Config{Estimates: ests, Sink: l})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := crawler.New(crawler.Config{
		Contact: "mailto:crawl-ops@example.org", Limiter: lim, Sink: l, Logger: quiet,
		OutDir: out, Job: "evidence-test", Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	for _, seed := range []string{srv.URL + "/", other.URL + "/"} {
		if err := cr.Seed(seed); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := cr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return auditDir, out, key, loadSigner(t, filepath.Join(root, "keys", "audit.key"))
}

func loadSigner(t *testing.T, path string) note.Signer {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRealCrawlExportVerify(t *testing.T) {
	auditDir, out, key, signer := realCrawl(t)
	ctx := context.Background()
	types := map[audit.Type]int{}
	sum, err := audit.Verify(ctx, auditDir, audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		types[e.Event.Type]++
		return nil
	}})
	if err != nil {
		t.Fatalf("the crawl's log does not verify: %v", err)
	}
	t.Logf("log: %s; types %v", sum, types)
	if types[audit.TypeFetch] < 3 || types[audit.TypeDecision] < 3 || types[audit.TypeRobots] < 1 {
		t.Fatalf("log lacks the crawl's events: %v", types)
	}

	bundle := filepath.Join(t.TempDir(), "bundle")
	info, err := Export(ctx, auditDir, bundle, ExportOptions{Site: key, Out: out, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	if info.Pages < 3 || info.Robots != 1 || info.Entries < 6 {
		t.Fatalf("bundle info %+v", info)
	}
	bs, err := VerifyBundle(ctx, bundle)
	if err != nil {
		t.Fatalf("verify-bundle: %v", err)
	}
	t.Log(bs)
	if bs.Proven != info.Entries || bs.Pages != info.Pages || bs.Robots != 1 {
		t.Errorf("bundle summary %+v", bs)
	}
	rep, err := os.ReadFile(filepath.Join(bundle, FileReport))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", key, "How to verify", "robots/", "mailto:crawl-ops@example.org",
		"of the site's estimated traffic", "goodbot's limit 10.0%", "the Art. 16 line 33.3%", "Disallow: /private/",
		"python3 verify.py --key", "Appendix: every request", "robots: disallowed", "counter(page)", "Declared purpose of the crawl", "<code>unspecified</code>", "overflow-wrap:anywhere", info.ID, info.Root, "爬取证据"} {
		if !bytes.Contains(rep, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	if bytes.Contains(rep, []byte("<script")) || bytes.Contains(rep, []byte("http://")) && bytes.Contains(rep, []byte("<link")) {
		t.Error("report is not self-contained")
	}
	checkReportParses(t, rep)
	if _, err := Export(ctx, auditDir, bundle, ExportOptions{Site: key, Out: out, Signer: signer}); err == nil {
		t.Error("export over an existing bundle succeeded")
	}
}

func TestBundleTamperingDetected(t *testing.T) {
	auditDir, out, key, signer := realCrawl(t)
	ctx := context.Background()
	orig := filepath.Join(t.TempDir(), "bundle")
	if _, err := Export(ctx, auditDir, orig, ExportOptions{Site: key, Out: out, Signer: signer}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, dir string)
		want   string
	}{
		{"report edited", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, FileReport), "Crawl evidence", "Crawl evidencE")
		}, "manifest says"},
		{"extra file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("x"), 0o644)
		}, "not in MANIFEST"},
		{"entry edited, manifest redone", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, FileEntries), `"status":200`, `"status":201`)
			writeManifest(dir, signer)
		}, "another entry"},
		{"robots copy edited, manifest redone", func(t *testing.T, dir string) {
			ms, _ := filepath.Glob(filepath.Join(dir, DirRobots, "*.txt"))
			edit(t, ms[0], "Disallow", "Allow")
			writeManifest(dir, signer)
		}, "differs"},
		{"checkpoint replaced", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, FileCheckpoint), "\n\n", "\n\n\u2014 "+strings.Repeat("x", 3)+" AAAA\n")
			writeManifest(dir, signer)
		}, "checkpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "b")
			if err := os.CopyFS(dir, os.DirFS(orig)); err != nil {
				t.Fatal(err)
			}
			tc.mutate(t, dir)
			_, err := VerifyBundle(ctx, dir)
			if err == nil {
				t.Fatal("tampering not detected")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkReportParses parses the report as a browser would (HTML5 tokenizer)
// and its SVG chart as XML, and checks nothing refers outside the bundle.
func checkReportParses(t *testing.T, rep []byte) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(rep))
	if err != nil {
		t.Fatal(err)
	}
	var tables, svgs int
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "table":
			tables++
		case "svg":
			svgs++
		case "script", "link", "img", "iframe":
			t.Errorf("report has a <%s> element", n.Data)
		}
		for _, a := range n.Attr {
			if (a.Key == "href" || a.Key == "src") && (strings.Contains(a.Val, "://") || strings.HasPrefix(a.Val, "/")) {
				t.Errorf("report refers outside the bundle: %s=%q", a.Key, a.Val)
			}
		}
	}
	if tables < 2 || svgs != 1 {
		t.Errorf("report has %d tables and %d charts", tables, svgs)
	}
	i, j := bytes.Index(rep, []byte("<svg")), bytes.Index(rep, []byte("</svg>"))
	d := xml.NewDecoder(bytes.NewReader(rep[i : j+len("</svg>")]))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed SVG: %v", err)
		}
	}
}
