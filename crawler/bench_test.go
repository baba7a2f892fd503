package crawler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/internal/site"
	"github.com/goodbot/goodbot/limiter"
)

// benchPages is the size of the benchmark site.
const benchPages = 5000

// benchSite serves pages /p/0 ... /p/4999; page i links to 2i+1, 2i+2 and
// i+1, so every page is reachable from /p/0 and most links are seen twice.
func benchSite(b *testing.B) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	filler := strings.Repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>", 40) // ~2.6 KB of text
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			w.Write([]byte("User-agent: *\nDisallow: /private/\n"))
			return
		}
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
		if err != nil {
			http.NotFound(w, r) // the crawler's /.well-known/tdmrep.json
			return
		}
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<html><head><title>Page %d</title></head><body><h1>Page %d</h1>%s", i, i, filler)
		for _, j := range []int{2*i + 1, 2*i + 2, i + 1} {
			if j < benchPages {
				fmt.Fprintf(w, `<a href="/p/%d">next</a> `, j)
			}
		}
		io.WriteString(w, "</body></html>")
	}))
	b.Cleanup(srv.Close)
	return srv, &hits
}

const benchParallel = 8

// BenchmarkCrawl5000 compares goodbot's full gate at a cap that does not
// bind with bare colly at the same parallelism, on the same loopback site.
//
//	go test -run '^$' -bench Crawl5000 -benchtime 3x -count 5 ./crawler/ | tee new.txt
//	benchstat new.txt
func BenchmarkCrawl5000(b *testing.B) {
	b.Run("colly", func(b *testing.B) {
		defer reportCPU(b)()
		for range b.N {
			srv, hits := benchSite(b)
			c := colly.NewCollector(colly.Async(true))
			c.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: benchParallel})
			c.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
			c.Visit(srv.URL + "/p/0")
			c.Wait()
			if hits.Load() != benchPages {
				b.Fatalf("colly fetched %d pages, want %d", hits.Load(), benchPages)
			}
		}
	})
	for _, tc := range []struct {
		name     string
		auditLog bool
	}{{"goodbot", false}, {"goodbot+auditlog", true}} {
		b.Run(tc.name, func(b *testing.B) {
			defer reportCPU(b)()
			var st audit.Stats
			for range b.N {
				srv, hits := benchSite(b)
				u, _ := url.Parse(srv.URL)
				e, _ := limiter.ParseTraffic(site.Key(u) + "=1e12")
				est, _ := limiter.NewEstimates(e)
				var sink audit.Sink = audit.Discard{}
				var alog *audit.Log
				if tc.auditLog {
					dir := b.TempDir()
					var err error
					alog, err = audit.Open(filepath.Join(dir, "audit"), audit.Options{KeyFile: filepath.Join(dir, "key"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
					if err != nil {
						b.Fatal(err)
					}
					sink = alog
				}
				lim, err := limiter.NewLocal(limiter.Config{Estimates: est, Sink: sink})
				if err != nil {
					b.Fatal(err)
				}
				cr, err := New(Config{
					Contact:  "mailto:bench@example.org",
					Parallel: benchParallel,
					Limiter:  lim,
					Sink:     sink,
					Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
				})
				if err != nil {
					b.Fatal(err)
				}
				cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
				cr.Seed(srv.URL + "/p/0")
				sum, err := cr.Run(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if alog != nil {
					if err := alog.Close(); err != nil {
						b.Fatal(err)
					}
					st = alog.Stats()
				}
				if hits.Load() != benchPages || sum.OK < benchPages {
					b.Fatalf("goodbot fetched %d pages (%d ok), want %d", hits.Load(), sum.OK, benchPages)
				}
			}
			if tc.auditLog {
				// The last iteration's log: the group commit figures.
				b.ReportMetric(st.EntriesPerSync(), "entries/fsync")
				b.ReportMetric(float64(st.Syncs)/benchPages, "fsyncs/page")
				b.ReportMetric(float64(st.WaitP50.Microseconds()), "decision-wait-p50-µs")
				b.ReportMetric(float64(st.WaitP99.Microseconds()), "decision-wait-p99-µs")
			}
		})
	}
}

// reportCPU measures the process's CPU time (user and system, the
// loopback site's included, for colly and goodbot alike) from now until
// the returned function is called, and reports it per operation.
func reportCPU(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((cpuTime(b)-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
