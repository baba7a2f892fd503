package job

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/crawler/frontier"
)

// FrontierOptions configures a Frontier. Every worker of a job must use the
// same PerSite, MaxPages and MaxQueued: they are applied by the scripts as
// each call passes them.
type FrontierOptions struct {
	// PerSite is the most leases out at once for one site, across the
	// job. Default 2.
	PerSite int
	// MaxPages stops handing out work once this many leases completed
	// counted across the job, counting those out. 0 means no limit.
	MaxPages int
	// MaxQueued bounds the number of queued items of the job; Add refuses
	// more with frontier.ErrFull. Default 1,000,000.
	MaxQueued int
	// LeaseTTL is how long a lease lasts unless renewed. Default 30s.
	LeaseTTL time.Duration
	// RenewEvery is how often the Frontier renews the leases this process
	// holds. Default LeaseTTL/3. Negative: never (call Renew yourself).
	RenewEvery time.Duration
	// PollMin and PollMax bound the backoff of Next while it waits for
	// work. Defaults 5ms and 250ms.
	PollMin, PollMax time.Duration
	// Timeout bounds each Redis call. Default DefaultTimeout.
	Timeout time.Duration
	// Logger receives warnings. Default slog.Default().
	Logger *slog.Logger
}

// ErrJobLost is returned by Next when the job's state in Redis is gone: the
// epoch the worker joined is missing or another. Redis lost its data (a
// restart without persistence, a flush), so the queue, the seen set and
// the counts are gone too; a worker that went on would report a crawl done
// that was not, or fetch again what was fetched.
var ErrJobLost = errors.New("the job's state in Redis is gone (its epoch is missing or changed: Redis restarted without persistence, or was flushed); this worker stops rather than report the crawl done or start it over. Run Redis with appendonly yes (appendfsync everysec) for jobs")

// ErrLeaseLost is returned by Complete and Retry for a lease that is not
// out: it expired (and its item went back to the frontier) or was ended
// already.
var ErrLeaseLost = fmt.Errorf("job: %w", frontier.ErrLeaseLost)

// Frontier is a frontier.Frontier shared through Redis by every worker of
// a job, with the semantics of frontier.Memory:
//
//   - Add deduplicates in the same script that queues, so an URL is queued
//     once across the job;
//   - sites take turns (a ring of sites that have ready work and a free
//     lease slot), and at most PerSite leases of a site are out across the
//     job;
//   - Next leases an item until LeaseTTL after Redis TIME. The Frontier
//     renews the leases this process holds in the background. A lease
//     that expires (its worker died) is reclaimed by the next call of
//     Next anywhere in the job: its item goes back to the front of its
//     site's queue. While a lease is live, its item is not handed out
//     again;
//   - MaxPages counts completed pages and leases out across the job.
//
// Visited URLs are kept as 14-byte fields of 65,536 small hashes (a 16-byte
// prefix of SHA-256, two bytes of which name the hash), which Redis stores
// compactly; queued items are a compact JSON of frontier.Item (short field
// names, no site: the queue's key names it).
//
// Items keep the NotBefore they were given while delayed; Next returns
// items with NotBefore zero. NotBefore is compared with Redis TIME, so a
// worker whose clock is off delays by its error.
type Frontier struct {
	conn
	opts  FrontierOptions
	meta  string
	epoch string // the job's epoch this worker joined (see ErrJobLost)

	add, seen, next, complete, retry, renew, drop *redis.Script

	mu   sync.Mutex
	held map[string]struct{} // lease ids this process holds

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

var _ frontier.Frontier = (*Frontier)(nil)

// NewFrontier returns the frontier of job in Redis. It starts a goroutine
// renewing this process's leases, which Close stops.
func NewFrontier(c redis.UniversalClient, job string, opts FrontierOptions) (*Frontier, error) {
	cn, err := newConn(c, job, opts.Timeout, opts.Logger)
	if err != nil {
		return nil, err
	}
	if opts.PerSite <= 0 {
		opts.PerSite = 2
	}
	if opts.MaxPages < 0 {
		return nil, fmt.Errorf("job: negative MaxPages %d", opts.MaxPages)
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = 1_000_000
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 30 * time.Second
	}
	if opts.LeaseTTL < time.Millisecond {
		return nil, fmt.Errorf("job: LeaseTTL %v is under 1ms", opts.LeaseTTL)
	}
	if opts.RenewEvery == 0 {
		opts.RenewEvery = opts.LeaseTTL / 3
	}
	if opts.PollMin <= 0 {
		opts.PollMin = 5 * time.Millisecond
	}
	if opts.PollMax <= 0 {
		opts.PollMax = 250 * time.Millisecond
	}
	opts.PollMax = max(opts.PollMax, opts.PollMin)
	if err := agreeOptions(cn, opts); err != nil {
		return nil, err
	}
	epoch, err := joinEpoch(cn)
	if err != nil {
		return nil, err
	}
	f := &Frontier{
		conn:     cn,
		opts:     opts,
		meta:     cn.key("f", "meta"),
		epoch:    epoch,
		add:      redis.NewScript(addScript),
		seen:     redis.NewScript(seenScript),
		next:     redis.NewScript(nextScript),
		complete: redis.NewScript(completeScript),
		retry:    redis.NewScript(retryScript),
		renew:    redis.NewScript(renewScript),
		drop:     redis.NewScript(dropScript),
		held:     make(map[string]struct{}),
		stop:     make(chan struct{}),
	}
	if opts.RenewEvery > 0 {
		f.wg.Add(1)
		go f.renewLoop()
	}
	return f, nil
}

// agreeOptions records the frontier options that must be the same in every
// worker of a job (PerSite, MaxPages, MaxQueued) with the job's first
// worker, and refuses a worker whose options differ: one worker with a
// higher PerSite would put more load on every site than the others agreed.
func agreeOptions(cn conn, opts FrontierOptions) error {
	want := fmt.Sprintf("per_site=%d max_pages=%d max_queued=%d", opts.PerSite, opts.MaxPages, opts.MaxQueued)
	key := cn.key("f", "options")
	got, err := call(context.Background(), &cn, "options", func(ctx context.Context) (string, error) {
		if _, err := cn.c.SetNX(ctx, key, want, 0).Result(); err != nil {
			return "", err
		}
		return cn.c.Get(ctx, key).Result()
	})
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("job %s: this worker's frontier options (%s) differ from the job's (%s): start every worker with the same --parallel and --max-pages", cn.job, want, got)
	}
	return nil
}

// joinEpoch returns the job's epoch, a random mark its first worker sets:
// every Next checks that it is still there and the same.
func joinEpoch(cn conn) (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("job: %w", err)
	}
	key := cn.key("f", "epoch")
	return call(context.Background(), &cn, "epoch", func(ctx context.Context) (string, error) {
		if _, err := cn.c.SetNX(ctx, key, hex.EncodeToString(b[:]), 0).Result(); err != nil {
			return "", err
		}
		return cn.c.Get(ctx, key).Result()
	})
}

// Close stops renewing leases. It does not end them: leases still out
// expire after LeaseTTL and their items go back to the frontier.
func (f *Frontier) Close() error {
	f.stopOnce.Do(func() { close(f.stop) })
	f.wg.Wait()
	return nil
}

func (f *Frontier) renewLoop() {
	defer f.wg.Done()
	t := time.NewTicker(f.opts.RenewEvery)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
			// Errors are logged by do; leases lost are logged by Renew.
			_, _ = f.Renew(context.Background())
		}
	}
}

// run runs sc with the frontier's KEYS and its common arguments.
func (f *Frontier) run(ctx context.Context, op string, sc *redis.Script, args ...any) (any, error) {
	return call(ctx, &f.conn, op, func(ctx context.Context) (any, error) {
		return sc.Run(ctx, f.c, []string{f.meta}, append([]any{f.prefix, f.opts.PerSite}, args...)...).Result()
	})
}

// seenKey returns the bucket and field that record url as visited.
func seenKey(url string) (bucket, field string) {
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:2]), string(sum[2:16])
}

// storedItem is a frontier.Item as a queue holds it: short names, and no
// site (the queue's key names it).
type storedItem struct {
	URL       string    `json:"u"`
	Depth     int       `json:"d,omitempty"`
	Seed      bool      `json:"s,omitempty"`
	From      string    `json:"f,omitempty"`
	Attempt   int       `json:"a,omitempty"`
	NotBefore time.Time `json:"n,omitzero"`
	Collector string    `json:"k,omitempty"`
}

func encodeItem(it frontier.Item) ([]byte, error) {
	return json.Marshal(storedItem{URL: it.URL, Depth: it.Depth, Seed: it.Seed, From: it.From, Attempt: it.Attempt, NotBefore: it.NotBefore, Collector: it.Collector})
}

func decodeItem(site, raw string) (frontier.Item, error) {
	var s storedItem
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return frontier.Item{}, err
	}
	if s.URL == "" || site == "" {
		return frontier.Item{}, fmt.Errorf("item %q of site %q: no URL or site", raw, site)
	}
	return frontier.Item{URL: s.URL, Site: site, Depth: s.Depth, Seed: s.Seed, From: s.From, Attempt: s.Attempt, NotBefore: s.NotBefore, Collector: s.Collector}, nil
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// ErrNotGet is wrapped by the error of Add and AddAll for an item that is
// not a GET without a body (a POST, say): a job's frontier shares its
// items through Redis, where a request body, which may hold personal data
// no filter has checked, is not written. A distributed job crawls by GET.
var ErrNotGet = errors.New("job: frontier: only GET requests are shared through a job (a request body is not written to Redis)")

func checkItem(it frontier.Item) error {
	if it.URL == "" || it.Site == "" {
		return fmt.Errorf("job: frontier: item without URL or site (URL %q, site %q)", it.URL, it.Site)
	}
	if !it.IsGet() {
		m := it.Method
		if m == "" {
			m = "GET with a body"
		}
		return fmt.Errorf("%w: %s %s refused", ErrNotGet, m, it.URL)
	}
	if strings.ContainsAny(it.Site, "\n") {
		return fmt.Errorf("job: frontier: site %q contains a newline", it.Site)
	}
	return nil
}

// Add implements frontier.Frontier.
func (f *Frontier) Add(ctx context.Context, it frontier.Item) (bool, error) {
	if err := checkItem(it); err != nil {
		return false, err
	}
	b, err := encodeItem(it)
	if err != nil {
		return false, fmt.Errorf("job: frontier: encoding %s: %w", it.URL, err)
	}
	bucket, field := seenKey(it.URL)
	v, err := f.run(ctx, "add", f.add, b, it.Site, bucket, field, ms(it.NotBefore), f.opts.MaxQueued)
	if err != nil {
		return false, err
	}
	switch v {
	case int64(1):
		return true, nil
	case int64(-1):
		return false, frontier.ErrFull
	}
	return false, nil
}

// Seen implements frontier.Frontier.
func (f *Frontier) Seen(ctx context.Context, url string) (bool, error) {
	bucket, field := seenKey(url)
	v, err := f.run(ctx, "seen", f.seen, bucket, field)
	if err != nil {
		return false, err
	}
	return v == int64(1), nil
}

// Next implements frontier.Frontier. While no item is ready it polls
// Redis with a backoff between PollMin and PollMax, shortened to the time
// the next delayed item is due or the next lease expires. It returns an
// error wrapping ErrUnavailable as soon as a call fails.
func (f *Frontier) Next(ctx context.Context) (frontier.Lease, error) {
	wait := f.opts.PollMin
	for {
		v, err := f.run(ctx, "next", f.next, f.opts.MaxPages, f.opts.LeaseTTL.Milliseconds(), f.epoch)
		if err != nil {
			return frontier.Lease{}, err
		}
		r, ok := v.([]any)
		if !ok || len(r) == 0 {
			return frontier.Lease{}, fmt.Errorf("job %s: next: %w: unexpected reply %v", f.job, ErrUnavailable, v)
		}
		switch r[0] {
		case "lease":
			if len(r) != 5 {
				break
			}
			id, _ := r[1].(string)
			raw, _ := r[2].(string)
			site, _ := r[4].(string)
			it, err := decodeItem(site, raw)
			if err != nil {
				// Leave the lease to expire: the item goes back.
				return frontier.Lease{}, fmt.Errorf("job %s: next: decoding item of lease %s: %w", f.job, id, err)
			}
			it.NotBefore = time.Time{}
			if n, _ := r[3].(string); n != "0" {
				f.log.LogAttrs(ctx, slog.LevelInfo, "job: reclaimed expired leases", slog.String("job", f.job), slog.String("count", n))
			}
			f.mu.Lock()
			f.held[id] = struct{}{}
			f.mu.Unlock()
			return frontier.Lease{Item: it, ID: id}, nil
		case "done":
			return frontier.Lease{}, frontier.ErrDone
		case "lost":
			return frontier.Lease{}, fmt.Errorf("job %s: %w", f.job, ErrJobLost)
		case "wait":
			d := wait
			if len(r) == 2 {
				if s, _ := r[1].(string); s != "" {
					if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
						d = min(d, max(time.Duration(n)*time.Millisecond, time.Millisecond))
					}
				}
			}
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return frontier.Lease{}, ctx.Err()
			case <-t.C:
			}
			wait = min(2*wait, f.opts.PollMax)
			continue
		}
		return frontier.Lease{}, fmt.Errorf("job %s: next: %w: unexpected reply %v", f.job, ErrUnavailable, v)
	}
}

func (f *Frontier) release(id string) {
	f.mu.Lock()
	delete(f.held, id)
	f.mu.Unlock()
}

// Complete implements frontier.Frontier. It returns an error wrapping
// ErrLeaseLost if the lease is not out.
func (f *Frontier) Complete(ctx context.Context, l frontier.Lease, counted bool) error {
	c := "0"
	if counted {
		c = "1"
	}
	v, err := f.run(ctx, "complete", f.complete, l.ID, c)
	if err != nil {
		return err
	}
	f.release(l.ID)
	if v != int64(1) {
		return fmt.Errorf("job %s: complete lease %s (%s): %w", f.job, l.ID, l.Item.URL, ErrLeaseLost)
	}
	return nil
}

// Retry implements frontier.Frontier. It returns an error wrapping
// ErrLeaseLost if the lease is not out.
func (f *Frontier) Retry(ctx context.Context, l frontier.Lease, notBefore time.Time) error {
	it := l.Item
	it.Attempt++
	it.NotBefore = notBefore
	b, err := encodeItem(it)
	if err != nil {
		return fmt.Errorf("job: frontier: encoding %s: %w", it.URL, err)
	}
	v, err := f.run(ctx, "retry", f.retry, l.ID, b, ms(notBefore))
	if err != nil {
		return err
	}
	f.release(l.ID)
	if v != int64(1) {
		return fmt.Errorf("job %s: retry lease %s (%s): %w", f.job, l.ID, l.Item.URL, ErrLeaseLost)
	}
	return nil
}

// Renew extends every lease this process holds by LeaseTTL and returns
// the ids of those it no longer holds (they expired and were reclaimed).
// The Frontier calls it every RenewEvery.
func (f *Frontier) Renew(ctx context.Context) (lost []string, err error) {
	f.mu.Lock()
	ids := make([]any, 0, len(f.held)+1)
	ids = append(ids, f.opts.LeaseTTL.Milliseconds())
	for id := range f.held {
		ids = append(ids, id)
	}
	f.mu.Unlock()
	if len(ids) == 1 {
		return nil, nil
	}
	v, err := f.run(ctx, "renew", f.renew, ids...)
	if err != nil {
		return nil, err
	}
	r, _ := v.([]any)
	for _, x := range r {
		if id, ok := x.(string); ok {
			lost = append(lost, id)
			f.release(id)
		}
	}
	if len(lost) > 0 {
		f.log.LogAttrs(ctx, slog.LevelWarn, "job: leases lost", slog.String("job", f.job), slog.Any("ids", lost))
	}
	return lost, nil
}

// SiteTaken implements frontier.SiteCounter: the pages of site the job has
// fetched and counted, plus its leases out now, across all workers.
func (f *Frontier) SiteTaken(ctx context.Context, site string) (int, error) {
	vals, err := call(ctx, &f.conn, "site taken", func(ctx context.Context) ([]any, error) {
		return f.c.HMGet(ctx, f.key("f", "pages"), site).Result()
	})
	if err != nil {
		return 0, err
	}
	in, err := call(ctx, &f.conn, "site taken", func(ctx context.Context) ([]any, error) {
		return f.c.HMGet(ctx, f.key("f", "inflight"), site).Result()
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range append(vals, in...) {
		if s, _ := v.(string); s != "" {
			k, err := strconv.Atoi(s)
			if err != nil {
				return 0, fmt.Errorf("job: site taken: malformed counter %q for %s", s, site)
			}
			n += k
		}
	}
	return n, nil
}

// DropSite implements frontier.Frontier, for the whole job.
func (f *Frontier) DropSite(ctx context.Context, site string) (int, error) {
	if site == "" {
		return 0, errors.New("job: frontier: drop: empty site")
	}
	v, err := f.run(ctx, "drop", f.drop, site)
	if err != nil {
		return 0, err
	}
	n, _ := v.(int64)
	return int(n), nil
}

// Stats implements frontier.Frontier: the job's figures.
func (f *Frontier) Stats(ctx context.Context) (frontier.Stats, error) {
	s, err := frontierStats(ctx, &f.conn)
	return s.Stats, err
}

// FrontierStats is a job's frontier with the delayed items counted apart.
type FrontierStats struct {
	frontier.Stats
	Delayed int // of Queued, those waiting for their NotBefore
}

func frontierStats(ctx context.Context, c *conn) (FrontierStats, error) {
	vals, err := call(ctx, c, "stats", func(ctx context.Context) ([]any, error) {
		return c.c.HMGet(ctx, c.key("f", "meta"), "queued", "inflight", "seen", "pages", "delayed").Result()
	})
	if err != nil {
		return FrontierStats{}, err
	}
	n := make([]int, len(vals))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			n[i], _ = strconv.Atoi(s)
		}
	}
	return FrontierStats{Stats: frontier.Stats{Queued: n[0], InFlight: n[1], Seen: n[2], Pages: n[3]}, Delayed: n[4]}, nil
}

// AddAll adds items in one pipelined round trip (each still its own
// atomic script) and reports, for each, whether it was queued. An item
// refused because the frontier is full reports false; the error is then
// frontier.ErrFull. Any other error applies to the whole call: some items
// may have been added.
func (f *Frontier) AddAll(ctx context.Context, items []frontier.Item) ([]bool, error) {
	args := make([][]any, len(items))
	for i, it := range items {
		if err := checkItem(it); err != nil {
			return nil, err
		}
		b, err := encodeItem(it)
		if err != nil {
			return nil, fmt.Errorf("job: frontier: encoding %s: %w", it.URL, err)
		}
		bucket, field := seenKey(it.URL)
		args[i] = []any{f.prefix, f.opts.PerSite, b, it.Site, bucket, field, ms(it.NotBefore), f.opts.MaxQueued}
	}
	res, err := call(ctx, &f.conn, "add all", func(ctx context.Context) ([]any, error) {
		out := make([]any, len(items))
		todo := make([]int, len(items))
		for i := range todo {
			todo[i] = i
		}
		for attempt := 0; len(todo) > 0; attempt++ {
			p := f.c.Pipeline()
			cmds := make([]*redis.Cmd, len(todo))
			for j, i := range todo {
				cmds[j] = f.add.EvalSha(ctx, p, []string{f.meta}, args[i]...)
			}
			p.Exec(ctx) // errors are per command
			var again []int
			for j, i := range todo {
				v, err := cmds[j].Result()
				if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") && attempt == 0 {
					again = append(again, i)
					continue
				}
				if err != nil {
					return nil, err
				}
				out[i] = v
			}
			if len(again) > 0 {
				if err := f.add.Load(ctx, f.c).Err(); err != nil {
					return nil, err
				}
			}
			todo = again
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	added := make([]bool, len(items))
	var full error
	for i, v := range res {
		added[i] = v == int64(1)
		if v == int64(-1) {
			full = frontier.ErrFull
		}
	}
	return added, full
}
