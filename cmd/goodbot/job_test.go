package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/output"
	"github.com/goodbot/goodbot/internal/redistest"
)

// The distributed-jobs issue's acceptance run: two workers share one job;
// no URL is fetched twice; "goodbot complaint add" leaves the site with no
// request from 2 s after the command on, and no stored content from it in
// either worker's output; both workers' operation logs record the complaint
// and the deletion; "goodbot job status" shows the job.
func TestJobSharedCrawlAndComplaint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs goodbot processes for seconds")
	}
	addr := redistest.Addr(t)
	name := redistest.Namespace(t)
	s := manyPages(t, 400)
	ws := startWorkers(t, 2, "--redis", "redis://"+addr, "--job", name,
		"--traffic", s.hostport()+"=8640000", s.srv.URL+"/") // 10 requests a second
	time.Sleep(3 * time.Second)

	code, stdout, stderr := runCLI(t, "job", "status", "--redis", "redis://"+addr, "--job", name)
	if code != 0 || !strings.Contains(stdout, "workers: 2 alive of 2") || !strings.Contains(stdout, s.hostport()) {
		t.Errorf("job status: exit %d\n%s\n%s", code, stdout, stderr)
	}

	code, stdout, stderr = runCLI(t, "complaint", "add", "--site", s.hostport(), "--reason", "the operator asked us to stop",
		"--contact", "ops@site.example", "--redis", "redis://"+addr, "--job", name)
	returned := time.Now()
	if code != 0 || strings.Count(stdout, "confirmed by") != 2 {
		t.Fatalf("complaint add: exit %d\n%s\n%s", code, stdout, stderr)
	}
	time.Sleep(3 * time.Second)
	stopWorkers(t, ws)

	seen := map[string]int{}
	late := 0
	for _, h := range s.hits() {
		seen[h.uri]++
		if h.at.After(returned) {
			late++
			if h.at.After(returned.Add(2 * time.Second)) {
				t.Errorf("%s reached the site %s after the complaint command returned", h.uri, h.at.Sub(returned).Round(time.Millisecond))
			}
		}
	}
	t.Logf("%d requests before the complaint, %d after the command returned", len(s.hits())-late, late)
	for uri, n := range seen {
		// Each worker asks for the site's tdmrep.json itself: it is not
		// shared through Redis yet (see the README's Status).
		if n > 1 && uri != "/.well-known/tdmrep.json" {
			t.Errorf("%s fetched %d times across the job's workers", uri, n)
		}
	}
	if len(seen) < 10 {
		t.Errorf("only %d URLs crawled before the complaint", len(seen))
	}
	for i, w := range ws {
		if _, err := os.Stat(filepath.Join(w.out, "sites", output.SiteDir(s.hostport()))); !os.IsNotExist(err) {
			t.Errorf("worker %d still has the site's content: %v", i, err)
		}
		var complaint, deletion int
		_, err := audit.Verify(context.Background(), filepath.Join(w.out, "audit"), audit.VerifyOptions{Visit: func(e *audit.Entry) error {
			if e.Event.Complaint != nil && e.Event.Site == s.hostport() {
				complaint++
			}
			if e.Event.Deletion != nil && e.Event.Site == s.hostport() {
				deletion++
			}
			return nil
		}})
		if err != nil || complaint != 1 || deletion != 1 {
			t.Errorf("worker %d's log: %d complaint and %d deletion entries, verify error %v", i, complaint, deletion, err)
		}
		// The other workers witnessed the log's checkpoints in Redis.
		code, out, errOut := runCLI(t, "audit", "verify", "--redis", "redis://"+addr, "--job", name, filepath.Join(w.out, "audit"))
		if code != 0 || !strings.Contains(out, "extends the checkpoint") {
			t.Errorf("worker %d: audit verify against the witnessed checkpoint: exit %d\nstdout %s\nstderr %s", i, code, out, errOut)
		}
	}
	// A log the job never witnessed is reported as such.
	code, _, errOut := runCLI(t, "audit", "verify", "--redis", "redis://"+addr, "--job", name+"-other", filepath.Join(ws[0].out, "audit"))
	if code == 0 || !strings.Contains(errOut, "witnessed no checkpoint") {
		t.Errorf("verify against a job that witnessed nothing: exit %d, %s", code, errOut)
	}
}

// A worker killed with -9 loses no URL: its leases expire and the other
// worker fetches them.
func TestJobWorkerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs goodbot processes for seconds")
	}
	addr := redistest.Addr(t)
	name := redistest.Namespace(t)
	s := manyPages(t, 60)
	ws := startWorkers(t, 2, "--redis", "redis://"+addr, "--job", name, "--lease-ttl", "2s",
		"--traffic", s.hostport()+"=17280000", s.srv.URL+"/") // 20 requests a second
	time.Sleep(1500 * time.Millisecond)
	ws[0].cmd.Process.Signal(syscall.SIGKILL)
	ws[0].cmd.Wait()
	// The survivor finishes the job and exits by itself.
	done := make(chan error, 1)
	go func() { done <- ws[1].cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("surviving worker: %v\n%s", err, ws[1].stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the surviving worker did not finish the job; stderr:\n%s", ws[1].stderr.String())
	}
	seen := map[string]int{}
	for _, h := range s.hits() {
		seen[h.uri]++
	}
	twice := 0
	for i := range 60 {
		uri := "/p" + strconv.Itoa(i)
		switch n := seen[uri]; {
		case n == 0:
			t.Errorf("%s was never fetched: the killed worker's lease was lost", uri)
		case n > 1:
			twice++
		}
	}
	// Only URLs the killed worker had already sent when it died may come
	// twice: at most its --parallel (2) leases.
	if twice > 2 {
		t.Errorf("%d URLs fetched twice, more than the killed worker's 2 leases", twice)
	}
	if !strings.Contains(ws[1].stdout.String(), "done after") {
		t.Errorf("the survivor did not end cleanly:\n%s", ws[1].stdout.String())
	}
}
