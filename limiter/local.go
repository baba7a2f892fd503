package limiter

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Local is the in-process Limiter: one golang.org/x/time/rate.Limiter per
// site for the pacing, plus the hold, the daily counter and the adaptive
// slow-down. It paces the workers of one process only; use Redis when
// several processes crawl the same sites.
type Local struct {
	s *settings

	mu    sync.Mutex
	sites map[string]*localSite
}

type localSite struct {
	st   state
	lim  *rate.Limiter
	t    int64 // interval lim is set to
	last int64 // latest instant passed to lim

	announced bool // the initial event was recorded, or is being recorded
}

var _ Limiter = (*Local)(nil)

// NewLocal returns an in-process limiter.
func NewLocal(cfg Config) (*Local, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	return &Local{s: s, sites: make(map[string]*localSite)}, nil
}

func (l *Local) now() int64 { return l.s.Now().UnixMicro() }

func timeMicros(us int64) time.Time { return time.UnixMicro(us) }

func limitFor(t int64) rate.Limit { return rate.Limit(1e6 / float64(t)) }

// site returns the state of key, creating it; the caller holds l.mu.
func (l *Local) site(key string, now int64) (*localSite, change) {
	ls, ok := l.sites[key]
	if ok {
		if !ls.announced { // an earlier attempt to record it failed
			ls.announced = true
			return ls, change{Kind: "initial"}
		}
		return ls, change{}
	}
	ls = &localSite{announced: true}
	ls.st.ensure(now, l.s.estimateFor(l.s.Estimates.Lookup(key)), l.s.p)
	ls.t = ls.st.interval()
	ls.lim = rate.NewLimiter(limitFor(ls.t), l.s.Burst)
	ls.last = now
	l.sites[key] = ls
	return ls, change{Kind: "initial"}
}

// sync brings the rate limiter in line with the state's interval; the
// caller holds l.mu.
func (ls *localSite) sync(now int64) {
	if t := ls.st.interval(); t != ls.t {
		// Never hand x/time/rate an instant before one it has seen: it
		// would move its clock back and credit the gap.
		ls.last = max(ls.last, now)
		ls.lim.SetLimitAt(timeMicros(ls.last), limitFor(t))
		ls.t = t
	}
}

// Wait implements Limiter. It reserves the next slot, sleeps until it
// (giving the reservation back if ctx ends first), and re-reserves if a
// hold began while it slept.
func (l *Local) Wait(ctx context.Context, site string) (Grant, error) {
	start := l.now()
	for {
		if err := ctx.Err(); err != nil {
			return Grant{}, err
		}
		l.mu.Lock()
		now := l.now()
		ls, c := l.site(site, now)
		t0 := max(now, ls.st.Hold, ls.last)
		ls.last = t0
		r := ls.lim.ReserveN(timeMicros(t0), 1)
		if !r.OK() {
			l.mu.Unlock()
			return Grant{}, fmt.Errorf("limiter: %s: rate limiter refused a reservation", site)
		}
		slot := t0 + (r.DelayFrom(timeMicros(t0)) + time.Microsecond - 1).Microseconds()
		var rr reserveResult
		promoted := ls.st.promote(slot, l.s.p)
		if promoted {
			ls.sync(t0)
		}
		ok := ls.st.charge(slot, l.s.p, &rr)
		if !ok {
			r.CancelAt(timeMicros(ls.last))
		}
		snapshot := ls.st
		interval := ls.t
		l.mu.Unlock()

		err := l.announce(ctx, site, ls, now, &snapshot, c)
		if err == nil && promoted {
			err = l.s.record(ctx, site, now, &snapshot, change{Kind: "estimate", Reason: reasonPromoted})
		}
		if err != nil {
			if ok {
				l.giveBack(ls, r, slot, true)
			}
			return Grant{}, err
		}
		if !ok {
			return Grant{}, &ExhaustedError{Site: site, Limit: rr.Limit, Until: timeMicros(rr.Until).UTC()}
		}
		if dl, has := ctx.Deadline(); has && slot > dl.UnixMicro() {
			l.giveBack(ls, r, slot, true)
			return Grant{}, &LaterError{Site: site, At: timeMicros(slot).UTC()}
		}
		if err := sleepUntil(ctx, l.s.Now, slot); err != nil {
			l.giveBack(ls, r, slot, true)
			return Grant{}, err
		}
		l.mu.Lock()
		held := ls.st.Hold > slot
		l.mu.Unlock()
		if held {
			// A hold began while we slept: this slot is inside it.
			l.giveBack(ls, r, slot, true)
			continue
		}
		l.mu.Lock()
		// The next slot, for SaveState: a later run waits for it.
		ls.st.TAT = max(ls.st.TAT, slot+interval)
		l.mu.Unlock()
		return Grant{At: timeMicros(slot), Waited: durationMicros(l.now() - start), Interval: durationMicros(interval)}, nil
	}
}

// announce records the site's initial event, if c is one, and notes when
// that failed so that the next call tries again.
func (l *Local) announce(ctx context.Context, site string, ls *localSite, now int64, st *state, c change) error {
	if c.Kind != "initial" {
		return nil
	}
	if err := l.s.record(ctx, site, now, st, c); err != nil {
		l.mu.Lock()
		ls.announced = false
		l.mu.Unlock()
		return err
	}
	return nil
}

// giveBack returns an unused reservation.
func (l *Local) giveBack(ls *localSite, r *rate.Reservation, slot int64, charged bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// x/time/rate refunds only reservations whose time has not passed at
	// the instant given, and must not see an instant before its last one.
	r.CancelAt(timeMicros(ls.last))
	if charged {
		// cancel also brings back the day's count if the slot was the
		// only one counted in a day it rolled the counter into.
		ls.st.cancel(slot, 0, l.s.p)
	}
}

// sleepUntil sleeps until the instant at (µs, by now's clock) or until ctx
// ends.
func sleepUntil(ctx context.Context, now func() time.Time, at int64) error {
	d := durationMicros(at - now().UnixMicro())
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// Observe implements Limiter.
func (l *Local) Observe(ctx context.Context, site string, o Observation) error {
	a, err := l.s.observation(o)
	if err != nil {
		return fmt.Errorf("%w (site %s)", err, site)
	}
	l.mu.Lock()
	now := l.now()
	ls, c0 := l.site(site, now)
	c := ls.st.observe(now, a, l.s.p)
	ls.sync(now)
	snapshot := ls.st
	l.mu.Unlock()
	if err := l.announce(ctx, site, ls, now, &snapshot, c0); err != nil {
		return err
	}
	return l.s.record(ctx, site, now, &snapshot, c)
}

// SetRobotsDelay implements Limiter.
func (l *Local) SetRobotsDelay(ctx context.Context, site string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("limiter: %s: negative robots.txt delay %v", site, d)
	}
	l.mu.Lock()
	now := l.now()
	ls, c0 := l.site(site, now)
	c := ls.st.setRobots(d.Microseconds())
	ls.sync(now)
	snapshot := ls.st
	l.mu.Unlock()
	if err := l.announce(ctx, site, ls, now, &snapshot, c0); err != nil {
		return err
	}
	return l.s.record(ctx, site, now, &snapshot, c)
}

// SetEstimate applies a new estimate for e.Site: a lower budget at once, a
// higher one from the next day.
func (l *Local) SetEstimate(ctx context.Context, e Estimate) error {
	if err := e.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	now := l.now()
	ls, c0 := l.site(e.Site, now)
	c := ls.st.reestimate(now, l.s.estimateFor(e), l.s.p)
	ls.sync(now)
	snapshot := ls.st
	l.mu.Unlock()
	if err := l.announce(ctx, e.Site, ls, now, &snapshot, c0); err != nil {
		return err
	}
	return l.s.record(ctx, e.Site, now, &snapshot, c)
}

// Status implements Limiter.
func (l *Local) Status(ctx context.Context, site string) (Status, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	ls, ok := l.sites[site]
	if !ok {
		return l.s.status(site, now, &state{}), nil
	}
	return l.s.status(site, now, &ls.st), nil
}

// Resume charges site with requests sent for it before this Local existed,
// by earlier runs that shared its operation log: the day's count includes
// those sent today, and the next grant comes no earlier than one interval
// after the last of them. A crawl restarted every hour thus keeps the one
// budget a day. sent need not be sorted; times on other days only set the
// interval's start. A hold the site asked for (holdUntil, zero for none)
// still holds.
func (l *Local) Resume(site string, sent []time.Time, holdUntil time.Time) {
	if len(sent) == 0 && holdUntil.IsZero() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	ls, ok := l.sites[site]
	if !ok {
		ls, _ = l.site(site, now)
		ls.announced = false // the first Wait still records the initial budget
	}
	day := dayIndex(now, l.s.p.DayLen)
	var last, today int64
	for _, t := range sent {
		us := t.UnixMicro()
		last = max(last, us)
		if dayIndex(us, l.s.p.DayLen) == day {
			today++
		}
	}
	switch {
	case ls.st.Day == day:
		ls.st.Count = max(ls.st.Count, today)
	case ls.st.Day < day:
		ls.st.setDay(day, today)
	}
	if len(sent) > 0 {
		if next := last + ls.t; next > ls.last {
			ls.last = next
		}
	}
	if h := holdUntil.UnixMicro(); !holdUntil.IsZero() && h > ls.st.Hold {
		ls.st.Hold = h
	}
}

// SaveState returns the state of every site, for a durable store to keep
// across restarts (see LoadState): the day's count, holds, back-off and the
// adaptive slow-down. The bytes are opaque to the caller.
func (l *Local) SaveState() ([]byte, error) {
	l.mu.Lock()
	saved := savedState{Version: 1, Sites: make(map[string]state, len(l.sites))}
	for k, ls := range l.sites {
		saved.Sites[k] = ls.st
	}
	l.mu.Unlock()
	return json.Marshal(saved)
}

type savedState struct {
	Version int              `json:"version"`
	Sites   map[string]state `json:"sites"`
}

// LoadState restores what SaveState returned in an earlier run. A site's
// day count, holds, back-off and slow-down carry over; its estimate and
// budget come from this Local's configuration. The first grant of each
// restored site records its budget again, so that each run's log states it.
// Sites this Local already knows keep the stricter of the two states.
func (l *Local) LoadState(b []byte) error {
	var saved savedState
	if err := json.Unmarshal(b, &saved); err != nil {
		return fmt.Errorf("limiter: saved state: %w", err)
	}
	if saved.Version != 1 {
		return fmt.Errorf("limiter: saved state has version %d, want 1", saved.Version)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for k, st := range saved.Sites {
		if !st.Exists {
			continue
		}
		ls, ok := l.sites[k]
		if !ok {
			ls, _ = l.site(k, now)
			ls.announced = false
		}
		cur := &ls.st
		if st.Day > cur.Day {
			// The earlier run's reservations are not given back here.
			cur.setDay(st.Day, st.Count)
		} else if st.Day == cur.Day {
			cur.Count = max(cur.Count, st.Count)
		}
		cur.Granted = max(cur.Granted, st.Granted)
		cur.Hold = max(cur.Hold, st.Hold)
		cur.K = max(cur.K, st.K)
		cur.Robots = max(cur.Robots, st.Robots)
		cur.Factor = max(cur.Factor, st.Factor)
		if cur.NObs == 0 {
			cur.EWMA, cur.Base, cur.ErrRate, cur.NObs, cur.Adapt = st.EWMA, st.Base, st.ErrRate, st.NObs, st.Adapt
		}
		ls.sync(now)
		ls.notBefore(now, st.TAT)
	}
	return nil
}

// notBefore makes the rate limiter grant nothing before tat, the earliest
// next slot an earlier run left (its last grant plus one interval), by
// taking its tokens up to then; the caller holds l.mu. Without it the
// first request after a restart would go out at once, however recently
// the last run sent one.
func (ls *localSite) notBefore(now, tat int64) {
	if tat <= now || ls.t <= 0 {
		return
	}
	ls.st.TAT = max(ls.st.TAT, tat)
	ls.last = max(ls.last, now)
	at := timeMicros(ls.last)
	// The bucket's tokens, then one per interval up to tat.
	n := ls.lim.Burst() + int((tat-now+ls.t-1)/ls.t) - 1
	for range min(n, 10_000) {
		ls.lim.ReserveN(at, 1)
	}
}
