package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/internal/redistest"
)

// allowedURIs returns, for each request URI of site, how many allow
// decisions the operation log in dir holds for it, and when the first was
// logged.
func allowedURIs(t *testing.T, dir, site string) map[string]time.Time {
	t.Helper()
	first := map[string]time.Time{}
	_, err := audit.Verify(context.Background(), dir, audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		d := e.Event.Decision
		if d == nil || d.Verdict != audit.Allow || e.Event.Site != site {
			return nil
		}
		u, err := url.Parse(d.URL)
		if err != nil {
			return fmt.Errorf("entry %d: %w", e.Seq, err)
		}
		if _, ok := first[u.RequestURI()]; !ok {
			first[u.RequestURI()] = e.Event.Time
		}
		return nil
	}})
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return first
}

// checkWriteAhead fails t for every request the site received that no
// worker's log allowed before it arrived.
func checkWriteAhead(t *testing.T, s *testSite, ws []*workerRun) {
	t.Helper()
	allowed := map[string]time.Time{}
	for _, w := range ws {
		for uri, at := range allowedURIs(t, filepath.Join(w.out, "audit"), s.hostport()) {
			if old, ok := allowed[uri]; !ok || at.Before(old) {
				allowed[uri] = at
			}
		}
	}
	for _, h := range s.hits() {
		at, ok := allowed[h.uri]
		switch {
		case !ok:
			t.Errorf("%s reached the site with no allow decision in any worker's log", h.uri)
		case at.After(h.at):
			t.Errorf("%s reached the site %s before its decision was logged", h.uri, at.Sub(h.at))
		}
	}
}

// A whole job through the CLI on a three-master Redis Cluster: two workers
// share the crawl, fetch every page once, and finish; job status, complaint
// and audit verify take the cluster's URL too.
func TestJobOnRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("runs goodbot processes and a Redis Cluster")
	}
	nodes := redistest.StartCluster(t, 3)
	cluster := redistest.ClusterURL(nodes)
	name := redistest.Namespace(t)
	const pages = 40
	s := manyPages(t, pages)
	ws := startWorkers(t, 2, "--redis", cluster, "--job", name,
		"--traffic", s.hostport()+"=17280000", s.srv.URL+"/") // 20 requests a second

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for ctx.Err() == nil && len(s.hits()) < 5 {
		time.Sleep(50 * time.Millisecond)
	}
	// One seed node is enough for the commands: they find the rest.
	code, stdout, stderr := runCLI(t, "job", "status", "--redis", "redis+cluster://"+nodes[2].Addr, "--job", name)
	if code != 0 || !strings.Contains(stdout, "workers: 2") {
		t.Errorf("job status on the cluster: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for i, w := range ws {
		done := make(chan error, 1)
		go func() { done <- w.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("worker %d: %v\n%s", i, err, w.stderr.String())
			}
		case <-ctx.Done():
			t.Fatalf("worker %d did not finish the job\n%s", i, w.stderr.String())
		}
		if !strings.Contains(w.stdout.String(), "done after") {
			t.Errorf("worker %d did not end cleanly:\n%s", i, w.stdout.String())
		}
		if !strings.Contains(w.stderr.String(), "topology=cluster") {
			t.Errorf("worker %d did not say it runs on a cluster:\n%s", i, w.stderr.String())
		}
	}
	seen := map[string]int{}
	for _, h := range s.hits() {
		seen[h.uri]++
	}
	for i := range pages {
		if n := seen[fmt.Sprintf("/p%d", i)]; n != 1 {
			t.Errorf("/p%d fetched %d times", i, n)
		}
	}
	checkWriteAhead(t, s, ws)
	for i, w := range ws {
		code, out, errOut := runCLI(t, "audit", "verify", "--redis", cluster, "--job", name, filepath.Join(w.out, "audit"))
		if code != 0 || !strings.Contains(out, "extends the checkpoint") {
			t.Errorf("worker %d: audit verify against the cluster's witness: exit %d\n%s\n%s", i, code, out, errOut)
		}
	}
	code, stdout, stderr = runCLI(t, "complaint", "list", "--redis", cluster, "--job", name)
	if code != 0 {
		t.Errorf("complaint list on the cluster: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// A job behind Sentinel survives the failover of its master: while no
// master answers, nothing is sent (every request needs a grant from the
// job's limiter); after the replica is promoted, the workers go on; every
// request that reached the site was allowed in a log before it arrived.
func TestJobSurvivesSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs goodbot processes, a Redis master, a replica and a Sentinel")
	}
	f := redistest.StartFailover(t)
	name := redistest.Namespace(t)
	s := manyPages(t, 400)
	ws := startWorkers(t, 2, "--redis", f.URL(), "--job", name,
		"--traffic", s.hostport()+"=8640000", s.srv.URL+"/") // 10 requests a second
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for ctx.Err() == nil && len(s.hits()) < 10 {
		time.Sleep(50 * time.Millisecond)
	}
	down := time.Now()
	if err := f.KillMaster(ctx); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()
	t.Logf("failover took %s", promoted.Sub(down).Round(time.Millisecond))
	for ctx.Err() == nil && countAfter(s, promoted) < 10 {
		time.Sleep(50 * time.Millisecond)
	}
	stopWorkers(t, ws)

	before, during, after := 0, 0, 0
	seen := map[string]int{}
	for _, h := range s.hits() {
		seen[h.uri]++
		switch {
		case h.at.Before(down):
			before++
		// A grant made before the kill stays valid: each of the 4 slots
		// (2 processes, --parallel 2) may hold one up to 4 intervals
		// (400 ms) ahead.
		case h.at.After(down.Add(500*time.Millisecond)) && h.at.Before(promoted):
			during++
			t.Logf("with no master: %s at +%s", h.uri, h.at.Sub(down).Round(time.Millisecond))
		case h.at.After(promoted):
			after++
		}
	}
	t.Logf("requests: %d before the kill, %d with no master, %d after the failover", before, during, after)
	if before == 0 || after < 10 {
		t.Errorf("the crawl did not run before the failover or did not go on after it")
	}
	if during != 0 {
		t.Errorf("%d requests were sent while no master answered", during)
	}
	// Replication is asynchronous: a lease or a dedup mark the master took
	// in its last moment may be lost, so a URL in hand then may be fetched
	// again, at most one per slot.
	twice := 0
	for _, n := range seen {
		if n > 1 {
			twice++
		}
	}
	if twice > 4 {
		t.Errorf("%d URLs fetched twice across the failover", twice)
	}
	checkWriteAhead(t, s, ws)
	for i, w := range ws {
		if !strings.Contains(w.stderr.String(), "topology=sentinel") {
			t.Errorf("worker %d did not say it runs behind Sentinel:\n%s", i, w.stderr.String())
		}
	}
}

func countAfter(s *testSite, t time.Time) int {
	n := 0
	for _, h := range s.hits() {
		if h.at.After(t) {
			n++
		}
	}
	return n
}
