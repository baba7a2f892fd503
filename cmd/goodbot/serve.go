package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/botauth"
	"github.com/goodbot/goodbot/crawler"
	"github.com/goodbot/goodbot/job"
	"github.com/goodbot/goodbot/limiter"
	"github.com/goodbot/goodbot/operator"
)

const serveUsage = `Usage:
  goodbot serve --contact URL --operator WHO --purpose TEXT --handle-within D
                (--out DIR | --redis URL --job NAME --proof-audit DIR) [flags]

Serves the page the crawl's contact URL points to: who operates the crawler,
its purpose, User-Agent and addresses, how to opt out, the Web Bot Auth key
directory, and a complaint form. A complaint goes onto the job's complaint
board and stops every worker at once; its data is deleted when the
complainant proves control of the site (a token at
/.well-known/goodbot-complaint/RECEIPT, fetched through the gate), or when
a person runs "goodbot complaint resolve".
`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return exitCode(serve(ctx, args, stdout, stderr, serveTest{}), "goodbot serve", serveUsage, stderr)
}

// serveTest holds what only tests change: proofs over plain http, from
// loopback sites.
type serveTest struct {
	proofScheme  string
	allowPrivate bool
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, test serveTest) error {
	fs := flag.NewFlagSet("goodbot serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serveUsage); fs.PrintDefaults() }
	var bf boardFlags
	bf.register(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (put a TLS reverse proxy in front)")
	contact := fs.String("contact", "", "the crawl's --contact: it gives the User-Agent shown, and identifies the proof fetches")
	who := fs.String("operator", "", "who operates the crawler (organisation, how to reach it)")
	purpose := fs.String("purpose", "", "what the crawl is for")
	addresses := fs.String("addresses", "", "comma-separated addresses or networks the crawler sends from")
	within := fs.Duration("handle-within", 0, "the time within which you promise to handle a complaint, e.g. 72h (no law sets one; you do)")
	botDir := fs.String("bot-directory", "", "https origin of the Web Bot Auth key directory (default: the --contact URL's origin)")
	botKey := fs.String("bot-key", "", "the request-signing key (default: the one goodbot crawl uses)")
	noBotAuth := fs.String("no-bot-auth", "", "do not sign proof fetches, for this reason")
	proofAudit := fs.String("proof-audit", "", "operation log of the proof fetches (default OUT/serve-audit)")
	proofKey := fs.String("proof-audit-key", "", "signing key of that log")
	crawlAudit := fs.String("crawl-audit", "", "comma-separated crawl operation logs the status page reads (default OUT/audit)")
	noProof := fs.Bool("no-proof", false, "do not fetch proofs: every complaint waits for goodbot complaint resolve")
	if _, err := parseArgs(fs, args, 0, "no argument besides the flags"); err != nil {
		return err
	}
	ua, _, err := crawler.ParseContact(*contact)
	if err != nil {
		return usagef("--contact: %v", err)
	}
	switch {
	case strings.TrimSpace(*who) == "":
		return usagef("--operator is required: the page says who runs the crawler")
	case strings.TrimSpace(*purpose) == "":
		return usagef("--purpose is required: the page says what the crawl is for")
	case *within <= 0:
		return usagef("--handle-within is required: the time you promise to handle a complaint in, e.g. 72h")
	}
	if *proofAudit == "" {
		if bf.out == "" {
			return usagef("--proof-audit DIR is required with --redis: the proof fetches are recorded in an operation log of their own")
		}
		*proofAudit = filepath.Join(bf.out, "serve-audit")
	}
	var crawlLogs []string
	switch {
	case *crawlAudit != "":
		crawlLogs = splitList(*crawlAudit)
	case bf.out != "":
		crawlLogs = []string{filepath.Join(bf.out, "audit")}
	}
	board, redisBoard, release, err := bf.open(ctx)
	if err != nil {
		return err
	}
	defer release()

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg := operator.Config{Board: board, Operator: *who, Purpose: *purpose, UserAgent: ua,
		Addresses: splitList(*addresses), HandleWithin: *within, AuditDirs: crawlLogs, Logger: logger,
		ProofScheme: test.proofScheme, AllowPrivate: test.allowPrivate}
	// A proven complaint deletes at once: the running crawl, or the
	// workers, apply it as they apply "goodbot complaint add"; with no
	// crawl running on --out, it is applied here, as complaint add does.
	cfg.Confirmed = func(ctx context.Context, c job.Complaint) error {
		return waitApplied(ctx, bf, c, board, redisBoard, 10*time.Second, io.Discard)
	}

	dirURL := *botDir
	if dirURL == "" && *noBotAuth == "" {
		dirURL = crawler.DefaultBotDirectory(*contact)
	}
	if dirURL != "" && *noBotAuth == "" {
		origin, file, err := botkeyTarget(*contact, dirURL, *botKey)
		if err != nil {
			return usagef("%v", err)
		}
		if err := checkBotKey(file, *proofKey, *proofAudit); err != nil {
			return err
		}
		cfg.KeyDirectory = botauth.DirectoryHandler(func() ([]*botauth.Key, error) {
			return botauth.DirectoryKeys(file, time.Now())
		}, 0)
		logger.Info("serving the key directory", "origin", origin, "key", file)
	}
	if !*noProof {
		origin, keyFile, _, err := logIdentity(*proofAudit, "", *proofKey, *contact, bf.job, "serve")
		if err != nil {
			return err
		}
		alog, err := crawler.OpenLog(ctx, *proofAudit, audit.Options{KeyFile: keyFile, Origin: origin, Logger: logger})
		if err != nil {
			return fmt.Errorf("proof operation log: %w", err)
		}
		defer alog.Close()
		est, err := limiter.NewEstimates()
		if err != nil {
			return err
		}
		lim, err := limiter.NewLocal(limiter.Config{Estimates: est, Sink: alog, Logger: logger})
		if err != nil {
			return err
		}
		cfg.Prove = operator.GateProver(crawler.Config{Contact: *contact, BotDirectory: *botDir, BotKeyFile: *botKey,
			NoBotAuth: *noBotAuth, Sink: alog, Limiter: lim, Logger: logger, Job: bf.job})
	}
	h, err := operator.New(cfg)
	if err != nil {
		return usageError{err.Error()}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usagef("--addr %s: %v", *addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 90 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	fmt.Fprintf(stdout, "goodbot serve: listening on http://%s/\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
