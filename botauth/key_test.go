package botauth

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKeyFileCreateLoadRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "bot.key")
	k, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode().Perm(), err)
	}
	again, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created || again.KeyID() != k.KeyID() {
		t.Fatalf("load: %v %v %s != %s", created, err, again.KeyID(), k.KeyID())
	}
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	nk, old, err := RotateKeyFile(path, now)
	if err != nil || old.KeyID() != k.KeyID() || nk.KeyID() == k.KeyID() {
		t.Fatalf("rotate: %v", err)
	}
	keys, err := DirectoryKeys(path, now.Add(time.Hour))
	if err != nil || len(keys) != 2 || keys[0].KeyID() != nk.KeyID() || keys[1].KeyID() != k.KeyID() {
		t.Fatalf("directory after rotation: %v %v", keys, err)
	}
	if exp := keys[1].JWK().Exp; exp != now.Add(RetiredKeyGrace).Unix() {
		t.Errorf("retired key's exp %d", exp)
	}
	if keys[0].JWK().Exp != 0 {
		t.Error("the key in use has an exp")
	}
	keys, err = DirectoryKeys(path, now.Add(RetiredKeyGrace))
	if err != nil || len(keys) != 1 {
		t.Fatalf("directory after the grace period: %d keys, %v", len(keys), err)
	}
}

func TestKeyFileReadableByOthersIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.key")
	if _, _, err := LoadOrCreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("got %v, want a refusal", err)
	}
}

func TestParseKeyRejects(t *testing.T) {
	for _, in := range []string{"", "not pem", "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n-----END PUBLIC KEY-----\n",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"} {
		if _, err := ParseKey([]byte(in)); err == nil {
			t.Errorf("ParseKey(%q) accepted", in)
		}
	}
}

func TestAgentOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://Example.ORG":                     "https://example.org",
		"https://example.org/":                    "https://example.org",
		"https://example.org:443" + DirectoryPath: "https://example.org",
		"https://example.org:8443":                "https://example.org:8443",
		"https://bücher.example":                  "https://xn--bcher-kva.example",
	} {
		if got, err := AgentOrigin(in); err != nil || got != want {
			t.Errorf("AgentOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "http://example.org", "mailto:a@example.org", "https://", "https://example.org/bot",
		"https://u@example.org", "https://example.org/?q", "https://example.org/#f"} {
		if got, err := AgentOrigin(in); err == nil {
			t.Errorf("AgentOrigin(%q) = %q, want an error", in, got)
		}
	}
}

// Sign replaces signature fields a request already had, and covers the
// authority the request goes to: req.Host when set, with the default port
// dropped.
func TestSignReplacesAndCoversHost(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(k, "https://ops.example.org", 0)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return time.Unix(1735689600, 0) }
	req, _ := http.NewRequest("GET", "https://EXAMPLE.com:443/x", nil)
	req.Header.Set("Signature", `evil=:AAAA:`)
	req.Header.Add("Signature-Input", `evil=("@method")`)
	req.Header.Set("Signature-Agent", `evil="https://impostor.example"`)
	if err := s.Sign(req); err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Values("Signature-Agent"); len(got) != 1 || got[0] != `sig1="https://ops.example.org"` {
		t.Errorf("Signature-Agent %q", got)
	}
	in := req.Header.Get("Signature-Input")
	if !strings.HasPrefix(in, `sig1=("@authority" "signature-agent";key="sig1");created=1735689600;expires=1735689660;keyid="`+k.KeyID()+`";alg="ed25519";nonce="`) ||
		!strings.HasSuffix(in, `";tag="web-bot-auth"`) || strings.Contains(in, "evil") {
		t.Errorf("Signature-Input %s", in)
	}
	if m := requestMessage(req); m.authority != "example.com" {
		t.Errorf("authority %q", m.authority)
	}
	req.Host = "other.example:8080"
	if m := requestMessage(req); m.authority != "other.example:8080" {
		t.Errorf("authority with Host set: %q", m.authority)
	}
}
