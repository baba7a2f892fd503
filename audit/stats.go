package audit

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Stats describe the log's group commit since Open.
type Stats struct {
	// Entries is the number of entries written.
	Entries int64
	// Syncs is the number of fsyncs (fdatasync) of segment data.
	Syncs int64
	// Waits is the number of Record calls that returned success, each
	// after waiting for its entry to be durable.
	Waits int64
	// WaitP50 and WaitP99 are the median and 99th percentile of the time
	// a Record call waited, from the call until the entry was durable.
	// They are the upper bounds of histogram buckets a fifth wide, so
	// they may be up to a fifth above the exact value.
	WaitP50, WaitP99 time.Duration
}

// EntriesPerSync returns Entries/Syncs, or 0 before the first fsync.
func (s Stats) EntriesPerSync() float64 {
	if s.Syncs == 0 {
		return 0
	}
	return float64(s.Entries) / float64(s.Syncs)
}

// Stats reports the group commit figures since Open. It is safe to call at
// any time, after Close too.
func (l *Log) Stats() Stats {
	s := Stats{Entries: l.entries.Load(), Syncs: l.syncs.Load()}
	s.Waits, s.WaitP50, s.WaitP99 = l.waits.quantiles()
	return s
}

// waitHist is a histogram of durations with buckets about 19% wide: the
// bucket of d is the position of its highest set bit in nanoseconds, split
// in four by the next two bits. Updates are lock-free.
type waitHist struct {
	n [64 * 4]atomic.Int64
}

func (h *waitHist) add(d time.Duration) {
	h.n[bucketOf(d)].Add(1)
}

func bucketOf(d time.Duration) int {
	ns := uint64(max(d, 1))
	hi := bits.Len64(ns) - 1 // 0..63
	sub := 0
	if hi >= 2 {
		sub = int(ns>>(hi-2)) & 3
	}
	return hi*4 + sub
}

// bucketTop is the largest duration in bucket i.
func bucketTop(i int) time.Duration {
	hi, sub := i/4, uint64(i%4)
	if hi < 2 {
		return time.Duration(uint64(1)<<(hi+1) - 1)
	}
	lo := uint64(1)<<hi | sub<<(hi-2)
	return time.Duration(lo + uint64(1)<<(hi-2) - 1)
}

// quantiles returns the number of durations and the bucket tops of the
// median and the 99th percentile.
func (h *waitHist) quantiles() (n int64, p50, p99 time.Duration) {
	var counts [len(h.n)]int64
	for i := range h.n {
		counts[i] = h.n[i].Load()
		n += counts[i]
	}
	if n == 0 {
		return 0, 0, 0
	}
	at := func(q float64) time.Duration {
		rank := int64(q*float64(n-1)) + 1
		var seen int64
		for i, c := range counts {
			if seen += c; seen >= rank {
				return bucketTop(i)
			}
		}
		return bucketTop(len(counts) - 1)
	}
	return n, at(0.50), at(0.99)
}
