package limiter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Limiter whose state lives in Redis, shared by every worker
// of every process that uses the same job name. Each decision is one call
// of one Lua script that reserves the next free slot of the site and
// returns how long to wait (reservation, not refuse-and-retry); the clock
// is the Redis server's TIME. Ordinary answers (Observe without a 429 or
// 503) are summed up in the process and applied by the site's next
// reservation, so that a request costs one call in steady state; holds,
// robots.txt and estimates are a second script, called at once.
//
// A grant is good for half an interval after its slot (Grant.Latest): a
// worker that wakes later, on a loaded machine, gives the slot back and
// reserves again rather than send its request bunched with the next one,
// from this process or another. Slots are an interval apart, so what a
// site sees in any window of W is at most W/T + 1 requests, at any number
// of workers and processes (plus the spread of the network's delay). A
// worker gives up to three late slots back in a row; after that the
// lateness is the machine's steady delay, which shifts every request
// alike, and the grant stands. A site's state
// is a packed string of what every reservation needs,
// "goodbot:{JOB:SITE}:hot", and a hash of the rest, "goodbot:{JOB:SITE}",
// whose hash tag keeps both in one slot of a Redis Cluster (see script.go).
//
// Redis fails closed: when a call fails or takes longer than
// Config.Timeout, Wait returns an error wrapping ErrUnavailable and grants
// nothing.
type Redis struct {
	s       *settings
	c       redis.UniversalClient
	job     string
	ttl     int64 // ms
	reserve *redis.Script
	update  *redis.Script

	// nowOverride replaces Redis TIME (tests of the script arithmetic).
	nowOverride int64
	// retakes counts the late slots Wait gave back (the soak harness
	// reports it).
	retakes atomic.Int64

	// clock is Redis's clock minus ours. It turns a call's deadline into
	// Redis time, and a slot into this process's time.
	clock clockOffset

	subOnce sync.Once
	pubsub  *redis.PubSub // hold announcements of every process of the job

	mu    sync.Mutex
	seen  map[string]bool     // sites whose initial event this process recorded
	holds map[string]int64    // latest hold this process knows of, per site
	batch map[string]obsBatch // ordinary observations not yet sent, per site
	wake  chan struct{}       // closed, and replaced, when a hold is announced
}

var (
	_ Limiter = (*Redis)(nil)
	_ Retaker = (*Redis)(nil)
)

var jobName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)

// NewRedis returns a limiter keeping its state in Redis through client,
// under the job name job (letters, digits, '_', '.', '-'). Every process
// crawling under the same job name shares the sites' budgets.
// Config.Now is not used: the clock is Redis's.
func NewRedis(client redis.UniversalClient, job string, cfg Config) (*Redis, error) {
	if client == nil {
		return nil, errors.New("limiter: NewRedis: nil client")
	}
	if !jobName.MatchString(job) {
		return nil, fmt.Errorf("limiter: job name %q: want 1 to 100 letters, digits, '_', '.' or '-'", job)
	}
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	return &Redis{
		s:       s,
		c:       client,
		job:     job,
		ttl:     max((2*s.DayLength + s.MaxHold).Milliseconds(), 1),
		reserve: redis.NewScript(reserveScript),
		update:  redis.NewScript(updateScript),
		seen:    make(map[string]bool),
		holds:   make(map[string]int64),
		batch:   make(map[string]obsBatch),
		wake:    make(chan struct{}),
	}, nil
}

// holdChannel is the Pub/Sub channel on which holds are announced.
func (r *Redis) holdChannel() string { return "goodbot:holds:" + r.job }

// subscribe starts listening to hold announcements, once. Workers sleeping
// on a reservation wake when a hold for their site arrives, from any
// process, and re-reserve after it. If the subscription cannot be made the
// limiter still works; a hold then reaches this process's sleeping workers
// only through its own Observe calls, and every worker at its next Wait.
func (r *Redis) subscribe(ctx context.Context) {
	r.subOnce.Do(func() {
		ps := r.c.Subscribe(context.WithoutCancel(ctx), r.holdChannel())
		cctx, cancel := context.WithTimeout(ctx, r.s.Timeout)
		defer cancel()
		if _, err := ps.Receive(cctx); err != nil {
			r.s.Logger.LogAttrs(ctx, slog.LevelWarn, "limiter: cannot subscribe to hold announcements", slog.String("error", err.Error()))
		}
		r.mu.Lock()
		r.pubsub = ps
		r.mu.Unlock()
		go r.listen(ps.Channel())
	})
}

func (r *Redis) listen(ch <-chan *redis.Message) {
	for m := range ch {
		site, v, ok := strings.Cut(m.Payload, " ")
		hold, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			continue
		}
		r.noteHold(site, int64(hold))
	}
}

// Close sends the observations not yet sent (best effort, within
// Config.Timeout each) and stops listening to hold announcements. It does
// not close the Redis client.
func (r *Redis) Close() error {
	r.mu.Lock()
	sites := make([]string, 0, len(r.batch))
	for site := range r.batch {
		sites = append(sites, site)
	}
	r.mu.Unlock()
	for _, site := range sites {
		r.flush(context.Background(), site)
	}
	r.mu.Lock()
	ps := r.pubsub
	r.pubsub = nil
	r.mu.Unlock()
	r.subOnce.Do(func() {}) // never subscribe after Close
	if ps != nil {
		return ps.Close()
	}
	return nil
}

// Key returns the Redis key holding site's state: the hash of what
// reservations seldom read; Key(site)+":hot" holds the rest.
func (r *Redis) Key(site string) string { return "goodbot:{" + r.job + ":" + site + "}" }

// args returns a script's arguments for site. The whole state is asked for
// until this process has recorded the site's initial event.
func (r *Redis) args(site string, extra ...any) []any {
	in := r.s.estimateFor(r.s.Estimates.Lookup(site))
	r.mu.Lock()
	full := !r.seen[site]
	r.mu.Unlock()
	return append(scriptArgs(r.nowOverride, r.s.p, r.ttl, in, full), extra...)
}

// clockOffset estimates Redis's clock minus this process's, in µs, from
// the time in the replies. A reply's time is known to within half its
// call's round trip, so the estimate is the quickest recent call's: a
// slower one replaces it only when it is slower by less than the older
// one's age allows (1 µs per ms, for drift). A reply a busy process read
// late thus does not move the estimate.
type clockOffset struct {
	mu  sync.Mutex
	off int64
	rtt int64
	at  time.Time // zero until a reply came
}

func (c *clockOffset) note(off, rtt int64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || rtt <= c.rtt+now.Sub(c.at).Milliseconds() {
		c.off, c.rtt, c.at = off, rtt, now
	}
}

// get returns the estimate, and false before any reply came.
func (c *clockOffset) get() (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.off, !c.at.IsZero()
}

// SendWindow is how long after its slot a grant of the Redis limiter may
// still be used (Grant.Latest): half the interval, and at least 5 ms, which
// a loaded machine's late wake-ups often exceed at shorter intervals. Sent
// within the window, requests whose slots are an interval apart reach a
// site at most W/T + 1 in any window W when the window is under T, and
// at most 0.5% above that for W ≥ 1 s when it is 5 ms.
func SendWindow(interval time.Duration) time.Duration {
	return max(interval/2, 5*time.Millisecond)
}

// maxRetakes is how many late slots in a row one Wait gives back.
const maxRetakes = 3

func (r *Redis) run(ctx context.Context, sc *redis.Script, site, what string, head int, args []any) (scriptReply, error) {
	cctx, cancel := context.WithTimeout(ctx, r.s.Timeout)
	defer cancel()
	// go-redis honours a context's deadline only with ContextTimeoutEnabled;
	// otherwise it waits for its ReadTimeout. Enforce Timeout either way.
	type result struct {
		v   []string
		err error
	}
	done := make(chan result, 1)
	if sc == r.reserve {
		// ARGV[9], before the reservation's own argument.
		var deadline int64
		if off, ok := r.clock.get(); ok {
			dl, _ := cctx.Deadline()
			deadline = dl.UnixMicro() + off
		}
		args = slices.Insert(args, 8, any(fmtInt(deadline)))
	}
	keys := []string{r.Key(site), r.Key(site) + ":hot"}
	sent := time.Now()
	go func() {
		v, err := replyStrings(sc.Run(cctx, r.c, keys, args...))
		done <- result{v, err}
	}()
	var v []string
	var err error
	select {
	case res := <-done:
		v, err = res.v, res.err
	case <-cctx.Done():
		err = cctx.Err()
	}
	if err != nil {
		if ctx.Err() != nil {
			return scriptReply{}, ctx.Err()
		}
		r.s.Logger.LogAttrs(ctx, slog.LevelWarn, "limiter: redis unavailable", slog.String("site", site), slog.String("op", what), slog.String("error", err.Error()))
		return scriptReply{}, fmt.Errorf("limiter: %s: %s: %w: %w", site, what, ErrUnavailable, err)
	}
	rep, err := parseReply(v, head)
	if err != nil {
		return scriptReply{}, fmt.Errorf("limiter: %s: %s: %w: %w", site, what, ErrUnavailable, err)
	}
	if r.nowOverride == 0 {
		back := time.Now()
		rtt := back.Sub(sent)
		r.clock.note(rep.now-sent.Add(rtt/2).UnixMicro(), rtt.Microseconds(), back)
	}
	if sc == r.reserve && len(rep.head) > 0 && rep.head[0] == "2" {
		return scriptReply{}, fmt.Errorf("limiter: %s: %s: %w: answered after the deadline", site, what, ErrUnavailable)
	}
	return rep, nil
}

// Wait implements Limiter. It costs one Redis call per grant, which also
// carries the observations of the site made since this process's last
// reservation; one more when ctx ends during the sleep, when this process
// learns of a hold that covers the slot, or when it woke too late for the
// slot (each gives the reservation back).
func (r *Redis) Wait(ctx context.Context, site string) (Grant, error) {
	start := time.Now()
	retakes := 0
	for {
		if err := ctx.Err(); err != nil {
			return Grant{}, err
		}
		r.subscribe(ctx)
		wake := r.wakeup()
		b := r.takeBatch(site)
		rep, err := r.run(ctx, r.reserve, site, "reserve", 7, r.args(site, b.pack()))
		if err != nil {
			r.putBatch(site, b)
			return Grant{}, err
		}
		h := make([]int64, 7)
		for i := range h {
			if h[i], err = headInt(rep.head, i); err != nil {
				return Grant{}, fmt.Errorf("limiter: %s: %w: %w", site, ErrUnavailable, err)
			}
		}
		ok, flags, slot, t, until, limit := h[0] == 1, h[1], h[2], h[3], h[4], h[6]
		r.noteHold(site, rep.st.Hold)
		first, err := r.events(ctx, site, &rep, flags)
		if err == nil && first && flags&1 == 0 { // another process created the state
			err = r.agree(ctx, site, rep.st.Budget)
		}
		if err == nil && flags&(8|16) != 0 {
			c := change{Kind: "faster", Reason: "site healthy again"}
			if flags&8 != 0 {
				c = change{Kind: "slower", Reason: slowReason(&rep.st)}
			}
			err = r.s.record(ctx, site, rep.now, &rep.st, c)
		}
		if err != nil {
			if ok {
				r.cancel(site, slot, t)
			}
			return Grant{}, err
		}
		if !ok {
			return Grant{}, &ExhaustedError{Site: site, Limit: limit, Until: time.UnixMicro(until).UTC()}
		}
		// The slot in this process's clock (run noted the offset).
		off, _ := r.clock.get()
		local := time.UnixMicro(slot - off)
		if dl, has := ctx.Deadline(); has && local.After(dl) {
			r.cancel(site, slot, t)
			return Grant{}, &LaterError{Site: site, At: local.UTC()}
		}
		if err := r.sleep(ctx, site, slot, time.Until(local), wake); err != nil {
			r.cancel(site, slot, t)
			return Grant{}, err
		}
		if r.heldAt(site, slot) {
			r.cancel(site, slot, t)
			continue
		}
		latest := local.Add(SendWindow(durationMicros(t)))
		if time.Now().After(latest) && retakes < maxRetakes {
			// Woke too late: sent now, the request would reach the site
			// bunched with the next slot's.
			retakes++
			r.retakes.Add(1)
			r.cancel(site, slot, t)
			continue
		}
		return Grant{At: time.UnixMicro(slot), Waited: time.Since(start), Interval: durationMicros(t), Latest: latest}, nil
	}
}

// Retake implements Retaker: it gives g back and waits for a new grant.
func (r *Redis) Retake(ctx context.Context, site string, g Grant) (Grant, error) {
	r.cancel(site, g.At.UnixMicro(), g.Interval.Microseconds())
	return r.Wait(ctx, site)
}

// sleep sleeps for d, or until ctx ends, or until a hold covering slot is
// announced.
func (r *Redis) sleep(ctx context.Context, site string, slot int64, d time.Duration, wake <-chan struct{}) error {
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tm.C:
			return nil
		case <-wake:
			if r.heldAt(site, slot) {
				return nil // the caller sees the hold and re-reserves
			}
			wake = r.wakeup()
		}
	}
}

// agree applies this process's estimate for site when it gives a lower
// budget than the one in Redis, which another process set: when processes
// of a job disagree, the most conservative estimate wins.
func (r *Redis) agree(ctx context.Context, site string, budget float64) error {
	e := r.s.Estimates.Lookup(site)
	if r.s.estimateFor(e).Budget >= budget {
		return nil
	}
	if e.Kind == KindDefault {
		// Lookup's default carries no time; the Estimate is still valid.
		e.At = time.Now().UTC()
	}
	return r.SetEstimate(ctx, e)
}

// events records the initial event, the first time this process sees the
// site, and the promoted one; it reports whether this was the first time.
// The returned state is the whole state when it was the first time.
func (r *Redis) events(ctx context.Context, site string, rep *scriptReply, flags int64) (bool, error) {
	r.mu.Lock()
	first := !r.seen[site]
	r.seen[site] = true
	r.mu.Unlock()
	var err error
	if first && !rep.full {
		// A short reply to a call made while an earlier first event was
		// being recorded, which then failed: read the whole state.
		var st scriptReply
		if st, err = r.run(ctx, r.update, site, "status", 1, r.args(site, "status")); err == nil {
			rep.st, rep.full = st.st, true
		}
	}
	if err == nil && first {
		err = r.s.record(ctx, site, rep.now, &rep.st, change{Kind: "initial"})
	}
	if err == nil && flags&4 != 0 {
		err = r.s.record(ctx, site, rep.now, &rep.st, change{Kind: "estimate", Reason: reasonPromoted})
	}
	if err != nil {
		r.mu.Lock()
		delete(r.seen, site)
		r.mu.Unlock()
	}
	return first, err
}

func (r *Redis) noteHold(site string, hold int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if hold > r.holds[site] {
		r.holds[site] = hold
		close(r.wake)
		r.wake = make(chan struct{})
	}
}

func (r *Redis) wakeup() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wake
}

func (r *Redis) heldAt(site string, slot int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.holds[site] > slot
}

// cancel gives back a reservation, best effort: if Redis cannot be reached
// the slot simply stays used, which errs on the side of sending less.
func (r *Redis) cancel(site string, slot, t int64) {
	ctx := context.Background()
	r.run(ctx, r.update, site, "cancel", 1, r.args(site, "cancel", fmtInt(slot), fmtInt(t)))
}

// Observe implements Limiter. An answer that asks for a hold (429, 503)
// goes to Redis at once, and reaches every process of the job; any other
// is added to this process's batch for the site, which its next
// reservation (or Status, or Close) applies.
func (r *Redis) Observe(ctx context.Context, site string, o Observation) error {
	a, err := r.s.observation(o)
	if err != nil {
		return fmt.Errorf("%w (site %s)", err, site)
	}
	if a.Status != 429 && a.Status != 503 {
		r.mu.Lock()
		b := r.batch[site]
		b.add(a)
		r.batch[site] = b
		r.mu.Unlock()
		return nil
	}
	e := "0"
	if a.Err {
		e = "1"
	}
	rep, err := r.run(ctx, r.update, site, "observe", 2, r.args(site, "obs",
		fmtInt(a.Status), fmtInt(a.Latency), fmtInt(a.RetryAfter), e, fmtNum(a.Jitter), r.holdChannel(), site))
	if err != nil {
		return err
	}
	r.noteHold(site, rep.st.Hold)
	c := change{Kind: rep.head[0]}
	switch c.Kind {
	case "hold":
		c.Reason = holdReason(a, rep.st.K, rep.st.Hold-rep.now)
	case "slower":
		c.Reason = slowReason(&rep.st)
	case "faster":
		c.Reason = "site healthy again"
	}
	return r.changed(ctx, site, rep, c)
}

// changed records the initial event, if the script created the state or
// this process has not seen the site, and c.
func (r *Redis) changed(ctx context.Context, site string, rep scriptReply, c change) error {
	var flags int64
	if rep.head[1] == "1" {
		flags = 1
	}
	if _, err := r.events(ctx, site, &rep, flags); err != nil {
		return err
	}
	return r.s.record(ctx, site, rep.now, &rep.st, c)
}

// SetRobotsDelay implements Limiter.
func (r *Redis) SetRobotsDelay(ctx context.Context, site string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("limiter: %s: negative robots.txt delay %v", site, d)
	}
	rep, err := r.run(ctx, r.update, site, "robots", 2, r.args(site, "robots", fmtInt(d.Microseconds())))
	if err != nil {
		return err
	}
	c := change{Kind: rep.head[0]}
	if c.Kind != "" {
		c.Reason = robotsReason(d.Microseconds())
	}
	return r.changed(ctx, site, rep, c)
}

// SetEstimate applies a new estimate for e.Site to every process of the
// job: a lower budget at once, a higher one from the next day.
func (r *Redis) SetEstimate(ctx context.Context, e Estimate) error {
	if err := e.Validate(); err != nil {
		return err
	}
	a := r.s.estimateFor(e)
	rep, err := r.run(ctx, r.update, e.Site, "estimate", 2, r.args(e.Site, "estimate", packEstimate(a), a.Source))
	if err != nil {
		return err
	}
	c := change{}
	switch rep.head[0] {
	case "estimate:lower":
		c = change{Kind: "estimate", Reason: reasonLower}
	case "estimate:raise":
		c = change{Kind: "estimate", Reason: reasonRaise}
	}
	return r.changed(ctx, e.Site, rep, c)
}

// takeBatch removes and returns site's observations not yet sent.
func (r *Redis) takeBatch(site string) obsBatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.batch[site]
	delete(r.batch, site)
	return b
}

// putBatch gives back observations a failed call did not apply.
func (r *Redis) putBatch(site string, b obsBatch) {
	if b.N == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.batch[site]
	cur.merge(b)
	r.batch[site] = cur
}

// flush applies site's observations not yet sent, if any.
func (r *Redis) flush(ctx context.Context, site string) error {
	b := r.takeBatch(site)
	if b.N == 0 {
		return nil
	}
	rep, err := r.run(ctx, r.update, site, "batch", 2, r.args(site, "batch", b.pack()))
	if err != nil {
		r.putBatch(site, b)
		return err
	}
	c := change{Kind: rep.head[0]}
	switch c.Kind {
	case "slower":
		c.Reason = slowReason(&rep.st)
	case "faster":
		c.Reason = "site healthy again"
	}
	return r.changed(ctx, site, rep, c)
}

// Status implements Limiter. It first applies this process's observations
// of site not yet sent.
func (r *Redis) Status(ctx context.Context, site string) (Status, error) {
	if err := r.flush(ctx, site); err != nil {
		return Status{}, err
	}
	rep, err := r.run(ctx, r.update, site, "status", 1, r.args(site, "status"))
	if err != nil {
		return Status{}, err
	}
	return r.s.status(site, rep.now, &rep.st), nil
}
