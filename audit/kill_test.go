package audit

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

const childEnv = "GOODBOT_AUDIT_KILL_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(killChild(dir))
	}
	os.Exit(m.Run())
}

// killChild appends entries from 8 goroutines and prints the request id of
// each one once Record has acknowledged it, until it is killed (or, to keep
// every loop bounded, until 20,000 entries per goroutine).
func killChild(dir string) int {
	round := os.Getenv(childEnv + "_ROUND")
	l, err := Open(filepath.Join(dir, "audit"), Options{
		KeyFile: filepath.Join(dir, "audit.key"), Origin: "goodbot.test/kill",
		BatchMax: 64, CheckpointEntries: 500, Logger: quietLogger(),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20000 {
				id := fmt.Sprintf("%s-%d-%d", round, g, i)
				e := fetchEvent(i)
				e.Fetch.RequestID = id
				if err := l.Record(context.Background(), e); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return
				}
				mu.Lock()
				w.WriteString(id + "\n")
				w.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	l.Close()
	return 0
}

// TestKill9 kills a writing process with SIGKILL, three times, and checks
// that every acknowledged entry survives and the recovered log verifies.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	dir := t.TempDir()
	acked := map[string]bool{}
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+dir, fmt.Sprintf("%s_ROUND=%d", childEnv, round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		n := 0
		killAt := 1500 + 1000*round
		for sc.Scan() {
			acked[sc.Text()] = true
			n++
			if n == killAt {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
			}
		}
		cmd.Wait()
		if n < killAt {
			t.Fatalf("round %d: child acknowledged only %d entries", round, n)
		}
		t.Logf("round %d: killed after %d acknowledged entries (%d read in all)", round, killAt, n)
	}
	// Recover (as the next run would), then verify offline.
	l, err := Open(filepath.Join(dir, "audit"), Options{
		KeyFile: filepath.Join(dir, "audit.key"), Origin: "goodbot.test/kill", Logger: quietLogger(),
	})
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	if r := l.Recovered(); r != nil {
		t.Logf("recovered: %+v", *r)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	sum, err := Verify(context.Background(), filepath.Join(dir, "audit"), VerifyOptions{Visit: func(e *Entry) error {
		if e.Event.Fetch != nil {
			found[e.Event.Fetch.RequestID] = true
		}
		return nil
	}})
	if err != nil {
		t.Fatalf("verify after kill -9: %v", err)
	}
	missing := 0
	for id := range acked {
		if !found[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged entries lost", missing, len(acked))
	}
	t.Logf("%d acknowledged entries all present; %s", len(acked), sum)
}
