package operator

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
)

// The status page counts a request as sent after the stop only when it
// was decided after it. A fetch entry is logged once the answer was read
// and stored, so the fetch of a request that left before the stop can
// follow the stop in the log.
func TestReadLogCountsRequestsDecidedAfterTheStop(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "audit")
	opts := audit.Options{KeyFile: filepath.Join(t.TempDir(), "k"), Origin: "test/status"}
	l, err := audit.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	const site = "a.example"
	at := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	rec := func(e audit.Event) {
		t.Helper()
		at = at.Add(time.Second)
		e.Time, e.Site = at, site
		if err := l.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	decision := func(id string, v audit.Verdict) audit.Event {
		return audit.Event{Type: audit.TypeDecision, Decision: &audit.Decision{RequestID: id, URL: "http://a.example/" + id, Method: "GET", Kind: "page", Verdict: v, Reason: "test"}}
	}
	fetch := func(id string) audit.Event {
		return audit.Event{Type: audit.TypeFetch, Fetch: &audit.Fetch{RequestID: id, URL: "http://a.example/" + id, Method: "GET", Status: 200}}
	}
	rec(decision("early", audit.Allow))
	rec(fetch("early"))
	rec(decision("inflight", audit.Allow)) // sent before the stop, stored after it
	rec(audit.Event{Type: audit.TypeComplaint, Complaint: &audit.Complaint{ID: "c1", Action: "stopped", Reason: "test"}})
	rec(fetch("inflight"))
	rec(decision("refused", audit.Refuse)) // the stop list refused it: no fetch
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	v := readLog(ctx, dir, site, "c1")
	if v.Err != "" || v.Stopped.IsZero() || v.SentAfter != 0 {
		t.Fatalf("before any request decided after the stop: %+v, want 0 sent after", v)
	}

	// A request decided after the stop, and a fetch whose decision the
	// log lacks, are both counted.
	if l, err = audit.Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	rec(decision("late", audit.Allow))
	rec(fetch("late"))
	rec(fetch("unknown"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if v := readLog(ctx, dir, site, "c1"); v.SentAfter != 2 {
		t.Fatalf("after a request decided after the stop and a fetch without a decision: %+v, want 2 sent after", v)
	}
}
