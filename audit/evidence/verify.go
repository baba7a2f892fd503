package evidence

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/audit/tsa"
	"github.com/goodbot/goodbot/audit/warc"
	"github.com/goodbot/goodbot/audit/witness"
	"golang.org/x/mod/sumdb/tlog"
)

// BundleSummary describes a bundle that verified.
type BundleSummary struct {
	Info       Info
	Checkpoint audit.SignedCheckpoint
	Keys       []string
	Files      int  // files listed in the manifest
	Signed     bool // the manifest's signature checked (format 2)
	Proven     int  // entries with a valid inclusion proof
	Withheld   int  // leaves of the tree whose entries the bundle withholds
	Records    int  // WARC records
	Pages      int  // stored pages in WARC records (conversion, or response with the body as stored)
	Linked     int  // pages whose digest a fetch entry records as stored
	Robots     int  // robots.txt copies matched to their entries
	// Timestamp is the checkpoint's RFC 3161 token, when the bundle has
	// one; TimestampTrusted says whether it was checked against CA roots.
	Timestamp        *tsa.Token
	TimestampTrusted bool
	// Cosignatures counts the lines of checkpoint.cosig; Cosigned lists
	// the witnesses (BundleOptions.WitnessKeys) whose cosignature
	// verified, with the time each signed.
	Cosignatures int
	Cosigned     []Cosignature
}

// Cosignature is a witness's verified cosignature of the checkpoint.
type Cosignature struct {
	Witness string    // the witness's verifier key
	Time    time.Time // when it cosigned
}

// BundleOptions configure VerifyBundleWith.
type BundleOptions struct {
	// TSARoots are the CA certificates checkpoint.tsr's signer must chain
	// to. Without them the token is checked for consistency only.
	TSARoots *x509.CertPool
	// WitnessKeys are witnesses' cosignature/v1 verifier keys: each must
	// have a valid cosignature of the checkpoint in checkpoint.cosig.
	WitnessKeys []string
}

// String returns a one-line summary.
func (s BundleSummary) String() string {
	signed := "match the manifest"
	if s.Signed {
		signed = "match the manifest signed by the log's key"
	}
	tree := ""
	if s.Withheld > 0 || s.Signed {
		tree = fmt.Sprintf(" (%d entries of other sites withheld, their leaf hashes listed: the whole tree recomputed)", s.Withheld)
	}
	ts := ""
	if t := s.Timestamp; t != nil {
		ts = fmt.Sprintf("; checkpoint time-stamped at %s by %q", t.GenTime.Format(time.RFC3339), t.Signer.Subject)
		if s.TimestampTrusted {
			ts += ", verified against the TSA CA"
		} else {
			ts += ", checked for consistency but NOT for trust (no TSA CA given: pass --tsa-ca)"
		}
	}
	for _, c := range s.Cosigned {
		ts += fmt.Sprintf("; cosigned by witness %s at %s", c.Witness, c.Time.Format(time.RFC3339))
	}
	if s.Cosignatures > 0 && len(s.Cosigned) == 0 {
		ts += fmt.Sprintf("; %d witness cosignatures NOT verified (no witness key given: pass --witness-key)", s.Cosignatures)
	}
	return fmt.Sprintf("ok: bundle %s for %s: %d files %s; %d entries, %d proved against the checkpoint of %s at size %d%s; %d robots.txt copies; %d stored pages in %d WARC records (%d matched to fetch entries); public key %s%s",
		s.Info.ID, s.Info.Site, s.Files, signed, s.Info.Entries, s.Proven, s.Checkpoint.Origin, s.Checkpoint.Size, tree, s.Robots, s.Pages, s.Records, s.Linked, strings.Join(s.Keys, ", "), ts)
}

// readEntry is what the verifier needs of an entry, read from its bytes.
type readEntry struct {
	seq                  int64
	prev, leaf           tlog.Hash
	site, stored         string
	robotsBody           []byte
	robotsSHA            string
	concerns, hasRobotCp bool
}

// readEntryV2 reads an entry by FORMAT.md, without re-encoding it.
func readEntryV2(raw []byte, siteKey string) (readEntry, error) {
	e, err := parseBundleEntry(raw)
	if err != nil {
		return readEntry{}, err
	}
	r := readEntry{seq: e.Seq, prev: e.Prev, leaf: e.Leaf, site: str(e.Event, "site"), concerns: concernsRaw(e.Event, siteKey)}
	r.stored = str(sub(e.Event, "fetch"), "stored_sha256")
	if rb := sub(e.Event, "robots"); rb != nil {
		if v, ok := rb["body"]; ok {
			if err := json.Unmarshal(v, &r.robotsBody); err != nil {
				return r, fmt.Errorf("robots.body: %w", err)
			}
		}
		r.robotsSHA = str(rb, "sha256")
	}
	return r, nil
}

// readEntryV1 reads an entry of a format 1 bundle, which was checked to be
// in the canonical form of goodbot's encoder.
func readEntryV1(raw []byte, siteKey string) (readEntry, error) {
	e, err := audit.ParseEntry(raw)
	if err != nil {
		return readEntry{}, err
	}
	r := readEntry{seq: e.Seq, prev: e.Prev, leaf: e.LeafHash(), site: e.Event.Site, concerns: concerns(&e.Event, siteKey)}
	if f := e.Event.Fetch; f != nil {
		r.stored = f.StoredSHA256
	}
	if rb := e.Event.Robots; rb != nil {
		r.robotsBody, r.robotsSHA = rb.Body, rb.SHA256
	}
	return r, nil
}

// VerifyBundle checks a bundle offline: the manifest covers every file and
// every digest matches, and (format 2) its signature is by the bundle's
// key; the checkpoint is signed by the bundle's keys; each entry is about
// the site and proved in the checkpoint's tree; (format 2) the entries and
// the withheld leaves are every leaf of that tree once, in order, each
// entry's prev is the leaf hash before it, and together they hash to the
// checkpoint's root; each robots.txt copy matches its entry; every WARC
// record is well formed and its digests match. The keys themselves must
// be compared by the reader with the keys the operator published: the
// summary prints them.
func VerifyBundle(ctx context.Context, dir string) (BundleSummary, error) {
	return VerifyBundleWith(ctx, dir, BundleOptions{})
}

// VerifyBundleWith is VerifyBundle with options. A bundle with
// checkpoint.tsr also has its token checked: it must stamp the SHA-256 of
// checkpoint.txt, be validly signed by the TSA certificate it carries, and
// (with opts.TSARoots) chain to the TSA's CA.
func VerifyBundleWith(ctx context.Context, dir string, opts BundleOptions) (BundleSummary, error) {
	var s BundleSummary
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
	v1 := s.Info.Format == FormatV1
	if s.Info.Format != Format && !v1 {
		return s, fmt.Errorf("evidence: %s: format %q, want %q", FileInfo, s.Info.Format, Format)
	}
	kb, err := read(FileKeys)
	if err != nil {
		return s, err
	}
	s.Keys = strings.Fields(string(kb))
	files, err := checkManifest(dir, v1)
	if err != nil {
		return s, err
	}
	s.Files = files
	if !v1 {
		m, err := read(FileManifest)
		if err != nil {
			return s, err
		}
		sig, err := read(FileManifestSig)
		if err != nil {
			return s, err
		}
		if err := openManifest(m, sig, s.Keys); err != nil {
			return s, fmt.Errorf("evidence: %w", err)
		}
		s.Signed = true
	}
	cb, err := read(FileCheckpoint)
	if err != nil {
		return s, err
	}
	cp, err := audit.OpenCheckpoint(cb, s.Keys)
	if err != nil {
		return s, fmt.Errorf("evidence: %s: %w", FileCheckpoint, err)
	}
	s.Checkpoint = cp
	parseHash, readEnt := parseHexHash, readEntryV2
	if v1 {
		parseHash, readEnt = parseLegacyHash, readEntryV1
	}
	root, err := parseHash(s.Info.Root)
	if err != nil {
		return s, fmt.Errorf("evidence: %s: root: %w", FileInfo, err)
	}
	if cp.Size != s.Info.CheckpointSize || cp.Root != root || cp.Origin != s.Info.Origin {
		return s, fmt.Errorf("evidence: %s does not match %s", FileCheckpoint, FileInfo)
	}
	if err := s.checkTimestamp(dir, cb, opts.TSARoots); err != nil {
		return s, err
	}
	if err := s.checkCosignatures(dir, cb, opts.WitnessKeys); err != nil {
		return s, err
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
	// The leaves of the checkpoint's tree, from the entries and (format
	// 2) the withheld list; known says which are filled in.
	var leaves []tlog.Hash
	var known []bool
	if !v1 {
		if cp.Size > 1<<32 {
			return s, fmt.Errorf("evidence: checkpoint size %d is too large to recompute", cp.Size)
		}
		leaves, known = make([]tlog.Hash, cp.Size), make([]bool, cp.Size)
	}
	stored := map[string]bool{}
	robots := map[string][]byte{}
	var ents []readEntry
	lines := bytes.Split(bytes.TrimSuffix(eb, []byte("\n")), []byte("\n"))
	if len(eb) == 0 {
		lines = nil
	}
	for i, raw := range lines {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		e, err := readEnt(raw, s.Info.Site)
		if err != nil {
			return s, fmt.Errorf("evidence: %s line %d: %w", FileEntries, i+1, err)
		}
		if len(ents) > 0 && e.seq <= ents[len(ents)-1].seq {
			return s, fmt.Errorf("evidence: %s line %d: entry %d follows entry %d (entries must be in increasing order, each once)", FileEntries, i+1, e.seq, ents[len(ents)-1].seq)
		}
		ents = append(ents, e)
		if !e.concerns {
			return s, fmt.Errorf("evidence: %s line %d: entry %d is about %q, not %s", FileEntries, i+1, e.seq, e.site, s.Info.Site)
		}
		if e.stored != "" {
			stored[e.stored] = true
		}
		if len(e.robotsBody) > 0 {
			robots[digest(e.robotsBody)] = e.robotsBody
			if e.robotsSHA != "" && e.robotsSHA != digest(e.robotsBody) {
				return s, fmt.Errorf("evidence: entry %d: robots.txt digest %s does not match its copy", e.seq, e.robotsSHA)
			}
		}
		if e.seq >= cp.Size {
			if !unproven[e.seq] {
				return s, fmt.Errorf("evidence: entry %d is newer than the checkpoint but not listed as unproven", e.seq)
			}
			continue
		}
		if !v1 {
			leaves[e.seq], known[e.seq] = e.leaf, true
		}
		if !proofs.Scan() {
			return s, fmt.Errorf("evidence: %s: no proof for entry %d", FileProofs, e.seq)
		}
		p, err := readProof(proofs.Bytes(), parseHash, v1)
		if err != nil {
			return s, fmt.Errorf("evidence: %s: proof for entry %d: %w", FileProofs, e.seq, err)
		}
		if p.Seq != e.seq || p.LeafHash != e.leaf {
			return s, fmt.Errorf("evidence: entry %d: its proof is for another entry", e.seq)
		}
		if err := p.Check(cp); err != nil {
			return s, fmt.Errorf("evidence: %w", err)
		}
		s.Proven++
	}
	if proofs.Scan() {
		return s, fmt.Errorf("evidence: %s has more proofs than entries", FileProofs)
	}
	if len(ents) != s.Info.Entries {
		return s, fmt.Errorf("evidence: %s has %d entries, %s says %d", FileEntries, len(ents), FileInfo, s.Info.Entries)
	}
	if !v1 {
		if err := s.checkTree(ctx, dir, cp, ents, leaves, known); err != nil {
			return s, err
		}
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

// checkTree reads withheld.jsonl into the leaves, and checks that every
// leaf of the checkpoint's tree is accounted for once, that each entry's
// prev is the leaf before it, and that the leaves hash to the root.
func (s *BundleSummary) checkTree(ctx context.Context, dir string, cp audit.SignedCheckpoint, ents []readEntry, leaves []tlog.Hash, known []bool) error {
	f, err := os.Open(filepath.Join(dir, FileWithheld))
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	last := int64(-1)
	for n := 1; sc.Scan(); n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var w withheldLine
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.DisallowUnknownFields()
		if err := d.Decode(&w); err != nil {
			return fmt.Errorf("evidence: %s line %d: %w", FileWithheld, n, err)
		}
		if w.Seq <= last || w.Seq >= cp.Size {
			return fmt.Errorf("evidence: %s line %d: leaf %d out of order or outside the tree of size %d", FileWithheld, n, w.Seq, cp.Size)
		}
		last = w.Seq
		if known[w.Seq] {
			return fmt.Errorf("evidence: %s line %d: leaf %d is withheld and in %s", FileWithheld, n, w.Seq, FileEntries)
		}
		h, err := parseHexHash(w.LeafHash)
		if err != nil {
			return fmt.Errorf("evidence: %s line %d: %w", FileWithheld, n, err)
		}
		leaves[w.Seq], known[w.Seq] = h, true
		s.Withheld++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("evidence: %s: %w", FileWithheld, err)
	}
	if s.Withheld != s.Info.Withheld || s.Proven != s.Info.Proven {
		return fmt.Errorf("evidence: %d entries proved and %d withheld, %s says %d and %d", s.Proven, s.Withheld, FileInfo, s.Info.Proven, s.Info.Withheld)
	}
	if i := slices.Index(known, false); i >= 0 {
		return fmt.Errorf("evidence: leaf %d of the checkpoint's tree (size %d) is neither in %s nor in %s: the bundle does not account for it", i, cp.Size, FileEntries, FileWithheld)
	}
	for _, e := range ents {
		want := tlog.Hash{}
		if e.seq > 0 && e.seq <= cp.Size {
			want = leaves[e.seq-1]
		}
		if e.seq <= cp.Size && e.prev != want {
			return fmt.Errorf("evidence: entry %d: prev %s is not the leaf hash of entry %d, %s", e.seq, hexHash(e.prev), e.seq-1, hexHash(want))
		}
	}
	if r := rootOf(leaves); r != cp.Root {
		return fmt.Errorf("evidence: the %d leaves hash to %s, the checkpoint's root is %s", len(leaves), hexHash(r), hexHash(cp.Root))
	}
	return nil
}

// readProof reads one line of proofs.jsonl: hex hashes, or (format 1) the
// JSON of audit.InclusionProof, base64.
func readProof(b []byte, parseHash func(string) (tlog.Hash, error), v1 bool) (audit.InclusionProof, error) {
	var p audit.InclusionProof
	if v1 {
		err := json.Unmarshal(b, &p)
		return p, err
	}
	var pl proofLine
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&pl); err != nil {
		return p, err
	}
	p.Seq, p.TreeSize = pl.Seq, pl.TreeSize
	var err error
	if p.LeafHash, err = parseHash(pl.LeafHash); err != nil {
		return p, err
	}
	p.Hashes = make([]tlog.Hash, len(pl.Hashes))
	for i, h := range pl.Hashes {
		if p.Hashes[i], err = parseHash(h); err != nil {
			return p, err
		}
	}
	return p, nil
}

// checkManifest checks every line of the manifest and that no file is
// missing from it.
func checkManifest(dir string, v1 bool) (int, error) {
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
	need := []string{FileInfo, FileEntries, FileProofs, FileCheckpoint, FileKeys, FileWARC, FileReport}
	if !v1 {
		need = append(need, FileFormat, FileVerifier, FileWithheld)
	}
	for _, need := range need {
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
		if rel != FileManifest && (v1 || rel != FileManifestSig) && !listed[rel] {
			return fmt.Errorf("evidence: %s is not in %s", rel, FileManifest)
		}
		return nil
	})
	return len(listed), err
}

// checkTimestamp checks checkpoint.tsr, if the bundle has one, against the
// checkpoint's bytes and bundle.json.
func (s *BundleSummary) checkTimestamp(dir string, checkpoint []byte, roots *x509.CertPool) error {
	b, err := os.ReadFile(filepath.Join(dir, FileTimestamp))
	if errors.Is(err, fs.ErrNotExist) {
		if s.Info.Timestamp != nil {
			return fmt.Errorf("evidence: %s names %s, which is missing", FileInfo, FileTimestamp)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if s.Info.Timestamp == nil || s.Info.Timestamp.File != FileTimestamp {
		return fmt.Errorf("evidence: %s is present but %s does not describe it", FileTimestamp, FileInfo)
	}
	tok, err := tsa.Parse(b)
	if err == nil {
		err = tok.VerifyData(checkpoint, roots)
	}
	if err != nil {
		return fmt.Errorf("evidence: %s, the time-stamp token of the checkpoint at size %d: %w", FileTimestamp, s.Checkpoint.Size, err)
	}
	if !tok.GenTime.Equal(s.Info.Timestamp.Time) {
		return fmt.Errorf("evidence: %s says the token was made at %s, the token says %s", FileInfo, s.Info.Timestamp.Time.Format(time.RFC3339Nano), tok.GenTime.Format(time.RFC3339Nano))
	}
	s.Timestamp, s.TimestampTrusted = tok, roots != nil
	return nil
}

// checkCosignatures checks checkpoint.cosig against bundle.json and, for
// each witness key given, that it holds a valid cosignature of the
// checkpoint.
func (s *BundleSummary) checkCosignatures(dir string, checkpoint []byte, keys []string) error {
	b, err := os.ReadFile(filepath.Join(dir, FileCosignatures))
	if errors.Is(err, fs.ErrNotExist) {
		if s.Info.Cosignatures != 0 {
			return fmt.Errorf("evidence: %s counts %d cosignatures, but %s is missing", FileInfo, s.Info.Cosignatures, FileCosignatures)
		}
		if len(keys) > 0 {
			return fmt.Errorf("evidence: a witness key was given, but the bundle has no %s", FileCosignatures)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if n := bytes.Count(b, []byte("\n")); n != s.Info.Cosignatures || len(b) == 0 || b[len(b)-1] != '\n' {
		return fmt.Errorf("evidence: %s has %d lines, %s says %d", FileCosignatures, n, FileInfo, s.Info.Cosignatures)
	}
	s.Cosignatures = s.Info.Cosignatures
	cosigned := append(bytes.Clone(checkpoint), b...)
	for _, k := range keys {
		t, err := witness.VerifyCosignature(cosigned, k)
		if err != nil {
			return fmt.Errorf("evidence: %s: %w", FileCosignatures, err)
		}
		s.Cosigned = append(s.Cosigned, Cosignature{Witness: k, Time: t})
	}
	return nil
}
