package crawler

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/output"
	"github.com/goodbot/goodbot/limiter"
)

func TestApplyComplaintStopsAndDeletes(t *testing.T) {
	ts := newTestSite(t)
	other := newTestSite(t)
	var links []string
	for i := range 40 {
		links = append(links, "/p"+strconv.Itoa(i))
	}
	ts.links("/index", links...)
	other.links("/index", "/o1", "/o2")
	rec := &recorder{}
	cfg := testConfig(t, rec, ts, other)
	// 20 requests a second to the complained-about site.
	e, _ := limiter.ParseTraffic(ts.site() + "=17280000")
	e2, _ := limiter.ParseTraffic(other.site() + "=864000000")
	est, _ := limiter.NewEstimates(e, e2)
	cfg.Limiter, _ = limiter.NewLocal(limiter.Config{Estimates: est})
	cfg.OutDir = t.TempDir()
	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	var once sync.Once
	var appliedAt time.Time
	var del audit.Deletion
	pages := 0
	var mu sync.Mutex
	cr.OnResponse(func(r *colly.Response) {
		mu.Lock()
		defer mu.Unlock()
		if r.Request.URL.Host != ts.srv.Listener.Addr().String() {
			return
		}
		pages++
		if pages == 5 {
			once.Do(func() {
				go func() {
					var err error
					del, err = cr.ApplyComplaint(context.Background(), Complaint{ID: "c-1", Site: ts.site(), Reason: "operator asked us to stop", Contact: "ops@site"})
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					appliedAt = time.Now()
					mu.Unlock()
				}()
			})
		}
	})
	cr.Seed(ts.url("/index"))
	cr.Seed(other.url("/index"))
	if _, err := cr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	at := appliedAt
	mu.Unlock()
	if at.IsZero() {
		t.Fatal("the complaint was never applied")
	}
	for _, r := range ts.seen() {
		if r.At.After(at) {
			t.Errorf("%s reached the site %s after the complaint was applied", r.URI, r.At.Sub(at))
		}
	}
	if len(ts.seen()) > 20 {
		t.Errorf("%d requests: the crawl went on", len(ts.seen()))
	}
	if _, err := os.Stat(filepath.Join(cfg.OutDir, "sites", output.SiteDir(ts.site()))); !os.IsNotExist(err) {
		t.Errorf("the site's output survived the complaint: %v", err)
	}
	n := 0
	output.ReadSite(context.Background(), cfg.OutDir, other.site(), func(output.Record) error { n++; return nil })
	if n != 3 {
		t.Errorf("the other site has %d pages stored, want 3; requests %v", n, other.uris())
	}
	if del.Records < 1 || len(del.Digests) != del.Records || del.ComplaintID != "c-1" {
		t.Errorf("deletion = %+v", del)
	}
	if len(rec.all(audit.TypeComplaint)) != 1 || len(rec.all(audit.TypeDeletion)) != 1 {
		t.Errorf("complaint and deletion were not both recorded")
	}
}

// An unconfirmed complaint stops the site and deletes nothing; applied
// again once confirmed, it deletes.
func TestApplyUnconfirmedComplaintStopsOnly(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "/a", "/b")
	rec := &recorder{}
	cfg := testConfig(t, rec, ts)
	cfg.OutDir = t.TempDir()
	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	cr.Seed(ts.url("/index"))
	if _, err := cr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cfg.OutDir, "sites", output.SiteDir(ts.site()))
	c := Complaint{ID: "7", Site: ts.site(), Reason: "form", Unconfirmed: true}
	del, err := cr.ApplyComplaint(context.Background(), c)
	if err != nil || del.Records != 0 || del.ComplaintID != "7" {
		t.Fatalf("unconfirmed: %+v, %v", del, err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("an unconfirmed complaint deleted the site's pages: %v", err)
	}
	cs := rec.all(audit.TypeComplaint)
	if len(cs) != 1 || cs[0].Complaint.Action != "stopped" || len(rec.all(audit.TypeDeletion)) != 0 {
		t.Fatalf("recorded %+v", cs)
	}
	before := len(ts.seen())
	if err := cr.Visit(ts.url("/c")); err == nil {
		if _, err := cr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(ts.seen()) - before; n != 0 {
		t.Fatalf("%d requests reached a stopped site", n)
	}
	c.Unconfirmed = false
	del, err = cr.ApplyComplaint(context.Background(), c)
	if err != nil || del.Records != 3 {
		t.Fatalf("confirmed: %+v, %v", del, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the confirmed complaint left the pages: %v", err)
	}
	if cs := rec.all(audit.TypeComplaint); len(cs) != 2 || cs[1].Complaint.Action != "applied" || len(rec.all(audit.TypeDeletion)) != 1 {
		t.Fatalf("recorded %+v", cs)
	}
}
