package limiter

import (
	"context"
	"math"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/internal/redistest"
)

// The benchmarks measure the cost of one decision that does not have to
// wait: a burst far larger than the number of decisions made.

func benchEstimates(b *testing.B, site string) *Estimates {
	es, err := NewEstimates(Estimate{Site: site, PerDay: 864e9, Source: "bench", Kind: KindUser})
	if err != nil {
		b.Fatal(err)
	}
	return es
}

func BenchmarkLocalWait(b *testing.B) {
	const site = "bench.example"
	l, err := NewLocal(Config{Estimates: benchEstimates(b, site), Burst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.Wait(ctx, site); err != nil {
			b.Fatal(err)
		}
	}
}

// benchRedis returns a Redis limiter for site whose burst never binds,
// and its client.
func benchRedis(b *testing.B, site string) (*Redis, *redis.Client) {
	c := redistest.Client(b, redistest.Addr(b))
	l, err := NewRedis(c, redistest.Namespace(b), Config{Estimates: benchEstimates(b, site), Burst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	return l, c
}

func BenchmarkRedisWait(b *testing.B) {
	const site = "bench.example"
	l, c := benchRedis(b, site)
	ctx := context.Background()
	if err := c.ConfigResetStat(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := l.Wait(ctx, site); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(scriptMicros(b, c), "redis-µs/call")
}

// scriptMicros returns the Redis time per script call since the last
// CONFIG RESETSTAT, from INFO commandstats (fcall, evalsha and eval).
func scriptMicros(b *testing.B, c *redis.Client) float64 {
	calls, usec := scriptTotals(b, c)
	if calls == 0 {
		return math.NaN()
	}
	return usec / float64(calls)
}

func BenchmarkRedisWaitParallel(b *testing.B) {
	const site = "bench.example"
	l, _ := benchRedis(b, site)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Wait(ctx, site); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
