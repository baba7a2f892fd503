package crawler

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/goodbot/goodbot/internal/textdecode"
	"github.com/goodbot/goodbot/pii"
)

func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{
		"http://Example.COM:80/a/./b/../c?q=1#frag",
		"https://[::1]:443/%7euser/%c3%bc?b=1&a=2",
		"http://127.0.0.1:8080",
		"http://h/a%2Fb/..//c/",
		"HTTP://h/%zz",
		"http://user:pw@h/",
		"javascript:alert(1)",
		"http://h/p?%41=%2a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := NormalizeURL(raw)
		if err != nil {
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("NormalizeURL(%q) kept scheme %q", raw, u.Scheme)
		}
		if u.Fragment != "" || u.User != nil {
			t.Fatalf("NormalizeURL(%q) = %q kept a fragment or credentials", raw, u)
		}
		// Normalising is idempotent: a normalised URL is a fixed point.
		again, err := NormalizeURL(u.String())
		if err != nil {
			t.Fatalf("NormalizeURL(%q) = %q, which does not normalise again: %v", raw, u, err)
		}
		if again.String() != u.String() {
			t.Fatalf("not idempotent: %q -> %q -> %q", raw, u, again)
		}
		if _, err := url.Parse(u.String()); err != nil {
			t.Fatalf("NormalizeURL(%q) = %q does not parse: %v", raw, u, err)
		}
	})
}

func FuzzPageSignal(f *testing.F) {
	for _, s := range []string{
		`<html><head><title>Just a moment...</title></head></html>`,
		`<title>登录</title><form><input type="password"></form>`,
		`<script src="https://www.google.com/recaptcha/api.js"></script>`,
		`<p>` + strings.Repeat("正文", 500) + `</p>`,
		`<title`, `<script`, `<<<>>>`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, reason := pageSignal(b)
		switch kind {
		case "", "challenge", "login":
		default:
			t.Fatalf("pageSignal returned kind %q", kind)
		}
		if (kind == "") != (reason == "") {
			t.Fatalf("kind %q with reason %q", kind, reason)
		}
		// Only the first bytes are read: what follows them cannot matter.
		if len(b) > sniffLimit {
			k2, _ := pageSignal(append(b[:sniffLimit:sniffLimit], []byte("g-recaptcha")...))
			if k2 != kind {
				t.Fatalf("bytes past the sniff limit changed the verdict")
			}
		}
	})
}

func TestNormalizeURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"HTTP://Example.COM:80/a/./b/../c?q=1#frag", "http://example.com/a/c?q=1"},
		{"https://example.com:443", "https://example.com/"},
		{"http://h/%7euser/%c3%bc", "http://h/~user/%C3%BC"},
		{"http://h/s?b=1&a=2", "http://h/s?b=1&a=2"},
		{"http://h/dir/", "http://h/dir/"},
		{"http://h/a/..", "http://h/"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/"},
		{"http://h:1/", "http://h:1/"},
		{"http://h:65535/", "http://h:65535/"},
		{"http://h:0080/", "http://h/"},
		{"http://h:08080/", "http://h:8080/"},
		{"http://[::1]:8080/", "http://[::1]:8080/"},
	} {
		u, err := NormalizeURL(tc.in)
		if err != nil || u.String() != tc.want {
			t.Errorf("NormalizeURL(%q) = %v, %v; want %q", tc.in, u, err, tc.want)
		}
	}
	for _, bad := range []string{"", "/relative", "ftp://h/", "mailto:a@b", "http://user:pw@h/", "http://", "http://[::1"} {
		if u, err := NormalizeURL(bad); err == nil {
			t.Errorf("NormalizeURL(%q) = %q, want an error", bad, u)
		}
	}
	// Ports url.Parse takes but no TCP connection can use: the error names
	// the URL and the port.
	for _, tc := range []struct{ in, port string }{
		{"http://h:0/", "0"},
		{"https://h:00/", "00"},
		{"http://h:65536/", "65536"},
		{"http://127.0.0.1:99999/", "99999"},
		{"http://[::1]:70000/", "70000"},
		{"http://h:99999999999999999999/", "99999999999999999999"},
	} {
		u, err := NormalizeURL(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.in) || !strings.Contains(err.Error(), "port "+tc.port+" ") {
			t.Errorf("NormalizeURL(%q) = %v, %v; want an error naming the URL and port %s", tc.in, u, err, tc.port)
		}
	}
	for _, bad := range []string{"http://h:abc/", "http://h:-1/", "http://h:8o/"} {
		if u, err := NormalizeURL(bad); err == nil || !strings.Contains(err.Error(), "port") {
			t.Errorf("NormalizeURL(%q) = %v, %v; want an error about the port", bad, u, err)
		}
	}
}

// FuzzStoredPage runs the whole document path, as the crawler stores a
// page: decode to UTF-8, the personal-data filter, the cleaned DOM, the
// extracted title and text. No value the scanner reports in what would be
// stored may survive: scanning the stored forms again finds nothing.
func FuzzStoredPage(f *testing.F) {
	for _, s := range []string{
		`<p>联系人：王先生，手机 138 1234 5678</p><script>var s={"m":"\u0031\u0033\u0039\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038"}</script>`,
		`<a href="/p?email=wang%2540example.cn" title="13712345678" data-u="11010519491231002X">x</a><!-- 13512345678 -->`,
		`<meta charset="gbk"><p>` + "\xc1\xaa\xcf\xb5\xc8\xcb" + ` 13612345678</p>`,
		`<div>138</div><div>1234 5678</div><span onclick="f('a@b.cn')">x</span>`,
		`<title>&#49;&#51;&#56;12345678</title><textarea>wang@example.cn</textarea>`,
	} {
		f.Add([]byte(s), "text/html")
	}
	f.Add([]byte(`{"mobile":"13812345678","n":"\u0031\u0033\u0039\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038"}`), "application/json")
	pf, err := pii.New(pii.Config{HMACKey: []byte("fuzz"), KeepSensitive: true})
	if err != nil {
		f.Fatal(err)
	}
	filter := PIIFilter(pf)
	f.Fuzz(func(t *testing.T, raw []byte, ctype string) {
		body, ct, _, ok := textdecode.Decode(ctype, raw)
		if !ok {
			return
		}
		out, sum, err := filter.FilterBody(ct, body)
		if err != nil || sum.Drop {
			return
		}
		html := looksHTML(ct, out)
		stored := out
		if html {
			stored = cleanHTML(out)
		}
		title, text := extractText(ct, stored)
		title, text = filter.FilterText(title), filter.FilterText(text)
		for _, form := range []struct {
			name string
			b    []byte
			html bool
		}{{"page", out, html}, {"stored page", stored, html}, {"title", []byte(title), false}, {"text", []byte(text), false}} {
			var fs []pii.Finding
			if form.html {
				fs, err = pf.ScanHTML(form.b)
				if err != nil {
					t.Fatal(err)
				}
			} else {
				fs = pf.ScanText(form.b)
			}
			for _, x := range fs {
				t.Fatalf("%s keeps %s %q after the filter:\ninput %q\nstored %q", form.name, x.Entity, form.b[x.Start:x.End], raw, form.b)
			}
		}
	})
}

func FuzzPageRules(f *testing.F) {
	for _, s := range []struct{ hdr, body string }{
		{"noindex, nofollow", `<meta name="robots" content="noarchive">`},
		{"goodbot: none, otherbot: noindex", `<a rel="nofollow ugc" href="/a">`},
		{"unavailable_after: Friday, 25-Jun-2010 15:00:00 GMT, nofollow", `<base href="x/"><a rel=sponsored href=b>`},
		{"GoodBot:unavailable_after: 2030-01-01", `<meta name=goodbot content="unavailable_after: soon, none">`},
		{":", `<a href="http://[::1">`},
	} {
		f.Add(s.hdr, s.body)
	}
	base, _ := url.Parse("http://127.0.0.1:8080/dir/page")
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, hdr, body string) {
		h := http.Header{}
		for _, v := range strings.Split(hdr, "\n") {
			h.Add("X-Robots-Tag", v)
		}
		p := readPageRules(newLinkResolver(), base, h, []byte(body), true, now)
		if p == nil {
			return
		}
		if len(p.rules) > maxRules || len(p.relNofollow) > maxRelLinks {
			t.Fatalf("%d rules, %d rel links: over the bounds", len(p.rules), len(p.relNofollow))
		}
		for _, r := range p.rules {
			if r.Source == "" || r.Rule == "" || r.Decision == "" || len(r.Rule) > 200 {
				t.Fatalf("rule %+v: want a source, a rule of at most 200 bytes and a decision", r)
			}
		}
		if (p.noindex || p.badDate != "") && p.notStored() == "" {
			t.Fatalf("noindex %v, bad date %q, but notStored says the page may be stored", p.noindex, p.badDate)
		}
		for k := range p.relNofollow {
			n, err := NormalizeURL(k)
			if err != nil || n.String() != k {
				t.Fatalf("rel link %q is not a normalised URL (%v)", k, err)
			}
			if p.nofollow && p.linkRule(n, true) == "" {
				t.Fatalf("a nofollow page's link %q is followed", k)
			}
		}
	})
}

func FuzzDenyList(f *testing.F) {
	for _, s := range []string{"*.mil.cn\n# c\nx.example # y\n", "[::1]\n127.0.0.1\n", "*.例子.测试\n", "a:b\n", "*.\n", "\xff\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ReadDenyList(strings.NewReader(in), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		d, err := newDenyList(got)
		if err != nil {
			t.Fatalf("entries %q that ReadDenyList accepted are refused: %v", got, err)
		}
		for _, p := range got {
			again, err := ParseDenyEntry(p)
			if err != nil || again != p {
				t.Fatalf("entry %q is not canonical: %q, %v", p, again, err)
			}
			host := strings.TrimPrefix(p, "*.")
			if _, ok := d.match(host); !ok {
				t.Fatalf("entry %q does not match %q", p, host)
			}
			if strings.HasPrefix(p, "*.") {
				if _, ok := d.match("www." + host); !ok {
					t.Fatalf("entry %q does not match www.%s", p, host)
				}
			}
		}
	})
}
