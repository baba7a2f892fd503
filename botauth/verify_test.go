package botauth_test

// An independent verifier, written from RFC 9421 section 3.2 and the Web
// Bot Auth draft rather than from package botauth's signer: it parses
// Signature-Input, rebuilds the signature base itself (only the structured
// field parsing is shared, through httpsfv), and verifies with
// crypto/ed25519 against keys it took from the served key directory, whose
// own signature it checks too. It is run against the requests goodbot
// actually sends to loopback sites.

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/botauth"
	"github.com/goodbot/goodbot/crawler"
	"github.com/goodbot/goodbot/limiter"
)

// verified is what a valid Web Bot Auth signature says.
type verified struct {
	label, keyID, agent string
	created, expires    int64
}

// verifyRequest checks the Web Bot Auth signature of a request with header
// h sent to host (the Host the server saw) at now, against keys (keyid ->
// public key).
func verifyRequest(h http.Header, method, host, path string, keys map[string]ed25519.PublicKey, now time.Time) (verified, error) {
	var v verified
	rawInput := strings.Join(h.Values("Signature-Input"), ", ")
	inputs, err := httpsfv.UnmarshalDictionary(h.Values("Signature-Input"))
	if err != nil || rawInput == "" {
		return v, fmt.Errorf("Signature-Input %q: %v", rawInput, err)
	}
	if len(inputs.Names()) != 1 {
		return v, fmt.Errorf("Signature-Input has %d members, goodbot sends one", len(inputs.Names()))
	}
	v.label = inputs.Names()[0]
	mem, _ := inputs.Get(v.label)
	il, ok := mem.(httpsfv.InnerList)
	if !ok {
		return v, errors.New("Signature-Input member is not an inner list")
	}
	// The @signature-params value is the member as sent (one member: the
	// field after "label=").
	sigParams, ok := strings.CutPrefix(rawInput, v.label+"=")
	if !ok {
		return v, errors.New("Signature-Input does not start with its label")
	}
	str := func(name string) string { x, _ := il.Params.Get(name); s, _ := x.(string); return s }
	num := func(name string) (int64, bool) {
		x, ok := il.Params.Get(name)
		n, ok2 := x.(int64)
		return n, ok && ok2
	}
	var okC, okE bool
	v.created, okC = num("created")
	v.expires, okE = num("expires")
	v.keyID = str("keyid")
	switch {
	case !okC || !okE:
		return v, errors.New("created and expires are required")
	case str("tag") != "web-bot-auth":
		return v, fmt.Errorf("tag %q", str("tag"))
	case str("alg") != "ed25519":
		return v, fmt.Errorf("alg %q", str("alg"))
	case now.Unix() < v.created-1 || now.Unix() >= v.expires:
		return v, fmt.Errorf("not valid at %d: created %d, expires %d", now.Unix(), v.created, v.expires)
	}
	var base strings.Builder
	coveredAuthority, coveredAgent := false, false
	for _, it := range il.Items {
		name, _ := it.Value.(string)
		id := `"` + name + `"`
		key := ""
		for _, p := range it.Params.Names() {
			pv, _ := it.Params.Get(p)
			s, isStr := pv.(string)
			if p != "key" || !isStr {
				return v, fmt.Errorf("component %q: parameter %q not supported here", name, p)
			}
			key = s
			id += `;key="` + s + `"`
		}
		var value string
		switch {
		case name == "@authority":
			coveredAuthority = true
			value = normalAuthority(host)
		case name == "@method":
			value = method
		case name == "@path":
			value = path
		case strings.HasPrefix(name, "@"):
			return v, fmt.Errorf("derived component %q not supported here", name)
		case key != "":
			d, err := httpsfv.UnmarshalDictionary(h.Values(name))
			if err != nil {
				return v, fmt.Errorf("%s: %v", name, err)
			}
			m, ok := d.Get(key)
			item, isItem := m.(httpsfv.Item)
			s, isStr := item.Value.(string)
			if !ok || !isItem || !isStr || len(item.Params.Names()) != 0 {
				return v, fmt.Errorf("%s has no String member %q", name, key)
			}
			value = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
			if name == "signature-agent" && key == v.label {
				coveredAgent = true
				v.agent = s
			}
		default:
			vs := h.Values(name)
			if len(vs) == 0 {
				return v, fmt.Errorf("covered field %q absent", name)
			}
			for i := range vs {
				vs[i] = strings.TrimSpace(vs[i])
			}
			value = strings.Join(vs, ", ")
		}
		base.WriteString(id + ": " + value + "\n")
	}
	if !coveredAuthority || !coveredAgent {
		return v, errors.New(`the signature must cover "@authority" and its own Signature-Agent member`)
	}
	base.WriteString(`"@signature-params": ` + sigParams)
	sigs, err := httpsfv.UnmarshalDictionary(h.Values("Signature"))
	if err != nil {
		return v, fmt.Errorf("Signature: %v", err)
	}
	sm, _ := sigs.Get(v.label)
	sitem, _ := sm.(httpsfv.Item)
	sig, _ := sitem.Value.([]byte)
	pub, ok := keys[v.keyID]
	if !ok {
		return v, fmt.Errorf("unknown keyid %q", v.keyID)
	}
	if !ed25519.Verify(pub, []byte(base.String()), sig) {
		return v, errors.New("signature does not verify")
	}
	return v, nil
}

// normalAuthority lower-cases host[:port] and drops a default port (the
// loopback sites are plain http).
func normalAuthority(host string) string {
	host = strings.ToLower(host)
	if h, p, err := net.SplitHostPort(host); err == nil && p == "80" {
		return h
	}
	return host
}

// thumbprint is RFC 7638's, over an OKP key's required members (RFC 8037).
func thumbprint(x string) string {
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + x + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// fetchDirectory fetches a key directory from url, checks its media type,
// that each kid is its key's thumbprint, and its signatures (the draft's
// directory response signature: "@authority";req and content-digest, one
// per key), and returns its keys.
func fetchDirectory(t *testing.T, url string) map[string]ed25519.PublicKey {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/http-message-signatures-directory+json" {
		t.Fatalf("directory Content-Type %q", ct)
	}
	var dir struct {
		Keys []struct{ Kty, Crv, Kid, X string }
	}
	if err := json.Unmarshal(body, &dir); err != nil {
		t.Fatal(err)
	}
	keys := map[string]ed25519.PublicKey{}
	for _, k := range dir.Keys {
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if k.Kty != "OKP" || k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			t.Fatalf("directory key %+v", k)
		}
		if k.Kid != thumbprint(k.X) {
			t.Fatalf("kid %s is not the key's thumbprint %s", k.Kid, thumbprint(k.X))
		}
		keys[k.Kid] = x
	}
	sum := sha256.Sum256(body)
	if want := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"; resp.Header.Get("Content-Digest") != want {
		t.Fatalf("Content-Digest %q, want %q", resp.Header.Get("Content-Digest"), want)
	}
	inputs, err := httpsfv.UnmarshalDictionary(resp.Header.Values("Signature-Input"))
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := httpsfv.UnmarshalDictionary(resp.Header.Values("Signature"))
	if err != nil {
		t.Fatal(err)
	}
	authority := strings.TrimPrefix(url, "http://")
	authority = authority[:strings.Index(authority, "/")]
	signedBy := map[string]bool{}
	for _, label := range inputs.Names() {
		m, _ := inputs.Get(label)
		il := m.(httpsfv.InnerList)
		x, _ := il.Params.Get("keyid")
		kid, _ := x.(string)
		tag, _ := il.Params.Get("tag")
		created, _ := il.Params.Get("created")
		expires, _ := il.Params.Get("expires")
		if tag != "http-message-signatures-directory" || created == nil || expires == nil {
			t.Fatalf("directory signature %s: tag %v created %v expires %v", label, tag, created, expires)
		}
		// Rebuild the inner list's serialization from its parts.
		var ps strings.Builder
		for _, p := range il.Params.Names() {
			pv, _ := il.Params.Get(p)
			switch pv := pv.(type) {
			case int64:
				ps.WriteString(";" + p + "=" + strconv.FormatInt(pv, 10))
			case string:
				ps.WriteString(";" + p + `="` + pv + `"`)
			}
		}
		base := `"@authority";req: ` + authority + "\n" +
			`"content-digest": ` + resp.Header.Get("Content-Digest") + "\n" +
			`"@signature-params": ("@authority";req "content-digest")` + ps.String()
		sm, _ := sigs.Get(label)
		sig, _ := sm.(httpsfv.Item).Value.([]byte)
		if !ed25519.Verify(keys[kid], []byte(base), sig) {
			t.Fatalf("directory signature %s by %s does not verify over\n%s", label, kid, base)
		}
		signedBy[kid] = true
	}
	for kid := range keys {
		if !signedBy[kid] {
			t.Errorf("directory key %s did not sign the directory", kid)
		}
	}
	return keys
}

// seen is one request a loopback site received.
type seen struct {
	at                 time.Time
	method, host, path string
	header             http.Header
}

type site struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []seen
	hits map[string]int
}

func newSite(t *testing.T, h func(s *site, w http.ResponseWriter, r *http.Request)) *site {
	s := &site{hits: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{time.Now(), r.Method, r.Host, r.URL.EscapedPath(), r.Header.Clone()})
		s.hits[r.URL.Path]++
		n := s.hits[r.URL.Path]
		s.mu.Unlock()
		w.Header().Set("X-Hit", strconv.Itoa(n))
		h(s, w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) key() string { return strings.TrimPrefix(s.srv.URL, "http://") }

func (s *site) seen() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

type memSink struct {
	mu sync.Mutex
	ev []audit.Event
}

func (m *memSink) Record(_ context.Context, e audit.Event) error {
	m.mu.Lock()
	m.ev = append(m.ev, e)
	m.mu.Unlock()
	return nil
}

func (m *memSink) of(t audit.Type) []audit.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []audit.Event
	for _, e := range m.ev {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

func page(w http.ResponseWriter, links ...string) {
	w.Header().Set("Content-Type", "text/html")
	fmt.Fprint(w, "<html><head><title>t</title></head><body><p>Some text.</p>")
	for _, l := range links {
		fmt.Fprintf(w, `<a href="%s">x</a>`, l)
	}
	fmt.Fprint(w, "</body></html>")
}

// Every request goodbot sent to two loopback sites (robots.txt, the
// sitemap, pages, each hop of a redirect chain, a cross-site redirect, a
// retry after a 503, a 403 that asks for a signature) carries a signature
// the independent verifier accepts, against the keys of the directory
// goodbot publishes; the identity (User-Agent, From, keyid, directory) is
// the same on all of them; the 403 is not retried; and the key's creation
// is in the operation log.
func TestEveryRequestVerifies(t *testing.T) {
	other := newSite(t, func(s *site, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			fmt.Fprint(w, "User-agent: *\nAllow: /\n")
			return
		}
		page(w)
	})
	main := newSite(t, func(s *site, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprintf(w, "User-agent: *\nAllow: /\nSitemap: %s/sitemap.xml\n", s.srv.URL)
		case "/sitemap.xml":
			w.Header().Set("Content-Type", "application/xml")
			// Enough URLs that MaxSiteShare 1 stops nothing.
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
			for i := range 20 {
				fmt.Fprintf(w, `<url><loc>%s/p%d</loc></url>`, s.srv.URL, i)
			}
			fmt.Fprint(w, `</urlset>`)
		case "/":
			page(w, "/a", "/r1", "/away", "/flaky", "/asksig")
		case "/r1":
			http.Redirect(w, r, "/r2", http.StatusFound)
		case "/r2":
			http.Redirect(w, r, "/b", http.StatusMovedPermanently)
		case "/away":
			http.Redirect(w, r, other.srv.URL+"/landing", http.StatusFound)
		case "/flaky":
			if w.Header().Get("X-Hit") == "1" {
				w.Header().Set("Retry-After", "0")
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			page(w)
		case "/asksig":
			w.Header().Set("Accept-Signature", `sig1=("@authority" "signature-agent";key="sig1");tag="web-bot-auth"`)
			http.Error(w, "sign your requests", http.StatusForbidden)
		default:
			page(w)
		}
	})

	keyFile := filepath.Join(t.TempDir(), "bot.key")
	sink := &memSink{}
	var es []limiter.Estimate
	for _, s := range []*site{main, other} {
		e, err := limiter.ParseTraffic(s.key() + "=864000000")
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	est, err := limiter.NewEstimates(es...)
	if err != nil {
		t.Fatal(err)
	}
	lim, err := limiter.NewLocal(limiter.Config{Estimates: est, Sink: sink, BaseBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := crawler.New(crawler.Config{
		Contact:      "https://ops.example.org/bot", // the key directory defaults to https://ops.example.org
		BotKeyFile:   keyFile,
		AllowedHosts: []string{other.key()},
		MaxSiteShare: 1, // so that the sitemap is fetched
		Limiter:      lim,
		Sink:         sink,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		RetryBase:    50 * time.Millisecond,
		RobotsRetry:  50 * time.Millisecond,
		Timeout:      10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	cr.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	if err := cr.Seed(main.srv.URL + "/"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := cr.Run(ctx); err != nil {
		t.Fatal(err)
	}

	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	dirSrv := httptest.NewServer(botauth.DirectoryHandler(func() ([]*botauth.Key, error) {
		return botauth.DirectoryKeys(keyFile, time.Now())
	}, 0))
	defer dirSrv.Close()
	keys := fetchDirectory(t, dirSrv.URL+botauth.DirectoryPath)
	if len(keys) != 1 {
		t.Fatalf("directory has %d keys, want 1", len(keys))
	}

	all := append(main.seen(), other.seen()...)
	paths := map[string]bool{}
	var ua, keyID string
	for _, r := range all {
		v, err := verifyRequest(r.header, r.method, r.host, r.path, keys, r.at)
		if err != nil {
			t.Errorf("%s %s%s: %v\n%v", r.method, r.host, r.path, err, r.header)
			continue
		}
		paths[r.host+r.path] = true
		if v.agent != "https://ops.example.org" {
			t.Errorf("%s: Signature-Agent %q", r.path, v.agent)
		}
		if ua == "" {
			ua, keyID = r.header.Get("User-Agent"), v.keyID
		}
		if r.header.Get("User-Agent") != ua || v.keyID != keyID || r.header.Get("From") != "" {
			t.Errorf("%s: identity changed: UA %q keyid %s From %q", r.path, r.header.Get("User-Agent"), v.keyID, r.header.Get("From"))
		}
		if v.expires-v.created != 60 {
			t.Errorf("%s: valid %d s, want 60", r.path, v.expires-v.created)
		}
	}
	for _, p := range []string{main.key() + "/robots.txt", main.key() + "/sitemap.xml", main.key() + "/", main.key() + "/a",
		main.key() + "/r1", main.key() + "/r2", main.key() + "/b", main.key() + "/away", other.key() + "/robots.txt",
		other.key() + "/landing", main.key() + "/flaky", main.key() + "/asksig"} {
		if !paths[p] {
			t.Errorf("no verified request for %s", p)
		}
	}
	main.mu.Lock()
	flaky, asked := main.hits["/flaky"], main.hits["/asksig"]
	main.mu.Unlock()
	if flaky != 2 {
		t.Errorf("/flaky requested %d times, want 2 (a 503, then a retry)", flaky)
	}
	if asked != 1 {
		t.Errorf("/asksig (403 with Accept-Signature) requested %d times, want once: it is answered by the signature, not a retry", asked)
	}
	var created []*audit.BotKey
	for _, e := range sink.of(audit.TypeBotKey) {
		created = append(created, e.BotKey)
	}
	if len(created) != 1 || created[0].Action != "created" || created[0].KeyID != keyID || created[0].File != keyFile {
		t.Errorf("botkey events %+v, want one creation of %s", created, keyID)
	}
	var fetches []*audit.Fetch
	for _, e := range sink.of(audit.TypeFetch) {
		if strings.HasSuffix(e.Fetch.URL, "/asksig") {
			fetches = append(fetches, e.Fetch)
		}
	}
	if len(fetches) != 1 || fetches[0].Status != http.StatusForbidden || fetches[0].Class != "refused" ||
		len(fetches[0].RequestHeader["Signature"]) != 1 {
		t.Errorf("fetches of /asksig %+v, want one signed request refused with 403", fetches)
	}

	// Tampering: the same request sent to another authority, or with
	// another created time, no longer verifies.
	var r seen
	for _, x := range main.seen() {
		if x.path == "/" {
			r = x
		}
	}
	if _, err := verifyRequest(r.header, r.method, "127.0.0.2:"+strings.Split(r.host, ":")[1], r.path, keys, r.at); err == nil {
		t.Error("a signature verified for another @authority")
	}
	h := r.header.Clone()
	in := h.Get("Signature-Input")
	i := strings.Index(in, ";created=") + len(";created=")
	j := i + strings.IndexByte(in[i:], ';')
	n, _ := strconv.ParseInt(in[i:j], 10, 64)
	h.Set("Signature-Input", in[:i]+strconv.FormatInt(n-1, 10)+in[j:])
	if _, err := verifyRequest(h, r.method, r.host, r.path, keys, r.at); err == nil {
		t.Error("a signature verified with created changed")
	}
	h = r.header.Clone()
	h.Set("Signature-Agent", `sig1="https://impostor.example"`)
	if _, err := verifyRequest(h, r.method, r.host, r.path, keys, r.at); err == nil {
		t.Error("a signature verified with another Signature-Agent")
	}
}
