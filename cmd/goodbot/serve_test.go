package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goodbot/goodbot/crawler/output"
	"github.com/goodbot/goodbot/internal/redistest"
	"github.com/goodbot/goodbot/job"
	"github.com/goodbot/goodbot/operator"
	"github.com/goodbot/goodbot/operator/operatortest"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a reader at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var listening = regexp.MustCompile(`listening on (http://[^/\s]+)/`)

// startServe runs goodbot serve with args on a free loopback port, with
// proofs allowed over http from loopback, and returns its base URL.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	args = append([]string{"--addr", "127.0.0.1:0", "--contact", "mailto:ops@example.org", "--operator", "Example Data Team",
		"--purpose", "testing complaints", "--handle-within", "72h", "--addresses", "127.0.0.1",
		"--proof-audit-key", filepath.Join(t.TempDir(), "proof-key")}, args...)
	go func() { done <- serve(ctx, args, &stdout, &stderr, serveTest{proofScheme: "http", allowPrivate: true}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("goodbot serve: %v\n%s", err, stderr.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("goodbot serve ended: %v\n%s", err, stderr.String())
		default:
		}
	}
	t.Fatalf("goodbot serve did not start:\n%s", stderr.String())
	return ""
}

// proofSite is a loopback site of a few pages that serves a proof token at
// the proof path once given one.
type proofSite struct {
	*testSite
	mu    sync.Mutex
	token string
}

func newProofSite(t *testing.T, pages int) *proofSite {
	ps := &proofSite{}
	var links bytes.Buffer
	for i := range pages {
		fmt.Fprintf(&links, `<a href="/p%d">p</a> `, i)
	}
	ps.testSite = newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
			http.NotFound(w, r)
		case strings.HasPrefix(r.URL.Path, operator.ProofPath):
			ps.mu.Lock()
			tok := ps.token
			ps.mu.Unlock()
			if tok == "" {
				http.NotFound(w, r)
				return
			}
			io.WriteString(w, tok)
		case r.URL.Path == "/":
			w.Header().Set("Content-Type", "text/html")
			w.Write(links.Bytes())
		default:
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, "<title>%s</title><p>page</p>", r.URL.Path)
		}
	})
	return ps
}

func (ps *proofSite) serveToken(tok string) {
	ps.mu.Lock()
	ps.token = tok
	ps.mu.Unlock()
}

// The acceptance of goodbot serve without a browser, on a single machine
// whose crawl has ended: a forged complaint stops the site and deletes
// nothing (its status says it awaits confirmation), a proven one deletes at
// once, and goodbot complaint resolve deletes the forged one once a person
// confirms it. Neither operation log holds the complainant's data.
func TestServeForgedProvenResolved(t *testing.T) {
	forged, proven := newProofSite(t, 5), newProofSite(t, 5)
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	if code, o, e := runCLI(t, "crawl", "--contact", "mailto:me@example.org", "--traffic", forged.hostport()+"=864000000",
		"--traffic", proven.hostport()+"=864000000", "--out", out, "--audit-key", key, "--progress", "0",
		forged.srv.URL+"/", proven.srv.URL+"/"); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, o, e)
	}
	siteDir := func(s *proofSite) string { return filepath.Join(out, "sites", output.SiteDir(s.hostport())) }
	for _, s := range []*proofSite{forged, proven} {
		if _, err := os.Stat(siteDir(s)); err != nil {
			t.Fatalf("nothing stored from %s: %v", s.hostport(), err)
		}
	}
	base := startServe(t, "--out", out, "--audit-key", key)
	f := operatortest.NewClient(t, base)
	const email, phone = "webmaster@forged.example", "13800138000"

	// Forged: no token on the site. Stopped, not deleted.
	fr, _ := f.Complain(forged.srv.URL+"/", email, "Stop crawling us. 手机 "+phone)
	before := len(forged.hits())
	if r := f.Post("/complaints/"+fr+"/check", "/complaints/"+fr, url.Values{}); r.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, "awaiting confirmation") {
		t.Fatalf("check of the forged complaint: %d\n%s", r.Code, r.Body)
	}
	if n := len(forged.hits()) - before; n != 1 {
		t.Errorf("the proof check sent %d requests to the site, want 1", n)
	}
	if _, err := os.Stat(siteDir(forged)); err != nil {
		t.Fatalf("a forged complaint deleted the site's pages: %v", err)
	}

	// Proven: the token is on the site. Deleted at once.
	pr, tok := f.Complain(proven.hostport(), "ops@proven.example", "Please delete what you took.")
	proven.serveToken(tok)
	if r := f.Post("/complaints/"+pr+"/check", "/complaints/"+pr, url.Values{}); r.Code != http.StatusSeeOther {
		t.Fatalf("check of the proven complaint: %d\n%s", r.Code, r.Body)
	}
	if _, err := os.Stat(siteDir(proven)); !os.IsNotExist(err) {
		t.Fatalf("the proven complaint did not delete the site's pages: %v", err)
	}
	if r := f.Get("/complaints/" + pr); r.Code != 200 || !strings.Contains(r.Body, "proven by the site") || !strings.Contains(r.Body, "stopped, 6 records") ||
		!strings.Contains(r.Body, `class="log-deleted">删除 / deleted 6 records`) {
		t.Fatalf("status of the proven complaint: %d\n%s", r.Code, r.Body)
	}
	if r := f.Get("/complaints/" + fr); !strings.Contains(r.Body, "awaiting confirmation") {
		t.Fatalf("status of the forged complaint:\n%s", r.Body)
	}

	// A person confirms the forged one.
	board, _ := job.OpenFileComplaints(out)
	cs, _ := board.List(context.Background())
	var id string
	for _, c := range cs {
		if c.Receipt == fr {
			id = c.ID
		}
	}
	code, o, e := runCLI(t, "complaint", "resolve", id, "--out", out, "--audit-key", key)
	if code != 0 || !strings.Contains(o, "confirmed now") || !strings.Contains(o, "applied: 6 records") {
		t.Fatalf("resolve: exit %d\n%s\n%s", code, o, e)
	}
	if _, err := os.Stat(siteDir(forged)); !os.IsNotExist(err) {
		t.Fatalf("resolve did not delete the forged complaint's site: %v", err)
	}
	if r := f.Get("/complaints/" + fr); !strings.Contains(r.Body, "resolved") {
		t.Fatalf("status after resolve:\n%s", r.Body)
	}

	// The complainant's data: on the board (the reply address; the
	// message filtered), in no log.
	assertAbsent(t, filepath.Join(out, "audit"), email, phone)
	assertAbsent(t, filepath.Join(out, "serve-audit"), email, phone)
	b, _ := os.ReadFile(filepath.Join(out, job.ComplaintsFile))
	if bytes.Contains(b, []byte(phone)) || !bytes.Contains(b, []byte(email)) {
		t.Errorf("board: phone kept %v, reply address kept %v", bytes.Contains(b, []byte(phone)), bytes.Contains(b, []byte(email)))
	}
}

// assertAbsent fails if any file under dir holds one of values.
func assertAbsent(t *testing.T, dir string, values ...string) {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
			return nil
		}
		for _, v := range values {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s holds %q", p, v)
			}
		}
		return nil
	})
	if n == 0 {
		t.Errorf("no files under %s", dir)
	}
}

func TestServeUsage(t *testing.T) {
	out := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--out", out}, "--contact"},
		{[]string{"serve", "--out", out, "--contact", "mailto:a@example.org"}, "--operator"},
		{[]string{"serve", "--out", out, "--contact", "mailto:a@example.org", "--operator", "x"}, "--purpose"},
		{[]string{"serve", "--out", out, "--contact", "mailto:a@example.org", "--operator", "x", "--purpose", "y"}, "--handle-within"},
		{[]string{"serve", "--redis", "redis://127.0.0.1:1", "--job", "j", "--contact", "mailto:a@example.org", "--operator", "x", "--purpose", "y", "--handle-within", "1h"}, "--proof-audit"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("goodbot %v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// On a Redis job, a complaint from the form goes onto the job's board and
// stop list; a proof confirms it there, for the workers to delete.
func TestServeRedisJob(t *testing.T) {
	addr := redistest.Addr(t)
	jobName := redistest.Namespace(t)
	site := newProofSite(t, 1)
	base := startServe(t, "--redis", "redis://"+addr, "--job", jobName, "--proof-audit", filepath.Join(t.TempDir(), "proof-audit"))
	f := operatortest.NewClient(t, base)
	receipt, token := f.Complain(site.hostport(), "ops@site.example", "stop")
	ctx := context.Background()
	board, err := job.NewComplaints(redistest.Client(t, addr), jobName, job.ComplaintsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stops, err := job.NewStopList(redistest.Client(t, addr), jobName, job.StopListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer stops.Close()
	cs, err := board.List(ctx)
	if err != nil || len(cs) != 1 || !cs[0].Unconfirmed || cs[0].Receipt != receipt || cs[0].Site != site.hostport() {
		t.Fatalf("board: %+v, %v", cs, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, stopped, err := stops.Stopped(ctx, site.hostport()); err == nil && stopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the site is not on the job's stop list")
		}
	}
	status := "/complaints/" + receipt
	if r := f.Get(status); !strings.Contains(r.Body, "awaiting confirmation") {
		t.Fatalf("status: %d\n%s", r.Code, r.Body)
	}
	site.serveToken(token)
	if r := f.Post(status+"/check", status, url.Values{}); r.Code != http.StatusSeeOther {
		t.Fatalf("check: %d\n%s", r.Code, r.Body)
	}
	if c, err := board.Get(ctx, cs[0].ID); err != nil || c.Unconfirmed || c.ConfirmedBy != job.ConfirmedByProof {
		t.Fatalf("after the proof: %+v, %v", c, err)
	}
}
