package job

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/internal/redistest"
)

func newTestStopList(t *testing.T, c redis.UniversalClient, job string) *StopList {
	t.Helper()
	l, err := NewStopList(c, job, StopListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// A Stop through one client is seen by another within MaxAge (1s): the
// other's copy is never older than that when it answers "not stopped".
func TestStopListPropagation(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	ctx := ctxT(t)
	admin := newTestStopList(t, redistest.Client(t, addr), job)
	worker := newTestStopList(t, redistest.Client(t, addr), job)
	if _, stopped, err := worker.Stopped(ctx, "s.test"); err != nil || stopped {
		t.Fatalf("Stopped before Stop = %v, %v", stopped, err)
	}
	if err := admin.Stop(ctx, "s.test", "operator asked"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var seenAfter time.Duration
	for range 200 { // bounded: 2s in 10ms steps
		reason, stopped, err := worker.Stopped(ctx, "s.test")
		if err != nil {
			t.Fatal(err)
		}
		if stopped {
			seenAfter = time.Since(start)
			if reason != "operator asked" {
				t.Errorf("reason %q", reason)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if seenAfter == 0 {
		t.Fatal("the other client never saw the stop")
	}
	t.Logf("stop seen by the other client after %v", seenAfter)
	// By construction, MaxAge after Stop returned the other copy says stopped.
	time.Sleep(time.Until(start.Add(time.Second + 10*time.Millisecond)))
	if _, stopped, err := worker.Stopped(ctx, "s.test"); err != nil || !stopped {
		t.Errorf("Stopped 1s after Stop = %v, %v", stopped, err)
	}
	if err := admin.Resume(ctx, "s.test"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second + 10*time.Millisecond)
	if _, stopped, err := worker.Stopped(ctx, "s.test"); err != nil || stopped {
		t.Errorf("Stopped 1s after Resume = %v, %v", stopped, err)
	}
	list, err := admin.List(ctx)
	if err != nil || len(list) != 0 {
		t.Errorf("List = %v, %v", list, err)
	}
}

// With Redis paused or gone, a site not on the stale copy is an error,
// never "not stopped"; a site on it stays stopped.
func TestStopListFailsClosed(t *testing.T) {
	srv := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	ctx := ctxT(t)
	l := newTestStopList(t, c, "failclosed")
	if err := l.Stop(ctx, "bad.test", "complaint"); err != nil {
		t.Fatal(err)
	}
	if _, stopped, err := l.Stopped(ctx, "ok.test"); err != nil || stopped {
		t.Fatalf("Stopped = %v, %v", stopped, err)
	}
	// In this order: the pause ends with Resume, the kill with Restart below.
	for _, o := range []struct {
		name   string
		outage func()
	}{{"pause", srv.Pause}, {"kill", srv.Kill}} {
		name := o.name
		o.outage()
		time.Sleep(1100 * time.Millisecond)
		if _, stopped, err := l.Stopped(ctx, "ok.test"); !errors.Is(err, ErrUnavailable) || stopped {
			t.Errorf("%s: Stopped(ok.test) = %v, %v; want ErrUnavailable", name, stopped, err)
		}
		if r, stopped, err := l.Stopped(ctx, "bad.test"); err != nil || !stopped || !strings.Contains(r, "complaint") {
			t.Errorf("%s: Stopped(bad.test) = %q %v, %v; want stopped", name, r, stopped, err)
		}
		if name == "pause" {
			srv.Resume()
			time.Sleep(600 * time.Millisecond)
			if _, stopped, err := l.Stopped(ctx, "ok.test"); err != nil || stopped {
				t.Errorf("after resume: Stopped(ok.test) = %v, %v", stopped, err)
			}
		}
	}
	// The restarted server is empty: the list is read again and works.
	srv.Restart()
	var err error
	for range 30 {
		if _, _, err = l.Stopped(ctx, "ok.test"); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("Stopped after restart: %v", err)
	}
}

// StopList has crawler.StopList's method set (the test does not import
// package crawler, so that this package's tests do not depend on it).
var _ interface {
	Stopped(ctx context.Context, site string) (reason string, stopped bool, err error)
} = (*StopList)(nil)
