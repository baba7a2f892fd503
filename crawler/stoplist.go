package crawler

import (
	"context"
	"sync"
)

// A StopList names sites that must not be contacted, for example because
// their operator complained. The gate consults it before every request.
type StopList interface {
	// Stopped reports whether site is on the list, and why. An error means
	// the list cannot be read; the gate then sends nothing to the site.
	Stopped(ctx context.Context, site string) (reason string, stopped bool, err error)
}

// MemoryStopList is an in-process StopList. It is safe for concurrent use.
type MemoryStopList struct {
	mu    sync.RWMutex
	sites map[string]string
}

// NewMemoryStopList returns an empty stop list.
func NewMemoryStopList() *MemoryStopList {
	return &MemoryStopList{sites: make(map[string]string)}
}

// Stop puts site on the list with a reason.
func (l *MemoryStopList) Stop(site, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sites[site] = reason
}

// Resume takes site off the list.
func (l *MemoryStopList) Resume(site string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.sites, site)
}

// Stopped implements StopList.
func (l *MemoryStopList) Stopped(ctx context.Context, site string) (string, bool, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	r, ok := l.sites[site]
	return r, ok, nil
}
