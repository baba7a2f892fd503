package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad flag values are refused with exit 2 and a message naming the flag,
// before anything is sent: none reaches the loopback site.
func TestCrawlRefusesBadValues(t *testing.T) {
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<p>page</p>") })
	seed := s.srv.URL + "/"
	host := s.hostport()
	for _, tc := range []struct {
		flags []string
		want  string // in the message: the flag, and what is wrong
	}{
		{[]string{"--max-body", "0"}, "--max-body 0: want a positive number of bytes"},
		{[]string{"--max-body", "-1"}, "--max-body -1: want a positive"},
		{[]string{"--max-body", "1073741825"}, "--max-body 1073741825: want a positive number of bytes, at most 1073741824"},
		{[]string{"--timeout", "0"}, "--timeout 0s: want a duration above 0"},
		{[]string{"--timeout", "-1s"}, "--timeout -1s: want a duration above 0"},
		{[]string{"--lease-ttl", "0"}, "--lease-ttl 0s: want a duration"},
		{[]string{"--lease-ttl", "-5s"}, "--lease-ttl -5s: want a duration"},
		{[]string{"--lease-ttl", "1us"}, "--lease-ttl 1µs: want a duration of at least 1ms"},
		{[]string{"--progress", "-1s"}, "--progress -1s: must not be negative"},
		{[]string{"--max-site-share", "NaN"}, "--max-site-share NaN: want a share"},
		{[]string{"--max-site-share", "Inf"}, "--max-site-share +Inf: want a share"},
		{[]string{"--max-site-share", "-0.5"}, "--max-site-share -0.5: want a share"},
		{[]string{"--max-site-share", "1.5"}, "--max-site-share 1.5: want a share"},
		{[]string{"--share", "NaN"}, "--share: limiter: share NaN must be above 0"},
		{[]string{"--share", "0"}, "--share: limiter: share 0 must be above 0"},
		{[]string{"--share", "-Inf"}, "--share: limiter: share -Inf"},
		{[]string{"--parallel", "0"}, "--parallel 0: want 1 to 64"},
		{[]string{"--max-pages", "-1"}, "--max-pages -1: must not be negative"},
		{[]string{"--max-depth", "-2"}, "--max-depth -2: must not be negative"},
		{[]string{"--max-pages-per-site", "-3"}, "--max-pages-per-site -3: must not be negative"},
		{[]string{"--traffic", host + "=NaN"}, "--traffic \"" + host + "=NaN\""},
		{[]string{"--agreement", host + "=NaN,ref 1"}, "--agreement \"" + host + "=NaN,ref 1\""},
		{[]string{"--agreement", host + "=-5,ref 1"}, "must be a positive number"},
		// Seeds with ports no TCP connection can use.
		{[]string{"http://127.0.0.1:0/"}, `URL "http://127.0.0.1:0/": port 0 is not a TCP port`},
		{[]string{"http://127.0.0.1:65536/"}, `URL "http://127.0.0.1:65536/": port 65536 is not a TCP port`},
		{[]string{"http://127.0.0.1:99999/"}, `URL "http://127.0.0.1:99999/": port 99999 is not a TCP port`},
		{[]string{"http://127.0.0.1:http/"}, `invalid port ":http"`},
		// A bad value after the seed is read as a flag too.
		{[]string{seed, "--max-body", "0"}, "--max-body 0:"},
	} {
		args := append([]string{"crawl", "--contact", "mailto:me@example.org", "--traffic", host + "=864000000",
			"--out", t.TempDir(), "--audit-key", filepath.Join(t.TempDir(), "key"), "--progress", "0"}, tc.flags...)
		if !strings.HasPrefix(tc.flags[0], "http") {
			args = append(args, seed)
		}
		code, _, stderr := runCLI(t, args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("goodbot crawl %q: exit %d, stderr %q; want exit 2 and %q", tc.flags, code, stderr, tc.want)
		}
	}
	if h := s.hits(); len(h) != 0 {
		t.Errorf("requests reached the site: %+v", h)
	}
}

// Flags may follow the seeds, as with most commands; "--" ends the flags.
func TestCrawlFlagsAfterSeeds(t *testing.T) {
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<p>page</p>") })
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "crawl", "--contact", "mailto:me@example.org", s.srv.URL+"/",
		"--out", out, "--traffic", s.hostport()+"=864000000", "--audit-key", filepath.Join(t.TempDir(), "key"), "--progress", "0")
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if s.count("/") != 1 {
		t.Errorf("requests %+v, want / once", s.hits())
	}
	if _, err := os.Stat(filepath.Join(out, "audit")); err != nil {
		t.Errorf("--out after the seed was not applied: %v", err)
	}
	// After "--", "--out" is a seed, and not an absolute URL.
	code, _, stderr = runCLI(t, "crawl", "--contact", "mailto:me@example.org", "--", s.srv.URL+"/", "--out")
	if code != 2 || !strings.Contains(stderr, `URL "--out" is not absolute`) {
		t.Errorf("after --: exit %d, stderr %q; want exit 2 and --out read as a URL", code, stderr)
	}
	if s.count("/") != 1 {
		t.Errorf("requests %+v after a refused command line", s.hits())
	}
}

// The other subcommands refuse bad values and stray arguments too.
func TestSubcommandsRefuseBadValues(t *testing.T) {
	out := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"complaint", "add", "--site", "example.org", "--reason", "r", "--out", out, "--wait", "0"}, "--wait 0s: want a duration above 0"},
		{[]string{"complaint", "add", "--site", "example.org", "--reason", "r", "--out", out, "--wait", "-1s"}, "--wait -1s"},
		{[]string{"complaint", "add", "example.org", "--reason", "r", "--out", out}, `want no argument besides the flags, got ["example.org"]`},
		{[]string{"complaint", "list", "--out", out, "extra"}, `got ["extra"]`},
		{[]string{"complaint", "resolve", "--out", out}, "want the complaint ID"},
		{[]string{"complaint", "resolve", "a", "--out", out, "b"}, `want the complaint ID, got ["a" "b"]`},
		{[]string{"job", "status", "--redis", "redis://127.0.0.1:1", "--job", "j", "extra"}, `got ["extra"]`},
		{[]string{"job", "status", "--redis", "redis://u:s3cret@127.0.0.1:1?colour=blue", "--job", "j"}, `bad Redis URL "redis://u:xxxxx@127.0.0.1:1?colour=blue": redis: unexpected option: colour`},
		{[]string{"job", "status", "--redis", "http://127.0.0.1:1", "--job", "j"}, `scheme "http"`},
		{[]string{"complaint", "list", "--redis", "redis+sentinel://127.0.0.1:1", "--job", "j"}, "needs ?master_name=NAME"},
		{[]string{"audit", "prune", "--key-file", filepath.Join(out, "k"), "--retention", "0", out}, "--retention 0s: want at least"},
		{[]string{"audit", "prune", "--key-file", filepath.Join(out, "k"), "--retention", "-1h", out}, "--retention -1h0m0s: want at least"},
		{[]string{"pii", "scan", "--min-score", "NaN", "f"}, "--min-score NaN: want a score"},
		{[]string{"pii", "scan", "--min-score", "0", "f"}, "--min-score 0: want a score"},
		{[]string{"pii", "scan", "f", "--min-score", "1.5"}, "--min-score 1.5: want a score"},
		{[]string{"demo", "--max-body", "0"}, "--max-body 0:"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("goodbot %q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
		if strings.Contains(stdout, "what the site was asked for") {
			t.Errorf("goodbot %q: stdout %q reports a crawl", tc.args, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "audit")); err == nil {
		t.Error("a refused complaint command opened the operation log")
	}
}
