package arrivals

import (
	"math"
	"testing"
	"time"
)

func at(ms ...int) []time.Time {
	base := time.Unix(1000, 0)
	out := make([]time.Time, len(ms))
	for i, m := range ms {
		out[i] = base.Add(time.Duration(m) * time.Millisecond)
	}
	return out
}

func TestMaxInWindow(t *testing.T) {
	ts := at(900, 0, 100, 999, 1000, 1500)
	for _, tc := range []struct {
		w    time.Duration
		want int
	}{
		{time.Millisecond, 1},
		{100 * time.Millisecond, 2},  // 900 and 999; 0 and 100 are 100 ms apart, outside [0,100)
		{101 * time.Millisecond, 3},  // 900, 999, 1000
		{time.Second, 4},             // 900..1500 holds 900, 999, 1000, 1500
		{1001 * time.Millisecond, 5}, // 0..1000
		{time.Hour, 6},
	} {
		if got := MaxInWindow(ts, tc.w); got != tc.want {
			t.Errorf("MaxInWindow(%v) = %d, want %d", tc.w, got, tc.want)
		}
	}
	if MaxInWindow(nil, time.Second) != 0 {
		t.Error("empty series")
	}
	if !ts[0].Equal(time.Unix(1000, 0).Add(900 * time.Millisecond)) {
		t.Error("MaxInWindow modified its input")
	}
}

func TestBoundAndCheck(t *testing.T) {
	if b := Bound(1, 500*time.Millisecond, 10*time.Second); b != 21 {
		t.Errorf("Bound = %v, want 21", b)
	}
	// Evenly paced every 500 ms: 2 per 1 s window (+1 for a closed window
	// would be 3, half-open keeps it at 2), within B + W/T = 3.
	var ms []int
	for i := range 40 {
		ms = append(ms, i*500)
	}
	r := Check(at(ms...), 1, 500*time.Millisecond, time.Second, 10*time.Second)
	if r[0].Max != 2 || r[0].Bound != 3 || r[1].Max != 20 || r[1].Bound != 21 {
		t.Errorf("Check = %+v", r)
	}
	if u := Utilisation(at(ms...), 500*time.Millisecond); math.Abs(u-1) > 1e-9 {
		t.Errorf("Utilisation = %v, want 1", u)
	}
	if u := Utilisation(at(0, 1000), 500*time.Millisecond); math.Abs(u-0.5) > 1e-9 {
		t.Errorf("Utilisation = %v, want 0.5", u)
	}
}

func TestQuantile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i))
	}
	if Quantile(ds, 0.5) != 50 || Quantile(ds, 0.99) != 99 || Quantile(ds, 1) != 100 || Quantile(ds, 0) != 1 {
		t.Errorf("quantiles: %v %v %v", Quantile(ds, 0.5), Quantile(ds, 0.99), Quantile(ds, 1))
	}
	if Quantile(nil, 0.5) != 0 {
		t.Error("empty")
	}
}
