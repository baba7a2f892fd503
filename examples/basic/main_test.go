package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/audit"
)

// The example runs against the demo site and obeys its rules.
func TestExample(t *testing.T) {
	// The signing key goes to the user's configuration directory.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	auditDir := filepath.Join(t.TempDir(), "audit")
	var out bytes.Buffer
	if err := run(context.Background(), "mailto:demo@example.org", auditDir, "", &out); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(context.Background(), auditDir, audit.VerifyOptions{}); err != nil {
		t.Errorf("the example's operation log: %v", err)
	}
	s := out.String()
	for _, want := range []string{
		"Polite crawling",                     // a page's title, from an OnHTML callback
		`disallowed by "disallow: /private/"`, // robots.txt, reported to OnError
		"redirect to a login page",            // a login wall
		"done: ",
		"operation log in " + auditDir,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
