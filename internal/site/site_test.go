package site

import (
	"net/url"
	"testing"
)

func TestKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://Example.COM/a", "example.com"},
		{"http://example.com:80/a", "example.com"},
		{"https://example.com:443/a", "example.com"},
		{"http://example.com:443/a", "example.com:443"},
		{"http://127.0.0.1:8080/", "127.0.0.1:8080"},
		{"http://[::1]:8080/", "[::1]:8080"},
		{"http://[::1]/", "[::1]"},
	} {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := Key(u); got != tc.want {
			t.Errorf("Key(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Example.com", "example.com"},
		{"127.0.0.1:8080", "127.0.0.1:8080"},
		{"[::1]:9", "[::1]:9"},
		{"example.com:80", "example.com"},
		{"example.com:443", "example.com"},
		{"[::1]:443", "[::1]"},
	} {
		got, err := Parse(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "http://example.com", "example.com/a", "example.com:x", ":80"} {
		if got, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %q, want error", bad, got)
		}
	}
}
