package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// The README's first command: goodbot demo crawls the built-in site with
// the defaults and obeys its robots.txt, login wall and 429.
func TestDemo(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "demo", "--out", out, "--audit-key", filepath.Join(t.TempDir(), "key"), "--progress", "0")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"done after", "8 pages stored", "× /articles/polite-crawling", "2 × /busy", "1 × /forbidden"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, never := range []string{"/private/", "/login"} {
		if strings.Contains(stdout, "× "+never) {
			t.Errorf("the demo crawl requested %s:\n%s", never, stdout)
		}
	}
	code, vout, verr := runCLI(t, "audit", "verify", filepath.Join(out, "audit"))
	if code != 0 {
		t.Fatalf("audit verify: exit %d: %s %s", code, vout, verr)
	}
}
