package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
)

func TestSinkCountsEvents(t *testing.T) {
	m := New()
	s := m.Sink(audit.Discard{})
	ctx := context.Background()
	events := []audit.Event{
		{Type: audit.TypeDecision, Site: "a.example", Decision: &audit.Decision{Kind: "page", Verdict: audit.Allow,
			Checks: []audit.Check{{Gate: "limiter", Verdict: audit.Allow}}}},
		{Type: audit.TypeDecision, Site: "a.example", Decision: &audit.Decision{Kind: "page", Verdict: audit.Defer,
			Checks: []audit.Check{{Gate: "limiter", Verdict: audit.Defer, Reason: "no grant, sending nothing: limiter: state unavailable"}}}},
		{Type: audit.TypeFetch, Site: "a.example", Fetch: &audit.Fetch{Class: "ok", Bytes: 1234}},
		{Type: audit.TypeFetch, Site: "a.example", Fetch: &audit.Fetch{Class: "hold", Bytes: 10}},
		{Type: audit.TypeBudget, Site: "a.example", Budget: &audit.Budget{BudgetPerDay: 8640, Interval: 10 * time.Second, Change: "hold"}},
		{Type: audit.TypePII, Site: "a.example", PII: &audit.PII{Counts: map[string]int{"EMAIL": 3}, Dropped: true}},
		{Type: audit.TypeComplaint, Site: "a.example", Complaint: &audit.Complaint{ID: "c1", Action: "applied"}},
		{Type: audit.TypeDeletion, Site: "a.example", Deletion: &audit.Deletion{Records: 7}},
	}
	for _, e := range events {
		if err := s.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	m.Gauge("goodbot_frontier_queued", "URLs queued.", func() float64 { return 42 })
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`goodbot_decisions_total{gate="limiter",kind="page",site="a.example",verdict="allow"} 1`,
		`goodbot_backend_unavailable_total{gate="limiter"} 1`,
		`goodbot_requests_total{class="ok",site="a.example"} 1`,
		`goodbot_response_bytes_total{site="a.example"} 1244`,
		`goodbot_budget_requests_per_day{site="a.example"} 8640`,
		`goodbot_interval_seconds{site="a.example"} 10`,
		`goodbot_holds_total{site="a.example"} 1`,
		`goodbot_pii_findings_total{entity="EMAIL"} 3`,
		`goodbot_pii_dropped_pages_total 1`,
		`goodbot_complaints_total{action="applied"} 1`,
		`goodbot_deleted_records_total 7`,
		`goodbot_audit_record_seconds_count 8`,
		`goodbot_frontier_queued 42`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if _, ok := m.Sink(asyncDiscard{}).(audit.AsyncSink); !ok {
		t.Error("wrapping an AsyncSink lost Append")
	}
}

type asyncDiscard struct{ audit.Discard }

func (asyncDiscard) Append(context.Context, audit.Event) error { return nil }
