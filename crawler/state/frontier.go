package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/goodbot/goodbot/crawler/frontier"
)

// FrontierOptions configures the state's frontier.
type FrontierOptions struct {
	frontier.Options
	// Sent tells whether the request for an item was sent: the operation
	// log knows. It is asked, when the state was not closed cleanly (see
	// Store.Crashed), about every item the state holds as leased or
	// queued, since a crash may have lost the writes that ended them.
	// Items whose request was sent are ended as fetched and never sent
	// again; leased ones that were not are queued again. Without Sent,
	// every such item is queued again, and may be sent a second time.
	Sent func(frontier.Item) bool
	// Clean reports whether a URL may be written to disk as it is; the
	// crawler passes its personal-data filter here. Items whose URL is not
	// clean are kept in memory only: crawled in the run that found them,
	// never written, and not resumed after a restart. Default: every URL
	// is clean.
	Clean func(url string) bool
	// CleanBody reports whether the body of a request other than a GET
	// (frontier.Item.Body, with its content type) may be written to disk
	// as it is; the crawler passes its personal-data filter here. An item
	// whose body is not clean is kept in memory only, as one whose URL
	// is not. Default: no body is clean, so that every item with a body
	// stays in memory unless a filter has looked at it.
	CleanBody func(contentType string, body []byte) bool
}

// Recovered says what the frontier found when it was opened.
type Recovered struct {
	Queued, Seen, Pages int
	// Items a crashed run had leased: sent (per FrontierOptions.Sent) and
	// settled, or queued again.
	Settled, Requeued int
}

// Frontier is a frontier.Frontier kept in the state: every URL queued,
// seen, leased or fetched survives a restart. Memory use does not grow
// with the number of URLs, only with the number of sites. It is also a
// frontier.SiteCounter.
type Frontier struct {
	s    *Store
	opts FrontierOptions

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced when work may have become available
	sites    map[string]*dsite
	ring     []string // sites with ready items or leases, in turn
	next     int
	leases   map[string]frontier.Item
	m        frontierMeta
	inflight int
	// Items kept in memory only: ready (in their sites' mem) and deferred.
	memReady    int
	memDeferred []frontier.Item
	memLeases   map[string]bool
	// dirty are the sites whose records the next commit writes.
	dirty map[string]*dsite
	// seen indexes the seen set on disk, so that asking it reads no disk:
	// about 16 bytes of memory per URL seen.
	seen map[uint64]struct{}
	// nextDue is the earliest not-before of a deferred item, or zero when
	// none is deferred.
	nextDue time.Time
}

type dsite struct {
	siteRecord
	inflight int
	head     uint64 // no queued item of the site has a lower sequence number
	inRing   bool
	mem      []frontier.Item // ready items kept in memory only (see FrontierOptions.Clean)
}

// siteRecord is what the state keeps per site.
type siteRecord struct {
	Ready   int  `json:"ready"`
	Pages   int  `json:"pages"`
	Dropped bool `json:"dropped,omitempty"`
}

type frontierMeta struct {
	Seq      uint64 `json:"seq"`
	Seen     int    `json:"seen"`
	Pages    int    `json:"pages"`
	Ready    int    `json:"ready"`
	Deferred int    `json:"deferred"`
}

// Seen-set values.
const (
	seenQueued = 'q'
	seenDone   = 'd'
	seenOnly   = 'x'
)

var (
	_ frontier.Frontier    = (*Frontier)(nil)
	_ frontier.SiteCounter = (*Frontier)(nil)
	_ frontier.Deferrer    = (*Frontier)(nil)
	_ frontier.Revisitor   = (*Frontier)(nil)
)

// Frontier returns the state's frontier, opening it on the first call;
// later calls return the same one and ignore opts. Items that a crashed run
// had leased are settled or queued again first (see FrontierOptions.Sent);
// the Recovered value says how many.
func (s *Store) Frontier(opts FrontierOptions) (*Frontier, Recovered, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.front != nil {
		return s.front, Recovered{}, nil
	}
	if opts.PerSite <= 0 {
		opts.PerSite = 2
	}
	if opts.Now == nil {
		opts.Now = s.opts.Now
	}
	f := &Frontier{
		s:         s,
		opts:      opts,
		changed:   make(chan struct{}),
		sites:     map[string]*dsite{},
		leases:    map[string]frontier.Item{},
		memLeases: map[string]bool{},
	}
	if f.opts.Clean == nil {
		f.opts.Clean = func(string) bool { return true }
	}
	if f.opts.CleanBody == nil {
		f.opts.CleanBody = func(string, []byte) bool { return false }
	}
	rec, err := f.load()
	if err != nil {
		return nil, Recovered{}, err
	}
	s.front = f
	return f, rec, nil
}

// load reads the counters and settles the leases a crashed run left.
func (f *Frontier) load() (Recovered, error) {
	if _, err := f.s.getJSON(metaKey(metaFron), &f.m); err != nil {
		return Recovered{}, err
	}
	err := f.scan([]byte{pSite}, func(k, v []byte) error {
		var r siteRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("state: site record %q is damaged: %w", k[1:], err)
		}
		f.site(string(k[1:])).siteRecord = r
		return nil
	})
	if err != nil {
		return Recovered{}, err
	}
	f.seen = make(map[uint64]struct{}, f.m.Seen)
	err = f.scan([]byte{pSeen}, func(k, v []byte) error {
		if len(k) != 17 {
			return fmt.Errorf("state: seen-set key %x is damaged", k)
		}
		f.seen[seenHash(k)] = struct{}{}
		return nil
	})
	if err != nil {
		return Recovered{}, err
	}
	f.m.Seen = len(f.seen)
	var orphans []frontier.Item
	var orphanKeys [][]byte
	err = f.scan([]byte{pLease}, func(k, v []byte) error {
		var it frontier.Item
		if err := json.Unmarshal(v, &it); err != nil {
			return fmt.Errorf("state: lease %x is damaged: %w", k[1:], err)
		}
		orphans = append(orphans, it)
		orphanKeys = append(orphanKeys, bytes.Clone(k))
		return nil
	})
	if err != nil {
		return Recovered{}, err
	}
	var rec Recovered
	b := f.s.db.NewBatch()
	for i, it := range orphans {
		b.Delete(orphanKeys[i], nil)
		ds := f.site(it.Site)
		if f.opts.Sent != nil && f.opts.Sent(it) {
			b.Set(seenKey(it.Key()), []byte{seenDone}, nil)
			ds.Pages++
			f.m.Pages++
			rec.Settled++
			f.putSite(b, it.Site, ds)
			continue
		}
		if ds.Dropped {
			continue
		}
		f.enqueue(b, it)
		rec.Requeued++
	}
	if f.s.crashed && f.opts.Sent != nil {
		// Writes after the last sync may be lost: a queued item may have
		// been leased and sent.
		for _, p := range [][]byte{{pQueue}, {pDefer}} {
			err := f.scan(p, func(k, v []byte) error {
				var it frontier.Item
				if err := json.Unmarshal(v, &it); err != nil {
					return fmt.Errorf("state: queued item %x is damaged: %w", k, err)
				}
				if !f.opts.Sent(it) {
					return nil
				}
				b.Delete(k, nil)
				b.Set(seenKey(it.Key()), []byte{seenDone}, nil)
				ds := f.site(it.Site)
				if p[0] == pQueue {
					ds.Ready--
					f.m.Ready--
				} else {
					f.m.Deferred--
				}
				ds.Pages++
				f.m.Pages++
				f.putSite(b, it.Site, ds)
				rec.Settled++
				return nil
			})
			if err != nil {
				b.Close()
				return Recovered{}, err
			}
		}
	}
	if err := f.commit(b, pebble.Sync); err != nil {
		return Recovered{}, err
	}
	f.loadNextDue()
	rec.Queued, rec.Seen, rec.Pages = f.m.Ready+f.m.Deferred, f.m.Seen, f.m.Pages
	return rec, nil
}

// site returns the record of site, creating it; the caller holds f.mu or
// is load.
func (f *Frontier) site(s string) *dsite {
	ds := f.sites[s]
	if ds == nil {
		ds = &dsite{}
		f.sites[s] = ds
	}
	if !ds.inRing {
		ds.inRing = true
		f.ring = append(f.ring, s)
	}
	return ds
}

func (f *Frontier) signalLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// seenKey is the seen-set key of an item's Key (a GET's URL).
func seenKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return append([]byte{pSeen}, h[:16]...)
}

// seenHash is the in-memory index's key for a seen key: its first 8 bytes
// of hash. Two URLs share one with a chance of about n²/2⁶⁵ among n URLs
// (3·10⁻⁸ at a million), and the second would be taken as seen.
func seenHash(k []byte) uint64 { return binary.BigEndian.Uint64(k[1:9]) }

func queuePrefix(site string) []byte {
	k := append([]byte{pQueue}, site...)
	return append(k, 0)
}

func queueKey(site string, seq uint64) []byte { return be64(queuePrefix(site), seq) }

func deferKey(at time.Time, seq uint64) []byte {
	return be64(be64([]byte{pDefer}, uint64(max(at.UnixNano(), 0))), seq)
}

func leaseKey(seq uint64) []byte { return be64([]byte{pLease}, seq) }

func siteKey(site string) []byte { return append([]byte{pSite}, site...) }

// putSite marks site's record to be written into b when it is committed.
func (f *Frontier) putSite(b *pebble.Batch, site string, ds *dsite) {
	if f.dirty == nil {
		f.dirty = map[string]*dsite{}
	}
	f.dirty[site] = ds
}

// enqueue writes it into b as ready or deferred and counts it; an item
// whose URL is not clean is kept in memory instead.
func (f *Frontier) enqueue(b *pebble.Batch, it frontier.Item) {
	now := f.opts.Now()
	if !f.clean(it) {
		if it.NotBefore.After(now) {
			f.memDeferred = append(f.memDeferred, it)
			if f.nextDue.IsZero() || it.NotBefore.Before(f.nextDue) {
				f.nextDue = it.NotBefore
			}
			return
		}
		it.NotBefore = time.Time{}
		ds := f.site(it.Site)
		ds.mem = append(ds.mem, it)
		f.memReady++
		return
	}
	f.m.Seq++
	if it.NotBefore.After(now) {
		v, _ := json.Marshal(it)
		b.Set(deferKey(it.NotBefore, f.m.Seq), v, nil)
		f.m.Deferred++
		if f.nextDue.IsZero() || it.NotBefore.Before(f.nextDue) {
			f.nextDue = it.NotBefore
		}
		return
	}
	it.NotBefore = time.Time{}
	v, _ := json.Marshal(it)
	b.Set(queueKey(it.Site, f.m.Seq), v, nil)
	ds := f.site(it.Site)
	ds.Ready++
	f.m.Ready++
	f.putSite(b, it.Site, ds)
}

// clean reports whether it may be written to disk: its URL, and its body
// if it has one, passed the filter unchanged.
func (f *Frontier) clean(it frontier.Item) bool {
	if !f.opts.Clean(it.URL) {
		return false
	}
	return len(it.Body) == 0 || f.opts.CleanBody(it.ContentType, it.Body)
}

// commit writes the counters and the changed site records into b and
// commits it.
func (f *Frontier) commit(b *pebble.Batch, o *pebble.WriteOptions) error {
	for site, ds := range f.dirty {
		v, _ := json.Marshal(ds.siteRecord)
		b.Set(siteKey(site), v, nil)
	}
	clear(f.dirty)
	v, _ := json.Marshal(f.m)
	b.Set(metaKey(metaFron), v, nil)
	if err := b.Commit(o); err != nil {
		b.Close()
		return fmt.Errorf("%w: state: %w", frontier.ErrUnavailable, err)
	}
	return b.Close()
}

// Add implements frontier.Frontier.
func (f *Frontier) Add(ctx context.Context, it frontier.Item) (bool, error) {
	ok, err := f.AddAll(ctx, []frontier.Item{it})
	if err != nil {
		return false, err
	}
	return ok[0], nil
}

// AddAll adds items in one write; ok[i] reports whether items[i] was
// queued.
func (f *Frontier) AddAll(ctx context.Context, items []frontier.Item) ([]bool, error) {
	return f.addAll(items, false)
}

// Revisit implements frontier.Revisitor: a URL fetched before (in this
// run or an earlier one) is queued again, one queued or leased now is not.
func (f *Frontier) Revisit(ctx context.Context, it frontier.Item) (bool, error) {
	ok, err := f.addAll([]frontier.Item{it}, true)
	if err != nil {
		return false, err
	}
	return ok[0], nil
}

// addAll adds items in one write. With revisit, a URL seen before is
// queued again unless it is queued or leased now.
func (f *Frontier) addAll(items []frontier.Item, revisit bool) ([]bool, error) {
	for _, it := range items {
		if it.URL == "" || it.Site == "" {
			return nil, fmt.Errorf("frontier: item without URL or site (URL %q, site %q)", it.URL, it.Site)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ok := make([]bool, len(items))
	b := f.s.db.NewBatch()
	saved := f.m
	added := 0
	var fresh []uint64             // added to the seen index by this call
	revisited := map[uint64]bool{} // known URLs this call queues again
	for i, it := range items {
		if ds := f.sites[it.Site]; ds != nil && ds.Dropped {
			continue
		}
		k := seenKey(it.Key())
		h := seenHash(k)
		_, known := f.seen[h]
		if known {
			if !revisit || revisited[h] {
				continue
			}
			// A revisit queues a URL fetched before, not one queued or
			// leased now.
			v, found, err := f.s.get(k)
			if err != nil {
				b.Close()
				f.m = saved
				return nil, fmt.Errorf("%w: %w", frontier.ErrUnavailable, err)
			}
			if found && len(v) > 0 && v[0] == seenQueued {
				continue
			}
		}
		if f.opts.MaxQueued > 0 && f.queued() >= f.opts.MaxQueued {
			if added == 0 {
				b.Close()
				return nil, frontier.ErrFull
			}
			break
		}
		b.Set(k, []byte{seenQueued}, nil)
		if known {
			revisited[h] = true
		} else {
			f.seen[h] = struct{}{}
			fresh = append(fresh, h)
			f.m.Seen++
		}
		f.enqueue(b, it)
		ok[i] = true
		added++
	}
	if added == 0 {
		b.Close()
		return ok, nil
	}
	if err := f.commit(b, pebble.NoSync); err != nil {
		f.m = saved
		for _, h := range fresh {
			delete(f.seen, h)
		}
		f.reloadSites()
		return nil, err
	}
	f.signalLocked()
	return ok, nil
}

// reloadSites rereads the per-site counters after a failed write.
func (f *Frontier) reloadSites() {
	for s, ds := range f.sites {
		var r siteRecord
		if ok, err := f.s.getJSON(siteKey(s), &r); err == nil && ok {
			ds.siteRecord = r
		}
	}
}

// Seen implements frontier.Frontier.
func (f *Frontier) Seen(ctx context.Context, url string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := seenKey(url)
	h := seenHash(k)
	if _, ok := f.seen[h]; ok {
		return true, nil
	}
	b := f.s.db.NewBatch()
	b.Set(k, []byte{seenOnly}, nil)
	f.m.Seen++
	if err := f.commit(b, pebble.NoSync); err != nil {
		f.m.Seen--
		return false, err
	}
	f.seen[h] = struct{}{}
	return false, nil
}

// Next implements frontier.Frontier.
func (f *Frontier) Next(ctx context.Context) (frontier.Lease, error) {
	return f.NextWithin(ctx, 0)
}

// NextWithin implements frontier.Deferrer. A horizon of 0 or less waits as
// Next does.
func (f *Frontier) NextWithin(ctx context.Context, horizon time.Duration) (frontier.Lease, error) {
	for {
		if err := ctx.Err(); err != nil {
			return frontier.Lease{}, err
		}
		f.mu.Lock()
		now := f.opts.Now()
		if err := f.promoteDue(now); err != nil {
			f.mu.Unlock()
			return frontier.Lease{}, err
		}
		limitReached := f.opts.MaxPages > 0 && f.m.Pages+f.inflight >= f.opts.MaxPages
		if !limitReached {
			l, ok, err := f.leaseLocked()
			if err != nil {
				f.mu.Unlock()
				return frontier.Lease{}, err
			}
			if ok {
				f.mu.Unlock()
				return l, nil
			}
		}
		if f.inflight == 0 && (limitReached || f.queued() == 0) {
			f.mu.Unlock()
			return frontier.Lease{}, frontier.ErrDone
		}
		wake, due := f.changed, f.nextDue
		if horizon > 0 && f.inflight == 0 && !limitReached && !due.IsZero() && due.After(now.Add(horizon)) {
			// Nothing is in flight, so every site has room: nothing
			// queued was ready, and all of it waits beyond the horizon.
			f.mu.Unlock()
			return frontier.Lease{}, frontier.DeferredError(due)
		}
		f.mu.Unlock()
		if err := frontier.Wait(ctx, wake, due, now); err != nil {
			return frontier.Lease{}, err
		}
	}
}

// promoteDue moves deferred items that are due to their sites' queues.
func (f *Frontier) promoteDue(now time.Time) error {
	if f.nextDue.IsZero() || f.nextDue.After(now) {
		return nil
	}
	moved := 0
	kept := f.memDeferred[:0]
	for _, it := range f.memDeferred {
		if it.NotBefore.After(now) {
			kept = append(kept, it)
			continue
		}
		moved++
		if ds := f.sites[it.Site]; ds == nil || !ds.Dropped {
			it.NotBefore = time.Time{}
			ds := f.site(it.Site)
			ds.mem = append(ds.mem, it)
			f.memReady++
		}
	}
	clear(f.memDeferred[len(kept):])
	f.memDeferred = kept
	upper := deferKey(now, ^uint64(0))
	b := f.s.db.NewBatch()
	saved := f.m
	err := f.scanRange([]byte{pDefer}, upper, func(k, v []byte) error {
		var it frontier.Item
		if err := json.Unmarshal(v, &it); err != nil {
			return fmt.Errorf("state: deferred item %x is damaged: %w", k[1:], err)
		}
		b.Delete(k, nil)
		f.m.Deferred--
		moved++
		if ds := f.sites[it.Site]; ds != nil && ds.Dropped {
			return nil
		}
		it.NotBefore = time.Time{}
		f.enqueue(b, it)
		return nil
	})
	if err == nil && f.m != saved {
		err = f.commit(b, pebble.NoSync)
	} else {
		b.Close()
	}
	if err != nil {
		f.m = saved
		f.reloadSites()
		return fmt.Errorf("%w: %w", frontier.ErrUnavailable, err)
	}
	f.loadNextDue()
	if moved > 0 || f.m != saved {
		f.signalLocked()
	}
	return nil
}

// loadNextDue finds the earliest deferred item.
func (f *Frontier) loadNextDue() {
	f.nextDue = time.Time{}
	for _, it := range f.memDeferred {
		if f.nextDue.IsZero() || it.NotBefore.Before(f.nextDue) {
			f.nextDue = it.NotBefore
		}
	}
	if f.m.Deferred == 0 {
		return
	}
	f.scanRange([]byte{pDefer}, []byte{pDefer + 1}, func(k, v []byte) error {
		if due := time.Unix(0, int64(binary.BigEndian.Uint64(k[1:9]))); f.nextDue.IsZero() || due.Before(f.nextDue) {
			f.nextDue = due
		}
		return errStop
	})
}

var errStop = errors.New("stop")

// leaseLocked takes the first item of the next site in the ring that has
// capacity.
func (f *Frontier) leaseLocked() (frontier.Lease, bool, error) {
	n := len(f.ring)
	for i := 0; i < n; i++ {
		idx := (f.next + i) % n
		s := f.ring[idx]
		ds := f.sites[s]
		if ds.inflight >= f.opts.PerSite || ds.Dropped {
			continue
		}
		if len(ds.mem) > 0 {
			it := ds.mem[0]
			ds.mem[0] = frontier.Item{}
			ds.mem = ds.mem[1:]
			f.memReady--
			f.m.Seq++ // lease ids stay unique; the counter is written with the next commit
			lid := strconv.FormatUint(f.m.Seq, 10)
			f.leases[lid] = it
			f.memLeases[lid] = true
			ds.inflight++
			f.inflight++
			f.next = (idx + 1) % n
			return frontier.Lease{Item: it, ID: lid}, true, nil
		}
		if ds.Ready == 0 {
			continue
		}
		var key, val []byte
		err := f.scanRange(queueKey(s, ds.head), be64(queuePrefix(s), ^uint64(0)), func(k, v []byte) error {
			key, val = bytes.Clone(k), bytes.Clone(v)
			return errStop
		})
		if err != nil {
			return frontier.Lease{}, false, fmt.Errorf("%w: %w", frontier.ErrUnavailable, err)
		}
		if key == nil { // the counter was ahead of the queue
			f.m.Ready -= ds.Ready
			ds.Ready = 0
			continue
		}
		var it frontier.Item
		if err := json.Unmarshal(val, &it); err != nil {
			return frontier.Lease{}, false, fmt.Errorf("state: queued item %x is damaged: %w", key, err)
		}
		seq := binary.BigEndian.Uint64(key[len(key)-8:])
		f.m.Seq++
		id := f.m.Seq
		b := f.s.db.NewBatch()
		b.Delete(key, nil)
		b.Set(leaseKey(id), val, nil)
		ds.Ready--
		f.m.Ready--
		f.putSite(b, s, ds)
		if err := f.commit(b, pebble.NoSync); err != nil {
			ds.Ready++
			f.m.Ready++
			f.m.Seq--
			return frontier.Lease{}, false, err
		}
		ds.head = seq + 1
		ds.inflight++
		f.inflight++
		f.next = (idx + 1) % n
		lid := strconv.FormatUint(id, 10)
		f.leases[lid] = it
		return frontier.Lease{Item: it, ID: lid}, true, nil
	}
	return frontier.Lease{}, false, nil
}

// end removes l's lease from memory and writes its removal into b.
func (f *Frontier) end(b *pebble.Batch, l frontier.Lease) (*dsite, error) {
	it, ok := f.leases[l.ID]
	if !ok {
		return nil, fmt.Errorf("%w: %q", frontier.ErrLeaseLost, l.ID)
	}
	id, _ := strconv.ParseUint(l.ID, 10, 64)
	b.Delete(leaseKey(id), nil)
	return f.sites[it.Site], nil
}

func (f *Frontier) forget(l frontier.Lease, ds *dsite) {
	delete(f.leases, l.ID)
	delete(f.memLeases, l.ID)
	ds.inflight--
	f.inflight--
}

// Complete implements frontier.Frontier. It returns once the end of the
// lease, and with it every URL added before it (the links found on the
// page), is on stable storage: a crash after a page was fetched and stored
// does not lose its links. Concurrent calls share one sync.
func (f *Frontier) Complete(ctx context.Context, l frontier.Lease, counted bool) error {
	if err := f.complete(l, counted); err != nil {
		return err
	}
	if err := f.s.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("%w: state: sync: %w", frontier.ErrUnavailable, err)
	}
	return nil
}

func (f *Frontier) complete(l frontier.Lease, counted bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.s.db.NewBatch()
	ds, err := f.end(b, l)
	if err != nil {
		b.Close()
		return err
	}
	b.Set(seenKey(l.Item.Key()), []byte{seenDone}, nil)
	if counted {
		ds.Pages++
		f.m.Pages++
		f.putSite(b, l.Item.Site, ds)
	}
	if err := f.commit(b, pebble.NoSync); err != nil {
		if counted {
			ds.Pages--
			f.m.Pages--
		}
		return err
	}
	f.forget(l, ds)
	f.signalLocked()
	return nil
}

// Retry implements frontier.Frontier.
func (f *Frontier) Retry(ctx context.Context, l frontier.Lease, notBefore time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.s.db.NewBatch()
	ds, err := f.end(b, l)
	if err != nil {
		b.Close()
		return err
	}
	saved := f.m
	savedDue := f.nextDue
	if !ds.Dropped {
		it := l.Item
		it.Attempt++
		it.NotBefore = notBefore
		f.enqueue(b, it)
	}
	if err := f.commit(b, pebble.NoSync); err != nil {
		f.m, f.nextDue = saved, savedDue
		f.reloadSites()
		return err
	}
	f.forget(l, ds)
	f.signalLocked()
	return nil
}

// DropSite implements frontier.Frontier.
func (f *Frontier) DropSite(ctx context.Context, site string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ds := f.site(site)
	b := f.s.db.NewBatch()
	n := ds.Ready
	b.DeleteRange(queuePrefix(site), be64(queuePrefix(site), ^uint64(0)), nil)
	var deferred [][]byte
	err := f.scan([]byte{pDefer}, func(k, v []byte) error {
		var it frontier.Item
		if json.Unmarshal(v, &it) == nil && it.Site == site {
			deferred = append(deferred, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		b.Close()
		return 0, fmt.Errorf("%w: %w", frontier.ErrUnavailable, err)
	}
	for _, k := range deferred {
		b.Delete(k, nil)
	}
	dropPages(b, site)
	n += len(ds.mem)
	f.memReady -= len(ds.mem)
	ds.mem = nil
	before := len(f.memDeferred)
	f.memDeferred = slices.DeleteFunc(f.memDeferred, func(it frontier.Item) bool { return it.Site == site })
	n += before - len(f.memDeferred)
	saved, savedSite := f.m, ds.siteRecord
	n += len(deferred)
	f.m.Ready -= ds.Ready
	f.m.Deferred -= len(deferred)
	ds.Ready, ds.Dropped = 0, true
	f.putSite(b, site, ds)
	if err := f.commit(b, pebble.Sync); err != nil {
		f.m, ds.siteRecord = saved, savedSite
		return 0, err
	}
	f.loadNextDue()
	f.signalLocked()
	return n, nil
}

// Deferred implements frontier.Deferrer. It reads every deferred item.
func (f *Frontier) Deferred(ctx context.Context) (map[string]frontier.DeferredSite, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]frontier.DeferredSite{}
	note := func(it frontier.Item) {
		d := out[it.Site]
		d.Count++
		if d.Earliest.IsZero() || it.NotBefore.Before(d.Earliest) {
			d.Earliest = it.NotBefore
		}
		out[it.Site] = d
	}
	for _, it := range f.memDeferred {
		note(it)
	}
	err := f.scan([]byte{pDefer}, func(k, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var it frontier.Item
		if err := json.Unmarshal(v, &it); err != nil {
			return fmt.Errorf("state: deferred item %x is damaged: %w", k[1:], err)
		}
		if ds := f.sites[it.Site]; ds == nil || !ds.Dropped {
			note(it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", frontier.ErrUnavailable, err)
	}
	return out, nil
}

// SiteTaken implements frontier.SiteCounter.
func (f *Frontier) SiteTaken(ctx context.Context, site string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ds := f.sites[site]; ds != nil {
		return ds.Pages + ds.inflight, nil
	}
	return 0, nil
}

// Stats implements frontier.Frontier.
func (f *Frontier) Stats(ctx context.Context) (frontier.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return frontier.Stats{Queued: f.queued(), InFlight: f.inflight, Seen: f.m.Seen, Pages: f.m.Pages}, nil
}

// queued counts the items ready or deferred, on disk and in memory.
func (f *Frontier) queued() int {
	return f.m.Ready + f.m.Deferred + f.memReady + len(f.memDeferred)
}

// scan calls fn for every key with prefix, in order, until fn returns an
// error (errStop ends it without one).
func (f *Frontier) scan(prefix []byte, fn func(k, v []byte) error) error {
	upper := append(bytes.Clone(prefix[:len(prefix)-1]), prefix[len(prefix)-1]+1)
	return f.scanRange(prefix, upper, fn)
}

// scanRange calls fn for every key in [lower, upper).
func (f *Frontier) scanRange(lower, upper []byte, fn func(k, v []byte) error) error {
	it, err := f.s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		if err := fn(it.Key(), v); err != nil {
			it.Close()
			if errors.Is(err, errStop) {
				return nil
			}
			return err
		}
	}
	return it.Close()
}
