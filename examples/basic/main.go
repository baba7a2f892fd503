// Command basic shows goodbot used as a library: a colly-style crawler with
// the rules built in. With no arguments it crawls goodbot's built-in demo
// site on 127.0.0.1; give it a URL and a contact to crawl a real site:
//
//	go run ./examples/basic
//	go run ./examples/basic -contact mailto:you@example.org https://example.org/
//
// Either way it keeps a signed operation log, by default in goodbot/audit
// under the user's data directory (-audit DIR to put it elsewhere).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/crawler"
	"github.com/goodbot/goodbot/internal/demosite"
	"github.com/goodbot/goodbot/limiter"
)

func main() {
	contact := flag.String("contact", "mailto:demo@example.org", "where site operators reach you")
	auditDir := flag.String("audit", "", "operation log directory (default: goodbot/audit in the user's data directory)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *contact, *auditDir, flag.Arg(0), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run crawls from seed (the demo site when seed is empty), keeping the
// operation log in auditDir (the default when empty), and prints each
// page's title, why any page was not fetched, and where the log is.
func run(ctx context.Context, contact, auditDir, seed string, w io.Writer) error {
	var est []limiter.Estimate
	if seed == "" {
		site, err := demosite.Start()
		if err != nil {
			return err
		}
		defer site.Close()
		seed = site.URL + "/"
		// The demo site states its own traffic; for a real site, give your
		// estimate with its source, or rely on the conservative default.
		e, err := limiter.ParseTraffic(site.Host() + "=8640000")
		if err != nil {
			return err
		}
		est = append(est, e)
	}
	estimates, err := limiter.NewEstimates(est...)
	if err != nil {
		return err
	}
	lim, err := limiter.NewLocal(limiter.Config{Estimates: estimates})
	if err != nil {
		return err
	}

	// With no Sink, the crawler keeps its own signed operation log of
	// every decision and request: in goodbot/audit under the user's data
	// directory (OutDir/audit when OutDir is set), signed with the key in
	// the user's configuration directory. Run closes it.
	c, err := crawler.New(crawler.Config{
		Contact:  contact, // required: goodbot/<version> (+contact) is the User-Agent
		MaxPages: 50,
		Limiter:  lim,
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		AuditDir: auditDir, // "" for the default
	})
	if err != nil {
		return err
	}
	// The usual colly callbacks. Links followed with e.Request.Visit go
	// through goodbot's frontier and gate like every other request
	// (crawler.Config.FollowLinks follows every link the same way, for
	// about a fifth less CPU: goodbot's CLI uses it).
	// Callbacks run concurrently, in several workers: whatever they share
	// (here w) needs a lock.
	var mu sync.Mutex
	c.OnHTML("title", func(e *colly.HTMLElement) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%-50s %s\n", e.Request.URL, strings.TrimSpace(e.Text))
	})
	c.OnHTML("a[href]", func(e *colly.HTMLElement) {
		e.Request.Visit(e.Attr("href"))
	})
	c.OnError(func(r *colly.Response, err error) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%-50s not fetched: %v\n", r.Request.URL, err)
	})
	if err := c.Seed(seed); err != nil {
		return err
	}
	sum, err := c.Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: %d requests sent, %d refused by the rules, %d answered 401/403\n", sum.Reason, sum.Sent, sum.Refused, sum.RefusedBy)
	fmt.Fprintf(w, "operation log in %s; check it with: go run ./cmd/goodbot audit verify %s\n", sum.AuditLog, sum.AuditLog)
	return nil
}
