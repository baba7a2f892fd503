package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/audit/tsa"
	"github.com/goodbot/goodbot/audit/witness"
	"github.com/goodbot/goodbot/cmd/goodbot/internal/cliflag"
	"github.com/goodbot/goodbot/crawler"
	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/crawler/state"
	usagepref "github.com/goodbot/goodbot/crawler/usage"
	"github.com/goodbot/goodbot/internal/redisconn"
	"github.com/goodbot/goodbot/internal/site"
	"github.com/goodbot/goodbot/job"
	"github.com/goodbot/goodbot/limiter"
	"github.com/goodbot/goodbot/metrics"
	"github.com/goodbot/goodbot/pii"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// crawlOptions are the parsed flags of "goodbot crawl".
type crawlOptions struct {
	contact      string
	out          string
	auditDir     string
	auditKey     string
	tsaURL       string
	tsaCA        string
	witnessKey   string
	botKey       string
	botDirectory string
	noBotAuth    string
	origin       string
	maxPages     int
	maxDepth     int
	maxPerSite   int
	maxSiteShare float64
	parallel     int
	share        float64
	traffic      listFlag
	trafficFile  string
	rankFile     string
	agreements   listFlag
	allowHosts   listFlag
	ignoreRobots listFlag
	followRel    listFlag
	denyFile     string
	deny         []string // read from denyFile
	redis        string
	job          string
	timeout      time.Duration
	maxBody      int64
	progress     time.Duration
	metricsAddr  string
	leaseTTL     time.Duration
	horizon      time.Duration
	verbose      bool
	store        string
	purpose      string
	stateDir     string
	fresh        bool
	revisit      bool
	seeds        []string
}

func parseCrawlFlags(args []string, stderr io.Writer) (*crawlOptions, error) {
	o := &crawlOptions{}
	fs := flag.NewFlagSet("goodbot crawl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.contact, "contact", "", "required: URL or mailto: address where site operators reach you; sent in the User-Agent (and From)")
	fs.StringVar(&o.out, "out", "./goodbot-out", "output directory: pages under OUT/sites/<site>/")
	fs.StringVar(&o.auditDir, "audit", "", "operation log directory (default OUT/audit)")
	fs.StringVar(&o.auditKey, "audit-key", "", "operation log signing key, kept outside the log (default: one per --origin in the user config directory)")
	fs.StringVar(&o.tsaURL, "tsa", "", "RFC 3161 time-stamping authority URL: every signed checkpoint of the operation log is time-stamped there (tokens in AUDIT/checkpoints.tsr); an outage never stops the crawl")
	fs.StringVar(&o.witnessKey, "witness-key-file", "", "with --job: the Redis witness cosigns each checkpoint (C2SP tlog-cosignature) with this key (goodbot audit witness-key), after checking it extends the last one cosigned")
	fs.StringVar(&o.tsaCA, "tsa-ca", "", "with --tsa: PEM file of the TSA's CA certificates; tokens that do not chain to them are refused when issued")
	fs.StringVar(&o.botKey, "bot-key", "", "key that signs every request (Web Bot Auth), PKCS#8 PEM, generated with mode 0600 when missing; kept outside OUT, apart from the operation log's key (default: one per key directory in the user config directory)")
	fs.StringVar(&o.botDirectory, "bot-directory", "", "https origin serving your key directory at /.well-known/http-message-signatures-directory, named in each request's Signature-Agent (default: the --contact URL's origin when it is https; with a mailto: contact requests are signed only when this is set); publish it with: goodbot botkey directory")
	fs.StringVar(&o.noBotAuth, "no-bot-auth", "", "do not sign requests, and record this reason")
	fs.StringVar(&o.origin, "origin", "", "name of a new operation log, in its checkpoints and its key (default: the contact's domain + /goodbot, e.g. example.org/goodbot; + /JOB/WORKER in a job); an existing log keeps its name")
	fs.IntVar(&o.maxPages, "max-pages", 0, "stop after this many pages (0: no limit)")
	fs.IntVar(&o.maxDepth, "max-depth", 0, "follow links at most this deep, counting as colly's MaxDepth: a seed is at depth 1, so 1 crawls the seeds only (0: no limit)")
	fs.IntVar(&o.maxPerSite, "max-pages-per-site", 0, "stop a site after this many pages (0: no limit)")
	fs.Float64Var(&o.maxSiteShare, "max-site-share", 0, "stop a site after this share of the pages its sitemaps list (0 < F <= 1; 0: no limit)")
	fs.IntVar(&o.parallel, "parallel", 2, "most requests in flight per host")
	fs.Float64Var(&o.share, "share", limiter.DefaultShare, "fraction of each site's estimated daily traffic the crawl may use (0 < F < 1/3)")
	fs.Var(&o.traffic, "traffic", "HOST=N: the site's estimated average daily requests (repeatable; HOST is host or host:port)")
	fs.StringVar(&o.trafficFile, "traffic-file", "", "CSV of host,requests_per_day,source")
	fs.StringVar(&o.rankFile, "rank-file", "", "popularity rank list (CrUX origin,rank or Tranco rank,domain) for sites without --traffic")
	fs.Var(&o.agreements, "agreement", "HOST=N,REF: the site's operator agreed in writing to N requests a day; REF names the agreement (repeatable)")
	fs.Var(&o.allowHosts, "allow-host", "HOST: links to this host may be followed too (repeatable)")
	fs.Var(&o.ignoreRobots, "ignore-robots", "HOST=JUSTIFICATION: ignore robots.txt for HOST, e.g. because its operator agreed in writing; logged (repeatable)")
	fs.Var(&o.followRel, "follow-rel-nofollow", "HOST=JUSTIFICATION: follow links marked rel=nofollow, ugc or sponsored on HOST's pages; logged (repeatable)")
	fs.StringVar(&o.denyFile, "deny-file", "", "FILE: hosts never contacted, one host or *.suffix a line (# comments), in addition to the built-in denylist printed below")
	fs.StringVar(&o.redis, "redis", "", "Redis URL for distributed mode: redis://host:port/db; a cluster redis+cluster://host:port?addr=host2:port; Sentinel redis+sentinel://sentinel:26379?master_name=NAME")
	fs.StringVar(&o.job, "job", "", "job name; workers with the same --redis and --job share one crawl")
	fs.DurationVar(&o.leaseTTL, "lease-ttl", 30*time.Second, "distributed mode: how long a dead worker's URLs stay leased before others take them")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.DurationVar(&o.horizon, "horizon", crawler.DefaultHorizon, "stop when all the work left is deferred further than this (a site's budget, a hold, a retry); the summary says what waits until when, and a rerun on the same --out resumes it (local mode only)")
	fs.Int64Var(&o.maxBody, "max-body", 10<<20, "largest response body accepted, in bytes")
	fs.DurationVar(&o.progress, "progress", 5*time.Second, "interval of the progress line on stderr (0: none)")
	fs.StringVar(&o.metricsAddr, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9090)")
	fs.BoolVar(&o.verbose, "v", false, "log every decision and request to stderr")
	fs.StringVar(&o.purpose, "purpose", "", "what the collected pages are for: "+purposeList()+"; a page whose usage preferences (Content-Usage, Content-Signal, TDMRep) reserve it is fetched and its links followed, but it is not stored (default unspecified: any reservation of any use keeps a page from being stored)")
	fs.StringVar(&o.stateDir, "state", "", "crawl state directory, so that a rerun on the same --out resumes: queue, seen URLs, robots.txt, limiter (default OUT/state; local mode only)")
	fs.BoolVar(&o.fresh, "fresh", false, "discard the crawl state and start over (recorded in the operation log; what earlier runs sent still counts against each site's budget); the stored pages' validators are kept, for --revisit")
	fs.BoolVar(&o.revisit, "revisit", false, "revisit the pages earlier runs on this --out stored, with conditional requests (If-None-Match, If-Modified-Since with the validators the site sent; see Revisits in the README): a 304 Not Modified stores nothing and is logged as a revisit, its page is a leaf; a changed page is stored again and its links followed; a page its sitemap's lastmod dates before the stored copy is not asked for; the summary gives the bytes the sites were spared; works with --fresh, which keeps the validators (local mode only)")
	fs.StringVar(&o.store, "store", "clean", "what of each page to store: clean (visible text and the DOM without scripts, styles, comments or event handlers) or full (the whole page as the personal-data filter left it)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: goodbot crawl --contact URL|mailto:ADDR [flags] URL...\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nThere is no flag to set another User-Agent, rotate identities, forge headers or\n"+
			"use proxies: courts have convicted scrapers who disguised themselves to get round\n"+
			"a site's limits. goodbot always says who it is, and whom to contact.\n")
		fmt.Fprintf(stderr, "\nBuilt-in denylist, refused at the gate whatever the flags (no relaxation lifts it):\n")
		for _, e := range crawler.BuiltinDeny() {
			fmt.Fprintf(stderr, "  %s: %s\n", e.Pattern, e.Why)
		}
	}
	// Flags may follow the seeds; "--" ends them.
	seeds, err := cliflag.Parse(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err.Error()}
	}
	o.seeds = seeds
	if o.denyFile != "" {
		if o.deny, err = crawler.ReadDenyFile(o.denyFile); err != nil {
			return nil, usagef("--deny-file: %v", err)
		}
	}
	if o.contact == "" {
		return nil, usagef("--contact is required: goodbot identifies itself honestly, so that a site operator can reach whoever runs the crawl.\nGive a URL (--contact https://example.org/bot) or an address (--contact mailto:you@example.org)")
	}
	if _, _, err := crawler.ParseContact(o.contact); err != nil {
		return nil, usageError{err.Error()}
	}
	if len(o.seeds) == 0 {
		return nil, usagef("no URL to crawl: give one or more seed URLs")
	}
	for _, s := range o.seeds {
		if _, err := crawler.NormalizeURL(s); err != nil {
			return nil, usageError{err.Error()}
		}
	}
	if err := limiter.CheckShare(o.share); err != nil {
		return nil, usagef("--share: %v", err)
	}
	if o.parallel < 1 || o.parallel > 64 {
		return nil, usagef("--parallel %d: want 1 to 64", o.parallel)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"max-pages", o.maxPages}, {"max-depth", o.maxDepth}, {"max-pages-per-site", o.maxPerSite}} {
		if f.v < 0 {
			return nil, usagef("--%s %d: must not be negative (0: no limit)", f.name, f.v)
		}
	}
	// Written so that NaN fails too.
	if !(o.maxSiteShare >= 0 && o.maxSiteShare <= 1) {
		return nil, usagef("--max-site-share %v: want a share of the site's pages, 0 < F <= 1 (0: no limit)", o.maxSiteShare)
	}
	if o.maxBody <= 0 || o.maxBody > maxBodyLimit {
		return nil, usagef("--max-body %d: want a positive number of bytes, at most %d (1 GiB)", o.maxBody, int64(maxBodyLimit))
	}
	if o.timeout <= 0 {
		return nil, usagef("--timeout %v: want a duration above 0", o.timeout)
	}
	if o.horizon <= 0 {
		return nil, usagef("--horizon %v: want a duration above 0 (a long one, e.g. 720h, to wait for slowly paced sites)", o.horizon)
	}
	if o.leaseTTL < time.Millisecond {
		return nil, usagef("--lease-ttl %v: want a duration of at least 1ms", o.leaseTTL)
	}
	if o.progress < 0 {
		return nil, usagef("--progress %v: must not be negative (0: no progress line)", o.progress)
	}
	if o.out == "" {
		return nil, usagef("--out must not be empty")
	}
	if _, err := usagepref.ParsePurpose(o.purpose); err != nil {
		return nil, usagef("--purpose %q: want one of %s", o.purpose, purposeList())
	}
	if _, err := crawler.ParseStoreMode(o.store); err != nil {
		return nil, usagef("--store %q: want clean or full", o.store)
	}
	if o.auditDir == "" {
		o.auditDir = filepath.Join(o.out, "audit")
	}
	if o.tsaURL != "" {
		if u, err := url.Parse(o.tsaURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, usagef("--tsa %q: want an http or https URL", o.tsaURL)
		}
	} else if o.tsaCA != "" {
		return nil, usagef("--tsa-ca needs --tsa")
	}
	if o.witnessKey != "" && o.job == "" {
		return nil, usagef("--witness-key-file needs --redis and --job: the witness is the job's Redis")
	}
	if (o.redis == "") != (o.job == "") {
		return nil, usagef("--redis and --job go together")
	}
	if o.redis != "" && (o.stateDir != "" || o.fresh || o.revisit) {
		return nil, usagef("--state, --fresh and --revisit are for local mode: with --redis the job's state is in Redis")
	}
	if o.stateDir == "" {
		o.stateDir = filepath.Join(o.out, "state")
	}
	return o, nil
}

// byteCount writes n bytes for people: "512 bytes", "1.5 MiB (1572864 bytes)".
func byteCount(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	v, unit := float64(n)/1024, "KiB"
	for _, u := range []string{"MiB", "GiB", "TiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	return fmt.Sprintf("%.1f %s (%d bytes)", v, unit, n)
}

// maxBodyLimit is the largest --max-body accepted: 1 GiB.
const maxBodyLimit = 1 << 30

// estimates builds the traffic estimates from the flags.
func (o *crawlOptions) estimates() (*limiter.Estimates, error) {
	est, err := limiter.NewEstimates()
	if err != nil {
		return nil, err
	}
	if o.rankFile != "" {
		es, err := limiter.LoadRankFile(o.rankFile)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		for _, e := range es {
			if err := est.Add(e); err != nil {
				return nil, usageError{err.Error()}
			}
		}
	}
	if o.trafficFile != "" {
		es, err := limiter.LoadTrafficFile(o.trafficFile)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		for _, e := range es {
			if err := est.Add(e); err != nil {
				return nil, usageError{err.Error()}
			}
		}
	}
	for _, t := range o.traffic {
		e, err := limiter.ParseTraffic(t)
		if err != nil {
			return nil, usagef("--traffic %q: %v", t, err)
		}
		if err := est.Add(e); err != nil {
			return nil, usageError{err.Error()}
		}
	}
	for _, a := range o.agreements {
		host, rest, ok := strings.Cut(a, "=")
		n, ref, ok2 := strings.Cut(rest, ",")
		if !ok || !ok2 {
			return nil, usagef("--agreement %q: want HOST=REQUESTS_PER_DAY,REFERENCE", a)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err != nil {
			return nil, usagef("--agreement %q: requests per day %q is not a number", a, n)
		}
		e, err := limiter.Agreement(strings.TrimSpace(host), v, strings.TrimSpace(ref))
		if err != nil {
			return nil, usagef("--agreement %q: %v", a, err)
		}
		if err := est.Add(e); err != nil {
			return nil, usageError{err.Error()}
		}
	}
	return est, nil
}

func (o *crawlOptions) relaxations() ([]crawler.Relaxation, error) {
	var out []crawler.Relaxation
	for _, f := range []struct {
		kind crawler.RelaxationKind
		vals listFlag
	}{{crawler.IgnoreRobots, o.ignoreRobots}, {crawler.FollowRelNofollow, o.followRel}} {
		for _, r := range f.vals {
			host, why, ok := strings.Cut(r, "=")
			if !ok || strings.TrimSpace(why) == "" {
				return nil, usagef("--%s %q: want HOST=JUSTIFICATION, e.g. example.com=\"written permission from ops@example.com, 2026-11-01\"", f.kind, r)
			}
			k, err := site.Parse(strings.TrimSpace(host))
			if err != nil {
				return nil, usageError{err.Error()}
			}
			out = append(out, crawler.Relaxation{Kind: f.kind, Site: k, Justification: strings.TrimSpace(why)})
		}
	}
	return out, nil
}

func runCrawl(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseCrawlFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "goodbot crawl: %v\n", err)
		return 2
	}
	if err := crawl(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "goodbot crawl: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

func crawl(ctx context.Context, o *crawlOptions, stdout, stderr io.Writer) error {
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	est, err := o.estimates()
	if err != nil {
		return err
	}
	relax, err := o.relaxations()
	if err != nil {
		return err
	}
	var rc redis.UniversalClient
	if o.redis != "" {
		var topo redisconn.Topology
		rc, topo, err = openRedis(ctx, o.redis)
		if err != nil {
			return err
		}
		defer rc.Close()
		logger.Info("job on Redis", "redis", redisconn.Redact(o.redis), "topology", topo.String(), "job", o.job)
		warnPersistence(ctx, rc, logger)
	}

	// The operation log.
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	workerID, err := workerID(o.out)
	if err != nil {
		return err
	}
	origin, keyFile, newLog, err := logIdentity(o.auditDir, o.origin, o.auditKey, o.contact, o.job, workerID)
	if err != nil {
		return err
	}
	if err := checkBotKey(o.botKey, keyFile, o.auditDir); err != nil {
		return err
	}
	// In local mode the crawl's state is on disk, so that a rerun resumes
	// where this one stops.
	var st *state.Store
	if rc == nil {
		st, err = state.Open(o.stateDir, state.Options{Fresh: o.fresh, Holder: "goodbot crawl --out " + o.out, Logger: logger})
		if err != nil {
			return err
		}
		defer st.Close()
	}
	// What earlier runs on this --out sent is in their operation log, the
	// source of truth for it: a restarted crawl charges it again, so that
	// the budget holds across restarts (Redis keeps it for jobs), and the
	// pages a crashed run requested after the state's last sync are not
	// requested again.
	var earlier map[string]*crawler.Earlier
	if rc == nil {
		pagesSince := crawler.ReplaySince(st)
		if earlier, err = crawler.FromLog(ctx, o.auditDir, time.Now().Add(-crawler.ResumeWindow), pagesSince); err != nil {
			return fmt.Errorf("operation log %s: %w", o.auditDir, err)
		}
	}
	aopts := audit.Options{KeyFile: keyFile, Origin: origin, Logger: logger}
	if o.tsaURL != "" {
		c := &tsa.Client{URL: o.tsaURL}
		if o.tsaCA != "" {
			if c.Roots, err = tsa.LoadRoots(o.tsaCA); err != nil {
				return usagef("--tsa-ca: %v", err)
			}
		}
		aopts.Timestamper = c
	}
	if rc != nil {
		// Each checkpoint is published to the job's Redis, so that every
		// worker's log is witnessed by the others.
		w := witness.Redis{Client: rc, Prefix: witness.JobPrefix(o.job)}
		if o.witnessKey != "" {
			b, err := os.ReadFile(o.witnessKey)
			if err != nil {
				return usagef("--witness-key-file: %v", err)
			}
			// The witness runs in the worker's process, so it takes the
			// worker's log signature as given; what it adds is the
			// consistency check against what it cosigned before, kept in
			// Redis, and a signature by a key of its own.
			if w.Cosigner, err = witness.NewCosigner(string(b), nil); err != nil {
				return usagef("--witness-key-file %s: %v", o.witnessKey, err)
			}
		}
		aopts.Anchor = w
	}
	// OpenLog also prunes segments past the retention period.
	alog, err := crawler.OpenLog(ctx, o.auditDir, aopts)
	if err != nil {
		return err
	}
	if newLog {
		fmt.Fprintf(stderr, "goodbot: new operation log %s, named %s, signed with %s\n  its public key: %s\n  publish it; a verifier pins it with: goodbot audit verify --key %s %s\n",
			o.auditDir, origin, keyFile, alog.PublicKey(), alog.PublicKey(), o.auditDir)
	}
	var sink audit.Sink = alog
	if o.verbose {
		sink = teeSink{alog, audit.SlogSink{Logger: logger}}
	}
	var mx *metrics.Metrics
	if o.metricsAddr != "" {
		mx = metrics.New()
		sink = mx.Sink(sink)
	}
	lcfg := limiter.Config{Share: o.share, Estimates: est, Sink: sink, Logger: logger}
	var lim limiter.Limiter
	if rc != nil {
		var rl *limiter.Redis
		rl, err = limiter.NewRedis(rc, o.job, lcfg)
		if err == nil {
			defer rl.Close()
			lim = rl
		}
	} else {
		var ll *limiter.Local
		if ll, err = st.Limiter(lcfg); err == nil {
			lim = ll
			resume(ctx, ll, sink, earlier, logger)
		}
	}
	if err != nil {
		alog.Close()
		return usageError{err.Error()}
	}
	cfg := crawler.Config{
		FollowLinks:     true,
		Contact:         o.contact,
		BotKeyFile:      o.botKey,
		BotDirectory:    o.botDirectory,
		NoBotAuth:       o.noBotAuth,
		AllowedHosts:    o.allowHosts,
		MaxDepth:        o.maxDepth,
		MaxPages:        o.maxPages,
		MaxPagesPerSite: o.maxPerSite,
		MaxSiteShare:    o.maxSiteShare,
		Parallel:        o.parallel,
		MaxBodySize:     o.maxBody,
		Timeout:         o.timeout,
		Horizon:         o.horizon,
		Limiter:         lim,
		Sink:            sink,
		Logger:          logger,
		OutDir:          o.out,
		Store:           crawler.StoreMode(o.store),
		Purpose:         usagepref.Purpose(o.purpose),
		Relaxations:     relax,
		Deny:            o.deny,
		Job:             o.job,
		Revisit:         o.revisit,
	}
	// What the workers of a job share, or the single machine's complaint
	// board.
	var board job.Board
	var redisJob *jobParts
	if rc != nil {
		redisJob, err = openJob(rc, o, workerID, logger)
		if err != nil {
			alog.Close()
			return err
		}
		defer redisJob.close()
		cfg.Frontier, cfg.StopList, cfg.RobotsShared = redisJob.frontier, redisJob.stop, redisJob.robots
		board = redisJob.complaints
	} else {
		fc, err := job.OpenFileComplaints(o.out)
		if err != nil {
			alog.Close()
			return fmt.Errorf("complaint board: %w", err)
		}
		cfg.StopList = fc
		board = fc
		filter, err := pii.New(pii.Config{})
		if err != nil {
			alog.Close()
			return err
		}
		cfg.Filter = crawler.PIIFilter(filter)
		cfg.State = st
		front, rec, err := st.Frontier(state.FrontierOptions{
			Options:   frontier.Options{PerSite: o.parallel, MaxPages: o.maxPages},
			Sent:      crawler.SentBefore(earlier),
			Clean:     crawler.CleanURL(cfg.Filter),
			CleanBody: crawler.CleanBody(cfg.Filter),
		})
		if err != nil {
			alog.Close()
			return fmt.Errorf("crawl state %s: %w", o.stateDir, err)
		}
		cfg.Frontier = front
		recordState(ctx, sink, st, rec, o, stderr)
	}
	cr, err := crawler.New(cfg)
	if err != nil {
		alog.Close()
		return usageError{err.Error()}
	}
	if mx != nil {
		stop, err := serveMetrics(ctx, o.metricsAddr, mx, cr, logger)
		if err != nil {
			alog.Close()
			return usageError{err.Error()}
		}
		defer stop()
	}

	seedSites := map[string]bool{}
	for _, s := range o.seeds {
		if err := cr.Seed(s); err != nil {
			alog.Close()
			return usageError{err.Error()}
		}
		u, _ := url.Parse(s)
		if nu, err := crawler.NormalizeURL(u.String()); err == nil {
			seedSites[site.Key(nu)] = true
		}
	}
	fmt.Fprintf(stderr, "goodbot: User-Agent %q\n", cr.UserAgent())
	sites := make([]string, 0, len(seedSites))
	for s := range seedSites {
		sites = append(sites, s)
	}
	for _, s := range o.allowHosts {
		if k, err := site.Parse(s); err == nil && !seedSites[k] {
			sites = append(sites, k)
		}
	}
	sort.Strings(sites)
	for _, s := range sites {
		fmt.Fprintf(stderr, "goodbot: %s\n", est.Lookup(s).Line(o.share))
	}

	var wg sync.WaitGroup
	progCtx, stopProgress := context.WithCancel(ctx)
	if o.progress > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var jobLine func(context.Context) string
			if redisJob != nil {
				jobLine = redisJob.progressLine
			}
			progress(progCtx, cr, o.progress, stderr, jobLine)
		}()
	}
	// Complaints: apply each one this worker has not applied yet (those
	// that came while it was offline first), and confirm it on the board.
	wg.Add(1)
	go func() {
		defer wg.Done()
		if redisJob != nil {
			redisJob.serve(progCtx, cr)
			return
		}
		watchFileComplaints(progCtx, board, workerID, cr, logger)
	}()
	sum, runErr := cr.Run(ctx)
	stopProgress()
	wg.Wait()
	closeErr := alog.Close()

	fmt.Fprintf(stdout, "goodbot: %s after %s: %d pages stored, %d requests sent, %d refused by the rules, %d refused by sites (401/403), %d holds (429/503), %d errors\n",
		sum.Reason, sum.Elapsed.Round(time.Millisecond), sum.Pages, sum.Sent, sum.Refused, sum.RefusedBy, sum.Holds, sum.Errors)
	if o.revisit || sum.Revisits > 0 {
		fmt.Fprintf(stdout, "goodbot: revisits: %d pages unchanged (304 Not Modified, nothing stored), %s of page bodies the sites were spared sending; %d not asked for, their sitemaps dating them before the stored copy\n",
			sum.Revisits, byteCount(sum.Spared), sum.Unchanged)
	}
	for s, why := range sum.Stopped {
		fmt.Fprintf(stdout, "goodbot: stopped %s: %s\n", s, why)
	}
	for _, s := range slices.Sorted(maps.Keys(sum.Deferred)) {
		d := sum.Deferred[s]
		why := ""
		if d.Reason != "" {
			why = " (" + d.Reason + ")"
		}
		fmt.Fprintf(stdout, "goodbot: deferred %s: %d URLs wait until %s%s, beyond --horizon %s; to get them sooner give the site's traffic (--traffic %s=REQUESTS_PER_DAY, with your estimate's source), or wait with a longer --horizon; a rerun on the same --out resumes them\n",
			s, d.Count, d.Until.UTC().Format(time.RFC3339), why, o.horizon, s)
	}
	if sum.Dropped > 0 || sum.Unreadable > 0 {
		fmt.Fprintf(stdout, "goodbot: not stored: %d pages dropped by the personal-data filter (sensitive categories, types that cannot be scanned), %d pages that could not be read; the operation log has each with its reason and digest\n",
			sum.Dropped, sum.Unreadable)
	}
	fmt.Fprintf(stdout, "goodbot: pages in %s, operation log in %s\n", filepath.Join(o.out, "sites"), o.auditDir)
	return errors.Join(runErr, closeErr)
}

// serveMetrics serves mx on addr until the returned function is called.
func serveMetrics(ctx context.Context, addr string, mx *metrics.Metrics, cr *crawler.Crawler, logger *slog.Logger) (func(), error) {
	frontierStat := func(f func(frontier.Stats) int) func() float64 {
		return func() float64 {
			c, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			defer cancel()
			st, err := cr.Frontier().Stats(c)
			if err != nil {
				return math.NaN()
			}
			return float64(f(st))
		}
	}
	mx.Gauge("goodbot_frontier_queued", "URLs queued, ready or deferred.", frontierStat(func(s frontier.Stats) int { return s.Queued }))
	mx.Gauge("goodbot_frontier_in_flight", "URLs leased to workers.", frontierStat(func(s frontier.Stats) int { return s.InFlight }))
	mx.Gauge("goodbot_pages_stored", "Pages stored by this process.", func() float64 { return float64(cr.Summary().Pages) })
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", mx.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server failed", "err", err)
		}
	}()
	logger.Info("serving metrics", "url", "http://"+l.Addr().String()+"/metrics")
	return func() {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(c)
	}, nil
}

// progress prints a line to w every interval until ctx ends: the crawl's
// totals, then one line per site (at most maxProgressSites) with its budget,
// the estimate and its source, the interval in force and any hold.
func progress(ctx context.Context, cr *crawler.Crawler, every time.Duration, w io.Writer, jobLine func(context.Context) string) {
	t := time.NewTicker(every)
	defer t.Stop()
	start := time.Now()
	lastSent, last := 0, start
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s := cr.Summary()
			fs, _ := cr.Frontier().Stats(ctx)
			rate := float64(s.Sent-lastSent) / now.Sub(last).Seconds()
			lastSent, last = s.Sent, now
			var b strings.Builder
			fmt.Fprintf(&b, "goodbot: %s: %d pages, %d sent, %.1f req/s, %d queued, %d in flight\n",
				now.Sub(start).Round(time.Second), s.Pages, s.Sent, rate, fs.Queued, fs.InFlight)
			if jobLine != nil {
				b.WriteString(jobLine(ctx))
			}
			sites := cr.Sites()
			for i, site := range sites {
				if i == maxProgressSites {
					fmt.Fprintf(&b, "  ... and %d more sites\n", len(sites)-i)
					break
				}
				st, err := cr.Limiter().Status(ctx, site)
				if err != nil {
					fmt.Fprintf(&b, "  %s: limiter status unavailable: %v\n", site, err)
					continue
				}
				fmt.Fprintf(&b, "  %s: budget %.0f/day (%.0f%% of %.0f/day, %s), one request every %s, %d today",
					site, st.BudgetPerDay, 100*st.BudgetPerDay/st.EstimatePerDay, st.EstimatePerDay, st.Source,
					st.Interval.Round(time.Millisecond), st.SentToday)
				if st.HoldUntil.After(now) {
					fmt.Fprintf(&b, ", PAUSED for %s", st.HoldUntil.Sub(now).Round(time.Second))
				}
				if why, ok := s.Stopped[site]; ok {
					fmt.Fprintf(&b, ", STOPPED: %s", why)
				}
				b.WriteByte('\n')
			}
			io.WriteString(w, b.String())
		}
	}
}

// maxProgressSites bounds the per-site lines of the progress output.
const maxProgressSites = 8

// workerID returns the id of the worker writing to the output directory
// out, creating it on first use: it names the worker's operation log, which
// must keep its name from run to run.
func workerID(out string) (string, error) {
	p := filepath.Join(out, "worker-id")
	b, err := os.ReadFile(p)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if id != "" && !strings.ContainsAny(id, " /+\t\n") {
			return id, nil
		}
		return "", fmt.Errorf("%s: malformed worker id %q", p, id)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	id := hex.EncodeToString(r[:])
	if err := os.WriteFile(p, []byte(id+"\n"), 0o644); err != nil {
		return "", err
	}
	return id, nil
}

// defaultOrigin names a new operation log after the operator (see
// crawler.DefaultOrigin), and, in a distributed job, where each worker
// keeps its own log, the job and the worker id.
func defaultOrigin(contact, job, worker string) string {
	o := crawler.DefaultOrigin(contact)
	if job != "" {
		o = crawler.CleanOrigin(o + "/" + job + "/" + worker)
	}
	return o
}

// logIdentity chooses the operation log's origin and signing key file. An
// existing log keeps its origin (logs of earlier versions too, whatever
// they are named); a new one takes --origin, or defaultOrigin. The key file
// is --audit-key or, by default, one per origin in the user config
// directory, so that a default key's name is its log's origin. A key whose
// name is not the origin of a new log is refused.
func logIdentity(auditDir, flagOrigin, keyFlag, contact, job, worker string) (origin, keyFile string, isNew bool, err error) {
	existing, err := audit.LogOrigin(auditDir)
	if err != nil {
		return "", "", false, fmt.Errorf("operation log %s: %w", auditDir, err)
	}
	switch {
	case existing != "" && flagOrigin != "" && flagOrigin != existing:
		return "", "", false, usageError{fmt.Sprintf("--origin %s: the operation log in %s is named %s; a log keeps its name (use another --out for a new log)", flagOrigin, auditDir, existing)}
	case existing != "":
		origin = existing
	case flagOrigin != "":
		origin = flagOrigin
	default:
		origin = defaultOrigin(contact, job, worker)
	}
	if strings.ContainsAny(origin, "+ \t\r\n") || origin == "" {
		return "", "", false, usageError{fmt.Sprintf("--origin %q: want a name without spaces or '+', e.g. example.org/goodbot", origin)}
	}
	keyFile = keyFlag
	if keyFile == "" {
		if keyFile, err = crawler.KeyFileFor(origin, existing != ""); err != nil {
			return "", "", false, err
		}
	}
	if existing == "" {
		if b, err := os.ReadFile(keyFile); err == nil {
			if name := audit.KeyName(string(b)); name != origin {
				return "", "", false, usageError{fmt.Sprintf("the signing key %s is named %s, but the new log's origin is %s: they must be the same name; pass --origin %s, or another --audit-key (a new file is generated with the right name)", keyFile, name, origin, name)}
			}
		}
	}
	return origin, keyFile, existing == "", nil
}

// warnPersistence warns when the job's state would not survive a restart
// of Redis: neither append-only files nor snapshots are on. A server that
// refuses CONFIG (managed services often do) is not second-guessed.
func warnPersistence(ctx context.Context, rc redis.UniversalClient, logger *slog.Logger) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	m, err := rc.ConfigGet(cctx, "appendonly").Result()
	if err != nil {
		return
	}
	sv, err := rc.ConfigGet(cctx, "save").Result()
	if err != nil {
		return
	}
	if m["appendonly"] != "yes" && strings.TrimSpace(sv["save"]) == "" {
		logger.Warn("Redis keeps the job's state in memory only (appendonly no, no save points): a restart loses the job, and every worker will stop; run it with appendonly yes and appendfsync everysec")
	}
}

// recordState records in the operation log, and says on stderr, how this
// run took up the crawl state.
func recordState(ctx context.Context, sink audit.Sink, st *state.Store, rec state.Recovered, o *crawlOptions, stderr io.Writer) {
	e := &audit.State{Action: "new", Dir: o.stateDir, Queued: rec.Queued, Seen: rec.Seen, Pages: rec.Pages, Settled: rec.Settled, Requeued: rec.Requeued}
	switch d := st.Discarded(); {
	case st.Resumed():
		e.Action = "resume"
		e.Reason = fmt.Sprintf("resumed the crawl state created %s: %d URLs queued, %d seen, %d pages fetched", st.Created().UTC().Format(time.RFC3339), rec.Queued, rec.Seen, rec.Pages)
		if rec.Settled+rec.Requeued > 0 {
			e.Reason += fmt.Sprintf("; of the %d requests a stopped run had in hand, %d were sent as this log says and are not sent again, %d are queued again", rec.Settled+rec.Requeued, rec.Settled, rec.Requeued)
		}
		fmt.Fprintf(stderr, "goodbot: %s (--fresh starts over)\n", e.Reason)
	case d != nil:
		e.Action = "fresh"
		e.Reason = fmt.Sprintf("--fresh: discarded the crawl state created %s (%d URLs queued, %d seen, %d pages fetched), keeping the validators of %d pages stored for revisits; requests earlier runs sent still count against each site's budget", d.Created.UTC().Format(time.RFC3339), d.Queued, d.Seen, d.Pages, d.Kept)
		fmt.Fprintf(stderr, "goodbot: %s\n", e.Reason)
	}
	sink.Record(ctx, audit.Event{Type: audit.TypeState, Time: time.Now().UTC(), State: e})
}

// resume charges the limiter with what earlier runs sent and the holds
// sites asked for, and records it.
func resume(ctx context.Context, l *limiter.Local, sink audit.Sink, earlier map[string]*crawler.Earlier, logger *slog.Logger) {
	for s, er := range earlier {
		if len(er.Sent) == 0 && er.HoldUntil.IsZero() {
			continue
		}
		l.Resume(s, er.Sent, er.HoldUntil)
		reason := ""
		if n := len(er.Sent); n > 0 {
			last := slices.MaxFunc(er.Sent, time.Time.Compare)
			reason = fmt.Sprintf("%d requests sent by earlier runs in the last %v, the last at %s, are charged to this run's budget", n, crawler.ResumeWindow, last.UTC().Format(time.RFC3339))
		}
		if !er.HoldUntil.IsZero() {
			reason = strings.TrimPrefix(reason+"; the site's hold until "+er.HoldUntil.UTC().Format(time.RFC3339)+" still holds", "; ")
		}
		logger.Info("budget resumed from the operation log", "site", s, "requests", len(er.Sent), "hold_until", er.HoldUntil)
		sink.Record(ctx, audit.Event{Type: audit.TypeBudget, Time: time.Now().UTC(), Site: s, Budget: &audit.Budget{Change: "resume", Reason: reason, HoldUntil: er.HoldUntil}})
	}
}

// teeSink records to a durable sink and then to a second one.
type teeSink struct {
	first  audit.Sink // the operation log
	second audit.Sink // a logger
}

func (t teeSink) Record(ctx context.Context, e audit.Event) error {
	if err := t.first.Record(ctx, e); err != nil {
		return err
	}
	return t.second.Record(ctx, e)
}

func (t teeSink) Append(ctx context.Context, e audit.Event) error {
	add := t.first.Record
	if as, ok := t.first.(audit.AsyncSink); ok {
		add = as.Append
	}
	if err := add(ctx, e); err != nil {
		return err
	}
	return t.second.Record(ctx, e)
}

// openRedis connects to the Redis of a distributed job, named by a --redis
// URL: one server, a cluster or Sentinel (see package redisconn). A bad URL
// is a usage error.
func openRedis(ctx context.Context, raw string) (redis.UniversalClient, redisconn.Topology, error) {
	rc, topo, err := redisconn.Open(ctx, raw, 5*time.Second)
	if errors.Is(err, redisconn.ErrBadURL) {
		return nil, topo, usagef("--redis: %v", err)
	}
	if err != nil {
		return nil, topo, fmt.Errorf("--redis: %w", err)
	}
	return rc, topo, nil
}

// purposeList lists the purposes --purpose takes.
func purposeList() string {
	var names []string
	for _, p := range usagepref.Purposes() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}
