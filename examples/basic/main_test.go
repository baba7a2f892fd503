package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The example runs against the demo site and obeys its rules.
func TestExample(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), "mailto:demo@example.org", "", &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"Polite crawling",                     // a page's title, from an OnHTML callback
		`disallowed by "disallow: /private/"`, // robots.txt, reported to OnError
		"redirect to a login page",            // a login wall
		"done: ",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
