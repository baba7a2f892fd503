package limiter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/internal/redistest"
	"github.com/goodbot/goodbot/limiter/arrivals"
)

// The conformance suite: every test runs against Local and against Redis,
// which must behave the same.

type backend struct {
	name string
	new  func(t *testing.T, cfg Config) Limiter
}

func backends() []backend {
	return []backend{
		{"Local", func(t *testing.T, cfg Config) Limiter {
			l, err := NewLocal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}},
		{"Redis", func(t *testing.T, cfg Config) Limiter {
			c := redistest.Client(t, redistest.Addr(t))
			r, err := NewRedis(c, redistest.Namespace(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return r
		}},
	}
}

func forEach(t *testing.T, f func(t *testing.T, newLimiter func(t *testing.T, cfg Config) Limiter)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { f(t, b.new) })
	}
}

// recorder is a Sink that keeps events, or fails when fail is set.
type recorder struct {
	mu   sync.Mutex
	evs  []audit.Event
	fail error
}

func (r *recorder) Record(_ context.Context, e audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.evs = append(r.evs, e)
	return nil
}

// budgets returns the site's budget events as "change: reason".
func (r *recorder) budgets(site string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.evs {
		if e.Site == site && e.Budget != nil {
			out = append(out, e.Budget.Change+": "+e.Budget.Reason)
		}
	}
	return out
}

func (r *recorder) count(site, change string) int {
	n := 0
	for _, b := range r.budgets(site) {
		if strings.HasPrefix(b, change+":") {
			n++
		}
	}
	return n
}

// estimatesFor returns estimates giving site the interval t at share 0.1
// and a day of length day.
func estimatesFor(t *testing.T, site string, interval, day time.Duration) *Estimates {
	t.Helper()
	es, err := NewEstimates(Estimate{Site: site, PerDay: float64(day) / float64(interval) * 10, Source: "test", Kind: KindUser})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func mustStatus(t *testing.T, l Limiter, site string) Status {
	t.Helper()
	s, err := l.Status(context.Background(), site)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformancePacing(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(*testing.T, Config) Limiter) {
		const site = "pace.example"
		const interval = 50 * time.Millisecond
		rec := &recorder{}
		l := newLimiter(t, Config{Estimates: estimatesFor(t, site, interval, 24*time.Hour), Sink: rec})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		const workers, each = 4, 5
		var mu sync.Mutex
		var at []time.Time
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range each {
					g, err := l.Wait(ctx, site)
					if err != nil {
						t.Error(err)
						return
					}
					if g.Interval != interval {
						t.Errorf("grant interval %v, want %v", g.Interval, interval)
					}
					mu.Lock()
					at = append(at, g.At)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(at) != workers*each {
			t.Fatalf("%d grants, want %d", len(at), workers*each)
		}
		for _, r := range arrivals.Check(at, 1, interval, 200*time.Millisecond, 500*time.Millisecond) {
			if float64(r.Max) > r.Bound {
				t.Errorf("window %v: %d grants, bound B+W/T = %v", r.Window, r.Max, r.Bound)
			}
		}
		// Reservations are handed out back to back: the grants use the cap.
		if u := arrivals.Utilisation(at, interval); u < 0.99 || u > 1.0001 {
			t.Errorf("utilisation at decision time %.4f, want ≈ 1", u)
		}
		st := mustStatus(t, l, site)
		if st.Granted != workers*each || st.Interval != interval || st.Source != "user: test" || st.BudgetPerDay != float64(24*time.Hour/interval) {
			t.Errorf("status = %+v", st)
		}
		if n := rec.count(site, "initial"); n != 1 {
			t.Errorf("%d initial events, want 1: %v", n, rec.budgets(site))
		}
	})
}

// alignToDay sleeps until the start of the first half of a (short) day,
// so that a test's first requests fall early in one day.
func alignToDay(day time.Duration) {
	off := time.Duration(time.Now().UnixMicro()%day.Microseconds()) * time.Microsecond
	if off > day/4 {
		time.Sleep(day - off + day/20)
	}
}

func TestConformanceDailyBudgetAndRollover(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(*testing.T, Config) Limiter) {
		const site = "day.example"
		const day = 2 * time.Second
		// 50/day × 0.1 = 5 requests a day, all allowed at once by Burst 5.
		es, err := NewEstimates(Estimate{Site: site, PerDay: 50, Source: "test", Kind: KindUser})
		if err != nil {
			t.Fatal(err)
		}
		l := newLimiter(t, Config{Estimates: es, Burst: 5, DayLength: day})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		alignToDay(day)
		var grants []Grant
		var ex *ExhaustedError
		for range 10 {
			g, err := l.Wait(ctx, site)
			if errors.As(err, &ex) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			grants = append(grants, g)
		}
		if ex == nil {
			t.Fatalf("no ExhaustedError after %d grants", len(grants))
		}
		if len(grants) != 5 || ex.Limit != 5 || ex.Site != site {
			t.Fatalf("%d grants then %v; want 5 then a limit of 5", len(grants), ex)
		}
		dayStart := grants[0].At.Truncate(day)
		if !ex.Until.Equal(dayStart.Add(day)) {
			t.Errorf("exhausted until %v, want the next day's start %v", ex.Until, dayStart.Add(day))
		}
		if st := mustStatus(t, l, site); st.SentToday != 5 && time.Now().Before(ex.Until) {
			t.Errorf("SentToday = %d, want 5", st.SentToday)
		}
		time.Sleep(time.Until(ex.Until) + 50*time.Millisecond)
		g, err := l.Wait(ctx, site)
		if err != nil {
			t.Fatalf("after day roll-over: %v", err)
		}
		if g.At.Before(ex.Until) {
			t.Errorf("grant at %v, before the new day %v", g.At, ex.Until)
		}
		if st := mustStatus(t, l, site); st.SentToday < 1 || st.SentToday > 5 {
			t.Errorf("SentToday after roll-over = %d", st.SentToday)
		}
	})
}

func TestConformanceRetryAfterHoldsAllWorkers(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(*testing.T, Config) Limiter) {
		const site = "hold.example"
		rec := &recorder{}
		l := newLimiter(t, Config{Estimates: estimatesFor(t, site, 200*time.Millisecond, 24*time.Hour), Sink: rec})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := l.Wait(ctx, site); err != nil {
			t.Fatal(err)
		}
		// Three workers get slots 200, 400 and 600 ms ahead and sleep; the
		// 503 arrives while they do.
		var wg sync.WaitGroup
		grants := make([]Grant, 3)
		for i := range grants {
			wg.Go(func() {
				g, err := l.Wait(ctx, site)
				if err != nil {
					t.Error(err)
				}
				grants[i] = g
			})
		}
		time.Sleep(50 * time.Millisecond)
		if err := l.Observe(ctx, site, Observation{Status: 503, Latency: time.Millisecond, RetryAfter: time.Second}); err != nil {
			t.Fatal(err)
		}
		hold := mustStatus(t, l, site).HoldUntil
		if hold.IsZero() {
			t.Fatal("no hold after 503 with Retry-After")
		}
		wg.Wait()
		for _, g := range grants {
			if g.At.Before(hold) {
				t.Errorf("grant at %v inside the hold until %v", g.At.Format(time.StampMicro), hold.Format(time.StampMicro))
			}
		}
		ev := rec.budgets(site)
		if rec.count(site, "hold") != 1 || !strings.Contains(strings.Join(ev, "\n"), "HTTP 503 with Retry-After 1s, hold 1s") {
			t.Errorf("events %q, want one hold naming the Retry-After", ev)
		}
	})
}

func TestConformanceBackoff(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(*testing.T, Config) Limiter) {
		const site = "backoff.example"
		rec := &recorder{}
		var logs bytes.Buffer
		l := newLimiter(t, Config{
			Sink:        rec,
			Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
			BaseBackoff: 100 * time.Millisecond,
			MaxBackoff:  400 * time.Millisecond,
			Forgive:     200 * time.Millisecond,
			MaxHold:     2 * time.Second,
			LongHold:    300 * time.Millisecond,
			Jitter:      func() float64 { return 0 },
		})
		ctx := context.Background()
		for range 4 {
			if err := l.Observe(ctx, site, Observation{Status: 429, Latency: time.Millisecond}); err != nil {
				t.Fatal(err)
			}
		}
		hold := mustStatus(t, l, site).HoldUntil
		want := []string{
			"HTTP 429 without Retry-After, back-off step 1, hold 100ms",
			"HTTP 429 without Retry-After, back-off step 2, hold 200ms",
			"HTTP 429 without Retry-After, back-off step 3, hold 400ms",
			"HTTP 429 without Retry-After, back-off step 4, hold 400ms",
		}
		ev := rec.budgets(site)
		var holds []string
		for _, e := range ev {
			if r, ok := strings.CutPrefix(e, "hold: "); ok {
				holds = append(holds, r)
			}
		}
		// The fourth equals the third's end or a little later: it extends
		// the hold only when it reaches further.
		if len(holds) < 3 || fmt.Sprint(holds[:3]) != fmt.Sprint(want[:3]) {
			t.Fatalf("hold events %q, want %q", holds, want)
		}
		if !strings.Contains(logs.String(), "long hold") {
			t.Errorf("a 400ms hold above LongHold 300ms was not logged: %q", logs.String())
		}
		// Quiet for Forgive after the hold ends: the back-off starts over.
		time.Sleep(time.Until(hold) + 300*time.Millisecond)
		if err := l.Observe(ctx, site, Observation{Status: 503, Latency: time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		ev = rec.budgets(site)
		if last := ev[len(ev)-1]; last != "hold: HTTP 503 without Retry-After, back-off step 1, hold 100ms" {
			t.Errorf("after a quiet spell: %q, want back-off step 1", last)
		}
		// Retry-After is capped by MaxHold.
		if err := l.Observe(ctx, site, Observation{Status: 503, RetryAfter: time.Hour}); err != nil {
			t.Fatal(err)
		}
		ev = rec.budgets(site)
		if last := ev[len(ev)-1]; last != "hold: HTTP 503 with Retry-After 1h0m0s, hold 2s" {
			t.Errorf("capped hold: %q", last)
		}
	})
}

func TestConformanceAdaptive(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(*testing.T, Config) Limiter) {
		const site = "adapt.example"
		const interval = 100 * time.Millisecond
		rec := &recorder{}
		l := newLimiter(t, Config{Estimates: estimatesFor(t, site, interval, 24*time.Hour), Sink: rec, AdaptEvery: time.Microsecond, MaxSlowdown: 4})
		ctx := context.Background()
		// Each answer is followed by a Status call: Redis applies a
		// process's ordinary answers with its next reservation or Status,
		// at most one adaptive step for all of them, as a crawler that
		// reserves between answers gets.
		obs := func(n int, o Observation) {
			for range n {
				if err := l.Observe(ctx, site, o); err != nil {
					t.Fatal(err)
				}
				mustStatus(t, l, site)
				time.Sleep(10 * time.Microsecond) // past AdaptEvery
			}
		}
		obs(5, Observation{Status: 200, Latency: 10 * time.Millisecond})
		if st := mustStatus(t, l, site); st.Interval != interval {
			t.Fatalf("healthy site: interval %v, want %v", st.Interval, interval)
		}
		obs(1, Observation{Status: 200, Latency: 100 * time.Millisecond})
		if st := mustStatus(t, l, site); st.Interval != 150*time.Millisecond {
			t.Errorf("after a slow answer: interval %v, want 150ms", st.Interval)
		}
		obs(20, Observation{Status: 200, Latency: time.Second})
		if st := mustStatus(t, l, site); st.Interval != 4*interval {
			t.Errorf("slow site: interval %v, want capped at 4×", st.Interval)
		}
		min := time.Duration(1 << 62)
		for range 200 {
			obs(1, Observation{Status: 200, Latency: 10 * time.Millisecond})
			st := mustStatus(t, l, site)
			min = time.Duration(minInt(int64(min), int64(st.Interval)))
		}
		if st := mustStatus(t, l, site); st.Interval != interval || min < interval {
			t.Errorf("recovered: interval %v (least seen %v), want back to %v and never below", st.Interval, min, interval)
		}
		if rec.count(site, "slower") == 0 || rec.count(site, "faster") == 0 {
			t.Errorf("events %q, want slower and faster", rec.budgets(site))
		}
		// A rising error rate slows down too.
		obs(6, Observation{Status: 500, Latency: 10 * time.Millisecond})
		if st := mustStatus(t, l, site); st.Interval <= interval {
			t.Errorf("after 500s: interval %v, want above %v", st.Interval, interval)
		}
		if err := l.Observe(ctx, site, Observation{Status: -1}); err == nil {
			t.Error("Observe accepted status -1")
		}
	})
}

func minInt(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

func TestConformanceRobotsDelay(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(*testing.T, Config) Limiter) {
		const site = "robots.example"
		rec := &recorder{}
		l := newLimiter(t, Config{Estimates: estimatesFor(t, site, 100*time.Millisecond, 24*time.Hour), Sink: rec})
		ctx := context.Background()
		if err := l.SetRobotsDelay(ctx, site, time.Second); err != nil {
			t.Fatal(err)
		}
		if st := mustStatus(t, l, site); st.Interval != time.Second {
			t.Errorf("interval %v, want robots.txt's 1s", st.Interval)
		}
		if err := l.SetRobotsDelay(ctx, site, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if st := mustStatus(t, l, site); st.Interval != 100*time.Millisecond {
			t.Errorf("interval %v, want the budget's 100ms: robots.txt cannot speed up", st.Interval)
		}
		if err := l.SetRobotsDelay(ctx, site, -time.Second); err == nil {
			t.Error("negative delay accepted")
		}
		if rec.count(site, "robots") != 2 {
			t.Errorf("events %q, want 2 robots changes", rec.budgets(site))
		}
	})
}

func TestConformanceReestimate(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(*testing.T, Config) Limiter) {
		const site = "est.example"
		const day = time.Second
		rec := &recorder{}
		l := newLimiter(t, Config{Estimates: estimatesFor(t, site, 100*time.Millisecond, day), DayLength: day, Sink: rec})
		se := l.(interface {
			SetEstimate(context.Context, Estimate) error
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		alignToDay(day)
		if _, err := l.Wait(ctx, site); err != nil {
			t.Fatal(err)
		}
		// Lower: at once.
		if err := se.SetEstimate(ctx, Estimate{Site: site, PerDay: 50, Source: "lower", Kind: KindUser}); err != nil {
			t.Fatal(err)
		}
		st := mustStatus(t, l, site)
		if st.Interval != 200*time.Millisecond || st.BudgetPerDay != 5 {
			t.Errorf("after lowering: %+v, want 5/day every 200ms", st)
		}
		// Higher: from the next day.
		if err := se.SetEstimate(ctx, Estimate{Site: site, PerDay: 400, Source: "higher", Kind: KindUser}); err != nil {
			t.Fatal(err)
		}
		if st := mustStatus(t, l, site); st.Interval != 200*time.Millisecond || st.BudgetPerDay != 5 {
			t.Errorf("right after raising: %+v, want still 5/day", st)
		}
		var g Grant
		for range 20 { // bounded: a new day comes within 1 s
			var err error
			g, err = l.Wait(ctx, site)
			var ex *ExhaustedError
			if errors.As(err, &ex) { // today's 5 are spent
				time.Sleep(time.Until(ex.Until))
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if g.Interval == 25*time.Millisecond {
				break
			}
		}
		if g.Interval != 25*time.Millisecond {
			t.Fatalf("raised estimate never applied: last grant %+v", g)
		}
		if st := mustStatus(t, l, site); st.BudgetPerDay != 40 || st.Source != "user: higher" {
			t.Errorf("next day: %+v", st)
		}
		ev := rec.budgets(site)
		want := []string{"estimate: " + reasonLower, "estimate: " + reasonRaise, "estimate: " + reasonPromoted}
		if got := ev[len(ev)-3:]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("events %q, want to end with %q", ev, want)
		}
	})
}

func TestConformanceCancelChargesNothing(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(*testing.T, Config) Limiter) {
		const site = "cancel.example"
		l := newLimiter(t, Config{Estimates: estimatesFor(t, site, 10*time.Second, 24*time.Hour)})
		ctx := context.Background()
		if _, err := l.Wait(ctx, site); err != nil {
			t.Fatal(err)
		}
		// Cancelled while asleep (a deadline would get a LaterError at once).
		short, cancel := context.WithCancel(ctx)
		time.AfterFunc(100*time.Millisecond, cancel)
		if _, err := l.Wait(short, site); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait cancelled while asleep: %v", err)
		}
		if st := mustStatus(t, l, site); st.Granted != 1 {
			t.Errorf("granted %d after a cancelled wait, want 1", st.Granted)
		}
	})
}

func TestConformanceSinkFailureRefuses(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(*testing.T, Config) Limiter) {
		const site = "sink.example"
		rec := &recorder{fail: errors.New("disk full")}
		l := newLimiter(t, Config{Sink: rec})
		if _, err := l.Wait(context.Background(), site); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("Wait with a failing sink: %v", err)
		}
		st := mustStatus(t, l, site)
		if st.Granted != 0 {
			t.Errorf("granted %d with a failing sink", st.Granted)
		}
		// Unknown site: the documented default.
		if st.BudgetPerDay != DefaultPerDay*DefaultShare || st.Interval != 12*time.Hour || st.Source != "default for unknown sites" {
			t.Errorf("default status %+v", st)
		}
		rec.mu.Lock()
		rec.fail = nil
		rec.mu.Unlock()
		if _, err := l.Wait(context.Background(), site); err != nil {
			t.Fatal(err)
		}
		if ev := rec.budgets(site); len(ev) != 1 || !strings.Contains(ev[0], "traffic unknown, assuming 20/day, cap 2/day; pass --traffic") {
			t.Errorf("events %q", ev)
		}
	})
}

// A slot past the caller's deadline is reported at once, and charges
// nothing: the next caller gets that same slot.
func TestConformanceLaterThanDeadline(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(t *testing.T, cfg Config) Limiter) {
		const site = "later.example"
		l := newLimiter(t, Config{Estimates: estimatesFor(t, site, 2*time.Second, 24*time.Hour)})
		ctx := context.Background()
		if _, err := l.Wait(ctx, site); err != nil { // the first slot is now
			t.Fatal(err)
		}
		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := l.Wait(dctx, site)
		var later *LaterError
		if !errors.As(err, &later) {
			t.Fatalf("Wait with a deadline before the next slot = %v, want *LaterError", err)
		}
		if waited := time.Since(start); waited > 250*time.Millisecond {
			t.Fatalf("LaterError came after %s; it must come at once", waited)
		}
		if d := time.Until(later.At); d < time.Second || d > 2100*time.Millisecond {
			t.Fatalf("LaterError.At is %s away, want about 2s", d)
		}
		st := mustStatus(t, l, site)
		if st.SentToday != 1 {
			t.Fatalf("SentToday = %d after a LaterError, want 1 (nothing charged)", st.SentToday)
		}
		g, err := l.Wait(ctx, site)
		if err != nil {
			t.Fatal(err)
		}
		if d := g.At.Sub(later.At); d < -50*time.Millisecond || d > 50*time.Millisecond {
			t.Fatalf("the next grant is at %s, %s from the slot LaterError named", g.At, d)
		}
	})
}
