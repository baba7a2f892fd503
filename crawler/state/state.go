// Package state keeps a crawl's state on disk, so that a crawl stopped by a
// crash, a deploy or Ctrl-C resumes where it stopped instead of starting
// over: the frontier (queue, seen set, leases, per-site counts), the
// robots.txt cache with its expiry, and the limiter's per-site state (day
// count, holds, back-off, slow-down).
//
// The state lives in an embedded Pebble database (github.com/cockroachdb/
// pebble), under one directory that one process at a time may hold; Open
// refuses a second one and names the holder.
//
// # Durability
//
// Writes reach the disk at least every Options.SyncEvery: a crash (kill -9,
// a power loss) may lose the last moments, never the consistency of the
// database. The operation log (package audit), which is written ahead of
// every request, stays the source of truth for what was sent: a run that
// opens a state left by a crash hands the frontier the log's account of
// the requests the crashed run had leased (see FrontierOptions.Sent), and
// the limiter is charged from the log as well (see limiter.Local.Resume).
package state

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"

	"github.com/goodbot/goodbot/internal/lockfile"
	"github.com/goodbot/goodbot/limiter"
)

// Options configures a Store.
type Options struct {
	// Fresh discards whatever state dir holds and starts over, except
	// what is known of the pages stored before (see Page): their
	// validators let a later revisit ask for them conditionally.
	Fresh bool
	// Holder says who holds the state, for the lock file that a second
	// process refused reads (e.g. "goodbot crawl --out ./out").
	Holder string
	// SyncEvery is how often writes are forced to stable storage. Default
	// 1 s.
	SyncEvery time.Duration
	// CacheSize is the database's block cache in bytes. Default 16 MiB
	// (Pebble takes its memtables out of it: with 8 MiB, the 1M-URL
	// benchmark found the block cache empty and enqueues 5× slower).
	CacheSize int64
	// Logger receives the database's own errors. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// ErrLocked is wrapped by the error of Open when another process holds the
// state; the error names it.
var ErrLocked = lockfile.ErrHeld

// Store is a crawl's durable state. It is safe for concurrent use.
type Store struct {
	dir     string
	opts    Options
	db      *pebble.DB
	lock    *lockfile.Lock
	created time.Time
	resumed bool
	// crashed is set when the process that had the state open before did
	// not close it: its last writes may be lost.
	crashed bool
	// discarded is what Options.Fresh threw away, or nil.
	discarded *Discarded

	mu     sync.Mutex
	front  *Frontier
	lim    *limiter.Local
	closed bool
	stop   chan struct{}
	wg     sync.WaitGroup
}

// Keys. Each kind of record has a one-byte prefix.
const (
	pSeen    = 's' // s + 16 bytes of SHA-256(URL) -> state byte
	pQueue   = 'q' // q + site + 0 + seq -> item
	pDefer   = 'd' // d + not-before (ns) + seq -> item
	pLease   = 'l' // l + seq -> item
	pSite    = 'c' // c + site -> siteRecord
	pRobots  = 'r' // r + origin -> robots.Stored
	pSitemap = 'x' // x + site -> sitemapRecord
	pPage    = 'v' // v + site + 0 + URL -> Page (kept by Options.Fresh)
	pMeta    = 'm' // m + name -> value
	metaInfo = "info"
	metaFron = "frontier"
	metaLim  = "limiter"
	metaMark = "mark"
	metaOpen = "open" // present while a process has the state open
)

type info struct {
	Version int       `json:"version"`
	Created time.Time `json:"created"`
}

// Open opens the state in dir, creating it when there is none, and takes
// its lock. With Options.Fresh it discards what was there first.
func Open(dir string, opts Options) (*Store, error) {
	if opts.SyncEvery <= 0 {
		opts.SyncEvery = time.Second
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 16 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	holder := opts.Holder
	if holder == "" {
		holder = "goodbot"
	}
	lock, err := lockfile.Acquire(filepath.Join(dir, "LOCK"), holder)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", dir, err)
	}
	dbDir := filepath.Join(dir, "db")
	var discarded *Discarded
	if opts.Fresh {
		var err error
		if discarded, err = discard(dbDir, opts); err != nil {
			lock.Release()
			return nil, fmt.Errorf("state %s: starting over: %w", dir, err)
		}
	}
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref()
	popts := &pebble.Options{
		Cache:        cache,
		MemTableSize: 4 << 20,
		Logger:       pebbleLogger{opts.Logger},
	}
	// Most seen-set lookups are for URLs never seen: a bloom filter per
	// table answers them without reading the table's blocks.
	for i := range popts.Levels {
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dbDir, popts)
	if err != nil {
		lock.Release()
		return nil, fmt.Errorf("state %s: %w", dir, err)
	}
	s := &Store{dir: dir, opts: opts, db: db, lock: lock, stop: make(chan struct{}), discarded: discarded}
	var in info
	switch ok, err := s.getJSON(metaKey(metaInfo), &in); {
	case err != nil:
		s.closeDB()
		return nil, err
	case ok:
		if in.Version != 1 {
			s.closeDB()
			return nil, fmt.Errorf("state %s: version %d, want 1 (start over with a fresh state)", dir, in.Version)
		}
		s.created, s.resumed = in.Created, true
	default:
		s.created = opts.Now().UTC()
		if err := s.setJSON(metaKey(metaInfo), info{Version: 1, Created: s.created}, pebble.Sync); err != nil {
			s.closeDB()
			return nil, err
		}
	}
	_, crashed, err := s.get(metaKey(metaOpen))
	if err != nil {
		s.closeDB()
		return nil, err
	}
	s.crashed = crashed
	if err := s.db.Set(metaKey(metaOpen), []byte{1}, pebble.Sync); err != nil {
		s.closeDB()
		return nil, fmt.Errorf("state: %w", err)
	}
	s.wg.Add(1)
	go s.syncLoop()
	return s, nil
}

// Crashed reports whether the process that had the state open before this
// one stopped without closing it (a crash, kill -9, a full disk). Its last
// writes may then be lost: see FrontierOptions.Sent.
func (s *Store) Crashed() bool { return s.crashed }

// Discarded describes a state that Options.Fresh threw away.
type Discarded struct {
	Created             time.Time
	Queued, Seen, Pages int
	// Kept counts the pages (see Page) kept for revisits.
	Kept int
}

// discard empties the database in dbDir, if there is one, of everything
// but the pages (see Page), and says what it held.
func discard(dbDir string, opts Options) (*Discarded, error) {
	if _, err := os.Stat(dbDir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	db, err := pebble.Open(dbDir, &pebble.Options{Logger: pebbleLogger{opts.Logger}})
	d := &Discarded{}
	if err == nil {
		tmp := &Store{db: db}
		var in info
		var m frontierMeta
		if ok, _ := tmp.getJSON(metaKey(metaInfo), &in); ok {
			d.Created = in.Created
		}
		if ok, _ := tmp.getJSON(metaKey(metaFron), &m); ok {
			d.Queued, d.Seen, d.Pages = m.Ready+m.Deferred, m.Seen, m.Pages
		}
		err = keepPagesOnly(db, d)
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			return d, nil
		}
		opts.Logger.Warn("state: could not keep the pages' validators while starting over; discarding everything", "dir", dbDir, "err", err)
		d.Kept = 0
	}
	// A database too damaged to open is discarded all the same: that is
	// what starting over is for.
	if err := os.RemoveAll(dbDir); err != nil {
		return nil, err
	}
	return d, nil
}

// keepPagesOnly deletes every record of db but the pages, and counts
// those in d.Kept.
func keepPagesOnly(db *pebble.DB, d *Discarded) error {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{pPage}, UpperBound: []byte{pPage + 1}})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		d.Kept++
	}
	if err := it.Close(); err != nil {
		return err
	}
	b := db.NewBatch()
	b.DeleteRange([]byte{0}, []byte{pPage}, nil)
	b.DeleteRange([]byte{pPage + 1}, []byte{0xff, 0xff}, nil)
	return b.Commit(pebble.Sync)
}

// Discarded returns what Options.Fresh threw away, or nil when it threw
// nothing away.
func (s *Store) Discarded() *Discarded { return s.discarded }

// Dir is the state's directory.
func (s *Store) Dir() string { return s.dir }

// Resumed reports whether the state existed before Open (and was not
// discarded with Options.Fresh).
func (s *Store) Resumed() bool { return s.resumed }

// Created is when the state was created.
func (s *Store) Created() time.Time { return s.created }

// Mark is the time up to which every write is known to be on stable
// storage, or zero when no sync completed yet. What happened after it, a
// crash may have lost; a caller reconciling with the operation log reads
// the log from a little before it.
func (s *Store) Mark() time.Time {
	var t time.Time
	if ok, err := s.getJSON(metaKey(metaMark), &t); err != nil || !ok {
		return time.Time{}
	}
	return t
}

// syncLoop forces writes to disk every SyncEvery and records the mark.
func (s *Store) syncLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.SyncEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.sync(); err != nil {
				s.opts.Logger.Error("state: sync failed", "dir", s.dir, "err", err)
			}
		}
	}
}

// sync saves the limiter's state, makes every write so far durable, and
// records when.
func (s *Store) sync() error {
	s.mu.Lock()
	l := s.lim
	s.mu.Unlock()
	if l != nil {
		b, err := l.SaveState()
		if err != nil {
			return err
		}
		if err := s.db.Set(metaKey(metaLim), b, pebble.NoSync); err != nil {
			return fmt.Errorf("state: %w", err)
		}
	}
	return s.setJSON(metaKey(metaMark), s.opts.Now().UTC(), pebble.Sync)
}

// Close syncs and closes the state, and releases its lock.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	s.mu.Unlock()
	s.wg.Wait()
	err := s.sync()
	if err == nil {
		// Everything is on disk: the next Open need not reconcile.
		if err = s.db.Delete(metaKey(metaOpen), pebble.Sync); err != nil {
			err = fmt.Errorf("state: %w", err)
		}
	}
	return errors.Join(err, s.closeDB())
}

func (s *Store) closeDB() error {
	err := s.db.Close()
	return errors.Join(err, s.lock.Release())
}

// Limiter returns the state's limiter: a limiter.Local made with cfg on
// the first call, which takes up the per-site state (day count, holds,
// back-off, slow-down) an earlier process saved, and whose state is saved
// with every sync and on Close. Later calls return the same limiter and
// ignore cfg, so that every Crawler of a process that shares the Store
// shares one budget per site.
func (s *Store) Limiter(cfg limiter.Config) (*limiter.Local, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lim != nil {
		return s.lim, nil
	}
	l, err := limiter.NewLocal(cfg)
	if err != nil {
		return nil, err
	}
	b, ok, err := s.get(metaKey(metaLim))
	if err != nil {
		return nil, err
	}
	if ok {
		if err := l.LoadState(b); err != nil {
			return nil, fmt.Errorf("state %s: %w", s.dir, err)
		}
	}
	s.lim = l
	return l, nil
}

func metaKey(name string) []byte { return append([]byte{pMeta}, name...) }

// get returns a copy of key's value.
func (s *Store) get(key []byte) ([]byte, bool, error) {
	v, c, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("state: reading %q: %w", key, err)
	}
	out := append([]byte(nil), v...)
	c.Close()
	return out, true, nil
}

func (s *Store) getJSON(key []byte, v any) (bool, error) {
	b, ok, err := s.get(key)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("state %s: record %q is damaged: %w", s.dir, key, err)
	}
	return true, nil
}

func (s *Store) setJSON(key []byte, v any, o *pebble.WriteOptions) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := s.db.Set(key, b, o); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

func be64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

// pebbleLogger passes the database's errors to slog and drops its chatter.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(string, ...any) {}
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error("state: " + fmt.Sprintf(format, args...))
}
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error("state: fatal: " + fmt.Sprintf(format, args...))
	panic(fmt.Sprintf(format, args...))
}

var _ io.Closer = (*Store)(nil)

// sitemapRecord is a site's sitemap count as the state keeps it.
type sitemapRecord struct {
	Pages   int       `json:"pages"`
	Counted time.Time `json:"counted"`
}

func sitemapKey(site string) []byte { return append([]byte{pSitemap}, site...) }

// SitemapPages returns how many pages site's sitemaps listed when an
// earlier run counted them, and when that was, so that a restarted crawl
// does not fetch (and charge to the site's budget) its sitemaps again.
func (s *Store) SitemapPages(site string) (pages int, counted time.Time, ok bool, err error) {
	var r sitemapRecord
	ok, err = s.getJSON(sitemapKey(site), &r)
	return r.Pages, r.Counted, ok, err
}

// SetSitemapPages keeps the number of pages site's sitemaps list.
func (s *Store) SetSitemapPages(site string, pages int) error {
	return s.setJSON(sitemapKey(site), sitemapRecord{Pages: pages, Counted: s.opts.Now().UTC()}, pebble.NoSync)
}
