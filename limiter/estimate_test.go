package limiter

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseTraffic(t *testing.T) {
	e, err := ParseTraffic("Example.COM:8080=1728000")
	if err != nil {
		t.Fatal(err)
	}
	if e.Site != "example.com:8080" || e.PerDay != 1728000 || e.Kind != KindUser || e.Source != "--traffic" || e.At.IsZero() {
		t.Errorf("ParseTraffic = %+v", e)
	}
	for _, tc := range []struct{ in, want string }{
		{"example.com", "want HOST=REQUESTS_PER_DAY"},
		{"=5", "empty host"},
		{"http://example.com=5", "not a URL"},
		{"example.com=abc", `"abc" is not a number`},
		{"example.com=-3", "positive"},
		{"example.com=0", "positive"},
		{"example.com=NaN", "positive"},
		{"example.com=Inf", "positive"},
	} {
		_, err := ParseTraffic(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.in) {
			t.Errorf("ParseTraffic(%q) error = %v, want one naming the input and containing %q", tc.in, err, tc.want)
		}
	}
}

func TestReadTraffic(t *testing.T) {
	in := "\ufeffhost,requests_per_day,source\n# comment\nexample.com,5000,server logs Oct 2026\n\"a.example:81\",12.5,\"operator, by mail\"\n"
	es, err := ReadTraffic(strings.NewReader(in), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 {
		t.Fatalf("got %d estimates, want 2: %+v", len(es), es)
	}
	if es[0].Site != "example.com" || es[0].PerDay != 5000 || es[0].Source != "t.csv:3 (server logs Oct 2026)" || es[0].Kind != KindUser {
		t.Errorf("first = %+v", es[0])
	}
	if es[1].Site != "a.example:81" || es[1].PerDay != 12.5 || es[1].Source != "t.csv:4 (operator, by mail)" {
		t.Errorf("second = %+v", es[1])
	}
	for _, tc := range []struct{ in, want string }{
		{"example.com,5\n", "t.csv:1: want 3 fields"},
		{"example.com,x,y\n", `t.csv:1: requests per day "x"`},
		{"host,requests_per_day,source\nexample.com,5,\n", "t.csv:2: empty source"},
		{"a b,5,s\n", "t.csv:1: site"},
		{"\"unterminated,5,s\n", "t.csv"},
	} {
		_, err := ReadTraffic(strings.NewReader(tc.in), "t.csv")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadTraffic(%q) error = %v, want %q", tc.in, err, tc.want)
		}
	}
	p := filepath.Join(t.TempDir(), "traffic.csv")
	if err := os.WriteFile(p, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	if es, err := LoadTrafficFile(p); err != nil || len(es) != 2 {
		t.Errorf("LoadTrafficFile = %v, %v", es, err)
	}
	if _, err := LoadTrafficFile(filepath.Join(t.TempDir(), "missing.csv")); err == nil {
		t.Error("LoadTrafficFile of a missing file succeeded")
	}
}

func TestReadRanks(t *testing.T) {
	crux := "origin,rank\nhttps://www.example.com,1000\nhttp://www.example.com,5000\nhttps://b.example:8443,10000000\n"
	es, err := ReadRanks(strings.NewReader(crux), "crux.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 {
		t.Fatalf("got %+v, want 2 sites", es)
	}
	// The same site in two buckets keeps the estimate with the lower low end.
	b5k, _ := RankEstimate(5000)
	want := "crux.csv:3 (rank 5000, bucket 5000 of ranking-to-pageviews 2024+2025, 28 sites)"
	if e := es[0]; e.Site != "www.example.com" || e.Low != b5k.Low || e.PerDay != b5k.Central || e.High != b5k.High || e.Kind != KindRank || e.Source != want {
		t.Errorf("first = %+v, want bucket %+v from %q", e, b5k, want)
	}
	if e := es[1]; e.Site != "b.example:8443" || e.Low != 3.8 || e.PerDay != 3.8 || e.High != 3.8 ||
		e.Source != "crux.csv:4 (rank 10000000, past the last bucket of ranking-to-pageviews 2024+2025: its low end)" {
		t.Errorf("second = %+v, want the last bucket's low end, 3.8/day, as the whole range", e)
	}
	tranco, err := ReadRanks(strings.NewReader("1,google.com\n2,Example.ORG\n"), "tranco.csv")
	if err != nil {
		t.Fatal(err)
	}
	b1k, _ := RankEstimate(1)
	if len(tranco) != 2 || tranco[1].Site != "example.org" || tranco[1].Low != b1k.Low {
		t.Errorf("tranco = %+v", tranco)
	}
	for _, e := range append(es, tranco...) {
		if err := e.Validate(); err != nil {
			t.Error(err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"1,2\n", "one integer rank"},
		{"x,y\na,b\n", "r.csv:2"},
		{"0,example.com\n", "at least 1"},
		{"https://example.com/path,1000\n", "not a URL with a path"},
		{"ftp://example.com,1000\n", "want http(s)://host"},
		{"1,example.com,3\n", "want 2 fields"},
	} {
		_, err := ReadRanks(strings.NewReader(tc.in), "r.csv")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadRanks(%q) error = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestEstimatesPrecedence(t *testing.T) {
	es, err := NewEstimates()
	if err != nil {
		t.Fatal(err)
	}
	if d := es.Lookup("unknown.example"); d.Kind != KindDefault || d.PerDay != DefaultPerDay {
		t.Errorf("default = %+v", d)
	}
	var nilSet *Estimates
	if d := nilSet.Lookup("x.example"); d.PerDay != DefaultPerDay {
		t.Errorf("nil set lookup = %+v", d)
	}
	add := func(e Estimate) {
		t.Helper()
		if err := es.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	add(Estimate{Site: "a.example", PerDay: 1000, Source: "rank", Kind: KindRank})
	agr, err := Agreement("A.example", 1e6, "letter of 2026-11-01")
	if err != nil {
		t.Fatal(err)
	}
	add(agr)
	add(Estimate{Site: "a.example", PerDay: 5, Source: "--traffic", Kind: KindUser})
	if got := es.Lookup("a.example"); got.Kind != KindAgreement || got.PerDay != 1e6 || got.Source != "agreement: letter of 2026-11-01" {
		t.Errorf("after agreement and user: %+v", got)
	}
	add(Estimate{Site: "b.example", PerDay: 10, Source: "x", Kind: KindUser})
	add(Estimate{Site: "b.example", PerDay: 20, Source: "y", Kind: KindUser})
	if got := es.Lookup("b.example"); got.PerDay != 20 {
		t.Errorf("same kind: later should win, got %+v", got)
	}
	if _, err := Agreement("c.example", 100, " "); err == nil {
		t.Error("Agreement without a name succeeded")
	}
	for _, bad := range []Estimate{
		{Site: "Upper.example", PerDay: 1, Kind: KindUser},
		{Site: "ok.example", PerDay: 0, Kind: KindUser},
		{Site: "ok.example", PerDay: math.Inf(1), Kind: KindUser},
		{Site: "ok.example", PerDay: 1, Kind: Kind(9)},
	} {
		if err := es.Add(bad); err == nil {
			t.Errorf("Add(%+v) succeeded", bad)
		}
	}
}

func TestEstimateLine(t *testing.T) {
	d := (*Estimates)(nil).Lookup("example.com")
	if got, want := d.Line(0.1), "example.com: traffic unknown, assuming 20/day, cap 2/day; pass --traffic to set an estimate"; got != want {
		t.Errorf("Line = %q\nwant   %q", got, want)
	}
	e := Estimate{Site: "example.com", PerDay: 1728000, Source: "--traffic", Kind: KindUser, At: time.Now()}
	if got, want := e.Line(0.1), "example.com: traffic 1728000/day (user: --traffic), cap 172800/day, one request every 500ms"; got != want {
		t.Errorf("Line = %q\nwant   %q", got, want)
	}
}

func TestCheckShare(t *testing.T) {
	for _, ok := range []float64{0.1, 0.01, 0.333} {
		if err := CheckShare(ok); err != nil {
			t.Errorf("CheckShare(%v) = %v", ok, err)
		}
	}
	for _, bad := range []float64{0, -0.1, math.NaN(), 1.0 / 3, 0.34, 1, math.Inf(1)} {
		err := CheckShare(bad)
		if err == nil {
			t.Errorf("CheckShare(%v) succeeded", bad)
			continue
		}
		if bad >= 1.0/3 && !strings.Contains(err.Error(), "one-third of the website's average daily traffic") {
			t.Errorf("CheckShare(%v) = %v, want Article 16 quoted", bad, err)
		}
	}
	if _, err := NewLocal(Config{Share: 0.5}); err == nil || !strings.Contains(err.Error(), "Article 16") {
		t.Errorf("NewLocal with share 0.5: %v", err)
	}
}

func TestBudgetInterval(t *testing.T) {
	for _, tc := range []struct {
		perDay, share float64
		want          time.Duration
		limit         int64
	}{
		{1728000, 0.1, 500 * time.Millisecond, 172800},
		{DefaultPerDay, 0.1, 12 * time.Hour, 2},
		{86400, 0.1, 10 * time.Second, 8640},
		{3, 0.1, 24 * time.Hour, 0},                // below one request a day: none
		{7e6, 0.1, 124 * time.Millisecond, 700000}, // 123.43 ms rounded up to a µs
	} {
		b := Budget(tc.perDay, tc.share)
		got := budgetInterval(b, 24*time.Hour)
		if tc.perDay == 7e6 {
			tc.want = time.Duration(math.Ceil(86400e6/7e5)) * time.Microsecond
		}
		if got != tc.want || dailyLimit(b) != tc.limit {
			t.Errorf("%v/day × %v: interval %v limit %d, want %v %d", tc.perDay, tc.share, got, dailyLimit(b), tc.want, tc.limit)
		}
	}
	if dayIndex(-1, 10) != -1 || dayIndex(0, 10) != 0 || dayIndex(19, 10) != 1 {
		t.Error("dayIndex wrong around zero")
	}
}

func FuzzParseTraffic(f *testing.F) {
	for _, s := range []string{"example.com=5", "[::1]:8080=1e6", "a=b=c", "=", "example.com=-0", "x.example=1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseTraffic(s)
		if err != nil {
			return
		}
		if verr := e.Validate(); verr != nil {
			t.Fatalf("ParseTraffic(%q) = %+v, which does not validate: %v", s, e, verr)
		}
	})
}

func FuzzReadTraffic(f *testing.F) {
	f.Add("host,requests_per_day,source\nexample.com,5,logs\n")
	f.Add("a.example:1,1e3,\"x,y\"\n")
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ReadTraffic(strings.NewReader(s), "f")
		if err != nil {
			return
		}
		for _, e := range es {
			if verr := e.Validate(); verr != nil {
				t.Fatalf("ReadTraffic(%q) gave %+v: %v", s, e, verr)
			}
		}
	})
}

func FuzzReadRanks(f *testing.F) {
	f.Add("origin,rank\nhttps://www.example.com,1000\n")
	f.Add("1,google.com\n2,example.org\n")
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ReadRanks(strings.NewReader(s), "f")
		if err != nil {
			return
		}
		for _, e := range es {
			if verr := e.Validate(); verr != nil || e.Kind != KindRank {
				t.Fatalf("ReadRanks(%q) gave %+v: %v", s, e, verr)
			}
		}
	})
}

func TestStatusString(t *testing.T) {
	s := Status{Site: "example.com", EstimatePerDay: 1728000, Source: "user: --traffic", BudgetPerDay: 172800,
		Interval: 500 * time.Millisecond, SentToday: 7, HoldUntil: time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)}
	want := "example.com: budget 172800/day (estimate 1728000/day, user: --traffic), interval 500ms, sent today 7, held until 2026-11-23T15:00:00Z"
	if got := s.String(); got != want {
		t.Errorf("String = %q\nwant     %q", got, want)
	}
}
