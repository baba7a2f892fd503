package crawler

import (
	"sync"
	"sync/atomic"
	"time"
)

// siteGate is what the gate keeps of one site while requests to it are
// under way: its slots for requests in flight, its pacer, its count of
// answers that asked to slow down, and the lock a request holds from its
// last check to the end of its send. A request holds its site's siteGate
// from before its grant to the end of its RoundTrip (see siteGates), so
// that every request decided, waiting or in flight at a site shares one.
type siteGate struct {
	users int // holders; guarded by siteGates.mu

	slots slots
	pacer pacer
	// slowed counts the site's answers that asked goodbot to slow down
	// (429, 503, a Retry-After): a request granted before one of them is
	// not sent on its grant. A request reads it before its grant and
	// again before its send, holding the siteGate in between, and a
	// siteGate is freed only when no request holds it: no request
	// compares one siteGate's count with another's, so a new one's
	// starts at 0.
	slowed atomic.Uint64
	// sending is read-held by a request from its last check to the end
	// of its send, and held by drain.
	sending sync.RWMutex
}

// pacer spaces the requests that leave this process for one site.
type pacer struct {
	mu    sync.Mutex
	last  time.Time    // when the latest request passed pace
	wrote atomic.Int64 // when the latest request was written out (Unix ns)
}

// latest returns when the latest request to the site left: the later of
// when it passed pace and when it was written out. The caller holds p.mu.
func (p *pacer) latest() time.Time {
	last := p.last
	if w := p.wrote.Load(); w > last.UnixNano() {
		last = time.Unix(0, w)
	}
	return last
}

// idleKeep is how long the gate remembers when the latest request to a
// site with nothing under way left (see siteGates). pace keeps a gap of at
// most the site's interval, which is shorter unless the site's budget is
// under one request a day; the limiter spaces such a site's grants still.
const idleKeep = 24 * time.Hour

// siteGates holds the siteGate of each site that has a request under way
// (acquired and not yet released). When the last holder releases it, it is
// freed: of a site with nothing under way the gate keeps only when its
// latest request left, the one part of its state that outlasts its
// requests (pace spaces the next request from it), a map entry of a few
// dozen bytes instead of a siteGate and its entries in three maps. A site
// that gets a request again gets a new siteGate with that time, and so the
// same pacing. The times are kept for idleKeep, and swept after as many
// frees as there are times kept: O(1) a free, however many sites the
// crawl holds.
type siteGates struct {
	parallel int // Config.Parallel: each site's slots

	mu    sync.Mutex
	busy  map[string]*siteGate
	idle  map[string]int64 // site -> its latest request (Unix ns), for sites not in busy
	frees int              // frees since idle was last swept
	made  int              // siteGates made, for tests
}

func newSiteGates(parallel int) *siteGates {
	return &siteGates{parallel: parallel, busy: map[string]*siteGate{}, idle: map[string]int64{}}
}

// acquire returns the siteGate of site s, creating it if s has none, and
// holds it until release.
func (gs *siteGates) acquire(s string) *siteGate {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	sg := gs.busy[s]
	if sg == nil {
		sg = &siteGate{slots: slots{free: gs.parallel}}
		gs.made++
		if last, ok := gs.idle[s]; ok {
			sg.pacer.last = time.Unix(0, last)
			delete(gs.idle, s)
		}
		gs.busy[s] = sg
	}
	sg.users++
	return sg
}

// release lets go of sg, which acquire(s) returned, and frees it if
// nothing else holds it. Nothing then waits for one of its slots, holds
// its send lock or reads its slowed count, and its pacer is idle: no one
// holds pacer.mu.
func (gs *siteGates) release(s string, sg *siteGate) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	if sg.users--; sg.users > 0 {
		return
	}
	delete(gs.busy, s)
	sg.pacer.mu.Lock()
	last := sg.pacer.latest()
	sg.pacer.mu.Unlock()
	now := time.Now()
	if !last.IsZero() && now.Sub(last) < idleKeep {
		gs.idle[s] = last.UnixNano()
	}
	if gs.frees++; gs.frees >= max(1024, len(gs.idle)) {
		gs.frees = 0
		for k, t := range gs.idle {
			if now.Sub(time.Unix(0, t)) >= idleKeep {
				delete(gs.idle, k)
			}
		}
	}
}

// counts returns the number of sites with a request under way, and of
// the others whose latest request the gate remembers.
func (gs *siteGates) counts() (busy, idle int) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	return len(gs.busy), len(gs.idle)
}
