package crawler

import (
	"errors"
	"testing"

	"github.com/gocolly/colly/v2"
)

// sentURL returns the URL colly builds for r when it is sent, as its
// OnRequest callbacks see it, without sending it.
func sentURL(t testing.TB, got *string, r *colly.Request) (string, error) {
	t.Helper()
	*got = ""
	err := r.Do()
	return *got, err
}

// newCollyRequest makes the request colly's Request.New makes: colly
// sends both to the same URL, with the same method and body.
func FuzzNewCollyRequest(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:8080/p/1",
		"https://example.org/a/b?x=1&y=2",
		"http://example.org/a%2Fb?q=%E4%B8%AD",
		"http://example.org/a b?q=x y",
		"http://example.org/%zz",
		"http://example.org/a/../b/./c",
		"http://EXAMPLE.org/\u4e2d\u6587?\u4e2d=\u6587",
		"http://xn--fiq228c.example/",
		"http://example.org/a\\b",
		"http://example.org:80/",
		"http://example.org/?a=%",
		"http://[::1]:8080/x",
		"http://example.org/p;x=1",
		"http://example.org/\t/x",
	} {
		f.Add(s)
	}
	c := colly.NewCollector()
	c.AllowURLRevisit = true
	var got string
	c.OnRequest(func(r *colly.Request) {
		got = r.Method + " " + r.URL.String()
		r.Abort()
	})
	tmpl, err := c.UnmarshalRequest([]byte(`{"URL":"http://template.invalid/","Method":"GET"}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		want, err := tmpl.New("GET", raw, nil)
		if err != nil {
			return // colly refuses it; so does newCollyRequest or Do
		}
		want.Ctx = colly.NewContext()
		r, err := newCollyRequest(tmpl, "GET", raw, nil)
		if err != nil {
			t.Fatalf("newCollyRequest(%q): %v; Request.New took it", raw, err)
		}
		r.Ctx = colly.NewContext()
		w, werr := sentURL(t, &got, want)
		g, gerr := sentURL(t, &got, r)
		if (werr == nil) != (gerr == nil) || w != g {
			t.Fatalf("%q: colly sends %q (err %v) for Request.New, %q (err %v) for newCollyRequest", raw, w, werr, g, gerr)
		}
		if werr == nil && w == "" {
			t.Fatalf("%q: colly's OnRequest never saw the request", raw)
		}
		if werr != nil && !errors.Is(gerr, werr) && werr.Error() != gerr.Error() {
			t.Fatalf("%q: errors differ: %v, %v", raw, werr, gerr)
		}
	})
}
