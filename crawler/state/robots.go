package state

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/goodbot/goodbot/crawler/robots"
)

// Robots returns the state's robots.txt store: each origin's last fetch,
// kept until it expires, so that a restarted crawl does not fetch (and
// charge to the site's budget) a robots.txt it still holds. A fetch whose
// URL or file is not clean (clean reports false: the personal-data filter
// would change it, say for an e-mail address in a comment) is kept in
// memory only, so that nothing unchecked is written; clean nil takes every
// text as clean.
func (s *Store) Robots(clean func(string) bool) robots.Shared {
	if clean == nil {
		clean = func(string) bool { return true }
	}
	return &robotsStore{s: s, clean: clean, mem: map[string]robots.Stored{}}
}

type robotsStore struct {
	s     *Store
	clean func(string) bool
	mu    sync.Mutex
	mem   map[string]robots.Stored // fetches not written to disk
}

func robotsKey(origin string) []byte { return append([]byte{pRobots}, origin...) }

// Load implements robots.Shared.
func (r *robotsStore) Load(ctx context.Context, origin string) (robots.Stored, bool, error) {
	r.mu.Lock()
	st, ok := r.mem[origin]
	r.mu.Unlock()
	if !ok {
		var err error
		ok, err = r.s.getJSON(robotsKey(origin), &st)
		if err != nil || !ok {
			return robots.Stored{}, false, err
		}
	}
	if !st.Expires.After(r.s.opts.Now()) {
		return robots.Stored{}, false, nil
	}
	return st, true, nil
}

// Claim implements robots.Shared. One process holds the state, so the
// caller always wins.
func (r *robotsStore) Claim(ctx context.Context, origin string, ttl time.Duration) (bool, error) {
	return true, nil
}

// Save implements robots.Shared.
func (r *robotsStore) Save(ctx context.Context, origin string, st robots.Stored) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.clean(origin) || !r.clean(st.URL) || !r.clean(string(st.Body)) || !r.clean(st.Cause) {
		r.mem[origin] = st
		// An older clean copy on disk must not come back after a restart.
		if err := r.s.db.Delete(robotsKey(origin), pebble.NoSync); err != nil {
			return fmt.Errorf("state: %w", err)
		}
		return nil
	}
	delete(r.mem, origin)
	return r.s.setJSON(robotsKey(origin), st, pebble.NoSync)
}
