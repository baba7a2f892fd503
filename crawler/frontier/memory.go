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
)

// Memory is an in-process Frontier.
type Memory struct {
	opts Options

	mu       sync.Mutex
	changed  chan struct{}   // closed and replaced whenever work may have become available
	seen     map[string]bool // Item.Key -> queued or leased now
	sites    map[string]*siteQueue
	ring     []string // sites in round-robin order
	next     int      // ring index to try first
	deferred deferHeap
	dropped  map[string]bool
	queued   int
	inflight int
	pages    int
	leaseSeq uint64
	leases   map[string]Item
}

type siteQueue struct {
	items    []Item
	inflight int
	pages    int // completed leases that counted
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
		q := m.sites[it.Site]
		if q == nil {
			q = &siteQueue{}
			m.sites[it.Site] = q
			m.ring = append(m.ring, it.Site)
		}
		q.items = append(q.items, it)
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
		limitReached := m.opts.MaxPages > 0 && m.pages+m.inflight >= m.opts.MaxPages
		if !limitReached {
			if l, ok := m.leaseLocked(); ok {
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

// leaseLocked takes the first item of the next site in the ring that has
// capacity, and advances the ring past it.
func (m *Memory) leaseLocked() (Lease, bool) {
	n := len(m.ring)
	for i := 0; i < n; i++ {
		idx := (m.next + i) % n
		q := m.sites[m.ring[idx]]
		if len(q.items) == 0 || q.inflight >= m.opts.PerSite {
			continue
		}
		it := q.items[0]
		q.items[0] = Item{}
		q.items = q.items[1:]
		q.inflight++
		m.queued--
		m.inflight++
		m.next = (idx + 1) % n
		m.leaseSeq++
		id := strconv.FormatUint(m.leaseSeq, 10)
		m.leases[id] = it
		return Lease{Item: it, ID: id}, true
	}
	return Lease{}, false
}

func (m *Memory) endLocked(l Lease) error {
	if _, ok := m.leases[l.ID]; !ok {
		return fmt.Errorf("%w: %q", ErrLeaseLost, l.ID)
	}
	delete(m.leases, l.ID)
	m.inflight--
	if q := m.sites[l.Item.Site]; q != nil {
		q.inflight--
	}
	return nil
}

// Complete implements Frontier.
func (m *Memory) Complete(ctx context.Context, l Lease, counted bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.endLocked(l); err != nil {
		return err
	}
	if _, ok := m.seen[l.Item.Key()]; ok {
		m.seen[l.Item.Key()] = false
	}
	if counted {
		m.pages++
		if q := m.sites[l.Item.Site]; q != nil {
			q.pages++
		}
	}
	m.signalLocked()
	return nil
}

// Retry implements Frontier.
func (m *Memory) Retry(ctx context.Context, l Lease, notBefore time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.endLocked(l); err != nil {
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
	if q := m.sites[site]; q != nil {
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
	return out, nil
}

// SiteTaken implements SiteCounter.
func (m *Memory) SiteTaken(ctx context.Context, site string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if q := m.sites[site]; q != nil {
		return q.pages + q.inflight, nil
	}
	return 0, nil
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
	*h = old[:len(old)-1]
	return it
}
