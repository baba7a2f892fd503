package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/botauth"
	"github.com/goodbot/goodbot/crawler"
)

const botkeyUsage = `Usage:
  goodbot botkey directory --contact URL | --bot-directory URL [--bot-key FILE] [--format http|json] [--validity DUR]
      print the key directory to publish at ORIGIN/.well-known/http-message-signatures-directory
  goodbot botkey rotate --contact URL | --bot-directory URL [--bot-key FILE] [--audit DIR]
      replace the request-signing key; the old one stays in the directory for 7 days

The key signs every request goodbot crawl sends (Web Bot Auth, RFC 9421).
It is not the operation log's key.
`

// runBotkey runs "goodbot botkey".
func runBotkey(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, botkeyUsage)
		return 2
	}
	fs := flag.NewFlagSet("goodbot botkey "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	contact := fs.String("contact", "", "the crawl's contact; an https URL gives the key directory's origin")
	dir := fs.String("bot-directory", "", "https origin of the key directory (default: the --contact URL's origin)")
	keyFile := fs.String("bot-key", "", "the request-signing key (default: the one goodbot crawl uses for this directory)")
	format := fs.String("format", "http", "directory: http (a signed HTTP response: header fields, a blank line, the body) or json (the body alone)")
	validity := fs.Duration("validity", botauth.DefaultDirectoryValidity, "directory: how long the directory's signatures are valid")
	auditDir := fs.String("audit", "", "rotate: an operation log directory to record the rotation in (e.g. OUT/audit)")
	fs.Usage = func() { fmt.Fprint(stderr, botkeyUsage); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	origin, file, err := botkeyTarget(*contact, *dir, *keyFile)
	if err != nil {
		fmt.Fprintf(stderr, "goodbot botkey: %v\n", err)
		return 2
	}
	switch args[0] {
	case "directory":
		err = printDirectory(stdout, origin, file, *format, *validity)
	case "rotate":
		err = rotateBotKey(ctx, stdout, origin, file, *auditDir)
	default:
		fmt.Fprintf(stderr, "goodbot botkey: unknown command %q\n\n%s", args[0], botkeyUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "goodbot botkey %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// botkeyTarget resolves the key directory's origin and the key file as
// goodbot crawl does.
func botkeyTarget(contact, dir, keyFile string) (origin, file string, err error) {
	if dir == "" {
		dir = crawler.DefaultBotDirectory(contact)
	}
	if dir == "" {
		return "", "", errors.New("give --bot-directory URL (an https origin), or an https --contact")
	}
	if origin, err = botauth.AgentOrigin(dir); err != nil {
		return "", "", err
	}
	if file = keyFile; file == "" {
		if file, err = crawler.DefaultBotKeyFile(origin); err != nil {
			return "", "", err
		}
	}
	return origin, file, nil
}

// printDirectory writes the key directory of file for origin.
func printDirectory(w io.Writer, origin, file, format string, validity time.Duration) error {
	keys, err := botauth.DirectoryKeys(file, time.Now())
	if err != nil {
		return fmt.Errorf("%w (goodbot crawl creates the key on first use; or give --bot-key)", err)
	}
	body, err := botauth.DirectoryBody(keys)
	if err != nil {
		return err
	}
	switch format {
	case "json":
		_, err = fmt.Fprintf(w, "%s\n", body)
		return err
	case "http":
	default:
		return fmt.Errorf("--format %q: want http or json", format)
	}
	u, err := url.Parse(origin)
	if err != nil {
		return err
	}
	h, err := botauth.DirectoryHeader(keys, body, u.Host, time.Now(), validity)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\n")
	for _, k := range []string{"Content-Type", "Cache-Control", "Content-Digest", "Signature-Input", "Signature"} {
		fmt.Fprintf(&b, "%s: %s\r\n", k, h.Get(k))
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	_, err = io.WriteString(w, b.String())
	return err
}

// rotateBotKey replaces the key in file, and records the rotation in the
// operation log in auditDir when one is given.
func rotateBotKey(ctx context.Context, w io.Writer, origin, file, auditDir string) error {
	var alog *audit.Log
	if auditDir != "" {
		// Only an existing log: a rotation is no reason to start one.
		name, err := audit.LogOrigin(auditDir)
		if err != nil {
			return fmt.Errorf("operation log %s: %w", auditDir, err)
		}
		if name == "" {
			return fmt.Errorf("no operation log in %s", auditDir)
		}
		if alog, err = crawler.OpenLog(ctx, auditDir, audit.Options{}); err != nil {
			return err
		}
		defer alog.Close()
	}
	nk, old, err := botauth.RotateKeyFile(file, time.Now())
	if err != nil {
		return err
	}
	if alog != nil {
		e := audit.Event{Type: audit.TypeBotKey, Time: time.Now().UTC(), BotKey: &audit.BotKey{
			Action: "rotated", KeyID: nk.KeyID(), PublicKey: nk.JWK().X, Previous: old.KeyID(), Agent: origin, File: file,
		}}
		if err := alog.Record(ctx, e); err != nil {
			return fmt.Errorf("the key was rotated, but recording it failed: %w", err)
		}
	}
	fmt.Fprintf(w, "rotated %s: new keyid %s, previous %s (kept in the directory until %s)\npublish the directory again: goodbot botkey directory --bot-directory %s --bot-key %s\n",
		file, nk.KeyID(), old.KeyID(), old.Retired.Add(botauth.RetiredKeyGrace).Format(time.RFC3339), origin, file)
	return nil
}

// checkBotKey refuses a --bot-key that is the operation log's key or lies
// inside the log's directory.
func checkBotKey(botKey, auditKey, auditDir string) error {
	if botKey == "" {
		return nil
	}
	b, err := filepath.Abs(botKey)
	if err != nil {
		return err
	}
	if a, err := filepath.Abs(auditKey); err == nil && a == b {
		return usagef("--bot-key %s is the operation log's key; the request-signing key must be another", botKey)
	}
	if d, err := filepath.Abs(auditDir); auditDir != "" && err == nil && strings.HasPrefix(b, d+string(os.PathSeparator)) {
		return usagef("--bot-key %s is inside the operation log %s; keep it outside", botKey, auditDir)
	}
	return nil
}
