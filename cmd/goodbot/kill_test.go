package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
)

// The durable-state acceptance: goodbot crawl is killed with SIGKILL at
// random points and run again on the same --out until it finishes. In all
// runs together every page is requested exactly once (counted at the
// server), pages.jsonl has no duplicate and no torn record, and the
// operation log verifies.
func TestKillResumesExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := goodbotBinary(t)
	const pages = 40
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var b strings.Builder
		fmt.Fprintf(&b, "<html><head><title>%s</title></head><body><p>page %s</p>", r.URL.Path, r.URL.Path)
		if r.URL.Path == "/" {
			for i := range pages {
				fmt.Fprintf(&b, `<a href="/p%d">p%d</a> `, i, i)
			}
		} else {
			// Each page links to the next ones too, so that a page whose
			// links a killed run never read is still found.
			var n int
			fmt.Sscanf(r.URL.Path, "/p%d", &n)
			for i := n + 1; i < min(n+4, pages); i++ {
				fmt.Fprintf(&b, `<a href="/p%d">p%d</a> `, i, i)
			}
		}
		b.WriteString("</body></html>")
		w.Write([]byte(b.String()))
	})
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("kill points from seed %d", seed)
	args := []string{"crawl", "--contact", "mailto:me@example.org", "--out", out, "--audit-key", key,
		"--progress", "0", "--parallel", "2",
		// 20 requests a second: the whole crawl takes about two seconds.
		"--traffic", s.hostport() + "=17280000", s.srv.URL + "/"}
	finished := false
	for run := 0; run < 12 && !finished; run++ {
		cmd := exec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Kill after a random number of new requests; the last runs are
		// let finish.
		target := max(len(s.hits())+1, 5) + rng.IntN(8)
		killed := false
		deadline := time.After(60 * time.Second)
	wait:
		for {
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("run %d: %v\nstdout %s\nstderr %s", run, err, stdout.String(), stderr.String())
				}
				finished = true
				break wait
			case <-deadline:
				cmd.Process.Kill()
				<-exited
				t.Fatalf("run %d did not finish in 60 s\nstderr %s", run, stderr.String())
			case <-time.After(time.Millisecond):
				if run < 8 && len(s.hits()) >= target {
					cmd.Process.Kill()
					<-exited
					killed = true
					break wait
				}
			}
		}
		if killed {
			t.Logf("run %d killed after %d requests in all", run, len(s.hits()))
			continue
		}
		if !strings.Contains(stdout.String(), "done after") {
			t.Fatalf("run %d: no summary\nstdout %s\nstderr %s", run, stdout.String(), stderr.String())
		}
	}
	if !finished {
		t.Fatal("no run finished")
	}
	counts := map[string]int{}
	for _, h := range s.hits() {
		counts[h.uri]++
	}
	// A kill between a decision becoming durable and its request leaving
	// leaves a page the log says was allowed but that never arrived: it
	// is charged and not sent again (the log cannot tell it from one sent
	// whose answer the kill lost). Such pages have an allowing decision
	// and no fetch in the log.
	inFlight := allowedWithoutFetch(t, filepath.Join(out, "audit"))
	for i := -1; i < pages; i++ {
		uri := "/"
		if i >= 0 {
			uri = fmt.Sprintf("/p%d", i)
		}
		if counts[uri] == 0 && inFlight[s.srv.URL+uri] {
			t.Logf("%s was allowed when a run was killed, and never arrived", uri)
			continue
		}
		if counts[uri] != 1 {
			t.Errorf("%s requested %d times in all runs, want exactly once", uri, counts[uri])
		}
	}

	f, err := os.Open(filepath.Join(out, "sites", strings.ReplaceAll(s.hostport(), ":", "_"), "pages.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stored := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var rec struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("pages.jsonl line %d: %v: %q", line, err, sc.Bytes())
		}
		stored[rec.URL]++
		if stored[rec.URL] > 1 {
			t.Errorf("pages.jsonl has %s twice", rec.URL)
		}
	}
	// A page requested when a run was killed, before it was stored, is
	// lost rather than requested again; with a kill every run, a few are.
	if len(stored) < pages-8 {
		t.Errorf("pages.jsonl has %d pages of %d", len(stored), pages+1)
	}
	if code, stdout, stderr := runCLI(t, "audit", "verify", filepath.Join(out, "audit")); code != 0 {
		t.Fatalf("audit verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// A second goodbot crawl on the same --out is refused while the first
// runs, naming it; --fresh starts over, and the log records what it threw
// away.
func TestStateLockAndFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := goodbotBinary(t)
	s := manyPages(t, 30)
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	// One request a second: the first crawl runs for half a minute.
	args := []string{"crawl", "--contact", "mailto:me@example.org", "--out", out, "--audit-key", key,
		"--progress", "0", "--traffic", s.hostport() + "=864000", s.srv.URL + "/"}
	cmd := exec.Command(bin, args...)
	var stderr1 bytes.Buffer
	cmd.Stderr = &stderr1
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for i := 0; i < 400 && len(s.hits()) < 2; i++ {
		time.Sleep(25 * time.Millisecond)
	}
	code, _, stderr := runCLI(t, args...)
	if code == 0 || !strings.Contains(stderr, "is in use by pid "+fmt.Sprint(cmd.Process.Pid)) {
		t.Fatalf("second crawl on the same --out: exit %d\n%s", code, stderr)
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()

	code, stdout, stderr := runCLI(t, append([]string{"crawl", "--fresh", "--max-pages", "1"}, args[1:]...)...)
	if code != 0 || !strings.Contains(stderr, "--fresh: discarded the crawl state") {
		t.Fatalf("crawl --fresh: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "audit", "show", "--type", "state", filepath.Join(out, "audit"))
	if code != 0 || !strings.Contains(stdout, "fresh") {
		t.Fatalf("audit show --type state: exit %d\n%s", code, stdout)
	}
}

// allowedWithoutFetch returns the URLs of page requests the log in dir
// allowed and has no fetch for.
func allowedWithoutFetch(t *testing.T, dir string) map[string]bool {
	t.Helper()
	allowed := map[string]string{} // run and request id -> URL
	fetched := map[string]bool{}
	run := 0 // request ids count from 1 in each run, which starts with its config
	_, err := audit.Verify(context.Background(), dir, audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		if e.Event.Type == audit.TypeConfig {
			run++
		}
		if d := e.Event.Decision; d != nil && d.Verdict == audit.Allow && d.Kind == "page" {
			allowed[fmt.Sprint(run, "/", d.RequestID)] = d.URL
		}
		if f := e.Event.Fetch; f != nil {
			fetched[fmt.Sprint(run, "/", f.RequestID)] = true
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for id, u := range allowed {
		if !fetched[id] {
			out[u] = true
		}
	}
	return out
}
