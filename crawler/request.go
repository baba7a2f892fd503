package crawler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/internal/site"
)

// MaxRequestBody is the largest request body Post, PostRaw, PostMultipart
// and Request send, and that a callback's e.Request.Post may queue.
const MaxRequestBody = 1 << 20

// formType is the content type of a form posted with Post.
const formType = "application/x-www-form-urlencoded"

// Post sends a POST request with data as a form
// (application/x-www-form-urlencoded), as colly's Collector.Post: outside
// a crawl it crawls the answer and the links its callbacks follow before
// it returns, as Visit does; during a crawl it queues the request (see
// Visit). The request passes the gate with the same checks, robots.txt
// included, and the same operation-log entries as a GET; its body is not
// logged, only its length and digest. A form that looks like a login (a
// password field, or a login URL) is refused: goodbot does not log in.
func (cr *Crawler) Post(rawURL string, data map[string]string) error {
	return cr.Request(http.MethodPost, rawURL, strings.NewReader(encodeForm(data)), nil, http.Header{"Content-Type": {formType}})
}

// PostRaw sends a POST request with body as it is, as colly's
// Collector.PostRaw; see Post. The Content-Type is that of a form, as
// colly sends it; use Request to send another.
func (cr *Crawler) PostRaw(rawURL string, body []byte) error {
	return cr.Request(http.MethodPost, rawURL, bytes.NewReader(body), nil, nil)
}

// PostMultipart sends a POST request with parts as a multipart/form-data
// body, one field per part, as colly's Collector.PostMultipart; see Post.
// The body is standard multipart (RFC 7578) with a boundary derived from
// the parts, so that posting the same parts twice is one request to the
// frontier.
func (cr *Crawler) PostMultipart(rawURL string, parts map[string][]byte) error {
	body, ctype, err := encodeMultipart(parts)
	if err != nil {
		return err
	}
	return cr.Request(http.MethodPost, rawURL, bytes.NewReader(body), nil, http.Header{"Content-Type": {ctype}})
}

// Request sends a request with the given method and body, as colly's
// Collector.Request: outside a crawl synchronously, as Visit; during one,
// queued. ctx, if not nil, is copied to the request's colly.Context. Of
// hdr, only Content-Type is sent: the request is kept in the frontier,
// which holds a method, a body and its content type, and goodbot sets the
// identity headers itself; Request fails, naming them, if hdr holds
// others.
//
// The methods sent are GET, HEAD, POST and OPTIONS. PUT, PATCH and DELETE
// are refused by design: goodbot collects, and does not change what a
// site holds. A POST that looks like a login is refused too (see Post).
// body may be nil; at most MaxRequestBody bytes of it are sent.
func (cr *Crawler) Request(method, rawURL string, body io.Reader, ctx *colly.Context, hdr http.Header) error {
	// A method goodbot does not send is refused, and recorded, with the
	// URL's other rules, when the request is queued.
	tmpl := frontier.Item{Method: strings.ToUpper(strings.TrimSpace(method))}
	var extra []string
	for k := range hdr {
		if http.CanonicalHeaderKey(k) != "Content-Type" {
			extra = append(extra, http.CanonicalHeaderKey(k))
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return fmt.Errorf("crawler: Request: header(s) %s are not sent: a request is kept in the frontier as a method, a body and its Content-Type, and goodbot sets its identity headers itself; remove them", strings.Join(extra, ", "))
	}
	tmpl.ContentType = hdr.Get("Content-Type")
	if body != nil {
		b, err := readRequestBody(body)
		if err != nil {
			return err
		}
		tmpl.Body = b
	}
	return cr.visit(rawURL, tmpl, ctx)
}

func readRequestBody(body io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, MaxRequestBody+1))
	if err != nil {
		return nil, fmt.Errorf("crawler: reading the request body: %w", err)
	}
	if len(b) > MaxRequestBody {
		return nil, fmt.Errorf("crawler: the request body is larger than MaxRequestBody (%d bytes)", MaxRequestBody)
	}
	return b, nil
}

// encodeForm encodes data as colly's Post does: url.Values, sorted by key.
func encodeForm(data map[string]string) string {
	form := url.Values{}
	for k, v := range data {
		form.Add(k, v)
	}
	return form.Encode()
}

// encodeMultipart returns parts as a multipart/form-data body, fields in
// the order of their names, and its content type.
func encodeMultipart(parts map[string][]byte) ([]byte, string, error) {
	h := sha256.New()
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range parts {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range names {
		fmt.Fprintf(h, "%d:%s%d:", len(k), k, len(parts[k]))
		h.Write(parts[k])
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary("goodbot" + hex.EncodeToString(h.Sum(nil))[:32]); err != nil {
		return nil, "", fmt.Errorf("crawler: multipart boundary: %w", err)
	}
	for _, k := range names {
		fw, err := w.CreateFormField(k)
		if err != nil {
			return nil, "", fmt.Errorf("crawler: multipart part %q: %w", k, err)
		}
		fw.Write(parts[k])
	}
	if err := w.Close(); err != nil {
		return nil, "", fmt.Errorf("crawler: multipart body: %w", err)
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// itemFor returns the frontier item for a request to u as tmpl describes
// it (method, body, content type, depth, origin), for cr's callbacks: the
// method in upper case, "" for a GET without a body, and a POST's
// content type that of a form unless one was given, as colly sends it.
func (cr *Crawler) itemFor(u *url.URL, tmpl frontier.Item) frontier.Item {
	it := tmpl
	it.URL, it.Site, it.Collector = u.String(), site.Key(u), cr.id
	it.Method = strings.ToUpper(it.Method)
	if it.Method == http.MethodGet && len(it.Body) == 0 {
		it.Method = ""
	}
	if len(it.Body) == 0 {
		it.Body = nil
	}
	if it.Method == http.MethodPost && it.ContentType == "" {
		it.ContentType = formType
	}
	return it
}

// itemMethod returns it's HTTP method.
func itemMethod(it frontier.Item) string {
	if it.Method == "" {
		return http.MethodGet
	}
	return it.Method
}

// methodRule returns why a request with method m is not sent, or "".
func methodRule(m string) string {
	switch m {
	case "", http.MethodGet, http.MethodHead, http.MethodPost, http.MethodOptions:
		return ""
	case http.MethodPut, http.MethodPatch, http.MethodDelete:
		return "method " + m + " is not sent: goodbot collects, and does not change what a site holds (it sends GET, HEAD, POST and OPTIONS)"
	}
	return fmt.Sprintf("method %q is not sent (goodbot sends GET, HEAD, POST and OPTIONS)", m)
}

// requestRule returns the check that refuses the request it to u by
// design, and why: a method goodbot does not send, or a login.
func requestRule(u *url.URL, it frontier.Item) (gate, reason string) {
	if why := methodRule(it.Method); why != "" {
		return "method", why
	}
	if why := loginRule(u, it); why != "" {
		return "login", why
	}
	return "", ""
}

// loginRule returns why a request other than a GET or HEAD looks like a
// login, or "": a URL like a login page's (/login, /signin, /oauth/token,
// a login.* host), or a body with a password field.
func loginRule(u *url.URL, it frontier.Item) string {
	if it.IsGet() || it.Method == http.MethodHead {
		return ""
	}
	if isLoginURL(u) || isTokenPath(u) {
		return fmt.Sprintf("a %s to %s looks like a login (a login or token URL); goodbot does not log in", itemMethod(it), u.EscapedPath())
	}
	if f := passwordField(it.ContentType, it.Body); f != "" {
		return fmt.Sprintf("a %s with a password field (%q) looks like a login; goodbot does not log in", itemMethod(it), f)
	}
	return ""
}

// isTokenPath reports whether u's path is that of a token or session
// endpoint (/oauth/token, /oauth2/token, /api/token, /session).
func isTokenPath(u *url.URL) bool {
	p := strings.ToLower(strings.TrimSuffix(u.EscapedPath(), "/"))
	for _, s := range []string{"/token", "/session", "/sessions", "/authorize", "/authenticate"} {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}

// passwordWords mark a field name as a password's.
var passwordWords = []string{"password", "passwd", "passwort", "pwd", "passcode", "密码", "口令"}

func isPasswordName(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "pass" || n == "pw" {
		return true
	}
	for _, w := range passwordWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// multipartName finds the field names of a multipart body, standard or as
// colly's PostMultipart writes it (name=field, unquoted).
var multipartName = regexp.MustCompile(`(?i)content-disposition:\s*form-data;\s*name="?([^"\s;]+)`)

// rawPasswordKey finds "password": or password= in a body of any other
// form.
var rawPasswordKey = regexp.MustCompile(`(?i)["']?([\p{L}_\-]*(?:password|passwd|passwort|pwd|passcode|密码|口令)[\p{L}_\-]*)["']?\s*[:=]`)

// passwordField returns the name of a password field in a request body,
// or "": form fields, JSON object keys at any depth, multipart field
// names, and key=value or "key": pairs in any other text.
func passwordField(ctype string, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	if vals, err := url.ParseQuery(string(body)); err == nil {
		for k := range vals {
			if isPasswordName(k) {
				return k
			}
		}
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		if k := jsonPasswordKey(v, 0); k != "" {
			return k
		}
	}
	for _, m := range multipartName.FindAllSubmatch(body, -1) {
		if isPasswordName(string(m[1])) {
			return string(m[1])
		}
	}
	if mt, params, err := mime.ParseMediaType(ctype); err == nil && strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for range 1000 {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if isPasswordName(p.FormName()) {
				return p.FormName()
			}
		}
	}
	if m := rawPasswordKey.FindSubmatch(body); m != nil {
		return string(m[1])
	}
	return ""
}

func jsonPasswordKey(v any, depth int) string {
	if depth > 32 {
		return ""
	}
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			if isPasswordName(k) {
				return k
			}
			if f := jsonPasswordKey(c, depth+1); f != "" {
				return f
			}
		}
	case []any:
		for _, c := range t {
			if f := jsonPasswordKey(c, depth+1); f != "" {
				return f
			}
		}
	}
	return ""
}

// addBodyCheck notes in d the body of it's request, if it has one: its
// length, digest and content type. The body itself is never logged: it may
// hold personal data.
func addBodyCheck(d *audit.Decision, it frontier.Item) {
	if len(it.Body) == 0 {
		return
	}
	sum := sha256.Sum256(it.Body)
	d.Checks = append(d.Checks, audit.Check{Gate: "body", Verdict: audit.Allow,
		Reason: fmt.Sprintf("request body of %d bytes, sha256 %s, content type %q; the body is not logged", len(it.Body), hex.EncodeToString(sum[:]), mediaType(it.ContentType))})
}

// mediaType is ctype without its parameters (a multipart boundary, a
// charset), or "" when it does not parse.
func mediaType(ctype string) string {
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		return ""
	}
	return mt
}

// redactBody returns a request body as f leaves it: a form's keys and
// values each filtered (so that percent-encoded values are read), any
// other body as text. It returns body itself when f changes nothing.
func redactBody(f PageFilter, ctype string, body []byte) []byte {
	if len(body) == 0 {
		return body
	}
	raw := string(body)
	changed := f.FilterText(raw) != raw
	mt := mediaType(ctype)
	if mt == formType || mt == "" {
		if vals, err := url.ParseQuery(raw); err == nil {
			out := url.Values{}
			for k, vs := range vals {
				fk := f.FilterText(k)
				changed = changed || fk != k
				for _, v := range vs {
					fv := f.FilterText(v)
					changed = changed || fv != v
					out.Add(fk, fv)
				}
			}
			if !changed {
				return body
			}
			return []byte(out.Encode())
		}
	}
	if !changed {
		return body
	}
	return []byte(f.FilterText(raw))
}

// CleanBody returns a function that reports whether f leaves a request
// body as it is, for state.FrontierOptions.CleanBody: a state keeps on
// disk only what passed the filter.
func CleanBody(f PageFilter) func(contentType string, body []byte) bool {
	return func(ctype string, body []byte) bool { return bytes.Equal(redactBody(f, ctype, body), body) }
}

// handOff reports whether the colly request r is to be handed to the
// frontier rather than sent: it was started by a callback
// (e.Request.Visit, Post, Do, Retry), not by a worker. A callback's
// e.Request.Do or Retry of the page's own request carries the worker's
// request id; the id's second request is such a one, and loses the id.
func (cr *Crawler) handOff(r *colly.Request) bool {
	id := r.Headers.Get(hdrItem)
	if id == "" {
		return true
	}
	var again bool
	if v, ok := cr.gate.reqs.Load(id); ok {
		req := v.(*request)
		req.mu.Lock()
		again = req.requested
		req.requested = true
		req.mu.Unlock()
		if !again && r.Body != nil && len(req.item.Body) > 0 {
			// Callbacks see the body as the filter leaves it; the one
			// sent is the http.Request's, which colly built before.
			r.Body = bytes.NewReader(redactBody(cr.cfg.Filter, req.item.ContentType, req.item.Body))
		}
	} else {
		again = true
	}
	if again {
		h := r.Headers.Clone()
		h.Del(hdrItem)
		r.Headers = &h
	}
	return again
}

// requestItem describes the request a callback started, for the
// frontier: its method, its body and its content type. Other headers are
// not kept (a warning says so, once).
func (cr *Crawler) requestItem(r *colly.Request) (frontier.Item, error) {
	it := frontier.Item{Method: r.Method}
	if r.Headers != nil {
		it.ContentType = r.Headers.Get("Content-Type")
		for k := range *r.Headers {
			switch http.CanonicalHeaderKey(k) {
			case "Content-Type", "User-Agent", "Accept", hdrItem:
			default:
				cr.gate.warnOnce("hdr:"+k, "a header set on a request a callback started is not kept: the frontier keeps a method, a body and its Content-Type", "header", k)
			}
		}
	}
	if r.Body != nil {
		if s, ok := r.Body.(io.Seeker); ok {
			s.Seek(0, io.SeekStart)
		}
		b, err := readRequestBody(r.Body)
		if err != nil {
			return it, err
		}
		it.Body = b
	}
	return it, nil
}

// Clone returns a new Crawler with callbacks of its own that shares
// everything else with cr: the configuration, the gate (and with it the
// robots.txt cache, the limiter and its budgets, the stop list and the
// operation log), the frontier with its seen set, the output and the
// filter. colly's Clone shares only the configuration; here the sharing is
// the point, so that a scraper in stages (list pages, then detail pages)
// keeps one budget per site and one log.
//
// Requests a crawler or one of its clones asks for (Visit, Post,
// e.Request.Visit in its callbacks) are handled by that crawler's
// callbacks: the frontier item names it (frontier.Item.Collector). One
// crawl drives them all: a Run or Visit on any of them crawls the work of
// every one, and Visit on another during it queues, as Visit during a
// crawl does. A URL is fetched once, whichever asked first. Clones are
// named in the order they are made, so that with Config.State a program
// that makes them in the same order resumes each item with the right
// callbacks; an item naming a clone the program did not make goes to the
// crawler New made.
func (cr *Crawler) Clone() *Crawler {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cl := &Crawler{core: cr.core, id: "clone-" + strconv.Itoa(len(cr.clones))}
	cl.c = cl.newCollector()
	cl.c.Context = cr.runCtx
	cr.clones[cl.id] = cl
	return cl
}

// owner returns the crawler among cr's clones whose callbacks handle the
// items naming id.
func (cr *Crawler) owner(id string) *Crawler {
	cr.mu.RLock()
	o := cr.clones[id]
	root := cr.clones[""]
	cr.mu.RUnlock()
	if o != nil {
		return o
	}
	cr.gate.warnOnce("clone:"+id, "an item names a clone this program did not make; the callbacks of the crawler New made handle it", "collector", id)
	return root
}

// setRunContext gives the collectors of every clone the context of the
// crawl starting now.
func (cr *Crawler) setRunContext(ctx context.Context) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cr.runCtx = ctx
	for _, c := range cr.clones {
		c.c.Context = ctx
	}
}
