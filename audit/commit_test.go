package audit

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// reopen opens the log in dir again with opts, failing the test on error.
func reopen(t *testing.T, dir string, opts Options) *Log {
	t.Helper()
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// countEntries verifies the log in dir and returns its entries by type.
func countEntries(t *testing.T, dir string) map[Type]int {
	t.Helper()
	n := map[Type]int{}
	if _, err := Verify(context.Background(), dir, VerifyOptions{Visit: func(e *Entry) error {
		n[e.Event.Type]++
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	return n
}

// crashed records n fetch entries in a new log and stops it as a crash
// would. It returns the log, its directory, the path and bytes of its last
// segment, and the segment's frames, which must hold no torn tail.
func crashed(t *testing.T, n int) (l *Log, dir, seg string, b []byte, frames []framed) {
	t.Helper()
	l, dir = testLog(t, Options{CheckpointEvery: -1, CheckpointEntries: -1})
	recordN(t, l, 0, n)
	if err := l.abandon(); err != nil {
		t.Fatal(err)
	}
	seg = lastSegment(t, dir)
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	frames, tn, err := readFrames("", b, 0)
	if err != nil || tn != nil {
		t.Fatalf("readFrames: torn %+v, err %v", tn, err)
	}
	return l, dir, seg, b, frames
}

// A crash leaves the open segment with the zeros of its preallocated space
// after the last entry: Open keeps every entry, reports no torn tail, cuts
// the zeros off, and a segment holding nothing but zeros is removed.
func TestPreallocatedTailAfterCrash(t *testing.T) {
	l, dir, seg, b, frames := crashed(t, 30)
	end := framesEnd(frames)
	if end >= int64(len(b)) || !zeros(b[end:]) {
		t.Fatalf("segment has %d bytes of entries in %d bytes: want a preallocated zero tail", end, len(b))
	}
	// A segment created and preallocated just before the crash.
	empty := filepath.Join(dir, segName(int64(len(frames))))
	if err := os.WriteFile(empty, make([]byte, preallocStep), 0o640); err != nil {
		t.Fatal(err)
	}

	l2 := reopen(t, dir, l.opts)
	if r := l2.Recovered(); r != nil {
		t.Errorf("preallocated zeros taken for a torn tail: %+v", r)
	}
	if fi, err := os.Stat(seg); err != nil || fi.Size() != end {
		t.Errorf("crashed segment is %d bytes (%v), want its entries only, %d", fi.Size(), err, end)
	}
	// Open starts its own segment at entry len(frames), with O_EXCL: it
	// could only because the zero-filled one was removed.
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Errorf("segment %s after Open: %v; want the log's new segment, still empty", empty, err)
	}
	recordN(t, l2, 30, 5)
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countEntries(t, dir); n[TypeFetch] != 35 || n[TypeRecovery] != 0 {
		t.Errorf("entries after the crash: %v, want 35 fetches and no recovery", n)
	}
	// Close cut the preallocated space off the last segment.
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		b, err := os.ReadFile(filepath.Join(dir, s.name))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 && b[len(b)-1] == 0 && zeros(b[len(b)-frameHeader:]) {
			t.Errorf("segment %s ends with zeros after Close", s.name)
		}
	}
}

// An entry torn by a crash, with the preallocated zeros after it, is a torn
// tail: Open cuts it, keeps every complete entry and records the recovery.
func TestTornEntryBeforePreallocatedZeros(t *testing.T) {
	l, dir, seg, b, frames := crashed(t, 10)
	// Zero the second half of the last entry, as if its last blocks never
	// reached the disk.
	last := frames[len(frames)-1]
	cut := last.off + frameHeader + int64(len(last.payload))/2
	clear(b[cut:])
	if err := os.WriteFile(seg, b, 0o640); err != nil {
		t.Fatal(err)
	}
	l2 := reopen(t, dir, l.opts)
	r := l2.Recovered()
	if r == nil || r.Offset != last.off {
		t.Fatalf("Recovered() = %+v, want the torn entry at offset %d", r, last.off)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countEntries(t, dir); n[TypeFetch] != 9 || n[TypeRecovery] != 1 {
		t.Errorf("entries after recovery: %v, want 9 fetches and 1 recovery", n)
	}
}

// Appended entries do not force an fsync of their own: they ride on the
// next Record's. Each Append below is taken by the writer on its own, so
// that with an fsync per batch there would be one per entry.
func TestAppendRidesOnNextCommit(t *testing.T) {
	l, dir := testLog(t, Options{CheckpointEvery: -1, CheckpointEntries: -1})
	ctx := context.Background()
	recordN(t, l, 0, 1)
	before := l.Stats()
	const n = 40
	for i := range n {
		if err := l.Append(ctx, fetchEvent(100+i)); err != nil {
			t.Fatal(err)
		}
		for k := 0; l.Stats().Entries < before.Entries+int64(i)+1; k++ {
			if k == 10000 {
				t.Fatalf("entry %d not written after 10 s", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	if err := l.Record(ctx, fetchEvent(200)); err != nil {
		t.Fatal(err)
	}
	after := l.Stats()
	// One fsync for the Record; an Append left unsynced for maxUnsynced
	// (a slow machine) gets one more. Never one per Append.
	if syncs := after.Syncs - before.Syncs; syncs < 1 || syncs > n/4 {
		t.Errorf("%d fsyncs for %d appends and one record, want 1 and at most %d", syncs, n, n/4)
	}
	if after.Waits != 2 {
		t.Errorf("Stats().Waits = %d, want 2 (the Record calls)", after.Waits)
	}
	// The Record made everything before it durable: a crash now loses
	// nothing.
	if err := l.abandon(); err != nil {
		t.Fatal(err)
	}
	l2 := reopen(t, dir, l.opts)
	if r := l2.Recovered(); r != nil {
		t.Errorf("Recovered() = %+v after a crash following Record", r)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	if got := countEntries(t, dir)[TypeFetch]; got != n+2 {
		t.Errorf("%d fetch entries after the crash, want %d", got, n+2)
	}
}

// A checkpoint covers only durable entries: entries appended without an
// fsync are synced before it is signed, so a crash right after it leaves
// a log that opens.
func TestCheckpointSyncsAppended(t *testing.T) {
	l, dir := testLog(t, Options{CheckpointEvery: -1, CheckpointEntries: -1})
	ctx := context.Background()
	for i := range 20 {
		if err := l.Append(ctx, fetchEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	before := l.Stats().Syncs
	cp, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size < 21 { // the key entry and the 20 fetches
		t.Errorf("checkpoint size %d, want at least 21", cp.Size)
	}
	if l.Stats().Syncs <= before {
		t.Error("Checkpoint did not fsync the appended entries")
	}
	if err := l.abandon(); err != nil {
		t.Fatal(err)
	}
	l2 := reopen(t, dir, l.opts)
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
}

// Concurrent Record calls share fsyncs, and every wait is counted.
func TestConcurrentRecordsShareSyncs(t *testing.T) {
	l, _ := testLog(t, Options{CheckpointEvery: -1, CheckpointEntries: -1})
	ctx := context.Background()
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := l.Record(ctx, fetchEvent(w*1000+i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := l.Stats()
	if st.Waits != workers*each {
		t.Errorf("Stats().Waits = %d, want %d", st.Waits, workers*each)
	}
	if st.Syncs >= st.Entries {
		t.Errorf("%d fsyncs for %d entries from %d goroutines: no fsync was shared", st.Syncs, st.Entries, workers)
	}
	if st.WaitP50 <= 0 || st.WaitP99 < st.WaitP50 {
		t.Errorf("wait p50 %v, p99 %v", st.WaitP50, st.WaitP99)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// The wait histogram's buckets hold what they claim: d is at most its
// bucket's top, and the top is less than a third above d.
func TestWaitHistBuckets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 100000 {
		d := time.Duration(r.Int64N(int64(10 * time.Second)))
		if i < 64 {
			d = time.Duration(i)
		}
		b := bucketOf(d)
		top := bucketTop(b)
		if d > top || (d > 4 && float64(top) > float64(d)*4/3) || (b > 0 && bucketTop(b-1) >= max(d, 1)) {
			t.Fatalf("d %v: bucket %d, top %v, previous top %v", d, b, top, bucketTop(b-1))
		}
	}
	var h waitHist
	for i := 1; i <= 100; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	n, p50, p99 := h.quantiles()
	if n != 100 || p50 < 50*time.Millisecond || p50 > 63*time.Millisecond || p99 < 99*time.Millisecond || p99 > 124*time.Millisecond {
		t.Errorf("quantiles of 1..100 ms: n %d, p50 %v, p99 %v", n, p50, p99)
	}
}
