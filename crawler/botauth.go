package crawler

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/botauth"
)

// DefaultBotDirectory returns the key directory Config.BotDirectory
// defaults to for a contact: the contact's origin when it is an https URL
// (https://example.org/bot gives https://example.org, where the directory
// is served at botauth.DirectoryPath), else "". A mailto: or http: contact
// gives no directory: Web Bot Auth names the key directory by an https
// origin, and a signature whose key no site can fetch proves nothing.
func DefaultBotDirectory(contact string) string {
	u, err := url.Parse(contact)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return ""
	}
	return "https://" + u.Host
}

// DefaultBotKeyFile returns where the key that signs requests for the key
// directory at origin is kept when Config.BotKeyFile is empty: one file per
// directory host under goodbot/bot-keys in the user's configuration
// directory (os.UserConfigDir). That is outside every output and log
// directory, and apart from the operation log's keys (goodbot/keys): the
// two keys sign different things for different readers.
func DefaultBotKeyFile(origin string) (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("crawler: no place for the request-signing key: %w", err)
	}
	host := strings.TrimPrefix(origin, "https://")
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == ':' || r == '\\' || r <= ' ' {
			return '_'
		}
		return r
	}, host)
	return filepath.Join(dir, "goodbot", "bot-keys", name+".key"), nil
}

// botAuth is how a Crawler signs its requests.
type botAuth struct {
	signer *botauth.Signer // nil when requests are not signed
	off    string          // why not, when signer is nil
	event  *audit.BotKey   // recorded at the start of each run
}

// openBotAuth sets up request signing as c asks. logDir is the operation
// log's directory, if known, which the key must not be in.
func (c *Config) openBotAuth(logDir string) (*botAuth, error) {
	if c.NoBotAuth != "" {
		if strings.TrimSpace(c.NoBotAuth) == "" {
			return nil, errors.New("crawler: NoBotAuth must say why requests are not signed")
		}
		if c.BotKey != nil || c.BotKeyFile != "" || c.BotDirectory != "" {
			return nil, errors.New("crawler: NoBotAuth declines request signing; it cannot be combined with BotKey, BotKeyFile or BotDirectory")
		}
		return &botAuth{off: "declined: " + c.NoBotAuth}, nil
	}
	dir := c.BotDirectory
	if dir == "" {
		dir = DefaultBotDirectory(c.Contact)
	}
	if dir == "" {
		if c.BotKey != nil || c.BotKeyFile != "" {
			return nil, errors.New("crawler: BotKey and BotKeyFile sign requests for a key directory: set BotDirectory to the https origin that serves it (the contact is not an https URL)")
		}
		return &botAuth{off: "no key directory: the contact is not an https URL and BotDirectory is not set"}, nil
	}
	origin, err := botauth.AgentOrigin(dir)
	if err != nil {
		return nil, fmt.Errorf("crawler: BotDirectory: %w", err)
	}
	ev := &audit.BotKey{Action: "in-use", Agent: origin}
	var key *botauth.Key
	if c.BotKey != nil {
		if c.BotKeyFile != "" {
			return nil, errors.New("crawler: set BotKey or BotKeyFile, not both")
		}
		if key, err = botauth.NewKey(c.BotKey); err != nil {
			return nil, fmt.Errorf("crawler: BotKey: %w", err)
		}
	} else {
		file := c.BotKeyFile
		if file == "" {
			if file, err = DefaultBotKeyFile(origin); err != nil {
				return nil, err
			}
		}
		if err := c.checkBotKeyPlace(file, logDir); err != nil {
			return nil, err
		}
		var created bool
		if key, created, err = botauth.LoadOrCreateKeyFile(file); err != nil {
			return nil, fmt.Errorf("crawler: %w", err)
		}
		if created {
			ev.Action = "created"
			c.Logger.Info("created the key that signs requests (Web Bot Auth); publish its directory with: goodbot botkey directory",
				"file", file, "keyid", key.KeyID(), "directory", origin+botauth.DirectoryPath)
		}
		ev.File = file
	}
	signer, err := botauth.NewSigner(key, origin, 0)
	if err != nil {
		return nil, fmt.Errorf("crawler: %w", err)
	}
	ev.KeyID, ev.PublicKey = key.KeyID(), key.JWK().X
	return &botAuth{signer: signer, event: ev}, nil
}

// checkBotKeyPlace refuses a key file inside the output or the operation
// log, or one that is the operation log's key: whoever is handed the
// output or the log must not get a key that signs as the crawler.
func (c *Config) checkBotKeyPlace(file, logDir string) error {
	if c.AuditKeyFile != "" && sameFile(file, c.AuditKeyFile) {
		return fmt.Errorf("crawler: BotKeyFile %s is the operation log's key; the request-signing key must be another", file)
	}
	for _, d := range []string{c.OutDir, logDir} {
		if d == "" {
			continue
		}
		if inside(file, d) {
			return fmt.Errorf("crawler: BotKeyFile %s is inside %s; keep the request-signing key outside the output and the operation log", file, d)
		}
	}
	return nil
}

func sameFile(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// inside reports whether path is dir or inside it.
func inside(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	return p == d || strings.HasPrefix(p, strings.TrimSuffix(d, string(filepath.Separator))+string(filepath.Separator))
}

// setting describes request signing for the config event.
func (b *botAuth) setting() string {
	if b.signer == nil {
		return "off: " + b.off
	}
	return fmt.Sprintf("keyid=%s agent=%s", b.signer.Key().KeyID(), b.signer.Agent())
}
