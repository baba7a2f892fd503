package crawler

import (
	"net/url"
	"strings"
	"testing"
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
}
