package limiter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
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
// is the Redis server's TIME. Feedback is a second script. A site's state
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
	// offset is Redis's clock minus ours (µs), as last seen; 0 until a
	// reply came. It turns a call's deadline into Redis time.
	offset atomic.Int64

	subOnce sync.Once
	pubsub  *redis.PubSub // hold announcements of every process of the job

	mu    sync.Mutex
	seen  map[string]bool  // sites whose initial event this process recorded
	holds map[string]int64 // latest hold this process knows of, per site
	wake  chan struct{}    // closed, and replaced, when a hold is announced
}

var _ Limiter = (*Redis)(nil)

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

// Close stops listening to hold announcements. It does not close the
// Redis client.
func (r *Redis) Close() error {
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
		var deadline int64
		if off := r.offset.Load(); off != 0 {
			dl, _ := cctx.Deadline()
			deadline = dl.UnixMicro() + off
		}
		args = append(args, fmtInt(deadline))
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
		mid := sent.Add(time.Since(sent) / 2).UnixMicro()
		r.offset.Store(max(rep.now-mid, 1)) // 0 means unknown
	}
	if sc == r.reserve && len(rep.head) > 0 && rep.head[0] == "2" {
		return scriptReply{}, fmt.Errorf("limiter: %s: %s: %w: answered after the deadline", site, what, ErrUnavailable)
	}
	return rep, nil
}

// Wait implements Limiter. It costs one Redis call per grant; one more
// when ctx ends during the sleep or when this process learns of a hold
// that covers the slot (both give the reservation back).
func (r *Redis) Wait(ctx context.Context, site string) (Grant, error) {
	start := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return Grant{}, err
		}
		r.subscribe(ctx)
		wake := r.wakeup()
		rep, err := r.run(ctx, r.reserve, site, "reserve", 7, r.args(site))
		if err != nil {
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
		if err != nil {
			if ok {
				r.cancel(site, slot, t)
			}
			return Grant{}, err
		}
		if !ok {
			return Grant{}, &ExhaustedError{Site: site, Limit: limit, Until: time.UnixMicro(until).UTC()}
		}
		// The slot in this process's clock: Redis's time, less the wait.
		local := time.Now().Add(durationMicros(slot - rep.now))
		if dl, has := ctx.Deadline(); has && local.After(dl) {
			r.cancel(site, slot, t)
			return Grant{}, &LaterError{Site: site, At: local.UTC()}
		}
		if err := r.sleep(ctx, site, slot, durationMicros(slot-rep.now), wake); err != nil {
			r.cancel(site, slot, t)
			return Grant{}, err
		}
		if r.heldAt(site, slot) {
			r.cancel(site, slot, t)
			continue
		}
		return Grant{At: time.UnixMicro(slot), Waited: time.Since(start), Interval: durationMicros(t)}, nil
	}
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

// Observe implements Limiter.
func (r *Redis) Observe(ctx context.Context, site string, o Observation) error {
	a, err := r.s.observation(o)
	if err != nil {
		return fmt.Errorf("%w (site %s)", err, site)
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

// Status implements Limiter.
func (r *Redis) Status(ctx context.Context, site string) (Status, error) {
	rep, err := r.run(ctx, r.update, site, "status", 1, r.args(site, "status"))
	if err != nil {
		return Status{}, err
	}
	return r.s.status(site, rep.now, &rep.st), nil
}
