package limiter

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/goodbot/goodbot/audit"
)

// Config configures a limiter. The zero value of every field but Estimates
// and Sink selects the documented default.
type Config struct {
	// Share is the fraction of a site's estimated daily traffic goodbot
	// allows itself: 0 < Share < 1/3 (see CheckShare). Zero means
	// DefaultShare.
	Share float64
	// Estimates holds the traffic estimates; sites it does not know get
	// DefaultPerDay. Nil knows no site.
	Estimates *Estimates
	// Burst is how many requests may go at once after a quiet spell.
	// Zero means 1: requests are evenly paced.
	Burst int
	// DayLength is the length of the day the budget and the daily counter
	// are measured in. Zero means 24 h, i.e. calendar days in UTC. Tests
	// shorten it to see day roll-over in seconds.
	DayLength time.Duration
	// Now returns the current time (Local only; Redis uses the server's
	// TIME). Nil means time.Now.
	Now func() time.Time
	// Sink receives an audit.Budget event for every change that affects
	// grants: the initial budget of a site, holds, slow-downs, recoveries,
	// re-estimates and robots.txt delays. Nil means audit.Discard. When
	// Record fails, the call that caused the event returns the error.
	Sink audit.Sink
	// Logger receives warnings (very long holds, Redis failures). Nil
	// discards them.
	Logger *slog.Logger
	// MaxHold caps any hold, including one asked for by Retry-After. Zero
	// means 24 h.
	MaxHold time.Duration
	// LongHold is the hold above which a warning is logged. Zero means 1 h.
	LongHold time.Duration
	// BaseBackoff is the first hold after a 429 or 503 without Retry-After;
	// each further one doubles it, up to MaxBackoff, plus up to 25% jitter.
	// Zero means 60 s (as Nutch and StormCrawler).
	BaseBackoff time.Duration
	// MaxBackoff caps the doubling. Zero means 24 h.
	MaxBackoff time.Duration
	// Forgive is the quiet time after a hold ends that resets the doubling.
	// Zero means 30 min.
	Forgive time.Duration
	// AdaptEvery is the least time between two adaptive changes of the
	// interval, so that a burst of slow answers slows the site once, not
	// once per answer. Zero means 30 s.
	AdaptEvery time.Duration
	// MaxSlowdown caps the adaptive factor on the interval. Zero means 16.
	MaxSlowdown float64
	// Jitter returns a number in [0, 1) for back-off jitter. Nil means
	// math/rand/v2.Float64.
	Jitter func() float64
	// Timeout bounds each call to shared state (Redis only). Zero means 2 s.
	Timeout time.Duration
}

// settings is a Config with its defaults applied.
type settings struct {
	Config
	p params
}

func (c Config) settings() (*settings, error) {
	if c.Share == 0 {
		c.Share = DefaultShare
	}
	if err := CheckShare(c.Share); err != nil {
		return nil, err
	}
	if c.Burst == 0 {
		c.Burst = 1
	}
	def := func(d *time.Duration, v time.Duration, name string) error {
		if *d == 0 {
			*d = v
		}
		if *d < time.Microsecond {
			return fmt.Errorf("limiter: %s %v must be at least 1µs", name, *d)
		}
		return nil
	}
	for _, f := range []struct {
		d    *time.Duration
		v    time.Duration
		name string
	}{
		{&c.DayLength, 24 * time.Hour, "DayLength"},
		{&c.MaxHold, 24 * time.Hour, "MaxHold"},
		{&c.LongHold, time.Hour, "LongHold"},
		{&c.BaseBackoff, time.Minute, "BaseBackoff"},
		{&c.MaxBackoff, 24 * time.Hour, "MaxBackoff"},
		{&c.Forgive, 30 * time.Minute, "Forgive"},
		{&c.AdaptEvery, 30 * time.Second, "AdaptEvery"},
		{&c.Timeout, 2 * time.Second, "Timeout"},
	} {
		if err := def(f.d, f.v, f.name); err != nil {
			return nil, err
		}
	}
	if c.Burst < 1 {
		return nil, fmt.Errorf("limiter: Burst %d must be at least 1", c.Burst)
	}
	if c.MaxSlowdown == 0 {
		c.MaxSlowdown = 16
	}
	if math.IsNaN(c.MaxSlowdown) || c.MaxSlowdown < 1 || math.IsInf(c.MaxSlowdown, 0) {
		return nil, fmt.Errorf("limiter: MaxSlowdown %v must be a finite number of at least 1", c.MaxSlowdown)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sink == nil {
		c.Sink = audit.Discard{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Jitter == nil {
		c.Jitter = rand.Float64
	}
	return &settings{Config: c, p: params{
		DayLen:      c.DayLength.Microseconds(),
		Burst:       int64(c.Burst),
		MaxHold:     c.MaxHold.Microseconds(),
		BaseBackoff: c.BaseBackoff.Microseconds(),
		MaxBackoff:  c.MaxBackoff.Microseconds(),
		Forgive:     c.Forgive.Microseconds(),
		AdaptEvery:  c.AdaptEvery.Microseconds(),
		MaxFactor:   c.MaxSlowdown,
	}}, nil
}

// estimateFor returns the estimate arguments for e under these settings.
// The budget comes from the low end of the estimate's range.
func (s *settings) estimateFor(e Estimate) estimateArgs {
	low, high := e.Range()
	b := Budget(low, s.Share)
	src := e.Source
	if src == "" {
		src = e.Kind.String()
	}
	return estimateArgs{Est: e.PerDay, Low: low, High: high, Source: src, Kind: int64(e.Kind), Budget: b, BudgetT: budgetIntervalMicros(b, s.p.DayLen)}
}

// jitter returns a jitter draw clamped to [0, 1).
func (s *settings) jitter() float64 {
	j := s.Jitter()
	if !(j >= 0) || j >= 1 {
		return 0
	}
	return j
}

// observation reduces o to the model's arguments.
func (s *settings) observation(o Observation) (obsArgs, error) {
	if o.Status < 0 || o.Status > 999 {
		return obsArgs{}, fmt.Errorf("limiter: observation: bad HTTP status %d", o.Status)
	}
	if o.Latency < 0 || o.RetryAfter < 0 {
		return obsArgs{}, fmt.Errorf("limiter: observation: negative latency %v or Retry-After %v", o.Latency, o.RetryAfter)
	}
	a := obsArgs{
		Status:     int64(o.Status),
		RetryAfter: o.RetryAfter.Microseconds(),
		Err:        o.Err != nil || o.Status >= 500 || o.Status == 429 || o.Status == 0,
	}
	if o.Status > 0 {
		a.Latency = max(o.Latency.Microseconds(), 1)
	}
	if o.Status == 429 || o.Status == 503 {
		a.Jitter = s.jitter()
		if o.RetryAfter > 0 && o.RetryAfter < time.Microsecond {
			a.RetryAfter = 1
		}
	}
	return a, nil
}

// record sends a budget event for st's site, if c is a change, and warns
// about very long holds.
func (s *settings) record(ctx context.Context, site string, now int64, st *state, c change) error {
	if c.Kind == "" {
		return nil
	}
	b := &audit.Budget{
		EstimatePerDay: st.Est,
		EstimateLow:    st.Low,
		EstimateHigh:   st.High,
		Source:         kindSource(st.Kind, st.Source),
		Share:          s.Share,
		BudgetPerDay:   st.Budget,
		Interval:       durationMicros(st.interval()),
		Change:         c.Kind,
		Reason:         c.Reason,
	}
	if st.Hold > now {
		b.HoldUntil = time.UnixMicro(st.Hold).UTC()
		if c.Kind == "hold" && durationMicros(st.Hold-now) > s.LongHold {
			s.Logger.LogAttrs(ctx, slog.LevelWarn, "limiter: long hold", slog.String("site", site),
				slog.Duration("hold", durationMicros(st.Hold-now)), slog.String("reason", c.Reason))
		}
	}
	if c.Kind == "initial" && b.Reason == "" {
		b.Reason = Estimate{Site: site, PerDay: st.Est, Low: st.Low, High: st.High, Kind: Kind(st.Kind), Source: st.Source}.Line(s.Share)
	}
	ev := audit.Event{Type: audit.TypeBudget, Time: time.UnixMicro(now).UTC(), Site: site, Budget: b}
	if err := s.Sink.Record(ctx, ev); err != nil {
		return fmt.Errorf("limiter: %s: recording %s event: %w", site, c.Kind, err)
	}
	return nil
}

func kindSource(k int64, src string) string {
	if Kind(k) == KindDefault {
		return src
	}
	return Kind(k).String() + ": " + src
}

// status builds a Status from st at now.
func (s *settings) status(site string, now int64, st *state) Status {
	if !st.Exists {
		e := s.Estimates.Lookup(site)
		a := s.estimateFor(e)
		return Status{Site: site, EstimatePerDay: e.PerDay, EstimateLow: a.Low, EstimateHigh: a.High, Source: kindSource(a.Kind, a.Source), BudgetPerDay: a.Budget, Interval: durationMicros(a.BudgetT)}
	}
	out := Status{
		Site:           site,
		EstimatePerDay: st.Est,
		EstimateLow:    st.Low,
		EstimateHigh:   st.High,
		Source:         kindSource(st.Kind, st.Source),
		BudgetPerDay:   st.Budget,
		Interval:       durationMicros(st.interval()),
		Granted:        st.Granted,
	}
	if st.Hold > now {
		out.HoldUntil = time.UnixMicro(st.Hold).UTC()
	}
	if st.Day == dayIndex(now, s.p.DayLen) {
		out.SentToday = st.Count
	}
	return out
}
