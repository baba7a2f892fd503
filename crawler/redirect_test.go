package crawler

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/audit"
)

// A chain of seven redirects: hops 1 to 5 are allowed decisions, the sixth
// is refused and recorded with the rule that refused it, and nothing past
// it is requested.
func TestRedirectLimitIsARecordedDecision(t *testing.T) {
	ts := newTestSite(t)
	const chain = 7
	for i := range chain {
		ts.handle(fmt.Sprintf("/r%d", i), func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, fmt.Sprintf("/r%d", i+1), http.StatusFound)
		})
	}
	rec := &recorder{}
	_, sum := crawl(t, testConfig(t, rec, ts), ts.url("/r0"))

	for i := 0; i <= MaxRedirects; i++ {
		if n := ts.count(fmt.Sprintf("/r%d", i)); n != 1 {
			t.Errorf("/r%d requested %d times, want once", i, n)
		}
	}
	for i := MaxRedirects + 1; i <= chain; i++ {
		if n := ts.count(fmt.Sprintf("/r%d", i)); n != 0 {
			t.Errorf("/r%d, past the redirect limit, requested %d times", i, n)
		}
	}
	byURL := map[string][]*audit.Decision{}
	for _, e := range rec.all(audit.TypeDecision) {
		if e.Decision.Kind == "redirect" {
			byURL[e.Decision.URL] = append(byURL[e.Decision.URL], e.Decision)
		}
	}
	for i := 1; i <= MaxRedirects; i++ {
		ds := byURL[ts.url(fmt.Sprintf("/r%d", i))]
		if len(ds) != 1 || ds[0].Verdict != audit.Allow {
			t.Errorf("hop %d: decisions %+v, want one allow", i, ds)
		}
	}
	refused := byURL[ts.url(fmt.Sprintf("/r%d", MaxRedirects+1))]
	want := fmt.Sprintf("redirect limit: more than %d hops", MaxRedirects)
	if len(refused) != 1 || refused[0].Verdict != audit.Refuse || !strings.Contains(refused[0].Reason, want) {
		t.Fatalf("hop %d: decisions %+v, want one refuse with reason %q", MaxRedirects+1, refused, want)
	}
	if len(byURL) != MaxRedirects+1 {
		t.Errorf("redirect decisions for %d URLs, want %d: %v", len(byURL), MaxRedirects+1, byURL)
	}
	if sum.Refused != 1 {
		t.Errorf("summary: %d refused, want 1", sum.Refused)
	}
}

// A redirect to a port no TCP connection can use is refused, and recorded,
// rather than tried as a network error; a link to one is not queued.
func TestRedirectAndLinkToBadPort(t *testing.T) {
	ts := newTestSite(t)
	ts.handle("/go", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:99999/x", http.StatusFound)
	})
	ts.links("/index", "/go", "http://127.0.0.1:0/y")
	rec := &recorder{}
	crawl(t, testConfig(t, rec, ts), ts.url("/index"))
	found := false
	for _, e := range rec.all(audit.TypeDecision) {
		d := e.Decision
		if strings.Contains(d.URL, ":0/") {
			t.Errorf("a decision about the link to port 0: %+v", d)
		}
		if d.Kind == "redirect" && d.Verdict == audit.Refuse && strings.Contains(d.Reason, "port 99999") {
			found = true
		}
	}
	if !found {
		t.Error("no refused redirect decision naming port 99999")
	}
	for _, e := range rec.all(audit.TypeFetch) {
		if strings.Contains(e.Fetch.URL, ":99999") {
			t.Errorf("sent to port 99999: %+v", e.Fetch)
		}
	}
}
