package evidence

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // FORMAT.md and verify.py, shipped in every bundle
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// formatDoc is FORMAT.md, the bundle's own description of its files, fields,
// encodings and hashes. It is written into every bundle.
//
//go:embed bundlefiles/FORMAT.md
var formatDoc []byte

// verifierScript is verify.py, a verifier written from FORMAT.md in Python
// (standard library only, with Ed25519 from RFC 8032), shipped in every
// bundle so that it can be checked without goodbot.
//
//go:embed bundlefiles/verify.py
var verifierScript []byte

// hexHash returns h in the bundle's one hash encoding: lower-case hex.
func hexHash(h tlog.Hash) string { return hex.EncodeToString(h[:]) }

// parseHexHash parses a 64-digit lower-case hex SHA-256.
func parseHexHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("hash %q: want 64 hex digits", s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return h, fmt.Errorf("hash %q: want lower-case hex", s)
		}
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("hash %q: %w", s, err)
	}
	return h, nil
}

// parseLegacyHash parses a hash as bundles of format 1 wrote it: base64.
func parseLegacyHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("hash %q: want base64 of 32 bytes", s)
	}
	copy(h[:], b)
	return h, nil
}

// proofLine is one line of proofs.jsonl.
type proofLine struct {
	Seq      int64    `json:"seq"`
	TreeSize int64    `json:"tree_size"`
	LeafHash string   `json:"leaf_hash"`
	Hashes   []string `json:"hashes"`
}

// withheldLine is one line of withheld.jsonl: a leaf of the checkpoint's
// tree whose entry is not in the bundle.
type withheldLine struct {
	Seq      int64  `json:"seq"`
	LeafHash string `json:"leaf_hash"`
	// Why is "other" (an entry about another site, or of a type a
	// bundle does not carry) or "pruned" (the log no longer holds the
	// entry's bytes, only its hash).
	Why string `json:"why"`
}

// bundleEntry is an entry of entries.jsonl as a verifier reads it, from
// the bytes as stored, without re-encoding anything (FORMAT.md, "Entries").
type bundleEntry struct {
	Seq  int64
	Prev tlog.Hash
	Leaf tlog.Hash
	// Event is the event object's members, by exact name.
	Event map[string]json.RawMessage
}

var (
	envSeq   = []byte(`{"seq":`)
	envPrev  = []byte(`,"prev":"`)
	envEvent = []byte(`","event":`)
)

// parseBundleEntry reads one line of entries.jsonl by the rules of
// FORMAT.md: the fixed envelope, a decimal seq without leading zeros, a
// lower-case hex prev, and an event that is a JSON object with no member
// name twice at any depth.
func parseBundleEntry(raw []byte) (bundleEntry, error) {
	var e bundleEntry
	rest, ok := bytes.CutPrefix(raw, envSeq)
	if !ok {
		return e, errors.New(`not an entry: does not start with {"seq":`)
	}
	i := 0
	for i < len(rest) && i < 19 && '0' <= rest[i] && rest[i] <= '9' {
		i++
	}
	if i == 0 || i > 1 && rest[0] == '0' {
		return e, errors.New("not an entry: seq is not a decimal number without leading zeros")
	}
	seq, err := strconv.ParseInt(string(rest[:i]), 10, 64)
	if err != nil {
		return e, fmt.Errorf("not an entry: seq: %w", err)
	}
	rest, ok = bytes.CutPrefix(rest[i:], envPrev)
	if !ok || len(rest) < 64 {
		return e, errors.New("not an entry: no prev")
	}
	prev, err := parseHexHash(string(rest[:64]))
	if err != nil {
		return e, fmt.Errorf("not an entry: prev: %w", err)
	}
	rest, ok = bytes.CutPrefix(rest[64:], envEvent)
	if !ok || len(rest) < 3 || rest[len(rest)-1] != '}' {
		return e, errors.New("not an entry: no event")
	}
	ev := rest[:len(rest)-1]
	if err := checkJSONObject(ev); err != nil {
		return e, fmt.Errorf("event: %w", err)
	}
	if err := json.Unmarshal(ev, &e.Event); err != nil {
		return e, fmt.Errorf("event: %w", err)
	}
	e.Seq, e.Prev, e.Leaf = seq, prev, tlog.RecordHash(raw)
	return e, nil
}

// checkJSONObject checks that b is exactly one JSON object (RFC 8259) in
// which no object has a member name twice, so that every reader of the
// entry reads the same values.
func checkJSONObject(b []byte) error {
	if !json.Valid(b) {
		return errors.New("not valid JSON")
	}
	if bytes.TrimSpace(b)[0] != '{' {
		return errors.New("not a JSON object")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	type level struct {
		names   map[string]bool // nil for an array
		wantKey bool
	}
	var stack []level
	afterValue := func() {
		if n := len(stack); n > 0 && stack[n-1].names != nil {
			stack[n-1].wantKey = true
		}
	}
	for range len(b) + 1 { // every token takes at least one byte
		t, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			if t == json.Delim('}') {
				stack = stack[:n-1]
				afterValue()
				continue
			}
			k, _ := t.(string)
			if stack[n-1].names[k] {
				return fmt.Errorf("member %q twice in one object", k)
			}
			stack[n-1].names[k] = true
			stack[n-1].wantKey = false
			continue
		}
		switch t {
		case json.Delim('{'):
			stack = append(stack, level{names: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, level{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			afterValue()
		default:
			afterValue()
		}
	}
	return errors.New("JSON too long to check")
}

// str returns the string member name of obj, or "".
func str(obj map[string]json.RawMessage, name string) string {
	var s string
	if v, ok := obj[name]; ok {
		_ = json.Unmarshal(v, &s)
	}
	return s
}

// sub returns the object member name of obj, or nil.
func sub(obj map[string]json.RawMessage, name string) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if v, ok := obj[name]; ok {
		_ = json.Unmarshal(v, &m)
	}
	return m
}

// concernsRaw is concerns for an event read from its bytes.
func concernsRaw(ev map[string]json.RawMessage, siteKey string) bool {
	if s := str(ev, "site"); s != "" {
		return s == siteKey
	}
	switch str(ev, "type") {
	case "config", "key", "run", "recovery", "prune":
		return true
	}
	return false
}

// rootOf returns the RFC 6962 Merkle tree hash of the leaves.
func rootOf(leaves []tlog.Hash) tlog.Hash {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := 1
	for k<<1 < len(leaves) {
		k <<= 1
	}
	return tlog.NodeHash(rootOf(leaves[:k]), rootOf(leaves[k:]))
}

// signManifest returns the detached signature of a manifest: the signature
// lines of the signed note whose text is the manifest's bytes.
func signManifest(manifest []byte, s note.Signer) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: string(manifest)}, s)
	if err != nil {
		return nil, fmt.Errorf("evidence: sign %s: %w", FileManifest, err)
	}
	return msg[len(manifest)+1:], nil
}

// openManifest checks a manifest's detached signature against the keys.
func openManifest(manifest, sig []byte, keys []string) error {
	vs := make([]note.Verifier, 0, len(keys))
	for _, k := range keys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
		vs = append(vs, v)
	}
	msg := append(append(bytes.Clone(manifest), '\n'), sig...)
	n, err := note.Open(msg, note.VerifierList(vs...))
	if err != nil {
		return fmt.Errorf("%s: %w", FileManifestSig, err)
	}
	if n.Text != string(manifest) {
		return fmt.Errorf("%s: it signs other text", FileManifestSig)
	}
	return nil
}
