package audit

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// InclusionProof proves that one entry is in the tree of a signed
// checkpoint (RFC 6962 audit path, as computed by golang.org/x/mod/sumdb/tlog).
type InclusionProof struct {
	Seq      int64       `json:"seq"`
	TreeSize int64       `json:"tree_size"`
	LeafHash tlog.Hash   `json:"leaf_hash"` // SHA-256(0x00 || entry bytes)
	Hashes   []tlog.Hash `json:"hashes"`
}

// Check verifies the proof against a checkpoint of the same tree size.
func (p InclusionProof) Check(cp SignedCheckpoint) error {
	if p.TreeSize != cp.Size {
		return fmt.Errorf("proof is for tree size %d, checkpoint has size %d", p.TreeSize, cp.Size)
	}
	if err := tlog.CheckRecord(p.Hashes, p.TreeSize, cp.Root, p.Seq, p.LeafHash); err != nil {
		return fmt.Errorf("entry %d: %w: %v", p.Seq, ErrInconsistent, err)
	}
	return nil
}

// Prover answers proof requests about a verified log. It keeps the tree's
// stored hashes in a temporary file: Close it when done.
type Prover struct {
	Summary Summary
	c       *chain
}

// Close releases the Prover's temporary file.
func (p *Prover) Close() error { return p.c.hs.close() }

// NewProver verifies the log in dir (see Verify) and returns a Prover for it.
func NewProver(ctx context.Context, dir string, opts VerifyOptions) (*Prover, error) {
	s, c, err := verify(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	return &Prover{Summary: s, c: c}, nil
}

// Inclusion proves entry seq against the tree of the given size.
func (p *Prover) Inclusion(seq, size int64) (InclusionProof, error) {
	if size > p.c.next || seq < 0 || seq >= size {
		return InclusionProof{}, fmt.Errorf("no entry %d in a tree of size %d (log has %d entries)", seq, size, p.c.next)
	}
	hs, err := tlog.ProveRecord(size, seq, p.c)
	if err != nil {
		return InclusionProof{}, fmt.Errorf("prove entry %d: %w", seq, err)
	}
	leaf, _ := p.c.leaf(seq)
	return InclusionProof{Seq: seq, TreeSize: size, LeafHash: leaf, Hashes: hs}, nil
}

// Consistency proves that the tree of size newer extends the tree of size older.
func (p *Prover) Consistency(older, newer int64) ([]tlog.Hash, error) {
	if older < 0 || older > newer || newer > p.c.next {
		return nil, fmt.Errorf("no consistency proof from size %d to %d (log has %d entries)", older, newer, p.c.next)
	}
	return tlog.ProveTree(newer, older, p.c)
}

// LeafHash returns the RFC 6962 leaf hash of entry seq, which the log keeps
// also for pruned entries.
func (p *Prover) LeafHash(seq int64) (tlog.Hash, error) {
	h, ok := p.c.leaf(seq)
	if !ok {
		return tlog.Hash{}, fmt.Errorf("no leaf hash of entry %d (log has %d entries)", seq, p.c.next)
	}
	return h, nil
}
