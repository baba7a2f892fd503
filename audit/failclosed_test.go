package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Verify never says "ok" to nothing: a directory without a log, a log with
// no entries, a log with no key and a damaged checkpoints file are errors
// that name the problem and the file.
func TestVerifyFailsClosed(t *testing.T) {
	ctx := context.Background()

	empty := t.TempDir()
	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("not a log\n"), 0o644)
	os.Mkdir(filepath.Join(foreign, "sub"), 0o755)
	// What a failed Open leaves: a lock and empty files.
	aborted := t.TempDir()
	for _, n := range []string{lockFile, checkpointsFile, hashesFile} {
		os.WriteFile(filepath.Join(aborted, n), nil, 0o640)
	}
	for _, dir := range []string{empty, foreign, aborted} {
		_, err := Verify(ctx, dir, VerifyOptions{})
		if !errors.Is(err, ErrNotLog) {
			t.Errorf("%s: %v, want %v", dir, err, ErrNotLog)
		}
	}

	dir, _, _ := mutationFixture(t)
	segs, _ := listSegments(dir)

	// Segments gone, checkpoints kept.
	gone := copyDir(t, dir)
	for _, s := range segs {
		os.Remove(filepath.Join(gone, s.name))
	}
	if _, err := Verify(ctx, gone, VerifyOptions{}); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "checkpoints") {
		t.Errorf("no segments: %v, want %v", err, ErrMissing)
	}

	// Segments present but empty.
	emptySegs := copyDir(t, dir)
	for _, s := range segs {
		os.WriteFile(filepath.Join(emptySegs, s.name), nil, 0o640)
	}
	os.Remove(filepath.Join(emptySegs, checkpointsFile))
	if _, err := Verify(ctx, emptySegs, VerifyOptions{}); !errors.Is(err, ErrNoEntries) || !strings.Contains(err.Error(), segs[0].name) {
		t.Errorf("empty segments: %v, want %v naming %s", err, ErrNoEntries, segs[0].name)
	}

	// The key entry removed and the rest re-chained from entry 0, as
	// someone who can write the log but has no key would; the
	// checkpoints removed, since they would not verify anyway.
	noKey := copyDir(t, dir)
	path, ps := segPayloads(t, noKey)
	out := rechain(t, ps, 0, func(e *Event) bool { return e.Type != TypeKey && e.Type != TypeCheckpoint })
	writePayloads(t, path, out)
	os.Remove(filepath.Join(noKey, checkpointsFile))
	if _, err := Verify(ctx, noKey, VerifyOptions{}); !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), filepath.Base(path)) {
		t.Errorf("no key entry: %v, want %v naming %s", err, ErrNoKey, filepath.Base(path))
	}

	// A checkpoints file overwritten with random bytes: Verify and Open
	// refuse it, naming it.
	garbage := copyDir(t, dir)
	junk := make([]byte, 4096)
	rand.Read(junk)
	junk[0], junk[1], junk[2], junk[3] = 0xff, 0xff, 0xff, 0xff // an impossible frame length, so no chance of a plausible header
	os.WriteFile(filepath.Join(garbage, checkpointsFile), junk, 0o640)
	if _, err := Verify(ctx, garbage, VerifyOptions{}); !errors.Is(err, ErrBadFrame) || !strings.Contains(err.Error(), filepath.Join(garbage, checkpointsFile)) {
		t.Errorf("random checkpoints: %v, want %v naming the file", err, ErrBadFrame)
	}
	if l, err := Open(garbage, Options{KeyFile: filepath.Join(t.TempDir(), "k"), Origin: "goodbot.test/unit", Logger: quietLogger()}); err == nil {
		l.Close()
		t.Error("Open accepted a checkpoints file of random bytes")
	}
	// Random text after the valid checkpoints is damage too.
	b, _ := os.ReadFile(filepath.Join(dir, checkpointsFile))
	os.WriteFile(filepath.Join(garbage, checkpointsFile), append(b, "\x01\x02\x03\x04\x05\x06\x07\x08\x09 and the rest of /etc/passwd"...), 0o640)
	if _, err := Verify(ctx, garbage, VerifyOptions{}); !errors.Is(err, ErrBadFrame) {
		t.Errorf("junk after the checkpoints: %v, want %v", err, ErrBadFrame)
	}
}

// What a crash leaves of a checkpoint being appended is not damage: Verify
// accepts it and Open cuts it.
func TestCrashTornCheckpointAccepted(t *testing.T) {
	dir, _, _ := mutationFixture(t)
	b, err := os.ReadFile(filepath.Join(dir, checkpointsFile))
	if err != nil {
		t.Fatal(err)
	}
	cps, _, _ := readCheckpoints(dir)
	last := appendFrame(nil, cps[len(cps)-1].Note)
	zeroed := append([]byte(nil), last...)
	clear(zeroed[len(zeroed)/2:])
	for name, tail := range map[string][]byte{
		"zeros":             make([]byte, 512),
		"half a header":     last[:5],
		"half a checkpoint": last[:len(last)/2],
		"unwritten blocks":  zeroed,
	} {
		d := copyDir(t, dir)
		os.WriteFile(filepath.Join(d, checkpointsFile), append(bytes.Clone(b), tail...), 0o640)
		if _, err := Verify(context.Background(), d, VerifyOptions{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzCrashTorn(f *testing.F) {
	f.Add(appendFrame(nil, []byte("goodbot.test/unit\n12\nAAAA\n\n— goodbot")))
	f.Add(make([]byte, 20))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		if crashTorn(b) && len(b) >= frameHeader && len(bytes.TrimRight(b, "\x00")) > 0 {
			if _, _, problem := readFrame(b); problem == "bad frame length" {
				t.Fatalf("a frame of impossible length passed as torn: %q", b)
			}
		}
	})
}
