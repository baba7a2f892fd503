package site

import (
	"net/url"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"example.com", "Example.COM:8080", "127.0.0.1:80", "[::1]:9", "[::1]", "a:b", "", "x/y", "xn--bcher-kva.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		if err != nil {
			return
		}
		// A canonical key parses to itself, and is the key of a URL on it.
		again, err := Parse(k)
		if err != nil || again != k {
			t.Fatalf("Parse(%q) = %q, which parses to %q, %v", s, k, again, err)
		}
		u, err := url.Parse("http://" + k + "/")
		if err != nil {
			t.Fatalf("key %q is not a URL host: %v", k, err)
		}
		if Key(u) != k {
			t.Fatalf("Key(http://%s/) = %q", k, Key(u))
		}
	})
}
