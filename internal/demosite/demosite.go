// Package demosite serves a small web site on a loopback address, so that
// goodbot can be tried, and its examples run, on a machine without Internet
// access. The site has what a polite crawler must handle: a robots.txt with
// a disallowed directory and a Crawl-delay, a page behind a login, a
// forbidden page, a page that answers 429 once, and pages carrying personal
// data that must not be stored.
package demosite

import (
	"context"
	"errors"
	"fmt"
	"html"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Site is a running demo site.
type Site struct {
	URL string // e.g. "http://127.0.0.1:41234"
	srv *http.Server

	mu    sync.Mutex
	hits  map[string]int
	slows int
}

// Start serves the demo site on 127.0.0.1 at a free port until Close.
func Start() (*Site, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demosite: %w", err)
	}
	s := &Site{URL: "http://" + l.Addr().String(), hits: map[string]int{}}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err) // a loopback listener we own failed: nothing sensible to do
		}
	}()
	return s, nil
}

// Close stops the site.
func (s *Site) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// Hits returns how often each path was requested.
func (s *Site) Hits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.hits)
}

// Host returns the site's host:port.
func (s *Site) Host() string { return strings.TrimPrefix(s.URL, "http://") }

// Robots is the demo site's robots.txt.
const Robots = `# robots.txt of the goodbot demo site
User-agent: *
Disallow: /private/
Crawl-delay: 0.1

User-agent: BadBot
Disallow: /
`

var articles = []struct{ slug, title, body string }{
	{"polite-crawling", "Polite crawling", "A polite crawler identifies itself, reads robots.txt and keeps its load far below what the site serves to people."},
	{"robots-txt", "robots.txt in practice", "RFC 9309 says the longest matching rule wins and Allow wins a tie. Percent-encoding is compared after normalisation."},
	{"safe-harbor", "One third of daily traffic", "Article 16 of the 2019 draft measures names automated access above one third of a site's average daily traffic as hindering the site."},
	{"contact", "联系我们", "如有合作意向，请联系人：王小明，手机：13912345678，邮箱 wang.xiaoming@example.cn。地址：北京市海淀区中关村大街27号1101室。"},
	{"order-numbers", "Order numbers are not IDs", "Order 110105194912310021 has a bad check character, so it is not a resident ID; ISBN 978-7-111-54493-7 is a book."},
	{"team", "Our team", "Write to alice@example.org or call +86 139 1234 5678. Card on file: 6222 0212 3456 7890 128 (test data)."},
}

// ServeHTTP implements http.Handler.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.mu.Unlock()
	switch p := r.URL.Path; {
	case p == "/robots.txt":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, Robots)
	case p == "/":
		var b strings.Builder
		b.WriteString("<h1>goodbot demo site</h1><ul>")
		for _, a := range articles {
			fmt.Fprintf(&b, `<li><a href="/articles/%s">%s</a></li>`, a.slug, html.EscapeString(a.title))
		}
		b.WriteString(`</ul><p><a href="/private/salaries">Salaries (disallowed by robots.txt)</a>
<a href="/members/">Members (login required)</a> <a href="/forbidden">Forbidden</a> <a href="/busy">Busy</a>
<a href="https://elsewhere.example/">another site (out of scope)</a></p>`)
		page(w, "goodbot demo site", b.String())
	case strings.HasPrefix(p, "/articles/"):
		for _, a := range articles {
			if p == "/articles/"+a.slug {
				page(w, a.title, fmt.Sprintf("<h1>%s</h1><p>%s</p><p><a href=\"/\">home</a></p>", html.EscapeString(a.title), html.EscapeString(a.body)))
				return
			}
		}
		http.NotFound(w, r)
	case strings.HasPrefix(p, "/private/"):
		page(w, "Private", "<p>A crawler that obeys robots.txt never sees this.</p>")
	case strings.HasPrefix(p, "/members"):
		http.Redirect(w, r, "/login?next="+p, http.StatusFound)
	case p == "/login":
		page(w, "Log in", `<form method="post"><input name="user"><input type="password" name="pw"></form>`)
	case p == "/forbidden":
		http.Error(w, "forbidden", http.StatusForbidden)
	case p == "/busy":
		s.mu.Lock()
		s.slows++
		n := s.slows
		s.mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many requests", http.StatusTooManyRequests)
			return
		}
		page(w, "Busy", "<p>Thanks for waiting.</p>")
	default:
		http.NotFound(w, r)
	}
}

func page(w http.ResponseWriter, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title></head><body>%s</body></html>", html.EscapeString(title), body)
}
