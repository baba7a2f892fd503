package limiter

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/internal/redistest"
)

// TestScriptMatchesModel runs random sequences of operations through the
// Lua scripts on a real Redis, with the clock pinned, and through the Go
// model, and checks that they agree on every result and on the whole state
// after every step.
func TestScriptMatchesModel(t *testing.T) {
	c := redistest.Client(t, redistest.Addr(t))
	ctx := context.Background()
	r, err := NewRedis(c, redistest.Namespace(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const trials, steps = 40, 80
	seen := map[string]int{} // paths the sequences took, so the test knows it covered them
	for trial := range trials {
		p := params{
			DayLen:      int64(1+rng.IntN(20)) * 1e6,
			Burst:       int64(1 + rng.IntN(3)),
			MaxHold:     int64(1+rng.IntN(5)) * 1e6,
			BaseBackoff: int64(1+rng.IntN(300)) * 1e3,
			MaxBackoff:  int64(1+rng.IntN(4)) * 1e6,
			Forgive:     int64(1+rng.IntN(3)) * 1e6,
			AdaptEvery:  int64(rng.IntN(500)) * 1e3,
			MaxFactor:   1 + rng.Float64()*20,
		}
		mkEst := func() estimateArgs {
			est := []float64{20, 1000, 86400, 1728000, 12345.678}[rng.IntN(5)] * (0.5 + rng.Float64())
			b := Budget(est, 0.1)
			low, high := est*(0.01+rng.Float64()), est*(1+rng.Float64()*100)
			b = Budget(low, 0.1)
			return estimateArgs{Est: est, Low: low, High: high, Source: []string{"--traffic", "f.csv:2 (logs)", "default"}[rng.IntN(3)], Kind: int64(rng.IntN(4)), Budget: b, BudgetT: budgetIntervalMicros(b, p.DayLen)}
		}
		lookup := mkEst()
		// mkBatch is the observations a process made since its last
		// reservation: often none, else some healthy or slow answers and
		// errors.
		mkBatch := func() obsBatch {
			var b obsBatch
			if rng.IntN(3) == 0 {
				return b
			}
			healthy := trial%2 == 0 && rng.IntN(2) == 0
			for range 1 + rng.IntN([]int{1, 4, 70, 300}[rng.IntN(4)]) {
				a := obsArgs{Status: []int64{200, 200, 404, 500, 0}[rng.IntN(5)], Latency: []int64{0, 1000, 5000, 200000, rng.Int64N(1e6)}[rng.IntN(5)]}
				if healthy {
					a.Status, a.Latency = 200, 1000
				}
				if a.Status == 0 {
					a.Latency = 0
				}
				a.Err = a.Status == 0 || a.Status >= 500
				b.add(a)
			}
			return b
		}
		var m state
		site := "s" + fmtInt(int64(trial)) + ".example"
		key := r.Key(site)
		now := int64(1_763_900_000_000_000) + rng.Int64N(int64(p.DayLen))
		type res struct{ slot, t int64 }
		var granted []res
		for step := range steps {
			now += []int64{0, 1, rng.Int64N(1e5), rng.Int64N(1e6), rng.Int64N(p.DayLen)}[rng.IntN(5)]
			var op string
			var got scriptReply
			run := func(sc string, head int, in estimateArgs, extra ...any) {
				t.Helper()
				args := append(scriptArgs(now, p, 60_000, in, true), extra...)
				v, err := replyStrings(c.Eval(ctx, sc, []string{key, key + ":hot"}, args...))
				if err != nil {
					t.Fatalf("trial %d step %d %s: %v", trial, step, op, err)
				}
				got, err = parseReply(v, head)
				if err != nil {
					t.Fatalf("trial %d step %d %s: %v", trial, step, op, err)
				}
				if got.now != now {
					t.Fatalf("script used time %d, want the pinned %d", got.now, now)
				}
			}
			wantHead := func(want ...int64) {
				t.Helper()
				for i, w := range want {
					g, err := headInt(got.head, i)
					if err != nil || g != w {
						t.Fatalf("trial %d step %d %s: head[%d] = %q, model says %d (head %v)", trial, step, op, i, got.head[i], w, got.head)
					}
				}
			}
			switch k := rng.IntN(10); {
			case k < 4:
				op = "reserve"
				in := lookup
				if rng.IntN(8) == 0 {
					in = mkEst()
				}
				b := mkBatch()
				run(reserveScript, 7, in, "0", b.pack()) // no deadline
				rr := m.reserve(now, in, b, p)
				var flags int64
				if rr.Init {
					flags |= 1
				}
				if rr.Promoted {
					flags |= 4
				}
				switch rr.Change.Kind {
				case "slower":
					flags |= 8
				case "faster":
					flags |= 16
				}
				if b.N > 0 {
					seen["reserve with observations"]++
					seen["reserve:"+rr.Change.Kind]++
				}
				seen["reserve"]++
				if rr.Exhausted {
					seen["exhausted"]++
				}
				if rr.Promoted {
					seen["promoted"]++
				}
				if len(granted) > 0 && rr.Slot > now {
					seen["waited"]++
				}
				ok := int64(0)
				if !rr.Exhausted {
					ok = 1
					granted = append(granted, res{rr.Slot, rr.T})
				}
				wantHead(ok, flags, rr.Slot, rr.T, rr.Until, rr.Count, rr.Limit)
			case k < 7:
				op = "obs"
				a := obsArgs{
					Status:  []int64{200, 200, 404, 500, 503, 429, 0}[rng.IntN(7)],
					Latency: []int64{0, 1000, 5000, 200000, rng.Int64N(1e6)}[rng.IntN(5)],
					Jitter:  rng.Float64(),
				}
				if trial%2 == 0 && step > steps/2 { // a healthy spell, to see recovery
					a.Status, a.Latency = 200, 1000
				}
				if rng.IntN(2) == 0 {
					a.RetryAfter = rng.Int64N(10e6)
				}
				a.Err = a.Status == 0 || a.Status >= 500 || a.Status == 429
				e := "0"
				if a.Err {
					e = "1"
				}
				run(updateScript, 2, lookup, "obs", fmtInt(a.Status), fmtInt(a.Latency), fmtInt(a.RetryAfter), e, fmtNum(a.Jitter))
				init := m.ensure(now, lookup, p)
				ch := m.observe(now, a, p)
				seen[ch.Kind]++
				if got.head[0] != ch.Kind || (got.head[1] == "1") != init {
					t.Fatalf("trial %d step %d obs %+v: script %v, model %q init %v", trial, step, a, got.head, ch.Kind, init)
				}
			case k < 8 && rng.IntN(2) == 0:
				op = "batch"
				b := mkBatch()
				if b.N == 0 {
					b.N = 1
				}
				run(updateScript, 2, lookup, "batch", b.pack())
				init := m.ensure(now, lookup, p)
				ch := m.observeBatch(now, b, p)
				seen["batch:"+ch.Kind]++
				if got.head[0] != ch.Kind || (got.head[1] == "1") != init {
					t.Fatalf("trial %d step %d batch %+v: script %v, model %q init %v", trial, step, b, got.head, ch.Kind, init)
				}
			case k < 8:
				op = "robots"
				d := []int64{0, 1e6, 5e6, rng.Int64N(3e6)}[rng.IntN(4)]
				run(updateScript, 2, lookup, "robots", fmtInt(d))
				m.ensure(now, lookup, p)
				ch := m.setRobots(d)
				if got.head[0] != ch.Kind {
					t.Fatalf("trial %d step %d robots: script %q, model %q", trial, step, got.head[0], ch.Kind)
				}
			case k < 9:
				op = "estimate"
				e := mkEst()
				run(updateScript, 2, lookup, "estimate", packEstimate(e), e.Source)
				m.ensure(now, lookup, p)
				ch := m.reestimate(now, e, p)
				seen[ch.Reason]++
				want := ""
				if ch.Kind != "" {
					want = map[string]string{reasonLower: "estimate:lower", reasonRaise: "estimate:raise"}[ch.Reason]
				}
				if got.head[0] != want {
					t.Fatalf("trial %d step %d estimate: script %q, model %q", trial, step, got.head[0], want)
				}
			default:
				op = "cancel"
				if len(granted) == 0 {
					run(updateScript, 1, lookup, "status")
					break
				}
				// Often the latest grant, as a worker that gives up its
				// wait does: after a reservation that rolled the day,
				// that brings the day it replaced back.
				g := granted[len(granted)-1]
				if rng.IntN(2) == 0 {
					g = granted[rng.IntN(len(granted))]
				}
				run(updateScript, 1, lookup, "cancel", fmtInt(g.slot), fmtInt(g.t))
				day := m.Day
				m.cancel(g.slot, g.t, p)
				seen["cancel"]++
				if m.Day < day {
					seen["cancel restores the day"]++
					if dayIndex(now, p.DayLen) < day {
						seen["cancel restores today"]++
					}
				}
			}
			if !reflect.DeepEqual(got.st, m) {
				t.Fatalf("trial %d step %d %s: state differs\nscript %+v\nmodel  %+v", trial, step, op, got.st, m)
			}
		}
		c.Del(ctx, key, key+":hot")
	}
	t.Logf("paths covered: %v", seen)
	for _, k := range []string{"reserve", "exhausted", "promoted", "waited", "hold", "slower", "faster", reasonLower, reasonRaise, "cancel",
		"reserve with observations", "reserve:slower", "reserve:faster", "batch:", "batch:slower", "batch:faster",
		"cancel restores the day", "cancel restores today"} {
		if seen[k] == 0 {
			t.Errorf("no sequence took the %q path", k)
		}
	}
}

// A reservation that reaches Redis after its caller's deadline changes
// nothing.
func TestReserveAfterDeadlineChangesNothing(t *testing.T) {
	c := redistest.Client(t, redistest.Addr(t))
	ctx := context.Background()
	key := "goodbot:{" + redistest.Namespace(t) + ":late.example}"
	p := params{DayLen: 86400e6, Burst: 1, MaxHold: 1e6, BaseBackoff: 1e6, MaxBackoff: 1e6, Forgive: 1e6, AdaptEvery: 1e6, MaxFactor: 2}
	in := estimateArgs{Est: 1000, Low: 1000, High: 1000, Source: "t", Kind: 2, Budget: 100, BudgetT: 864e6}
	const now = 1_763_900_000_000_000
	for _, tc := range []struct {
		deadline int64
		ok       string
		exists   int64
	}{
		{now - 1, "2", 0},
		{now, "1", 1},
	} {
		v, err := replyStrings(c.Eval(ctx, reserveScript, []string{key, key + ":hot"}, append(scriptArgs(now, p, 60_000, in, false), fmtInt(tc.deadline))...))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := parseReply(v, 7)
		if err != nil {
			t.Fatal(err)
		}
		n, err := c.Exists(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if rep.head[0] != tc.ok || n != tc.exists {
			t.Errorf("deadline %d at %d: ok %s, key exists %d; want %s, %d", tc.deadline, int64(now), rep.head[0], n, tc.ok, tc.exists)
		}
	}
}

// A state the previous version wrote, all of it in one hash, is kept: the
// next reservation reads it, splits it into the hot key and the hash, and
// decides as the model does.
// previousState is a state the previous versions may have left, in the
// model: the key it goes under, the parameters and the estimate.
func previousState(t *testing.T, site string, p params) (c *redis.Client, key string, in estimateArgs, m state) {
	c = redistest.Client(t, redistest.Addr(t))
	key = "goodbot:{" + redistest.Namespace(t) + ":" + site + "}"
	t.Cleanup(func() { c.Del(context.Background(), key, key+":hot") })
	in = estimateArgs{Est: 1000, Low: 500, High: 2000, Source: "t", Kind: 2, Budget: 50, BudgetT: 1728e6}
	m.ensure(previousNow, in, p)
	m.Count, m.Granted, m.TAT, m.Robots = 7, 9, previousNow+5e6, 2e6
	return c, key, in, m
}

const previousNow = 1_763_900_000_000_000

func TestScriptReadsPreviousVersionState(t *testing.T) {
	ctx := context.Background()
	p := params{DayLen: 86400e6, Burst: 1, MaxHold: 1e6, BaseBackoff: 1e6, MaxBackoff: 1e6, Forgive: 1e6, AdaptEvery: 1e6, MaxFactor: 2}
	c, key, in, m := previousState(t, "old.example", p)
	const now = previousNow
	set := map[string]string{
		"tat": fmtInt(m.TAT), "day": fmtInt(m.Day), "cnt": fmtInt(m.Count), "gr": fmtInt(m.Granted),
		"rob": fmtInt(m.Robots), "fac": fmtNum(m.Factor), "est": fmtNum(m.Est), "lo": fmtNum(m.Low),
		"hi": fmtNum(m.High), "src": m.Source, "psrc": "", "kind": fmtInt(m.Kind), "bud": fmtNum(m.Budget),
		"bT": fmtInt(m.BudgetT),
	}
	old := []any{}
	for _, f := range stateFields {
		v, ok := set[f]
		if !ok {
			v = "0"
		}
		old = append(old, f, v)
	}
	if err := c.HSet(ctx, key, old...).Err(); err != nil {
		t.Fatal(err)
	}
	v, err := replyStrings(c.Eval(ctx, reserveScript, []string{key, key + ":hot"}, append(scriptArgs(now+1, p, 60_000, in, true), "0")...))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := parseReply(v, 7)
	if err != nil {
		t.Fatal(err)
	}
	rr := m.reserve(now+1, in, obsBatch{}, p)
	if g, _ := headInt(rep.head, 2); g != rr.Slot || rep.head[1] != "0" || !reflect.DeepEqual(rep.st, m) {
		t.Errorf("reserve on the old state: head %v state %+v\nmodel slot %d state %+v", rep.head, rep.st, rr.Slot, m)
	}
	if n, err := c.HExists(ctx, key, "tat").Result(); err != nil || n {
		t.Errorf("the hash still holds tat after the split: %v %v", n, err)
	}
}

// The previous version's hot key, eight doubles without the adaptive
// fields (its hash held those), is kept: the next reservation reads both,
// rewrites the hot key with the adaptive fields, and decides as the model
// does.
func TestScriptReadsPreviousHotKey(t *testing.T) {
	ctx := context.Background()
	p := params{DayLen: 86400e6, Burst: 1, MaxHold: 1e6, BaseBackoff: 1e6, MaxBackoff: 1e6, Forgive: 1e6, AdaptEvery: 1, MaxFactor: 4}
	c, key, in, m := previousState(t, "oldhot.example", p)
	const now = previousNow
	m.Factor, m.EWMA, m.Base, m.ErrRate, m.NObs, m.Adapt = 1.5, 40000, 10000, 0.05, 12, now-1e6
	set := map[string]string{
		"rob": fmtInt(m.Robots), "fac": fmtNum(m.Factor), "est": fmtNum(m.Est), "lo": fmtNum(m.Low),
		"hi": fmtNum(m.High), "src": m.Source, "psrc": "", "kind": fmtInt(m.Kind), "bud": fmtNum(m.Budget),
		"bT": fmtInt(m.BudgetT), "ewma": fmtNum(m.EWMA), "base": fmtNum(m.Base), "err": fmtNum(m.ErrRate),
		"nobs": fmtInt(m.NObs), "adapt": fmtInt(m.Adapt),
	}
	var cold []string
	for _, f := range stateFields {
		switch f {
		case "tat", "day", "cnt", "gr", "hold", "pday":
			continue // the hot key's
		}
		cold = append(cold, f)
	}
	writeOldState(t, c, key, []float64{float64(m.TAT), float64(m.Day), float64(m.Count), float64(m.Granted), float64(m.Hold), float64(m.interval()), float64(dailyLimit(m.Budget)), float64(m.PendDay)}, cold, set)
	b := obsBatch{N: 2, LatN: 2, LatSum: 2e6} // slow answers: slower
	v, err := replyStrings(c.Eval(ctx, reserveScript, []string{key, key + ":hot"}, append(scriptArgs(now+1, p, 60_000, in, true), "0", b.pack())...))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := parseReply(v, 7)
	if err != nil {
		t.Fatal(err)
	}
	rr := m.reserve(now+1, in, b, p)
	if g, _ := headInt(rep.head, 2); g != rr.Slot || rr.Change.Kind != "slower" || !reflect.DeepEqual(rep.st, m) {
		t.Errorf("reserve on the old hot key: head %v state %+v\nmodel slot %d change %q state %+v", rep.head, rep.st, rr.Slot, rr.Change.Kind, m)
	}
	if n, err := c.StrLen(ctx, key+":hot").Result(); err != nil || n != 16*8 {
		t.Errorf("hot key is %d bytes (%v), want 16 doubles", n, err)
	}
	if n, err := c.HExists(ctx, key, "ewma").Result(); err != nil || n {
		t.Errorf("the hash still holds ewma after the rewrite: %v %v", n, err)
	}
}

// The previous version's hot key, fourteen doubles without the day a
// reservation into a later day replaced, is read as remembering none: the
// next reservation, which here rolls the day, rewrites it in sixteen, and
// giving that reservation back brings today's count back, as the model
// does.
func TestScriptReadsFourteenDoubleHotKey(t *testing.T) {
	ctx := context.Background()
	p := params{DayLen: 86400e6, Burst: 1, MaxHold: 1e6, BaseBackoff: 1e6, MaxBackoff: 1e6, Forgive: 1e6, AdaptEvery: 1e6, MaxFactor: 4}
	c, key, in, m := previousState(t, "hot14.example", p)
	const now = previousNow
	m.TAT = (m.Day+1)*p.DayLen + 1e6 // the next slot is in the next day
	m.Factor, m.EWMA, m.Base, m.ErrRate, m.NObs, m.Adapt = 1.5, 40000, 10000, 0.05, 12, now-1e6
	set := map[string]string{
		"rob": fmtInt(m.Robots), "est": fmtNum(m.Est), "lo": fmtNum(m.Low), "hi": fmtNum(m.High), "src": m.Source,
		"psrc": "", "kind": fmtInt(m.Kind), "bud": fmtNum(m.Budget), "bT": fmtInt(m.BudgetT),
	}
	writeOldState(t, c, key, []float64{float64(m.TAT), float64(m.Day), float64(m.Count), float64(m.Granted), float64(m.Hold), float64(m.interval()),
		float64(dailyLimit(m.Budget)), float64(m.PendDay), m.Factor, m.EWMA, m.Base, m.ErrRate, float64(m.NObs), float64(m.Adapt)},
		[]string{"est", "lo", "hi", "src", "kind", "bud", "bT", "pest", "plo", "phi", "psrc", "pkind", "pbud", "pbT", "rob", "k"}, set)
	eval := func(sc string, head int, extra ...any) scriptReply {
		t.Helper()
		v, err := replyStrings(c.Eval(ctx, sc, []string{key, key + ":hot"}, append(scriptArgs(now+1, p, 60_000, in, true), extra...)...))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := parseReply(v, head)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := eval(updateScript, 1, "status"); !reflect.DeepEqual(rep.st, m) {
		t.Fatalf("status of the 14-double hot key: %+v\nmodel %+v", rep.st, m)
	}
	today, count := m.Day, m.Count
	rep := eval(reserveScript, 7, "0", "")
	rr := m.reserve(now+1, in, obsBatch{}, p)
	if g, _ := headInt(rep.head, 2); g != rr.Slot || m.Day != today+1 || !reflect.DeepEqual(rep.st, m) {
		t.Fatalf("reserve on the 14-double hot key: head %v state %+v\nmodel slot %d state %+v", rep.head, rep.st, rr.Slot, m)
	}
	if n, err := c.StrLen(ctx, key+":hot").Result(); err != nil || n != 16*8 {
		t.Errorf("hot key is %d bytes (%v), want 16 doubles", n, err)
	}
	rep = eval(updateScript, 1, "cancel", fmtInt(rr.Slot), fmtInt(rr.T))
	m.cancel(rr.Slot, rr.T, p)
	if m.Day != today || m.Count != count || !reflect.DeepEqual(rep.st, m) {
		t.Errorf("after giving the next-day reservation back: state %+v\nmodel %+v; want day %d count %d", rep.st, m, today, count)
	}
}

// writeOldState writes a site's state as an earlier version stored it:
// the hot key as the doubles hot, little-endian, and the hash with the
// fields cold, each set[f] or "0".
func writeOldState(t *testing.T, c *redis.Client, key string, hot []float64, cold []string, set map[string]string) {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 0, 8*len(hot))
	for _, v := range hot {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	var fields []any
	for _, f := range cold {
		v, ok := set[f]
		if !ok {
			v = "0"
		}
		fields = append(fields, f, v)
	}
	if err := c.HSet(ctx, key, fields...).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, key+":hot", b, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
}
