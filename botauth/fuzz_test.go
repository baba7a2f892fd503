package botauth

import (
	"strings"
	"testing"
)

// ParseKey reads key files an operator may hand over: it never panics, and
// a key it accepts round-trips.
func FuzzParseKey(f *testing.F) {
	f.Add([]byte(rfcKeyPEM))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nRetired: 2026-09-01T00:00:00Z\n\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseKey(b)
		if err != nil {
			return
		}
		out, err := MarshalKey(k)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParseKey(out)
		if err != nil || k2.KeyID() != k.KeyID() || k2.Retired.Unix() != k.Retired.Unix() {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// AgentOrigin reads the --bot-directory flag: it never panics, and what it
// accepts is an https origin it accepts again unchanged.
func FuzzAgentOrigin(f *testing.F) {
	for _, s := range []string{"https://example.org", "https://example.org" + DirectoryPath, "https://[::1]:8443/", "http://x", "https://bücher.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := AgentOrigin(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(o, "https://") {
			t.Fatalf("%q gave %q", s, o)
		}
		if o2, err := AgentOrigin(o); err != nil || o2 != o {
			t.Fatalf("%q gave %q, which gives %q, %v", s, o, o2, err)
		}
	})
}
