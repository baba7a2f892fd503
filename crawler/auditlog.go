package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/goodbot/goodbot/audit"
)

// DefaultAuditDir returns the directory of the operation log a Crawler
// opens when Config.Sink and Config.AuditDir are empty: outDir/audit when
// outDir is set, as goodbot crawl keeps it; else goodbot/audit in the
// user's data directory ($XDG_DATA_HOME, by default ~/.local/share, on
// Unix; os.UserConfigDir on Windows, macOS and Plan 9, where that is the
// directory for an application's data). Neither depends on the working
// directory, and neither is a cache that the system may clear: the log is
// kept at least 180 days.
func DefaultAuditDir(outDir string) (string, error) {
	if outDir != "" {
		return filepath.Join(outDir, "audit"), nil
	}
	dir, err := userDataDir()
	if err != nil {
		return "", fmt.Errorf("crawler: no place for the operation log (%w); set Config.AuditDir or Config.OutDir", err)
	}
	return filepath.Join(dir, "goodbot", "audit"), nil
}

// userDataDir is the user's directory for application data.
func userDataDir() (string, error) {
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "plan9":
		return os.UserConfigDir()
	}
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return d, nil
	}
	home := os.Getenv("HOME")
	if home == "" {
		return "", errors.New("neither $XDG_DATA_HOME nor $HOME is set")
	}
	return filepath.Join(home, ".local", "share"), nil
}

// KeyFileFor returns where the signing key of the log named origin lives
// when nothing else says: one file per origin under goodbot/keys in the
// user's configuration directory (os.UserConfigDir), so that a key's name
// is its log's. The single key file of earlier versions
// (goodbot/audit-signing.key) is still used when it is named origin, or
// for a log that exists already (logExists), which it signed. Either is
// outside every log directory, so that whoever is handed a log does not get
// the key that signs it.
func KeyFileFor(origin string, logExists bool) (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("crawler: no place for the operation log's signing key: %w", err)
	}
	perOrigin := filepath.Join(dir, "goodbot", "keys", strings.ReplaceAll(origin, "/", "_")+".key")
	legacy := filepath.Join(dir, "goodbot", "audit-signing.key")
	if _, err := os.Stat(perOrigin); err == nil {
		return perOrigin, nil
	}
	if b, err := os.ReadFile(legacy); err == nil && (logExists || audit.KeyName(string(b)) == origin) {
		return legacy, nil
	}
	return perOrigin, nil
}

// DefaultOrigin names a new operation log after its operator: the domain
// of the contact (mailto:ops@example.org and https://example.org/bot both
// give "example.org/goodbot"). The machine's name is never in it.
func DefaultOrigin(contact string) string {
	domain := "localhost"
	if u, err := url.Parse(contact); err == nil {
		if u.Scheme == "mailto" {
			if addr, err := mail.ParseAddress(u.Opaque); err == nil {
				if _, d, ok := strings.Cut(addr.Address, "@"); ok {
					domain = d
				}
			}
		} else if u.Hostname() != "" {
			domain = u.Hostname()
		}
	}
	return CleanOrigin(strings.ToLower(domain) + "/goodbot")
}

// CleanOrigin replaces what a log's origin may not hold (spaces, control
// characters, '+') with '_'.
func CleanOrigin(o string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '+' {
			return '_'
		}
		return r
	}, o)
}

// OpenLog opens the operation log in dir (DefaultAuditDir("") when dir is
// empty) as New opens a Crawler's own: opts.Origin defaults to the name of
// the log in dir, if there is one, else to "localhost/goodbot" (pass
// DefaultOrigin(contact)); opts.KeyFile to KeyFileFor(origin); and segments
// past the retention period are pruned.
//
// The log locks its directory, so only one writer, in this process or
// another, has it open; a second one gets an error wrapping
// audit.ErrInUse. Crawlers of one process that run at the same time, such
// as one per request of a scraping service, therefore share one log: open
// it once with OpenLog, pass it to each as Config.Sink, and Close it after
// the last Run has returned.
func OpenLog(ctx context.Context, dir string, opts audit.Options) (*audit.Log, error) {
	var err error
	if dir == "" {
		if dir, err = DefaultAuditDir(""); err != nil {
			return nil, err
		}
	}
	existing, err := audit.LogOrigin(dir)
	if err != nil {
		return nil, fmt.Errorf("crawler: operation log %s: %w", dir, err)
	}
	if opts.Origin == "" {
		opts.Origin = existing
		if opts.Origin == "" {
			opts.Origin = DefaultOrigin("")
		}
	}
	if opts.KeyFile == "" {
		if opts.KeyFile, err = KeyFileFor(opts.Origin, existing != ""); err != nil {
			return nil, err
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	l, err := audit.Open(dir, opts)
	if errors.Is(err, audit.ErrInUse) {
		return nil, fmt.Errorf("crawler: operation log %s: %w; Crawlers that run at the same time share one log: open it once with crawler.OpenLog and pass it to each as Config.Sink", dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("crawler: operation log %s: %w", dir, err)
	}
	// Segments past the retention period (at least 180 days) go; their
	// leaf hashes and checkpoints stay, so old proofs still verify.
	if n, err := l.Prune(ctx); err != nil {
		opts.Logger.Warn("operation log: pruning failed", "dir", dir, "err", err)
	} else if n > 0 {
		opts.Logger.Info("operation log: pruned segments past retention", "dir", dir, "segments", n)
	}
	return l, nil
}

// openLog sets c.Sink when it is nil: to the Crawler's own operation log,
// which it opens and returns, or, when the operator declined a log with
// NoAuditLog, to a logger, with a warning. It returns the directory of the
// log the crawl records to, when it knows it.
func (c *Config) openLog() (own *audit.Log, dir string, err error) {
	if c.NoAuditLog != "" {
		switch {
		case strings.TrimSpace(c.NoAuditLog) == "":
			return nil, "", errors.New("crawler: NoAuditLog must say why the crawl keeps no operation log")
		case c.Sink != nil || c.AuditDir != "" || c.AuditKeyFile != "":
			return nil, "", errors.New("crawler: NoAuditLog declines the operation log; it cannot be combined with Sink, AuditDir or AuditKeyFile")
		}
		c.Logger.Warn("crawler: no operation log: requests and decisions go to the logger only, and nothing verifiable is kept", "reason", c.NoAuditLog)
		c.Sink = audit.SlogSink{Logger: c.Logger}
		return nil, "", nil
	}
	if c.Sink != nil {
		if c.AuditDir != "" || c.AuditKeyFile != "" {
			return nil, "", errors.New("crawler: AuditDir and AuditKeyFile configure the Crawler's own operation log; with Sink set there is none (open a log with OpenLog and pass it as Sink)")
		}
		if l, ok := c.Sink.(*audit.Log); ok {
			dir = l.Dir()
		}
		return nil, dir, nil
	}
	dir = c.AuditDir
	if dir == "" {
		if dir, err = DefaultAuditDir(c.OutDir); err != nil {
			return nil, "", err
		}
	}
	origin, err := audit.LogOrigin(dir)
	if err != nil {
		return nil, "", fmt.Errorf("crawler: operation log %s: %w", dir, err)
	}
	if origin == "" {
		origin = DefaultOrigin(c.Contact)
	}
	own, err = OpenLog(context.Background(), dir, audit.Options{KeyFile: c.AuditKeyFile, Origin: origin, Logger: c.Logger})
	if err != nil {
		return nil, "", err
	}
	c.Sink = own
	return own, dir, nil
}

// Close closes the operation log the Crawler opened itself, after signing a
// final checkpoint; a Config.Sink is the caller's to close. Run calls Close
// when it ends, so call it only for a Crawler that is never run. It may be
// called more than once. A Crawler whose own log is closed cannot run.
func (cr *Crawler) Close() error {
	if cr.log == nil {
		return nil
	}
	if err := cr.log.Close(); err != nil {
		return fmt.Errorf("crawler: operation log %s: %w", cr.logDir, err)
	}
	return nil
}

// logSetting describes for the config event where the crawl's operation
// log is, or why there is none.
func (cr *Crawler) logSetting() string {
	if cr.cfg.NoAuditLog != "" {
		return "none: " + cr.cfg.NoAuditLog
	}
	return cr.logDir
}
