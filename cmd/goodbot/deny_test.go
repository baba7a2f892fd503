package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/audit"
)

// --deny-file: a bad line is a usage error naming it; a seed on a listed
// host is refused naming the rule; links to listed hosts and to the
// built-in *.mil.cn are refused, and the log cites the rule.
func TestCrawlDenyFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("# ours\nhttp://x.example/\n"), 0o600)
	code, _, stderr := runCLI(t, "crawl", "--contact", "mailto:me@example.org", "--deny-file", bad, "http://127.0.0.1:1/")
	if code != 2 || !strings.Contains(stderr, bad+" line 2") {
		t.Fatalf("bad deny file: exit %d, stderr %q; want 2 naming line 2", code, stderr)
	}

	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/" {
			fmt.Fprint(w, `<a href="http://www.mil.cn/">m</a><a href="http://lab.example.edu/">l</a><a href="/a">a</a>`)
			return
		}
		fmt.Fprint(w, "<p>ok</p>")
	})
	deny := filepath.Join(dir, "deny.txt")
	os.WriteFile(deny, []byte("lab.example.edu  # a research institute\n*.gov.cn\n"), 0o600)
	common := []string{"crawl", "--contact", "mailto:me@example.org", "--traffic", s.hostport() + "=864000000",
		"--deny-file", deny, "--allow-host", "www.mil.cn", "--allow-host", "lab.example.edu", "--audit-key", filepath.Join(dir, "key"), "--progress", "0"}

	code, _, stderr = runCLI(t, append(common, "--out", t.TempDir(), "https://www.gov.cn/")...)
	if code != 2 || !strings.Contains(stderr, "*.gov.cn on the operator's denylist") {
		t.Fatalf("seed on a denied host: exit %d, stderr %q", code, stderr)
	}

	out := t.TempDir()
	code, stdout, stderr := runCLI(t, append(common, "--out", out, s.srv.URL+"/")...)
	if code != 0 || s.count("/a") != 1 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	refused := map[string]string{}
	if _, err := audit.Verify(context.Background(), filepath.Join(out, "audit"), audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		if d := e.Event.Decision; d != nil && d.Verdict == audit.Refuse && strings.HasPrefix(d.Reason, "denylist: ") {
			refused[d.URL] = d.Reason
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(refused["http://www.mil.cn/"], "Art. 285(1)") || !strings.Contains(refused["http://lab.example.edu/"], "lab.example.edu on the operator's denylist") {
		t.Fatalf("denylist decisions: %q", refused)
	}
}
