package operator

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler"
	"github.com/goodbot/goodbot/job"
	"github.com/goodbot/goodbot/limiter"
)

// page is an operator page under test, with a browser-like client.
type page struct {
	t     *testing.T
	srv   *httptest.Server
	board *job.FileComplaints
	dir   string
	c     *http.Client
}

func newPage(t *testing.T, tweak func(*Config)) *page {
	t.Helper()
	dir := t.TempDir()
	board, err := job.OpenFileComplaints(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Board: board, Operator: "Example Data Team, ops@example.org", Purpose: "research on public notices",
		UserAgent: "goodbot/test (+https://example.org/bot)", Addresses: []string{"192.0.2.0/24"}, HandleWithin: 72 * time.Hour}
	if tweak != nil {
		tweak(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &page{t: t, srv: srv, board: board, dir: dir, c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (p *page) get(path string) (int, string) {
	p.t.Helper()
	resp, err := p.c.Get(p.srv.URL + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// csrf loads path and returns its form's CSRF token.
func (p *page) csrf(path string) string {
	p.t.Helper()
	_, body := p.get(path)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		p.t.Fatalf("no CSRF field on %s:\n%s", path, body)
	}
	return m[1]
}

func (p *page) postRaw(path, contentType, body string, hdr http.Header) (*http.Response, string) {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (p *page) post(path string, v url.Values) (*http.Response, string) {
	return p.postRaw(path, "application/x-www-form-urlencoded", v.Encode(), nil)
}

// complain sends the form with a fresh CSRF token.
func (p *page) complain(site, email, msg string) (*http.Response, string) {
	return p.post("/complaints", url.Values{"csrf": {p.csrf("/")}, "site": {site}, "email": {email}, "message": {msg}})
}

var (
	receiptRe = regexp.MustCompile(`id="receipt">([a-z2-7]{26})<`)
	tokenRe   = regexp.MustCompile(`id="token">(goodbot-proof-[a-z2-7]{26})<`)
)

func TestPageShowsWhoWhyHowToOptOut(t *testing.T) {
	p := newPage(t, nil)
	resp, err := p.c.Get(p.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	for _, want := range []string{"Example Data Team", "research on public notices", "goodbot/test (&#43;https://example.org/bot)",
		"192.0.2.0/24", "User-agent: goodbot\nDisallow: /", "3 days", `name="csrf"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	h := resp.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" {
		t.Errorf("headers %v", h)
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == csrfCookie {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Errorf("CSRF cookie %+v", ck)
	}
}

func TestBadInput(t *testing.T) {
	p := newPage(t, func(c *Config) { c.PostBurst = 1000 })
	tok := p.csrf("/")
	form := func(site, email, msg string) url.Values {
		return url.Values{"csrf": {tok}, "site": {site}, "email": {email}, "message": {msg}}
	}

	// Oversized: 413, nothing recorded.
	resp, _ := p.post("/complaints", form("example.org", "a@example.org", strings.Repeat("x", MaxBody)))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d, want 413", resp.StatusCode)
	}
	// A message over its own bound, in a body under the whole bound.
	resp, body := p.post("/complaints", form("example.org", "a@example.org", strings.Repeat("x", MaxMessage+1)))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="message-error"`) {
		t.Errorf("oversized message: %d\n%s", resp.StatusCode, body)
	}
	// Malformed fields.
	for _, tc := range []struct{ site, email, field string }{
		{"not a host", "a@example.org", "site"},
		{"ftp://example.org/", "a@example.org", "site"},
		{"localhost", "a@example.org", "site"},
		{"example.org:99999", "a@example.org", "site"},
		{"http://user:pw@example.org/", "a@example.org", "site"},
		{"example.org", "not-an-address", "email"},
		{"example.org", "Name <a@example.org>", "email"},
		{"example.org", "a@example.org\r\nBcc: b@example.org", "email"},
	} {
		resp, body := p.post("/complaints", form(tc.site, tc.email, "stop please"))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="`+tc.field+`-error"`) {
			t.Errorf("site %q email %q: %d, want 400 with a %s error", tc.site, tc.email, resp.StatusCode, tc.field)
		}
	}
	// A form body that is not form-encoded.
	resp, _ = p.postRaw("/complaints", "application/x-www-form-urlencoded", "csrf="+tok+"&site=%zz", nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed encoding: %d, want 400", resp.StatusCode)
	}
	// Script injection is echoed escaped, in an invalid field and in a
	// valid message alike.
	const script = `<script>alert("x")</script>`
	resp, body = p.post("/complaints", form(script, script+"@example.org", "m"))
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(body, script) || !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("script in the site field: %d, escaped: %v", resp.StatusCode, !strings.Contains(body, script))
	}
	resp, body = p.post("/complaints", form("example.org", "a@example.org", script+`"><img src=x onerror=alert(1)>`))
	if resp.StatusCode != http.StatusCreated || strings.Contains(body, script) || strings.Contains(body, "<img") ||
		!strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("script in the message: %d\n%s", resp.StatusCode, body)
	}
	cs, _ := p.board.List(context.Background())
	if len(cs) != 1 || cs[0].Site != "example.org" {
		t.Fatalf("board holds %+v; want only the one valid complaint", cs)
	}

	// CSRF: missing, forged, or from another origin.
	for name, tc := range map[string]struct {
		tok string
		hdr http.Header
	}{
		"missing":      {"", nil},
		"forged":       {"AAAA" + tok[4:], nil},
		"cross-origin": {tok, http.Header{"Origin": {"https://evil.example"}}},
	} {
		v := form("example.net", "a@example.org", "m")
		v.Set("csrf", tc.tok)
		resp, _ := p.postRaw("/complaints", "application/x-www-form-urlencoded", v.Encode(), tc.hdr)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("CSRF %s: %d, want 403", name, resp.StatusCode)
		}
	}
	// Without the cookie the token is worthless.
	bare := &http.Client{}
	r, err := bare.PostForm(p.srv.URL+"/complaints", form("example.net", "a@example.org", "m"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("token without its cookie: %d, want 403", r.StatusCode)
	}
	if cs, _ := p.board.List(context.Background()); len(cs) != 1 {
		t.Errorf("refused posts reached the board: %+v", cs)
	}
}

func TestRateLimit(t *testing.T) {
	p := newPage(t, func(c *Config) { c.PostRate, c.PostBurst = rate.Every(time.Hour), 2 })
	tok := p.csrf("/")
	codes := []int{}
	for range 4 {
		resp, _ := p.post("/complaints", url.Values{"csrf": {tok}, "site": {"example.org"}, "email": {"a@example.org"}, "message": {"m"}})
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != 201 || codes[1] != 201 || codes[2] != 429 || codes[3] != 429 {
		t.Errorf("statuses %v, want 201 201 429 429", codes)
	}
	// The table stays bounded; idle clients go first.
	l := newLimiter(rate.Every(time.Second), 1, 3)
	now := time.Now()
	for i := range 10 {
		l.allow(string(rune('a'+i)), now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := l.size(); n > 3 {
		t.Errorf("limiter holds %d clients, bound 3", n)
	}
	// j spent its token at i=9 and a second has not passed: it is still
	// in the table, with an empty bucket.
	if l.allow("j", now.Add(20*time.Millisecond)) {
		t.Errorf("the most recent client was evicted and got a fresh bucket")
	}
}

func TestStatusUnknownReceipt(t *testing.T) {
	p := newPage(t, nil)
	for _, id := range []string{"aaaaaaaaaaaaaaaaaaaaaaaaaa", "1", "../../etc/passwd", strings.Repeat("a", 400)} {
		if code, _ := p.get("/complaints/" + url.PathEscape(id)); code != http.StatusNotFound {
			t.Errorf("status of %q: %d, want 404", id, code)
		}
	}
	a, b := newSecret(), newSecret()
	if a == b || !isSecret(a) || !isSecret(b) {
		t.Errorf("receipts %q %q", a, b)
	}
}

// proofSite is a loopback site whose robots.txt shuts goodbot out and which
// serves a proof token once told to.
type proofSite struct {
	srv   *httptest.Server
	mu    sync.Mutex
	token string
	uas   []string
}

func newProofSite(t *testing.T) *proofSite {
	s := &proofSite{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.uas = append(s.uas, r.UserAgent())
		switch {
		case r.URL.Path == "/robots.txt":
			io.WriteString(w, "User-agent: goodbot\nDisallow: /\n")
		case strings.HasPrefix(r.URL.Path, ProofPath) && s.token != "":
			io.WriteString(w, "our token: "+s.token+"\n")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *proofSite) serve(token string) {
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
}

func (s *proofSite) site() string { u, _ := url.Parse(s.srv.URL); return u.Host }

// A forged complaint (no token on the site) stops without deleting and says
// it awaits confirmation; once the site serves the token, a check confirms
// it. The proof fetch goes through the gate: robots.txt's Disallow does not
// block it, it carries goodbot's User-Agent, and the proof log records it
// without the complainant's data.
func TestProofOfControl(t *testing.T) {
	site := newProofSite(t)
	logDir := t.TempDir()
	alog, err := crawler.OpenLog(context.Background(), logDir, audit.Options{KeyFile: filepath.Join(t.TempDir(), "k"), Origin: "test/serve"})
	if err != nil {
		t.Fatal(err)
	}
	defer alog.Close()
	est, _ := limiter.NewEstimates(limiter.Estimate{Site: site.site(), PerDay: 864000000, Source: "test", At: time.Now()})
	lim, err := limiter.NewLocal(limiter.Config{Estimates: est})
	if err != nil {
		t.Fatal(err)
	}
	var confirmed []job.Complaint
	p := newPage(t, func(c *Config) {
		c.Prove = GateProver(crawler.Config{Contact: "mailto:ops@example.org", Sink: alog, Limiter: lim})
		c.ProofScheme, c.AllowPrivate = "http", true
		c.Confirmed = func(ctx context.Context, cp job.Complaint) error { confirmed = append(confirmed, cp); return nil }
	})
	const email, phone = "victim@site.example", "13800138000"
	resp, body := p.complain("http://"+site.site()+"/some/page", email, "Please stop. 手机 "+phone+" call me.")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("complaint: %d\n%s", resp.StatusCode, body)
	}
	receipt, token := receiptRe.FindStringSubmatch(body), tokenRe.FindStringSubmatch(body)
	if receipt == nil || token == nil {
		t.Fatalf("receipt page lacks the receipt or the token:\n%s", body)
	}
	cs, _ := p.board.List(context.Background())
	if len(cs) != 1 {
		t.Fatalf("board: %+v", cs)
	}
	c := cs[0]
	if !c.Unconfirmed || c.Site != site.site() || c.Receipt != receipt[1] || c.ReplyTo != email ||
		c.ProofSHA256 != tokenDigest(token[1]) || strings.Contains(c.Message, phone) || c.Reason != reason {
		t.Fatalf("complaint on the board: %+v", c)
	}
	if why, stopped, err := p.board.Stopped(context.Background(), site.site()); !stopped || err != nil {
		t.Fatalf("site not stopped: %q %v %v", why, stopped, err)
	}
	status := "/complaints/" + receipt[1]
	if code, body := p.get(status); code != 200 || !strings.Contains(body, "awaiting confirmation") || !strings.Contains(body, `id="check"`) {
		t.Fatalf("status: %d\n%s", code, body)
	}

	// Forged: no token on the site.
	resp, body = p.post(status+"/check", url.Values{"csrf": {p.csrf(status)}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "awaiting confirmation") {
		t.Fatalf("check without a token: %d\n%s", resp.StatusCode, body)
	}
	// A wrong token does not do either.
	wrong, _ := newProofToken()
	site.serve(wrong)
	if resp, _ := p.post(status+"/check", url.Values{"csrf": {p.csrf(status)}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("check with another token: %d", resp.StatusCode)
	}
	if cs, _ := p.board.List(context.Background()); !cs[0].Unconfirmed || len(confirmed) != 0 {
		t.Fatalf("confirmed without proof: %+v", cs[0])
	}

	// Proven.
	site.serve(token[1])
	resp, _ = p.post(status+"/check", url.Values{"csrf": {p.csrf(status)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != status {
		t.Fatalf("check with the token: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	cs, _ = p.board.List(context.Background())
	if cs[0].Unconfirmed || cs[0].ConfirmedBy != job.ConfirmedByProof || len(confirmed) != 1 || confirmed[0].ID != c.ID || confirmed[0].Unconfirmed {
		t.Fatalf("after proof: board %+v, Confirmed calls %+v", cs[0], confirmed)
	}
	if code, body := p.get(status); code != 200 || !strings.Contains(body, "proven by the site") {
		t.Fatalf("status after proof: %d\n%s", code, body)
	}

	// The proof fetches are in the log: allowed past robots by a recorded
	// relaxation, with the honest User-Agent; the complainant's data is
	// not there.
	if err := alog.Close(); err != nil {
		t.Fatal(err)
	}
	var fetches, relaxed int
	if _, err := audit.Verify(context.Background(), logDir, audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		raw := string(e.Raw)
		if strings.Contains(raw, email) || strings.Contains(raw, phone) || strings.Contains(raw, "call me") {
			t.Errorf("complainant's data in the proof log: %s", raw)
		}
		if f := e.Event.Fetch; f != nil && strings.Contains(f.URL, ProofPath+receipt[1]) {
			fetches++
			if !strings.HasPrefix(f.UserAgent, "goodbot/") {
				t.Errorf("proof fetch with User-Agent %q", f.UserAgent)
			}
		}
		if strings.Contains(raw, "complaint proof fetch") {
			relaxed++
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	if fetches != 3 || relaxed == 0 {
		t.Errorf("proof log: %d fetches of the proof URL (want 3), %d relaxation records", fetches, relaxed)
	}
	site.mu.Lock()
	for _, ua := range site.uas {
		if !strings.HasPrefix(ua, "goodbot/") {
			t.Errorf("the site saw User-Agent %q", ua)
		}
	}
	site.mu.Unlock()
	// Nothing the page writes holds the phone number; the board keeps the
	// reply address (documented), and only the board.
	b, _ := os.ReadFile(filepath.Join(p.dir, job.ComplaintsFile))
	if strings.Contains(string(b), phone) || !strings.Contains(string(b), email) {
		t.Errorf("board file: phone present %v, reply address present %v", strings.Contains(string(b), phone), strings.Contains(string(b), email))
	}
}

// A site that resolves to a private address is not fetched for a proof
// unless the test option allows it.
func TestProofRefusesPrivateAddresses(t *testing.T) {
	site := newProofSite(t)
	called := false
	p := newPage(t, func(c *Config) {
		c.ProofScheme = "http"
		c.Prove = func(ctx context.Context, s, u string) ([]byte, error) { called = true; return nil, nil }
	})
	resp, body := p.complain(site.site(), "a@example.org", "stop")
	receipt := receiptRe.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusCreated || receipt == nil {
		t.Fatalf("complaint: %d", resp.StatusCode)
	}
	status := "/complaints/" + receipt[1]
	resp, body = p.post(status+"/check", url.Values{"csrf": {p.csrf(status)}})
	if called || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "non-public address") {
		t.Fatalf("private site: prover called %v, %d\n%s", called, resp.StatusCode, body)
	}
}
