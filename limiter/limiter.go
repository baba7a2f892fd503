// Package limiter keeps the load goodbot puts on each site below a budget
// derived from an estimate of the site's daily traffic.
//
// A Limiter is consulted by the crawler's outgoing-request gate for every
// request it sends, including robots.txt fetches, redirect hops and retries.
// Sites are named by their site key (see internal/site): "example.com",
// "127.0.0.1:8080".
//
// # Budget
//
// A site's daily budget is Share × its estimated daily traffic, with
// 0 < Share < 1/3 (default 0.1; see CheckShare and Article16). The budget is
// paced as a smooth rate, one request every T = 24 h / budget (burst 1 by
// default), and a counter per calendar day (UTC) bounds the day's total
// even when the pacing changes during the day. robots.txt (Crawl-delay,
// Request-rate) and the adaptive slow-down can only raise T. A lower
// re-estimate applies at once, a higher one from the next day.
//
// # Estimates
//
// Every estimate carries its source and time, and a range: low, central and
// high (Estimate). The budget is computed from the low end. In order of
// precedence: an operator's agreement (Agreement), the user's estimate
// (ParseTraffic, LoadTrafficFile), a rank-based estimate (LoadRankFile,
// RankEstimate: a table of the page views measured in each CrUX rank
// bucket, whose low end is the quietest site the bucket held), and for
// unknown sites DefaultPerDay, 20 requests a day, which gives 2 requests a
// day at the default share. Estimate.Line is the progress line that says so.
//
// # Adaptive politeness
//
// Observe holds a site after a 429 or 503: for its Retry-After (capped by
// Config.MaxHold, logged when above Config.LongHold), or without one for
// 60 s × 2^k with up to 25% jitter, capped, the doubling forgiven after 30
// quiet minutes. A latency average (EWMA) above twice its baseline, or an
// error rate above 20%, multiplies T by 1.5 (at most once per
// Config.AdaptEvery, up to Config.MaxSlowdown); healthy answers divide it
// back down by steps of ×0.9, never below the budget's T. Every change is an
// audit.Budget event with its reason.
//
// # Backends
//
// Local paces the workers of one process with golang.org/x/time/rate.
// Redis shares the state of every site among all processes of a job, one
// Lua script call per request in steady state (ordinary answers ride on
// the next reservation), with
// Redis's clock, and fails closed: when Redis cannot be reached, nothing is
// granted. Its grants carry a send window (Grant.Latest, Retaker): a
// request that could not leave within it is given back rather than sent
// bunched with the next, so that what a site sees is bounded, not only
// what was decided.
package limiter

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limiter paces requests to each site. Implementations are safe for
// concurrent use by many goroutines (and, for shared backends, by many
// processes).
type Limiter interface {
	// Wait blocks until one request to site may be sent, charges it to the
	// site's budget, and returns the grant. Nothing may be sent to the site
	// without a grant. Wait returns an error, and charges nothing, when ctx
	// ends, when the site's daily budget is spent (a *ExhaustedError), when
	// ctx has a deadline and the site's next slot is after it (a
	// *LaterError, returned at once), or when the limiter cannot reach its
	// state (fail closed).
	Wait(ctx context.Context, site string) (Grant, error)

	// Observe reports how the site answered a granted request, so that the
	// limiter can slow down or hold the site. It can only lower the rate,
	// never raise it above the budget.
	Observe(ctx context.Context, site string, o Observation) error

	// SetRobotsDelay applies the minimum interval between requests that the
	// site's robots.txt asks for (Crawl-delay, or Request-rate n/m as m/n).
	// Zero means robots.txt asks for nothing.
	SetRobotsDelay(ctx context.Context, site string, d time.Duration) error

	// Status reports a site's current pacing, for progress output.
	Status(ctx context.Context, site string) (Status, error)
}

// Grant is the limiter's permission to send one request.
type Grant struct {
	At       time.Time     // when the request may be sent
	Waited   time.Duration // how long Wait blocked
	Interval time.Duration // the pacing interval in force for the site
	// Latest is the last instant, by this process's clock, at which the
	// request may still be sent under this grant; zero when any time after
	// At will do. A sender that cannot send by then gives the grant back
	// with Retaker.Retake instead of sending late, bunched with the
	// request of the next slot.
	Latest time.Time
}

// Retaker is implemented by limiters whose grants carry a Latest instant.
type Retaker interface {
	// Retake gives back g, a grant for site that can no longer be used in
	// time, and waits for a new one, as Wait does.
	Retake(ctx context.Context, site string, g Grant) (Grant, error)
}

// Observation is how a site answered one request.
type Observation struct {
	Status     int           // HTTP status; 0 when there was no answer
	Latency    time.Duration // time to response headers
	RetryAfter time.Duration // from a Retry-After header; 0 when absent
	Err        error         // network error or timeout, if any
}

// Status is a site's pacing at one moment.
type Status struct {
	Site           string
	EstimatePerDay float64 // central figure of the estimate
	EstimateLow    float64 // low end of the estimate, which the budget comes from
	EstimateHigh   float64 // high end of the estimate
	Source         string  // where the estimate came from
	BudgetPerDay   float64
	Interval       time.Duration // current interval, including robots and adaptive slow-down
	HoldUntil      time.Time     // zero when the site is not held
	SentToday      int64
	Granted        int64 // grants since the limiter's state for the site was created
}

// String returns a one-line summary of s for progress output.
func (s Status) String() string {
	out := fmt.Sprintf("%s: budget %s/day (estimate %s/day, %s), interval %s, sent today %d",
		s.Site, formatCount(s.BudgetPerDay), formatCount(s.EstimatePerDay), s.Source, s.Interval, s.SentToday)
	if !s.HoldUntil.IsZero() {
		out += ", held until " + s.HoldUntil.UTC().Format(time.RFC3339)
	}
	return out
}

// ExhaustedError reports that a site's daily budget is spent.
type ExhaustedError struct {
	Site  string
	Limit int64
	Until time.Time // when the next day's budget opens
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("limiter: %s: daily budget of %d requests spent until %s", e.Site, e.Limit, e.Until.UTC().Format(time.RFC3339))
}

// LaterError reports that a site's next free slot is after the deadline of
// the context given to Wait. Nothing was charged; the caller may come back
// at At.
type LaterError struct {
	Site string
	At   time.Time
}

func (e *LaterError) Error() string {
	return fmt.Sprintf("limiter: %s: next slot at %s, after the caller's deadline", e.Site, e.At.UTC().Format(time.RFC3339Nano))
}

// ErrUnavailable reports that the limiter's shared state cannot be reached.
// No request is sent until it answers again.
var ErrUnavailable = errors.New("limiter: state unavailable")
