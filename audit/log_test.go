package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testLog opens a log in a fresh directory, with its key beside it.
func testLog(t testing.TB, opts Options) (*Log, string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "audit")
	if opts.KeyFile == "" {
		opts.KeyFile = filepath.Join(root, "key", "audit.key")
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	if opts.Origin == "" {
		opts.Origin = "goodbot.test/unit"
	}
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l, dir
}

func fetchEvent(i int) Event {
	return Event{
		Type: TypeFetch,
		Time: time.Date(2026, 11, 23, 10, 0, 0, i*1000, time.UTC),
		Site: "127.0.0.1:8080",
		Fetch: &Fetch{
			RequestID: fmt.Sprintf("r%d", i), URL: fmt.Sprintf("http://127.0.0.1:8080/p/%d", i),
			Method: "GET", UserAgent: "goodbot/test", Status: 200, Bytes: int64(i), Class: "ok",
		},
	}
}

func recordN(t testing.TB, l *Log, from, n int) {
	t.Helper()
	ctx := context.Background()
	for i := from; i < from+n; i++ {
		if err := l.Record(ctx, fetchEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRecordCloseVerify(t *testing.T) {
	l, dir := testLog(t, Options{CheckpointEntries: 50})
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 40 {
				if err := l.Record(ctx, fetchEvent(w*1000+i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(ctx, fetchEvent(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Record after Close: %v, want ErrClosed", err)
	}
	var fetches int
	sum, err := Verify(ctx, dir, VerifyOptions{Visit: func(e *Entry) error {
		if e.Event.Type == TypeFetch {
			fetches++
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if fetches != 320 {
		t.Errorf("verified %d fetch entries, want 320", fetches)
	}
	if sum.Unsigned != 0 || sum.Checkpoint.Size != sum.Entries {
		t.Errorf("after Close, last checkpoint covers %d of %d entries", sum.Checkpoint.Size, sum.Entries)
	}
	if sum.Checkpoints < 7 {
		t.Errorf("checked %d checkpoints, want at least 7 (one per 50 entries)", sum.Checkpoints)
	}
	if !strings.HasPrefix(sum.String(), "ok: ") {
		t.Errorf("summary %q", sum)
	}

	// Reopen and continue: the chain carries on in a new segment.
	l2, err := Open(dir, l.opts)
	if err != nil {
		t.Fatal(err)
	}
	recordN(t, l2, 5000, 10)
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	sum2, err := Verify(ctx, dir, VerifyOptions{Checkpoint: sum.Checkpoint.Note})
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Entries != sum.Entries+10 || sum2.External == nil {
		t.Errorf("after reopen: %v", sum2)
	}
}

func TestOptionsRefused(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "audit")
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no key", Options{}, "KeyFile is required"},
		{"key inside", Options{KeyFile: filepath.Join(dir, "k")}, "inside the log directory"},
		{"short retention", Options{KeyFile: filepath.Join(root, "k"), Retention: 90 * 24 * time.Hour}, "shorter than the minimum"},
		{"bad origin", Options{KeyFile: filepath.Join(root, "k"), Origin: "a b"}, "origin"},
	} {
		_, err := Open(dir, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Open error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestRecordRefusesLogTypes(t *testing.T) {
	l, _ := testLog(t, Options{})
	defer l.Close()
	for _, ty := range []Type{"", TypeCheckpoint, TypeKey, TypeRecovery, TypePrune} {
		if err := l.Record(context.Background(), Event{Type: ty}); err == nil {
			t.Errorf("Record(%q) succeeded", ty)
		}
	}
}

func TestSecondWriterRefused(t *testing.T) {
	l, dir := testLog(t, Options{})
	defer l.Close()
	if _, err := Open(dir, l.opts); !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open: %v", err)
	}
}

func TestInclusionAndConsistencyProofs(t *testing.T) {
	l, dir := testLog(t, Options{})
	recordN(t, l, 0, 100)
	cp1, err := l.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	recordN(t, l, 100, 37)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := NewProver(context.Background(), dir, VerifyOptions{Keys: []string{l.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	final := p.Summary.Checkpoint
	for _, seq := range []int64{0, 1, 50, 99, final.Size - 1} {
		pr, err := p.Inclusion(seq, final.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := pr.Check(final); err != nil {
			t.Errorf("entry %d: %v", seq, err)
		}
		// A proof for one entry does not prove another.
		pr.Seq = (seq + 1) % final.Size
		if pr.Check(final) == nil {
			t.Errorf("proof of entry %d accepted for entry %d", seq, pr.Seq)
		}
	}
	pr, err := p.Inclusion(10, cp1.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := pr.Check(cp1); err != nil {
		t.Errorf("against the older checkpoint: %v", err)
	}
	cons, err := p.Consistency(cp1.Size, final.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(cons, final.Size, final.Root, cp1.Size, cp1.Root); err != nil {
		t.Errorf("consistency: %v", err)
	}
	if _, err := p.Inclusion(final.Size, final.Size); err == nil {
		t.Error("proof of an entry beyond the tree succeeded")
	}
}

func TestKeyRotation(t *testing.T) {
	l, dir := testLog(t, Options{})
	old := l.PublicKey()
	recordN(t, l, 0, 10)
	nk, err := l.RotateKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if nk == old || l.PublicKey() != nk {
		t.Fatalf("rotation: old %q new %q current %q", old, nk, l.PublicKey())
	}
	recordN(t, l, 10, 10)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	sum, err := Verify(context.Background(), dir, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Keys) != 2 {
		t.Errorf("trusted keys %v, want old and new", sum.Keys)
	}
	// The key file now holds the new key; reopening works.
	l2, err := Open(dir, l.opts)
	if err != nil {
		t.Fatal(err)
	}
	if l2.PublicKey() != nk {
		t.Errorf("after reopen, key %q, want %q", l2.PublicKey(), nk)
	}
	l2.Close()
	// A verifier given only the old key still follows the endorsed rotation.
	if _, err := Verify(context.Background(), dir, VerifyOptions{Keys: []string{old}}); err != nil {
		t.Errorf("verify with old key: %v", err)
	}
	// A verifier given an unrelated key trusts nothing in the log, and
	// says so: a pinned key that signed nothing is a failure.
	other := testKeyPair(t, "goodbot.test/unit")
	if _, err = Verify(context.Background(), dir, VerifyOptions{Keys: []string{other}}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("with an unrelated key: %v, want %v", err, ErrBadSignature)
	}
}

func testKeyPair(t testing.TB, name string) string {
	t.Helper()
	_, vkey, err := generateKey(filepath.Join(t.TempDir(), "k"), name)
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}

func TestRecoverTornTail(t *testing.T) {
	l, dir := testLog(t, Options{})
	recordN(t, l, 0, 20)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	seg := lastSegment(t, dir)
	// A crash during a write leaves part of a frame.
	frame := appendFrame(nil, appendEntry(nil, 21, tlog.Hash{}, []byte(`{"type":"fetch"}`)))
	appendBytes(t, seg, frame[:len(frame)-5])
	sum, err := Verify(context.Background(), dir, VerifyOptions{})
	if err != nil {
		t.Fatalf("verify with torn tail: %v", err)
	}
	if sum.Torn == nil {
		t.Fatal("torn tail not reported")
	}
	l2, err := Open(dir, l.opts)
	if err != nil {
		t.Fatal(err)
	}
	r := l2.Recovered()
	if r == nil || r.Bytes != int64(len(frame)-5) {
		t.Fatalf("Recovered() = %+v", r)
	}
	recordN(t, l2, 20, 5)
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	var recoveries int
	sum, err = Verify(context.Background(), dir, VerifyOptions{Visit: func(e *Entry) error {
		if e.Event.Type == TypeRecovery {
			recoveries++
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if recoveries != 1 || sum.Torn != nil {
		t.Errorf("recovery entries %d, torn %v", recoveries, sum.Torn)
	}

	// Zeros at the end are preallocated space a crash left: not a torn
	// tail, and cut off on Open.
	seg = lastSegment(t, dir)
	fi, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	appendBytes(t, seg, make([]byte, 100))
	l3, err := Open(dir, l.opts)
	if err != nil {
		t.Fatal(err)
	}
	if r := l3.Recovered(); r != nil {
		t.Errorf("zero tail taken for a torn tail: %+v", r)
	}
	if err := l3.Close(); err != nil {
		t.Fatal(err)
	}
	if fi2, err := os.Stat(seg); err != nil || fi2.Size() != fi.Size() {
		t.Errorf("segment after Open: %v %v, want the zeros cut off (%d bytes)", fi2.Size(), err, fi.Size())
	}
	if _, err := Verify(context.Background(), dir, VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestDamageBelowCheckpointRefused(t *testing.T) {
	l, dir := testLog(t, Options{})
	recordN(t, l, 0, 20)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	seg := lastSegment(t, dir)
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	// Cut the last entry in half: the final checkpoint covers it.
	frames, _, _ := readFrames("", b, 0)
	last := frames[len(frames)-1]
	if err := os.WriteFile(seg, b[:last.off+10], 0o640); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, l.opts)
	if !errors.Is(err, ErrDamageBelowCkp) {
		t.Fatalf("Open: %v, want damage below checkpoint", err)
	}
	_, err = Verify(context.Background(), dir, VerifyOptions{})
	if !errors.Is(err, ErrDamageBelowCkp) {
		t.Fatalf("Verify: %v, want damage below checkpoint", err)
	}
}

func lastSegment(t testing.TB, dir string) string {
	t.Helper()
	segs, err := listSegments(dir)
	if err != nil || len(segs) == 0 {
		t.Fatalf("segments: %v %v", segs, err)
	}
	for i := len(segs) - 1; i >= 0; i-- {
		p := filepath.Join(dir, segs[i].name)
		if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
			return p
		}
	}
	t.Fatal("all segments empty")
	return ""
}

func appendBytes(t testing.TB, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPruneKeepsProofs(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	l, dir := testLog(t, Options{Now: clock, SegmentAge: 24 * time.Hour, CheckpointEvery: -1})
	ctx := context.Background()
	for day := range 5 {
		for i := range 10 {
			if err := l.Record(ctx, Event{Type: TypeRun, Run: &Run{Reason: fmt.Sprintf("day %d run %d", day, i)}}); err != nil {
				t.Fatal(err)
			}
		}
		advance(25 * time.Hour)
	}
	cp, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProver(ctx, dir, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	before, err := p.Inclusion(3, cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := l.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("prune within retention removed %d segments (%v)", n, err)
	}
	advance(DefaultRetention - 2*24*time.Hour) // day 0 and day 1 (and 2) are now past retention
	// A damaged hash of an entry about to be pruned stops the pruning.
	hp := filepath.Join(dir, hashesFile)
	hb, _ := os.ReadFile(hp)
	good := append([]byte(nil), hb...)
	hb[tlog.StoredHashIndex(0, 4)*tlog.HashSize] ^= 1
	os.WriteFile(hp, hb, 0o640)
	if _, err := l.Prune(ctx); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("prune with a damaged hashes file: %v", err)
	}
	os.WriteFile(hp, good, 0o640)
	n, err := l.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("pruned %d segments, want at least 2", n)
	}
	recordN(t, l, 0, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	p2, err := NewProver(ctx, dir, VerifyOptions{})
	if err != nil {
		t.Fatalf("verify after prune: %v", err)
	}
	defer p2.Close()
	if p2.Summary.Pruned == 0 {
		t.Fatalf("summary shows nothing pruned: %v", p2.Summary)
	}
	if err := before.Check(cp); err != nil {
		t.Errorf("old proof after prune: %v", err)
	}
	again, err := p2.Inclusion(3, cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Check(cp); err != nil {
		t.Errorf("new proof of a pruned entry: %v", err)
	}
	if _, err := Verify(ctx, dir, VerifyOptions{Checkpoint: cp.Note}); err != nil {
		t.Errorf("consistency with pre-prune checkpoint: %v", err)
	}
	// Reopen after pruning works too.
	l2, err := Open(dir, l.opts)
	if err != nil {
		t.Fatal(err)
	}
	l2.Close()
}

func TestFileAnchor(t *testing.T) {
	anchorDir := filepath.Join(t.TempDir(), "witness")
	l, dir := testLog(t, Options{Anchor: FileAnchor{Dir: anchorDir}})
	recordN(t, l, 0, 5)
	cp, err := l.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	// The explicit checkpoint, then the final one Close signs over
	// everything (names sort by size).
	des, err := os.ReadDir(anchorDir)
	if err != nil || len(des) != 2 {
		t.Fatalf("anchor dir: %v %v", des, err)
	}
	b, err := os.ReadFile(filepath.Join(anchorDir, des[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(cp.Note) {
		t.Error("anchored checkpoint differs")
	}
	var receipts int
	_, err = Verify(context.Background(), dir, VerifyOptions{Checkpoint: b, Visit: func(e *Entry) error {
		if e.Event.Type == TypeCheckpoint && e.Event.Other["anchor_receipt"] != "" {
			receipts++
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if receipts != 1 {
		t.Errorf("%d checkpoint entries with a receipt, want 1", receipts)
	}
	final, err := os.ReadFile(filepath.Join(anchorDir, des[1].Name()))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Verify(context.Background(), dir, VerifyOptions{Checkpoint: final})
	if err != nil || !strings.HasPrefix(string(final), sum.Origin+"\n"+strconv.FormatInt(sum.Entries, 10)+"\n") {
		t.Fatalf("the final anchored checkpoint does not cover the whole log (%d entries): %v\n%s", sum.Entries, err, final)
	}
}

func TestContextCancelled(t *testing.T) {
	l, _ := testLog(t, Options{})
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Either the entry was queued and written, or the context error is returned.
	if err := l.Record(ctx, fetchEvent(1)); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Record with cancelled ctx: %v", err)
	}
}

func testLogSigner(t testing.TB) (string, note.Signer) {
	t.Helper()
	s, v, err := generateKey(filepath.Join(t.TempDir(), "k"), "goodbot.test/bench")
	if err != nil {
		t.Fatal(err)
	}
	return v, s
}

func TestSegmentsBySize(t *testing.T) {
	l, dir := testLog(t, Options{SegmentBytes: 4096, BatchMax: 8})
	recordN(t, l, 0, 100)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 5 {
		t.Fatalf("%d segments for ~30 KB at 4 KB each", len(segs))
	}
	for _, s := range segs[:len(segs)-1] {
		fi, _ := os.Stat(filepath.Join(dir, s.name))
		if fi.Size() > 4096+8*400 {
			t.Errorf("segment %s is %d bytes", s.name, fi.Size())
		}
	}
	if _, err := Verify(context.Background(), dir, VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	// A whole segment removed from the middle is caught, by name and by sequence.
	d := copyDir(t, dir)
	if err := os.Remove(filepath.Join(d, segs[2].name)); err != nil {
		t.Fatal(err)
	}
	_, err = Verify(context.Background(), d, VerifyOptions{})
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), fmt.Sprintf("entry %d", segs[2].first)) {
		t.Fatalf("missing segment: %v", err)
	}
	// The log refuses to open with another origin.
	o := l.opts
	o.Origin = "goodbot.test/other"
	if _, err := Open(dir, o); err == nil || !strings.Contains(err.Error(), "origin") {
		t.Fatalf("open with another origin: %v", err)
	}
}

// TestReopenSkipsSealedSegments: Open re-reads only from the segment holding
// the last checkpoint whose root the hashes file reproduces, and falls back
// to reading everything when the hashes file is damaged or gone.
func TestReopenSkipsSealedSegments(t *testing.T) {
	l, dir := testLog(t, Options{SegmentBytes: 2048, CheckpointEntries: 40})
	recordN(t, l, 0, 120)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs, _ := listSegments(dir)
	l2, err := Open(dir, l.opts)
	if err != nil {
		t.Fatal(err)
	}
	if l2.readFrom < len(segs)-2 {
		t.Errorf("reopen read from segment %d of %d", l2.readFrom, len(segs))
	}
	recordN(t, l2, 120, 5)
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(context.Background(), dir, VerifyOptions{}); err != nil {
		t.Fatal(err)
	}

	// A damaged newest stored hash, which the last root depends on: Open
	// falls back to an older checkpoint whose root still matches.
	hp := filepath.Join(dir, hashesFile)
	b, _ := os.ReadFile(hp)
	b[len(b)-1] ^= 0xff
	os.WriteFile(hp, b, 0o640)
	l3, err := Open(dir, l.opts)
	if err != nil {
		t.Fatal(err)
	}
	if l3.readFrom >= l2.readFrom+1 {
		t.Errorf("with a damaged hashes file, reopen read from segment %d (before: %d)", l3.readFrom, l2.readFrom)
	}
	l3.Close()
	// A hashes file of zeros matches no root: everything is read.
	os.WriteFile(hp, make([]byte, len(b)), 0o640)
	l5, err := Open(dir, l.opts)
	if err != nil {
		t.Fatal(err)
	}
	if l5.readFrom != 0 {
		t.Errorf("with a zeroed hashes file, reopen read from segment %d", l5.readFrom)
	}
	l5.Close()
	if _, err := Verify(context.Background(), dir, VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	// No hashes file at all: rebuilt from the segments.
	os.Remove(hp)
	l4, err := Open(dir, l.opts)
	if err != nil {
		t.Fatal(err)
	}
	recordN(t, l4, 200, 3)
	l4.Close()
	p, err := NewProver(context.Background(), dir, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	b2, _ := os.ReadFile(hp)
	if int64(len(b2)) != tlog.StoredHashCount(p.Summary.Entries)*tlog.HashSize {
		t.Errorf("hashes file has %d bytes for %d entries", len(b2), p.Summary.Entries)
	}
}

func TestAppendOrderedAndDurableWithNextRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := Open(filepath.Join(dir, "log"), Options{KeyFile: filepath.Join(dir, "key"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := l.Append(ctx, Event{Type: TypeFetch, Site: "a.example", Fetch: &Fetch{URL: fmt.Sprint("http://a.example/", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Record(ctx, Event{Type: TypeDecision, Site: "a.example", Decision: &Decision{URL: "http://a.example/last"}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(ctx, Event{}); err == nil {
		t.Fatal("Append of an event without a type succeeded")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var urls []string
	sum, err := Verify(ctx, filepath.Join(dir, "log"), VerifyOptions{Visit: func(e *Entry) error {
		if e.Event.Fetch != nil {
			urls = append(urls, e.Event.Fetch.URL)
		}
		if e.Event.Decision != nil {
			urls = append(urls, e.Event.Decision.URL)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(urls) != 101 || urls[0] != "http://a.example/0" || urls[99] != "http://a.example/99" || urls[100] != "http://a.example/last" {
		t.Fatalf("entries out of order or missing (%d entries, %d urls): %v", sum.Entries, len(urls), urls)
	}
	if err := l.Append(ctx, Event{Type: TypeFetch}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}
}
