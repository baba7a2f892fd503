// Package evidence exports, for one site, the part of goodbot's operation
// log and stored pages that a site operator, a lawyer or a court needs, as a
// self-contained bundle that can be checked offline; and checks such
// bundles.
//
// A bundle is a directory:
//
//	bundle.json       what the bundle is: site, log origin, checkpoint size, counts
//	entries.jsonl     every log entry about the site (and the run-wide config,
//	                  key and run entries), exactly as stored and hashed
//	proofs.jsonl      an RFC 6962 inclusion proof for each entry, same order
//	checkpoint.txt    the signed checkpoint the proofs lead to
//	keys.txt          the log's public keys (compare them with the published ones)
//	robots/<sha256>.txt  each robots.txt as fetched
//	pages.warc.gz     WARC 1.1: each request and answer (headers), the stored
//	                  (redacted, UTF-8) pages, robots.txt, refusals
//	report.html       a readable report, no server or network needed
//	MANIFEST.sha256   SHA-256 of every other file (sha256sum -c format)
package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/internal/site"
	"golang.org/x/mod/sumdb/tlog"
)

// Format names the bundle format in bundle.json.
const Format = "goodbot-evidence/1"

// File names inside a bundle.
const (
	FileInfo       = "bundle.json"
	FileEntries    = "entries.jsonl"
	FileProofs     = "proofs.jsonl"
	FileCheckpoint = "checkpoint.txt"
	FileKeys       = "keys.txt"
	FileWARC       = "pages.warc.gz"
	FileReport     = "report.html"
	FileManifest   = "MANIFEST.sha256"
	DirRobots      = "robots"
)

// ExportOptions configure Export.
type ExportOptions struct {
	// Site is the site key, e.g. "example.com" or "127.0.0.1:8080".
	Site string
	// Out is the crawler's output directory holding sites/<dir>/pages.jsonl.
	// Empty means no stored pages are exported.
	Out string
	// Verify configures the verification of the log done before export.
	Verify audit.VerifyOptions
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// Info is the content of bundle.json.
type Info struct {
	Format         string    `json:"format"`
	Site           string    `json:"site"`
	Origin         string    `json:"origin"`
	Created        time.Time `json:"created"`
	CheckpointSize int64     `json:"checkpoint_size"`
	Root           tlog.Hash `json:"root"`
	Entries        int       `json:"entries"`
	// Unproven lists entries newer than the checkpoint: they have no proof.
	Unproven []int64 `json:"unproven,omitempty"`
	Pages    int     `json:"pages"`
	Robots   int     `json:"robots"`
	KeysFrom string  `json:"keys_from"`
}

// proofLine is one line of proofs.jsonl.
type proofLine = audit.InclusionProof

// concerns reports whether an entry belongs in a site's bundle: it is about
// the site, or it describes the run as a whole.
func concerns(e *audit.Event, siteKey string) bool {
	if e.Site != "" {
		return e.Site == siteKey
	}
	switch e.Type {
	case audit.TypeConfig, audit.TypeKey, audit.TypeRun, audit.TypeRecovery, audit.TypePrune:
		return true
	}
	return false
}

// Export verifies the log in auditDir and writes the evidence bundle for
// opts.Site into bundleDir, which must not exist yet.
func Export(ctx context.Context, auditDir, bundleDir string, opts ExportOptions) (Info, error) {
	var info Info
	key, err := site.Parse(opts.Site)
	if err != nil {
		return info, fmt.Errorf("evidence: %w", err)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if _, err := os.Stat(bundleDir); err == nil {
		return info, fmt.Errorf("evidence: %s already exists; choose a new bundle directory", bundleDir)
	}

	var entries []audit.Entry
	vo := opts.Verify
	userVisit := vo.Visit
	vo.Visit = func(e *audit.Entry) error {
		if concerns(&e.Event, key) {
			c := *e
			c.Raw = slices.Clone(e.Raw)
			entries = append(entries, c)
		}
		if userVisit != nil {
			return userVisit(e)
		}
		return nil
	}
	prover, err := audit.NewProver(ctx, auditDir, vo)
	if err != nil {
		return info, fmt.Errorf("evidence: the log does not verify: %w", err)
	}
	defer prover.Close()
	sum := prover.Summary
	cp := sum.Checkpoint
	if cp.Size == 0 {
		return info, errors.New("evidence: the log has no signed checkpoint; close the log, or sign one over what is durable with goodbot audit checkpoint --sign KEYFILE DIR, first")
	}
	info = Info{Format: Format, Site: key, Origin: cp.Origin, Created: now().UTC(), CheckpointSize: cp.Size, Root: cp.Root, Entries: len(entries), KeysFrom: sum.KeysFrom}

	if err := os.MkdirAll(filepath.Join(bundleDir, DirRobots), 0o755); err != nil {
		return info, fmt.Errorf("evidence: %w", err)
	}
	var ents, proofs bytes.Buffer
	robots := map[string][]byte{}
	for i := range entries {
		e := &entries[i]
		ents.Write(e.Raw)
		ents.WriteByte('\n')
		if r := e.Event.Robots; r != nil && len(r.Body) > 0 {
			robots[digest(r.Body)] = r.Body
		}
		if e.Seq >= cp.Size {
			info.Unproven = append(info.Unproven, e.Seq)
			continue
		}
		p, err := prover.Inclusion(e.Seq, cp.Size)
		if err != nil {
			return info, fmt.Errorf("evidence: %w", err)
		}
		b, _ := json.Marshal(proofLine(p))
		proofs.Write(b)
		proofs.WriteByte('\n')
	}
	info.Robots = len(robots)
	write := func(name string, b []byte) error {
		if err := os.WriteFile(filepath.Join(bundleDir, name), b, 0o644); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		return nil
	}
	if err := write(FileEntries, ents.Bytes()); err != nil {
		return info, err
	}
	if err := write(FileProofs, proofs.Bytes()); err != nil {
		return info, err
	}
	if err := write(FileCheckpoint, cp.Note); err != nil {
		return info, err
	}
	keys := slices.Clone(sum.Keys)
	sort.Strings(keys)
	if err := write(FileKeys, []byte(strings.Join(keys, "\n")+"\n")); err != nil {
		return info, err
	}
	for d, b := range robots {
		if err := write(filepath.Join(DirRobots, d+".txt"), b); err != nil {
			return info, err
		}
	}

	pages, err := writeWARC(ctx, filepath.Join(bundleDir, FileWARC), key, opts.Out, entries, info.Created)
	if err != nil {
		return info, err
	}
	info.Pages = len(pages)

	rep, err := renderReport(info, entries, pages, cp, keys)
	if err != nil {
		return info, err
	}
	if err := write(FileReport, rep); err != nil {
		return info, err
	}
	ib, _ := json.MarshalIndent(info, "", "  ")
	if err := write(FileInfo, append(ib, '\n')); err != nil {
		return info, err
	}
	return info, writeManifest(bundleDir)
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func operatorOf(c *audit.Config) string {
	for _, k := range []string{"contact", "operator", "operator_contact"} {
		if v := c.Settings[k]; v != "" {
			return v
		}
	}
	return "see the User-Agent"
}

// writeManifest writes MANIFEST.sha256 for every file in dir.
func writeManifest(dir string) error {
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == FileManifest {
			return nil
		}
		sum, err := fileSHA256(path)
		if err != nil {
			return err
		}
		lines = append(lines, sum+"  "+rel)
		return nil
	})
	if err != nil {
		return fmt.Errorf("evidence: manifest: %w", err)
	}
	sort.Strings(lines)
	return os.WriteFile(filepath.Join(dir, FileManifest), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
