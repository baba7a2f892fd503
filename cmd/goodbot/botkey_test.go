package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/botauth"
)

// goodbot crawl --bot-directory signs with a key it creates (mode 0600) and
// records; goodbot botkey directory prints the directory to publish, as a
// signed response or as the bare document; goodbot botkey rotate replaces
// the key, keeps the old one in the directory, and records the rotation in
// the log, which still verifies.
func TestBotkeyCLI(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	s := identitySite(t)
	out := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "bot.key")
	code, msgs := crawlOnce(t, s, out, "--bot-directory", "https://ops.example.org", "--bot-key", keyFile)
	if code != 0 {
		t.Fatalf("crawl: exit %d\n%s", code, msgs)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v", err)
	}
	k, err := botauth.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, "botkey", "directory", "--bot-directory", "https://ops.example.org", "--bot-key", keyFile, "--format", "json")
	if code != 0 {
		t.Fatalf("botkey directory: %d %s", code, stderr)
	}
	var dir botauth.Directory
	if err := json.Unmarshal([]byte(stdout), &dir); err != nil || len(dir.Keys) != 1 || dir.Keys[0].Kid != k.KeyID() {
		t.Fatalf("directory %s: %v", stdout, err)
	}
	code, stdout, _ = runCLI(t, "botkey", "directory", "--bot-directory", "https://ops.example.org", "--bot-key", keyFile)
	if code != 0 || !strings.HasPrefix(stdout, "HTTP/1.1 200 OK\r\nContent-Type: application/http-message-signatures-directory+json\r\n") ||
		!strings.Contains(stdout, `tag="http-message-signatures-directory"`) || !strings.Contains(stdout, "\r\nContent-Digest: sha-256=:") {
		t.Fatalf("botkey directory --format http: %d\n%s", code, stdout)
	}

	audDir := filepath.Join(out, "audit")
	code, stdout, stderr = runCLI(t, "botkey", "rotate", "--bot-directory", "https://ops.example.org", "--bot-key", keyFile, "--audit", audDir)
	if code != 0 || !strings.Contains(stdout, "previous "+k.KeyID()) {
		t.Fatalf("botkey rotate: %d %s %s", code, stdout, stderr)
	}
	keys, err := botauth.DirectoryKeys(keyFile, k.Retired)
	if err != nil || len(keys) != 2 || keys[1].KeyID() != k.KeyID() {
		t.Fatalf("after rotation: %d keys, %v", len(keys), err)
	}
	var actions []string
	_, err = audit.Verify(context.Background(), audDir, audit.VerifyOptions{Visit: func(en *audit.Entry) error {
		if e := en.Event; e.Type == audit.TypeBotKey {
			actions = append(actions, e.BotKey.Action)
			if e.BotKey.Action == "rotated" && (e.BotKey.Previous != k.KeyID() || e.BotKey.KeyID != keys[0].KeyID()) {
				t.Errorf("rotation event %+v", e.BotKey)
			}
		}
		return nil
	}})
	if err != nil {
		t.Fatalf("log after rotation: %v", err)
	}
	if strings.Join(actions, ",") != "created,rotated" {
		t.Errorf("botkey events %v, want created,rotated", actions)
	}

	// The operation log's key is refused as the request-signing key.
	code, msgs = crawlOnce(t, s, t.TempDir(), "--bot-directory", "https://ops.example.org", "--bot-key", keyFile+"x", "--audit-key", keyFile+"x")
	if code != 2 || !strings.Contains(msgs, "operation log's key") {
		t.Errorf("same key for both: exit %d\n%s", code, msgs)
	}
}
