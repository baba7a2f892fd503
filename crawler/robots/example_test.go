package robots_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/goodbot/goodbot/crawler/robots"
)

func ExampleParse() {
	f := robots.Parse([]byte(`User-agent: *
Disallow: /

User-agent: Goodbot/2.1
Disallow: /private
Allow: /private/press
Crawl-delay: 10s
Request-rate: 1/5s
`))
	g := f.Group("goodbot")
	for _, p := range []string{"/index.html", "/private/x", "/private/press/2026", "/robots.txt"} {
		r := g.Test(p)
		fmt.Println(p, r.Allowed, r.Rule)
	}
	fmt.Println("delay:", g.Delay())
	for _, w := range f.Warnings {
		fmt.Println(w)
	}
	// Output:
	// /index.html true <nil>
	// /private/x false disallow: /private
	// /private/press/2026 true allow: /private/press
	// /robots.txt true <nil>
	// delay: 5s
	// line 7: crawl-delay "10s": want non-negative decimal seconds: "Crawl-delay: 10s"
}

func ExampleCache() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			fmt.Fprint(w, "User-agent: goodbot\nDisallow: /private\n")
		}
	}))
	defer srv.Close()

	c := robots.NewCache(nil, robots.Options{
		ProductToken: "goodbot",
		Header:       http.Header{"User-Agent": {"goodbot/0.1 (+mailto:crawler@example.org)"}},
		OnFetch: func(ctx context.Context, f robots.Fetched) {
			fmt.Println("fetched robots.txt:", f.Status, f.Policy)
		},
	})
	for _, p := range []string{"/private/a", "/public"} {
		u, _ := url.Parse(srv.URL + p)
		v, err := c.Check(context.Background(), u)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(p, v.Allowed, v.Reason)
	}
	// Output:
	// fetched robots.txt: 200 parsed
	// /private/a false disallowed by "disallow: /private" (line 2)
	// /public true no robots.txt rule matches: allowed
}
