package limiter

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
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
	KindRank                  // derived from a popularity rank list (see RankEstimate)
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
// for: 20 requests per day, which with the default share of 0.1 lets
// goodbot send 2 requests a day (one of them usually robots.txt) until the
// user passes --traffic.
//
// It is a policy, not a measurement: goodbot knows nothing about such a
// site. It was the old rank fit (1e9/R) past the end of the CrUX buckets,
// at R = 5e7. The published page-view data (see RankTable) show sites
// ranked in the top million with fewer than 20 page views a day, so for
// the quietest sites even this default can exceed the one-third line; only
// the site's own figure (--traffic, --agreement) is safe for those.
const DefaultPerDay = 20

// Estimate is an estimate of a site's traffic, with its provenance.
//
// An estimate is a range: the site's traffic is somewhere between Low and
// High, most likely near PerDay. The budget is computed from Low, so that
// it is safe for the quietest site the estimate could be. A figure the user
// or an operator gives is a point: Low and High are zero, which means
// PerDay.
type Estimate struct {
	Site   string    // site key, see internal/site
	PerDay float64   // requests (page views) per day: the central figure
	Low    float64   // low end of the range; zero means PerDay
	High   float64   // high end of the range; zero means PerDay
	Source string    // human-readable origin, e.g. "--traffic", "traffic.csv:3 (server logs 2026-10)"
	At     time.Time // when the estimate was made or loaded
	Kind   Kind
}

// Range returns the low and high ends of e, with zeros read as PerDay.
func (e Estimate) Range() (low, high float64) {
	low, high = e.Low, e.High
	if low == 0 {
		low = e.PerDay
	}
	if high == 0 {
		high = e.PerDay
	}
	return low, high
}

// Validate reports whether e is usable: a canonical site key and finite,
// positive traffic figures with Low <= PerDay <= High.
func (e Estimate) Validate() error {
	s, err := site.Parse(e.Site)
	if err != nil {
		return fmt.Errorf("limiter: estimate: %w", err)
	}
	if s != e.Site {
		return fmt.Errorf("limiter: estimate: site %q is not in canonical form (want %q)", e.Site, s)
	}
	if !positive(e.PerDay) {
		return fmt.Errorf("limiter: estimate for %s: requests per day %v must be a positive number", e.Site, e.PerDay)
	}
	low, high := e.Range()
	if !positive(low) || !positive(high) || low > e.PerDay || high < e.PerDay {
		return fmt.Errorf("limiter: estimate for %s: range %v to %v must be positive numbers around %v", e.Site, low, high, e.PerDay)
	}
	if e.Kind < KindDefault || e.Kind > KindAgreement {
		return fmt.Errorf("limiter: estimate for %s: unknown kind %d", e.Site, int(e.Kind))
	}
	if e.Kind == KindAgreement && strings.TrimSpace(e.Source) == "" {
		return fmt.Errorf("limiter: estimate for %s: an operator agreement must be named in Source", e.Site)
	}
	return nil
}

func positive(v float64) bool { return v > 0 && !math.IsInf(v, 0) }

// Line returns a one-line summary of e and the budget it gives at share,
// for progress output, e.g.
//
//	example.com: traffic unknown, assuming 20/day, cap 2/day; pass --traffic to set an estimate
//	example.com: traffic 1728000/day (user: --traffic), cap 172800/day, one request every 500ms
//	example.com: traffic 3.8 to 215175/day, central 6924 (rank: ranks.csv:2 (...)), cap 0/day from the low end: nothing is sent; ...
func (e Estimate) Line(share float64) string {
	low, high := e.Range()
	b := Budget(low, share)
	if e.Kind == KindDefault {
		return fmt.Sprintf("%s: traffic unknown, assuming %s/day, cap %s/day; pass --traffic to set an estimate",
			e.Site, formatCount(e.PerDay), formatCount(b))
	}
	pace := ", one request every " + budgetInterval(b, 24*time.Hour).String()
	if dailyLimit(b) < 1 {
		pace = ": nothing is sent; pass --traffic with the site's own figure, or --agreement with its operator's"
	}
	if low == high {
		return fmt.Sprintf("%s: traffic %s/day (%s: %s), cap %s/day%s",
			e.Site, formatCount(e.PerDay), e.Kind, e.Source, formatCount(b), pace)
	}
	return fmt.Sprintf("%s: traffic %s to %s/day, central %s (%s: %s), cap %s/day from the low end%s",
		e.Site, formatCount(low), formatCount(high), formatCount(e.PerDay), e.Kind, e.Source, formatCount(b), pace)
}

// formatCount formats a count of requests or page views: whole numbers
// from 100 up, three significant digits below.
func formatCount(v float64) string {
	if math.Abs(v) >= 100 && math.Abs(v) < 1e15 || v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
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
	if !positive(v) {
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
