package operator

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler"
	"github.com/goodbot/goodbot/job"
	"github.com/goodbot/goodbot/limiter"
	"github.com/goodbot/goodbot/operator/operatortest"
)

// page is an operator page under test, with a browser-like client.
type page struct {
	*operatortest.Client
	srv   *httptest.Server
	board *job.FileComplaints
	dir   string
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
	return &page{Client: operatortest.NewClient(t, srv.URL), srv: srv, board: board, dir: dir}
}

func TestPageShowsWhoWhyHowToOptOut(t *testing.T) {
	p := newPage(t, nil)
	resp := p.Get("/")
	body := resp.Body
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
	for _, c := range (&http.Response{Header: resp.Header}).Cookies() {
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
	tok := p.CSRF("/")
	form := func(site, email, msg string) url.Values {
		return url.Values{"csrf": {tok}, "site": {site}, "email": {email}, "message": {msg}}
	}

	// Oversized: 413, nothing recorded.
	resp := p.Post("/complaints", "", form("example.org", "a@example.org", strings.Repeat("x", MaxBody)))
	if resp.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized resp.Body: %d, want 413", resp.Code)
	}
	// A message over its own bound, in a body under the whole bound.
	resp = p.Post("/complaints", "", form("example.org", "a@example.org", strings.Repeat("x", MaxMessage+1)))
	if resp.Code != http.StatusBadRequest || !strings.Contains(resp.Body, `id="message-error"`) {
		t.Errorf("oversized message: %d\n%s", resp.Code, resp.Body)
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
		resp := p.Post("/complaints", "", form(tc.site, tc.email, "stop please"))
		if resp.Code != http.StatusBadRequest || !strings.Contains(resp.Body, `id="`+tc.field+`-error"`) {
			t.Errorf("site %q email %q: %d, want 400 with a %s error", tc.site, tc.email, resp.Code, tc.field)
		}
	}
	// A form body that is not form-encoded.
	resp = p.PostRaw("/complaints", "application/x-www-form-urlencoded", "csrf="+tok+"&site=%zz", nil)
	if resp.Code != http.StatusBadRequest {
		t.Errorf("malformed encoding: %d, want 400", resp.Code)
	}
	// Script injection is echoed escaped, in an invalid field and in a
	// valid message alike.
	const script = `<script>alert("x")</script>`
	resp = p.Post("/complaints", "", form(script, script+"@example.org", "m"))
	if resp.Code != http.StatusBadRequest || strings.Contains(resp.Body, script) || !strings.Contains(resp.Body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("script in the site field: %d, escaped: %v", resp.Code, !strings.Contains(resp.Body, script))
	}
	resp = p.Post("/complaints", "", form("example.org", "a@example.org", script+`"><img src=x onerror=alert(1)>`))
	if resp.Code != http.StatusCreated || strings.Contains(resp.Body, script) || strings.Contains(resp.Body, "<img") ||
		!strings.Contains(resp.Body, "&lt;script&gt;") {
		t.Errorf("script in the message: %d\n%s", resp.Code, resp.Body)
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
		resp := p.PostRaw("/complaints", "application/x-www-form-urlencoded", v.Encode(), tc.hdr)
		if resp.Code != http.StatusForbidden {
			t.Errorf("CSRF %s: %d, want 403", name, resp.Code)
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
	tok := p.CSRF("/")
	codes := []int{}
	for range 4 {
		resp := p.Post("/complaints", "", url.Values{"csrf": {tok}, "site": {"example.org"}, "email": {"a@example.org"}, "message": {"m"}})
		codes = append(codes, resp.Code)
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
		if r := p.Get("/complaints/" + url.PathEscape(id)); r.Code != http.StatusNotFound {
			t.Errorf("status of %q: %d, want 404", id, r.Code)
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
	receipt, token := p.Complain("http://"+site.site()+"/some/page", email, "Please stop. 手机 "+phone+" call me.")
	cs, _ := p.board.List(context.Background())
	if len(cs) != 1 {
		t.Fatalf("board: %+v", cs)
	}
	c := cs[0]
	if !c.Unconfirmed || c.Site != site.site() || c.Receipt != receipt || c.ReplyTo != email ||
		c.ProofSHA256 != tokenDigest(token) || strings.Contains(c.Message, phone) || c.Reason != reason {
		t.Fatalf("complaint on the board: %+v", c)
	}
	if why, stopped, err := p.board.Stopped(context.Background(), site.site()); !stopped || err != nil {
		t.Fatalf("site not stopped: %q %v %v", why, stopped, err)
	}
	status := "/complaints/" + receipt
	if r := p.Get(status); r.Code != 200 || !strings.Contains(r.Body, "awaiting confirmation") || !strings.Contains(r.Body, `id="check"`) {
		t.Fatalf("status: %d\n%s", r.Code, r.Body)
	}

	// Forged: no token on the site.
	if r := p.Post(status+"/check", status, url.Values{}); r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "awaiting confirmation") {
		t.Fatalf("check without a token: %d\n%s", r.Code, r.Body)
	}
	// A wrong token does not do either.
	wrong, _ := newProofToken()
	site.serve(wrong)
	if r := p.Post(status+"/check", status, url.Values{}); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("check with another token: %d", r.Code)
	}
	if cs, _ := p.board.List(context.Background()); !cs[0].Unconfirmed || len(confirmed) != 0 {
		t.Fatalf("confirmed without proof: %+v", cs[0])
	}

	// Proven.
	site.serve(token)
	if r := p.Post(status+"/check", status, url.Values{}); r.Code != http.StatusSeeOther || r.Header.Get("Location") != status {
		t.Fatalf("check with the token: %d %s", r.Code, r.Header.Get("Location"))
	}
	cs, _ = p.board.List(context.Background())
	if cs[0].Unconfirmed || cs[0].ConfirmedBy != job.ConfirmedByProof || len(confirmed) != 1 || confirmed[0].ID != c.ID || confirmed[0].Unconfirmed {
		t.Fatalf("after proof: board %+v, Confirmed calls %+v", cs[0], confirmed)
	}
	if r := p.Get(status); r.Code != 200 || !strings.Contains(r.Body, "proven by the site") {
		t.Fatalf("status after proof: %d\n%s", r.Code, r.Body)
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
		if f := e.Event.Fetch; f != nil && strings.Contains(f.URL, ProofPath+receipt) {
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
	receipt, _ := p.Complain(site.site(), "a@example.org", "stop")
	status := "/complaints/" + receipt
	r := p.Post(status+"/check", status, url.Values{})
	if called || r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "non-public address") {
		t.Fatalf("private site: prover called %v, %d\n%s", called, r.Code, r.Body)
	}
}

// Proof fetches spend the site's budget: under the default estimate of an
// unknown site, a second try soon after the first is deferred, and the
// complainant is told until when; the site sees one request.
func TestProofCountsAgainstTheBudget(t *testing.T) {
	site := newProofSite(t)
	lim, err := limiter.NewLocal(limiter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	prove := GateProver(crawler.Config{Contact: "mailto:ops@example.org", NoAuditLog: "unit test", Limiter: lim})
	u := "http://" + site.site() + ProofPath + newSecret()
	if _, err := prove(context.Background(), site.site(), u); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("first proof fetch: %v, want the site's 404", err)
	}
	_, err = prove(context.Background(), site.site(), u)
	if err == nil || !strings.Contains(err.Error(), "deferred until") {
		t.Fatalf("second proof fetch: %v, want a deferral", err)
	}
	site.mu.Lock()
	n := len(site.uas)
	site.mu.Unlock()
	if n != 1 {
		t.Errorf("the site saw %d requests, want 1", n)
	}
}
