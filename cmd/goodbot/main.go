// Command goodbot crawls the web lawfully and politely.
//
//	goodbot crawl --contact mailto:you@example.org https://example.org/
//	goodbot audit verify ./goodbot-out/audit
//	goodbot pii scan dump.html
//
// Run "goodbot help" for the commands, and "goodbot COMMAND -h" for a
// command's flags.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/goodbot/goodbot/cmd/goodbot/internal/auditcmd"
	"github.com/goodbot/goodbot/cmd/goodbot/internal/piicmd"
	"github.com/goodbot/goodbot/crawler"
	"github.com/redis/go-redis/v9"
)

func main() {
	// go-redis reports reconnections and failovers through a logger of its
	// own, one per process; send them to stderr as goodbot's other logs.
	redis.SetLogger(redisLogger{slog.New(slog.NewTextHandler(os.Stderr, nil))})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// redisLogger passes go-redis's messages to slog, as warnings: they are
// about connections lost, retried or moved to a new master.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}

const usage = `goodbot %s: crawl the web lawfully and politely.

Usage:
  goodbot crawl --contact URL|mailto:ADDR [flags] URL...   crawl from the seed URLs
  goodbot demo [crawl flags]                               crawl a built-in site on 127.0.0.1
  goodbot audit verify|checkpoint|show|prove|export|verify-bundle ...
                                                           the operation log
  goodbot pii scan|redact ...                              find personal data in files
  goodbot complaint add|list|resolve ...                   stop a site and delete its data
  goodbot serve --contact URL --operator WHO ...           the operator page and complaint form
  goodbot botkey directory|rotate ...                      the key that signs requests (Web Bot Auth)
  goodbot job status --redis URL --job NAME                a distributed job's workers and progress
  goodbot version

Run "goodbot COMMAND -h" for a command's flags.
`

// run is goodbot's main, with its inputs and outputs passed in. It returns
// the exit code: 0 success, 1 failure, 2 bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, usage, crawler.Version)
		return 2
	}
	switch args[0] {
	case "crawl":
		return runCrawl(ctx, args[1:], stdout, stderr)
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "audit":
		return auditcmd.Run(ctx, args[1:], stdout, stderr)
	case "pii":
		return piicmd.Run(ctx, args[1:], stdout, stderr)
	case "complaint":
		return runComplaint(ctx, args[1:], stdout, stderr)
	case "botkey":
		return runBotkey(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "job":
		return runJob(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "goodbot %s\n", crawler.Version)
		return 0
	case "help", "-h", "--help", "-help":
		fmt.Fprintf(stdout, usage, crawler.Version)
		return 0
	default:
		fmt.Fprintf(stderr, "goodbot: unknown command %q\n\n", args[0])
		fmt.Fprintf(stderr, usage, crawler.Version)
		return 2
	}
}
