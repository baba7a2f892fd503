package frontier

import (
	"container/heap"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Options configures a Memory frontier.
type Options struct {
	// PerSite is the most leases out at once for one site. Default 2.
	PerSite int
	// MaxPages stops handing out work once this many leases completed
	// counted, counting those in flight. 0 means no limit.
	MaxPages int
	// MaxQueued bounds the number of queued items; Add refuses more with
	// ErrFull. Default 1,000,000.
	MaxQueued int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// ErrFull is returned by Add when the frontier holds MaxQueued items.
var ErrFull = fmt.Errorf("frontier: full")

var (
	_ Frontier    = (*Memory)(nil)
	_ Deferrer    = (*Memory)(nil)
	_ Revisitor   = (*Memory)(nil)
	_ SiteCounter = (*Memory)(nil)
	_ SitePacer   = (*Memory)(nil)
)

// Memory is an in-process Frontier.
type Memory struct {
	opts Options

	mu       sync.Mutex
	changed  chan struct{}   // closed and replaced whenever work may have become available
	seen     map[string]bool // Item.Key -> queued or leased now
	sites    map[string]*siteQueue
	idle     map[string]idleSite // sites with nothing queued or leased, not in sites
	ready    siteRing            // sites that may have an item to lease now, in round-robin order
	paced    pacedHeap           // sites with items waiting for their next slot (PaceSite)
	deferred deferHeap
	dropped  map[string]bool
	queued   int
	inflight int
	pages    int
	leaseSeq uint64
	leases   map[string]Item

	// sitesPeak is the most entries sites held since it was last made
	// anew: a map keeps the table of its largest size (see idleLocked).
	sitesPeak int
}

type siteQueue struct {
	items    []Item
	inflight int
	pages    int       // completed leases that counted
	slot     time.Time // no lease before then (PaceSite)
	inReady  bool      // in Memory.ready
	inPaced  bool      // in Memory.paced
	pidx     int       // index in Memory.paced while inPaced
}

// idleSite is what Memory keeps of a site that has nothing queued or
// leased: what SiteTaken and PaceSite need of it, 16 bytes beside its key
// where a siteQueue takes 80 and a pointer. A crawl of many sites has most
// of them idle.
type idleSite struct {
	pages int   // completed leases that counted
	slot  int64 // no lease before then (Unix ns); 0 for none
}

// queueLocked returns the queue of site, making it (from what idle keeps
// of the site, if anything) if there is none.
func (m *Memory) queueLocked(site string) *siteQueue {
	q := m.sites[site]
	if q == nil {
		q = &siteQueue{}
		if st, ok := m.idle[site]; ok {
			q.pages = st.pages
			if st.slot != 0 {
				q.slot = time.Unix(0, st.slot)
			}
			delete(m.idle, site)
		}
		m.sites[site] = q
		m.sitesPeak = max(m.sitesPeak, len(m.sites))
	}
	return q
}

// idleLocked replaces q, the queue of site, by an idleSite if it has
// nothing queued or leased and is in neither the ready ring nor the paced
// heap. A site with no counted page and no slot to come keeps nothing.
func (m *Memory) idleLocked(site string, q *siteQueue) {
	if len(q.items) > 0 || q.inflight > 0 || q.inReady || q.inPaced {
		return
	}
	delete(m.sites, site)
	if m.sitesPeak >= 1024 && len(m.sites) <= m.sitesPeak/4 {
		// A crawl's sites go idle as it ends: a map sized for all of
		// them at once would stay that size. Copying the ones left
		// costs O(1) a delete (a quarter of the peak, after three
		// quarters were deleted).
		sites := make(map[string]*siteQueue, len(m.sites))
		for k, v := range m.sites {
			sites[k] = v
		}
		m.sites, m.sitesPeak = sites, len(sites)
	}
	st := idleSite{pages: q.pages}
	if q.slot.After(m.opts.Now()) {
		st.slot = q.slot.UnixNano()
	}
	if st != (idleSite{}) {
		m.idle[site] = st
	}
}

// leasable reports whether q has an item to lease at now.
func (q *siteQueue) leasable(perSite int, now time.Time) bool {
	return len(q.items) > 0 && q.inflight < perSite && !now.Before(q.slot)
}

// touchLocked puts q where it belongs after a change: in the ready ring
// when it has an item to lease now, in the paced heap when it has items
// waiting for its slot. Each site is in each at most once, so that a lease
// costs O(1) (O(log sites) for a paced site) however many sites the
// frontier holds; entries that became stale are dropped when reached.
func (m *Memory) touchLocked(q *siteQueue, now time.Time) {
	if len(q.items) == 0 || q.inflight >= m.opts.PerSite {
		return // Complete, Retry or an Add touches it again
	}
	if now.Before(q.slot) {
		if !q.inPaced {
			q.inPaced = true
			heap.Push(&m.paced, q)
		}
		return
	}
	if !q.inReady {
		q.inReady = true
		m.ready.push(q)
	}
}

// NewMemory returns an empty in-process frontier.
func NewMemory(opts Options) *Memory {
	if opts.PerSite <= 0 {
		opts.PerSite = 2
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = 1_000_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Memory{
		opts:    opts,
		changed: make(chan struct{}),
		seen:    make(map[string]bool),
		sites:   make(map[string]*siteQueue),
		idle:    make(map[string]idleSite),
		dropped: make(map[string]bool),
		leases:  make(map[string]Item),
	}
}

func (m *Memory) signalLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// Add implements Frontier.
func (m *Memory) Add(ctx context.Context, it Item) (bool, error) {
	if it.URL == "" || it.Site == "" {
		return false, fmt.Errorf("frontier: item without URL or site (URL %q, site %q)", it.URL, it.Site)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dropped[it.Site] {
		return false, nil
	}
	if _, ok := m.seen[it.Key()]; ok {
		return false, nil
	}
	if m.queued >= m.opts.MaxQueued {
		return false, ErrFull
	}
	m.seen[it.Key()] = true
	m.enqueueLocked(it)
	return true, nil
}

// Revisit implements Revisitor.
func (m *Memory) Revisit(ctx context.Context, it Item) (bool, error) {
	if it.URL == "" || it.Site == "" {
		return false, fmt.Errorf("frontier: item without URL or site (URL %q, site %q)", it.URL, it.Site)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dropped[it.Site] || m.seen[it.Key()] {
		return false, nil
	}
	if m.queued >= m.opts.MaxQueued {
		return false, ErrFull
	}
	m.seen[it.Key()] = true
	m.enqueueLocked(it)
	return true, nil
}

func (m *Memory) enqueueLocked(it Item) {
	m.queued++
	if it.NotBefore.After(m.opts.Now()) {
		heap.Push(&m.deferred, it)
	} else {
		q := m.queueLocked(it.Site)
		q.items = append(q.items, it)
		m.touchLocked(q, m.opts.Now())
		if q.inflight >= m.opts.PerSite {
			// No worker can lease it before one of the site's leases
			// ends, which signals: waking them all now only has them
			// look and sleep again (a page's links to a busy site
			// woke every idle worker, for each link).
			return
		}
	}
	m.signalLocked()
}

// Seen implements Frontier.
func (m *Memory) Seen(ctx context.Context, url string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pending, ok := m.seen[url]
	m.seen[url] = pending
	return ok, nil
}

// Next implements Frontier.
func (m *Memory) Next(ctx context.Context) (Lease, error) { return m.NextWithin(ctx, 0) }

// NextWithin implements Deferrer. A horizon of 0 or less waits as Next does.
func (m *Memory) NextWithin(ctx context.Context, horizon time.Duration) (Lease, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Lease{}, err
		}
		m.mu.Lock()
		now := m.opts.Now()
		// Move due deferred items to their site queues.
		for m.deferred.Len() > 0 && !m.deferred[0].NotBefore.After(now) {
			it := heap.Pop(&m.deferred).(Item)
			m.queued--
			if !m.dropped[it.Site] {
				it.NotBefore = time.Time{}
				m.enqueueLocked(it)
			}
		}
		// Sites whose slot came are ready again.
		for m.paced.Len() > 0 && !m.paced[0].slot.After(now) {
			q := heap.Pop(&m.paced).(*siteQueue)
			q.inPaced = false
			m.touchLocked(q, now)
		}
		limitReached := m.opts.MaxPages > 0 && m.pages+m.inflight >= m.opts.MaxPages
		if !limitReached {
			if l, ok := m.leaseLocked(now); ok {
				m.mu.Unlock()
				return l, nil
			}
		}
		if m.inflight == 0 && (limitReached || m.queued == 0) {
			m.mu.Unlock()
			return Lease{}, ErrDone
		}
		wake := m.changed
		var due time.Time
		if m.deferred.Len() > 0 {
			due = m.deferred[0].NotBefore
		}
		if m.paced.Len() > 0 && (due.IsZero() || m.paced[0].slot.Before(due)) {
			due = m.paced[0].slot
		}
		if horizon > 0 && m.inflight == 0 && !limitReached && !due.IsZero() && due.After(now.Add(horizon)) {
			// Nothing is in flight, so every site has room: nothing
			// queued was ready, and all of it waits beyond the horizon.
			m.mu.Unlock()
			return Lease{}, DeferredError(due)
		}
		m.mu.Unlock()
		if err := Wait(ctx, wake, due, now); err != nil {
			return Lease{}, err
		}
	}
}

// leaseLocked takes the first item of the first site in the ready ring
// that can lease one, and puts the site back at the ring's end if it can
// lease more.
func (m *Memory) leaseLocked(now time.Time) (Lease, bool) {
	for m.ready.len() > 0 {
		q := m.ready.pop()
		q.inReady = false
		if !q.leasable(m.opts.PerSite, now) {
			m.touchLocked(q, now) // stale: emptied, full, or paced since
			continue
		}
		it := q.items[0]
		q.items[0] = Item{}
		q.items = q.items[1:]
		if len(q.items) == 0 {
			q.items = nil // let the backing array go
		}
		q.inflight++
		m.queued--
		m.inflight++
		m.touchLocked(q, now)
		m.leaseSeq++
		id := strconv.FormatUint(m.leaseSeq, 10)
		m.leases[id] = it
		return Lease{Item: it, ID: id}, true
	}
	return Lease{}, false
}

// endLocked ends lease l, counting it as a page if counted. It leaves the
// site's queue in place: a retry queues to it again.
func (m *Memory) endLocked(l Lease, counted bool) error {
	if _, ok := m.leases[l.ID]; !ok {
		return fmt.Errorf("%w: %q", ErrLeaseLost, l.ID)
	}
	delete(m.leases, l.ID)
	m.inflight--
	if counted {
		m.pages++
	}
	if q := m.sites[l.Item.Site]; q != nil {
		q.inflight--
		if counted {
			q.pages++
		}
		m.touchLocked(q, m.opts.Now())
	}
	return nil
}

// PaceSite implements SitePacer.
func (m *Memory) PaceSite(ctx context.Context, site string, notBefore time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.sites[site]
	if q == nil {
		// Nothing queued or leased: idle keeps the slot.
		st := m.idle[site]
		if ns := notBefore.UnixNano(); ns > st.slot && notBefore.After(m.opts.Now()) {
			st.slot = ns
			m.idle[site] = st
		}
		return nil
	}
	if !notBefore.After(q.slot) {
		return nil
	}
	q.slot = notBefore
	if q.inPaced {
		heap.Fix(&m.paced, q.pidx)
	}
	// A site in the ready ring is checked again when it is reached.
	return nil
}

// Complete implements Frontier.
func (m *Memory) Complete(ctx context.Context, l Lease, counted bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.endLocked(l, counted); err != nil {
		return err
	}
	if _, ok := m.seen[l.Item.Key()]; ok {
		m.seen[l.Item.Key()] = false
	}
	if q := m.sites[l.Item.Site]; q != nil {
		m.idleLocked(l.Item.Site, q)
	}
	m.signalLocked()
	return nil
}

// Retry implements Frontier.
func (m *Memory) Retry(ctx context.Context, l Lease, notBefore time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.endLocked(l, false); err != nil {
		return err
	}
	it := l.Item
	it.Attempt++
	it.NotBefore = notBefore
	if !m.dropped[it.Site] {
		m.enqueueLocked(it)
	} else {
		m.signalLocked()
	}
	return nil
}

// DropSite implements Frontier.
func (m *Memory) DropSite(ctx context.Context, site string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dropped[site] = true
	n := 0
	if q := m.sites[site]; q != nil { // stale ring and heap entries are dropped when reached
		for _, it := range q.items {
			m.seen[it.Key()] = false
		}
		n += len(q.items)
		q.items = nil
	}
	kept := m.deferred[:0]
	for _, it := range m.deferred {
		if it.Site == site {
			n++
			m.seen[it.Key()] = false
			continue
		}
		kept = append(kept, it)
	}
	m.deferred = kept
	heap.Init(&m.deferred)
	m.queued -= n
	m.signalLocked()
	return n, nil
}

// Deferred implements Deferrer.
func (m *Memory) Deferred(ctx context.Context) (map[string]DeferredSite, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]DeferredSite{}
	for _, it := range m.deferred {
		d := out[it.Site]
		d.Count++
		if d.Earliest.IsZero() || it.NotBefore.Before(d.Earliest) {
			d.Earliest = it.NotBefore
		}
		out[it.Site] = d
	}
	for _, q := range m.paced {
		if len(q.items) == 0 {
			continue
		}
		site := q.items[0].Site
		d := out[site]
		d.Count += len(q.items)
		if d.Earliest.IsZero() || q.slot.Before(d.Earliest) {
			d.Earliest = q.slot
		}
		out[site] = d
	}
	return out, nil
}

// SiteTaken implements SiteCounter.
func (m *Memory) SiteTaken(ctx context.Context, site string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if q := m.sites[site]; q != nil {
		return q.pages + q.inflight, nil
	}
	return m.idle[site].pages, nil
}

// Stats implements Frontier.
func (m *Memory) Stats(ctx context.Context) (Stats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{Queued: m.queued, InFlight: m.inflight, Seen: len(m.seen), Pages: m.pages}, nil
}

type deferHeap []Item

func (h deferHeap) Len() int           { return len(h) }
func (h deferHeap) Less(i, j int) bool { return h[i].NotBefore.Before(h[j].NotBefore) }
func (h deferHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deferHeap) Push(x any)        { *h = append(*h, x.(Item)) }
func (h *deferHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = Item{}
	*h = shrink(old[:len(old)-1])
	return it
}

// shrink returns s, in an array of twice its length if it uses a quarter
// of its array or less, so that a queue once long (every site's item
// handed back at once) does not keep its longest array when it is short
// again. A copy of n elements follows at least n pops: O(1) a pop.
func shrink[T any](s []T) []T {
	if cap(s) < 256 || len(s) > cap(s)/4 {
		return s
	}
	return append(make([]T, 0, 2*len(s)), s...)
}

// siteRing is a FIFO of sites.
type siteRing struct {
	buf  []*siteQueue
	head int
}

func (r *siteRing) len() int { return len(r.buf) - r.head }

func (r *siteRing) push(q *siteQueue) { r.buf = append(r.buf, q) }

func (r *siteRing) pop() *siteQueue {
	q := r.buf[r.head]
	r.buf[r.head] = nil
	r.head++
	switch {
	case r.head == len(r.buf):
		r.buf, r.head = shrink(r.buf[:0]), 0
	case r.head > 1024 && r.head*2 >= len(r.buf):
		// Slide the live part down, so the buffer does not grow forever.
		n := copy(r.buf, r.buf[r.head:])
		clear(r.buf[n:])
		r.buf, r.head = shrink(r.buf[:n]), 0
	}
	return q
}

// pacedHeap orders paced sites by their slot.
type pacedHeap []*siteQueue

func (h pacedHeap) Len() int           { return len(h) }
func (h pacedHeap) Less(i, j int) bool { return h[i].slot.Before(h[j].slot) }
func (h pacedHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pidx, h[j].pidx = i, j
}
func (h *pacedHeap) Push(x any) {
	q := x.(*siteQueue)
	q.pidx = len(*h)
	*h = append(*h, q)
}
func (h *pacedHeap) Pop() any {
	old := *h
	q := old[len(old)-1]
	old[len(old)-1] = nil
	*h = shrink(old[:len(old)-1])
	return q
}
