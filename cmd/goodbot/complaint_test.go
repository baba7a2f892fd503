package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/output"
)

func TestComplaintUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"complaint"}, "Usage"},
		{[]string{"complaint", "add", "--reason", "x", "--out", t.TempDir()}, "--site"},
		{[]string{"complaint", "add", "--site", "a.example", "--out", t.TempDir()}, "--reason is required"},
		{[]string{"complaint", "add", "--site", "a.example", "--reason", "x"}, "name the board"},
		{[]string{"complaint", "add", "--site", "http://a.example/", "--reason", "x", "--out", t.TempDir()}, "not a URL"},
		{[]string{"complaint", "resolve", "--out", t.TempDir()}, "complaint ID"},
		{[]string{"job", "status", "--job", "x"}, "--redis and --job"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("goodbot %v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// On a single machine: a complaint added after a crawl deletes the site's
// pages and records it in the crawl's operation log; the next crawl does
// not contact the site; list and resolve show and close it.
func TestComplaintOffline(t *testing.T) {
	s := manyPages(t, 5)
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	crawlArgs := []string{"crawl", "--contact", "mailto:me@example.org", "--traffic", s.hostport() + "=864000000",
		"--out", out, "--audit-key", key, "--progress", "0", s.srv.URL + "/"}
	if code, o, e := runCLI(t, crawlArgs...); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, o, e)
	}
	dir := filepath.Join(out, "sites", output.SiteDir(s.hostport()))
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("nothing stored: %v", err)
	}
	evidence := filepath.Join(t.TempDir(), "letter.txt")
	os.WriteFile(evidence, []byte("Please stop crawling us."), 0o644)
	code, stdout, stderr := runCLI(t, "complaint", "add", "--site", s.hostport(), "--reason", "operator request",
		"--contact", "ops@site.example", "--evidence", evidence, "--out", out, "--audit-key", key)
	if code != 0 || !strings.Contains(stdout, "applied: 6 records") {
		t.Fatalf("complaint add: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the site's pages survived the complaint: %v", err)
	}
	var comp *audit.Complaint
	var del *audit.Deletion
	if _, err := audit.Verify(context.Background(), filepath.Join(out, "audit"), audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		if e.Event.Complaint != nil {
			comp = e.Event.Complaint
		}
		if e.Event.Deletion != nil {
			del = e.Event.Deletion
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	if comp == nil || comp.Contact != "ops@site.example" || len(comp.EvidenceSHA256) != 64 || del == nil || del.Records != 6 || len(del.Digests) != 6 {
		t.Fatalf("operation log: complaint %+v, deletion %+v", comp, del)
	}

	// The next crawl sends nothing to the site.
	before := len(s.hits())
	if code, o, e := runCLI(t, crawlArgs...); code != 0 {
		t.Fatalf("second crawl: exit %d\n%s\n%s", code, o, e)
	}
	if n := len(s.hits()) - before; n != 0 {
		t.Fatalf("%d requests reached a site under complaint", n)
	}

	code, stdout, _ = runCLI(t, "complaint", "list", "--out", out)
	if code != 0 || !strings.Contains(stdout, "operator request") || !strings.Contains(stdout, "confirmed by 1 workers") {
		t.Fatalf("complaint list: exit %d\n%s", code, stdout)
	}
	id := strings.Fields(stdout)[0]
	if code, o, e := runCLI(t, "complaint", "resolve", id, "--out", out); code != 0 {
		t.Fatalf("resolve: exit %d %s %s", code, o, e)
	}
	_, stdout, _ = runCLI(t, "complaint", "list", "--out", out)
	if !strings.Contains(stdout, "resolved") {
		t.Fatalf("not resolved: %s", stdout)
	}
}

// A complaint added while a single-machine crawl runs is applied by that
// crawl within a second.
func TestComplaintWhileCrawling(t *testing.T) {
	s := manyPages(t, 300)
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	go func() {
		code, _, _ := runCLIctx(ctx, "crawl", "--contact", "mailto:me@example.org", "--traffic", s.hostport()+"=8640000",
			"--out", out, "--audit-key", key, "--progress", "0", s.srv.URL+"/")
		done <- code
	}()
	time.Sleep(2 * time.Second)
	code, stdout, stderr := runCLI(t, "complaint", "add", "--site", s.hostport(), "--reason", "stop now", "--out", out, "--audit-key", key)
	returned := time.Now()
	if code != 0 || !strings.Contains(stdout, "confirmed by the running crawl") {
		t.Fatalf("complaint add: exit %d\n%s\n%s", code, stdout, stderr)
	}
	time.Sleep(2 * time.Second)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("crawl exit %d", code)
	}
	for _, h := range s.hits() {
		if h.at.After(returned) {
			t.Errorf("%s arrived %s after the complaint was confirmed", h.uri, h.at.Sub(returned))
		}
	}
	if _, err := os.Stat(filepath.Join(out, "sites", output.SiteDir(s.hostport()))); !os.IsNotExist(err) {
		t.Fatalf("the site's pages survived: %v", err)
	}
}
