package lockfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAcquireNamesTheHolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "LOCK")
	l, err := Acquire(p, "goodbot crawl test")
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to the open file description: a second open in
	// this process is refused like another process would be.
	_, err = Acquire(p, "second")
	var he *HeldError
	if !errors.As(err, &he) || !errors.Is(err, ErrHeld) {
		t.Fatalf("second Acquire: %v, want a HeldError", err)
	}
	if !strings.Contains(he.Holder, "goodbot crawl test") || !strings.Contains(err.Error(), "pid") {
		t.Errorf("error %q does not name the holder", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(p, "third")
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	l2.Release()
}

// TestLockDiesWithProcess checks that a lock held by a process that was
// killed does not outlive it.
func TestLockDiesWithProcess(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) not installed")
	}
	p := filepath.Join(t.TempDir(), "LOCK")
	cmd := exec.Command("flock", "-x", "-o", p, "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait (bounded) until the child holds it.
	held := false
	for i := 0; i < 200 && !held; i++ {
		l, err := Acquire(p, "probe")
		if err != nil {
			held = true
			break
		}
		l.Release()
		exec.Command("sleep", "0.01").Run()
	}
	cmd.Process.Signal(os.Kill)
	cmd.Wait()
	if !held {
		t.Skip("child never took the lock")
	}
	// The kernel drops the lock when the killed process's files are
	// closed, which may be a moment after Wait returns on a loaded
	// machine: try for up to five seconds.
	var err error
	for i := 0; i < 500; i++ {
		var l *Lock
		if l, err = Acquire(p, "after kill"); err == nil {
			l.Release()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("lock outlived its holder by five seconds: %v", err)
}
