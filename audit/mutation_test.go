package audit

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// mutationFixture builds a closed log of 60 fetches with checkpoints every 25
// entries, and returns its directory, a checkpoint taken after 30 fetches and
// the final checkpoint, both as a counterparty would hold them.
func mutationFixture(t *testing.T) (dir string, mid, final []byte) {
	t.Helper()
	l, dir := testLog(t, Options{CheckpointEntries: 25, CheckpointEvery: -1})
	recordN(t, l, 0, 30)
	cp, err := l.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	recordN(t, l, 30, 30)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cps, _, err := readCheckpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, cp.Note, cps[len(cps)-1].Note
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func segPayloads(t *testing.T, dir string) (string, [][]byte) {
	t.Helper()
	path := lastSegment(t, dir)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	frames, tn, err := readFrames("", b, 0)
	if err != nil || tn != nil {
		t.Fatalf("fixture segment: %v %v", tn, err)
	}
	var ps [][]byte
	for _, f := range frames {
		ps = append(ps, f.payload)
	}
	return path, ps
}

func writePayloads(t *testing.T, path string, ps [][]byte) {
	t.Helper()
	var b []byte
	for _, p := range ps {
		b = appendFrame(b, p)
	}
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

// rechain re-numbers and re-chains entries from index from on, as an
// attacker who can write the log but has no key would.
func rechain(t *testing.T, ps [][]byte, from int, edit func(*Event) bool) [][]byte {
	t.Helper()
	out := append([][]byte(nil), ps[:from]...)
	var prev tlog.Hash // entry 0's
	if from > 0 {
		prev = tlog.RecordHash(ps[from-1])
	}
	for _, p := range ps[from:] {
		e, err := decodeEntry(p)
		if err != nil {
			t.Fatal(err)
		}
		if !edit(&e.Event) {
			continue
		}
		ev, err := encodeEvent(&e.Event)
		if err != nil {
			t.Fatal(err)
		}
		raw := appendEntry(nil, int64(len(out)), prev, ev)
		out = append(out, raw)
		prev = tlog.RecordHash(raw)
	}
	return out
}

func TestMutationsDetected(t *testing.T) {
	dir, mid, final := mutationFixture(t)
	ctx := context.Background()
	if _, err := Verify(ctx, dir, VerifyOptions{Checkpoint: final}); err != nil {
		t.Fatalf("intact log: %v", err)
	}
	const k = 10 // the entry the mutations hit
	for _, tc := range []struct {
		name     string
		mutate   func(t *testing.T, dir string)
		external []byte
		want     error
		wantText string
	}{
		{"flipped byte", func(t *testing.T, dir string) {
			path := lastSegment(t, dir)
			b, _ := os.ReadFile(path)
			frames, _, _ := readFrames("", b, 0)
			b[frames[k].off+frameHeader+30] ^= 0x01
			os.WriteFile(path, b, 0o640)
		}, nil, ErrBadCRC, "entry 10 "},
		{"flipped byte, CRC fixed", func(t *testing.T, dir string) {
			path, ps := segPayloads(t, dir)
			ps[k] = bytes.Replace(ps[k], []byte(`"status":200`), []byte(`"status":201`), 1)
			writePayloads(t, path, ps)
		}, nil, ErrBrokenChain, "entry 11 "},
		{"non-canonical edit", func(t *testing.T, dir string) {
			path, ps := segPayloads(t, dir)
			ps[k] = bytes.Replace(ps[k], []byte(`"status":200`), []byte(`"status": 200`), 1)
			writePayloads(t, path, ps)
		}, nil, ErrBadEntry, "entry 10 "},
		{"dropped entry", func(t *testing.T, dir string) {
			path, ps := segPayloads(t, dir)
			writePayloads(t, path, append(ps[:k:k], ps[k+1:]...))
		}, nil, ErrMissing, "entry 10 "},
		{"swapped entries", func(t *testing.T, dir string) {
			path, ps := segPayloads(t, dir)
			ps[k], ps[k+1] = ps[k+1], ps[k]
			writePayloads(t, path, ps)
		}, nil, ErrReordered, "entry 10 "},
		{"duplicated entry", func(t *testing.T, dir string) {
			path, ps := segPayloads(t, dir)
			out := append(append(append([][]byte(nil), ps[:k+1]...), ps[k]), ps[k+1:]...)
			writePayloads(t, path, out)
		}, nil, ErrDuplicated, "entry 11 "},
		{"cut tail, checkpoints file kept", func(t *testing.T, dir string) {
			path, ps := segPayloads(t, dir)
			writePayloads(t, path, ps[:20])
		}, nil, ErrTruncated, ""},
		{"cut tail, checkpoints deleted, external checkpoint", func(t *testing.T, dir string) {
			path, ps := segPayloads(t, dir)
			writePayloads(t, path, ps[:20])
			os.Remove(filepath.Join(dir, checkpointsFile))
		}, mid, ErrTruncated, "external checkpoint covers"},
		{"rewritten tail, re-chained", func(t *testing.T, dir string) {
			path, ps := segPayloads(t, dir)
			writePayloads(t, path, rechain(t, ps, 40, func(e *Event) bool {
				if e.Fetch != nil {
					e.Fetch.Status = 404
				}
				return true
			}))
		}, nil, ErrInconsistent, ""},
		{"rewritten tail, re-chained, checkpoints removed, external checkpoint", func(t *testing.T, dir string) {
			path, ps := segPayloads(t, dir)
			writePayloads(t, path, rechain(t, ps, 40, func(e *Event) bool {
				if e.Fetch != nil {
					e.Fetch.Status = 404
				}
				return e.Type != TypeCheckpoint
			}))
			os.Remove(filepath.Join(dir, checkpointsFile))
		}, final, ErrTruncated, ""},
		{"rewritten tail, re-chained, checkpoints replaced, external checkpoint", func(t *testing.T, dir string) {
			path, ps := segPayloads(t, dir)
			writePayloads(t, path, rechain(t, ps, 40, func(e *Event) bool {
				if e.Fetch != nil {
					e.Fetch.Status = 404
				}
				if e.Type == TypeCheckpoint {
					*e = Event{Type: TypeRun, Time: e.Time, Run: &Run{Reason: "done"}}
				}
				return true
			}))
			os.Remove(filepath.Join(dir, checkpointsFile))
		}, final, ErrInconsistent, "does not extend the external checkpoint"},
		{"forged key rotation", func(t *testing.T, dir string) {
			path, ps := segPayloads(t, dir)
			skey, vkey, err := note.GenerateKey(nil, "goodbot.test/unit")
			if err != nil {
				t.Fatal(err)
			}
			s, _ := note.NewSigner(skey)
			endorse, _ := note.Sign(&note.Note{Text: keyRotationText("goodbot.test/unit", vkey)}, s)
			ps = rechain(t, ps, len(ps)-1, func(*Event) bool { return true })
			ev, _ := encodeEvent(&Event{Type: TypeKey, Other: map[string]string{"action": "rotated", "vkey": vkey, "previous": "x", "endorsement": string(endorse)}})
			ps = append(ps, appendEntry(nil, int64(len(ps)), tlog.RecordHash(ps[len(ps)-1]), ev))
			writePayloads(t, path, ps)
		}, nil, ErrBadSignature, "not endorsed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := copyDir(t, dir)
			tc.mutate(t, d)
			_, err := Verify(ctx, d, VerifyOptions{Checkpoint: tc.external})
			if err == nil {
				t.Fatal("mutation not detected")
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %q, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not contain %q", err, tc.wantText)
			}
			t.Logf("detected: %v", err)
		})
	}
}
