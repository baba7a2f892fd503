package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// Files in a log directory:
//
//	seg-<first seq, 20 digits>.wal  segments of framed entries
//	checkpoints                     framed signed checkpoints, oldest first
//	tree.hashes                     the tlog stored hashes (32 bytes each, in
//	                                tlog.StoredHashIndex order), so that proofs
//	                                still verify after old segments are pruned
//	LOCK                            held by the writer
const (
	segPrefix       = "seg-"
	segSuffix       = ".wal"
	checkpointsFile = "checkpoints"
	hashesFile      = "tree.hashes"
	lockFile        = "LOCK"
)

type segFile struct {
	name  string
	first int64
}

func segName(first int64) string { return fmt.Sprintf("%s%020d%s", segPrefix, first, segSuffix) }

// listSegments returns the segments of dir in order.
func listSegments(dir string) ([]segFile, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	var segs []segFile
	for _, de := range des {
		n := de.Name()
		if !strings.HasPrefix(n, segPrefix) || !strings.HasSuffix(n, segSuffix) {
			continue
		}
		first, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(n, segPrefix), segSuffix), 10, 64)
		if err != nil || first < 0 || segName(first) != n {
			return nil, fmt.Errorf("audit: unexpected segment file name %q", n)
		}
		segs = append(segs, segFile{n, first})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].first < segs[j].first })
	return segs, nil
}

// chain is the running state of a scan or of the writer: the next sequence
// number, the leaf hash of the last entry and the tree's stored hashes.
type chain struct {
	next   int64
	prev   tlog.Hash
	hashes []tlog.Hash
}

func (c *chain) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(c.hashes)) {
			return nil, fmt.Errorf("audit: stored hash %d not available (have %d)", x, len(c.hashes))
		}
		out[i] = c.hashes[x]
	}
	return out, nil
}

// add appends the entry with leaf hash h as entry c.next.
func (c *chain) add(h tlog.Hash) error {
	hs, err := tlog.StoredHashesForRecordHash(c.next, h, c)
	if err != nil {
		return err
	}
	c.hashes = append(c.hashes, hs...)
	c.next++
	c.prev = h
	return nil
}

// leaf returns the leaf hash of entry n.
func (c *chain) leaf(n int64) (tlog.Hash, bool) {
	i := tlog.StoredHashIndex(0, n)
	if n < 0 || n >= c.next || i >= int64(len(c.hashes)) {
		return tlog.Hash{}, false
	}
	return c.hashes[i], true
}

func (c *chain) treeHash(n int64) (tlog.Hash, error) { return tlog.TreeHash(n, c) }

// startChain returns the chain state in front of entry first, reading the
// stored hashes of pruned entries from the hashes file.
func startChain(dir string, first int64) (*chain, error) {
	c := &chain{}
	if first == 0 {
		return c, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, hashesFile))
	if err != nil {
		return nil, fmt.Errorf("audit: entries 0-%d were pruned but their hashes are unreadable: %w", first-1, err)
	}
	need := tlog.StoredHashCount(first)
	if int64(len(b)) < need*tlog.HashSize {
		return nil, fmt.Errorf("audit: entries 0-%d were pruned but %s holds only %d of their %d hashes: %w",
			first-1, hashesFile, len(b)/tlog.HashSize, need, ErrMissing)
	}
	c.hashes = make([]tlog.Hash, need)
	for i := range c.hashes {
		copy(c.hashes[i][:], b[i*tlog.HashSize:])
	}
	c.next = first
	c.prev = c.hashes[tlog.StoredHashIndex(0, first-1)]
	return c, nil
}

// framed is one valid frame of a segment.
type framed struct {
	off     int64
	payload []byte
}

// torn describes bytes at the end of a segment that do not form a frame.
type torn struct {
	Segment string
	Offset  int64  // where the torn bytes start
	Bytes   int64  // how many there are
	Problem string // why the first frame there is invalid
}

// readFrames splits a segment into frames. Invalid bytes at the very end,
// with no valid entry frame after them, are a torn tail; invalid bytes with a
// valid entry frame after them are damage, reported as an EntryError naming
// the entry that should have been there.
func readFrames(seg string, b []byte, firstSeq int64) ([]framed, *torn, error) {
	var out []framed
	off := 0
	for off < len(b) {
		p, n, problem := readFrame(b[off:])
		if problem != "" {
			if _, ok := validFrameAfter(b[off+1:], entryPrefix); ok {
				sentinel := ErrBadFrame
				if problem == "bad CRC" {
					sentinel = ErrBadCRC
				}
				return out, nil, &EntryError{Seq: firstSeq + int64(len(out)), Segment: seg, Offset: int64(off), Err: sentinel}
			}
			return out, &torn{Segment: seg, Offset: int64(off), Bytes: int64(len(b) - off), Problem: problem}, nil
		}
		out = append(out, framed{int64(off), p})
		off += n
	}
	return out, nil, nil
}

// appendChecked decodes the frames of one segment and adds them to c,
// checking sequence numbers and the hash chain. visit, if not nil, sees
// every entry after it is checked.
func (c *chain) appendChecked(seg string, frames []framed, visit func(*Entry) error) error {
	ents := make([]Entry, len(frames))
	errs := make([]error, len(frames))
	// Decoding (and the canonical-form check) is most of the cost, and
	// independent per entry: spread it over the CPUs.
	workers := min(runtime.GOMAXPROCS(0), len(frames)/256+1)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(frames)/workers, (w+1)*len(frames)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				ents[i], errs[i] = decodeEntry(frames[i].payload)
			}
		})
	}
	wg.Wait()
	seqAt := make(map[int64]int, len(frames))
	for i, f := range frames {
		if err := errs[i]; err != nil {
			return &EntryError{Seq: c.next + int64(i), Segment: seg, Offset: f.off, Err: fmt.Errorf("%w: %v", ErrBadEntry, err)}
		}
		if _, dup := seqAt[ents[i].Seq]; !dup {
			seqAt[ents[i].Seq] = i
		}
	}
	for i := range ents {
		e := &ents[i]
		off := frames[i].off
		if e.Seq != c.next {
			err := c.sequenceProblem(e, i, seqAt)
			return &EntryError{Seq: c.next, Segment: seg, Offset: off, Err: err}
		}
		if e.Prev != c.prev {
			return &EntryError{Seq: e.Seq, Segment: seg, Offset: off, Err: fmt.Errorf("%w: prev hash does not match entry %d", ErrBrokenChain, e.Seq-1)}
		}
		if err := c.add(e.LeafHash()); err != nil {
			return &EntryError{Seq: e.Seq, Segment: seg, Offset: off, Err: err}
		}
		if visit != nil {
			if err := visit(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// sequenceProblem explains an entry found where entry c.next belongs.
func (c *chain) sequenceProblem(e *Entry, i int, seqAt map[int64]int) error {
	if e.Seq < c.next {
		if h, ok := c.leaf(e.Seq); ok && h == e.LeafHash() {
			return fmt.Errorf("%w: entry %d appears again", ErrDuplicated, e.Seq)
		}
		return fmt.Errorf("%w: found entry %d after entry %d", ErrReordered, e.Seq, c.next-1)
	}
	if j, ok := seqAt[c.next]; ok && j > i {
		return fmt.Errorf("%w: found entry %d where entry %d belongs; entry %d comes later", ErrReordered, e.Seq, c.next, c.next)
	}
	if e.Seq == c.next+1 {
		return fmt.Errorf("%w: entry %d is absent (next is entry %d)", ErrMissing, c.next, e.Seq)
	}
	return fmt.Errorf("%w: entries %d-%d are absent (next is entry %d)", ErrMissing, c.next, e.Seq-1, e.Seq)
}

// readCheckpoints reads the checkpoints file. A torn tail (a crash while a
// checkpoint was written) is returned, not an error.
func readCheckpoints(dir string) ([]SignedCheckpoint, *torn, error) {
	b, err := os.ReadFile(filepath.Join(dir, checkpointsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("audit: %w", err)
	}
	var out []SignedCheckpoint
	off := 0
	for off < len(b) {
		p, n, problem := readFrame(b[off:])
		if problem != "" {
			if _, ok := validFrameAfter(b[off+1:], nil); ok {
				return nil, nil, fmt.Errorf("audit: %s: checkpoint %d at offset %d: %s", checkpointsFile, len(out), off, problem)
			}
			return out, &torn{Segment: checkpointsFile, Offset: int64(off), Bytes: int64(len(b) - off), Problem: problem}, nil
		}
		cp, err := parseUnverified(p)
		if err != nil {
			return nil, nil, fmt.Errorf("audit: %s: checkpoint %d: %w", checkpointsFile, len(out), err)
		}
		out = append(out, cp)
		off += n
	}
	return out, nil, nil
}
