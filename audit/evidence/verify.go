package evidence

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/audit/warc"
	"golang.org/x/mod/sumdb/tlog"
)

// BundleSummary describes a bundle that verified.
type BundleSummary struct {
	Info       Info
	Checkpoint audit.SignedCheckpoint
	Keys       []string
	Files      int // files listed in the manifest
	Proven     int // entries with a valid inclusion proof
	Records    int // WARC records
	Pages      int // stored pages in WARC records (conversion, or response with the body as stored)
	Linked     int // pages whose digest a fetch entry records as stored
	Robots     int // robots.txt copies matched to their entries
}

// String returns a one-line summary.
func (s BundleSummary) String() string {
	return fmt.Sprintf("ok: bundle for %s: %d files match the manifest; %d entries, %d proved against the checkpoint of %s at size %d; %d robots.txt copies; %d stored pages in %d WARC records (%d matched to fetch entries); public key %s",
		s.Info.Site, s.Files, s.Info.Entries, s.Proven, s.Checkpoint.Origin, s.Checkpoint.Size, s.Robots, s.Pages, s.Records, s.Linked, strings.Join(s.Keys, ", "))
}

// VerifyBundle checks a bundle offline: the manifest covers every file and
// every digest matches; the checkpoint is signed by the bundle's keys; each
// entry is canonical, about the site, and proved in the checkpoint's tree;
// each robots.txt copy matches its entry; every WARC record is well formed
// and its digests match. The keys themselves must be compared by the reader
// with the keys the operator published: the summary prints them.
func VerifyBundle(ctx context.Context, dir string) (BundleSummary, error) {
	var s BundleSummary
	files, err := checkManifest(dir)
	if err != nil {
		return s, err
	}
	s.Files = files
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
		return b, nil
	}
	ib, err := read(FileInfo)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(ib, &s.Info); err != nil {
		return s, fmt.Errorf("evidence: %s: %w", FileInfo, err)
	}
	if s.Info.Format != Format {
		return s, fmt.Errorf("evidence: %s: format %q, want %q", FileInfo, s.Info.Format, Format)
	}
	kb, err := read(FileKeys)
	if err != nil {
		return s, err
	}
	s.Keys = strings.Fields(string(kb))
	cb, err := read(FileCheckpoint)
	if err != nil {
		return s, err
	}
	cp, err := audit.OpenCheckpoint(cb, s.Keys)
	if err != nil {
		return s, fmt.Errorf("evidence: %s: %w", FileCheckpoint, err)
	}
	s.Checkpoint = cp
	if cp.Size != s.Info.CheckpointSize || cp.Root != s.Info.Root || cp.Origin != s.Info.Origin {
		return s, fmt.Errorf("evidence: %s does not match %s", FileCheckpoint, FileInfo)
	}

	eb, err := read(FileEntries)
	if err != nil {
		return s, err
	}
	pb, err := read(FileProofs)
	if err != nil {
		return s, err
	}
	proofs := bufio.NewScanner(bytes.NewReader(pb))
	proofs.Buffer(nil, 1<<20)
	unproven := map[int64]bool{}
	for _, q := range s.Info.Unproven {
		unproven[q] = true
	}
	stored := map[string]bool{}
	robots := map[string][]byte{}
	n := 0
	lines := bytes.Split(bytes.TrimSuffix(eb, []byte("\n")), []byte("\n"))
	if len(eb) == 0 {
		lines = nil
	}
	for i, raw := range lines {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		e, err := audit.ParseEntry(raw)
		if err != nil {
			return s, fmt.Errorf("evidence: %s line %d: %w", FileEntries, i+1, err)
		}
		n++
		if !concerns(&e.Event, s.Info.Site) {
			return s, fmt.Errorf("evidence: %s line %d: entry %d is about %q, not %s", FileEntries, i+1, e.Seq, e.Event.Site, s.Info.Site)
		}
		if f := e.Event.Fetch; f != nil && f.StoredSHA256 != "" {
			stored[f.StoredSHA256] = true
		}
		if r := e.Event.Robots; r != nil && len(r.Body) > 0 {
			robots[digest(r.Body)] = r.Body
			if r.SHA256 != "" && r.SHA256 != digest(r.Body) {
				return s, fmt.Errorf("evidence: entry %d: robots.txt digest %s does not match its copy", e.Seq, r.SHA256)
			}
		}
		if e.Seq >= cp.Size {
			if !unproven[e.Seq] {
				return s, fmt.Errorf("evidence: entry %d is newer than the checkpoint but not listed as unproven", e.Seq)
			}
			continue
		}
		if !proofs.Scan() {
			return s, fmt.Errorf("evidence: %s: no proof for entry %d", FileProofs, e.Seq)
		}
		var p audit.InclusionProof
		if err := json.Unmarshal(proofs.Bytes(), &p); err != nil {
			return s, fmt.Errorf("evidence: %s: proof for entry %d: %w", FileProofs, e.Seq, err)
		}
		if p.Seq != e.Seq || p.LeafHash != tlog.RecordHash(raw) {
			return s, fmt.Errorf("evidence: entry %d: its proof is for another entry", e.Seq)
		}
		if err := p.Check(cp); err != nil {
			return s, fmt.Errorf("evidence: %w", err)
		}
		s.Proven++
	}
	if proofs.Scan() {
		return s, fmt.Errorf("evidence: %s has more proofs than entries", FileProofs)
	}
	if n != s.Info.Entries {
		return s, fmt.Errorf("evidence: %s has %d entries, %s says %d", FileEntries, n, FileInfo, s.Info.Entries)
	}
	for d, body := range robots {
		b, err := read(path.Join(DirRobots, d+".txt"))
		if err != nil {
			return s, err
		}
		if !bytes.Equal(b, body) {
			return s, fmt.Errorf("evidence: robots/%s.txt differs from the copy in the log", d)
		}
		s.Robots++
	}

	f, err := os.Open(filepath.Join(dir, FileWARC))
	if err != nil {
		return s, fmt.Errorf("evidence: %w", err)
	}
	defer f.Close()
	r := warc.NewReader(f)
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return s, fmt.Errorf("evidence: %s: %w", FileWARC, err)
		}
		if s.Records == 0 && rec.Type() != warc.TypeWarcinfo {
			return s, fmt.Errorf("evidence: %s: the first record is %s, want warcinfo", FileWARC, rec.Type())
		}
		if err := rec.CheckDigests(); err != nil {
			return s, fmt.Errorf("evidence: %s: %w", FileWARC, err)
		}
		s.Records++
		// A stored page is a conversion record, or a response record
		// holding a body that is what was stored (resource records in
		// bundles of earlier versions).
		if p, ok := rec.Payload(); ok {
			switch t := rec.Type(); {
			case t == warc.TypeConversion || t == warc.TypeResource:
				s.Pages++
				if stored[digest(p)] {
					s.Linked++
				}
			case t == warc.TypeResponse && stored[digest(p)]:
				s.Pages++
				s.Linked++
			}
		}
	}
	if s.Pages != s.Info.Pages {
		return s, fmt.Errorf("evidence: %s holds %d pages, %s says %d", FileWARC, s.Pages, FileInfo, s.Info.Pages)
	}
	return s, nil
}

// checkManifest checks every line of the manifest and that no file is
// missing from it.
func checkManifest(dir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, FileManifest))
	if err != nil {
		return 0, fmt.Errorf("evidence: %w", err)
	}
	listed := map[string]bool{}
	for i, ln := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		sum, name, ok := strings.Cut(ln, "  ")
		if !ok || len(sum) != 64 || name == "" || path.Clean(name) != name || strings.HasPrefix(name, "../") || path.IsAbs(name) || name == ".." {
			return 0, fmt.Errorf("evidence: %s line %d: malformed", FileManifest, i+1)
		}
		got, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return 0, fmt.Errorf("evidence: %s: %w", name, err)
		}
		if got != sum {
			return 0, fmt.Errorf("evidence: %s: SHA-256 %s, manifest says %s", name, got, sum)
		}
		listed[name] = true
	}
	for _, need := range []string{FileInfo, FileEntries, FileProofs, FileCheckpoint, FileKeys, FileWARC, FileReport} {
		if !listed[need] {
			return 0, fmt.Errorf("evidence: %s does not list %s", FileManifest, need)
		}
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel != FileManifest && !listed[rel] {
			return fmt.Errorf("evidence: %s is not in %s", rel, FileManifest)
		}
		return nil
	})
	return len(listed), err
}
