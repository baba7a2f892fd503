package limiter

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/internal/redistest"
)

// BenchmarkRedisWaitObserve is one request as the crawler makes it: a
// grant, then the site's ordinary answer reported. It reports the Redis
// time and the Redis calls (scripts, from INFO commandstats) per request.
func BenchmarkRedisWaitObserve(b *testing.B) {
	const site = "bench.example"
	c := redistest.Client(b, redistest.Addr(b))
	l, err := NewRedis(c, redistest.Namespace(b), Config{Estimates: benchEstimates(b, site), Burst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.Wait(ctx, site); err != nil { // the first call reads the whole state
		b.Fatal(err)
	}
	if err := c.ConfigResetStat(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		if _, err := l.Wait(ctx, site); err != nil {
			b.Fatal(err)
		}
		if err := l.Observe(ctx, site, Observation{Status: 200, Latency: 30 * time.Millisecond}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	calls, usec := scriptTotals(b, c)
	b.ReportMetric(usec/float64(n), "redis-µs/req")
	b.ReportMetric(float64(calls)/float64(n), "calls/req")
}

// scriptTotals returns the script calls and their Redis time (µs) since
// the last CONFIG RESETSTAT, from INFO commandstats.
func scriptTotals(b *testing.B, c *redis.Client) (calls int64, usec float64) {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		name, stats, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (name != "cmdstat_evalsha" && name != "cmdstat_eval" && name != "cmdstat_fcall") {
			continue
		}
		for _, kv := range strings.Split(stats, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "calls":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					b.Fatal(err)
				}
				calls += n
			case "usec":
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					b.Fatal(err)
				}
				usec += f
			}
		}
	}
	return calls, usec
}
