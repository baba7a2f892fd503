package main

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/goodbot/goodbot/internal/demosite"
)

// runDemo serves the built-in demo site on 127.0.0.1 and crawls it with
// "goodbot crawl" and its defaults, so that goodbot can be tried without
// Internet access. Extra arguments are passed to crawl.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s, err := demosite.Start()
	if err != nil {
		fmt.Fprintf(stderr, "goodbot demo: %v\n", err)
		return 1
	}
	defer s.Close()
	fmt.Fprintf(stderr, "goodbot demo: serving the demo site at %s\n", s.URL)
	// The demo site's operator (us) states its traffic, as a real operator
	// would in an agreement: 8,640,000 requests a day, so the default share
	// of 0.1 gives goodbot 10 requests a second. Without it goodbot would
	// assume an obscure site and send 2 requests a day.
	crawlArgs := append([]string{
		"--contact", "mailto:demo@example.org",
		"--traffic", s.Host() + "=8640000",
	}, args...)
	crawlArgs = append(crawlArgs, s.URL+"/")
	code := runCrawl(ctx, crawlArgs, stdout, stderr)
	if code == 2 {
		return code // a bad flag: nothing was crawled
	}
	hits := s.Hits()
	paths := make([]string, 0, len(hits))
	for p := range hits {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	fmt.Fprintln(stdout, "goodbot demo: what the site was asked for:")
	for _, p := range paths {
		fmt.Fprintf(stdout, "  %3d × %s\n", hits[p], p)
	}
	fmt.Fprintln(stdout, "goodbot demo: /private/ (robots.txt), /login (login wall) and the other site were never requested.")
	return code
}
