package limiter

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/internal/redistest"
	"github.com/goodbot/goodbot/limiter/arrivals"
)

// callCounter is a go-redis hook counting the commands sent, except the
// handshake of a new connection (HELLO, and CLIENT SETINFO, which go-redis
// sends as a pipeline).
type callCounter struct {
	n     atomic.Int64
	mu    sync.Mutex
	names map[string]int
}

func (c *callCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *callCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() != "hello" {
			c.n.Add(1)
		}
		c.mu.Lock()
		if c.names == nil {
			c.names = map[string]int{}
		}
		c.names[cmd.Name()]++
		c.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (c *callCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func TestNewRedisRejectsBadInput(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, job := range []string{"", "a b", "a{b}", strings.Repeat("x", 101)} {
		if _, err := NewRedis(c, job, Config{}); err == nil {
			t.Errorf("NewRedis accepted job %q", job)
		}
	}
	if _, err := NewRedis(nil, "j", Config{}); err == nil {
		t.Error("NewRedis accepted a nil client")
	}
	if _, err := NewRedis(c, "j", Config{Share: 1.0 / 3}); err == nil || !strings.Contains(err.Error(), "Article 16") {
		t.Errorf("NewRedis with share 1/3: %v", err)
	}
}

// Two limiters on one Redis and job stand for two processes: together they
// keep the bound, a hold seen by one stops the other, and each grant costs
// one call.
func TestRedisSharedAcrossProcesses(t *testing.T) {
	addr := redistest.Addr(t)
	job := redistest.Namespace(t)
	const site = "shared.example"
	const interval = 40 * time.Millisecond
	counter := &callCounter{}
	var ls [2]*Redis
	for i := range ls {
		c := redistest.Client(t, addr)
		c.AddHook(counter)
		var err error
		if ls[i], err = NewRedis(c, job, Config{Estimates: estimatesFor(t, site, interval, 24*time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, l := range ls { // load the script: the first call is EVALSHA, NOSCRIPT, EVAL
		if _, err := l.Wait(ctx, site); err != nil {
			t.Fatal(err)
		}
	}
	before := counter.n.Load()
	var mu sync.Mutex
	var at []time.Time
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for range 4 {
				g, err := ls[w%2].Wait(ctx, site)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				at = append(at, g.At)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	calls := counter.n.Load() - before
	if calls != int64(len(at)) {
		t.Errorf("%d Redis calls for %d grants", calls, len(at))
	}
	t.Logf("%d grants, %d Redis calls %v", len(at), calls, counter.names)
	for _, r := range arrivals.Check(at, 1, interval, 200*time.Millisecond, time.Second) {
		if float64(r.Max) > r.Bound {
			t.Errorf("window %v: %d grants over both processes, bound %v", r.Window, r.Max, r.Bound)
		}
	}
	// A hold observed by one process applies to the other's next call.
	if err := ls[0].Observe(ctx, site, Observation{Status: 503, RetryAfter: 500 * time.Millisecond, Latency: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	hold := mustStatus(t, ls[1], site).HoldUntil
	g, err := ls[1].Wait(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	if hold.IsZero() || g.At.Before(hold) {
		t.Errorf("other process granted at %v, hold until %v", g.At, hold)
	}
	// The state is a hash and a string per site, hash-tagged, expiring:
	// the hash a day after the string.
	c := redistest.Client(t, addr)
	key := "goodbot:{" + job + ":" + site + "}"
	for _, k := range []struct {
		key, typ string
		ttl      time.Duration
	}{{key, "hash", 96 * time.Hour}, {key + ":hot", "string", 72 * time.Hour}} {
		if ttl, err := c.PTTL(ctx, k.key).Result(); err != nil || ttl <= k.ttl-time.Hour || ttl > k.ttl {
			t.Errorf("PTTL %s = %v, %v; want about %v", k.key, ttl, err, k.ttl)
		}
		if typ, err := c.Type(ctx, k.key).Result(); err != nil || typ != k.typ {
			t.Errorf("TYPE %s = %q, %v; want %s", k.key, typ, err, k.typ)
		}
	}
}

// With the server paused or killed, nothing is granted; when it is back,
// grants resume.
func TestRedisFailsClosed(t *testing.T) {
	srv := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	const site = "closed.example"
	l, err := NewRedis(c, redistest.Namespace(t), Config{Estimates: estimatesFor(t, site, 10*time.Millisecond, 24*time.Hour), Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.Wait(ctx, site); err != nil {
		t.Fatal(err)
	}
	outage := func(name string) {
		t.Helper()
		start := time.Now()
		defer func() { t.Logf("%s: outage checks took %v", name, time.Since(start)) }()
		for range 3 {
			g, err := l.Wait(ctx, site)
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("%s: Wait = %+v, %v; want an error wrapping ErrUnavailable", name, g, err)
			}
		}
		// An ordinary answer waits in the process for the next call
		// (Status below tries to send it); what must reach Redis at once
		// fails. (Not a 503 here: the paused server would still apply
		// its hold when it resumes.)
		if err := l.Observe(ctx, site, Observation{Status: 200, Latency: time.Millisecond}); err != nil {
			t.Errorf("%s: Observe(200) = %v, want it kept for the next reservation", name, err)
		}
		if err := l.SetRobotsDelay(ctx, site, 0); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: SetRobotsDelay = %v", name, err)
		}
		if _, err := l.Status(ctx, site); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: Status = %v", name, err)
		}
	}
	srv.Pause()
	outage("paused")
	srv.Resume()
	if _, err := l.Wait(ctx, site); err != nil {
		t.Fatalf("after resume: %v", err)
	}
	srv.Kill()
	outage("killed")
	srv.Restart()
	restarted := time.Now()
	defer func() { t.Logf("grants resumed %v after restart", time.Since(restarted)) }()
	var g Grant
	for range 20 { // the client reconnects within a few tries
		if g, err = l.Wait(ctx, site); err == nil {
			break
		}
		var ne net.Error
		if !errors.Is(err, ErrUnavailable) && !errors.As(err, &ne) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if g.At.IsZero() {
		t.Error("zero grant after restart")
	}
}

// A hold observed by one process wakes the workers of another that sleep
// on a reservation inside it: they re-reserve after the hold.
func TestRedisHoldReachesSleepingWorkersOfOtherProcesses(t *testing.T) {
	addr := redistest.Addr(t)
	job := redistest.Namespace(t)
	const site = "wake.example"
	var ls [2]*Redis
	for i := range ls {
		var err error
		if ls[i], err = NewRedis(redistest.Client(t, addr), job, Config{Estimates: estimatesFor(t, site, 300*time.Millisecond, 24*time.Hour)}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ls[i].Close() })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := ls[1].Wait(ctx, site); err != nil {
		t.Fatal(err)
	}
	got := make(chan Grant, 1)
	go func() {
		g, err := ls[1].Wait(ctx, site) // a slot 300 ms ahead
		if err != nil {
			t.Error(err)
		}
		got <- g
	}()
	time.Sleep(100 * time.Millisecond)
	if err := ls[0].Observe(ctx, site, Observation{Status: 503, RetryAfter: time.Second, Latency: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	hold := mustStatus(t, ls[0], site).HoldUntil
	g := <-got
	if hold.IsZero() || g.At.Before(hold) {
		t.Errorf("the other process's sleeping worker was granted at %v, inside the hold until %v", g.At.Format(time.StampMicro), hold.Format(time.StampMicro))
	}
}

// When processes of a job disagree about a site's traffic, the lowest
// estimate wins, whichever process came first.
func TestRedisLowestEstimateWins(t *testing.T) {
	addr := redistest.Addr(t)
	job := redistest.Namespace(t)
	const site = "disagree.example"
	rec := &recorder{}
	high, err := NewRedis(redistest.Client(t, addr), job, Config{Estimates: estimatesFor(t, site, 100*time.Millisecond, 24*time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := NewRedis(redistest.Client(t, addr), job, Config{Sink: rec}) // no estimate: the default
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { high.Close(); unknown.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := high.Wait(ctx, site); err != nil {
		t.Fatal(err)
	}
	if _, err := unknown.Wait(ctx, site); err != nil {
		t.Fatal(err)
	}
	st := mustStatus(t, high, site)
	if st.BudgetPerDay != DefaultPerDay*DefaultShare || st.Interval != 12*time.Hour || st.Source != "default for unknown sites" {
		t.Errorf("after a process with the default estimate joined: %+v", st)
	}
	if rec.count(site, "estimate") != 1 {
		t.Errorf("events %q, want one estimate change", rec.budgets(site))
	}
	// The first process's next Wait keeps the lower budget: 2 a day, both
	// used.
	var ex *ExhaustedError
	if _, err := high.Wait(ctx, site); !errors.As(err, &ex) || ex.Limit != 2 {
		t.Errorf("third Wait under a budget of 2/day: %v", err)
	}
	if st := mustStatus(t, high, site); st.BudgetPerDay != DefaultPerDay*DefaultShare {
		t.Errorf("the higher estimate came back: %+v", st)
	}
}

// A reservation in the next day that is given back leaves today's count as
// it was, in Redis as in the in-process limiter
// (TestLocalGiveBackNextDayKeepsToday). With a budget of one request a day
// the second reservation of the day falls on the next day; its worker's
// run ends before the slot, so it is given back.
func TestRedisGiveBackNextDayKeepsToday(t *testing.T) {
	const site, day = "s.example", time.Hour
	c := redistest.Client(t, redistest.Addr(t))
	job := redistest.Namespace(t)
	cfg := Config{Estimates: estimatesFor(t, site, day, day), DayLength: day} // 1 a day
	r, err := NewRedis(c, job, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Pin Redis's clock at the real time, so that the first slot, now, is
	// within its send window (half a day) and the second, a day later, is
	// after the deadline below.
	now := time.Now().UnixMicro()
	r.nowOverride = now
	ctx := context.Background()
	if st := mustStatus(t, r, site); st.BudgetPerDay != 1 {
		t.Fatalf("budget %v a day, want 1", st.BudgetPerDay)
	}
	if _, err := r.Wait(ctx, site); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var later *LaterError
	if _, err := r.Wait(wctx, site); !errors.As(err, &later) {
		t.Fatalf("second Wait: %v, want a LaterError (its slot is a day on)", err)
	}
	if d := dayIndex(later.At.UnixMicro(), day.Microseconds()); d != dayIndex(now, day.Microseconds())+1 {
		t.Fatalf("the given-back slot %v is on day %d, want the next day", later.At, d)
	}
	r2, err := NewRedis(c, job, cfg) // another process of the job
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	r2.nowOverride = now
	for i, l := range []*Redis{r, r2} {
		if st := mustStatus(t, l, site); st.SentToday != 1 {
			t.Errorf("process %d, after the next-day reservation was given back: %+v; want sent today 1", i+1, st)
		}
	}
}
