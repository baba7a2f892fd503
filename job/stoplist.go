package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/goodbot/goodbot/internal/site"
)

// StopEntry is why a site is on a job's stop list.
type StopEntry struct {
	Reason string `json:"reason"`
	// Complaint is the id of the complaint that stopped the site, if any.
	Complaint string    `json:"complaint,omitempty"`
	At        time.Time `json:"at"`
}

// String returns the reason as the gate logs it.
func (e StopEntry) String() string {
	if e.Complaint != "" {
		return "complaint " + e.Complaint + ": " + e.Reason
	}
	return e.Reason
}

// StopListOptions configures a StopList.
type StopListOptions struct {
	// Refresh is how often the local copy is re-read in full, besides the
	// re-reads that pub/sub messages trigger. Default 250ms; at most 500ms.
	Refresh time.Duration
	// MaxAge is the oldest a local copy may be to answer "not stopped".
	// Default, and maximum, 1s.
	MaxAge time.Duration
	// Timeout bounds each Redis call. Default 500ms.
	Timeout time.Duration
	// Logger receives warnings. Default slog.Default().
	Logger *slog.Logger
}

// StopList is a job's stop list, a crawler.StopList shared through Redis.
// (This package does not import package crawler; its tests check that
// StopList implements the interface.)
//
// Stopped answers from a local copy, which is re-read when a pub/sub
// message announces a change and every Refresh in any case. A copy older
// than MaxAge (counted from when its read was sent) never answers "not
// stopped": Stopped then reads Redis itself, and if that fails it returns
// an error wrapping ErrUnavailable, so the gate sends nothing (fail
// closed). A site in the copy is reported stopped however old the copy.
type StopList struct {
	conn
	opts StopListOptions
	hash string
	ch   string
	set  *redis.Script

	flight singleflight.Group

	mu     sync.RWMutex
	sites  map[string]StopEntry
	readAt time.Time // when the read behind sites was sent
	wrote  time.Time // when this process last changed the list: older reads are dropped

	kick     chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	ps       *redis.PubSub
}

// setStopScript sets (ARGV[1] = JSON) or deletes (ARGV[1] = "") the entry
// of site ARGV[2] in hash KEYS[1], and announces it on channel ARGV[3].
const setStopScript = `
if ARGV[1] == '' then
  redis.call('HDEL', KEYS[1], ARGV[2])
else
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
end
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 1
`

// NewStopList returns job's stop list and starts keeping its local copy
// fresh; Close stops that. It does not wait for Redis: until the first
// read succeeds, Stopped reads Redis itself.
func NewStopList(c redis.UniversalClient, job string, opts StopListOptions) (*StopList, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 500 * time.Millisecond
	}
	cn, err := newConn(c, job, opts.Timeout, opts.Logger)
	if err != nil {
		return nil, err
	}
	if opts.Refresh <= 0 || opts.Refresh > 500*time.Millisecond {
		opts.Refresh = 250 * time.Millisecond
	}
	if opts.MaxAge <= 0 || opts.MaxAge > time.Second {
		opts.MaxAge = time.Second
	}
	l := &StopList{
		conn:  cn,
		opts:  opts,
		hash:  cn.key("stop"),
		ch:    cn.key("stop", "ch"),
		set:   redis.NewScript(setStopScript),
		sites: map[string]StopEntry{},
		kick:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
	}
	l.ps = c.Subscribe(context.Background(), l.ch)
	l.wg.Add(2)
	go l.listen()
	go l.refreshLoop()
	return l, nil
}

// Close stops refreshing the local copy. Stopped then fails once the copy
// is older than MaxAge and Redis cannot be read.
func (l *StopList) Close() error {
	l.stopOnce.Do(func() { close(l.stop) })
	err := l.ps.Close()
	l.wg.Wait()
	return err
}

func (l *StopList) listen() {
	defer l.wg.Done()
	ch := l.ps.Channel()
	for {
		select {
		case <-l.stop:
			return
		case _, ok := <-ch:
			if !ok {
				return
			}
			select {
			case l.kick <- struct{}{}:
			default:
			}
		}
	}
}

func (l *StopList) refreshLoop() {
	defer l.wg.Done()
	t := time.NewTicker(l.opts.Refresh)
	defer t.Stop()
	for {
		// Errors are logged by call; the copy ages and fails closed.
		_ = l.refresh(context.Background())
		select {
		case <-l.stop:
			return
		case <-t.C:
		case <-l.kick:
		}
	}
}

// refresh re-reads the whole list. Concurrent calls share one read.
func (l *StopList) refresh(ctx context.Context) error {
	ch := l.flight.DoChan("", func() (any, error) {
		sent := time.Now()
		m, err := call(context.WithoutCancel(ctx), &l.conn, "stop list read", func(ctx context.Context) (map[string]string, error) {
			return l.c.HGetAll(ctx, l.hash).Result()
		})
		if err != nil {
			return nil, err
		}
		sites := make(map[string]StopEntry, len(m))
		for site, raw := range m {
			sites[site] = decodeStop(raw)
		}
		l.mu.Lock()
		if sent.After(l.readAt) && sent.After(l.wrote) {
			l.sites, l.readAt = sites, sent
		}
		l.mu.Unlock()
		return nil, nil
	})
	select {
	case <-ctx.Done():
		return ctx.Err()
	case r := <-ch:
		return r.Err
	}
}

// decodeStop reads an entry; a value that is not JSON is taken as the
// reason itself, so that an operator's HSET by hand still stops the site.
func decodeStop(raw string) StopEntry {
	var e StopEntry
	if err := json.Unmarshal([]byte(raw), &e); err != nil || e.Reason == "" {
		return StopEntry{Reason: raw}
	}
	return e
}

// Stopped implements crawler.StopList.
func (l *StopList) Stopped(ctx context.Context, site string) (string, bool, error) {
	for attempt := 0; ; attempt++ {
		l.mu.RLock()
		e, ok := l.sites[site]
		fresh := time.Since(l.readAt) <= l.opts.MaxAge
		l.mu.RUnlock()
		if ok {
			return e.String(), true, nil
		}
		if fresh {
			return "", false, nil
		}
		// A read already in flight may predate this process's last
		// change, and is then dropped: allow a second one.
		if attempt == 2 {
			return "", false, fmt.Errorf("job %s: stop list for %s: copy older than %v: %w", l.job, site, l.opts.MaxAge, ErrUnavailable)
		}
		if err := l.refresh(ctx); err != nil {
			if errors.Is(err, ErrUnavailable) {
				return "", false, fmt.Errorf("job %s: stop list for %s: %w", l.job, site, err)
			}
			return "", false, err
		}
	}
}

// Stop puts site (a site key, see package internal/site) on the job's
// stop list, and tells every worker.
func (l *StopList) Stop(ctx context.Context, site, reason string) error {
	return l.put(ctx, site, StopEntry{Reason: reason, At: time.Now().UTC()})
}

func (l *StopList) put(ctx context.Context, s string, e StopEntry) error {
	site, err := site.Parse(s)
	if err != nil {
		return fmt.Errorf("job %s: stop: %w", l.job, err)
	}
	if e.Reason == "" {
		return fmt.Errorf("job %s: stop %s: a reason is required", l.job, site)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("job %s: stop %s: %w", l.job, site, err)
	}
	if err := l.do(ctx, "stop", func(ctx context.Context) error {
		return l.set.Run(ctx, l.c, []string{l.hash}, b, site, l.ch).Err()
	}); err != nil {
		return err
	}
	l.mu.Lock()
	l.sites[site] = e
	l.wrote = time.Now()
	l.mu.Unlock()
	return nil
}

// Resume takes site off the job's stop list.
func (l *StopList) Resume(ctx context.Context, s string) error {
	site, err := site.Parse(s)
	if err != nil {
		return fmt.Errorf("job %s: resume: %w", l.job, err)
	}
	if err := l.do(ctx, "resume", func(ctx context.Context) error {
		return l.set.Run(ctx, l.c, []string{l.hash}, "", site, l.ch).Err()
	}); err != nil {
		return err
	}
	l.mu.Lock()
	delete(l.sites, site)
	l.wrote = time.Now()
	l.mu.Unlock()
	return nil
}

// List reads the job's stop list from Redis.
func (l *StopList) List(ctx context.Context) (map[string]StopEntry, error) {
	return readStopList(ctx, &l.conn)
}

func readStopList(ctx context.Context, c *conn) (map[string]StopEntry, error) {
	m, err := call(ctx, c, "stop list read", func(ctx context.Context) (map[string]string, error) {
		return c.c.HGetAll(ctx, c.key("stop")).Result()
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]StopEntry, len(m))
	for site, raw := range m {
		out[site] = decodeStop(raw)
	}
	return out, nil
}
