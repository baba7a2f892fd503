package crawler

import (
	"bytes"
	"net/url"
	"path"
	"strings"
	"sync"
)

// This file reads a site's refusals: CAPTCHA and anti-bot challenge pages,
// and login walls. goodbot never works round them; it stops.

// challengeMarkers appear in the markup of CAPTCHA and anti-bot challenge
// pages (script URLs, widget class names, vendor cookies and page titles).
// They are specific enough to look for anywhere in the first bytes of a page.
var challengeMarkers = [][]byte{
	[]byte("g-recaptcha"), []byte("google.com/recaptcha"), []byte("recaptcha/api.js"), []byte("grecaptcha."),
	[]byte("h-captcha"), []byte("hcaptcha.com/1/api.js"), []byte("js.hcaptcha.com"),
	[]byte("challenges.cloudflare.com"), []byte("cf-challenge"), []byte("cf_chl_opt"), []byte("cf-turnstile"),
	[]byte("<title>just a moment...</title>"), []byte("attention required! | cloudflare"),
	[]byte("initgeetest"), []byte("geetest_"), []byte("static.geetest.com"),
	[]byte("captcha-delivery.com"), []byte("px-captcha"), []byte("_incapsula_resource"),
	[]byte("awswafintegration"), []byte("tencentcaptcha"), []byte("turing.captcha.qcloud.com"), []byte("captcha.qq.com"),
	[]byte("necaptcha"), []byte("dun.163.com"), []byte("nc_iconfont"), []byte("aliyuncaptcha"), []byte("nocaptcha"),
}

// challengeTitleWords mark a challenge page when they are in its <title>.
// In running text they are too common (a login form's "获取验证码" button), so
// they count only in the title, or on a short page with a form.
var challengeTitleWords = []string{"验证码", "滑动验证", "人机验证", "安全验证", "captcha", "are you a robot", "are you human", "bot verification", "security check"}

// loginTitleWords mark a login page when they are in its <title>.
var loginTitleWords = []string{"login", "log in", "sign in", "signin", "登录", "登陆", "用户登录", "統一認證", "统一认证"}

// sniffLimit is how much of a body the detectors read.
const sniffLimit = 64 << 10

// pageSignal classifies an HTML page: "challenge", "login" or "".
func pageSignal(body []byte) (kind, reason string) {
	if len(body) > sniffLimit {
		body = body[:sniffLimit]
	}
	low := bytes.ToLower(body)
	for _, m := range challengeMarkers {
		if bytes.Contains(low, m) {
			return "challenge", "anti-bot challenge marker " + strconvQuote(m)
		}
	}
	title := strings.ToLower(htmlTitle(low))
	textLen := visibleTextLen(low)
	hasForm := bytes.Contains(low, []byte("<form")) || bytes.Contains(low, []byte("<input"))
	for _, w := range challengeTitleWords {
		if strings.Contains(title, w) || (hasForm && textLen < 600 && bytes.Contains(low, []byte(w))) {
			return "challenge", "challenge page (" + w + ")"
		}
	}
	if hasPasswordInput(low) {
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

func hasPasswordInput(low []byte) bool {
	for _, m := range [][]byte{[]byte(`type="password"`), []byte(`type='password'`), []byte(`type=password`)} {
		if bytes.Contains(low, m) {
			return true
		}
	}
	return false
}

// htmlTitle returns the text of the first <title> element of a lower-cased page.
func htmlTitle(low []byte) string {
	i := bytes.Index(low, []byte("<title"))
	if i < 0 {
		return ""
	}
	j := bytes.IndexByte(low[i:], '>')
	if j < 0 {
		return ""
	}
	rest := low[i+j+1:]
	k := bytes.Index(rest, []byte("</title"))
	if k < 0 {
		return ""
	}
	return strings.TrimSpace(string(rest[:k]))
}

// visibleTextLen estimates the bytes of visible text in a lower-cased page:
// everything outside tags, scripts and styles, with white space not counted.
func visibleTextLen(low []byte) int {
	n := 0
	for i := 0; i < len(low); {
		c := low[i]
		if c == '<' {
			for _, skip := range []string{"script", "style"} {
				if bytes.HasPrefix(low[i+1:], []byte(skip)) {
					end := bytes.Index(low[i:], []byte("</"+skip))
					if end < 0 {
						return n
					}
					i += end
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
// enough in a row to be stopped.
func (b *blocks) answered(site string, refused bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !refused {
		b.refusal[site] = 0
		return false
	}
	b.refusal[site]++
	return b.refusal[site] >= refusalsToStop
}

func (b *blocks) blockedSites() map[string]string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make(map[string]string, len(b.sites))
	for k, v := range b.sites {
		out[k] = v
	}
	return out
}
