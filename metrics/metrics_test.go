package metrics

import (
	"context"
	"fmt"
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
		// The site's budget comes first, as in a crawl (the limiter
		// records it before the first grant), and gives it its label.
		{Type: audit.TypeBudget, Site: "a.example", Budget: &audit.Budget{BudgetPerDay: 8640, Interval: 10 * time.Second, Change: "hold"}},
		{Type: audit.TypeDecision, Site: "a.example", Decision: &audit.Decision{Kind: "page", Verdict: audit.Allow,
			Checks: []audit.Check{{Gate: "limiter", Verdict: audit.Allow}}}},
		{Type: audit.TypeDecision, Site: "a.example", Decision: &audit.Decision{Kind: "page", Verdict: audit.Defer,
			Checks: []audit.Check{{Gate: "limiter", Verdict: audit.Defer, Reason: "no grant, sending nothing: limiter: state unavailable"}}}},
		{Type: audit.TypeFetch, Site: "a.example", Fetch: &audit.Fetch{Class: "ok", Bytes: 1234}},
		{Type: audit.TypeFetch, Site: "a.example", Fetch: &audit.Fetch{Class: "hold", Bytes: 10}},
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
	b := scrape(t, m)
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
		if !strings.Contains(b, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if _, ok := m.Sink(asyncDiscard{}).(audit.AsyncSink); !ok {
		t.Error("wrapping an AsyncSink lost Append")
	}
}

type asyncDiscard struct{ audit.Discard }

func (asyncDiscard) Append(context.Context, audit.Event) error { return nil }

// The site label takes sites with a budget, up to MaxSites; every other
// host (a refused link's, say) and the sites beyond MaxSites count under
// OtherSite, so that a crawl meeting any number of hosts exports a bounded
// number of series.
func TestSiteLabelBounded(t *testing.T) {
	m := NewWith(Options{MaxSites: 3})
	s := m.Sink(audit.Discard{})
	ctx := context.Background()
	refused := func(site string) audit.Event {
		return audit.Event{Type: audit.TypeDecision, Site: site, Decision: &audit.Decision{Kind: "page", Verdict: audit.Refuse,
			Checks: []audit.Check{{Gate: "scope", Verdict: audit.Refuse}}}}
	}
	for i := range 5 {
		site := fmt.Sprintf("s%d.example", i)
		for _, e := range []audit.Event{
			{Type: audit.TypeBudget, Site: site, Budget: &audit.Budget{BudgetPerDay: float64(100 + i), Interval: time.Second}},
			{Type: audit.TypeFetch, Site: site, Fetch: &audit.Fetch{Class: "ok", Bytes: 10}},
		} {
			if err := s.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 1000 {
		if err := s.Record(ctx, refused(fmt.Sprintf("h%d.example", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Record(ctx, refused("s1.example")); err != nil {
		t.Fatal(err)
	}
	out := scrape(t, m)
	for _, want := range []string{
		`goodbot_requests_total{class="ok",site="s0.example"} 1`,
		`goodbot_requests_total{class="ok",site="s2.example"} 1`,
		`goodbot_requests_total{class="ok",site="(other)"} 2`,
		`goodbot_budget_requests_per_day{site="s2.example"} 102`,
		`goodbot_decisions_total{gate="scope",kind="page",site="(other)",verdict="refuse"} 1000`,
		`goodbot_decisions_total{gate="scope",kind="page",site="s1.example",verdict="refuse"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, bad := range []string{`site="s3.example"`, `site="s4.example"`, `site="h0.example"`, `goodbot_budget_requests_per_day{site="(other)"}`} {
		if strings.Contains(out, bad) {
			t.Errorf("metrics have %s", bad)
		}
	}
	if n := strings.Count(out, "\ngoodbot_decisions_total{"); n != 2 {
		t.Errorf("%d decision series, want 2", n)
	}
}

// scrape returns what m's handler serves.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
