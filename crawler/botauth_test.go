package crawler

import (
	"crypto/ed25519"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/audit"
)

// With a mailto: contact and no key directory nothing is signed, the
// config event says why, and a Signature a callback sets (someone else's
// identity) is not sent.
func TestNoDirectoryNoSignature(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index")
	rec := &recorder{}
	cr, err := New(testConfig(t, rec, ts))
	if err != nil {
		t.Fatal(err)
	}
	cr.OnRequest(func(r *colly.Request) {
		r.Headers.Set("Signature", `sig1=:AAAA:`)
		r.Headers.Set("Signature-Agent", `sig1="https://impostor.example"`)
	})
	if err := cr.Visit(ts.url("/index")); err != nil {
		t.Fatal(err)
	}
	for _, r := range ts.seen() {
		for _, h := range []string{"Signature", "Signature-Input", "Signature-Agent"} {
			if v := r.Hdr.Get(h); v != "" {
				t.Errorf("%s sent %s: %s", r.URI, h, v)
			}
		}
	}
	cfgs := rec.all(audit.TypeConfig)
	if len(cfgs) == 0 || !strings.HasPrefix(cfgs[0].Config.Settings["bot_auth"], "off: no key directory") {
		t.Errorf("config events %+v", cfgs)
	}
	if n := len(rec.all(audit.TypeBotKey)); n != 0 {
		t.Errorf("%d botkey events without signing", n)
	}
}

func TestBotAuthConfigErrors(t *testing.T) {
	ts := newTestSite(t)
	_, priv, _ := ed25519.GenerateKey(nil)
	out := t.TempDir()
	for name, c := range map[string]func(*Config){
		"key without directory":      func(c *Config) { c.BotKey = priv },
		"key file without directory": func(c *Config) { c.BotKeyFile = filepath.Join(t.TempDir(), "k") },
		"http directory":             func(c *Config) { c.BotDirectory = "http://example.org" },
		"directory with a path":      func(c *Config) { c.BotDirectory = "https://example.org/keys.json" },
		"key and key file": func(c *Config) {
			c.BotDirectory, c.BotKey, c.BotKeyFile = "https://example.org", priv, filepath.Join(t.TempDir(), "k")
		},
		"key file in the output": func(c *Config) {
			c.BotDirectory, c.OutDir, c.BotKeyFile = "https://example.org", out, filepath.Join(out, "bot.key")
		},
		"declined with a directory": func(c *Config) { c.BotDirectory, c.NoBotAuth = "https://example.org", "test" },
		"declined without a reason": func(c *Config) { c.NoBotAuth = " " },
	} {
		cfg := testConfig(t, &recorder{}, ts)
		c(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	cfg := testConfig(t, &recorder{}, ts)
	cfg.Contact, cfg.NoBotAuth = "https://example.org/bot", "unit test"
	if _, err := New(cfg); err != nil {
		t.Errorf("declined signing: %v", err)
	}
	cfg = testConfig(t, &recorder{}, ts)
	cfg.BotDirectory, cfg.BotKey = "https://example.org", priv
	if _, err := New(cfg); err != nil {
		t.Errorf("a key and a directory: %v", err)
	}
}

func TestDefaultBotDirectory(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.org/bot":       "https://example.org",
		"https://ops.example.org:8443/": "https://ops.example.org:8443",
		"http://example.org/bot":        "",
		"mailto:me@example.org":         "",
	} {
		if got := DefaultBotDirectory(in); got != want {
			t.Errorf("DefaultBotDirectory(%q) = %q, want %q", in, got, want)
		}
	}
}
