package limiter

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goodbot/goodbot/internal/site"
)

// Kind says where a traffic estimate came from. Kinds are ordered by
// precedence: an estimate of a higher Kind replaces one of a lower Kind.
type Kind int

// The kinds of estimate, lowest precedence first.
const (
	KindDefault   Kind = iota // no information: DefaultPerDay
	KindRank                  // derived from a popularity rank list (see RankPerDay)
	KindUser                  // given by the user: --traffic or --traffic-file
	KindAgreement             // an operator's agreement, e.g. a written permission
)

func (k Kind) String() string {
	switch k {
	case KindDefault:
		return "default"
	case KindRank:
		return "rank"
	case KindUser:
		return "user"
	case KindAgreement:
		return "agreement"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// DefaultPerDay is the traffic assumed for a site nobody gave an estimate
// for: 20 requests per day.
//
// It is the rank model (see RankPerDay) evaluated past the end of the
// published rank lists: the CrUX buckets end at 10M ("rest"), and at rank
// 5e7 the lower fit gives 1e9/5e7 = 20 page views per day. A site that
// appears in no rank list is at least that obscure as far as goodbot can
// tell, so with the default share of 0.1 it gets 2 requests a day (one of
// them usually robots.txt) until the user passes --traffic.
const DefaultPerDay = 20

// Estimate is an estimate of a site's traffic, with its provenance.
type Estimate struct {
	Site   string    // site key, see internal/site
	PerDay float64   // requests (page views) per day
	Source string    // human-readable origin, e.g. "--traffic", "traffic.csv:3 (server logs 2026-10)"
	At     time.Time // when the estimate was made or loaded
	Kind   Kind
}

// Validate reports whether e is usable: a canonical site key and a finite,
// positive traffic figure.
func (e Estimate) Validate() error {
	s, err := site.Parse(e.Site)
	if err != nil {
		return fmt.Errorf("limiter: estimate: %w", err)
	}
	if s != e.Site {
		return fmt.Errorf("limiter: estimate: site %q is not in canonical form (want %q)", e.Site, s)
	}
	if math.IsNaN(e.PerDay) || math.IsInf(e.PerDay, 0) || e.PerDay <= 0 {
		return fmt.Errorf("limiter: estimate for %s: requests per day %v must be a positive number", e.Site, e.PerDay)
	}
	if e.Kind < KindDefault || e.Kind > KindAgreement {
		return fmt.Errorf("limiter: estimate for %s: unknown kind %d", e.Site, int(e.Kind))
	}
	if e.Kind == KindAgreement && strings.TrimSpace(e.Source) == "" {
		return fmt.Errorf("limiter: estimate for %s: an operator agreement must be named in Source", e.Site)
	}
	return nil
}

// Line returns a one-line summary of e and the budget it gives at share,
// for progress output, e.g.
//
//	example.com: traffic unknown, assuming 20/day, cap 2/day; pass --traffic to set an estimate
func (e Estimate) Line(share float64) string {
	b := Budget(e.PerDay, share)
	if e.Kind == KindDefault {
		return fmt.Sprintf("%s: traffic unknown, assuming %s/day, cap %s/day; pass --traffic to set an estimate",
			e.Site, formatCount(e.PerDay), formatCount(b))
	}
	return fmt.Sprintf("%s: traffic %s/day (%s: %s), cap %s/day, one request every %s",
		e.Site, formatCount(e.PerDay), e.Kind, e.Source, formatCount(b), budgetInterval(b, 24*time.Hour))
}

func formatCount(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// ParseTraffic parses the value of one --traffic flag, "HOST=N", where HOST
// is a host or host:port (see internal/site) and N the site's requests per
// day. The estimate is of KindUser.
func ParseTraffic(s string) (Estimate, error) {
	host, n, ok := strings.Cut(s, "=")
	if !ok {
		return Estimate{}, fmt.Errorf("limiter: --traffic %q: want HOST=REQUESTS_PER_DAY", s)
	}
	key, err := site.Parse(strings.TrimSpace(host))
	if err != nil {
		return Estimate{}, fmt.Errorf("limiter: --traffic %q: %w", s, err)
	}
	v, err := parsePerDay(n)
	if err != nil {
		return Estimate{}, fmt.Errorf("limiter: --traffic %q: %w", s, err)
	}
	return Estimate{Site: key, PerDay: v, Source: "--traffic", At: time.Now().UTC(), Kind: KindUser}, nil
}

// Agreement returns the estimate that an operator's agreement sets for a
// site, e.g. a written permission for a higher rate. ref names the
// agreement (a document, a ticket, a date) and must not be empty: it is
// recorded with every budget event for the site.
func Agreement(host string, perDay float64, ref string) (Estimate, error) {
	key, err := site.Parse(host)
	if err != nil {
		return Estimate{}, fmt.Errorf("limiter: agreement: %w", err)
	}
	e := Estimate{Site: key, PerDay: perDay, Source: "agreement: " + strings.TrimSpace(ref), At: time.Now().UTC(), Kind: KindAgreement}
	if strings.TrimSpace(ref) == "" {
		return Estimate{}, fmt.Errorf("limiter: agreement for %s: name the agreement (document, ticket or date)", key)
	}
	if err := e.Validate(); err != nil {
		return Estimate{}, err
	}
	return e, nil
}

func parsePerDay(s string) (float64, error) {
	s = strings.TrimSpace(s)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("requests per day %q is not a number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return 0, fmt.Errorf("requests per day %q must be a positive number", s)
	}
	return v, nil
}

// LoadTrafficFile reads a --traffic-file: CSV lines "host,requests_per_day,source"
// with an optional header line starting with "host". Blank lines and lines
// starting with '#' are skipped. The estimates are of KindUser; each
// Source names the file, the line and the third column.
func LoadTrafficFile(path string) ([]Estimate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("limiter: traffic file: %w", err)
	}
	defer f.Close()
	return ReadTraffic(f, path)
}

// ReadTraffic reads traffic estimates in the format of LoadTrafficFile from
// r; name is used in sources and errors.
func ReadTraffic(r io.Reader, name string) ([]Estimate, error) {
	cr := newCSV(r)
	now := time.Now().UTC()
	var out []Estimate
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("limiter: %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(out) == 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "host") {
			continue
		}
		if len(rec) != 3 {
			return nil, fmt.Errorf("limiter: %s:%d: want 3 fields host,requests_per_day,source, got %d", name, line, len(rec))
		}
		key, err := site.Parse(strings.TrimSpace(rec[0]))
		if err != nil {
			return nil, fmt.Errorf("limiter: %s:%d: %w", name, line, err)
		}
		v, err := parsePerDay(rec[1])
		if err != nil {
			return nil, fmt.Errorf("limiter: %s:%d: %w", name, line, err)
		}
		src := strings.TrimSpace(rec[2])
		if src == "" {
			return nil, fmt.Errorf("limiter: %s:%d: empty source: say where the figure comes from", name, line)
		}
		out = append(out, Estimate{Site: key, PerDay: v, Source: fmt.Sprintf("%s:%d (%s)", name, line, src), At: now, Kind: KindUser})
	}
}

func newCSV(r io.Reader) *csv.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		br.Discard(3) // a byte-order mark, as spreadsheets write
	}
	cr := csv.NewReader(br)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	return cr
}

// RankPerDay is the conservative rank→traffic model: the daily page views
// of a site at popularity rank r (1 is the most popular), taken as the lower
// of two published fits:
//
//   - 3.33e7 · r^−0.746, fitted by Vincent Granville (2015) to Alexa ranks
//     and traffic ("Estimating website traffic from Alexa rank",
//     Data Science Central);
//   - 1e9 / r, the common "visitors ≈ 1e9 / rank" rule of thumb.
//
// At r = 1e6 the two give about 1,100 and 1,000 per day. Rank lists give
// buckets or noisy positions, so callers pass the least popular rank the
// site could have (see LoadRankFile). RankPerDay returns 0 for r < 1.
func RankPerDay(r float64) float64 {
	if !(r >= 1) || math.IsInf(r, 0) {
		return 0
	}
	return math.Min(3.33e7*math.Pow(r, -0.746), 1e9/r)
}

// LoadRankFile reads a rank list the user supplies and turns each entry
// into a KindRank estimate with RankPerDay. Two formats are recognised,
// by which column holds the number:
//
//   - CrUX-style "origin,rank", where origin is a URL such as
//     https://www.example.com and rank the bucket bound (1000, 5000, 10000,
//     50000, ...; see the Chrome UX Report's "rank" dimension). The bound is
//     the least popular end of the bucket, which is the rank used.
//   - Tranco-style "rank,domain" (https://tranco-list.eu), where rank is a
//     position.
//
// A header line and '#' comments are skipped. When a site appears more
// than once (e.g. an http and an https origin with different buckets), the
// lower estimate is kept.
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
		ra, errA := strconv.ParseUint(a, 10, 64)
		rb, errB := strconv.ParseUint(b, 10, 64)
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
		e := Estimate{Site: host, PerDay: RankPerDay(float64(rank)), Source: fmt.Sprintf("%s:%d (rank %d)", name, line, rank), At: now, Kind: KindRank}
		if i, ok := index[host]; ok {
			if e.PerDay < out[i].PerDay {
				out[i] = e
			}
			continue
		}
		index[host] = len(out)
		out = append(out, e)
	}
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

// Estimates holds the best known estimate for each site. The zero value is
// not usable; use NewEstimates. It is safe for concurrent use.
type Estimates struct {
	mu sync.RWMutex
	m  map[string]Estimate
}

// NewEstimates returns a set holding the given estimates, as if each were
// added in turn with Add.
func NewEstimates(es ...Estimate) (*Estimates, error) {
	s := &Estimates{m: make(map[string]Estimate)}
	for _, e := range es {
		if err := s.Add(e); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Add records e if it takes precedence over what is known for its site: a
// higher Kind always wins; among estimates of the same Kind, the later Add
// wins. It reports an error, and records nothing, for an invalid estimate.
func (s *Estimates) Add(e Estimate) error {
	if err := e.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[e.Site]; ok && old.Kind > e.Kind {
		return nil
	}
	s.m[e.Site] = e
	return nil
}

// Lookup returns the estimate in force for site: the recorded one, or the
// default (DefaultPerDay, KindDefault). A nil *Estimates knows no site.
func (s *Estimates) Lookup(site string) Estimate {
	if s != nil {
		s.mu.RLock()
		e, ok := s.m[site]
		s.mu.RUnlock()
		if ok {
			return e
		}
	}
	return Estimate{Site: site, PerDay: DefaultPerDay, Source: "default for unknown sites", Kind: KindDefault}
}
