package limiter

import (
	"fmt"
	"math"
)

// This file is the pure-Go model of a site's limiter state. Times are whole
// microseconds since the Unix epoch, durations whole microseconds. The Redis
// backend runs the same arithmetic in Lua (script.go); the two are
// property-tested against each other, so every floating-point step here is
// written as the script does it, with explicit conversions to prevent fused
// multiply-adds.

// params are the settings every decision about a site uses.
type params struct {
	DayLen      int64 // length of a day
	Burst       int64 // requests that may go at once after a quiet spell
	MaxHold     int64 // cap on any hold
	BaseBackoff int64 // first hold after a 429/503 without Retry-After
	MaxBackoff  int64 // cap on such holds (before jitter)
	Forgive     int64 // quiet time after a hold that resets the back-off
	AdaptEvery  int64 // least time between two adaptive changes
	MaxFactor   float64
}

// estimateArgs carry an estimate and the budget derived from it.
type estimateArgs struct {
	Est     float64 // central figure
	Low     float64 // low end: the budget's basis
	High    float64
	Source  string
	Kind    int64
	Budget  float64 // requests per day
	BudgetT int64   // pacing interval of the budget
}

// state is everything known about one site.
type state struct {
	Exists  bool
	TAT     int64 // theoretical arrival time of the next request (GCRA)
	Day     int64 // day of the counter
	Count   int64 // requests charged to Day
	Granted int64 // grants since the state was created

	// PrevDay and PrevCount are the day and count that a reservation into
	// a later day replaced (charge starts the slot's day at 0). If that
	// reservation is given back and nothing else is left counted in the
	// new day, cancel brings them back: without it, a reservation past
	// midnight that was not used (its run ended, it was retaken) would
	// leave the site's count for today at 0. PrevDay == Day when no such
	// day is remembered; PrevCount means nothing then.
	PrevDay   int64
	PrevCount int64

	Est     float64
	Low     float64
	High    float64
	Source  string
	Kind    int64
	Budget  float64
	BudgetT int64

	PendEst     float64 // a raised estimate waiting for PendDay; 0 when none
	PendLow     float64
	PendHigh    float64
	PendSource  string
	PendKind    int64
	PendBudget  float64
	PendBudgetT int64
	PendDay     int64

	Robots  int64   // robots.txt delay
	Factor  float64 // adaptive slow-down, ≥ 1
	Hold    int64   // no request before this instant
	K       int64   // back-off exponent
	EWMA    float64 // latency
	Base    float64 // baseline latency
	ErrRate float64
	NObs    int64
	Adapt   int64 // time of the last adaptive change
}

// change describes what an operation changed, for the audit event.
type change struct {
	Kind   string // "", "initial", "hold", "slower", "faster", "estimate", "robots"
	Reason string
}

// ensure creates the state from in if it does not exist yet, and reports
// whether it did.
func (s *state) ensure(now int64, in estimateArgs, p params) bool {
	if s.Exists {
		return false
	}
	*s = state{Exists: true, Factor: 1}
	s.setDay(dayIndex(now, p.DayLen), 0)
	s.setEstimate(in)
	return true
}

// setDay sets the day's counter to count requests on day d, forgetting the
// day a reservation replaced: what is set was not rolled by a reservation,
// so no give-back may undo it.
func (s *state) setDay(d, count int64) {
	s.Day, s.Count, s.PrevDay, s.PrevCount = d, count, d, 0
}

func (s *state) setEstimate(in estimateArgs) {
	s.Est, s.Low, s.High, s.Source, s.Kind, s.Budget, s.BudgetT = in.Est, in.Low, in.High, in.Source, in.Kind, in.Budget, in.BudgetT
	s.clearPending()
}

func (s *state) clearPending() {
	s.PendEst, s.PendLow, s.PendHigh, s.PendSource, s.PendKind, s.PendBudget, s.PendBudgetT, s.PendDay = 0, 0, 0, "", 0, 0, 0, 0
}

// interval is the pacing interval in force: the budget's, raised by
// robots.txt and by the adaptive factor.
func (s *state) interval() int64 {
	return int64(math.Ceil(float64(max(s.BudgetT, s.Robots)) * s.Factor))
}

// reserveResult is the outcome of one reservation.
type reserveResult struct {
	Init, Promoted bool
	Exhausted      bool
	Slot           int64 // when the request may be sent
	T              int64 // interval charged
	Until          int64 // when exhausted: start of the next day
	Count, Limit   int64
	Change         change // what the observations applied with it changed
}

// reserve is the decision the Redis script makes: reserve the next free slot
// for one request at or after now, or report that the day's budget is spent.
// in is used only to create the state; change it with reestimate. b is the
// caller's observations since its last reservation (see obsBatch), applied
// first, so that the slot is paced at the interval they lead to.
func (s *state) reserve(now int64, in estimateArgs, b obsBatch, p params) reserveResult {
	var r reserveResult
	r.Init = s.ensure(now, in, p)
	r.Change = s.observeBatch(now, b, p)
	t := s.interval()
	slot := max(now, s.Hold, s.TAT-(p.Burst-1)*t)
	r.Promoted = s.promote(slot, p)
	t = s.interval()
	if !s.charge(slot, p, &r) {
		return r
	}
	s.TAT = max(s.TAT, slot) + t
	r.Slot, r.T = slot, t
	return r
}

// promote applies a pending raised estimate once slot falls on or after
// the day it waits for.
func (s *state) promote(slot int64, p params) bool {
	if s.PendEst > 0 && dayIndex(slot, p.DayLen) >= s.PendDay {
		s.setEstimate(estimateArgs{Est: s.PendEst, Low: s.PendLow, High: s.PendHigh, Source: s.PendSource, Kind: s.PendKind, Budget: s.PendBudget, BudgetT: s.PendBudgetT})
		return true
	}
	return false
}

// charge counts one request at slot against its day, or reports the day's
// budget spent.
func (s *state) charge(slot int64, p params, r *reserveResult) bool {
	d := max(dayIndex(slot, p.DayLen), s.Day)
	if d > s.Day {
		s.PrevDay, s.PrevCount = s.Day, s.Count
		s.Day, s.Count = d, 0
	}
	r.Limit = dailyLimit(s.Budget)
	if s.Count >= r.Limit {
		r.Exhausted, r.Until, r.Count = true, (d+1)*p.DayLen, s.Count
		return false
	}
	s.Count++
	s.Granted++
	r.Count = s.Count
	return true
}

// cancel gives back a reservation that was not used: the day's count, and
// the pacing slot if no later reservation was made. When the count of a
// day that a reservation rolled into drops back to 0, the reservation was
// the only one left counted in that day, and the day it replaced comes
// back with its count (see PrevDay).
func (s *state) cancel(slot, t int64, p params) {
	if !s.Exists {
		return
	}
	if dayIndex(slot, p.DayLen) == s.Day && s.Count > 0 {
		s.Count--
		if s.Count == 0 && s.PrevDay < s.Day {
			s.Day, s.Count = s.PrevDay, s.PrevCount
		}
	}
	if s.Granted > 0 {
		s.Granted--
	}
	if s.TAT == slot+t {
		s.TAT = slot
	}
}

// obsArgs is one observation, reduced to what the arithmetic needs.
type obsArgs struct {
	Status     int64
	Latency    int64 // 0 when there was no answer
	RetryAfter int64
	Err        bool    // network error, 5xx, 429
	Jitter     float64 // in [0, 1), drawn by the caller
}

// observe applies the site's answer to one request: holds on 429/503, and
// the adaptive slow-down and recovery.
// The state must exist (see ensure).
func (s *state) observe(now int64, o obsArgs, p params) change {
	var c change
	x := 0.0
	if o.Err {
		x = 1
	}
	s.NObs++
	s.ErrRate = float64(0.9*s.ErrRate) + float64(0.1*x)
	if o.Latency > 0 {
		lat := float64(o.Latency)
		if s.EWMA == 0 {
			s.EWMA = lat
		} else {
			s.EWMA = float64(0.8*s.EWMA) + float64(0.2*lat)
		}
		if s.Base == 0 || s.EWMA < s.Base {
			s.Base = s.EWMA
		}
	}
	if o.Status == 429 || o.Status == 503 {
		var d int64
		if o.RetryAfter > 0 {
			d = min(o.RetryAfter, p.MaxHold)
		} else {
			if s.K > 0 && now >= s.Hold+p.Forgive {
				s.K = 0
			}
			d = p.BaseBackoff
			for i := int64(0); i < s.K && d < p.MaxBackoff; i++ {
				d *= 2
			}
			d = min(d, p.MaxBackoff)
			d = int64(math.Floor(float64(d) * float64(1+o.Jitter/4)))
			d = min(d, p.MaxHold)
			if s.K < 62 {
				s.K++
			}
		}
		if now+d > s.Hold {
			s.Hold = now + d
			return change{Kind: "hold", Reason: holdReason(o, s.K, d)}
		}
		return c
	}
	return s.adapt(now, o.Err, p)
}

// adapt makes the adaptive change, if any, that the latency average and
// the error rate call for after an observation; isErr says that the
// observation (or one of a batch) was an error, which rules out speeding up.
func (s *state) adapt(now int64, isErr bool, p params) change {
	var c change
	slowLatency := s.EWMA > float64(2*s.Base)
	slowErrors := s.ErrRate > 0.2
	if s.NObs >= 5 && (slowLatency || slowErrors) {
		if now-s.Adapt >= p.AdaptEvery && s.Factor < p.MaxFactor {
			s.Factor = min(float64(s.Factor*1.5), p.MaxFactor)
			s.Adapt = now
			return change{Kind: "slower", Reason: slowReason(s)}
		}
		return c
	}
	if !isErr && s.Factor > 1 && now-s.Adapt >= p.AdaptEvery {
		s.Factor = max(float64(s.Factor*0.9), 1)
		s.Adapt = now
		return change{Kind: "faster", Reason: "site healthy again"}
	}
	return c
}

// obsBatch sums up the ordinary observations (answers that ask for no
// hold: not a 429 or 503) that one process made of a site since its last
// reservation. The Redis backend ships it with the next reservation rather
// than call Redis once per answer; holds still go at once (observe).
type obsBatch struct {
	N      int64 // observations
	Errs   int64 // of which errors (network errors, 5xx)
	LatN   int64 // of which had an answer, with a latency
	LatSum int64 // sum of those latencies
}

// pack formats b as the scripts read it; empty when b holds nothing.
func (b obsBatch) pack() string {
	if b.N == 0 {
		return ""
	}
	return fmtInt(b.N) + " " + fmtInt(b.Errs) + " " + fmtInt(b.LatN) + " " + fmtInt(b.LatSum)
}

// maxBatchSteps bounds the decay steps a batch applies: after 256 steps
// the old average weighs less than 0.9^256 ≈ 2e-12.
const maxBatchSteps = 256

// add counts one ordinary observation into b.
func (b *obsBatch) add(o obsArgs) {
	b.N++
	if o.Err {
		b.Errs++
	}
	if o.Latency > 0 {
		b.LatN++
		b.LatSum += o.Latency
	}
}

// merge adds the observations of o into b.
func (b *obsBatch) merge(o obsBatch) {
	b.N, b.Errs, b.LatN, b.LatSum = b.N+o.N, b.Errs+o.Errs, b.LatN+o.LatN, b.LatSum+o.LatSum
}

// decay returns f^n, n capped at maxBatchSteps, multiplied out as the
// script does (a power function may differ between Go and Lua in the last
// bit).
func decay(f float64, n int64) float64 {
	a := 1.0
	for range min(n, maxBatchSteps) {
		a = float64(a * f)
	}
	return a
}

// observeBatch applies a batch of ordinary observations as if they had
// come one by one with the batch's mean error rate and mean latency: the
// averages decay by one step per observation, then the adaptive change,
// at most one, is made. A batch with an error cannot speed the site up.
// The state must exist.
func (s *state) observeBatch(now int64, b obsBatch, p params) change {
	if b.N <= 0 {
		return change{}
	}
	s.NObs += b.N
	a := decay(0.9, b.N)
	s.ErrRate = float64(a*s.ErrRate) + float64(float64(1-a)*float64(float64(b.Errs)/float64(b.N)))
	if b.LatN > 0 {
		mean := float64(b.LatSum) / float64(b.LatN)
		if s.EWMA == 0 {
			s.EWMA = mean
		} else {
			w := decay(0.8, b.LatN)
			s.EWMA = float64(w*s.EWMA) + float64(float64(1-w)*mean)
		}
		if s.Base == 0 || s.EWMA < s.Base {
			s.Base = s.EWMA
		}
	}
	return s.adapt(now, b.Errs > 0, p)
}

// setRobots records the delay robots.txt asks for. The state must exist.
func (s *state) setRobots(d int64) change {
	if s.Robots == d {
		return change{}
	}
	s.Robots = d
	return change{Kind: "robots", Reason: robotsReason(d)}
}

// reestimate applies a new estimate: a lower budget at once, a higher one
// from the next day. The state must exist.
func (s *state) reestimate(now int64, in estimateArgs, p params) change {
	switch {
	case in.Budget < s.Budget:
		s.setEstimate(in)
		return change{Kind: "estimate", Reason: reasonLower}
	case in.Budget > s.Budget:
		s.PendEst, s.PendLow, s.PendHigh, s.PendSource, s.PendKind, s.PendBudget, s.PendBudgetT = in.Est, in.Low, in.High, in.Source, in.Kind, in.Budget, in.BudgetT
		s.PendDay = dayIndex(now, p.DayLen) + 1
		return change{Kind: "estimate", Reason: reasonRaise}
	}
	return change{}
}

func micros(us int64) string {
	return fmt.Sprint(durationMicros(us))
}

// Reasons of budget events.
const (
	reasonLower    = "lower estimate applies at once"
	reasonRaise    = "higher estimate applies from the next day"
	reasonPromoted = "higher estimate applies from today"
)

func holdReason(o obsArgs, k, d int64) string {
	if o.RetryAfter > 0 {
		return fmt.Sprintf("HTTP %d with Retry-After %s, hold %s", o.Status, micros(o.RetryAfter), micros(d))
	}
	return fmt.Sprintf("HTTP %d without Retry-After, back-off step %d, hold %s", o.Status, k, micros(d))
}

func slowReason(s *state) string {
	if s.EWMA > float64(2*s.Base) {
		return fmt.Sprintf("latency %s above twice its baseline %s", micros(int64(s.EWMA)), micros(int64(s.Base)))
	}
	return fmt.Sprintf("error rate %.2f", s.ErrRate)
}

func robotsReason(d int64) string {
	return "robots.txt asks for " + micros(d) + " between requests"
}
