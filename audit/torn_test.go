package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// abandon stops the writer and closes the files without a final
// checkpoint: the state a crash leaves.
func (l *Log) abandon() error {
	var err error
	l.stop.Do(func() {
		r := &request{kind: kAbandon, ctx: context.Background(), done: make(chan struct{})}
		l.reqs <- r
		<-l.done
		<-r.done
		err = r.res.err
	})
	return err
}

// TestTornTailAtEveryOffset cuts a crashed log at many offsets: above the
// last checkpoint, Open recovers and the log verifies with every complete
// entry; below it, Open refuses.
func TestTornTailAtEveryOffset(t *testing.T) {
	l, dir := testLog(t, Options{CheckpointEvery: -1, CheckpointEntries: -1})
	recordN(t, l, 0, 20)
	cp, err := l.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	recordN(t, l, 20, 8)
	if err := l.abandon(); err != nil {
		t.Fatal(err)
	}
	opts := l.opts
	seg := lastSegment(t, dir)
	full, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	frames, _, err := readFrames("", full, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The crash left the segment's preallocated space after the entries.
	if end := framesEnd(frames); end >= int64(len(full)) || !zeros(full[end:]) {
		t.Fatalf("abandoned segment: %d bytes of entries in %d bytes, want a zero-filled preallocated tail", end, len(full))
	} else {
		full = full[:end]
	}
	// Entries 0..cp.Size-1 are signed; the checkpoint entry is entry cp.Size.
	signedEnd := frames[cp.Size-1].off + int64(frameHeader+len(frames[cp.Size-1].payload))
	boundary := map[int64]int{}
	for i, f := range frames {
		boundary[f.off] = i
	}
	boundary[int64(len(full))] = len(frames)
	tried := 0
	for off := signedEnd - 40; off <= int64(len(full)); off++ {
		_, atBoundary := boundary[off]
		if !atBoundary && off%17 != 0 && off != signedEnd-1 && off != int64(len(full))-1 {
			continue // every 17th offset, and every frame boundary
		}
		tried++
		d := copyDir(t, dir)
		s := filepath.Join(d, filepath.Base(seg))
		cut := full[:off]
		if tried%2 == 0 {
			// As a crash leaves a preallocated segment: the bytes
			// written, then zeros. Zeros where a frame began are no
			// frame at all, so a cut that left only zeros of the next
			// frame is a clean end.
			cut = append(slices.Clone(cut), make([]byte, 3000)...)
			if start := lastFrameEnd(frames, off); zeros(full[start:off]) {
				atBoundary = true
			}
		}
		if err := os.WriteFile(s, cut, 0o640); err != nil {
			t.Fatal(err)
		}
		l2, err := Open(d, opts)
		if off < signedEnd {
			if !errors.Is(err, ErrDamageBelowCkp) {
				t.Fatalf("cut at %d (below the checkpoint): Open error %v", off, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("cut at %d: Open: %v", off, err)
		}
		if (l2.Recovered() == nil) != atBoundary {
			t.Errorf("cut at %d: Recovered() = %+v, boundary %v", off, l2.Recovered(), atBoundary)
		}
		if err := l2.Close(); err != nil {
			t.Fatal(err)
		}
		complete := 0
		for _, f := range frames {
			if f.off+int64(frameHeader+len(f.payload)) <= off {
				complete++
			}
		}
		fetches := 0
		if _, err := Verify(context.Background(), d, VerifyOptions{Visit: func(e *Entry) error {
			if e.Seq < int64(complete) && e.Event.Type == TypeFetch {
				fetches++
			}
			return nil
		}}); err != nil {
			t.Fatalf("cut at %d: verify after recovery: %v", off, err)
		}
		want := 0
		for i := 0; i < complete; i++ {
			if e, _ := decodeEntry(frames[i].payload); e.Event.Type == TypeFetch {
				want++
			}
		}
		if fetches != want {
			t.Fatalf("cut at %d: %d fetches kept, want %d", off, fetches, want)
		}
	}
	t.Logf("tried %d cut points", tried)
}

// lastFrameEnd is where the last of frames that ends at or before off ends.
func lastFrameEnd(frames []framed, off int64) int64 {
	end := int64(0)
	for _, f := range frames {
		if e := f.off + int64(frameHeader+len(f.payload)); e <= off {
			end = e
		}
	}
	return end
}
