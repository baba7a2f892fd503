// Package evidence exports, for one site, the part of goodbot's operation
// log and stored pages that a site operator, a lawyer or a court needs, as a
// self-contained bundle that can be checked offline; and checks such
// bundles.
//
// A bundle is a directory; its FORMAT.md (bundlefiles/FORMAT.md here)
// specifies every file, field, encoding and hash:
//
//	FORMAT.md           the format of the bundle, for a verifier written from it
//	bundle.json         what the bundle is: id, site, log origin, checkpoint, counts
//	entries.jsonl       every log entry about the site (and the run-wide config,
//	                    key and run entries), exactly as stored and hashed
//	withheld.jsonl      the leaf hash of every other entry of the checkpoint's tree
//	proofs.jsonl        an RFC 6962 inclusion proof for each entry, same order
//	checkpoint.txt      the signed checkpoint (C2SP) the proofs lead to
//	keys.txt            the log's public keys (compare them with the published ones)
//	robots/<sha256>.txt each robots.txt as fetched
//	pages.warc.gz       WARC 1.1: each request and answer (headers), the stored
//	                    (redacted, UTF-8) pages, robots.txt, refusals
//	report.html         a readable report, no server or network needed
//	verify.py           a verifier in Python 3 (standard library only)
//	MANIFEST.sha256     SHA-256 of every other file (sha256sum -c format)
//	MANIFEST.sha256.sig the manifest's signature by the log's key (signed note)
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
	"github.com/goodbot/goodbot/audit/tsa"
	"github.com/goodbot/goodbot/internal/site"
	"golang.org/x/mod/sumdb/note"
)

// Format names the bundle format in bundle.json. Bundles of FormatV1 (no
// FORMAT.md, withheld.jsonl or signed manifest; hashes in base64) are
// still verified.
const (
	Format   = "goodbot-evidence/2"
	FormatV1 = "goodbot-evidence/1"
)

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
	FileWithheld   = "withheld.jsonl"
	FileFormat     = "FORMAT.md"
	FileVerifier   = "verify.py"
	// FileTimestamp is the RFC 3161 time-stamp token of checkpoint.txt,
	// present when the log was time-stamped.
	FileTimestamp = "checkpoint.tsr"
	// FileCosignatures holds witnesses' cosignature lines for
	// checkpoint.txt, present when the export was given some.
	FileCosignatures = "checkpoint.cosig"
	// FileManifestSig holds the signature lines of the signed note whose
	// text is MANIFEST.sha256, by the log's key.
	FileManifestSig = "MANIFEST.sha256.sig"
	DirRobots       = "robots"
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
	// Signer is the log's signing key; it signs the bundle's manifest.
	// It must be one of the log's trusted keys. Required.
	Signer note.Signer
	// Purpose says what the crawl was for, in the operator's words. The
	// log records the job and the User-Agent but no purpose.
	Purpose string
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Cosigned are checkpoints of the log as witnesses cosigned them
	// (C2SP tlog-cosignature; witness.Redis.Cosigned). The signature lines
	// of those with the body of the bundle's checkpoint that are not the
	// log's own go into checkpoint.cosig; the others are ignored.
	Cosigned [][]byte
}

// Info is the content of bundle.json.
type Info struct {
	Format string `json:"format"`
	// ID names the bundle: "gb-" and the first 16 hex digits of the
	// SHA-256 of the checkpoint, the site and the time of export.
	ID             string    `json:"id,omitempty"`
	Site           string    `json:"site"`
	Origin         string    `json:"origin"`
	Created        time.Time `json:"created"`
	Purpose        string    `json:"purpose,omitempty"`
	CheckpointSize int64     `json:"checkpoint_size"`
	// Root is the checkpoint's root hash, in hex (base64 in FormatV1).
	Root    string `json:"root"`
	Entries int    `json:"entries"`
	// Proven counts the entries with an inclusion proof, Withheld the
	// leaves of the checkpoint's tree listed in withheld.jsonl.
	Proven   int `json:"proven"`
	Withheld int `json:"withheld"`
	// Unproven lists entries newer than the checkpoint: they have no proof.
	Unproven []int64 `json:"unproven,omitempty"`
	Pages    int     `json:"pages"`
	Robots   int     `json:"robots"`
	KeysFrom string  `json:"keys_from"`
	// Timestamp describes checkpoint.tsr, when the bundle has one.
	Timestamp *TimestampInfo `json:"timestamp,omitempty"`
	// Cosignatures counts the lines of checkpoint.cosig.
	Cosignatures int `json:"cosignatures,omitempty"`
}

// TimestampInfo describes the RFC 3161 token in checkpoint.tsr, as read
// from it.
type TimestampInfo struct {
	File string    `json:"file"` // "checkpoint.tsr"
	Time time.Time `json:"time"` // the token's genTime
	TSA  string    `json:"tsa"`  // the signer certificate's subject
}

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
	if opts.Signer == nil {
		return info, errors.New("evidence: no signing key: the bundle's manifest is signed with the log's key")
	}
	if !slices.ContainsFunc(sum.Keys, func(k string) bool {
		v, err := note.NewVerifier(k)
		return err == nil && v.Name() == opts.Signer.Name() && v.KeyHash() == opts.Signer.KeyHash()
	}) {
		return info, fmt.Errorf("evidence: the signing key %s is not one of the log's keys (%s)", opts.Signer.Name(), strings.Join(sum.Keys, ", "))
	}
	created := now().UTC()
	idSum := sha256.Sum256([]byte(string(cp.Note) + "\n" + key + "\n" + created.Format(time.RFC3339Nano)))
	info = Info{Format: Format, ID: "gb-" + hex.EncodeToString(idSum[:8]), Site: key, Origin: cp.Origin, Created: created,
		Purpose: opts.Purpose, CheckpointSize: cp.Size, Root: hexHash(cp.Root), Entries: len(entries), KeysFrom: sum.KeysFrom}
	token, err := audit.CheckpointTimestamp(auditDir, cp.Note)
	if err != nil {
		return info, fmt.Errorf("evidence: %w", err)
	}
	if token != nil {
		tok, err := tsa.Parse(token)
		if err != nil {
			return info, fmt.Errorf("evidence: the time-stamp token of the checkpoint at size %d: %w", cp.Size, err)
		}
		info.Timestamp = &TimestampInfo{File: FileTimestamp, Time: tok.GenTime, TSA: tok.Signer.Subject.String()}
	}
	cosigs, n := cosignatureLines(cp.Note, opts.Cosigned)
	info.Cosignatures = n

	if err := os.MkdirAll(filepath.Join(bundleDir, DirRobots), 0o755); err != nil {
		return info, fmt.Errorf("evidence: %w", err)
	}
	var ents, proofs, withheld bytes.Buffer
	robots := map[string][]byte{}
	included := map[int64]bool{}
	for i := range entries {
		e := &entries[i]
		ents.Write(e.Raw)
		ents.WriteByte('\n')
		included[e.Seq] = true
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
		pl := proofLine{Seq: p.Seq, TreeSize: p.TreeSize, LeafHash: hexHash(p.LeafHash), Hashes: make([]string, len(p.Hashes))}
		for j, h := range p.Hashes {
			pl.Hashes[j] = hexHash(h)
		}
		b, _ := json.Marshal(pl)
		proofs.Write(b)
		proofs.WriteByte('\n')
		info.Proven++
	}
	// Every other leaf of the checkpoint's tree, so that the bundle
	// accounts for the whole tree and says what it leaves out.
	for seq := range cp.Size {
		if included[seq] {
			continue
		}
		if seq%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return info, err
			}
		}
		h, err := prover.LeafHash(seq)
		if err != nil {
			return info, fmt.Errorf("evidence: %w", err)
		}
		why := "other"
		if seq < sum.Pruned {
			why = "pruned"
		}
		b, _ := json.Marshal(withheldLine{Seq: seq, LeafHash: hexHash(h), Why: why})
		withheld.Write(b)
		withheld.WriteByte('\n')
		info.Withheld++
	}
	info.Robots = len(robots)
	write := func(name string, b []byte) error {
		if err := os.WriteFile(filepath.Join(bundleDir, name), b, 0o644); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		return nil
	}
	keys := slices.Clone(sum.Keys)
	sort.Strings(keys)
	for _, f := range []struct {
		name string
		b    []byte
	}{
		{FileFormat, formatDoc},
		{FileVerifier, verifierScript},
		{FileEntries, ents.Bytes()},
		{FileWithheld, withheld.Bytes()},
		{FileProofs, proofs.Bytes()},
		{FileCheckpoint, cp.Note},
		{FileKeys, []byte(strings.Join(keys, "\n") + "\n")},
		{FileTimestamp, token},
		{FileCosignatures, cosigs},
	} {
		if f.b == nil && (f.name == FileTimestamp || f.name == FileCosignatures) {
			continue
		}
		if err := write(f.name, f.b); err != nil {
			return info, err
		}
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
	return info, writeManifest(bundleDir, opts.Signer)
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

// writeManifest writes MANIFEST.sha256 for every file in dir, and its
// signature by s.
func writeManifest(dir string, s note.Signer) error {
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
		if rel == FileManifest || rel == FileManifestSig {
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
	m := []byte(strings.Join(lines, "\n") + "\n")
	sig, err := signManifest(m, s)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, FileManifest), m, 0o644); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileManifestSig), sig, 0o644); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
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

// cosignatureLines returns the signature lines of the cosigned notes with
// checkpoint's body that checkpoint itself does not carry, each once, and
// how many there are; nil if none.
func cosignatureLines(checkpoint []byte, cosigned [][]byte) ([]byte, int) {
	body, own, _ := bytes.Cut(checkpoint, []byte("\n\n"))
	seen := map[string]bool{}
	for _, l := range strings.Split(string(own), "\n") {
		seen[l] = true
	}
	var out []byte
	n := 0
	for _, c := range cosigned {
		b, sigs, ok := bytes.Cut(c, []byte("\n\n"))
		if !ok || !bytes.Equal(b, body) {
			continue
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(sigs), "\n"), "\n") {
			if l == "" || seen[l] {
				continue
			}
			seen[l] = true
			out = append(append(out, l...), '\n')
			n++
		}
	}
	return out, n
}
