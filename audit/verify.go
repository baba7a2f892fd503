package audit

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Checkpoint is a signed checkpoint held outside the log (by a
	// counterparty, a witness, a time-stamping authority). Verify proves
	// that the log is a consistent extension of it: this is what catches
	// truncation and wholesale rewriting by whoever holds the log.
	Checkpoint []byte
	// Keys are trusted verifier keys. If empty, Verify trusts the key the
	// log was created with (trust on first use) and keys endorsed by it.
	Keys []string
	// Visit, if set, sees every entry after it has been checked, in order.
	Visit func(*Entry) error
	// TSARoots are the CA certificates that the checkpoints' RFC 3161
	// time-stamp tokens (checkpoints.tsr) must chain to. Without them the
	// tokens are checked only for consistency: each must stamp its
	// checkpoint and be validly signed by the certificate it carries.
	TSARoots *x509.CertPool
}

// TornTail describes bytes at the end of the log that do not form an entry,
// above the last checkpoint: what a crash leaves, and what Open truncates.
type TornTail struct {
	Segment string
	Offset  int64
	Bytes   int64
	Problem string
}

// Summary describes a verified log.
type Summary struct {
	Origin      string
	Entries     int64     // entries in the log, including pruned ones
	Pruned      int64     // entries 0..Pruned-1 were pruned; their hashes remain
	First, Last time.Time // times of the first and last entries present
	Root        tlog.Hash // RFC 6962 root of all entries
	// Checkpoint is the latest valid signed checkpoint found in the log
	// directory; Unsigned counts the entries after it.
	Checkpoint  SignedCheckpoint
	Checkpoints int // signed checkpoints checked
	// Untrusted counts checkpoints signed only by keys the verifier was not
	// given (with VerifyOptions.Keys set); they are skipped.
	Untrusted int
	Unsigned  int64
	// External is the checkpoint given in VerifyOptions, once proved.
	External *SignedCheckpoint
	// Keys are the trusted verifier keys, and KeysFrom says where trust in
	// them came from: "given", "log (trust on first use)" or "keys file".
	Keys     []string
	KeysFrom string
	Torn     *TornTail
	// Timestamps describes the checkpoints' time-stamp tokens, or is nil
	// when the log has none.
	Timestamps *TimestampSummary
}

// String returns the one-line summary printed by goodbot audit verify.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ok: %d entries", s.Entries)
	if s.Pruned > 0 {
		fmt.Fprintf(&b, " (0-%d pruned)", s.Pruned-1)
	}
	if !s.First.IsZero() {
		fmt.Fprintf(&b, ", %s .. %s", s.First.Format(time.RFC3339Nano), s.Last.Format(time.RFC3339Nano))
	}
	fmt.Fprintf(&b, ", root %s, signed at size %d", base64.StdEncoding.EncodeToString(s.Root[:]), s.Checkpoint.Size)
	if s.External != nil {
		fmt.Fprintf(&b, ", extends external checkpoint at size %d", s.External.Size)
	}
	fmt.Fprintf(&b, ", keys from %s", s.KeysFrom)
	if s.Unsigned > 0 {
		fmt.Fprintf(&b, "; WARNING: %d entries after the last checkpoint are not signed", s.Unsigned)
	}
	if s.Torn != nil {
		fmt.Fprintf(&b, "; WARNING: torn tail of %d bytes in %s (a crash; Open will truncate it)", s.Torn.Bytes, s.Torn.Segment)
	}
	if s.Timestamps != nil {
		fmt.Fprintf(&b, "; %s", s.Timestamps)
	}
	return b.String()
}

// Verify checks the log in dir, offline and without the private key: frames
// and CRCs, canonical encoding, sequence numbers, the hash chain, every
// signed checkpoint (signature and root), key rotations, and consistency
// with opts.Checkpoint. An error names the first bad entry and the problem;
// it wraps one of the Err* values.
func Verify(ctx context.Context, dir string, opts VerifyOptions) (Summary, error) {
	s, c, err := verify(ctx, dir, opts)
	if c != nil {
		c.hs.close()
	}
	return s, err
}

// verify verifies the log; on success it returns the chain, whose hash
// store the caller closes.
func verify(ctx context.Context, dir string, opts VerifyOptions) (Summary, *chain, error) {
	s, c, err := verifyChain(ctx, dir, opts)
	if err != nil && c != nil {
		c.hs.close()
		c = nil
	}
	return s, c, err
}

func verifyChain(ctx context.Context, dir string, opts VerifyOptions) (Summary, *chain, error) {
	var sum Summary
	segs, err := listSegments(dir)
	if err != nil {
		return sum, nil, err
	}
	if len(segs) == 0 {
		return sum, nil, noSegments(dir)
	}
	cps, cpTorn, err := readCheckpoints(dir)
	if err != nil {
		return sum, nil, err
	}
	var first int64
	if len(segs) > 0 {
		first = segs[0].first
	}
	c, err := startChain(dir, first)
	if err != nil {
		return sum, nil, err
	}
	sum.Pruned = first

	trusted := map[string]bool{}
	tofu := len(opts.Keys) == 0
	switch {
	case !tofu:
		sum.KeysFrom = "given"
		for _, k := range opts.Keys {
			trusted[k] = true
		}
	case first > 0:
		sum.KeysFrom = "keys file"
		for _, k := range readKeysFile(dir) {
			trusted[k] = true
		}
	default:
		sum.KeysFrom = "log (trust on first use)"
	}
	keyList := func() []string {
		var ks []string
		for k := range trusted {
			ks = append(ks, k)
		}
		return ks
	}
	var firstType Type // of entry 0
	noKey := func() error {
		if first > 0 {
			return fmt.Errorf("%w: entries 0-%d were pruned and %s lists no key; give the log's public key with --key", ErrNoKey, first-1, filepath.Join(dir, keysFile))
		}
		return &EntryError{Seq: 0, Segment: segs[0].name, Err: fmt.Errorf("%w: entry 0 is a %s entry, not the key entry a log starts with; give the log's public key with --key", ErrNoKey, firstType)}
	}
	var best SignedCheckpoint
	notes := map[[32]byte]SignedCheckpoint{} // verified checkpoints by SHA-256 of the note
	untrusted := map[[32]byte]bool{}         // checkpoints skipped, signed by keys not given
	checkCP := func(seq int64, msg []byte, want int64) (SignedCheckpoint, error) {
		if tofu && len(trusted) == 0 {
			return SignedCheckpoint{}, noKey()
		}
		cp, err := OpenCheckpoint(msg, keyList())
		var unverified *note.UnverifiedNoteError
		if err != nil && !tofu && errors.As(err, &unverified) {
			// Signed by a key the verifier was not given (an older key).
			sum.Untrusted++
			untrusted[sha256.Sum256(msg)] = true
			return cp, nil
		}
		if err != nil {
			return cp, &EntryError{Seq: seq, Err: err}
		}
		if sum.Origin == "" {
			sum.Origin = cp.Origin
		} else if cp.Origin != sum.Origin {
			return cp, &EntryError{Seq: seq, Err: fmt.Errorf("%w: checkpoint origin %q, log origin %q", ErrInconsistent, cp.Origin, sum.Origin)}
		}
		if want >= 0 && cp.Size != want {
			return cp, &EntryError{Seq: seq, Err: fmt.Errorf("%w: checkpoint entry records size %d", ErrInconsistent, cp.Size)}
		}
		if cp.Size > c.next {
			return cp, &EntryError{Seq: c.next, Err: fmt.Errorf("%w: log ends before entry %d, but a signed checkpoint covers %d entries", ErrTruncated, c.next, cp.Size)}
		}
		root, err := c.treeHash(cp.Size)
		if err != nil {
			return cp, &EntryError{Seq: cp.Size - 1, Err: err}
		}
		if root != cp.Root && best.Size == 0 {
			return cp, &EntryError{Seq: cp.Size - 1, Err: fmt.Errorf("%w: entries 0-%d do not hash to the root signed at size %d (altered or rewritten)", ErrInconsistent, cp.Size-1, cp.Size)}
		}
		if root != cp.Root {
			return cp, &EntryError{Seq: cp.Size - 1, Err: fmt.Errorf("%w: entries 0-%d do not hash to the root signed at size %d; entries 0-%d match the checkpoint at size %d, so entries %d-%d were altered or rewritten", ErrInconsistent, cp.Size-1, cp.Size, best.Size-1, best.Size, best.Size, cp.Size-1)}
		}
		sum.Checkpoints++
		notes[sha256.Sum256(msg)] = cp
		if cp.Size >= best.Size {
			best = cp
		}
		return cp, nil
	}

	visit := func(e *Entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		ev := &e.Event
		if e.Seq == 0 {
			firstType = ev.Type
		}
		if sum.First.IsZero() {
			sum.First = ev.Time
		}
		sum.Last = ev.Time
		switch ev.Type {
		case TypeKey:
			vkey := ev.Other["vkey"]
			if _, err := note.NewVerifier(vkey); err != nil {
				return &EntryError{Seq: e.Seq, Err: fmt.Errorf("%w: key entry: %v", ErrBadEntry, err)}
			}
			switch ev.Other["action"] {
			case "created":
				if tofu && len(trusted) == 0 && e.Seq == 0 {
					trusted[vkey] = true
				}
			case "rotated":
				vs, err := verifiers(keyList())
				var n *note.Note
				if err == nil {
					n, err = note.Open([]byte(ev.Other["endorsement"]), vs)
				}
				if err == nil && !strings.HasSuffix(n.Text, "\n"+vkey+"\n") {
					err = fmt.Errorf("endorsement names another key")
				}
				if err != nil {
					if tofu {
						return &EntryError{Seq: e.Seq, Err: fmt.Errorf("%w: key rotation not endorsed by a trusted key: %v", ErrBadSignature, err)}
					}
					break
				}
				trusted[vkey] = true
			default:
				return &EntryError{Seq: e.Seq, Err: fmt.Errorf("%w: key entry with action %q", ErrBadEntry, ev.Other["action"])}
			}
		case TypeCheckpoint:
			if _, err := checkCP(e.Seq, []byte(ev.Other["note"]), e.Seq); err != nil {
				return err
			}
		}
		if opts.Visit != nil {
			return opts.Visit(e)
		}
		return nil
	}

	for i, s := range segs {
		b, err := os.ReadFile(filepath.Join(dir, s.name))
		if err != nil {
			return sum, c, fmt.Errorf("audit: %w", err)
		}
		if s.first != c.next {
			return sum, c, &EntryError{Seq: c.next, Segment: s.name, Err: fmt.Errorf("%w: segment %s starts at entry %d", ErrMissing, s.name, s.first)}
		}
		frames, t, err := readFrames(s.name, b, c.next)
		if err != nil {
			return sum, c, err
		}
		if err := c.appendChecked(s.name, frames, visit); err != nil {
			return sum, c, err
		}
		if t != nil {
			if i != len(segs)-1 {
				return sum, c, &EntryError{Seq: c.next, Segment: s.name, Offset: t.Offset, Err: fmt.Errorf("%w: %s in a sealed segment", ErrBadFrame, t.Problem)}
			}
			sum.Torn = &TornTail{Segment: t.Segment, Offset: t.Offset, Bytes: t.Bytes, Problem: t.Problem}
		}
	}
	for _, cp := range cps {
		if _, err := checkCP(-1, cp.Note, -1); err != nil {
			if sum.Torn != nil && errors.Is(err, ErrTruncated) {
				return sum, c, &EntryError{Seq: c.next, Segment: sum.Torn.Segment, Offset: sum.Torn.Offset, Err: fmt.Errorf("%w: %s", ErrDamageBelowCkp, sum.Torn.Problem)}
			}
			return sum, c, fmt.Errorf("%s: %w", checkpointsFile, err)
		}
	}
	_ = cpTorn // a torn checkpoint write is a crash artefact; Open truncates it
	if c.next == first {
		return sum, c, fmt.Errorf("%w: the segment files %s..%s hold no entry", ErrNoEntries, segs[0].name, segs[len(segs)-1].name)
	}
	if len(trusted) == 0 {
		// Trust on first use, and nothing to trust: no checkpoint can
		// be checked, and an unsigned chain proves nothing about who
		// wrote it.
		return sum, c, noKey()
	}
	if !tofu && sum.Checkpoints == 0 && sum.Untrusted > 0 {
		return sum, c, fmt.Errorf("%w: none of the %d signed checkpoints is signed by a key given (--key %s)", ErrBadSignature, sum.Untrusted, strings.Join(opts.Keys, ", --key "))
	}
	sum.Entries = c.next
	sum.Root, err = c.treeHash(c.next)
	if err != nil {
		return sum, c, err
	}
	sum.Checkpoint = best
	sum.Unsigned = c.next - best.Size
	sum.Keys = keyList()
	if sum.Timestamps, err = verifyTimestamps(dir, notes, untrusted, opts.TSARoots); err != nil {
		return sum, c, err
	}

	if len(opts.Checkpoint) > 0 {
		ext, err := OpenCheckpoint(opts.Checkpoint, append(keyList(), opts.Keys...))
		if err != nil {
			return sum, c, fmt.Errorf("external checkpoint: %w", err)
		}
		if sum.Origin != "" && ext.Origin != sum.Origin {
			return sum, c, fmt.Errorf("external checkpoint: %w: origin %q, log origin %q", ErrInconsistent, ext.Origin, sum.Origin)
		}
		if ext.Size > c.next {
			return sum, c, &EntryError{Seq: c.next, Err: fmt.Errorf("%w: log has %d entries, the external checkpoint covers %d", ErrTruncated, c.next, ext.Size)}
		}
		proof, err := tlog.ProveTree(c.next, ext.Size, c)
		if err == nil {
			err = tlog.CheckTree(proof, c.next, sum.Root, ext.Size, ext.Root)
		}
		if err != nil {
			return sum, c, &EntryError{Seq: ext.Size - 1, Err: fmt.Errorf("%w: the log does not extend the external checkpoint at size %d: %v", ErrInconsistent, ext.Size, err)}
		}
		sum.External = &ext
	}
	return sum, c, nil
}

// noSegments explains why dir, which holds no segment file, is not a log
// that can be verified: it is not a log at all, or its entries are gone.
func noSegments(dir string) error {
	var present []string
	for _, n := range []string{checkpointsFile, hashesFile, keysFile} {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.Size() > 0 {
			present = append(present, n)
		}
	}
	if len(present) == 0 {
		return fmt.Errorf("%w: no segment files (%s*%s) and no checkpoints in it; a crawl writes its log in OUT/audit", ErrNotLog, segPrefix, segSuffix)
	}
	return fmt.Errorf("%w: %s but no segment files (%s*%s): the log's entries are gone", ErrMissing, strings.Join(present, ", "), segPrefix, segSuffix)
}
