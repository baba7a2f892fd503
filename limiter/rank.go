package limiter

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goodbot/goodbot/internal/site"
)

// A popularity rank says little about a site's traffic: in the published
// data that map Chrome UX Report (CrUX) rank buckets to measured page views,
// the sites of one bucket spread over four to six orders of magnitude
// (thibaudcolas/ranking-to-pageviews: in the 1M bucket, 4.6 to 215,175
// page views a day, median 6,924). A fitted curve through the medians is
// safe only for the median site. goodbot therefore reads a rank as a range
// and budgets from its low end, the quietest site the bucket was seen to
// hold.
//
// The table is crux_pageviews.csv, embedded below: per bucket, the number
// of sites and the minimum, median and maximum page views a day, from two
// snapshots of that dataset (2024 and 2025). It is read as follows:
//
//   - Low is the least minimum of the bucket and of every more popular
//     bucket. A less popular site can be quieter than the quietest popular
//     one, never louder at the low end: the 5000 bucket held a site with
//     7.2 page views a day, so no bucket below it gets a higher low end.
//   - High is the greatest maximum of the bucket and of every less popular
//     bucket, by the same argument.
//   - Central is the bucket's median, never above a more popular bucket's,
//     and kept within [Low, High].
//
// The minima are partly measurement artefacts (sites that carry the
// analytics tag on only some pages), but goodbot cannot tell those from
// quiet sites, so it takes them at their word. With these figures a
// rank-only estimate below the top 1,000 gives a budget under one request
// a day at the default share (at most 2 at any permitted share): nothing is
// sent until the user gives the site's own figure.

//go:embed crux_pageviews.csv
var rankTableCSV string

// rankTableSource names the table in estimate sources.
const rankTableSource = "ranking-to-pageviews 2024+2025"

// RankBucket is one row of the rank table: the page views a day of the
// sites in one CrUX rank bucket.
type RankBucket struct {
	Rank    int64   // the bucket's bound: its least popular rank (1000, 5000, ..., 1000000)
	Sites   int     // sites measured in the bucket
	Low     float64 // page views a day at the low end (see the notes at the top of rank.go)
	Central float64 // the median
	High    float64 // the high end
}

var rankTable = sync.OnceValues(func() ([]RankBucket, error) { return parseRankTable(rankTableCSV) })

// RankTable returns the rank table, most popular bucket first. The slice
// is the caller's.
func RankTable() []RankBucket {
	t, err := rankTable()
	if err != nil {
		panic(err) // the embedded table is checked by the tests
	}
	return append([]RankBucket(nil), t...)
}

// parseRankTable reads the table and derives Low, Central and High.
func parseRankTable(s string) ([]RankBucket, error) {
	cr := newCSV(strings.NewReader(s))
	var out []RankBucket
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("limiter: rank table: %w", err)
		}
		if rec[0] == "bucket" {
			continue
		}
		if len(rec) != 5 {
			return nil, fmt.Errorf("limiter: rank table: want bucket,sites,min,median,max, got %q", rec)
		}
		var b RankBucket
		var errs [5]error
		b.Rank, errs[0] = strconv.ParseInt(rec[0], 10, 64)
		b.Sites, errs[1] = strconv.Atoi(rec[1])
		b.Low, errs[2] = strconv.ParseFloat(rec[2], 64)
		b.Central, errs[3] = strconv.ParseFloat(rec[3], 64)
		b.High, errs[4] = strconv.ParseFloat(rec[4], 64)
		if err := errors.Join(errs[:]...); err != nil {
			return nil, fmt.Errorf("limiter: rank table: %w", err)
		}
		if !positive(b.Low) || b.Low > b.Central || b.Central > b.High || !positive(b.High) {
			return nil, fmt.Errorf("limiter: rank table: bucket %d: want 0 < min <= median <= max", b.Rank)
		}
		if n := len(out); n > 0 && b.Rank <= out[n-1].Rank {
			return nil, fmt.Errorf("limiter: rank table: bucket %d after %d", b.Rank, out[n-1].Rank)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.New("limiter: rank table is empty")
	}
	for i := 1; i < len(out); i++ {
		out[i].Low = min(out[i].Low, out[i-1].Low)
		out[i].Central = min(out[i].Central, out[i-1].Central)
	}
	for i := len(out) - 2; i >= 0; i-- {
		out[i].High = max(out[i].High, out[i+1].High)
	}
	for i := range out {
		out[i].Central = min(max(out[i].Central, out[i].Low), out[i].High)
	}
	return out, nil
}

// RankEstimate returns the traffic range of a site at popularity rank
// rank (1 is the most popular): the row of the first bucket whose bound is
// at or above rank. A rank past the table's last bucket gets the last
// bucket's low end as the whole range, and ok = false: the table has no
// data there, and a less popular site can only be quieter. RankEstimate
// panics for rank < 1.
func RankEstimate(rank int64) (b RankBucket, ok bool) {
	if rank < 1 {
		panic("limiter: RankEstimate: rank below 1")
	}
	t, err := rankTable()
	if err != nil {
		panic(err)
	}
	i := sort.Search(len(t), func(i int) bool { return t[i].Rank >= rank })
	if i == len(t) {
		last := t[len(t)-1]
		return RankBucket{Rank: rank, Low: last.Low, Central: last.Low, High: last.Low}, false
	}
	return t[i], true
}

// LoadRankFile reads a rank list the user supplies and turns each entry
// into a KindRank estimate with RankEstimate. Two formats are recognised,
// by which column holds the number:
//
//   - CrUX-style "origin,rank", where origin is a URL such as
//     https://www.example.com and rank the bucket bound (1000, 5000, 10000,
//     50000, ...; see the Chrome UX Report's "rank" dimension).
//   - Tranco-style "rank,domain" (https://tranco-list.eu), where rank is a
//     position, read as if it were in the CrUX bucket holding it.
//
// A header line and '#' comments are skipped. When a site appears more
// than once (e.g. an http and an https origin with different buckets), the
// estimate with the lower low end is kept.
func LoadRankFile(path string) ([]Estimate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("limiter: rank file: %w", err)
	}
	defer f.Close()
	return ReadRanks(f, path)
}

// ReadRanks reads a rank list in one of the formats of LoadRankFile from r;
// name is used in sources and errors.
func ReadRanks(r io.Reader, name string) ([]Estimate, error) {
	cr := newCSV(r)
	now := time.Now().UTC()
	var out []Estimate
	index := map[string]int{}
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("limiter: %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != 2 {
			return nil, fmt.Errorf("limiter: %s:%d: want 2 fields (origin,rank or rank,domain), got %d", name, line, len(rec))
		}
		a, b := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		ra, errA := strconv.ParseUint(a, 10, 63)
		rb, errB := strconv.ParseUint(b, 10, 63)
		wasFirst := first
		first = false
		var host string
		var rank uint64
		switch {
		case errA == nil && errB != nil: // Tranco: rank,domain
			rank = ra
			host, err = site.Parse(b)
		case errA != nil && errB == nil: // CrUX: origin,rank
			rank = rb
			host, err = originSite(a)
		default:
			if wasFirst && errA != nil && errB != nil {
				continue // header
			}
			return nil, fmt.Errorf("limiter: %s:%d: want origin,rank or rank,domain with one integer rank, got %q,%q", name, line, a, b)
		}
		if err != nil {
			return nil, fmt.Errorf("limiter: %s:%d: %w", name, line, err)
		}
		if rank < 1 {
			return nil, fmt.Errorf("limiter: %s:%d: rank %d must be at least 1", name, line, rank)
		}
		e := rankEstimate(host, int64(rank), fmt.Sprintf("%s:%d", name, line), now)
		if i, ok := index[host]; ok {
			if e.Low < out[i].Low {
				out[i] = e
			}
			continue
		}
		index[host] = len(out)
		out = append(out, e)
	}
}

// rankEstimate is the estimate for host at rank, read at where.
func rankEstimate(host string, rank int64, where string, now time.Time) Estimate {
	b, ok := RankEstimate(rank)
	src := fmt.Sprintf("%s (rank %d, bucket %d of %s, %d sites)", where, rank, b.Rank, rankTableSource, b.Sites)
	if !ok {
		src = fmt.Sprintf("%s (rank %d, past the last bucket of %s: its low end)", where, rank, rankTableSource)
	}
	return Estimate{Site: host, PerDay: b.Central, Low: b.Low, High: b.High, Source: src, At: now, Kind: KindRank}
}

func originSite(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil {
		return "", fmt.Errorf("origin %q: %w", origin, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("origin %q: want http(s)://host", origin)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("origin %q: want an origin, not a URL with a path", origin)
	}
	// Round-trip through site.Parse to reject malformed hosts and ports.
	return site.Parse(site.Key(u))
}
