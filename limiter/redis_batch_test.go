package limiter

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/internal/redistest"
)

// scriptCounter is a go-redis hook counting the calls of each script, by
// its SHA-1.
type scriptCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *scriptCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *scriptCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (c *scriptCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if a := cmd.Args(); cmd.Name() == "evalsha" && len(a) > 1 {
			c.mu.Lock()
			c.n[fmt.Sprint(a[1])]++
			c.mu.Unlock()
		}
		return next(ctx, cmd)
	}
}

// counted returns the calls of the reservation and of the update script
// so far.
func (c *scriptCounter) counted(l *Redis) (reserve, update int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[l.reserve.Hash()], c.n[l.update.Hash()]
}

// newCountedRedis returns a Redis limiter on a client of its own whose
// script calls are counted, with both scripts loaded.
func newCountedRedis(t *testing.T, cfg Config) (*Redis, *scriptCounter) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: redistest.Addr(t)})
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := redis.NewScript(reserveScript).Load(ctx, c).Err(); err != nil {
		t.Fatal(err)
	}
	if err := redis.NewScript(updateScript).Load(ctx, c).Err(); err != nil {
		t.Fatal(err)
	}
	cc := &scriptCounter{n: map[string]int{}}
	c.AddHook(cc)
	l, err := NewRedis(c, redistest.Namespace(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, cc
}

// Ordinary answers cost no Redis call of their own: the next reservation
// carries them, and when they make the site slower it records the event
// and paces that very reservation at the new interval. A 503 goes at once.
func TestRedisObservationsRideOnReservations(t *testing.T) {
	const site = "ride.example"
	const interval = time.Millisecond
	rec := &recorder{}
	l, cc := newCountedRedis(t, Config{Estimates: estimatesFor(t, site, interval, 24*time.Hour), Sink: rec, AdaptEvery: time.Microsecond, MaxSlowdown: 4})
	ctx := context.Background()
	if _, err := l.Wait(ctx, site); err != nil {
		t.Fatal(err)
	}
	r0, u0 := cc.counted(l)
	const healthy = 20
	for range healthy {
		if err := l.Observe(ctx, site, Observation{Status: 200, Latency: 10 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Wait(ctx, site); err != nil {
			t.Fatal(err)
		}
	}
	// A worker that woke too late on this busy machine gives its slot
	// back (an update call) and reserves again: that pair is not the
	// observation's.
	r1, u1 := cc.counted(l)
	if r1-r0-(u1-u0) != healthy {
		t.Errorf("%d requests cost %d reservations and %d update calls, want one reservation each and no update but a give-back's", healthy, r1-r0, u1-u0)
	}
	if n := rec.count(site, "slower"); n != 0 {
		t.Fatalf("healthy answers slowed the site down: %q", rec.budgets(site))
	}
	// Slow answers: the reservation that carries them slows the site down.
	for range 3 {
		if err := l.Observe(ctx, site, Observation{Status: 200, Latency: time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	r0, u0 = cc.counted(l)
	g, err := l.Wait(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	if r1, u1 := cc.counted(l); r1-r0-(u1-u0) != 1 {
		t.Errorf("the reservation carrying slow answers cost %d reservations and %d update calls, want 1 and 0 (but give-backs)", r1-r0, u1-u0)
	}
	if g.Interval != interval*3/2 {
		t.Errorf("reservation after slow answers: interval %v, want %v", g.Interval, interval*3/2)
	}
	if n := rec.count(site, "slower"); n != 1 {
		t.Errorf("slower events %d, want 1: %q", n, rec.budgets(site))
	}
	// A hold is not kept for later.
	r0, u0 = cc.counted(l)
	if err := l.Observe(ctx, site, Observation{Status: 503, RetryAfter: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if r1, u1 := cc.counted(l); r1 != r0 || u1-u0 != 1 {
		t.Errorf("a 503 cost %d reservations and %d update calls, want one update at once", r1-r0, u1-u0)
	}
	if st := mustStatus(t, l, site); st.HoldUntil.IsZero() {
		t.Errorf("after a 503 with Retry-After: status %+v, want held", st)
	}
}

// Status and Close apply the observations not yet sent, so that another
// process of the job sees them.
func TestRedisStatusAndCloseFlushObservations(t *testing.T) {
	const site = "flush.example"
	const interval = 100 * time.Millisecond
	cfg := Config{Estimates: estimatesFor(t, site, interval, 24*time.Hour), AdaptEvery: time.Microsecond, MaxSlowdown: 4}
	a, _ := newCountedRedis(t, cfg)
	ctx := context.Background()
	b, err := NewRedis(a.c, a.job, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	for range 5 {
		if err := a.Observe(ctx, site, Observation{Status: 200, Latency: 10 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	if st := mustStatus(t, b, site); st.Granted != 0 {
		t.Fatalf("status %+v", st)
	}
	mustStatus(t, a, site) // the baseline latency
	if err := a.Observe(ctx, site, Observation{Status: 200, Latency: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if st := mustStatus(t, b, site); st.Interval != interval {
		t.Fatalf("before the other process sent its answers: interval %v, want %v", st.Interval, interval)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if st := mustStatus(t, b, site); st.Interval <= interval {
		t.Errorf("after the other process closed: interval %v, want above %v (its slow answers applied)", st.Interval, interval)
	}
	if err := b.Observe(ctx, site, Observation{Status: 500}); err != nil {
		t.Fatal(err)
	}
	st := mustStatus(t, b, site)
	rep, err := b.run(ctx, b.update, site, "status", 1, b.args(site, "status"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.st.NObs != 7 || rep.st.ErrRate == 0 {
		t.Errorf("observations applied %d, want 7 (status %v)", rep.st.NObs, st)
	}
}

// A worker that wakes after its grant's window gives the slot back and
// reserves again, up to maxRetakes times, and is charged once. Here the
// limiter's idea of Redis's clock is wrong by a minute, so that every slot
// looks long past.
func TestRedisLateWakeRetakes(t *testing.T) {
	const site = "late.example"
	const interval = 10 * time.Millisecond
	l, cc := newCountedRedis(t, Config{Estimates: estimatesFor(t, site, interval, 24*time.Hour)})
	ctx := context.Background()
	if _, err := l.Wait(ctx, site); err != nil {
		t.Fatal(err)
	}
	g, err := l.Wait(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	if g.Latest.IsZero() || !g.Latest.After(time.Now().Add(-interval)) {
		t.Errorf("grant %+v: want a Latest within the window", g)
	}
	off, _ := l.clock.get()
	l.clock.mu.Lock()
	l.clock.off, l.clock.rtt, l.clock.at = off+time.Minute.Microseconds(), 0, time.Now().Add(time.Hour)
	l.clock.mu.Unlock()
	r0, u0 := cc.counted(l)
	g, err = l.Wait(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	if r1, u1 := cc.counted(l); r1-r0 != 1+maxRetakes || u1-u0 != maxRetakes {
		t.Errorf("a Wait that woke late each time cost %d reservations and %d give-backs, want %d and %d", r1-r0, u1-u0, 1+maxRetakes, maxRetakes)
	}
	if !time.Now().After(g.Latest) {
		t.Errorf("after %d late slots the grant stands, late: Latest %v", maxRetakes, g.Latest)
	}
	if st := mustStatus(t, l, site); st.SentToday != 3 {
		t.Errorf("sent today %d, want 3: late slots given back are not charged", st.SentToday)
	}
	// Retake gives the grant back and charges the new one only.
	if _, err := l.Retake(ctx, site, g); err != nil {
		t.Fatal(err)
	}
	if st := mustStatus(t, l, site); st.SentToday != 3 {
		t.Errorf("after Retake: sent today %d, want 3", st.SentToday)
	}
}
