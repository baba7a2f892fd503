package state

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/goodbot/goodbot/crawler/frontier"
)

// benchItems returns n URLs over 1,000 sites, about 70 bytes each, the
// i-th always the same.
func benchItems(from, n int) []frontier.Item {
	items := make([]frontier.Item, n)
	for i := range items {
		k := from + i
		site := fmt.Sprintf("site%03d.example", k%1000)
		items[i] = frontier.Item{URL: fmt.Sprintf("http://%s/path/%08x?x=%d", site, uint32(k)*2654435761, k), Site: site, Depth: 1}
	}
	return items
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// BenchmarkAddAll enqueues b.N batches of 1,000 new URLs (as the links of
// a page arrive) into one growing frontier, with a tenth of each batch
// repeated from the one before so that the seen set is asked. Run it with
// -benchtime 1000x for a frontier of a million URLs; it reports URLs
// queued per second, the Go heap per queued URL and the disk per URL.
func BenchmarkAddAll(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	f, _, err := s.Frontier(FrontierOptions{})
	if err != nil {
		b.Fatal(err)
	}
	heap0 := heapInUse()
	b.ResetTimer()
	start := time.Now()
	queued := 0
	for i := range b.N {
		batch := benchItems(i*900, 1000) // 100 overlap with the batch before
		ok, err := f.AddAll(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, q := range ok {
			if q {
				queued++
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if err := s.sync(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(queued)/elapsed.Seconds(), "URLs/s")
	b.ReportMetric(float64(int64(heapInUse())-int64(heap0))/float64(queued), "heap-B/URL")
	b.ReportMetric(float64(dirSize(dir))/float64(queued), "disk-B/URL")
}

// BenchmarkLeaseComplete leases and completes b.N URLs from a frontier of
// 100,000 over 1,000 sites, as 16 workers would: each Complete waits for
// the grouped sync that makes it durable.
func BenchmarkLeaseComplete(b *testing.B) {
	ctx := context.Background()
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	f, _, err := s.Frontier(FrontierOptions{Options: frontier.Options{PerSite: 2}})
	if err != nil {
		b.Fatal(err)
	}
	total := max(b.N, 100_000)
	for i := 0; i < total; i += 1000 {
		if _, err := f.AddAll(ctx, benchItems(i, min(1000, total-i))); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	work := make(chan struct{}, b.N)
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	done := make(chan error, 16)
	for range 16 {
		go func() {
			for range work {
				l, err := f.Next(ctx)
				if err != nil {
					done <- err
					return
				}
				if err := f.Complete(ctx, l, true); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 16 {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}
