// Package metrics exposes what a crawl is doing as Prometheus metrics.
//
// Every decision, request, hold and personal-data finding of a crawl is an
// audit event, so the metrics are read off the event stream: wrap the
// crawl's audit sink with Metrics.Sink, and serve Metrics.Handler.
//
// The site label is bounded: a site gets a label of its own when the
// limiter gives it a budget (its first budget event: every site goodbot
// sends a request to has one), up to Options.MaxSites sites; the decisions
// on every other host (links out of scope, refused hosts, which a crawl
// meets without bound) and the sites beyond the first MaxSites are counted
// under OtherSite.
package metrics

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/goodbot/goodbot/audit"
)

// Metrics holds a crawl's metrics.
type Metrics struct {
	reg *prometheus.Registry

	decisions   *prometheus.CounterVec // site, kind, verdict, gate
	fetches     *prometheus.CounterVec // site, class
	bytes       *prometheus.CounterVec // site
	budget      *prometheus.GaugeVec   // site
	interval    *prometheus.GaugeVec   // site
	holds       *prometheus.CounterVec // site
	pii         *prometheus.CounterVec // entity
	piiDropped  prometheus.Counter     //
	auditLag    prometheus.Histogram   // seconds a Record took
	auditErrors prometheus.Counter     //
	unavailable *prometheus.CounterVec // gate: shared state (Redis) did not answer
	complaints  *prometheus.CounterVec // action
	deletions   prometheus.Counter     // records deleted
	gauges      map[string]prometheus.GaugeFunc

	maxSites int
	mu       sync.Mutex
	labelled map[string]bool // sites with a label of their own
}

// OtherSite is the site label of hosts without a label of their own (see
// the package documentation). It is no valid site key, so no site is
// confused with it.
const OtherSite = "(other)"

// DefaultMaxSites is Options.MaxSites's default.
const DefaultMaxSites = 1000

// Options configures a Metrics.
type Options struct {
	// MaxSites is the most sites with a site label of their own; the
	// rest are counted under OtherSite. Default DefaultMaxSites.
	MaxSites int
}

// New returns a Metrics with its own registry (plus Go and process
// collectors) and the default Options.
func New() *Metrics { return NewWith(Options{}) }

// NewWith returns a Metrics with its own registry (plus Go and process
// collectors).
func NewWith(opts Options) *Metrics {
	if opts.MaxSites <= 0 {
		opts.MaxSites = DefaultMaxSites
	}
	m := &Metrics{reg: prometheus.NewRegistry(), maxSites: opts.MaxSites, labelled: map[string]bool{}}
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodbot_decisions_total",
		Help: "Decisions of the outgoing-request gate, by site, request kind, verdict and the gate that decided."},
		[]string{"site", "kind", "verdict", "gate"})
	m.fetches = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodbot_requests_total",
		Help: "Requests sent, by site and how the answer was classified (ok, redirect, refused, hold, challenge, login, network, ...)."},
		[]string{"site", "class"})
	m.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodbot_response_bytes_total",
		Help: "Response body bytes received, by site."}, []string{"site"})
	m.budget = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "goodbot_budget_requests_per_day",
		Help: "The site's daily request budget (share of its estimated traffic)."}, []string{"site"})
	m.interval = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "goodbot_interval_seconds",
		Help: "The interval between requests currently in force for the site."}, []string{"site"})
	m.holds = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodbot_holds_total",
		Help: "Holds put on a site after 429 or 503 answers."}, []string{"site"})
	m.pii = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodbot_pii_findings_total",
		Help: "Personal data found and redacted, by entity type."}, []string{"entity"})
	m.piiDropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "goodbot_pii_dropped_pages_total",
		Help: "Pages dropped because they carried sensitive personal information or could not be scanned."})
	m.auditLag = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "goodbot_audit_record_seconds",
		Help:    "Time an audit event took to be accepted by the operation log (durable for decisions).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)})
	m.auditErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "goodbot_audit_errors_total",
		Help: "Audit events the operation log failed to take."})
	m.unavailable = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodbot_backend_unavailable_total",
		Help: "Requests deferred because shared state (the limiter or the stop list, in Redis) did not answer."}, []string{"gate"})
	m.complaints = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodbot_complaints_total",
		Help: "Complaints, by action (added, applied, resolved)."}, []string{"action"})
	m.deletions = prometheus.NewCounter(prometheus.CounterOpts{Name: "goodbot_deleted_records_total",
		Help: "Stored records deleted on complaints."})
	m.reg.MustRegister(m.decisions, m.fetches, m.bytes, m.budget, m.interval, m.holds, m.pii, m.piiDropped,
		m.auditLag, m.auditErrors, m.unavailable, m.complaints, m.deletions,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// Gauge registers a gauge whose value f reports when scraped, e.g. the
// frontier's size. f must be safe for concurrent use.
func (m *Metrics) Gauge(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Sink wraps next so that every event it takes is also counted. The
// returned sink is an audit.AsyncSink when next is.
func (m *Metrics) Sink(next audit.Sink) audit.Sink {
	s := &sink{m: m, next: next}
	if as, ok := next.(audit.AsyncSink); ok {
		return &asyncSink{sink: s, next: as}
	}
	return s
}

type sink struct {
	m    *Metrics
	next audit.Sink
}

func (s *sink) Record(ctx context.Context, e audit.Event) error {
	start := time.Now()
	err := s.next.Record(ctx, e)
	s.m.observe(e, time.Since(start), err)
	return err
}

type asyncSink struct {
	*sink
	next audit.AsyncSink
}

func (s *asyncSink) Append(ctx context.Context, e audit.Event) error {
	start := time.Now()
	err := s.next.Append(ctx, e)
	s.m.observe(e, time.Since(start), err)
	return err
}

// siteLabel returns the site label of site; a budget gives a site a label
// of its own while fewer than MaxSites have one.
func (m *Metrics) siteLabel(site string, budget bool) (string, bool) {
	if site == "" {
		return "", true // events of the crawl as a whole
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.labelled[site] {
		return site, true
	}
	if budget && len(m.labelled) < m.maxSites {
		m.labelled[site] = true
		return site, true
	}
	return OtherSite, false
}

func (m *Metrics) observe(e audit.Event, took time.Duration, err error) {
	m.auditLag.Observe(took.Seconds())
	if err != nil {
		m.auditErrors.Inc()
	}
	site, own := m.siteLabel(e.Site, e.Budget != nil)
	switch {
	case e.Decision != nil:
		d := e.Decision
		gate := ""
		if n := len(d.Checks); n > 0 {
			gate = d.Checks[n-1].Gate
			last := d.Checks[n-1]
			if d.Verdict == audit.Defer && (last.Gate == "limiter" || last.Gate == "stoplist") &&
				(strings.Contains(last.Reason, "unavailable") || strings.Contains(last.Reason, "no grant")) {
				m.unavailable.WithLabelValues(last.Gate).Inc()
			}
		}
		m.decisions.WithLabelValues(site, d.Kind, string(d.Verdict), gate).Inc()
	case e.Fetch != nil:
		m.fetches.WithLabelValues(site, e.Fetch.Class).Inc()
		m.bytes.WithLabelValues(site).Add(float64(e.Fetch.Bytes))
	case e.Budget != nil:
		b := e.Budget
		// A gauge under OtherSite would hold whichever site came last:
		// only sites with a label of their own have one.
		if b.BudgetPerDay > 0 && own {
			m.budget.WithLabelValues(site).Set(b.BudgetPerDay)
		}
		if b.Interval > 0 && own {
			m.interval.WithLabelValues(site).Set(b.Interval.Seconds())
		}
		if b.Change == "hold" {
			m.holds.WithLabelValues(site).Inc()
		}
	case e.PII != nil:
		for ent, n := range e.PII.Counts {
			m.pii.WithLabelValues(ent).Add(float64(n))
		}
		if e.PII.Dropped {
			m.piiDropped.Inc()
		}
	case e.Complaint != nil:
		m.complaints.WithLabelValues(e.Complaint.Action).Inc()
	case e.Deletion != nil:
		m.deletions.Add(float64(e.Deletion.Records))
	}
}
