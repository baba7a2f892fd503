package job

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/internal/redistest"
)

// benchURL is a URL of typical length (about 60 bytes).
func benchURL(site, i int) frontier.Item {
	s := fmt.Sprintf("site%d.example.com", site)
	return frontier.Item{URL: fmt.Sprintf("http://%s/articles/2026/11/page-%d.html", s, i), Site: s, Depth: 2, From: s}
}

// BenchmarkFrontierAdd measures enqueue throughput: Add of distinct URLs
// over 100 sites from 32 goroutines (on 2 CPUs) sharing one client.
func BenchmarkFrontierAdd(b *testing.B) {
	c := redistest.Client(b, redistest.Addr(b))
	f, err := NewFrontier(c, benchJob(b, c), FrontierOptions{MaxQueued: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	var n atomic.Int64
	calls0, usec0 := scriptStats(b, c)
	b.SetParallelism(16) // 16 goroutines per CPU: each waits on a round trip
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			if ok, err := f.Add(ctx, benchURL(i%100, i)); err != nil || !ok {
				b.Errorf("Add: %v %v", ok, err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adds/s")
	calls1, usec1 := scriptStats(b, c)
	if calls1 > calls0 {
		b.ReportMetric(float64(usec1-usec0)/float64(calls1-calls0), "redis-µs/script")
	}
}

// BenchmarkFrontierAddAll measures enqueue throughput with AddAll in
// batches of 100 (the links of a page), from 4 goroutines.
func BenchmarkFrontierAddAll(b *testing.B) {
	c := redistest.Client(b, redistest.Addr(b))
	f, err := NewFrontier(c, benchJob(b, c), FrontierOptions{MaxQueued: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	var n atomic.Int64
	calls0, usec0 := scriptStats(b, c)
	b.SetParallelism(2)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		batch := make([]frontier.Item, 0, 100)
		flush := func() {
			if _, err := f.AddAll(ctx, batch); err != nil {
				b.Errorf("AddAll: %v", err)
			}
			batch = batch[:0]
		}
		for pb.Next() {
			i := int(n.Add(1))
			batch = append(batch, benchURL(i%100, i))
			if len(batch) == cap(batch) {
				flush()
			}
		}
		if len(batch) > 0 {
			flush()
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adds/s")
	calls1, usec1 := scriptStats(b, c)
	if calls1 > calls0 {
		b.ReportMetric(float64(usec1-usec0)/float64(calls1-calls0), "redis-µs/script")
	}
}

// BenchmarkFrontierLease measures lease throughput: Next then Complete,
// from 32 goroutines (on 2 CPUs) sharing one client, over 1,000 sites.
func BenchmarkFrontierLease(b *testing.B) {
	c := redistest.Client(b, redistest.Addr(b))
	f, err := NewFrontier(c, benchJob(b, c), FrontierOptions{MaxQueued: 1 << 30, PerSite: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	fill(b, f, b.N, 1000)
	calls0, usec0 := scriptStats(b, c)
	b.SetParallelism(16) // 16 goroutines per CPU: each waits on a round trip
	b.ResetTimer()
	leaseAll(b, func() *Frontier { return f })
	calls1, usec1 := scriptStats(b, c)
	if calls1 > calls0 {
		b.ReportMetric(float64(usec1-usec0)/float64(calls1-calls0), "redis-µs/script")
	}
	if _, err := f.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		b.Errorf("Next after all leases = %v, want ErrDone", err)
	}
}

// leaseAll runs b.N leases, Next then Complete, in parallel, each from the
// frontier pick returns, and reports leases/s.
func leaseAll(b *testing.B, pick func() *Frontier) {
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f := pick()
			l, err := f.Next(ctx)
			if err != nil {
				b.Errorf("Next: %v", err)
				return
			}
			if err := f.Complete(ctx, l, true); err != nil {
				b.Errorf("Complete: %v", err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "leases/s")
}

// fill adds n items over sites sites, from 16 goroutines.
func fill(tb testing.TB, f *Frontier, n, sites int) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if ok, err := f.Add(ctx, benchURL(i%sites, i)); err != nil || !ok {
					tb.Errorf("Add %d: %v %v", i, ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// seenMany marks n URLs as seen (visited, not queued), from 16 goroutines.
func seenMany(tb testing.TB, f *Frontier, n int) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if _, err := f.Seen(ctx, "http://visited.example.com/articles/2026/11/page-"+strconv.Itoa(i)+".html"); err != nil {
					tb.Errorf("Seen %d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func usedMemory(tb testing.TB, c *redis.Client) int64 {
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return n
		}
	}
	tb.Fatal("no used_memory in INFO memory")
	return 0
}

// BenchmarkMemoryPerURL1M measures Redis memory per visited URL and per
// queued URL at 1M URLs each, on a private redis-server (so that INFO
// memory counts only this job). It runs once whatever b.N is, and takes a
// few minutes: run it alone with
//
//	go test -run '^$' -bench MemoryPerURL1M -benchtime 1x ./job/
func BenchmarkMemoryPerURL1M(b *testing.B) {
	const n = 1_000_000
	srv := redistest.Start(b)
	c := redistest.Client(b, srv.Addr)
	f, err := NewFrontier(c, "mem", FrontierOptions{MaxQueued: 2 * n})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for range b.N {
		m0 := usedMemory(b, c)
		seenMany(b, f, n)
		m1 := usedMemory(b, c)
		fill(b, f, n, 1000)
		m2 := usedMemory(b, c)
		st, err := f.Stats(context.Background())
		if err != nil || st.Seen != 2*n || st.Queued != n {
			b.Fatalf("Stats = %+v, %v", st, err)
		}
		visited := float64(m1-m0) / n
		queued := float64(m2-m1)/n - visited // an Add also marks its URL visited
		b.ReportMetric(visited, "B/visited-URL")
		b.ReportMetric(queued, "B/queued-URL")
		b.ReportMetric(float64(m2-m1)/n, "B/added-URL")
		stored, _ := encodeItem(benchURL(1, 500000))
		b.Logf("used_memory: empty %d, 1M visited %d, +1M queued %d (URL ~%d bytes, stored item ~%d bytes)",
			m0, m1, m2, len(benchURL(1, 500000).URL), len(stored))
	}
}

// scriptStats returns the calls and microseconds Redis spent in EVALSHA
// and EVAL so far (INFO commandstats).
func scriptStats(tb testing.TB, c *redis.Client) (calls, usec int64) {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if !strings.HasPrefix(line, "cmdstat_evalsha:") && !strings.HasPrefix(line, "cmdstat_eval:") {
			continue
		}
		_, fields, _ := strings.Cut(line, ":")
		for _, kv := range strings.Split(fields, ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "calls":
				calls += n
			case "usec":
				usec += n
			}
		}
	}
	return calls, usec
}

// BenchmarkStopListStopped measures the check the gate makes before every
// request (answered from the local copy).
func BenchmarkStopListStopped(b *testing.B) {
	c := redistest.Client(b, redistest.Addr(b))
	l, err := NewStopList(c, benchJob(b, c), StopListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	for i := range 100 {
		if err := l.Stop(ctx, fmt.Sprintf("s%d.test", i), "bench"); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := l.Stopped(ctx, "free.test"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchJob returns a job name unique to the benchmark, whose keys are
// purged when it ends.
func benchJob(b *testing.B, c *redis.Client) string {
	job := redistest.Namespace(b)
	b.Cleanup(func() { Purge(context.Background(), c, job) })
	return job
}
