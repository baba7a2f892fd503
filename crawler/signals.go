package crawler

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"

	"github.com/goodbot/goodbot/internal/ahocorasick"
)

// This file reads a site's refusals: CAPTCHA and anti-bot challenge pages,
// and login walls. goodbot never works round them; it stops.

// challengeMarkers appear in the markup of CAPTCHA and anti-bot challenge
// pages (script URLs, widget class names, vendor cookies and page titles).
// They are specific enough to look for anywhere in the first bytes of a page.
var challengeMarkers = []string{
	"g-recaptcha", "google.com/recaptcha", "recaptcha/api.js", "grecaptcha.",
	"h-captcha", "hcaptcha.com/1/api.js", "js.hcaptcha.com",
	"challenges.cloudflare.com", "cf-challenge", "cf_chl_opt", "cf-turnstile",
	"<title>just a moment...</title>", "attention required! | cloudflare",
	"initgeetest", "geetest_", "static.geetest.com",
	"captcha-delivery.com", "px-captcha", "_incapsula_resource",
	"awswafintegration", "tencentcaptcha", "turing.captcha.qcloud.com", "captcha.qq.com",
	"necaptcha", "dun.163.com", "nc_iconfont", "aliyuncaptcha", "nocaptcha",
}

// challengeTitleWords mark a challenge page when they are in its <title>.
// In running text they are too common (a login form's "获取验证码" button), so
// they count only in the title, or on a short page with a form.
var challengeTitleWords = []string{"验证码", "滑动验证", "人机验证", "安全验证", "captcha", "are you a robot", "are you human", "bot verification", "security check"}

// loginTitleWords mark a login page when they are in its <title>.
var loginTitleWords = []string{"login", "log in", "sign in", "signin", "登录", "登陆", "用户登录", "統一認證", "统一认证"}

// The matchers are built once and never change.
var (
	challengeMatcher = ahocorasick.New(challengeMarkers)
	challengeWords   = ahocorasick.New(challengeTitleWords)
	formMatcher      = ahocorasick.New([]string{"<form", "<input"})
	passwordMatcher  = ahocorasick.New([]string{`type="password"`, `type='password'`, `type=password`})
)

// challengeTextMax is the most visible text, in bytes, of a page whose
// title marks it as a challenge.
const challengeTextMax = 2000

// sniffLimit is how much of a body the detectors read.
const sniffLimit = 64 << 10

// pageSignal classifies an HTML page: "challenge", "login" or "". Every
// match is ASCII case-insensitive; the page is read once for the markers,
// and again only if it has a form.
func pageSignal(body []byte) (kind, reason string) {
	if len(body) > sniffLimit {
		body = body[:sniffLimit]
	}
	if m, ok := challengeMatcher.First(body); ok {
		return "challenge", "anti-bot challenge marker " + strconvQuote([]byte(challengeMarkers[m.Pattern]))
	}
	title := strings.ToLower(htmlTitle(body))
	textLen := -1
	for _, w := range challengeTitleWords {
		if strings.Contains(title, w) {
			// A challenge page is short; an article about verification
			// codes ("警惕索要验证码的诈骗") is not.
			if textLen < 0 {
				textLen = visibleTextLen(body)
			}
			if textLen < challengeTextMax {
				return "challenge", "challenge page (" + w + ")"
			}
		}
	}
	if _, hasForm := formMatcher.First(body); !hasForm {
		return "", ""
	}
	if textLen < 0 {
		textLen = visibleTextLen(body)
	}
	if textLen < 600 {
		if m, ok := challengeWords.First(body); ok {
			return "challenge", "challenge page (" + challengeTitleWords[m.Pattern] + ")"
		}
	}
	if _, ok := passwordMatcher.First(body); ok {
		for _, w := range loginTitleWords {
			if strings.Contains(title, w) {
				return "login", "login form (title " + strconvQuote([]byte(title)) + ")"
			}
		}
		if textLen < 1500 {
			return "login", "password form where content was expected"
		}
	}
	return "", ""
}

func strconvQuote(b []byte) string { return `"` + string(b) + `"` }

// htmlTitle returns the text of the first <title> element of a page.
func htmlTitle(b []byte) string {
	i := indexFold(b, "<title")
	if i < 0 {
		return ""
	}
	j := bytes.IndexByte(b[i:], '>')
	if j < 0 {
		return ""
	}
	rest := b[i+j+1:]
	k := indexFold(rest, "</title")
	if k < 0 {
		return ""
	}
	return strings.TrimSpace(string(rest[:k]))
}

// indexFold is bytes.Index for a lower-case ASCII tag that starts with '<',
// ignoring ASCII case in b.
func indexFold(b []byte, tag string) int {
	for off := 0; ; {
		i := bytes.IndexByte(b[off:], '<')
		if i < 0 {
			return -1
		}
		i += off
		if len(b)-i >= len(tag) && bytes.EqualFold(b[i:i+len(tag)], []byte(tag)) {
			return i
		}
		off = i + 1
	}
}

// visibleTextLen estimates the bytes of visible text in a page: everything
// outside tags, scripts and styles, with white space not counted.
func visibleTextLen(low []byte) int {
	n := 0
	for i := 0; i < len(low); {
		c := low[i]
		if c == '<' {
			for _, skip := range []string{"script", "style"} {
				if len(low)-i-1 >= len(skip) && bytes.EqualFold(low[i+1:i+1+len(skip)], []byte(skip)) {
					end := indexFold(low[i+1:], "</"+skip)
					if end < 0 {
						return n
					}
					i += end + 1
					break
				}
			}
			j := bytes.IndexByte(low[i:], '>')
			if j < 0 {
				return n
			}
			i += j + 1
			continue
		}
		if c != ' ' && c != '\n' && c != '\t' && c != '\r' {
			n++
		}
		i++
	}
	return n
}

// loginPathWords mark a redirect target as a login page.
var loginPathWords = []string{"login", "signin", "sign-in", "sign_in", "logon", "log-in", "/auth/", "/sso", "/cas/", "/passport", "/oauth", "/account/login", "/accounts/login", "/session/new", "/users/sign_in"}

// isLoginURL reports whether u looks like a login page.
func isLoginURL(u *url.URL) bool {
	h := strings.ToLower(u.Hostname())
	for _, p := range []string{"login.", "passport.", "sso.", "signin.", "auth.", "account.", "accounts."} {
		if strings.HasPrefix(h, p) {
			return true
		}
	}
	p := strings.ToLower(u.EscapedPath()) + "/"
	for _, w := range loginPathWords {
		if strings.Contains(p, w) {
			return true
		}
	}
	return false
}

// wallPrefix is the path prefix that a login wall at u closes: the
// directory u is in.
func wallPrefix(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" || p == "/" {
		return "/"
	}
	if strings.HasSuffix(p, "/") {
		return p
	}
	d := path.Dir(p)
	if d == "/" || d == "." {
		return "/"
	}
	return d + "/"
}

// blocks remembers the refusals a crawl has met: sites that showed a
// challenge, and path prefixes behind a login wall. Safe for concurrent use.
type blocks struct {
	mu      sync.RWMutex
	sites   map[string]string            // site -> reason
	walls   map[string]map[string]string // site -> prefix -> reason
	refusal map[string]int               // site -> consecutive 401/403 answers
}

// refusalsToStop is how many 401/403 answers in a row, with no success in
// between, make goodbot stop a site: the site is refusing the crawler.
const refusalsToStop = 5

func newBlocks() *blocks {
	return &blocks{sites: map[string]string{}, walls: map[string]map[string]string{}, refusal: map[string]int{}}
}

// check returns why u on site is blocked, or "".
func (b *blocks) check(site string, u *url.URL) string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if r, ok := b.sites[site]; ok {
		return r
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	for prefix, r := range b.walls[site] {
		if strings.HasPrefix(p, prefix) {
			return r
		}
	}
	return ""
}

func (b *blocks) blockSite(site, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.sites[site]; !ok {
		b.sites[site] = reason
	}
}

func (b *blocks) blockPrefix(site, prefix, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.walls[site] == nil {
		b.walls[site] = map[string]string{}
	}
	b.walls[site][prefix] = reason
}

// answered counts refusals; it reports true when site has refused often
// enough in a row to be stopped. A site whose latest answer was not a
// refusal has no entry: most sites, in a crawl of many.
func (b *blocks) answered(site string, refused bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !refused {
		delete(b.refusal, site)
		return false
	}
	b.refusal[site]++
	return b.refusal[site] >= refusalsToStop
}

func (b *blocks) blockedSites() map[string]string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return maps.Clone(b.sites)
}

// paymentHeaders are the request headers with which a crawler agrees to
// pay for a page (pay per crawl). goodbot never pays: they are removed
// from every request, whoever set them.
var paymentHeaders = []string{"Crawler-Exact-Price", "Crawler-Max-Price"}

// paymentReason says why an answer is a demand for payment: a 402
// Payment Required, or a crawler-price header (pay per crawl), whose
// value, filtered and cut to 100 bytes, it quotes.
func paymentReason(resp *http.Response, filter func(string) string) string {
	why := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if resp.StatusCode != http.StatusPaymentRequired {
		why = "a crawler-price header on a " + why
	}
	if p := resp.Header.Get("Crawler-Price"); p != "" {
		p = filter(p)
		if len(p) > 100 {
			p = p[:100]
		}
		why += fmt.Sprintf(" (crawler-price %q)", p)
	}
	return "the site asks for payment: " + why
}
