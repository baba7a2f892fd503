package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A crawl that fills its disk stops; once space is freed, a rerun on the
// same --out finishes, and audit verify, audit export and complaint add all
// succeed. The disk is a small tmpfs, so the test needs root; it is
// skipped elsewhere.
func TestFullDiskThenRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	mnt := filepath.Join(t.TempDir(), "disk")
	os.MkdirAll(mnt, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })

	const pages = 120
	filler := strings.Repeat("这是一段用于填满磁盘的正文。Filler text for the disk. ", 600) // ~40 KB
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var b strings.Builder
		fmt.Fprintf(&b, "<html><head><title>%s</title></head><body><p>%s %s</p>", r.URL.Path, r.URL.Path, filler)
		if r.URL.Path == "/" {
			for i := range pages {
				fmt.Fprintf(&b, `<a href="/p%d">p%d</a> `, i, i)
			}
		}
		b.WriteString("</body></html>")
		w.Write([]byte(b.String()))
	})
	out := filepath.Join(mnt, "out")
	key := filepath.Join(t.TempDir(), "key")
	args := []string{"crawl", "--contact", "mailto:me@example.org", "--out", out, "--audit-key", key,
		"--progress", "0", "--store", "full", "--traffic", s.hostport() + "=864000000", s.srv.URL + "/"}
	code, stdout, stderr := runCLI(t, args...)
	if code == 0 {
		t.Fatalf("the crawl filled a 3 MB disk and exited 0\n%s\n%s", stdout, stderr)
	}
	full := len(s.hits())
	t.Logf("first run: exit %d after %d requests; %s", code, full, lastLine(stderr))

	if out, err := exec.Command("mount", "-o", "remount,size=64m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v %s", err, out)
	}
	code, stdout, stderr = runCLI(t, args...)
	t.Logf("rerun: %s\n%s", stdout, stderr)
	if code != 0 || !strings.Contains(stdout, "done after") {
		t.Fatalf("rerun after space was freed: exit %d\n%s\n%s", code, stdout, stderr)
	}
	counts := map[string]int{}
	for _, h := range s.hits() {
		counts[h.uri]++
	}
	for uri, n := range counts {
		// robots.txt and tdmrep.json may be read once in each run.
		if n > 1 && uri != "/robots.txt" && uri != "/.well-known/tdmrep.json" {
			t.Errorf("%s requested %d times", uri, n)
		}
	}
	if len(counts) < pages {
		t.Errorf("the two runs requested %d distinct URLs, want about %d", len(counts), pages+2)
	}
	auditDir := filepath.Join(out, "audit")
	if code, o, e := runCLI(t, "audit", "verify", auditDir); code != 0 {
		t.Fatalf("audit verify: exit %d\n%s\n%s", code, o, e)
	}
	bundle := filepath.Join(t.TempDir(), "bundle")
	if code, o, e := runCLI(t, "audit", "export", auditDir, "--site", s.hostport(), "-o", bundle, "--out", out, "--sign", key); code != 0 {
		t.Fatalf("audit export: exit %d\n%s\n%s", code, o, e)
	}
	if code, o, e := runCLI(t, "complaint", "add", "--site", s.hostport(), "--reason", "operator request",
		"--contact", "ops@site.example", "--out", out, "--audit-key", key); code != 0 {
		t.Fatalf("complaint add: exit %d\n%s\n%s", code, o, e)
	}
	if code, o, e := runCLI(t, "audit", "verify", auditDir); code != 0 {
		t.Fatalf("audit verify after the complaint: exit %d\n%s\n%s", code, o, e)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
