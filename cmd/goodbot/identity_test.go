package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/audit"
)

func identitySite(t *testing.T) *testSite {
	return newSite(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<p>hello</p>")
	})
}

func crawlOnce(t *testing.T, s *testSite, out string, extra ...string) (int, string) {
	t.Helper()
	args := append([]string{"crawl", "--contact", "mailto:ops@example.org", "--traffic", s.hostport() + "=864000000",
		"--out", out, "--progress", "0"}, extra...)
	code, stdout, stderr := runCLI(t, append(args, s.srv.URL+"/")...)
	return code, stdout + stderr
}

// A log is named after the operator's contact, not the machine, and its
// key has the same name; the public key is printed at first use with how
// to pin it, and pinning it works (another key fails).
func TestLogIdentity(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // the default key's home
	s := identitySite(t)
	out := t.TempDir()
	code, msgs := crawlOnce(t, s, out)
	if code != 0 {
		t.Fatalf("crawl: exit %d\n%s", code, msgs)
	}
	dir := filepath.Join(out, "audit")
	origin, err := audit.LogOrigin(dir)
	if err != nil || origin != "example.org/goodbot" {
		t.Fatalf("origin %q (%v), want example.org/goodbot", origin, err)
	}
	host, _ := os.Hostname()
	sum, err := audit.Verify(context.Background(), dir, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The note's text, not its signature lines: a short host name ("vm")
	// turns up in base64 by chance.
	text, _, _ := strings.Cut(string(sum.Checkpoint.Note), "\n\n")
	if strings.Contains(text, host) && host != "" && !strings.Contains("example.org/goodbot", host) {
		t.Errorf("checkpoint names the machine %q:\n%s", host, sum.Checkpoint.Note)
	}
	vkey := sum.Keys[0]
	if audit.KeyName(vkey) != origin {
		t.Errorf("key %s is not named %s", vkey, origin)
	}
	if !strings.Contains(msgs, "its public key: "+vkey) || !strings.Contains(msgs, "goodbot audit verify --key "+vkey+" "+dir) {
		t.Errorf("first use does not print the public key and how to pin it:\n%s", msgs)
	}
	if code, o, e := runCLI(t, "audit", "verify", "--key", vkey, dir); code != 0 {
		t.Errorf("verify --key (the log's): exit %d %s %s", code, o, e)
	}
	other := filepath.Join(t.TempDir(), "other")
	ol, err := audit.Open(filepath.Join(t.TempDir(), "log"), audit.Options{KeyFile: other, Origin: origin, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	otherKey := ol.PublicKey()
	ol.Close()
	if code, _, e := runCLI(t, "audit", "verify", "--key", otherKey, dir); code != 1 || !strings.Contains(e, "none of the") {
		t.Errorf("verify --key (another key of the same name): exit %d %s", code, e)
	}

	// A second run keeps the name and the key, and says nothing new.
	if code, msgs := crawlOnce(t, s, out); code != 0 || strings.Contains(msgs, "new operation log") {
		t.Fatalf("second crawl: exit %d\n%s", code, msgs)
	}
	// Another output directory with the same contact: same name, same
	// default key.
	out2 := t.TempDir()
	if code, msgs := crawlOnce(t, s, out2); code != 0 || !strings.Contains(msgs, "its public key: "+vkey) {
		t.Fatalf("crawl into a second directory: exit %d\n%s", code, msgs)
	}
}

func TestLogOriginFlagAndKeyName(t *testing.T) {
	s := identitySite(t)
	keys := t.TempDir()
	out := t.TempDir()
	code, msgs := crawlOnce(t, s, out, "--origin", "crawls.example.net/research", "--audit-key", filepath.Join(keys, "k"))
	if code != 0 {
		t.Fatalf("crawl --origin: exit %d\n%s", code, msgs)
	}
	if o, _ := audit.LogOrigin(filepath.Join(out, "audit")); o != "crawls.example.net/research" {
		t.Errorf("origin %q", o)
	}
	// That key is named crawls.example.net/research: a new log of
	// another name is refused, and an existing log cannot be renamed.
	if code, msgs := crawlOnce(t, s, t.TempDir(), "--audit-key", filepath.Join(keys, "k")); code != 2 || !strings.Contains(msgs, "must be the same name") {
		t.Errorf("new log with a key of another name: exit %d\n%s", code, msgs)
	}
	if code, msgs := crawlOnce(t, s, out, "--origin", "other.example/x", "--audit-key", filepath.Join(keys, "k")); code != 2 || !strings.Contains(msgs, "keeps its name") {
		t.Errorf("renaming a log: exit %d\n%s", code, msgs)
	}
	if code, msgs := crawlOnce(t, s, t.TempDir(), "--origin", "has space", "--audit-key", filepath.Join(keys, "k2")); code != 2 {
		t.Errorf("--origin with a space: exit %d\n%s", code, msgs)
	}
}

// A log written by an earlier version, named after the machine and the
// worker, goes on under its own name and still verifies.
func TestOldLogKeepsItsName(t *testing.T) {
	s := identitySite(t)
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "audit-signing.key")
	old := "goodbot/build-host-7/0a1b2c3d"
	l, err := audit.Open(filepath.Join(out, "audit"), audit.Options{KeyFile: key, Origin: old, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if code, msgs := crawlOnce(t, s, out, "--audit-key", key); code != 0 {
		t.Fatalf("crawl on an old log: exit %d\n%s", code, msgs)
	}
	if o, _ := audit.LogOrigin(filepath.Join(out, "audit")); o != old {
		t.Errorf("origin %q, want %q", o, old)
	}
	if code, o, e := runCLI(t, "audit", "verify", filepath.Join(out, "audit")); code != 0 {
		t.Errorf("verify: exit %d %s %s", code, o, e)
	}
}

func TestDefaultOrigin(t *testing.T) {
	for _, tc := range []struct{ contact, job, worker, want string }{
		{"mailto:ops@Example.org", "", "w", "example.org/goodbot"},
		{"https://crawl.example.com/about", "", "w", "crawl.example.com/goodbot"},
		{"mailto:ops@example.org", "news", "0a1b", "example.org/goodbot/news/0a1b"},
	} {
		if got := defaultOrigin(tc.contact, tc.job, tc.worker); got != tc.want {
			t.Errorf("defaultOrigin(%q, %q, %q) = %q, want %q", tc.contact, tc.job, tc.worker, got, tc.want)
		}
	}
}
