// Package operatortest drives the operator page (package operator) from
// tests as a browser would: it keeps cookies, sends each form with the CSRF
// token of the page it came from, and does not follow redirects, so that
// tests see them.
package operatortest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Patterns of what the pages show.
var (
	CSRFRe    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	ReceiptRe = regexp.MustCompile(`id="receipt">([a-z2-7]{26})<`)
	TokenRe   = regexp.MustCompile(`id="token">(goodbot-proof-[a-z2-7]{26})<`)
)

// Client is a browser-like client of one operator page.
type Client struct {
	t    testing.TB
	base string
	c    *http.Client
}

// NewClient returns a client of the page at base (scheme://host:port).
func NewClient(t testing.TB, base string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, base: base, c: &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Response is an answer of the page.
type Response struct {
	Code   int
	Header http.Header
	Body   string
}

func (c *Client) do(req *http.Request) Response {
	c.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return Response{resp.StatusCode, resp.Header, string(b)}
}

// Get loads path.
func (c *Client) Get(path string) Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// CSRF loads page and returns the CSRF token of its form.
func (c *Client) CSRF(page string) string {
	c.t.Helper()
	r := c.Get(page)
	m := CSRFRe.FindStringSubmatch(r.Body)
	if m == nil {
		c.t.Fatalf("no form on %s (%d):\n%s", page, r.Code, r.Body)
	}
	return m[1]
}

// PostRaw posts body as it is, with the given content type and headers.
func (c *Client) PostRaw(path, contentType, body string, hdr http.Header) Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range hdr {
		req.Header[k] = v
	}
	return c.do(req)
}

// Post sends form v to path, as the form on page formPage would: with
// that page's CSRF token, unless v sets "csrf" itself (formPage "").
func (c *Client) Post(path, formPage string, v url.Values) Response {
	c.t.Helper()
	if formPage != "" {
		v.Set("csrf", c.CSRF(formPage))
	}
	return c.PostRaw(path, "application/x-www-form-urlencoded", v.Encode(), nil)
}

// Complain sends the complaint form and returns the receipt and the proof
// token of the answer, failing the test unless it is 201 Created.
func (c *Client) Complain(site, email, msg string) (receipt, token string) {
	c.t.Helper()
	r := c.Post("/complaints", "/", url.Values{"site": {site}, "email": {email}, "message": {msg}})
	rm, tm := ReceiptRe.FindStringSubmatch(r.Body), TokenRe.FindStringSubmatch(r.Body)
	if r.Code != http.StatusCreated || rm == nil || tm == nil {
		c.t.Fatalf("complaint about %s: %d\n%s", site, r.Code, r.Body)
	}
	return rm[1], tm[1]
}
