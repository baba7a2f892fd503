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
	l, c := benchRedis(b, site)
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

// BenchmarkReserveScript is the reservation alone, called back to back
// from one goroutine, carrying no observations or one ordinary answer. It
// reports Redis time per call.
//
// The "floor" case is the least any reservation of this state can cost on
// the machine at hand: floorScript, on a key of its own. Redis time per
// call varies about fourfold between machines of one kind ("none" took
// 7-8 µs on a quiet VM and 24-54 µs, median 31, on a slower one), so
// compare reserveScript with the floor measured in the same run, not with
// a figure from elsewhere.
func BenchmarkReserveScript(b *testing.B) {
	c := redistest.Client(b, redistest.Addr(b))
	ctx := context.Background()
	key := "goodbot:{" + redistest.Namespace(b) + ":script.example}"
	keys := []string{key, key + ":hot"}
	p := params{DayLen: 86400e6, Burst: 1 << 30, MaxHold: 1e6, BaseBackoff: 1e6, MaxBackoff: 1e6, Forgive: 1e6, AdaptEvery: 30e6, MaxFactor: 2}
	in := estimateArgs{Est: 864e9, Low: 864e9, High: 864e9, Source: "bench", Kind: int64(KindUser), Budget: 864e8, BudgetT: 1}
	batch := obsBatch{N: 1, LatN: 1, LatSum: 30000}
	floorKey := key + ":floor"
	for _, tc := range []struct {
		name string
		sc   *redis.Script
		keys []string
		obs  string
	}{
		{"none", redis.NewScript(reserveScript), keys, ""},
		{"one-answer", redis.NewScript(reserveScript), keys, batch.pack()},
		{"floor", redis.NewScript(floorScript), []string{floorKey, floorKey + ":hot"}, ""},
	} {
		sc, keys, obs := tc.sc, tc.keys, tc.obs
		b.Run(tc.name, func(b *testing.B) {
			if err := c.ConfigResetStat(ctx).Err(); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				args := append(scriptArgs(0, p, 60_000, in, false), "0", obs)
				if err := sc.Run(ctx, c, keys, args...).Err(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(scriptMicros(b, c), "redis-µs/call")
		})
	}
}

// floorScript is a bare GCRA over the same packed hot state, with the same
// arguments and the same short reply as reserveScript's steady state: Redis
// TIME, GET, unpack sixteen doubles, advance the TAT, pack, SET KEEPTTL
// (the first call, which creates the key, sets its time to live). It
// keeps no budget, day or adaptation, so it is not a limiter; it measures
// what the state's size and the call's shape cost by themselves.
const floorScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local raw = redis.call('GET', KEYS[2])
local a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p = 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
if raw then a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p = struct.unpack('<dddddddddddddddd', raw) end
local slot = math.max(a, now)
a = slot + 10
local v = struct.pack('<dddddddddddddddd', a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p)
if raw then redis.call('SET', KEYS[2], v, 'KEEPTTL') else redis.call('SET', KEYS[2], v, 'PX', ARGV[4]) end
return {now, 1, 1, 0, slot, 10, 0, c, g, e}
`
