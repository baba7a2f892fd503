package audit

import (
	"bytes"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// FuzzDecodeEntry: decodeEntry never panics, and whatever it accepts is
// canonical: re-encoding gives the same bytes.
func FuzzDecodeEntry(f *testing.F) {
	ev, _ := encodeEvent(&Event{Type: TypeFetch, Fetch: fetchEvent(3).Fetch})
	f.Add(appendEntry(nil, 3, tlog.Hash{1, 2}, ev))
	f.Add([]byte(`{"seq":0,"prev":"0000000000000000000000000000000000000000000000000000000000000000","event":{"type":"run","time":"2026-01-01T00:00:00Z","run":{"reason":"done","pages":0,"sent":0,"refused":0}}}`))
	f.Add([]byte(`{"seq":01,"prev":"00","event":{}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := decodeEntry(raw)
		if err != nil {
			return
		}
		ev, err := encodeEvent(&e.Event)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendEntry(nil, e.Seq, e.Prev, ev); !bytes.Equal(got, raw) {
			t.Fatalf("accepted non-canonical entry\n%q\nre-encodes as\n%q", raw, got)
		}
	})
}

// FuzzReadFrames: splitting a segment never panics; frames it returns are
// valid and, with a torn tail, cover the bytes before it exactly; without
// one, they cover all but a zero-filled (preallocated) tail.
func FuzzReadFrames(f *testing.F) {
	good := appendFrame(nil, []byte(`{"seq":0,"prev":"x","event":{}}`))
	f.Add(good)
	f.Add(append(append([]byte{}, good...), good[:9]...))
	f.Add(append(append([]byte{}, good...), make([]byte, 40)...))
	// A torn entry before preallocated zeros, and zeros where an entry began.
	f.Add(append(append(append([]byte{}, good...), good[:12]...), make([]byte, 64)...))
	f.Add(append(append(append([]byte{}, good...), 0, 0, 0), make([]byte, 64)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, tn, err := readFrames("s", b, 0)
		if err != nil {
			return
		}
		end := int64(0)
		for _, fr := range frames {
			if fr.off != end {
				t.Fatalf("frame at %d, want %d", fr.off, end)
			}
			end += int64(frameHeader + len(fr.payload))
		}
		if tn != nil {
			end += tn.Bytes
		}
		if end != int64(len(b)) && !zeros(b[end:]) {
			t.Fatalf("frames and torn tail cover %d of %d bytes, and the rest is not preallocated zeros", end, len(b))
		}
	})
}

// FuzzParseCheckpoint: checkpoint parsing never panics and round-trips.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add("goodbot\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
	f.Add("goodbot\n-1\nAAAA\n")
	f.Add("o\n1\n\n")
	f.Fuzz(func(t *testing.T, text string) {
		origin, size, root, err := parseCheckpointText(text)
		if err != nil {
			return
		}
		again := checkpointText(origin, size, root)
		o2, s2, r2, err := parseCheckpointText(again)
		if err != nil || o2 != origin || s2 != size || r2 != root {
			t.Fatalf("round trip of %q failed: %v", text, err)
		}
	})
}
