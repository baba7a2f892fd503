package job

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/internal/redistest"
)

func newTestFrontier(t *testing.T, c redis.UniversalClient, job string, opts FrontierOptions) *Frontier {
	t.Helper()
	f, err := NewFrontier(c, job, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// testJob returns a job name unique to the test, whose keys are purged
// from the shared server when the test ends.
func testJob(t *testing.T, addr string) string {
	job := redistest.Namespace(t)
	c := redistest.Client(t, addr)
	t.Cleanup(func() {
		if _, err := Purge(context.Background(), c, job); err != nil {
			t.Errorf("Purge: %v", err)
		}
	})
	return job
}

func item(site string, i int) frontier.Item {
	return frontier.Item{URL: fmt.Sprintf("http://%s/p%d", site, i), Site: site}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestFrontierBasics(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	f := newTestFrontier(t, redistest.Client(t, addr), job, FrontierOptions{PerSite: 1})
	ctx := ctxT(t)

	for i, tc := range []struct {
		it   frontier.Item
		want bool
	}{
		{item("a.test", 1), true},
		{item("a.test", 1), false}, // duplicate
		{item("a.test", 2), true},
		{item("b.test", 1), true},
	} {
		got, err := f.Add(ctx, tc.it)
		if err != nil || got != tc.want {
			t.Fatalf("Add #%d %s = %v, %v; want %v", i, tc.it.URL, got, err, tc.want)
		}
	}
	if _, err := f.Add(ctx, frontier.Item{URL: "http://x/"}); err == nil {
		t.Error("Add without site: no error")
	}
	if seen, err := f.Seen(ctx, "http://a.test/p2"); err != nil || !seen {
		t.Errorf("Seen(queued url) = %v, %v; want true", seen, err)
	}
	if seen, err := f.Seen(ctx, "http://a.test/redirect"); err != nil || seen {
		t.Errorf("Seen(new url) = %v, %v; want false", seen, err)
	}
	if ok, _ := f.Add(ctx, frontier.Item{URL: "http://a.test/redirect", Site: "a.test"}); ok {
		t.Error("Add after Seen queued the URL")
	}
	st, err := f.Stats(ctx)
	if err != nil || st != (frontier.Stats{Queued: 3, Seen: 4}) {
		t.Errorf("Stats = %+v, %v; want 3 queued, 4 seen", st, err)
	}

	// Round-robin with PerSite 1: a, b, then a's second item only after a's
	// first lease ends.
	l1, err := f.Next(ctx)
	if err != nil || l1.Item.URL != "http://a.test/p1" {
		t.Fatalf("Next = %+v, %v", l1, err)
	}
	l2, err := f.Next(ctx)
	if err != nil || l2.Item.URL != "http://b.test/p1" {
		t.Fatalf("Next = %+v, %v", l2, err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = f.Next(short)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next with a.test at its limit = %v, want deadline exceeded", err)
	}
	if err := f.Complete(ctx, l1, true); err != nil {
		t.Fatal(err)
	}
	if err := f.Complete(ctx, l1, true); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("second Complete = %v, want ErrLeaseLost", err)
	}
	l3, err := f.Next(ctx)
	if err != nil || l3.Item.URL != "http://a.test/p2" {
		t.Fatalf("Next = %+v, %v", l3, err)
	}
	// Retry into the near future: the item comes back with Attempt 1.
	if err := f.Retry(ctx, l2, time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.Stats(ctx); st.Queued != 1 || st.InFlight != 1 {
		t.Errorf("Stats after Retry = %+v", st)
	}
	if err := f.Complete(ctx, l3, false); err != nil {
		t.Fatal(err)
	}
	l4, err := f.Next(ctx)
	if err != nil || l4.Item.URL != "http://b.test/p1" || l4.Item.Attempt != 1 || !l4.Item.NotBefore.IsZero() {
		t.Fatalf("Next after retry = %+v, %v", l4, err)
	}
	if err := f.Complete(ctx, l4, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		t.Fatalf("Next on an empty frontier = %v, want ErrDone", err)
	}
	if st, _ := f.Stats(ctx); st != (frontier.Stats{Seen: 4, Pages: 2}) {
		t.Errorf("final Stats = %+v", st)
	}
}

// Many workers, each with its own client, lease every URL exactly once and
// never hold more than PerSite leases of a site at once.
func TestFrontierNoDoubleLease(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	const sites, perSite, urls, workers = 10, 2, 600, 8
	ctx := ctxT(t)
	seed := newTestFrontier(t, redistest.Client(t, addr), job, FrontierOptions{PerSite: perSite})
	for i := range urls {
		if ok, err := seed.Add(ctx, item(fmt.Sprintf("s%d.test", i%sites), i)); err != nil || !ok {
			t.Fatalf("Add: %v %v", ok, err)
		}
	}
	var (
		mu     sync.Mutex
		leased = map[string]int{}
		out    [sites]atomic.Int32
		over   atomic.Int32
		wg     sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := NewFrontier(redistest.Client(t, addr), job, FrontierOptions{PerSite: perSite})
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			for range urls + 1 { // bounded
				l, err := f.Next(ctx)
				if errors.Is(err, frontier.ErrDone) {
					return
				}
				if err != nil {
					t.Errorf("worker %d: Next: %v", w, err)
					return
				}
				var s int
				fmt.Sscanf(l.Item.Site, "s%d.test", &s)
				if out[s].Add(1) > perSite {
					over.Add(1)
				}
				mu.Lock()
				leased[l.Item.URL]++
				mu.Unlock()
				out[s].Add(-1)
				if err := f.Complete(ctx, l, true); err != nil {
					t.Errorf("worker %d: Complete: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(leased) != urls {
		t.Errorf("%d distinct URLs leased, want %d", len(leased), urls)
	}
	for u, n := range leased {
		if n != 1 {
			t.Errorf("%s leased %d times", u, n)
		}
	}
	if n := over.Load(); n > 0 {
		t.Errorf("%d times more than %d leases of one site were out", n, perSite)
	}
	if st, err := seed.Stats(ctx); err != nil || st.Pages != urls || st.Queued != 0 || st.InFlight != 0 {
		t.Errorf("Stats = %+v, %v", st, err)
	}
	n, err := Purge(ctx, redistest.Client(t, addr), job)
	if err != nil || n == 0 {
		t.Errorf("Purge = %d, %v", n, err)
	}
	if st, err := seed.Stats(ctx); err != nil || st != (frontier.Stats{}) {
		t.Errorf("Stats after Purge = %+v, %v", st, err)
	}
}

// A worker that stops renewing loses its leases; another worker gets the
// items exactly once, and the first worker's Complete fails.
func TestFrontierLeaseExpiry(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	ctx := ctxT(t)
	dead := newTestFrontier(t, redistest.Client(t, addr), job, FrontierOptions{PerSite: 5, LeaseTTL: 400 * time.Millisecond, RenewEvery: -1})
	live := newTestFrontier(t, redistest.Client(t, addr), job, FrontierOptions{PerSite: 5, LeaseTTL: 400 * time.Millisecond, RenewEvery: 50 * time.Millisecond})
	for i := range 6 {
		if _, err := dead.Add(ctx, item("k.test", i)); err != nil {
			t.Fatal(err)
		}
	}
	var deadLeases []frontier.Lease
	for range 3 {
		l, err := dead.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		deadLeases = append(deadLeases, l)
	}
	// live holds two leases for much longer than the TTL, renewing them.
	var liveLeases []frontier.Lease
	for range 2 {
		l, err := live.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		liveLeases = append(liveLeases, l)
	}
	got := map[string]int{}
	for range 20 { // bounded: 4 items to take, the first after ~400ms
		l, err := live.Next(ctx)
		if errors.Is(err, frontier.ErrDone) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[l.Item.URL]++
		if err := live.Complete(ctx, l, true); err != nil {
			t.Fatal(err)
		}
		if len(got) == 4 {
			break
		}
	}
	for _, l := range deadLeases {
		if got[l.Item.URL] != 1 {
			t.Errorf("%s re-leased %d times, want 1", l.Item.URL, got[l.Item.URL])
		}
		if err := dead.Complete(ctx, l, true); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("Complete of an expired lease = %v, want ErrLeaseLost", err)
		}
	}
	for _, l := range liveLeases {
		if got[l.Item.URL] != 0 {
			t.Errorf("%s leased again while its renewed lease was live", l.Item.URL)
		}
		if err := live.Complete(ctx, l, true); err != nil {
			t.Errorf("Complete of a renewed lease: %v", err)
		}
	}
	if _, err := live.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		t.Errorf("Next at the end = %v, want ErrDone", err)
	}
}

func TestFrontierMaxPagesJobWide(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	ctx := ctxT(t)
	opts := FrontierOptions{PerSite: 10, MaxPages: 5}
	a := newTestFrontier(t, redistest.Client(t, addr), job, opts)
	b := newTestFrontier(t, redistest.Client(t, addr), job, opts)
	for i := range 20 {
		a.Add(ctx, item("m.test", i))
	}
	n := 0
	for _, f := range []*Frontier{a, b, a, b, a, b, a, b} {
		l, err := f.Next(ctx)
		if errors.Is(err, frontier.ErrDone) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if err := f.Complete(ctx, l, true); err != nil {
			t.Fatal(err)
		}
	}
	if n != 5 {
		t.Errorf("%d pages leased across two workers, want MaxPages 5", n)
	}
	if st, _ := b.Stats(ctx); st.Pages != 5 || st.Queued != 15 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestFrontierDropSite(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	ctx := ctxT(t)
	f := newTestFrontier(t, redistest.Client(t, addr), job, FrontierOptions{PerSite: 1})
	other := newTestFrontier(t, redistest.Client(t, addr), job, FrontierOptions{PerSite: 1})
	for i := range 4 {
		f.Add(ctx, item("drop.test", i))
		f.Add(ctx, item("keep.test", i))
	}
	later := item("drop.test", 99)
	later.NotBefore = time.Now().Add(time.Hour)
	f.Add(ctx, later)
	l, err := f.Next(ctx) // drop.test/p0 leased
	if err != nil || l.Item.Site != "drop.test" {
		t.Fatalf("Next = %+v, %v", l, err)
	}
	n, err := other.DropSite(ctx, "drop.test")
	if err != nil || n != 4 {
		t.Fatalf("DropSite = %d, %v; want 3 queued + 1 delayed", n, err)
	}
	if ok, err := f.Add(ctx, item("drop.test", 50)); err != nil || ok {
		t.Errorf("Add after DropSite = %v, %v; want refused", ok, err)
	}
	if err := f.Retry(ctx, l, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		l, err := f.Next(ctx)
		if errors.Is(err, frontier.ErrDone) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if l.Item.Site != "keep.test" {
			t.Errorf("leased %s after DropSite", l.Item.URL)
		}
		f.Complete(ctx, l, true)
	}
	if st, _ := f.Stats(ctx); st.Queued != 0 || st.Pages != 4 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestFrontierUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	ctx := ctxT(t)
	f := newTestFrontier(t, c, "unavail", FrontierOptions{Timeout: 300 * time.Millisecond})
	if _, err := f.Add(ctx, item("u.test", 1)); err != nil {
		t.Fatal(err)
	}
	srv.Pause()
	if _, err := f.Next(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Next with Redis paused = %v, want ErrUnavailable", err)
	}
	srv.Kill()
	if _, err := f.Add(ctx, item("u.test", 2)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Add with Redis down = %v, want ErrUnavailable", err)
	}
	srv.Restart()
	// Empty again (no persistence): the job's state is gone, and the
	// worker says so instead of reporting the crawl done.
	var err error
	for range 20 { // the client reconnects
		if _, err = f.Next(ctx); !errors.Is(err, ErrUnavailable) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !errors.Is(err, ErrJobLost) {
		t.Errorf("Next after a restart without persistence = %v, want ErrJobLost", err)
	}
}

func TestFrontierAddAll(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	ctx := ctxT(t)
	c := redistest.Client(t, addr)
	f := newTestFrontier(t, c, job, FrontierOptions{MaxQueued: 4})
	if ok, err := f.Add(ctx, item("a.test", 0)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	// A fresh server has no scripts: the pipeline loads them and retries.
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	items := []frontier.Item{item("a.test", 0), item("a.test", 1), item("b.test", 1), item("a.test", 1), item("c.test", 1), item("d.test", 1)}
	got, err := f.AddAll(ctx, items)
	want := []bool{false, true, true, false, true, false}
	if !errors.Is(err, frontier.ErrFull) || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("AddAll = %v, %v; want %v, ErrFull", got, err, want)
	}
	if st, _ := f.Stats(ctx); st.Queued != 4 || st.Seen != 4 {
		t.Errorf("Stats = %+v", st)
	}
	if _, err := f.AddAll(ctx, []frontier.Item{{URL: "x"}}); err == nil {
		t.Error("AddAll of an item without site: no error")
	}
}

// A worker whose job state vanished (Redis restarted without persistence,
// or flushed) stops with ErrJobLost instead of reporting the crawl done;
// so does one whose job was started over by a new first worker.
func TestFrontierJobLost(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	c := redistest.Client(t, addr)
	f := newTestFrontier(t, c, job, FrontierOptions{PerSite: 1})
	ctx := ctxT(t)
	if _, err := f.Add(ctx, item("a.test", 1)); err != nil {
		t.Fatal(err)
	}
	// What a restart of Redis without persistence leaves: nothing.
	if _, err := Purge(ctx, c, job); err != nil {
		t.Fatal(err)
	}
	_, err := f.Next(ctx)
	if !errors.Is(err, ErrJobLost) || errors.Is(err, frontier.ErrDone) {
		t.Fatalf("Next after the job's state vanished: %v, want ErrJobLost", err)
	}
	// A new worker starts the job over; the old one still stops.
	g := newTestFrontier(t, c, job, FrontierOptions{PerSite: 1})
	if _, err := g.Add(ctx, item("a.test", 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Next(ctx); !errors.Is(err, ErrJobLost) {
		t.Fatalf("Next of a worker of the old epoch: %v, want ErrJobLost", err)
	}
	if l, err := g.Next(ctx); err != nil || l.Item.URL != item("a.test", 2).URL {
		t.Fatalf("Next of the new worker: %+v, %v", l, err)
	}
}
