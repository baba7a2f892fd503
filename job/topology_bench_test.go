package job

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/goodbot/goodbot/internal/redistest"
)

// BenchmarkLeaseTopology compares lease throughput (Next then Complete,
// 32 goroutines on 2 CPUs) on one private redis-server and on a private
// three-master Redis Cluster, for one job and for three jobs at once. A
// job's keys share one hash slot, so one job uses one master whatever
// the cluster's size; a cluster spreads jobs, not one job. Run with
//
//	go test -run '^$' -bench LeaseTopology -count 6 ./job/
func BenchmarkLeaseTopology(b *testing.B) {
	for _, topo := range []string{"single", "cluster"} {
		for _, jobs := range []int{1, 3} {
			b.Run(fmt.Sprintf("%s/jobs=%d", topo, jobs), func(b *testing.B) {
				c := redistest.StartClient(b, topo)
				fs := make([]*Frontier, jobs)
				for j := range fs {
					f, err := NewFrontier(c, fmt.Sprintf("bench-%d", j), FrontierOptions{MaxQueued: 1 << 30, PerSite: 2})
					if err != nil {
						b.Fatal(err)
					}
					defer f.Close()
					fill(b, f, b.N/jobs+1, 1000)
					fs[j] = f
				}
				var n atomic.Int64
				b.SetParallelism(16)
				b.ResetTimer()
				leaseAll(b, func() *Frontier { return fs[int(n.Add(1))%jobs] })
			})
		}
	}
}
