package limiter

import (
	"math"
	"strings"
	"testing"
	"time"
)

// The embedded table, as crux_pageviews.csv has it and as RankEstimate
// reads it (see rank.go): low ends are running minima from the most
// popular bucket down, high ends running maxima from the least popular up.
func TestRankTable(t *testing.T) {
	want := []RankBucket{
		{Rank: 1000, Sites: 4, Low: 3074677.7, Central: 10256971.5, High: 13428336.7},
		{Rank: 5000, Sites: 28, Low: 7.2, Central: 2625819.1, High: 11343689.8},
		{Rank: 10000, Sites: 16, Low: 7.2, Central: 1408014.8, High: 11343689.8},
		{Rank: 50000, Sites: 105, Low: 4.4, Central: 305054.9, High: 11343689.8},
		{Rank: 100000, Sites: 126, Low: 4.4, Central: 97955.2, High: 11343689.8},
		{Rank: 500000, Sites: 626, Low: 3.8, Central: 22051.1, High: 3745836.0},
		{Rank: 1000000, Sites: 516, Low: 3.8, Central: 6923.5, High: 215174.9},
	}
	got := RankTable()
	if len(got) != len(want) {
		t.Fatalf("RankTable has %d buckets, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("bucket %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	got[0].Low = 1 // the caller's copy
	if RankTable()[0].Low != want[0].Low {
		t.Error("RankTable returned the table itself")
	}
}

// Every bucket edge: the bound itself is in the bucket, the next rank in
// the next one, and past the last bucket the last low end is the range.
func TestRankEstimateEdges(t *testing.T) {
	table := RankTable()
	for i, b := range table {
		lo := int64(1)
		if i > 0 {
			lo = table[i-1].Rank + 1
		}
		for _, r := range []int64{lo, (lo + b.Rank) / 2, b.Rank} {
			got, ok := RankEstimate(r)
			if !ok || got != b {
				t.Errorf("RankEstimate(%d) = %+v, %v; want bucket %+v", r, got, ok, b)
			}
		}
	}
	last := table[len(table)-1]
	for _, r := range []int64{last.Rank + 1, 5e6, 5e7, 1 << 62} {
		got, ok := RankEstimate(r)
		if ok || got.Low != last.Low || got.Central != last.Low || got.High != last.Low || got.Rank != r {
			t.Errorf("RankEstimate(%d) = %+v, %v; want the last low end %v as the whole range", r, got, ok, last.Low)
		}
	}
	for i := 1; i < len(table); i++ {
		p, b := table[i-1], table[i]
		if b.Low > p.Low || b.Central > p.Central || b.High > p.High {
			t.Errorf("bucket %d is above the more popular bucket %d: %+v, %+v", b.Rank, p.Rank, b, p)
		}
	}
	for _, b := range table {
		if !(b.Low > 0 && b.Low <= b.Central && b.Central <= b.High) {
			t.Errorf("bucket %+v: want 0 < low <= central <= high", b)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("RankEstimate(0) did not panic")
		}
	}()
	RankEstimate(0)
}

func TestParseRankTableRefuses(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"bucket,sites,min,median,max\n", "empty"},
		{"1000,4,1,2\n", "want bucket,sites,min,median,max"},
		{"1000,4,x,2,3\n", "invalid syntax"},
		{"1000,4,3,2,1\n", "want 0 < min <= median <= max"},
		{"1000,4,0,2,3\n", "want 0 < min <= median <= max"},
		{"1000,4,1,2,3\n1000,4,1,2,3\n", "bucket 1000 after 1000"},
	} {
		_, err := parseRankTable(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseRankTable(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

// The budget comes from the low end of the range.
func TestBudgetFromLowEnd(t *testing.T) {
	l, err := NewLocal(Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := Estimate{Site: "a.example", PerDay: 10256971.5, Low: 3074677.7, High: 13428336.7, Source: "r.csv:2", Kind: KindRank, At: time.Now()}
	a := l.s.estimateFor(e)
	if a.Budget != Budget(3074677.7, DefaultShare) || a.Low != 3074677.7 || a.High != 13428336.7 || a.Est != 10256971.5 {
		t.Errorf("estimateFor = %+v, want the budget from the low end", a)
	}
	point := Estimate{Site: "a.example", PerDay: 500, Source: "--traffic", Kind: KindUser}
	if a := l.s.estimateFor(point); a.Low != 500 || a.High != 500 || a.Budget != 50 {
		t.Errorf("estimateFor(point) = %+v, want low = high = 500", a)
	}
}

func TestEstimateRangeValidate(t *testing.T) {
	for _, bad := range []Estimate{
		{Site: "a.example", PerDay: 10, Low: 11, Kind: KindRank},
		{Site: "a.example", PerDay: 10, High: 9, Kind: KindRank},
		{Site: "a.example", PerDay: 10, Low: -1, Kind: KindRank},
		{Site: "a.example", PerDay: 10, High: math.Inf(1), Kind: KindRank},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) succeeded", bad)
		}
	}
	ok := Estimate{Site: "a.example", PerDay: 10, Low: 1, High: 100, Kind: KindRank}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}

func TestEstimateLineRange(t *testing.T) {
	e := Estimate{Site: "a.example", PerDay: 10256971.5, Low: 3074677.7, High: 13428336.7, Source: "r.csv:2 (rank 1000)", Kind: KindRank}
	want := "a.example: traffic 3074678 to 13428337/day, central 10256972 (rank: r.csv:2 (rank 1000)), cap 307468/day from the low end, one request every 281.006ms"
	if got := e.Line(0.1); got != want {
		t.Errorf("Line = %q\nwant   %q", got, want)
	}
	q := Estimate{Site: "q.example", PerDay: 6923.5, Low: 3.8, High: 215174.9, Source: "r.csv:3", Kind: KindRank}
	want = "q.example: traffic 3.8 to 215175/day, central 6924 (rank: r.csv:3), cap 0.38/day from the low end: nothing is sent; pass --traffic with the site's own figure, or --agreement with its operator's"
	if got := q.Line(0.1); got != want {
		t.Errorf("Line = %q\nwant   %q", got, want)
	}
}
