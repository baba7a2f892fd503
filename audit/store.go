package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
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
	next int64
	prev tlog.Hash
	hs   *hashStore
}

// hashStore holds the tree's stored hashes (tlog.StoredHashIndex order) in a
// file, so that a log of any size needs little memory: the first onDisk are
// in f, the rest in mem until the next flush. Appending a record reads
// about one stored hash (amortised), and a proof O(log n) of them.
type hashStore struct {
	f      *os.File
	onDisk int64
	mem    []tlog.Hash
	tmp    string // a temporary file to remove on close, if any
	buf    []byte // reused by flush
}

const flushHashes = 1 << 14

// openHashStore uses the file at path, whose existing hashes count as
// stored.
func openHashStore(path string) (*hashStore, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: %w", err)
	}
	return &hashStore{f: f, onDisk: fi.Size() / tlog.HashSize}, nil
}

// tempHashStore uses a new temporary file, removed by close.
func tempHashStore() (*hashStore, error) {
	f, err := os.CreateTemp("", "goodbot-audit-hashes-*")
	if err != nil {
		return nil, fmt.Errorf("audit: temporary hash file: %w", err)
	}
	return &hashStore{f: f, tmp: f.Name()}, nil
}

func (s *hashStore) count() int64 { return s.onDisk + int64(len(s.mem)) }

func (s *hashStore) at(i int64) (tlog.Hash, error) {
	var h tlog.Hash
	if i < 0 || i >= s.count() {
		return h, fmt.Errorf("audit: stored hash %d not available (have %d)", i, s.count())
	}
	if i >= s.onDisk {
		return s.mem[i-s.onDisk], nil
	}
	if _, err := s.f.ReadAt(h[:], i*tlog.HashSize); err != nil {
		return h, fmt.Errorf("audit: read stored hash %d: %w", i, err)
	}
	return h, nil
}

func (s *hashStore) push(hs ...tlog.Hash) error {
	s.mem = append(s.mem, hs...)
	if len(s.mem) >= flushHashes {
		return s.flush()
	}
	return nil
}

// flush writes the hashes held in memory to the file (without fsync).
func (s *hashStore) flush() error {
	if len(s.mem) == 0 {
		return nil
	}
	b := s.buf[:0]
	for _, h := range s.mem {
		b = append(b, h[:]...)
	}
	s.buf = b
	if _, err := s.f.WriteAt(b, s.onDisk*tlog.HashSize); err != nil {
		return fmt.Errorf("audit: write stored hashes: %w", err)
	}
	s.onDisk += int64(len(s.mem))
	s.mem = s.mem[:0]
	return nil
}

// truncate keeps the first n hashes.
func (s *hashStore) truncate(n int64) error {
	if n >= s.onDisk {
		s.mem = s.mem[:n-s.onDisk]
		return nil
	}
	s.mem = s.mem[:0]
	if err := s.f.Truncate(n * tlog.HashSize); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	s.onDisk = n
	return nil
}

func (s *hashStore) sync() error {
	if err := s.flush(); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("audit: fsync stored hashes: %w", err)
	}
	return nil
}

func (s *hashStore) close() error {
	err := s.f.Close()
	if s.tmp != "" {
		os.Remove(s.tmp)
	}
	return err
}

// leavesCovered returns the number of entries whose stored hashes are all
// among the first n.
func leavesCovered(n int64) int64 {
	lo, hi := int64(0), n // StoredHashCount(k) >= k
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if tlog.StoredHashCount(mid) <= n {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// ReadHashes implements tlog.HashReader.
func (c *chain) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, err := c.hs.at(x)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

// add appends the entry with leaf hash h as entry c.next.
//
// It stores what tlog.StoredHashesForRecordHash returns, without its
// allocations: the leaf hash, then the hash of each subtree the entry
// completes, one for each trailing 1 bit of c.next, built on the stored
// hash of the subtree to its left at each level.
func (c *chain) add(h tlog.Hash) error {
	n := c.next
	var buf [64]tlog.Hash
	hs := append(buf[:0], h)
	leaf := h
	for level := range bits.TrailingZeros64(uint64(n + 1)) {
		left, err := c.hs.at(tlog.StoredHashIndex(level, n>>uint(level)-1))
		if err != nil {
			return err
		}
		h = tlog.NodeHash(left, h)
		hs = append(hs, h)
	}
	if err := c.hs.push(hs...); err != nil {
		return err
	}
	c.next++
	c.prev = leaf
	return nil
}

// leaf returns the leaf hash of entry n.
func (c *chain) leaf(n int64) (tlog.Hash, bool) {
	if n < 0 || n >= c.next {
		return tlog.Hash{}, false
	}
	h, err := c.hs.at(tlog.StoredHashIndex(0, n))
	return h, err == nil
}

func (c *chain) treeHash(n int64) (tlog.Hash, error) { return tlog.TreeHash(n, c) }

// resetTo makes the chain stand in front of entry first, keeping the stored
// hashes of entries before it (which must be in the store).
func (c *chain) resetTo(first int64) error {
	need := tlog.StoredHashCount(first)
	if c.hs.count() < need {
		return fmt.Errorf("audit: entries 0-%d are not in the segments, and %s holds only %d of their %d hashes: %w",
			first-1, hashesFile, c.hs.count(), need, ErrMissing)
	}
	if err := c.hs.truncate(need); err != nil {
		return err
	}
	c.next = first
	c.prev = tlog.Hash{}
	if first > 0 {
		h, err := c.hs.at(tlog.StoredHashIndex(0, first-1))
		if err != nil {
			return err
		}
		c.prev = h
	}
	return nil
}

// startChain returns a chain for verifying the log in dir from entry first
// on, in a temporary hash store seeded with the stored hashes of the pruned
// entries 0..first-1 from the log's hashes file. The caller closes c.hs.
func startChain(dir string, first int64) (*chain, error) {
	hs, err := tempHashStore()
	if err != nil {
		return nil, err
	}
	c := &chain{hs: hs}
	if first == 0 {
		return c, nil
	}
	f, err := os.Open(filepath.Join(dir, hashesFile))
	if err != nil {
		hs.close()
		return nil, fmt.Errorf("audit: entries 0-%d were pruned but their hashes are unreadable: %w", first-1, err)
	}
	defer f.Close()
	need := tlog.StoredHashCount(first)
	n, err := io.Copy(hs.f, io.LimitReader(f, need*tlog.HashSize))
	if err != nil {
		hs.close()
		return nil, fmt.Errorf("audit: %w", err)
	}
	hs.onDisk = n / tlog.HashSize
	if err := c.resetTo(first); err != nil {
		hs.close()
		return nil, err
	}
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
			if zeros(b[off:]) {
				// Preallocated space after the last entry. A frame is
				// never all zeros (its length is at least minPayload).
				break
			}
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

// framesEnd returns the offset just after the last of frames.
func framesEnd(frames []framed) int64 {
	if len(frames) == 0 {
		return 0
	}
	f := frames[len(frames)-1]
	return f.off + frameHeader + int64(len(f.payload))
}

// zeros reports whether b holds only zero bytes.
func zeros(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// zeroFile reports whether the file at path is empty or holds only zeros.
func zeroFile(path string) (bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("audit: %w", err)
	}
	return zeros(b), nil
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
// checkpoint was written) is returned, not an error; bytes a crash cannot
// leave (random bytes, another file's content) are an error naming the
// file.
func readCheckpoints(dir string) ([]SignedCheckpoint, *torn, error) {
	name := filepath.Join(dir, checkpointsFile)
	b, err := os.ReadFile(name)
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
				return nil, nil, fmt.Errorf("audit: %s: checkpoint %d at offset %d: %w: %s", name, len(out), off, ErrBadFrame, problem)
			}
			if !crashTorn(b[off:]) {
				return nil, nil, fmt.Errorf("audit: %s: checkpoint %d at offset %d: %w: %s, and the %d bytes from there are not what a crash leaves of a checkpoint being written: the file is damaged or is not a checkpoints file (the log's checkpoint entries hold the same checkpoints: move it aside to verify the log without it)", name, len(out), off, ErrBadFrame, problem, len(b)-off)
			}
			return out, &torn{Segment: checkpointsFile, Offset: int64(off), Bytes: int64(len(b) - off), Problem: problem}, nil
		}
		cp, err := parseUnverified(p)
		if err != nil {
			return nil, nil, fmt.Errorf("audit: %s: checkpoint %d: %w: %w", name, len(out), ErrBadEntry, err)
		}
		out = append(out, cp)
		off += n
	}
	return out, nil, nil
}
