package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// BenchmarkAppend measures durable appends per second with group commit:
// batch concurrent writers, at most batch entries per fsync. Each entry
// is a fetch event of about 200 bytes.
func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{1, 64, 512} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			l, _ := testLog(b, Options{BatchMax: batch, CheckpointEntries: -1, CheckpointEvery: -1})
			e := fetchEvent(1)
			raw, _ := json.Marshal(e)
			b.SetBytes(int64(len(raw)))
			ctx := context.Background()
			var wg sync.WaitGroup
			per := b.N/batch + 1
			b.ResetTimer()
			for range batch {
				wg.Go(func() {
					for range per {
						if err := l.Record(ctx, e); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			n := float64(per * batch)
			b.ReportMetric(n/b.Elapsed().Seconds(), "entries/s")
			l.Close()
			st := l.Stats()
			b.ReportMetric(st.EntriesPerSync(), "entries/fsync")
			b.ReportMetric(float64(st.WaitP50.Microseconds()), "wait-p50-µs")
			b.ReportMetric(float64(st.WaitP99.Microseconds()), "wait-p99-µs")
		})
	}
}

// BenchmarkVerify measures offline verification speed over a 100,000-entry log.
func BenchmarkVerify(b *testing.B) {
	l, dir := testLog(b, Options{BatchMax: 512})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 256 {
		wg.Go(func() {
			for i := range 100000 / 256 {
				if err := l.Record(ctx, fetchEvent(g*1000+i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var entries int64
	for b.Loop() {
		s, err := Verify(ctx, dir, VerifyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		entries += s.Entries
	}
	b.ReportMetric(float64(entries)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkProofs1M builds the tree of 1,000,000 entries (as the log stores
// it) and reports proof and checkpoint sizes, and the time to check one
// inclusion proof.
func BenchmarkProofs1M(b *testing.B) {
	const n = 1_000_000
	hs, err := tempHashStore()
	if err != nil {
		b.Fatal(err)
	}
	defer hs.close()
	c := &chain{hs: hs}
	var prev tlog.Hash
	ev, _ := encodeEvent(&Event{Type: TypeFetch, Fetch: fetchEvent(1).Fetch})
	var raw []byte
	for i := range int64(n) {
		raw = appendEntry(raw[:0], i, prev, ev)
		h := tlog.RecordHash(raw)
		if err := c.add(h); err != nil {
			b.Fatal(err)
		}
		prev = h
	}
	root, err := c.treeHash(n)
	if err != nil {
		b.Fatal(err)
	}
	_, s := testLogSigner(b)
	cp, err := signCheckpoint(s, "goodbot.test/bench", n, root)
	if err != nil {
		b.Fatal(err)
	}
	p := &Prover{c: c}
	incl, err := p.Inclusion(123456, n)
	if err != nil {
		b.Fatal(err)
	}
	cons, err := p.Consistency(n/2, n)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := incl.Check(cp); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(incl.Hashes)*tlog.HashSize), "inclusion-B")
	b.ReportMetric(float64(len(cons)*tlog.HashSize), "consistency-B")
	b.ReportMetric(float64(len(cp.Note)), "checkpoint-B")
	b.ReportMetric(float64(c.hs.count()*tlog.HashSize)/n, "stored-hash-B/entry")
}
