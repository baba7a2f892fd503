//go:build soak

// The accuracy harness: a loopback origin logging arrival times, a real
// redis-server, and 1, 8 and 64 workers (and 3 limiters on 3 clients
// standing for 3 processes) wanting more than the cap, at T = 20 ms and
// 100 ms. Run it with
//
//	go test -tags soak -run Soak -v -timeout 10m ./limiter/
//
// (-run SoakAccuracy for the arrival figures alone; SOAK_RUN=30s for
// longer runs; SOAK_OBSERVE=1 to report answers too, see crawl.)
package limiter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/internal/redistest"
	"github.com/goodbot/goodbot/limiter/arrivals"
)

// origin is a loopback site that logs when each request arrives.
type origin struct {
	mu      sync.Mutex
	at      []time.Time
	transit []time.Duration // arrival less the X-Sent header's instant
	srv     *httptest.Server
}

func newOrigin(t *testing.T) *origin {
	o := &origin{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		o.mu.Lock()
		o.at = append(o.at, now)
		if ns, err := strconv.ParseInt(r.Header.Get("X-Sent"), 10, 64); err == nil {
			o.transit = append(o.transit, now.Sub(time.Unix(0, ns)))
		}
		o.mu.Unlock()
		w.Write([]byte("ok"))
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) arrivals() []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.at)
}

// timingHook counts script calls and times them.
type timingHook struct {
	calls  atomic.Int64
	mu     sync.Mutex
	lat    []time.Duration
	starts []time.Time
}

func (h *timingHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *timingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *timingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "hello" {
			return next(ctx, cmd)
		}
		h.calls.Add(1)
		start := time.Now()
		err := next(ctx, cmd)
		d := time.Since(start)
		h.mu.Lock()
		h.lat = append(h.lat, d)
		h.starts = append(h.starts, start)
		h.mu.Unlock()
		return err
	}
}

type runResult struct {
	grants   []time.Time // slot times (Redis clock)
	returned []time.Time // when Wait returned (local clock)
	asked    []time.Time // when Wait was called (local clock)
	sent     int64
	errs     int64
	retaken  int64           // grants given back at the send
	late     []time.Duration // at the send: how long after its slot
}

// crawl runs workers that each loop Wait → GET until the deadline. With
// SOAK_OBSERVE=1 they also report each answer (Observe), as the crawler
// does: Redis calls per request then include the answers', and the
// adaptive slow-down may lengthen the interval when loopback latency
// wavers, which lowers the utilisation measured against T.
func crawl(ctx context.Context, ls []Limiter, workers int, site, url string, res *runResult, mu *sync.Mutex) {
	observe := os.Getenv("SOAK_OBSERVE") == "1"
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	for w := range workers {
		l := ls[w%len(ls)]
		wg.Go(func() {
			for ctx.Err() == nil {
				asked := time.Now()
				g, err := l.Wait(ctx, site)
				// As the crawler's gate does: a grant whose window passed
				// before the send is given back for a new one.
				for retakes := 0; err == nil && !g.Latest.IsZero() && time.Now().After(g.Latest) && retakes < 3; retakes++ {
					atomic.AddInt64(&res.retaken, 1)
					g, err = l.(Retaker).Retake(ctx, site, g)
				}
				if err != nil {
					if ctx.Err() == nil {
						atomic.AddInt64(&res.errs, 1)
						time.Sleep(20 * time.Millisecond) // Redis down: try again shortly
					}
					continue
				}
				now := time.Now()
				mu.Lock()
				res.grants = append(res.grants, g.At)
				res.returned = append(res.returned, now)
				res.asked = append(res.asked, asked)
				if !g.Latest.IsZero() {
					res.late = append(res.late, now.Sub(g.Latest)+SendWindow(g.Interval))
				}
				mu.Unlock()
				req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, url, nil)
				if err != nil {
					panic(err)
				}
				sent := time.Now()
				req.Header.Set("X-Sent", strconv.FormatInt(sent.UnixNano(), 10))
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
					atomic.AddInt64(&res.sent, 1)
					if observe {
						// As the gate does; an ordinary answer rides on
						// the next reservation.
						l.Observe(ctx, site, Observation{Status: resp.StatusCode, Latency: time.Since(sent)})
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestSoakAccuracy(t *testing.T) {
	srv := redistest.Start(t)
	run := 12 * time.Second
	if v := os.Getenv("SOAK_RUN"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 5*time.Second {
			t.Fatalf("SOAK_RUN=%q: want a duration of 5s or more", v)
		}
		run = d
	}
	type tcase struct {
		name     string
		limiters int
		workers  int
		interval time.Duration
	}
	var cases []tcase
	for _, interval := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond} {
		for _, c := range []tcase{
			{"1 worker", 1, 1, interval},
			{"8 workers", 1, 8, interval},
			{"64 workers", 1, 64, interval},
			{"3 limiters x 8 workers", 3, 24, interval},
		} {
			c.name = fmt.Sprintf("T=%v/%s", interval, c.name)
			cases = append(cases, c)
		}
	}
	var summary []string
	defer func() {
		t.Logf("summary (max per window / (1 + W/T), arrivals at the origin):\n%s", strings.Join(summary, "\n"))
	}()
	for _, tc := range cases {
		interval := tc.interval
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t)
			site := o.srv.Listener.Addr().String()
			hook := &timingHook{}
			job := redistest.Namespace(t)
			var ls []Limiter
			for range tc.limiters {
				c := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 128})
				t.Cleanup(func() { c.Close() })
				c.AddHook(hook)
				l, err := NewRedis(c, job, Config{Estimates: estimatesFor(t, site, interval, 24*time.Hour)})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { l.Close() })
				// Load the script before measuring.
				if _, err := l.Status(context.Background(), site); err != nil {
					t.Fatal(err)
				}
				ls = append(ls, l)
			}
			hook.calls.Store(0)
			hook.mu.Lock()
			hook.lat, hook.starts = nil, nil
			hook.mu.Unlock()
			began := time.Now()
			// Cancelled, not a deadline: with a deadline, the workers
			// whose slot would fall after the end get a LaterError at
			// once and ask again, which is not a crawl's steady state.
			ctx, cancel := context.WithCancel(context.Background())
			defer time.AfterFunc(run, cancel).Stop()
			defer cancel()
			var res runResult
			var mu sync.Mutex
			crawl(ctx, ls, tc.workers, site, o.srv.URL, &res, &mu)
			arr := o.arrivals()
			if int64(len(arr)) != res.sent || len(arr) > len(res.grants) {
				t.Errorf("%d arrivals, %d sent, %d grants: a request without a grant?", len(arr), res.sent, len(res.grants))
			}
			report(t, "decision", res.grants, interval, true)
			reps := report(t, "arrival", arr, interval, true)
			line := fmt.Sprintf("%-32s", tc.name)
			for _, r := range reps {
				line += fmt.Sprintf(" W=%v %d/%.0f=%.4f", r.Window, r.Max, r.Bound, r.Ratio)
			}
			line += fmt.Sprintf(" util %.4f retaken %d/%d", arrivals.Utilisation(arr, interval), res.retaken, len(res.grants))
			var retakes int64
			for _, l := range ls {
				retakes += l.(*Redis).retakes.Load()
			}
			o.mu.Lock()
			transit := slices.Clone(o.transit)
			o.mu.Unlock()
			if len(arr) > 0 {
				sorted := slices.SortedFunc(slices.Values(arr), func(a, b time.Time) int { return a.Compare(b) })
				best, at := 0, 0
				for i, j := 0, 0; i < len(sorted); i++ {
					for j < len(sorted) && sorted[j].Sub(sorted[i]) < time.Second {
						j++
					}
					if j-i > best {
						best, at = j-i, i
					}
				}
				line += fmt.Sprintf("; densest 1s at +%v", sorted[at].Sub(sorted[0]).Round(time.Millisecond))
			}
			if st, err := ls[0].Status(context.Background(), site); err == nil && st.Interval != interval {
				line += fmt.Sprintf("; interval at the end %v (adaptive)", st.Interval)
			}
			line += fmt.Sprintf(" (late wake-ups %d); lateness at send p50 %v p99 %v max %v; transit p99 %v max %v",
				retakes, arrivals.Quantile(res.late, 0.5).Round(time.Microsecond), arrivals.Quantile(res.late, 0.99).Round(time.Microsecond), arrivals.Quantile(res.late, 1).Round(time.Microsecond),
				arrivals.Quantile(transit, 0.99).Round(time.Microsecond), arrivals.Quantile(transit, 1).Round(time.Microsecond))
			summary = append(summary, line)
			hook.mu.Lock()
			lat := slices.Clone(hook.lat)
			// Calls per grant in the steady state, 2 s after the start to
			// 2 s before the end: at the end each worker's last reservation
			// is given back unused (one reserve and one cancel call).
			from, to := began.Add(2*time.Second), began.Add(run-2*time.Second)
			in := func(ts []time.Time) (n int) {
				for _, x := range ts {
					if !x.Before(from) && x.Before(to) {
						n++
					}
				}
				return n
			}
			steadyCalls, steadyGrants := in(hook.starts), in(res.asked)
			hook.mu.Unlock()
			t.Logf("steady state: %d calls for %d grants asked for, %.4f calls per grant", steadyCalls, steadyGrants, float64(steadyCalls)/float64(steadyGrants))
			t.Logf("utilisation: decision %.4f, arrival %.4f; Redis calls per grant %.4f (%d calls, %d grants); reserve call latency p50 %v p99 %v; errors %d",
				arrivals.Utilisation(res.grants, interval), arrivals.Utilisation(arr, interval),
				float64(hook.calls.Load())/float64(len(res.grants)), hook.calls.Load(), len(res.grants),
				arrivals.Quantile(lat, 0.5), arrivals.Quantile(lat, 0.99), res.errs)
		})
	}
}

func report(t *testing.T, what string, at []time.Time, interval time.Duration, strict bool) []arrivals.Report {
	t.Helper()
	reps := arrivals.Check(at, 1, interval, time.Second, 5*time.Second, 10*time.Second)
	for _, r := range reps {
		t.Logf("%-8s W=%-5v max %4d bound %6.1f ratio %.4f", what, r.Window, r.Max, r.Bound, r.Ratio)
		if strict && what == "decision" && float64(r.Max) > r.Bound {
			t.Errorf("decision-time window %v: %d > bound %v", r.Window, r.Max, r.Bound)
		}
	}
	return reps
}

// TestSoakOutage pauses, then kills and restarts redis-server under 8
// workers, and checks that no grant is handed out while it is away and
// that grants resume when it is back.
func TestSoakOutage(t *testing.T) {
	srv := redistest.Start(t)
	o := newOrigin(t)
	site := o.srv.Listener.Addr().String()
	const interval = 20 * time.Millisecond
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 32, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	l, err := NewRedis(c, redistest.Namespace(t), Config{Estimates: estimatesFor(t, site, interval, 24*time.Hour), Timeout: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	var res runResult
	var mu sync.Mutex
	type phase struct {
		name       string
		start, end time.Time
	}
	var phases []phase
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(2 * time.Second)
		p := phase{name: "paused", start: time.Now()}
		srv.Pause()
		time.Sleep(1500 * time.Millisecond)
		p.end = time.Now() // the server answers again during Resume
		srv.Resume()
		phases = append(phases, p)
		time.Sleep(2 * time.Second)
		p = phase{name: "killed", start: time.Now()}
		srv.Kill()
		time.Sleep(1500 * time.Millisecond)
		p.end = time.Now() // Restart returns once the server answers
		srv.Restart()
		phases = append(phases, p)
	}()
	crawl(ctx, []Limiter{l}, 8, site, o.srv.URL, &res, &mu)
	<-done
	arr := o.arrivals()
	if int64(len(arr)) != res.sent || len(arr) > len(res.grants) {
		t.Errorf("%d arrivals, %d sent, %d grants", len(arr), res.sent, len(res.grants))
	}
	// A reservation made just before the outage may still be slept out:
	// at most 8 workers × T ahead.
	grace := 8 * interval
	for _, p := range phases {
		var during, arrivedDuring, after int
		for _, r := range res.returned {
			if r.After(p.start.Add(grace)) && r.Before(p.end) {
				during++
			}
			if r.After(p.end) && r.Before(p.end.Add(time.Second)) {
				after++
			}
		}
		for _, a := range arr {
			if a.After(p.start.Add(grace)) && a.Before(p.end) {
				arrivedDuring++
			}
		}
		t.Logf("%s for %v: grants during the outage (after %v grace) %d, arrivals %d; grants in the second after it ended %d",
			p.name, p.end.Sub(p.start).Round(time.Millisecond), grace, during, arrivedDuring, after)
		if during != 0 || arrivedDuring != 0 {
			t.Errorf("%s: %d grants and %d arrivals while Redis was away", p.name, during, arrivedDuring)
		}
		if after == 0 {
			t.Errorf("%s: no grants in the second after Redis came back", p.name)
		}
	}
	t.Logf("errors (each an ErrUnavailable refusal) %d; total grants %d, arrivals %d", res.errs, len(res.grants), len(arr))
	if testing.Verbose() {
		best, bi := 0, 0
		sorted := slices.SortedFunc(slices.Values(arr), func(a, b time.Time) int { return a.Compare(b) })
		for i := range sorted {
			j := i
			for j < len(sorted) && sorted[j].Sub(sorted[i]) < 100*time.Millisecond {
				j++
			}
			if j-i > best {
				best, bi = j-i, i
			}
		}
		if best > 0 {
			for _, p := range phases {
				t.Logf("densest 100ms of arrivals (%d) starts %v after the %s phase began, %v after it ended", best, sorted[bi].Sub(p.start), p.name, sorted[bi].Sub(p.end))
			}
		}
	}
	// Not strict: a killed server loses its state (it keeps none on disk),
	// so reservations made before the kill and after the restart overlap.
	report(t, "decision", res.grants, interval, false)
	report(t, "arrival", arr, interval, false)
}

// TestSoakDoneWhen is the acceptance run with goroutines standing
// in for processes: three limiters (each its own client, as three
// processes would have) with 8 workers each, and one alone, crawl one
// loopback site at 1,728,000/day × 0.1 = 2 requests/s. Every 1, 5 and
// 10 s window must hold at most floor(2·W)+2 arrivals, and they must use
// at least 85% of the cap.
func TestSoakDoneWhen(t *testing.T) {
	srv := redistest.Start(t)
	for _, procs := range []int{3, 1} {
		t.Run(fmt.Sprintf("%d limiters", procs), func(t *testing.T) {
			o := newOrigin(t)
			site := o.srv.Listener.Addr().String()
			es, err := NewEstimates(Estimate{Site: site, PerDay: 1728000, Source: "--traffic", Kind: KindUser})
			if err != nil {
				t.Fatal(err)
			}
			job := redistest.Namespace(t)
			var ls []Limiter
			for range procs {
				c := redis.NewClient(&redis.Options{Addr: srv.Addr})
				t.Cleanup(func() { c.Close() })
				l, err := NewRedis(c, job, Config{Estimates: es, Share: 0.1})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { l.Close() })
				ls = append(ls, l)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var res runResult
			var mu sync.Mutex
			crawl(ctx, ls, 8*procs, site, o.srv.URL, &res, &mu)
			arr := o.arrivals()
			for _, w := range []time.Duration{time.Second, 5 * time.Second, 10 * time.Second} {
				limit := int(2*w.Seconds()) + 2
				m := arrivals.MaxInWindow(arr, w)
				t.Logf("W=%v: max %d arrivals, limit floor(2W)+2 = %d", w, m, limit)
				if m > limit {
					t.Errorf("W=%v: %d arrivals > %d", w, m, limit)
				}
			}
			u := arrivals.Utilisation(arr, 500*time.Millisecond)
			t.Logf("utilisation %.4f over %d arrivals", u, len(arr))
			if u < 0.85 {
				t.Errorf("utilisation %.4f < 0.85", u)
			}
		})
	}
}
