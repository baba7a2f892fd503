package crawler

import (
	"context"
	"net/url"
	"strings"

	"github.com/gocolly/colly/v2"
	whatwg "github.com/nlnwa/whatwg-url/url"

	"github.com/goodbot/goodbot/crawler/frontier"
)

// This file follows a page's links for Config.FollowLinks: the page is
// read once (scanLinks, linkscan.go), and each link goes straight to the
// frontier, with the rules a link queued by e.Request.Visit gets, but
// without colly building (and goodbot then aborting) a request for it.

// maxLinks bounds the links followed from one page.
const maxLinks = 100_000

// linkResolver resolves the href of a link against its page's base URL,
// as a browser (and colly's e.Request.AbsoluteURL) does, by the WHATWG URL
// standard. Most hrefs on most sites are plain relative references
// ("/p/2", "item?id=3", "../a"), for which net/url gives the same URL once
// NormalizeURL has put it in the crawler's form (FuzzResolveHref checks
// this); only the others pay for the WHATWG parser.
type linkResolver struct {
	whatwg whatwg.Parser
}

func newLinkResolver() linkResolver {
	// colly's own parser settings: a lone "%" is encoded as "%25".
	return linkResolver{whatwg: whatwg.NewParser(whatwg.WithPercentEncodeSinglePercentSign())}
}

// resolve returns href resolved against base, or "" if it is not a URL
// (colly's AbsoluteURL gives "" for a fragment-only href, too). base must
// be an absolute http or https URL.
func (lr linkResolver) resolve(base *url.URL, href string) string {
	href = strings.Trim(href, asciiSpace)
	if strings.HasPrefix(href, "#") {
		return ""
	}
	if plainRelative(href) {
		if u, err := base.Parse(href); err == nil {
			return u.String()
		}
	}
	u, err := lr.whatwg.ParseRef(base.String(), href)
	if err != nil {
		return ""
	}
	return u.Href(false)
}

// asciiSpace is the white space the URL standard strips around a URL
// (C0 controls and space; the ones a page's markup has are these).
const asciiSpace = "\t\n\f\r "

// plainRelative reports whether href is a relative reference that net/url
// resolves as the WHATWG parser does: a path-absolute ("/a") or
// path-relative ("a/b", "../c") reference, or a query, made only of
// printable ASCII that neither parser encodes differently. Anything with a
// scheme, an authority ("//host"), a backslash, a control or non-ASCII
// byte, a space, a percent sign or an empty path segment takes the WHATWG
// path.
func plainRelative(href string) bool {
	if strings.Contains(href, "//") {
		// An authority, or an empty segment that net/url's dot
		// removal drops and the WHATWG parser keeps.
		return false
	}
	for i := 0; i < len(href); i++ {
		c := href[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~/?=&+,;!*()@$", c) >= 0:
		case c == ':':
			// "mailto:x", "javascript:x", "http:x": a colon before the
			// first "/" or "?" makes a scheme.
			if j := strings.IndexAny(href, "/?"); j < 0 || j > i {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// htmlLink is a link as a page has it: the href of an <a> or <area>
// element, and its rel.
type htmlLink struct{ href, rel string }

// documentBase returns the URL a page's links resolve against: its first
// <base href> (see scanLinks) resolved against the page's URL, or the
// page's URL.
func (lr linkResolver) documentBase(page *url.URL, base string, hasBase bool) *url.URL {
	if hasBase {
		if b, err := url.Parse(lr.resolve(page, base)); err == nil && b.Scheme != "" && b.Host != "" {
			return b
		}
	}
	return page
}

// pageLinks calls f with each link of an HTML page (see scanLinks),
// resolved against the document's base URL.
func (lr linkResolver) pageLinks(page *url.URL, body []byte, f func(string)) {
	links, b, hasBase := scanLinks(body, nil)
	base := lr.documentBase(page, b, hasBase)
	for _, l := range links {
		if abs := lr.resolve(base, l.href); abs != "" {
			f(abs)
		}
	}
}

// followLinks queues the links of a fetched HTML page (Config.FollowLinks)
// as e.Request.Visit would: at the page's depth plus one, with the page's
// colly.Context for their requests, and through every rule enqueue
// applies (scope, URL rules, the page's nofollow, the denylist, a link
// that carried personal data). body is the page as the filter left it.
func (cr *Crawler) followLinks(ctx context.Context, r *request, resp *colly.Response, body []byte) {
	if resp == nil || resp.Request == nil || resp.Request.URL == nil || resp.Headers == nil || !looksHTML(resp.Headers.Get("Content-Type"), body) {
		return
	}
	tmpl := frontier.Item{From: r.item.Site, Depth: r.item.Depth + 1}
	cr.gate.links.pageLinks(resp.Request.URL, body, func(link string) {
		// A refusal is recorded by enqueue, and a frontier that fails is
		// logged there; neither stops the page's other links.
		cr.enqueue(ctx, link, tmpl, r.ctx)
	})
}
