package crawler

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goodbot/goodbot/internal/redistest"
	"github.com/goodbot/goodbot/limiter"
)

// lateLimiter is the Redis limiter on a machine where, after the grant,
// every other request is held up longer than its send window (a late
// wake-up, a slow fsync of the decision).
type lateLimiter struct {
	*limiter.Redis
	waits, retakes atomic.Int64
}

func (l *lateLimiter) Wait(ctx context.Context, site string) (limiter.Grant, error) {
	g, err := l.Redis.Wait(ctx, site)
	if err == nil && l.waits.Add(1)%2 == 1 {
		time.Sleep(time.Until(g.Latest) + 20*time.Millisecond)
	}
	return g, err
}

func (l *lateLimiter) Retake(ctx context.Context, site string, g limiter.Grant) (limiter.Grant, error) {
	l.retakes.Add(1)
	return l.Redis.Retake(ctx, site, g)
}

// A grant whose window passed before the request could leave is given
// back for a new one: the site sees each request once, and the budget is
// charged only for what was sent.
func TestGateRetakesLateGrant(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/", "/a", "/b")
	cfg := testConfig(t, &recorder{}, ts)
	es, err := limiter.NewEstimates(limiter.Estimate{Site: ts.site(), PerDay: 864000 * 10, Source: "test", Kind: limiter.KindUser}) // T = 100 ms
	if err != nil {
		t.Fatal(err)
	}
	r, err := limiter.NewRedis(redistest.Client(t, redistest.Addr(t)), redistest.Namespace(t), limiter.Config{Estimates: es})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	lim := &lateLimiter{Redis: r}
	cfg.Limiter = lim
	crawl(t, cfg, ts.url("/"))
	ts.mu.Lock()
	seen := len(ts.requests)
	ts.mu.Unlock()
	if seen != 4 { // robots.txt, /, /a, /b
		t.Errorf("the site saw %d requests, want 4", seen)
	}
	if n := lim.retakes.Load(); n == 0 {
		t.Errorf("no late grant was given back (%d waits)", lim.waits.Load())
	}
	st, err := r.Status(context.Background(), ts.site())
	if err != nil {
		t.Fatal(err)
	}
	if st.SentToday != int64(seen) {
		t.Errorf("charged %d requests for %d sent", st.SentToday, seen)
	}
}
