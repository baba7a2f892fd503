package limiter

import (
	"context"
	"fmt"
	"testing"

	"github.com/goodbot/goodbot/internal/redistest"
)

// BenchmarkGrantTopology compares grant throughput (Wait, from
// RunParallel's goroutines, over 100 sites with an unbounded budget) on
// one private redis-server and on a private three-master Redis Cluster.
// Each site's limiter keys have a hash tag of their own, so the sites
// spread over the masters.
// Run with
//
//	go test -run '^$' -bench GrantTopology -count 6 ./limiter/
func BenchmarkGrantTopology(b *testing.B) {
	for _, topo := range []string{"single", "cluster"} {
		b.Run(topo, func(b *testing.B) {
			c := redistest.StartClient(b, topo)
			var ests []Estimate
			for i := range 100 {
				ests = append(ests, Estimate{Site: fmt.Sprintf("s%d.example", i), PerDay: 864e9, Source: "bench", Kind: KindUser})
			}
			es, err := NewEstimates(ests...)
			if err != nil {
				b.Fatal(err)
			}
			l, err := NewRedis(c, "bench", Config{Estimates: es, Burst: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if _, err := l.Wait(ctx, fmt.Sprintf("s%d.example", i%100)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grants/s")
		})
	}
}
