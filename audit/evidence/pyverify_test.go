package evidence

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/audit/tsa"
	"github.com/goodbot/goodbot/audit/witness"
	"github.com/goodbot/goodbot/internal/tsatest"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// python3 returns the path of python3, or skips the test.
func python3(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the bundled verifier is not tested")
	}
	return p
}

// runPy runs the bundle's own verify.py (the copy inside dir) on dir.
func runPy(t *testing.T, py, dir string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(py, append([]string{filepath.Join(dir, FileVerifier)}, append(args, dir)...)...)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return 0, string(out)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("python3: %v", err)
	return -1, ""
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

func writeLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	var b []byte
	for _, l := range lines {
		b = append(append(b, l...), '\n')
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func editInfo(t *testing.T, dir string, f func(*Info)) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FileInfo))
	if err != nil {
		t.Fatal(err)
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	f(&info)
	b, _ = json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, FileInfo), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// siteEntries returns the indexes in entries.jsonl of the entries with a
// proof, which are the first lines.
func proved(t *testing.T, dir string) int {
	t.Helper()
	return len(readLines(t, filepath.Join(dir, FileProofs)))
}

// cutTail rewrites the bundle in dir as the holder of the log's key could:
// a tree of only its first size leaves, a checkpoint signed over it, proofs
// against it, and a manifest signed again. Only a checkpoint of the longer
// log held elsewhere shows the cut.
func cutTail(t *testing.T, dir string, signer note.Signer, size int64) {
	t.Helper()
	var leaves []tlog.Hash
	var ents [][]byte
	for _, raw := range readLines(t, filepath.Join(dir, FileEntries)) {
		e, err := parseBundleEntry(raw)
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq < size {
			ents = append(ents, raw)
		}
	}
	all := map[int64]tlog.Hash{}
	for _, raw := range ents {
		e, _ := parseBundleEntry(raw)
		all[e.Seq] = e.Leaf
	}
	var wh [][]byte
	for _, l := range readLines(t, filepath.Join(dir, FileWithheld)) {
		var w withheldLine
		if err := json.Unmarshal(l, &w); err != nil {
			t.Fatal(err)
		}
		if w.Seq < size {
			h, _ := parseHexHash(w.LeafHash)
			all[w.Seq] = h
			wh = append(wh, l)
		}
	}
	var store hashStore
	for i := range size {
		leaves = append(leaves, all[i])
		hs, err := tlog.StoredHashesForRecordHash(i, all[i], store)
		if err != nil {
			t.Fatal(err)
		}
		store = append(store, hs...)
	}
	root := rootOf(leaves)
	var proofs [][]byte
	for _, raw := range ents {
		e, _ := parseBundleEntry(raw)
		hs, err := tlog.ProveRecord(size, e.Seq, store)
		if err != nil {
			t.Fatal(err)
		}
		pl := proofLine{Seq: e.Seq, TreeSize: size, LeafHash: hexHash(e.Leaf)}
		for _, h := range hs {
			pl.Hashes = append(pl.Hashes, hexHash(h))
		}
		b, _ := json.Marshal(pl)
		proofs = append(proofs, b)
	}
	cp, err := note.Sign(&note.Note{Text: readInfo(t, dir).Origin + "\n" + strconv.FormatInt(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	writeLines(t, filepath.Join(dir, FileEntries), ents)
	writeLines(t, filepath.Join(dir, FileWithheld), wh)
	writeLines(t, filepath.Join(dir, FileProofs), proofs)
	if err := os.WriteFile(filepath.Join(dir, FileCheckpoint), cp, 0o644); err != nil {
		t.Fatal(err)
	}
	editInfo(t, dir, func(i *Info) {
		i.CheckpointSize, i.Root, i.Entries, i.Proven, i.Withheld, i.Unproven = size, hexHash(root), len(ents), len(ents), len(wh), nil
	})
	if err := writeManifest(dir, signer); err != nil {
		t.Fatal(err)
	}
}

type hashStore []tlog.Hash

func (s hashStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = s[x]
	}
	return out, nil
}

func readInfo(t *testing.T, dir string) Info {
	t.Helper()
	var info Info
	b, err := os.ReadFile(filepath.Join(dir, FileInfo))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	return info
}

// TestBundledPythonVerifier runs the verify.py a bundle carries (Python 3,
// standard library, Ed25519 from RFC 8032) on a bundle of a real loopback
// crawl, and on every kind of tampering: it must accept the bundle as
// exported and reject each alteration with a non-zero exit, as must
// VerifyBundle. Where an alteration is caught by the manifest alone, it is
// also tried with the manifest redone and signed again by the log's key,
// so that the deeper check is what catches it.
func TestBundledPythonVerifier(t *testing.T) {
	py := python3(t)
	auditDir, out, key, signer := realCrawl(t)
	ctx := context.Background()
	orig := filepath.Join(t.TempDir(), "bundle")
	info, err := Export(ctx, auditDir, orig, ExportOptions{Site: key, Out: out, Signer: signer, Purpose: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Withheld == 0 {
		t.Fatalf("the crawl's log has no entry to withhold: %+v", info)
	}
	vkey := strings.Fields(string(must(os.ReadFile(filepath.Join(orig, FileKeys)))))[0]
	code, o := runPy(t, py, orig, "--key", vkey)
	if code != 0 {
		t.Fatalf("verify.py rejects the bundle as exported: exit %d\n%s", code, o)
	}
	for _, want := range []string{"given on the command line", "root recomputed", "ok: "} {
		if !strings.Contains(o, want) {
			t.Errorf("verify.py output lacks %q:\n%s", want, o)
		}
	}
	if code, o := runPy(t, py, orig); code != 0 || !strings.Contains(o, "from the bundle's keys.txt") {
		t.Errorf("verify.py with the bundle's keys: exit %d\n%s", code, o)
	}
	extCP := filepath.Join(t.TempDir(), "checkpoint")
	if err := os.WriteFile(extCP, must(os.ReadFile(filepath.Join(orig, FileCheckpoint))), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, o := runPy(t, py, orig, "--key", vkey, "--checkpoint", extCP); code != 0 {
		t.Errorf("verify.py against the bundle's own checkpoint: exit %d\n%s", code, o)
	}

	resign := func(t *testing.T, dir string) {
		t.Helper()
		if err := writeManifest(dir, signer); err != nil {
			t.Fatal(err)
		}
	}
	entries := func(dir string) string { return filepath.Join(dir, FileEntries) }
	proofs := func(dir string) string { return filepath.Join(dir, FileProofs) }
	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, dir string)
		args   []string // extra arguments to verify.py
		want   string   // in verify.py's message
		noGo   bool     // VerifyBundle cannot see it (no --key or --checkpoint)
	}{
		{name: "flipped byte", mutate: func(t *testing.T, dir string) {
			flip(t, entries(dir), 40)
		}, want: "the manifest says"},
		{name: "flipped byte, manifest signed again", mutate: func(t *testing.T, dir string) {
			flip(t, entries(dir), 40)
			resign(t, dir)
		}, want: "entry 0: prev"},
		{name: "flipped byte in an event, manifest signed again", mutate: func(t *testing.T, dir string) {
			edit(t, entries(dir), `"type":"fetch"`, `"type":"fetcH"`)
			resign(t, dir)
		}, want: "hash"}, // the next entry's prev, or the root
		{name: "flipped byte in a withheld leaf hash, manifest signed again", mutate: func(t *testing.T, dir string) {
			ls := readLines(t, filepath.Join(dir, FileWithheld))
			i := bytes.Index(ls[0], []byte(`"leaf_hash":"`)) + len(`"leaf_hash":"`)
			ls[0][i] = map[bool]byte{true: '1', false: '0'}[ls[0][i] == '0']
			writeLines(t, filepath.Join(dir, FileWithheld), ls)
			resign(t, dir)
		}, want: "hash"}, // the next entry's prev, or the root
		{name: "dropped entry", mutate: func(t *testing.T, dir string) {
			es, ps := readLines(t, entries(dir)), readLines(t, proofs(dir))
			writeLines(t, entries(dir), append(es[:2:2], es[3:]...))
			writeLines(t, proofs(dir), append(ps[:2:2], ps[3:]...))
			editInfo(t, dir, func(i *Info) { i.Entries--; i.Proven-- })
			resign(t, dir)
		}, want: "neither in entries.jsonl nor in withheld.jsonl"},
		{name: "swapped entries", mutate: func(t *testing.T, dir string) {
			es, ps := readLines(t, entries(dir)), readLines(t, proofs(dir))
			es[1], es[2] = es[2], es[1]
			ps[1], ps[2] = ps[2], ps[1]
			writeLines(t, entries(dir), es)
			writeLines(t, proofs(dir), ps)
			resign(t, dir)
		}, want: "increasing order"},
		{name: "duplicated entry", mutate: func(t *testing.T, dir string) {
			es, ps := readLines(t, entries(dir)), readLines(t, proofs(dir))
			writeLines(t, entries(dir), append(es[:3:3], es[2:]...))
			writeLines(t, proofs(dir), append(ps[:3:3], ps[2:]...))
			editInfo(t, dir, func(i *Info) { i.Entries++; i.Proven++ })
			resign(t, dir)
		}, want: "increasing order"},
		{name: "entry moved to the withheld list", mutate: func(t *testing.T, dir string) {
			es, ps := readLines(t, entries(dir)), readLines(t, proofs(dir))
			writeLines(t, entries(dir), es[1:])
			writeLines(t, proofs(dir), ps[1:])
			e, _ := parseBundleEntry(es[0])
			ws := readLines(t, filepath.Join(dir, FileWithheld))
			w, _ := json.Marshal(withheldLine{Seq: e.Seq, LeafHash: hexHash(e.Leaf), Why: "other"})
			writeLines(t, filepath.Join(dir, FileWithheld), append([][]byte{w}, ws...))
			editInfo(t, dir, func(i *Info) { i.Entries--; i.Proven--; i.Withheld++ })
			resign(t, dir)
		}, want: "", noGo: true}, // allowed: withholding is visible, not a forgery
		{name: "cut tail", mutate: func(t *testing.T, dir string) {
			n := proved(t, dir)
			es, ps := readLines(t, entries(dir)), readLines(t, proofs(dir))
			writeLines(t, entries(dir), es[:n-2])
			writeLines(t, proofs(dir), ps[:n-2])
			editInfo(t, dir, func(i *Info) { i.Entries -= 2; i.Proven -= 2 })
			resign(t, dir)
		}, want: "neither in entries.jsonl nor in withheld.jsonl"},
		{name: "cut tail, checkpoint signed again, against the checkpoint held elsewhere", mutate: func(t *testing.T, dir string) {
			cutTail(t, dir, signer, info.CheckpointSize-3)
		}, args: []string{"--checkpoint", extCP}, want: "cut short", noGo: true},
		{name: "altered manifest", mutate: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("x\n"), 0o644)
			m := filepath.Join(dir, FileManifest)
			b := must(os.ReadFile(m))
			os.WriteFile(m, append(b, []byte(digest([]byte("x\n"))+"  extra.txt\n")...), 0o644)
		}, want: "MANIFEST.sha256.sig: the signature by"},
		{name: "altered manifest signature", mutate: func(t *testing.T, dir string) {
			p := filepath.Join(dir, FileManifestSig)
			b := must(os.ReadFile(p))
			i := bytes.LastIndexByte(b, ' ') + 10
			b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
			os.WriteFile(p, b, 0o644)
		}, want: "MANIFEST.sha256.sig"},
		{name: "manifest signature removed", mutate: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, FileManifestSig))
		}, want: "MANIFEST.sha256.sig"},
		{name: "bundle signed by another key", mutate: func(t *testing.T, dir string) {
			skey, vk, err := note.GenerateKey(rand.Reader, readInfo(t, dir).Origin)
			if err != nil {
				t.Fatal(err)
			}
			other, _ := note.NewSigner(skey)
			os.WriteFile(filepath.Join(dir, FileKeys), []byte(vk+"\n"), 0o644)
			cp := must(os.ReadFile(filepath.Join(dir, FileCheckpoint)))
			text := cp[:bytes.Index(cp, []byte("\n\n"))+1]
			ncp, _ := note.Sign(&note.Note{Text: string(text)}, other)
			os.WriteFile(filepath.Join(dir, FileCheckpoint), ncp, 0o644)
			if err := writeManifest(dir, other); err != nil {
				t.Fatal(err)
			}
		}, args: []string{"--key", vkey}, want: "not signed by", noGo: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "b")
			if err := os.CopyFS(dir, os.DirFS(orig)); err != nil {
				t.Fatal(err)
			}
			tc.mutate(t, dir)
			args := tc.args
			if !slicesContains(args, "--key") {
				args = append(args, "--key", vkey)
			}
			code, o := runPy(t, py, dir, args...)
			if tc.want == "" {
				if code != 0 {
					t.Fatalf("verify.py: exit %d\n%s", code, o)
				}
				return
			}
			if code == 0 {
				t.Fatalf("verify.py accepted it:\n%s", o)
			}
			if !strings.Contains(o, tc.want) {
				t.Errorf("verify.py: exit %d, want a message with %q:\n%s", code, tc.want, o)
			}
			if !tc.noGo {
				if _, err := VerifyBundle(ctx, dir); err == nil {
					t.Error("VerifyBundle accepted it")
				}
			}
		})
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// flip changes one byte of the file at off.
func flip(t *testing.T, path string, off int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBundleHoldsNoPlantedPersonalData crawls a site that serves an
// e-mail address and a Chinese mobile number in a page and in a URL, and
// fails if either is in any file of the bundle (the WARC decompressed).
func TestBundleHoldsNoPlantedPersonalData(t *testing.T) {
	t.Run("unstamped", func(t *testing.T) { testNoPlanted(t, nil) })
	// The time-stamp tokens (checkpoints.tsr in the log, checkpoint.tsr in
	// the bundle) are a new output path: they hold a hash of the
	// checkpoint and the TSA's signature, never the crawl's data.
	t.Run("time-stamped", func(t *testing.T) {
		s := tsatest.Start(t, tsatest.Options{ECDSA: true})
		testNoPlanted(t, &tsa.Client{URL: s.URL})
	})
}

func testNoPlanted(t *testing.T, ts audit.Timestamper) {
	auditDir, out, key, signer := realCrawlStamped(t, ts)
	bundle := filepath.Join(t.TempDir(), "bundle")
	if _, err := Export(context.Background(), auditDir, bundle, ExportOptions{Site: key, Out: out, Signer: signer}); err != nil {
		t.Fatal(err)
	}
	if ts != nil {
		tokens := must(os.ReadFile(filepath.Join(auditDir, "checkpoints.tsr")))
		for _, v := range planted {
			if bytes.Contains(tokens, []byte(v)) {
				t.Errorf("the log's checkpoints.tsr holds the planted %q", v)
			}
		}
		if _, err := os.Stat(filepath.Join(bundle, FileTimestamp)); err != nil {
			t.Errorf("the bundle of a time-stamped log has no %s: %v", FileTimestamp, err)
		}
	}
	pages := 0
	err := filepath.WalkDir(bundle, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return err
			}
			if b, err = io.ReadAll(zr); err != nil {
				return err
			}
			pages = bytes.Count(b, []byte("WARC-Type: conversion"))
		}
		for _, v := range planted {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s holds the planted %q", p, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ents := must(os.ReadFile(filepath.Join(bundle, FileEntries)))
	if pages == 0 || !bytes.Contains(ents, []byte("/u/[CN_MOBILE]?mail=[EMAIL]")) {
		t.Errorf("the page and the link with personal data were not crawled and recorded redacted (%d conversion records)", pages)
	}
}

// TestBundledPythonVerifierTimestamp exports a bundle of a log whose
// checkpoints an RFC 3161 TSA (openssl ts) stamped: verify.py and
// VerifyBundleWith accept its checkpoint.tsr, with and without the TSA's
// CA, and reject a token for another hash, a token checked against another
// CA, a token whose signature was altered, and a token removed.
func TestBundledPythonVerifierTimestamp(t *testing.T) {
	py := python3(t)
	for _, o := range []tsatest.Options{{}, {ECDSA: true}} {
		name := map[bool]string{false: "rsa", true: "ecdsa"}[o.ECDSA]
		t.Run(name, func(t *testing.T) { testPythonTimestamp(t, py, o) })
	}
}

func testPythonTimestamp(t *testing.T, py string, o tsatest.Options) {
	s := tsatest.Start(t, o)
	otherCA := tsatest.Start(t, o)
	client := &tsa.Client{URL: s.URL, Roots: s.Roots}
	auditDir, out, key, signer := realCrawlStamped(t, client)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	orig := filepath.Join(t.TempDir(), "bundle")
	info, err := Export(ctx, auditDir, orig, ExportOptions{Site: key, Out: out, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	if info.Timestamp == nil || info.Timestamp.File != FileTimestamp {
		t.Fatalf("the bundle of a time-stamped log has no token: %+v", info.Timestamp)
	}
	vkey := strings.Fields(string(must(os.ReadFile(filepath.Join(orig, FileKeys)))))[0]
	code, outp := runPy(t, py, orig, "--key", vkey, "--tsa-ca", s.CAFile)
	if code != 0 || !strings.Contains(outp, "chains to the CA") || !strings.Contains(outp, "goodbot test TSA") {
		t.Fatalf("verify.py --tsa-ca: exit %d\n%s", code, outp)
	}
	code, outp = runPy(t, py, orig, "--key", vkey)
	if code != 0 || !strings.Contains(outp, "NOT for trust") {
		t.Fatalf("verify.py without --tsa-ca: exit %d\n%s", code, outp)
	}
	bs, err := VerifyBundleWith(ctx, orig, BundleOptions{TSARoots: s.Roots})
	if err != nil || bs.Timestamp == nil || !bs.TimestampTrusted || !strings.Contains(bs.String(), "verified against the TSA CA") {
		t.Fatalf("VerifyBundleWith: %v, %s", err, bs)
	}
	if bs, err = VerifyBundle(ctx, orig); err != nil || !strings.Contains(bs.String(), "NOT for trust") {
		t.Fatalf("VerifyBundle without roots: %v, %s", err, bs)
	}
	tokenFile := func(dir string) string { return filepath.Join(dir, FileTimestamp) }
	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, dir string)
		ca     string // --tsa-ca
		want   string
	}{
		{name: "wrong TSA token", mutate: func(t *testing.T, dir string) {
			// A genuine token of the same TSA, for other bytes.
			other, err := client.Timestamp(ctx, append(must(os.ReadFile(filepath.Join(dir, FileCheckpoint))), '\n'))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(tokenFile(dir), other, 0o644)
			if err := writeManifest(dir, signer); err != nil {
				t.Fatal(err)
			}
		}, ca: s.CAFile, want: "token for another checkpoint"},
		{name: "wrong TSA token, manifest not redone", mutate: func(t *testing.T, dir string) {
			other, err := client.Timestamp(ctx, []byte("another checkpoint"))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(tokenFile(dir), other, 0o644)
		}, want: "the manifest says"},
		{name: "token from another CA", mutate: func(t *testing.T, dir string) {}, ca: otherCA.CAFile, want: "does not chain"},
		{name: "token signature altered", mutate: func(t *testing.T, dir string) {
			b := must(os.ReadFile(tokenFile(dir)))
			b[len(b)-5] ^= 0x01 // inside the signature, the last field
			os.WriteFile(tokenFile(dir), b, 0o644)
			if err := writeManifest(dir, signer); err != nil {
				t.Fatal(err)
			}
		}, want: "signature"},
		{name: "token removed", mutate: func(t *testing.T, dir string) {
			os.Remove(tokenFile(dir))
			if err := writeManifest(dir, signer); err != nil {
				t.Fatal(err)
			}
		}, want: "checkpoint.tsr, which is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "b")
			if err := os.CopyFS(dir, os.DirFS(orig)); err != nil {
				t.Fatal(err)
			}
			tc.mutate(t, dir)
			args := []string{"--key", vkey}
			var roots *x509.CertPool
			if tc.ca != "" {
				args = append(args, "--tsa-ca", tc.ca)
				roots = must(tsa.LoadRoots(tc.ca))
			}
			code, o := runPy(t, py, dir, args...)
			if code == 0 {
				t.Fatalf("verify.py accepted it:\n%s", o)
			}
			if !strings.Contains(o, tc.want) {
				t.Errorf("verify.py: exit %d, want a message with %q:\n%s", code, tc.want, o)
			}
			if _, err := VerifyBundleWith(ctx, dir, BundleOptions{TSARoots: roots}); err == nil {
				t.Error("VerifyBundleWith accepted it")
			}
		})
	}
}

// TestPythonTokenFlips flips each bit 0 of a real token in turn (but in the
// copy of the CA certificate it carries, which a verifier takes from
// --tsa-ca instead) and runs verify.py's token check on each: none may
// pass, and each must fail with the script's own message, not a crash.
func TestPythonTokenFlips(t *testing.T) {
	py := python3(t)
	s := tsatest.Start(t, tsatest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := []byte("goodbot.test/evidence\n7\nAAAA\n\n— sig\n")
	tok, err := (&tsa.Client{URL: s.URL, Roots: s.Roots}).Request(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	ca := bytes.Index(tok.Raw, tok.Certificates[1].Raw)
	if ca < 0 {
		t.Fatal("the CA certificate is not in the token")
	}
	dir := t.TempDir()
	tokenFile, dataFile := filepath.Join(dir, "t.tsr"), filepath.Join(dir, "d")
	os.WriteFile(tokenFile, tok.Raw, 0o644)
	os.WriteFile(dataFile, data, 0o644)
	driver := `
import sys
sys.path.insert(0, sys.argv[1])
import verify
token, data = open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
ca, lo, hi = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
verify.check_timestamp(token, data, ca)  # the token as issued passes
passed = crashed = 0
for i in range(len(token)):
    if lo <= i < hi:
        continue
    b = bytearray(token)
    b[i] ^= 1
    try:
        verify.check_timestamp(bytes(b), data, ca)
        print("passed: byte %d" % i)
        passed += 1
    except verify.Failure:
        pass
    except Exception as e:
        print("crashed: byte %d: %r" % (i, e))
        crashed += 1
print("flips %d passed %d crashed %d" % (len(token) - (hi - lo), passed, crashed))
`
	cmd := exec.CommandContext(ctx, py, "-c", driver, must(filepath.Abs("bundlefiles")), tokenFile, dataFile, s.CAFile, strconv.Itoa(ca), strconv.Itoa(ca+len(tok.Certificates[1].Raw)))
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("driver: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte(" passed 0 crashed 0")) {
		t.Errorf("verify.py on flipped tokens:\n%s", out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}

// TestBundledPythonVerifierCosignature exports a bundle with a witness's
// cosignature (C2SP cosignature/v1) of its checkpoint: verify.py and
// VerifyBundleWith verify it with the witness key, say it is unverified
// without one, and reject another witness's key, an altered cosignature
// and a cosignature of another checkpoint.
func TestBundledPythonVerifierCosignature(t *testing.T) {
	py := python3(t)
	auditDir, out, key, signer := realCrawl(t)
	ctx := context.Background()
	sum, err := audit.Verify(ctx, auditDir, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	skey, wkey, err := witness.GenerateCosignerKey("witness.goodbot.test/w1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := witness.NewCosigner(skey, sum.Keys)
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := c.Cosign(sum.Checkpoint.Note)
	if err != nil {
		t.Fatal(err)
	}
	orig := filepath.Join(t.TempDir(), "bundle")
	info, err := Export(ctx, auditDir, orig, ExportOptions{Site: key, Out: out, Signer: signer, Cosigned: [][]byte{cosigned}})
	if err != nil {
		t.Fatal(err)
	}
	if info.Cosignatures != 1 {
		t.Fatalf("bundle has %d cosignatures, want 1", info.Cosignatures)
	}
	vkey := strings.Fields(string(must(os.ReadFile(filepath.Join(orig, FileKeys)))))[0]
	if code, o := runPy(t, py, orig, "--key", vkey, "--witness-key", wkey); code != 0 || !strings.Contains(o, "witness witness.goodbot.test/w1 cosigned the checkpoint") {
		t.Fatalf("verify.py --witness-key: exit %d\n%s", code, o)
	}
	if code, o := runPy(t, py, orig, "--key", vkey); code != 0 || !strings.Contains(o, "NOT verified") {
		t.Fatalf("verify.py without --witness-key: exit %d\n%s", code, o)
	}
	bs, err := VerifyBundleWith(ctx, orig, BundleOptions{WitnessKeys: []string{wkey}})
	if err != nil || len(bs.Cosigned) != 1 || !strings.Contains(bs.String(), "cosigned by witness") {
		t.Fatalf("VerifyBundleWith: %v %s", err, bs)
	}
	_, otherKey, _ := witness.GenerateCosignerKey("witness.goodbot.test/w1")
	cosigFile := func(dir string) string { return filepath.Join(dir, FileCosignatures) }
	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, dir string)
		wkey   string
		want   string
	}{
		{name: "another witness's key", mutate: func(t *testing.T, dir string) {}, wkey: otherKey, want: "no cosignature by"},
		{name: "altered cosignature", mutate: func(t *testing.T, dir string) {
			b := must(os.ReadFile(cosigFile(dir)))
			i := len(b) - 10
			b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
			os.WriteFile(cosigFile(dir), b, 0o644)
			if err := writeManifest(dir, signer); err != nil {
				t.Fatal(err)
			}
		}, wkey: wkey, want: "does not verify"},
		{name: "cosignature of another checkpoint", mutate: func(t *testing.T, dir string) {
			// A checkpoint of the same log at another size, cosigned.
			text := fmt.Sprintf("%s\n%d\n%s\n", sum.Origin, sum.Checkpoint.Size-1, base64.StdEncoding.EncodeToString(make([]byte, 32)))
			other := must(c.Cosign(must(note.Sign(&note.Note{Text: text}, signer))))
			line := other[bytes.LastIndex(other[:len(other)-1], []byte("\n"))+1:]
			os.WriteFile(cosigFile(dir), line, 0o644)
			if err := writeManifest(dir, signer); err != nil {
				t.Fatal(err)
			}
		}, wkey: wkey, want: "does not verify"},
		{name: "cosignature removed", mutate: func(t *testing.T, dir string) {
			os.Remove(cosigFile(dir))
			if err := writeManifest(dir, signer); err != nil {
				t.Fatal(err)
			}
		}, wkey: wkey, want: "checkpoint.cosig is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "b")
			if err := os.CopyFS(dir, os.DirFS(orig)); err != nil {
				t.Fatal(err)
			}
			tc.mutate(t, dir)
			code, o := runPy(t, py, dir, "--key", vkey, "--witness-key", tc.wkey)
			if code == 0 {
				t.Fatalf("verify.py accepted it:\n%s", o)
			}
			if !strings.Contains(o, tc.want) {
				t.Errorf("verify.py: exit %d, want a message with %q:\n%s", code, tc.want, o)
			}
			if _, err := VerifyBundleWith(ctx, dir, BundleOptions{WitnessKeys: []string{tc.wkey}}); err == nil {
				t.Error("VerifyBundleWith accepted it")
			}
		})
	}
}

// TestPythonEd25519RFC8032 runs verify.py's Ed25519 on the test vectors of
// RFC 8032 section 7.1 (TEST 1, 2, 3 and 1024, in testdata): it must
// accept each signature and reject it with a bit of the message, of the
// signature, or of the public key flipped. The vectors are first checked
// against Go's crypto/ed25519, which must reproduce each public key and
// signature from the secret key.
func TestPythonEd25519RFC8032(t *testing.T) {
	py := python3(t)
	var vectors []struct{ Name, Secret, Public, Message, Signature string }
	if err := json.Unmarshal(must(os.ReadFile(filepath.Join("testdata", "rfc8032-7.1.json"))), &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) != 4 {
		t.Fatalf("%d vectors, want TEST 1, 2, 3 and 1024", len(vectors))
	}
	for _, v := range vectors {
		priv := ed25519.NewKeyFromSeed(must(hex.DecodeString(v.Secret)))
		msg := must(hex.DecodeString(v.Message))
		if hex.EncodeToString(priv.Public().(ed25519.PublicKey)) != v.Public || hex.EncodeToString(ed25519.Sign(priv, msg)) != v.Signature {
			t.Fatalf("%s: the vector is not what crypto/ed25519 computes", v.Name)
		}
	}
	driver := `
import json, sys
sys.path.insert(0, sys.argv[1])
import verify
for v in json.load(open(sys.argv[2])):
    pub, msg, sig = bytes.fromhex(v["public"]), bytes.fromhex(v["message"]), bytes.fromhex(v["signature"])
    ok = verify.ed25519_verify(pub, msg, sig)
    bad_msg = verify.ed25519_verify(pub, (msg[:-1] + bytes([msg[-1] ^ 1])) if msg else b"\x00", sig)
    bad_sig = any(verify.ed25519_verify(pub, msg, sig[:i] + bytes([sig[i] ^ 1]) + sig[i + 1:]) for i in (0, 31, 32, 63))
    bad_pub = verify.ed25519_verify(pub[:-1] + bytes([pub[-1] ^ 1]), msg, sig)
    print("%s %s %s %s %s" % (v["name"].replace(" ", "_"), ok, bad_msg, bad_sig, bad_pub))
`
	cmd := exec.Command(py, "-c", driver, must(filepath.Abs("bundlefiles")), filepath.Join("testdata", "rfc8032-7.1.json"))
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("driver: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(vectors) {
		t.Fatalf("driver output:\n%s", out)
	}
	for _, l := range lines {
		if f := strings.Fields(l); len(f) != 5 || f[1] != "True" || f[2] != "False" || f[3] != "False" || f[4] != "False" {
			t.Errorf("verify.py Ed25519 on %s: accepted, flipped message, flipped signature, flipped key = %v; want True False False False", f[0], f[1:])
		}
	}
}

// TestFormat1Bundle: a bundle written by goodbot's format 1 exporter (kept
// in testdata, made from a real loopback crawl before format 2) still
// verifies with VerifyBundle, as the package promises, and an alteration
// of it does not; verify.py, which implements format 2 only, refuses it
// with a message naming both formats.
func TestFormat1Bundle(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "b")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "format1-bundle"))); err != nil {
		t.Fatal(err)
	}
	s, err := VerifyBundle(ctx, dir)
	if err != nil {
		t.Fatalf("format 1 bundle: %v", err)
	}
	if s.Info.Format != FormatV1 || s.Proven == 0 || s.Pages == 0 || s.Signed {
		t.Errorf("format 1 bundle summary: %s", s)
	}
	// A format 1 bundle carries no verify.py: run the current one on it.
	cmd := exec.Command(python3(t), filepath.Join("bundlefiles", FileVerifier), dir)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	o, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !bytes.Contains(o, []byte("goodbot-evidence/1")) || !bytes.Contains(o, []byte("goodbot-evidence/2")) {
		t.Errorf("verify.py on a format 1 bundle: %v\n%s", err, o)
	}
	flip(t, filepath.Join(dir, FileEntries), 40)
	if _, err := VerifyBundle(ctx, dir); err == nil {
		t.Error("an altered format 1 bundle verifies")
	}
}
