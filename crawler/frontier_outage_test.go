package crawler

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/crawler/frontier"
)

// flakyFrontier is an in-memory frontier whose shared state "goes away"
// while down is set: every call fails with frontier.ErrUnavailable, as a
// Redis frontier's do when Redis does not answer.
type flakyFrontier struct {
	*frontier.Memory
	down     atomic.Bool
	failures atomic.Int64
}

func (f *flakyFrontier) fail() error {
	if f.down.Load() {
		f.failures.Add(1)
		return fmt.Errorf("test: %w", frontier.ErrUnavailable)
	}
	return nil
}

func (f *flakyFrontier) Add(ctx context.Context, it frontier.Item) (bool, error) {
	if err := f.fail(); err != nil {
		return false, err
	}
	return f.Memory.Add(ctx, it)
}

func (f *flakyFrontier) Next(ctx context.Context) (frontier.Lease, error) {
	if err := f.fail(); err != nil {
		return frontier.Lease{}, err
	}
	return f.Memory.Next(ctx)
}

func (f *flakyFrontier) NextWithin(ctx context.Context, horizon time.Duration) (frontier.Lease, error) {
	if err := f.fail(); err != nil {
		return frontier.Lease{}, err
	}
	return f.Memory.NextWithin(ctx, horizon)
}

func (f *flakyFrontier) Complete(ctx context.Context, l frontier.Lease, counted bool) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Memory.Complete(ctx, l, counted)
}

// An outage of the frontier pauses the crawl; links found meanwhile are
// kept, and the crawl finishes once it answers again.
func TestFrontierOutagePausesAndLosesNothing(t *testing.T) {
	ts := newTestSite(t)
	var links []string
	for i := range 10 {
		links = append(links, fmt.Sprintf("/p%d", i))
	}
	ts.links("/index", links...)
	ff := &flakyFrontier{Memory: frontier.NewMemory(frontier.Options{PerSite: 2})}
	cfg := testConfig(t, &recorder{}, ts)
	cfg.Frontier = ff
	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) {
		// The frontier goes down just as the index's links are queued, for
		// a little over a second.
		once.Do(func() {
			ff.down.Store(true)
			time.AfterFunc(1200*time.Millisecond, func() { ff.down.Store(false) })
		})
		e.Request.Visit(e.Attr("href"))
	})
	cr.Seed(ts.url("/index"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sum, err := cr.Run(ctx)
	if err != nil || sum.Reason != "done" {
		t.Fatalf("Run = %+v, %v", sum, err)
	}
	if ff.failures.Load() == 0 {
		t.Fatal("the outage never happened")
	}
	for _, l := range links {
		if ts.count(l) != 1 {
			t.Errorf("%s requested %d times after the outage; requests %v", l, ts.count(l), ts.uris())
		}
	}
}
