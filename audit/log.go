package audit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// DefaultRetention is the shortest time segments are kept: six months
// (Cybersecurity Law Art. 21), rounded up to 180 days.
const DefaultRetention = 180 * 24 * time.Hour

// anchorTimeout bounds one call to Options.Anchor, which runs in the
// writer: an unreachable witness delays appends by at most this much per
// checkpoint, and the failure is recorded in the checkpoint entry.
const anchorTimeout = 5 * time.Second

// ErrClosed is returned by Record and the other methods after Close.
var ErrClosed = errors.New("audit: log is closed")

// Options configure a Log. The zero value of each field selects its default.
type Options struct {
	// KeyFile is the path of the Ed25519 private signing key (note signer
	// key format). It must lie outside the log directory. If it does not
	// exist and the log is new, a key is generated there, with a warning.
	KeyFile string
	// Origin names the log in its checkpoints and is the key name, e.g.
	// "goodbot.example.com/crawler-1". No spaces or '+'. Default "goodbot".
	Origin string
	// CheckpointEvery is how often a checkpoint is signed while entries
	// arrive. Default one minute; negative disables the timer.
	CheckpointEvery time.Duration
	// CheckpointEntries signs a checkpoint after this many new entries.
	// Default 10,000; negative disables.
	CheckpointEntries int
	// Retention is how long segments are kept before Prune may remove them.
	// Default, and minimum, DefaultRetention; shorter is refused.
	Retention time.Duration
	// BatchMax is the most entries written with one fsync. Default 512.
	BatchMax int
	// CommitWindow is how long the writer may hold an entry given to
	// Record before its fsync, so that the entries that other goroutines
	// record meanwhile share that fsync (group commit). The writer waits
	// only while the log is busy (the previous fsync ended less than
	// busyWithin ago), and never more than CommitWindow after the first
	// waiting entry was given; it stops waiting once CommitEntries
	// entries wait. Default 1 ms; negative disables the wait.
	CommitWindow time.Duration
	// CommitEntries ends the commit window early once this many Record
	// calls wait. Default 64.
	CommitEntries int
	// SegmentBytes starts a new segment when the current one reaches this
	// size. Default 64 MiB.
	SegmentBytes int64
	// SegmentAge starts a new segment when the current one is this old,
	// so that retention can prune by day. Default 24 hours.
	SegmentAge time.Duration
	// Logger receives warnings (new key, recovery, anchor failures).
	// Default slog.Default().
	Logger *slog.Logger
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Anchor, if set, receives every signed checkpoint.
	Anchor Anchor
	// Timestamper, if set, time-stamps every signed checkpoint (RFC 3161:
	// tsa.Client). Tokens are kept in checkpoints.tsr beside the
	// checkpoints file. A failure never stops the log: it is logged,
	// recorded in the checkpoint entry, and the next checkpoint is
	// stamped in turn.
	Timestamper Timestamper
	// TimestampTimeout bounds one call to Timestamper. Default
	// DefaultTimestampTimeout.
	TimestampTimeout time.Duration
}

func (o *Options) setDefaults(dir string) error {
	if o.KeyFile == "" {
		return errors.New("audit: Options.KeyFile is required (keep the private key outside the log directory)")
	}
	if in, err := insideDir(o.KeyFile, dir); err != nil {
		return fmt.Errorf("audit: key file: %w", err)
	} else if in {
		return fmt.Errorf("audit: key file %s is inside the log directory %s; keep it elsewhere, so that whoever copies the log does not get the key", o.KeyFile, dir)
	}
	if o.Origin == "" {
		o.Origin = "goodbot"
	}
	if strings.ContainsAny(o.Origin, "+ \t\r\n") || !strings.ContainsFunc(o.Origin, func(r rune) bool { return r > ' ' }) {
		return fmt.Errorf("audit: origin %q: must be non-empty, without spaces or '+'", o.Origin)
	}
	switch {
	case o.Retention == 0:
		o.Retention = DefaultRetention
	case o.Retention < DefaultRetention:
		return fmt.Errorf("audit: retention %v is shorter than the minimum %v (logs must be kept at least six months)", o.Retention, DefaultRetention)
	}
	if o.CheckpointEvery == 0 {
		o.CheckpointEvery = time.Minute
	}
	if o.CheckpointEntries == 0 {
		o.CheckpointEntries = 10000
	}
	if o.BatchMax == 0 {
		o.BatchMax = 512
	}
	if o.CommitWindow == 0 {
		o.CommitWindow = time.Millisecond
	}
	if o.CommitWindow > time.Second {
		return fmt.Errorf("audit: CommitWindow %v is longer than the maximum of one second", o.CommitWindow)
	}
	if o.CommitEntries == 0 {
		o.CommitEntries = 64
	}
	if o.BatchMax < 1 || o.BatchMax > 1<<16 {
		return fmt.Errorf("audit: BatchMax %d out of range 1-65536", o.BatchMax)
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = 64 << 20
	}
	if o.SegmentAge == 0 {
		o.SegmentAge = 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TimestampTimeout <= 0 {
		o.TimestampTimeout = DefaultTimestampTimeout
	}
	return nil
}

// Recovery describes a torn tail that Open truncated.
type Recovery struct {
	Segment string // segment file
	Offset  int64  // where the torn bytes started
	Bytes   int64  // how many bytes were cut
	Problem string // why they were not a valid entry
	Entries int64  // entries in the log after recovery
}

// Log is the tamper-evident operation log. It implements Sink. Its methods
// are safe for concurrent use.
type Log struct {
	dir  string
	opts Options
	lock *os.File

	reqs chan *request
	done chan struct{} // closed when the writer has stopped
	stop sync.Once

	recovered *Recovery
	readFrom  int                    // the first segment Open read (tests)
	pub       atomic.Pointer[string] // the current verifier key

	// Owned by the writer goroutine (or by Open before it starts).
	signer   note.Signer
	vkey     string
	c        *chain
	seg      *os.File
	segs     []segInfo
	segSize  int64 // bytes of entries in seg
	segAlloc int64 // bytes of seg already written (entries, then zeros)
	segStart time.Time
	cpf      *os.File
	tsf      *os.File // checkpoints.tsr, with a Timestamper
	lastCP   SignedCheckpoint
	lastIsCP bool // the last entry is the checkpoint entry for lastCP
	err      error
	dirty    time.Time // when entries were first written but not yet fsynced; zero if none
	lastSync time.Time // when the last fsync of the segment ended
	buf      []byte
	scratch  []byte
	zeros    []byte // preallocStep zero bytes

	entries atomic.Int64 // entries written, for Stats
	syncs   atomic.Int64 // segment fsyncs, for Stats
	waits   waitHist     // how long Record calls waited, for Stats
}

type segInfo struct {
	name     string
	first    int64
	count    int64
	lastTime time.Time
}

type reqKind int

const (
	kEvent reqKind = iota
	kCheckpoint
	kRotate
	kPrune
	kClose
	kAbandon // stop without a final checkpoint, as a crash would (tests)
)

type request struct {
	kind  reqKind
	event []byte
	time  time.Time
	ctx   context.Context
	// done, if a caller waits for the request, is closed by the writer
	// once res holds the outcome. (A channel of struct{} takes one
	// allocation, one of result two.)
	done   chan struct{}
	res    result
	wait   bool      // a Record call waits for the entry to be durable
	queued time.Time // when Record was called, with wait
}

// finish hands res to whoever waits for r, if anyone does.
func (r *request) finish(res result) {
	if r.done != nil {
		r.res = res
		close(r.done)
	}
}

type result struct {
	cp   SignedCheckpoint
	vkey string
	n    int
	err  error
}

// Open opens the log in dir, creating it if needed, and recovers it after a
// crash: a torn tail above the last checkpoint is truncated, reported in the
// log (a TypeRecovery entry), by the logger and by Recovered. Damage below
// the last checkpoint, or anywhere but the tail, is an error: it is never
// repaired.
func Open(dir string, opts Options) (*Log, error) {
	if err := opts.setDefaults(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, lockFile))
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, opts: opts, lock: lock, reqs: make(chan *request, opts.BatchMax), done: make(chan struct{})}
	if err := l.recover(); err != nil {
		l.closeFiles()
		return nil, err
	}
	go l.run()
	return l, nil
}

func (l *Log) recover() error {
	lg := l.opts.Logger
	cps, cpTorn, err := readCheckpoints(l.dir)
	if err != nil {
		return err
	}
	segs, err := listSegments(l.dir)
	if err != nil {
		return err
	}
	// A crash right after a segment was created leaves it empty, or
	// holding only the zeros of its preallocated space.
	for len(segs) > 0 {
		last := segs[len(segs)-1]
		empty, err := zeroFile(filepath.Join(l.dir, last.name))
		if err != nil {
			return err
		}
		if !empty {
			break
		}
		if err := os.Remove(filepath.Join(l.dir, last.name)); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		segs = segs[:len(segs)-1]
	}
	for _, cp := range cps {
		if cp.Size > l.lastCP.Size {
			l.lastCP = cp
		}
	}
	if l.lastCP.Origin != "" && l.lastCP.Origin != l.opts.Origin {
		return fmt.Errorf("audit: the log's origin is %q, not %q; open it with its own origin", l.lastCP.Origin, l.opts.Origin)
	}

	hs, err := openHashStore(filepath.Join(l.dir, hashesFile))
	if err != nil {
		return err
	}
	c := &chain{hs: hs}
	l.c = c

	// Where to start reading. Entries up to the largest checkpoint whose
	// root the hashes file reproduces need not be read again (Verify reads
	// everything); reading starts at the segment holding that checkpoint's
	// last entry, and the root is checked again once it is re-read.
	start, anchor := 0, SignedCheckpoint{}
	covered := leavesCovered(hs.count())
	for i := len(cps) - 1; i >= 0 && len(segs) > 0; i-- {
		cp := cps[i]
		if cp.Size == 0 || cp.Size > covered || cp.Size <= segs[0].first {
			continue
		}
		if root, err := c.treeHash(cp.Size); err == nil && root == cp.Root {
			anchor = cp
			for k, s := range segs {
				if s.first < cp.Size {
					start = k
				}
			}
			break
		}
	}
	first := int64(0)
	if len(segs) > 0 {
		first = segs[start].first
	}
	if err := c.resetTo(first); err != nil {
		return err
	}
	l.readFrom = start
	for i := 0; i < start; i++ { // sealed segments not read again
		info := segInfo{name: segs[i].name, first: segs[i].first, count: segs[i+1].first - segs[i].first}
		if fi, err := os.Stat(filepath.Join(l.dir, segs[i].name)); err == nil {
			info.lastTime = fi.ModTime() // the last write; no earlier than the last entry
		}
		l.segs = append(l.segs, info)
	}

	var keys []string
	if first > 0 {
		keys = readKeysFile(l.dir)
	}
	var tn *torn
	for i := start; i < len(segs); i++ {
		s := segs[i]
		b, err := os.ReadFile(filepath.Join(l.dir, s.name))
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		if s.first != c.next {
			return &EntryError{Seq: c.next, Segment: s.name, Err: fmt.Errorf("%w: segment %s starts at entry %d", ErrMissing, s.name, s.first)}
		}
		frames, t, err := readFrames(s.name, b, c.next)
		if err != nil {
			return err
		}
		info := segInfo{name: s.name, first: s.first}
		err = c.appendChecked(s.name, frames, func(e *Entry) error {
			info.count++
			if e.Event.Time.After(info.lastTime) {
				info.lastTime = e.Event.Time
			}
			if e.Event.Type == TypeKey && !slices.Contains(keys, e.Event.Other["vkey"]) {
				keys = append(keys, e.Event.Other["vkey"])
				if first > 0 {
					// Recorded in the log but not yet in the keys file (a
					// crash during rotation): repair the copy.
					if err := appendKeysFile(l.dir, e.Event.Other["vkey"]); err != nil {
						return err
					}
				}
			}
			l.lastIsCP = e.Event.Type == TypeCheckpoint
			return nil
		})
		if err != nil {
			return err
		}
		if t != nil && i != len(segs)-1 {
			return &EntryError{Seq: c.next, Segment: s.name, Offset: t.Offset, Err: fmt.Errorf("%w: %s in a sealed segment", ErrBadFrame, t.Problem)}
		}
		tn = t
		l.segs = append(l.segs, info)
		if end := framesEnd(frames); t == nil && i == len(segs)-1 && end < int64(len(b)) {
			// The preallocated space after the last entry of the segment a
			// crash left open: not damage, but no longer needed, as every
			// Open starts a segment of its own.
			if err := truncateSync(filepath.Join(l.dir, s.name), end); err != nil {
				return err
			}
		}
	}
	if c.next < l.lastCP.Size {
		if tn != nil {
			return &EntryError{Seq: c.next, Segment: tn.Segment, Offset: tn.Offset, Err: fmt.Errorf("%w (signed at size %d): %s", ErrDamageBelowCkp, l.lastCP.Size, tn.Problem)}
		}
		return fmt.Errorf("audit: %w: log has %d entries, its checkpoint says %d", ErrTruncated, c.next, l.lastCP.Size)
	}
	if anchor.Size > 0 {
		if root, err := c.treeHash(anchor.Size); err != nil || root != anchor.Root {
			return &EntryError{Seq: anchor.Size - 1, Err: fmt.Errorf("%w: entries re-read on open do not hash to the root signed at size %d", ErrInconsistent, anchor.Size)}
		}
	}
	if l.lastIsCP && l.lastCP.Size != c.next-1 {
		l.lastIsCP = false
	}
	if tn != nil {
		if err := truncateSync(filepath.Join(l.dir, tn.Segment), tn.Offset); err != nil {
			return err
		}
		l.recovered = &Recovery{Segment: tn.Segment, Offset: tn.Offset, Bytes: tn.Bytes, Problem: tn.Problem, Entries: c.next}
		lg.Warn("audit: truncated a torn tail left by a crash", "segment", tn.Segment, "offset", tn.Offset, "bytes", tn.Bytes, "problem", tn.Problem, "entries", c.next)
	}
	if cpTorn != nil {
		if err := truncateSync(filepath.Join(l.dir, checkpointsFile), cpTorn.Offset); err != nil {
			return err
		}
		lg.Warn("audit: truncated a torn checkpoint left by a crash", "offset", cpTorn.Offset, "bytes", cpTorn.Bytes)
	}
	if err := hs.sync(); err != nil {
		return err
	}
	// Drop stale hashes beyond the log.
	if fi, err := hs.f.Stat(); err == nil && fi.Size() > hs.count()*tlog.HashSize {
		if err := hs.f.Truncate(hs.count() * tlog.HashSize); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}

	l.cpf, err = os.OpenFile(filepath.Join(l.dir, checkpointsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if l.opts.Timestamper != nil {
		if err := l.openTimestamps(); err != nil {
			return err
		}
	}

	newKey, err := l.loadKey(keys, first)
	if err != nil {
		return err
	}
	vk := l.vkey
	l.pub.Store(&vk)
	if err := l.newSegment(); err != nil {
		return err
	}
	if newKey {
		err := l.commit(true, []*request{l.internal(TypeKey, map[string]string{"action": "created", "vkey": l.vkey})})
		if err != nil {
			return err
		}
	}
	if r := l.recovered; r != nil {
		err := l.commit(true, []*request{l.internal(TypeRecovery, map[string]string{
			"segment": r.Segment, "offset": strconv.FormatInt(r.Offset, 10),
			"bytes": strconv.FormatInt(r.Bytes, 10), "problem": r.Problem,
		})})
		if err != nil {
			return err
		}
	}
	return nil
}

// loadKey loads (or, for a new log, generates) the signing key and checks it
// is the log's current key. keys are the verifier keys in the log, oldest
// first.
func (l *Log) loadKey(keys []string, first int64) (created bool, err error) {
	kf := l.opts.KeyFile
	if len(keys) == 0 && first > 0 {
		keys = readKeysFile(l.dir)
	}
	_, statErr := os.Stat(kf)
	switch {
	case errors.Is(statErr, fs.ErrNotExist) && len(keys) == 0 && l.c.next == 0:
		l.signer, l.vkey, err = generateKey(kf, l.opts.Origin)
		if err != nil {
			return false, err
		}
		l.opts.Logger.Warn("audit: generated a new signing key; keep the private key secret and backed up, outside the log directory, and publish the public key", "key_file", kf, "public_key", l.vkey)
		return true, appendKeysFile(l.dir, l.vkey)
	case statErr != nil && errors.Is(statErr, fs.ErrNotExist):
		cur := ""
		if len(keys) > 0 {
			cur = keys[len(keys)-1]
		}
		return false, fmt.Errorf("audit: key file %s is missing; the log's current key is %q", kf, cur)
	case statErr != nil:
		return false, fmt.Errorf("audit: key file: %w", statErr)
	}
	l.signer, l.vkey, err = loadKey(kf)
	if err != nil {
		return false, err
	}
	if len(keys) == 0 {
		if l.c.next != 0 {
			return false, fmt.Errorf("audit: the log has %d entries but no key entry", l.c.next)
		}
		return true, appendKeysFile(l.dir, l.vkey)
	}
	cur := keys[len(keys)-1]
	if l.vkey == cur {
		return false, nil
	}
	// A crash during RotateKey: the rotation entry is durable, the rename
	// of the new key file was not.
	next := kf + ".next"
	if s, v, err := loadKey(next); err == nil && v == cur {
		if err := os.Rename(next, kf); err != nil {
			return false, fmt.Errorf("audit: finish key rotation: %w", err)
		}
		if err := syncDir(filepath.Dir(kf)); err != nil {
			return false, err
		}
		l.signer, l.vkey = s, v
		return false, nil
	}
	return false, fmt.Errorf("audit: key file %s holds key %q, but the log's current key is %q", kf, l.vkey, cur)
}

// The keys file lists the log's verifier keys, one a line. It is a copy of
// the key entries, kept for when those are pruned.
const keysFile = "keys"

func readKeysFile(dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, keysFile))
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

func appendKeysFile(dir, vkey string) error {
	ks := append(readKeysFile(dir), vkey)
	return writeFileSync(filepath.Join(dir, keysFile), []byte(strings.Join(ks, "\n")+"\n"), 0o644, false)
}

func truncateSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("audit: truncate %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// Recovered reports the torn tail Open truncated, or nil.
func (l *Log) Recovered() *Recovery { return l.recovered }

// Dir returns the log directory.
func (l *Log) Dir() string { return l.dir }

// PublicKey returns the verifier key of the current signing key, in note
// format ("origin+hash+base64").
func (l *Log) PublicKey() string { return *l.pub.Load() }

func (l *Log) internal(t Type, other map[string]string) *request {
	now := l.opts.Now().UTC()
	b, err := encodeEvent(&Event{Type: t, Time: now, Other: other})
	if err != nil {
		panic(err) // cannot happen: the event is a map of strings
	}
	return &request{kind: kEvent, event: b, time: now}
}

// Record appends e to the log and returns once it is on disk (fsynced),
// together with the other entries recorded at the same time (group
// commit). A zero e.Time is set to now; times are stored in UTC. The types
// the log defines itself (checkpoint, key, recovery, prune) are refused.
//
// If ctx ends first, Record returns its error; the entry may still be
// written.
func (l *Log) Record(ctx context.Context, e Event) error {
	r, err := l.eventRequest(&e)
	if err != nil {
		return err
	}
	r.done = make(chan struct{})
	r.wait, r.queued = true, time.Now()
	if err := l.send(ctx, r).err; err != nil {
		return err
	}
	l.waits.add(time.Since(r.queued))
	return nil
}

// eventRequest checks and encodes an event given to Record or Append. It
// sets e's time; the request has no done channel, which only Record needs.
func (l *Log) eventRequest(e *Event) (*request, error) {
	switch e.Type {
	case "":
		return nil, errors.New("audit: event has no type")
	case TypeCheckpoint, TypeKey, TypeRecovery, TypePrune:
		return nil, fmt.Errorf("audit: %s entries are written by the log itself", e.Type)
	}
	if e.Time.IsZero() {
		e.Time = l.opts.Now()
	}
	e.Time = e.Time.UTC()
	b, err := encodeEvent(e)
	if err != nil {
		return nil, err
	}
	return &request{kind: kEvent, event: b, time: e.Time}, nil
}

// Append adds e to the log like Record, but returns as soon as the entry is
// queued, without waiting for it to be durable. Entries keep the order in
// which they were queued, so an entry recorded later with Record is durable
// only once e is; if writing e fails, the log fails and every later call
// returns the error. Use it for events that need not be on disk before the
// caller goes on (the crawler's fetch events), and Record for those that
// must (its decisions, written before a request is sent).
func (l *Log) Append(ctx context.Context, e Event) error {
	r, err := l.eventRequest(&e)
	if err != nil {
		return err
	}
	select {
	case <-l.done:
		return ErrClosed
	default:
	}
	select {
	case l.reqs <- r:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audit: %w", ctx.Err())
	case <-l.done:
		return ErrClosed
	}
}

func (l *Log) send(ctx context.Context, r *request) result {
	select {
	case <-l.done:
		return result{err: ErrClosed}
	default:
	}
	select {
	case l.reqs <- r:
	case <-ctx.Done():
		return result{err: fmt.Errorf("audit: %w", ctx.Err())}
	case <-l.done:
		return result{err: ErrClosed}
	}
	select {
	case <-r.done:
		return r.res
	case <-ctx.Done():
		return result{err: fmt.Errorf("audit: %w (the entry may still be written)", ctx.Err())}
	case <-l.done:
		select {
		case <-r.done:
			return r.res
		default:
			return result{err: ErrClosed}
		}
	}
}

func (l *Log) control(ctx context.Context, k reqKind) result {
	r := &request{kind: k, ctx: ctx, done: make(chan struct{})}
	return l.send(ctx, r)
}

// Checkpoint signs a checkpoint of the log as it is now, stores it, hands it
// to the Anchor and appends a checkpoint entry recording it.
func (l *Log) Checkpoint(ctx context.Context) (SignedCheckpoint, error) {
	r := l.control(ctx, kCheckpoint)
	return r.cp, r.err
}

// RotateKey replaces the signing key by a new one. The new public key is
// recorded in a key entry endorsed (signed) by the old key, the new private
// key replaces the old one in the key file, and a checkpoint is signed with
// the new key. It returns the new verifier key.
func (l *Log) RotateKey(ctx context.Context) (string, error) {
	r := l.control(ctx, kRotate)
	return r.vkey, r.err
}

// Prune removes segments whose entries are all older than the retention
// period and covered by a checkpoint. Leaf hashes and checkpoints are kept,
// so proofs about pruned entries still verify. It records a prune entry and
// returns the number of segments removed.
func (l *Log) Prune(ctx context.Context) (int, error) {
	r := l.control(ctx, kPrune)
	return r.n, r.err
}

// Close writes the entries still pending, signs a final checkpoint covering
// every entry, and closes the log.
func (l *Log) Close() error {
	var err error
	l.stop.Do(func() {
		r := &request{kind: kClose, ctx: context.Background(), done: make(chan struct{})}
		l.reqs <- r
		<-l.done
		<-r.done
		err = r.res.err
	})
	return err
}

// maxUnsynced bounds how long entries given to Append alone stay written
// but not fsynced, when no Record, checkpoint or Close comes to sync them.
const maxUnsynced = 50 * time.Millisecond

// busyWithin: the writer holds a commit open for more entries (see
// Options.CommitWindow) only when the previous fsync ended this recently.
const busyWithin = 20 * time.Millisecond

// run is the writer goroutine: the commit pipeline. It takes every entry
// queued since the last commit; when the log is busy it holds the commit
// open for at most CommitWindow so that concurrent Record calls share one
// fsync, then writes them, fsyncs once and releases all their callers
// together. Entries given to Append only are written without an fsync of
// their own: they ride on the next one.
func (l *Log) run() {
	defer close(l.done)
	var tick <-chan time.Time
	if l.opts.CheckpointEvery > 0 {
		t := time.NewTicker(l.opts.CheckpointEvery)
		defer t.Stop()
		tick = t.C
	}
	syncTimer := time.NewTimer(time.Hour)
	syncTimer.Stop()
	defer syncTimer.Stop()
	var window *time.Timer
	defer func() {
		if window != nil {
			window.Stop()
		}
	}()
	batch := make([]*request, 0, l.opts.BatchMax)
	for {
		var r *request
		var syncC <-chan time.Time
		if !l.dirty.IsZero() {
			syncTimer.Reset(max(0, maxUnsynced-time.Since(l.dirty)))
			syncC = syncTimer.C
		}
		select {
		case r = <-l.reqs:
		case <-syncC:
			if err := l.syncSegment(); err != nil {
				l.opts.Logger.Error("audit: fsync failed", "err", err)
			}
			continue
		case <-tick:
			if l.checkpointDue() {
				if _, err := l.checkpoint(context.Background(), true); err != nil {
					l.opts.Logger.Error("audit: periodic checkpoint failed", "err", err)
				}
			}
			continue
		}
		syncTimer.Stop()
		batch = append(batch[:0], r)
		waiting, first := 0, time.Time{}
		if r.wait {
			waiting, first = 1, r.queued
		}
	gather:
		for r.kind == kEvent && len(batch) < l.opts.BatchMax {
			select {
			case r = <-l.reqs:
				batch = append(batch, r)
				if r.wait {
					if waiting == 0 {
						first = r.queued
					}
					waiting++
				}
				continue
			default:
			}
			// Nothing more queued. Hold the commit open while the log
			// is busy, for at most CommitWindow after the first waiting
			// entry was given.
			if waiting == 0 || waiting >= l.opts.CommitEntries || l.opts.CommitWindow < 0 || time.Since(l.lastSync) > busyWithin {
				break
			}
			left := l.opts.CommitWindow - time.Since(first)
			if left <= 0 {
				break
			}
			if window == nil {
				window = time.NewTimer(left)
			} else {
				window.Reset(left)
			}
			select {
			case r = <-l.reqs:
				window.Stop()
				batch = append(batch, r)
				if r.wait {
					waiting++
				}
			case <-window.C:
				break gather
			}
		}
		evs, ctl := batch, (*request)(nil)
		if last := batch[len(batch)-1]; last.kind != kEvent {
			evs, ctl = batch[:len(batch)-1], last
		}
		if len(evs) > 0 {
			// Appended entries alone ride on a later fsync, but wait
			// no longer than maxUnsynced for one, however fast they come.
			sync := waiting > 0 || ctl != nil || (!l.dirty.IsZero() && time.Since(l.dirty) >= maxUnsynced)
			err := l.commit(sync, evs)
			reply(evs, err)
			if err == nil && l.opts.CheckpointEntries > 0 && l.c.next-l.lastCP.Size >= int64(l.opts.CheckpointEntries) {
				if _, err := l.checkpoint(context.Background(), true); err != nil {
					l.opts.Logger.Error("audit: checkpoint failed", "err", err)
				}
			}
		}
		if ctl == nil {
			continue
		}
		var res result
		switch ctl.kind {
		case kCheckpoint:
			res.cp, res.err = l.checkpoint(ctl.ctx, true)
		case kRotate:
			res.vkey, res.err = l.rotate(ctl.ctx)
		case kPrune:
			res.n, res.err = l.prune(ctl.ctx)
		case kClose:
			res.err = l.shutdown()
			ctl.finish(res)
			return
		case kAbandon:
			res.err = l.closeFiles()
			ctl.finish(res)
			return
		}
		ctl.finish(res)
	}
}

// reply tells the callers of Record waiting for the entries in reqs how
// writing them went. Entries given to Append have no one waiting.
func reply(reqs []*request, err error) {
	for _, r := range reqs {
		r.finish(result{err: err})
	}
}

// shutdown writes what is queued, signs the final checkpoint, closes files.
func (l *Log) shutdown() error {
	var evs []*request
	for {
		select {
		case r := <-l.reqs:
			if r.kind == kEvent {
				evs = append(evs, r)
			} else {
				r.finish(result{err: ErrClosed})
			}
			continue
		default:
		}
		break
	}
	var err error
	if len(evs) > 0 {
		err = l.commit(true, evs)
		reply(evs, err)
	}
	if err == nil && l.c.next > l.lastCP.Size {
		_, err = l.checkpoint(context.Background(), false)
	}
	if err == nil && l.seg != nil {
		err = l.sealSegment()
	}
	if cerr := l.closeFiles(); err == nil {
		err = cerr
	}
	return err
}

func (l *Log) closeFiles() error {
	var errs []error
	if l.c != nil {
		if err := l.c.hs.flush(); err != nil {
			errs = append(errs, err)
		}
		if err := l.c.hs.close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, f := range []*os.File{l.seg, l.cpf, l.tsf, l.lock} {
		if f != nil {
			if err := f.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (l *Log) checkpointDue() bool {
	return l.err == nil && l.c.next > l.lastCP.Size && !(l.lastIsCP && l.c.next == l.lastCP.Size+1)
}

// newSegment starts a segment at the next entry and fsyncs the directory.
func (l *Log) newSegment() error {
	if l.seg != nil {
		if err := l.sealSegment(); err != nil {
			return err
		}
		if err := l.seg.Close(); err != nil {
			return fmt.Errorf("audit: close segment: %w", err)
		}
		l.seg = nil
	}
	name := segName(l.c.next)
	// Not O_APPEND: entries are written at segSize, into space written
	// ahead (see preallocate).
	f, err := os.OpenFile(filepath.Join(l.dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("audit: new segment: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		f.Close()
		return fmt.Errorf("audit: new segment: %w", err)
	}
	l.seg, l.segSize, l.segAlloc, l.segStart = f, 0, 0, l.opts.Now()
	l.segs = append(l.segs, segInfo{name: name, first: l.c.next})
	return nil
}

// commit appends the events in reqs as entries and, with sync, fsyncs
// once. Without sync they are written but become durable with the next
// fsync (syncSegment).
func (l *Log) commit(sync bool, reqs []*request) error {
	if l.err != nil {
		return l.err
	}
	if err := l.commitLocked(reqs, sync); err != nil {
		l.fail(err)
		return l.err
	}
	return nil
}

// fail records err as the log's failure: no further entries are accepted.
func (l *Log) fail(err error) {
	l.err = fmt.Errorf("audit: log failed, no further entries are accepted: %w", err)
	l.opts.Logger.Error("audit: write failed", "err", err)
}

func (l *Log) commitLocked(reqs []*request, sync bool) error {
	l.buf = l.buf[:0]
	for _, r := range reqs {
		cur := &l.segs[len(l.segs)-1]
		if cur.count > 0 && (l.segSize+int64(len(l.buf)) >= l.opts.SegmentBytes || l.opts.Now().Sub(l.segStart) >= l.opts.SegmentAge) {
			if err := l.flush(true); err != nil {
				return err
			}
			if err := l.newSegment(); err != nil {
				return err
			}
			cur = &l.segs[len(l.segs)-1]
		}
		// The entry follows a zero byte in scratch, so that its leaf
		// hash, SHA-256(0x00 || entry) as tlog.RecordHash computes it,
		// is taken without allocating.
		l.scratch = appendEntry(append(l.scratch[:0], 0), l.c.next, l.c.prev, r.event)
		entry := l.scratch[1:]
		if len(entry) > maxPayload {
			return fmt.Errorf("entry %d is %d bytes, more than the limit %d", l.c.next, len(entry), maxPayload)
		}
		l.buf = appendFrame(l.buf, entry)
		if err := l.c.add(sha256.Sum256(l.scratch)); err != nil {
			return err
		}
		l.entries.Add(1)
		cur.count++
		if r.time.After(cur.lastTime) {
			cur.lastTime = r.time
		}
	}
	if err := l.flush(sync); err != nil {
		return err
	}
	l.lastIsCP = false
	return l.c.hs.flush()
}

// flush writes the buffer to the current segment and, with sync, fsyncs
// the segment (fdatasync: the segment's space is preallocated).
func (l *Log) flush(sync bool) error {
	if len(l.buf) > 0 {
		end := l.segSize + int64(len(l.buf))
		if end > l.segAlloc {
			l.preallocate(end)
		}
		if _, err := l.seg.WriteAt(l.buf, l.segSize); err != nil {
			return fmt.Errorf("write segment: %w", err)
		}
		l.segSize = end
		l.segAlloc = max(l.segAlloc, end)
		l.buf = l.buf[:0]
		if l.dirty.IsZero() {
			l.dirty = time.Now()
		}
	}
	if !sync {
		return nil
	}
	return l.syncData()
}

// syncData fsyncs what was written to the current segment since the last
// fsync, if anything.
func (l *Log) syncData() error {
	if l.dirty.IsZero() {
		return nil
	}
	if err := dataSync(l.seg); err != nil {
		return fmt.Errorf("fsync segment: %w", err)
	}
	l.dirty, l.lastSync = time.Time{}, time.Now()
	l.syncs.Add(1)
	return nil
}

// syncSegment makes every entry written so far durable; a failure fails
// the log.
func (l *Log) syncSegment() error {
	if l.err != nil {
		return l.err
	}
	if err := l.syncData(); err != nil {
		l.fail(err)
		return l.err
	}
	return nil
}

// preallocStep is how much segment space is written ahead at a time.
const preallocStep = 1 << 20

// preallocate writes zeros to the segment from segAlloc to at least end,
// so that the flushes after it write into blocks the file system has
// already allocated and initialised: fdatasync then flushes the data only,
// without a journal commit for the file size or for extents. (fallocate
// alone is not enough: ext4 marks fallocated extents unwritten, and the
// first write into them is again a metadata change to commit; measured on
// this VM's ext4, an fdatasync after a write into fallocated space took
// several times as long as into written space.) The zeros after the last
// entry are what readFrames takes as the end of a segment. A failure (a
// full disk) is not an error here: the entries are then written without
// preallocation, and the write itself reports a full disk.
func (l *Log) preallocate(end int64) {
	target := (end/preallocStep + 1) * preallocStep
	if cap(l.zeros) < preallocStep {
		l.zeros = make([]byte, preallocStep)
	}
	for l.segAlloc < target {
		n := min(target-l.segAlloc, preallocStep)
		if _, err := l.seg.WriteAt(l.zeros[:n], l.segAlloc); err != nil {
			l.opts.Logger.Debug("audit: cannot preallocate segment space", "segment", l.seg.Name(), "err", err)
			return
		}
		l.segAlloc += n
	}
}

// sealSegment cuts the preallocated space off the current segment and
// fsyncs it, so that a sealed segment ends with its last entry.
func (l *Log) sealSegment() error {
	if l.segAlloc <= l.segSize {
		return l.syncData()
	}
	if err := l.seg.Truncate(l.segSize); err != nil {
		return fmt.Errorf("audit: seal segment: %w", err)
	}
	if err := l.seg.Sync(); err != nil {
		return fmt.Errorf("audit: seal segment: %w", err)
	}
	l.segAlloc, l.dirty = l.segSize, time.Time{}
	return nil
}

// checkpoint signs the tree as it is, stores the checkpoint durably, anchors
// it and, with entry, records it in the log.
func (l *Log) checkpoint(ctx context.Context, entry bool) (SignedCheckpoint, error) {
	// A checkpoint covers only durable entries: those appended without
	// an fsync are synced first.
	if err := l.syncSegment(); err != nil {
		return SignedCheckpoint{}, err
	}
	if err := l.c.hs.sync(); err != nil {
		return SignedCheckpoint{}, err
	}
	n := l.c.next
	root, err := l.c.treeHash(n)
	if err != nil {
		return SignedCheckpoint{}, fmt.Errorf("audit: tree hash: %w", err)
	}
	cp, err := signCheckpoint(l.signer, l.opts.Origin, n, root)
	if err != nil {
		return SignedCheckpoint{}, err
	}
	if _, err := l.cpf.Write(appendFrame(nil, cp.Note)); err != nil {
		l.err = fmt.Errorf("audit: write checkpoint: %w", err)
		return SignedCheckpoint{}, l.err
	}
	if err := l.cpf.Sync(); err != nil {
		l.err = fmt.Errorf("audit: fsync checkpoint: %w", err)
		return SignedCheckpoint{}, l.err
	}
	l.lastCP = cp
	// Every checkpoint is anchored, the final one of a run (entry false)
	// too: it is the one that covers everything.
	var receipt []byte
	var anchorErr error
	if l.opts.Anchor != nil {
		actx, cancel := context.WithTimeout(ctx, anchorTimeout)
		if ca, ok := l.opts.Anchor.(ConsistencyAnchor); ok {
			receipt, anchorErr = ca.AnchorConsistent(actx, cp.Note, func(old int64) (tlog.TreeProof, error) {
				if old < 0 || old > n {
					return nil, fmt.Errorf("audit: no consistency proof from size %d to %d", old, n)
				}
				return tlog.ProveTree(n, old, l.c)
			})
		} else {
			receipt, anchorErr = l.opts.Anchor.Anchor(actx, cp.Note)
		}
		cancel()
		if anchorErr != nil {
			l.opts.Logger.Warn("audit: anchoring a checkpoint failed", "size", n, "err", anchorErr)
		}
	}
	var tsErr error
	if l.opts.Timestamper != nil {
		if tsErr = l.timestamp(ctx, cp); tsErr != nil {
			l.opts.Logger.Warn("audit: time-stamping a checkpoint failed; the next checkpoint is stamped in turn", "size", n, "err", tsErr)
		}
	}
	if !entry {
		return cp, nil
	}
	other := map[string]string{
		"note": string(cp.Note),
		"size": strconv.FormatInt(n, 10),
		"root": base64.StdEncoding.EncodeToString(root[:]),
	}
	if l.opts.Anchor != nil {
		if anchorErr != nil {
			other["anchor_error"] = anchorErr.Error()
		} else {
			other["anchor_receipt"] = base64.StdEncoding.EncodeToString(receipt)
		}
	}
	if l.opts.Timestamper != nil {
		if tsErr != nil {
			other["timestamp_error"] = tsErr.Error()
		} else {
			other["timestamp"] = timestampsFile
		}
	}
	if err := l.commit(true, []*request{l.internal(TypeCheckpoint, other)}); err != nil {
		return cp, err
	}
	l.lastIsCP = true
	return cp, nil
}

func (l *Log) rotate(ctx context.Context) (string, error) {
	if l.err != nil {
		return "", l.err
	}
	next := l.opts.KeyFile + ".next"
	if err := os.Remove(next); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("audit: rotate key: %w", err)
	}
	s, v, err := generateKey(next, l.opts.Origin)
	if err != nil {
		return "", err
	}
	endorsement, err := note.Sign(&note.Note{Text: keyRotationText(l.opts.Origin, v)}, l.signer)
	if err != nil {
		return "", fmt.Errorf("audit: endorse new key: %w", err)
	}
	err = l.commit(true, []*request{l.internal(TypeKey, map[string]string{
		"action": "rotated", "vkey": v, "previous": l.vkey, "endorsement": string(endorsement),
	})})
	if err != nil {
		return "", err
	}
	// After the entry is durable: Open repairs the copy if a crash comes first.
	if err := appendKeysFile(l.dir, v); err != nil {
		return "", fmt.Errorf("audit: rotate key: %w", err)
	}
	if err := os.Rename(next, l.opts.KeyFile); err != nil {
		return "", fmt.Errorf("audit: rotate key: %w", err)
	}
	if err := syncDir(filepath.Dir(l.opts.KeyFile)); err != nil {
		return "", err
	}
	l.signer, l.vkey = s, v
	l.pub.Store(&v)
	l.opts.Logger.Warn("audit: signing key rotated; publish the new public key", "public_key", v)
	if _, err := l.checkpoint(ctx, true); err != nil {
		return v, err
	}
	return v, nil
}

func (l *Log) prune(ctx context.Context) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	cutoff := l.opts.Now().Add(-l.opts.Retention)
	k := 0
	for k < len(l.segs)-1 { // never the current segment
		s := l.segs[k]
		if s.count == 0 || !s.lastTime.Before(cutoff) || s.first+s.count > l.lastCP.Size {
			break
		}
		k++
	}
	if k == 0 {
		return 0, nil
	}
	if err := l.c.hs.sync(); err != nil {
		return 0, err
	}
	// The hashes file is all that remains of pruned entries: check it
	// against them before they go.
	for _, s := range l.segs[:k] {
		if err := l.checkStoredHashes(s); err != nil {
			return 0, fmt.Errorf("audit: not pruning: %w", err)
		}
	}
	var names []string
	for _, s := range l.segs[:k] {
		if err := os.Remove(filepath.Join(l.dir, s.name)); err != nil {
			return 0, fmt.Errorf("audit: prune: %w", err)
		}
		names = append(names, s.name)
	}
	if err := syncDir(l.dir); err != nil {
		return 0, err
	}
	from, last := l.segs[0].first, l.segs[k-1]
	l.segs = append([]segInfo(nil), l.segs[k:]...)
	err := l.commit(true, []*request{l.internal(TypePrune, map[string]string{
		"segments": strings.Join(names, " "),
		"entries":  fmt.Sprintf("%d-%d", from, last.first+last.count-1),
		"before":   cutoff.UTC().Format(time.RFC3339Nano),
	})})
	return k, err
}

// checkStoredHashes recomputes the stored hashes of the entries in segment s
// and compares them with the hashes file.
func (l *Log) checkStoredHashes(s segInfo) error {
	b, err := os.ReadFile(filepath.Join(l.dir, s.name))
	if err != nil {
		return err
	}
	frames, tn, err := readFrames(s.name, b, s.first)
	if err != nil {
		return err
	}
	if tn != nil || int64(len(frames)) != s.count {
		return fmt.Errorf("segment %s changed since it was written", s.name)
	}
	for i, f := range frames {
		n := s.first + int64(i)
		want, err := tlog.StoredHashesForRecordHash(n, tlog.RecordHash(f.payload), l.c)
		if err != nil {
			return err
		}
		for j, h := range want {
			got, err := l.c.hs.at(tlog.StoredHashCount(n) + int64(j))
			if err != nil {
				return err
			}
			if got != h {
				return &EntryError{Seq: n, Segment: s.name, Offset: f.off, Err: fmt.Errorf("%w: %s does not match the entry", ErrInconsistent, hashesFile)}
			}
		}
	}
	return nil
}
