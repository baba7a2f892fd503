package job

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/internal/redistest"
)

const helperEnv = "GOODBOT_JOB_TEST_WORKER" // "addr job": run as a worker process

var killOpts = FrontierOptions{PerSite: 10, LeaseTTL: time.Second}

// TestHelperWorker is the worker process of TestFrontierKill9: it leases
// three items, prints their URLs, and keeps renewing until it is killed.
func TestHelperWorker(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("helper process of TestFrontierKill9")
	}
	addr, job, _ := strings.Cut(spec, " ")
	c := redis.NewClient(&redis.Options{Addr: addr})
	f, err := NewFrontier(c, job, killOpts)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	ctx := context.Background()
	for range 3 {
		l, err := f.Next(ctx)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("leased", l.Item.URL)
	}
	fmt.Println("ready")
	time.Sleep(time.Minute) // killed long before
	os.Exit(2)
}

// A worker process killed with SIGKILL holds leases it renewed until then;
// while it lives nobody else gets them, after it dies each item is leased
// again exactly once.
func TestFrontierKill9(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	ctx := ctxT(t)
	f := newTestFrontier(t, redistest.Client(t, addr), job, killOpts)
	for i := range 5 {
		if _, err := f.Add(ctx, item("kill.test", i)); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWorker$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+addr+" "+job)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	held := map[string]bool{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if u, ok := strings.CutPrefix(line, "leased "); ok {
			held[u] = true
		}
		if line == "ready" {
			break
		}
		if strings.HasPrefix(line, "error") {
			t.Fatalf("worker: %s", line)
		}
	}
	if len(held) != 3 {
		t.Fatalf("worker leased %v", held)
	}
	// The other two items are ours; then nothing, for well over the
	// lease TTL, while the worker lives and renews.
	for range 2 {
		l, err := f.Next(ctx)
		if err != nil || held[l.Item.URL] {
			t.Fatalf("Next = %+v, %v", l, err)
		}
		if err := f.Complete(ctx, l, true); err != nil {
			t.Fatal(err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 2500*time.Millisecond)
	l, err := f.Next(wctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next while the worker holds its leases = %+v, %v; want to wait", l, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	got := map[string]int{}
	for range 10 { // bounded
		l, err := f.Next(ctx)
		if errors.Is(err, frontier.ErrDone) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[l.Item.URL]++
		if err := f.Complete(ctx, l, true); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 3 {
		t.Errorf("re-leased %v, want the worker's 3 items", got)
	}
	for u, n := range got {
		if !held[u] || n != 1 {
			t.Errorf("%s re-leased %d times (held by the worker: %v)", u, n, held[u])
		}
	}
	if st, _ := f.Stats(ctx); st.Pages != 5 || st.Queued != 0 || st.InFlight != 0 {
		t.Errorf("Stats = %+v", st)
	}
}
