package crawler

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
)

// A challenge page in GBK is recognised by its decoded title, whether its
// charset is declared only in <meta> or only in the Content-Type header.
func TestGBKChallengePage(t *testing.T) {
	for name, c := range map[string]struct{ ctype, head string }{
		"meta":   {"text/html", `<meta charset="gbk">`},
		"header": {"text/html; charset=GBK", ``},
	} {
		t.Run(name, func(t *testing.T) {
			ts := newTestSite(t)
			ts.links("/index", "/wall", "/a", "/b")
			body := gbk(t, `<html><head>`+c.head+`<title>安全验证</title></head><body><p>请完成验证后继续访问</p></body></html>`)
			ts.handle("/wall", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", c.ctype)
				w.Write([]byte(body))
			})
			cfg := testConfig(t, &recorder{}, ts)
			cfg.Parallel = 1
			cfg.Workers = 1
			_, sum := crawl(t, cfg, ts.url("/index"))
			if sum.Challenges != 1 {
				t.Fatalf("challenges = %d, want 1; requests %v", sum.Challenges, ts.uris())
			}
			if _, ok := sum.Stopped[ts.site()]; !ok {
				t.Fatalf("site not stopped: %v", sum.Stopped)
			}
			if uris := ts.uris(); uris[len(uris)-1] != "/wall" {
				t.Fatalf("requests after the challenge page: %v", uris)
			}
		})
	}
}

// A demand for payment (402, or a crawler-price header) stops the site:
// the request is not retried, nothing is sent after it, goodbot never
// offers to pay, and the log says why.
func TestPaymentRequiredStopsSite(t *testing.T) {
	for name, status := range map[string]int{"402": http.StatusPaymentRequired, "crawler-price on 200": http.StatusOK} {
		t.Run(name, func(t *testing.T) {
			ts := newTestSite(t)
			ts.links("/index", "/pay", "/a", "/b")
			ts.handle("/pay", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Crawler-Price", "USD 0.01")
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(status)
				w.Write([]byte("<html><body>pay per crawl</body></html>"))
			})
			rec := &recorder{}
			cfg := testConfig(t, rec, ts)
			cfg.Parallel, cfg.Workers = 1, 1
			cr, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
			cr.OnRequest(func(r *colly.Request) { r.Headers.Set("Crawler-Max-Price", "USD 1.00") })
			var stopped *StoppedError
			cr.OnError(func(_ *colly.Response, err error) {
				if se, ok := err.(*StoppedError); ok && se.Class == "payment" {
					stopped = se
				}
			})
			if err := cr.Seed(ts.url("/index")); err != nil {
				t.Fatal(err)
			}
			sum, err := cr.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if sum.Payments != 1 || ts.count("/pay") != 1 {
				t.Fatalf("payments %d, /pay fetched %d times; want 1, 1", sum.Payments, ts.count("/pay"))
			}
			if why := sum.Stopped[ts.site()]; !strings.Contains(why, "asks for payment") || !strings.Contains(why, `crawler-price "USD 0.01"`) {
				t.Fatalf("site stopped with %q", why)
			}
			if uris := ts.uris(); uris[len(uris)-1] != "/pay" {
				t.Fatalf("requests after the demand for payment: %v", uris)
			}
			if stopped == nil {
				t.Fatal("OnError got no *StoppedError of class payment")
			}
			for _, r := range ts.seen() {
				if r.Hdr.Get("Crawler-Max-Price") != "" || r.Hdr.Get("Crawler-Exact-Price") != "" {
					t.Fatalf("%s offered to pay: %v", r.URI, r.Hdr)
				}
			}
			var logged, refused bool
			for _, e := range rec.all(audit.TypeFetch) {
				logged = logged || e.Fetch.Class == "payment"
			}
			for _, e := range rec.all(audit.TypeDecision) {
				refused = refused || (e.Decision.Verdict == audit.Refuse && strings.Contains(e.Decision.Reason, "asks for payment"))
			}
			if !logged {
				t.Error("no fetch entry of class payment")
			}
			if !refused {
				t.Error("no refused decision naming the demand for payment")
			}
		})
	}
}

// TestRefusalCountRestartsAfterAnswer: refusals in a row stop a site; an
// answer in between starts the count again, and leaves no entry behind.
func TestRefusalCountRestartsAfterAnswer(t *testing.T) {
	b := newBlocks()
	for i := 1; i < refusalsToStop; i++ {
		if b.answered("a.test", true) {
			t.Fatalf("stopped after %d refusals, want %d", i, refusalsToStop)
		}
	}
	b.answered("a.test", false)
	b.answered("b.test", false)
	if n := len(b.refusal); n != 0 {
		t.Errorf("%d refusal counters kept for sites whose latest answer was not a refusal", n)
	}
	for i := 1; i <= refusalsToStop; i++ {
		if stop := b.answered("a.test", true); stop != (i == refusalsToStop) {
			t.Fatalf("refusal %d after an answer: stop = %v", i, stop)
		}
	}
}
