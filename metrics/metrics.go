// Package metrics exposes what a crawl is doing as Prometheus metrics.
//
// Every decision, request, hold and personal-data finding of a crawl is an
// audit event, so the metrics are read off the event stream: wrap the
// crawl's audit sink with Metrics.Sink, and serve Metrics.Handler.
package metrics

import (
	"context"
	"net/http"
	"strings"
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
}

// New returns a Metrics with its own registry (plus Go and process
// collectors).
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
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

func (m *Metrics) observe(e audit.Event, took time.Duration, err error) {
	m.auditLag.Observe(took.Seconds())
	if err != nil {
		m.auditErrors.Inc()
	}
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
		m.decisions.WithLabelValues(e.Site, d.Kind, string(d.Verdict), gate).Inc()
	case e.Fetch != nil:
		m.fetches.WithLabelValues(e.Site, e.Fetch.Class).Inc()
		m.bytes.WithLabelValues(e.Site).Add(float64(e.Fetch.Bytes))
	case e.Budget != nil:
		b := e.Budget
		if b.BudgetPerDay > 0 {
			m.budget.WithLabelValues(e.Site).Set(b.BudgetPerDay)
		}
		if b.Interval > 0 {
			m.interval.WithLabelValues(e.Site).Set(b.Interval.Seconds())
		}
		if b.Change == "hold" {
			m.holds.WithLabelValues(e.Site).Inc()
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
