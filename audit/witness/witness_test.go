package witness

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/internal/redistest"
)

// TestWitnessedLogs: two workers publish checkpoints to one Redis; each
// worker's log verifies against what Redis witnessed, a log cut back after
// publishing does not, and a rollback is refused.
func TestWitnessedLogs(t *testing.T) {
	addr := redistest.Addr(t)
	rc := redistest.Client(t, addr)
	w := Redis{Client: rc, Prefix: "{" + redistest.Namespace(t) + "}:"}
	ctx := context.Background()
	root := t.TempDir()
	dirs := map[string]string{}
	for _, origin := range []string{"goodbot.test/worker-1", "goodbot.test/worker-2"} {
		dir := filepath.Join(root, filepath.Base(origin))
		dirs[origin] = dir
		writeLog(t, w, dir, dir+".key", origin, 30, "tick")
	}
	for origin, dir := range dirs {
		// Three explicit checkpoints, and the final one signed by Close,
		// which covers every entry.
		all, err := w.All(ctx, origin)
		if err != nil || len(all) != 4 {
			t.Fatalf("%s: %d witnessed checkpoints (%v), want 4", origin, len(all), err)
		}
		for _, cp := range all {
			if _, err := audit.Verify(ctx, dir, audit.VerifyOptions{Checkpoint: cp}); err != nil {
				t.Errorf("%s against its witnessed checkpoint: %v", origin, err)
			}
		}
		latest, err := w.Latest(ctx, origin)
		if err != nil || string(latest) != string(all[3]) {
			t.Errorf("%s: latest is not the last witnessed checkpoint (%v)", origin, err)
		}
		// The other worker's checkpoint does not verify this log.
		for other := range dirs {
			if other == origin {
				continue
			}
			oc, _ := w.Latest(ctx, other)
			if _, err := audit.Verify(ctx, dir, audit.VerifyOptions{Checkpoint: oc}); err == nil {
				t.Errorf("%s verified against %s's checkpoint", origin, other)
			}
		}
	}
	// A smaller checkpoint for a witnessed log is refused.
	all, _ := w.All(ctx, "goodbot.test/worker-1")
	if _, err := w.Anchor(ctx, all[0]); !errors.Is(err, ErrRollback) {
		t.Errorf("re-publishing an old checkpoint: %v, want rollback", err)
	}
	if _, err := w.Anchor(ctx, []byte("nonsense")); err == nil {
		t.Error("published a non-checkpoint")
	}
}

// writeLog writes a log anchored to a with n entries, a checkpoint every 10
// and the one Close signs.
func writeLog(t *testing.T, a audit.Anchor, dir, keyFile, origin string, n int, tag string) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := audit.Open(dir, audit.Options{KeyFile: keyFile, Origin: origin, Anchor: a, Logger: quiet, CheckpointEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range n {
		if err := l.Record(ctx, audit.Event{Type: audit.TypeRun, Run: &audit.Run{Reason: tag, Pages: i}}); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 {
			if _, err := l.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
