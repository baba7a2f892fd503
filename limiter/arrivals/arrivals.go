// Package arrivals analyses when requests reached a site (or were granted),
// to check a limiter's promise: in any window of length W, at most
// B + W/T requests, for burst B and interval T.
//
// The limiter's benchmark harness uses it on the times of grants and of
// arrivals at a loopback origin; so can a test of the whole crawler that
// logs arrival times.
package arrivals

import (
	"math"
	"slices"
	"time"
)

// MaxInWindow returns the largest number of the instants in times that fall
// in any half-open window [t, t+w). times need not be sorted; it is not
// modified.
func MaxInWindow(times []time.Time, w time.Duration) int {
	ts := make([]time.Time, len(times))
	copy(ts, times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, j := 0, 0
	for i := range ts {
		// Windows starting at an instant are the only ones that can hold
		// the most.
		for j < len(ts) && ts[j].Sub(ts[i]) < w {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// Bound returns B + W/T, the most requests a GCRA limiter with burst b and
// interval t allows in any window of length w.
func Bound(b int, t, w time.Duration) float64 {
	return float64(b) + float64(w)/float64(t)
}

// Report is a window check of one series of instants.
type Report struct {
	Window time.Duration
	Max    int     // most instants in any window
	Bound  float64 // B + W/T
	Ratio  float64 // Max / Bound
}

// Check returns a Report for each window.
func Check(times []time.Time, burst int, interval time.Duration, windows ...time.Duration) []Report {
	out := make([]Report, 0, len(windows))
	for _, w := range windows {
		m := MaxInWindow(times, w)
		b := Bound(burst, interval, w)
		out = append(out, Report{Window: w, Max: m, Bound: b, Ratio: float64(m) / b})
	}
	return out
}

// Utilisation returns how much of the cap a series used: the number of
// instants after the first, divided by the span they cover over the
// interval. It is 1 when requests went exactly every interval, and NaN for
// fewer than two instants.
func Utilisation(times []time.Time, interval time.Duration) float64 {
	if len(times) < 2 {
		return math.NaN()
	}
	first, last := slices.MinFunc(times, func(a, b time.Time) int { return a.Compare(b) }), slices.MaxFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	span := last.Sub(first)
	if span <= 0 {
		return math.Inf(1)
	}
	return float64(len(times)-1) / (float64(span) / float64(interval))
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of ds by the nearest-rank
// method, or 0 for an empty slice.
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}
