package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// WorkerInfo identifies one worker process of a job.
type WorkerInfo struct {
	ID      string    `json:"id"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// Counts are progress counters.
type Counts struct {
	Pages   int64 `json:"pages"`   // pages fetched and kept
	Sent    int64 `json:"sent"`    // requests sent
	Refused int64 `json:"refused"` // requests the gate refused
}

// Progress is what a worker reports with each heartbeat: its totals and
// its counts per site.
type Progress struct {
	Counts
	Sites map[string]Counts `json:"sites,omitempty"`
}

// RegistryOptions configures a Registry.
type RegistryOptions struct {
	// DeadAfter is how old a worker's last heartbeat may be before it
	// counts as dead. Default 15s.
	DeadAfter time.Duration
	// Timeout bounds each Redis call. Default DefaultTimeout.
	Timeout time.Duration
	// Logger receives warnings. Default slog.Default().
	Logger *slog.Logger
}

// Registry records a job's workers: who they are, their heartbeats (by
// Redis TIME), their progress and their latest signed checkpoints, which
// workers read to witness each other's operation logs.
type Registry struct {
	conn
	deadAfter time.Duration
	beat      *redis.Script
}

// beatScript records a heartbeat of worker ARGV[1] with progress ARGV[2]
// (and info ARGV[3], if not empty) at Redis TIME. KEYS[1] is w:beat;
// ARGV[4] is the prefix.
const beatScript = luaTime + `
local P = ARGV[4]
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', P .. 'w:progress', ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', P .. 'w:info', ARGV[1], ARGV[3]) end
redis.call('HDEL', P .. 'w:left', ARGV[1])
return now
`

// NewRegistry returns job's registry.
func NewRegistry(c redis.UniversalClient, job string, opts RegistryOptions) (*Registry, error) {
	cn, err := newConn(c, job, opts.Timeout, opts.Logger)
	if err != nil {
		return nil, err
	}
	return newRegistry(cn, opts.DeadAfter), nil
}

func newRegistry(cn conn, deadAfter time.Duration) *Registry {
	if deadAfter <= 0 {
		deadAfter = 15 * time.Second
	}
	return &Registry{conn: cn, deadAfter: deadAfter, beat: redis.NewScript(beatScript)}
}

func checkWorker(id string) error {
	if id == "" {
		return errors.New("job: empty worker id")
	}
	return nil
}

// Join records w as a worker of the job, with a first heartbeat.
func (r *Registry) Join(ctx context.Context, w WorkerInfo) error {
	if err := checkWorker(w.ID); err != nil {
		return err
	}
	info, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("job %s: join %s: %w", r.job, w.ID, err)
	}
	return r.heartbeat(ctx, w.ID, Progress{}, info)
}

// Heartbeat records that worker id is alive, with its progress. Call it
// every few seconds, well within DeadAfter.
func (r *Registry) Heartbeat(ctx context.Context, id string, p Progress) error {
	if err := checkWorker(id); err != nil {
		return err
	}
	return r.heartbeat(ctx, id, p, nil)
}

func (r *Registry) heartbeat(ctx context.Context, id string, p Progress, info []byte) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("job %s: heartbeat %s: %w", r.job, id, err)
	}
	return r.do(ctx, "heartbeat", func(ctx context.Context) error {
		return r.beat.Run(ctx, r.c, []string{r.key("w", "beat")}, id, b, info, r.prefix).Err()
	})
}

// Beat calls Heartbeat every interval with progress() until ctx ends, and
// then returns ctx's error. Failed heartbeats are logged and retried at
// the next tick.
func (r *Registry) Beat(ctx context.Context, id string, every time.Duration, progress func() Progress) error {
	if every <= 0 {
		return fmt.Errorf("job: heartbeat interval %v", every)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := r.Heartbeat(ctx, id, progress()); err != nil && ctx.Err() == nil {
			r.log.LogAttrs(ctx, slog.LevelWarn, "job: heartbeat failed", slog.String("worker", id), slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Leave records that worker id stopped cleanly. It stays listed, as left.
func (r *Registry) Leave(ctx context.Context, id string) error {
	if err := checkWorker(id); err != nil {
		return err
	}
	return r.do(ctx, "leave", func(ctx context.Context) error {
		return r.c.HSet(ctx, r.key("w", "left"), id, time.Now().UnixMilli()).Err()
	})
}

// PublishCheckpoint stores the latest signed checkpoint of worker id's
// operation log, replacing the one before.
func (r *Registry) PublishCheckpoint(ctx context.Context, id string, checkpoint []byte) error {
	if err := checkWorker(id); err != nil {
		return err
	}
	if len(checkpoint) == 0 {
		return fmt.Errorf("job %s: checkpoint of %s: empty", r.job, id)
	}
	return r.do(ctx, "publish checkpoint", func(ctx context.Context) error {
		return r.c.HSet(ctx, r.key("w", "ckpt"), id, checkpoint).Err()
	})
}

// Checkpoints returns the latest checkpoint of every worker that
// published one, by worker id.
func (r *Registry) Checkpoints(ctx context.Context) (map[string][]byte, error) {
	m, err := call(ctx, &r.conn, "checkpoints", func(ctx context.Context) (map[string]string, error) {
		return r.c.HGetAll(ctx, r.key("w", "ckpt")).Result()
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(m))
	for id, c := range m {
		out[id] = []byte(c)
	}
	return out, nil
}

// WorkerStatus is one worker as the registry sees it.
type WorkerStatus struct {
	WorkerInfo
	Alive    bool      `json:"alive"` // heartbeat within DeadAfter, and not left
	Left     bool      `json:"left"`  // Leave was called
	LastBeat time.Time `json:"last_beat"`
	Progress Progress  `json:"progress"`
}

// Workers returns every worker that ever joined the job, sorted by id.
func (r *Registry) Workers(ctx context.Context) ([]WorkerStatus, error) {
	type raw struct {
		now      time.Time
		beats    []redis.Z
		info     map[string]string
		progress map[string]string
		left     map[string]string
	}
	v, err := call(ctx, &r.conn, "workers", func(ctx context.Context) (raw, error) {
		p := r.c.Pipeline()
		now := p.Time(ctx)
		beats := p.ZRangeWithScores(ctx, r.key("w", "beat"), 0, -1)
		info := p.HGetAll(ctx, r.key("w", "info"))
		prog := p.HGetAll(ctx, r.key("w", "progress"))
		left := p.HGetAll(ctx, r.key("w", "left"))
		if _, err := p.Exec(ctx); err != nil {
			return raw{}, err
		}
		return raw{now.Val(), beats.Val(), info.Val(), prog.Val(), left.Val()}, nil
	})
	if err != nil {
		return nil, err
	}
	var out []WorkerStatus
	for _, z := range v.beats {
		id, _ := z.Member.(string)
		w := WorkerStatus{WorkerInfo: WorkerInfo{ID: id}, LastBeat: time.UnixMilli(int64(z.Score)).UTC()}
		if s, ok := v.info[id]; ok {
			json.Unmarshal([]byte(s), &w.WorkerInfo) // a damaged entry keeps the id only
			w.ID = id
		}
		if s, ok := v.progress[id]; ok {
			json.Unmarshal([]byte(s), &w.Progress)
		}
		_, w.Left = v.left[id]
		w.Alive = !w.Left && v.now.Sub(w.LastBeat) <= r.deadAfter
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Live returns the ids of the workers alive now.
func (r *Registry) Live(ctx context.Context) ([]string, error) {
	ws, err := r.Workers(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, w := range ws {
		if w.Alive {
			ids = append(ids, w.ID)
		}
	}
	return ids, nil
}

// SiteStatus is the job-wide progress of one site.
type SiteStatus struct {
	Site    string `json:"site"`
	Queued  int    `json:"queued"`  // ready and delayed
	Delayed int    `json:"delayed"` // of Queued
	Leased  int    `json:"leased"`
	Pages   int    `json:"pages"`   // counted by the frontier
	Dropped bool   `json:"dropped"` // DropSite was called
	Workers Counts `json:"workers"` // sum of the workers' reports
}

// Status is everything "goodbot job status" shows about a job.
type Status struct {
	Job        string               `json:"job"`
	Workers    []WorkerStatus       `json:"workers"`
	Frontier   FrontierStats        `json:"frontier"`
	Sites      []SiteStatus         `json:"sites"`
	Stopped    map[string]StopEntry `json:"stopped"`
	Complaints []Complaint          `json:"complaints"`
}

// Status reads the job's state. It costs a few round trips, plus one
// pipelined round trip for the sites (four commands per site).
func (r *Registry) Status(ctx context.Context) (Status, error) {
	st := Status{Job: r.job}
	var err error
	if st.Workers, err = r.Workers(ctx); err != nil {
		return Status{}, err
	}
	if st.Frontier, err = frontierStats(ctx, &r.conn); err != nil {
		return Status{}, err
	}
	if st.Sites, err = r.sites(ctx, st.Workers); err != nil {
		return Status{}, err
	}
	if st.Stopped, err = readStopList(ctx, &r.conn); err != nil {
		return Status{}, err
	}
	if st.Complaints, err = listComplaints(ctx, &r.conn); err != nil {
		return Status{}, err
	}
	return st, nil
}

func (r *Registry) sites(ctx context.Context, workers []WorkerStatus) ([]SiteStatus, error) {
	return call(ctx, &r.conn, "site status", func(ctx context.Context) ([]SiteStatus, error) {
		names, err := r.c.SMembers(ctx, r.key("f", "sites")).Result()
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, n := range names {
			seen[n] = true
		}
		for _, w := range workers {
			for s := range w.Progress.Sites {
				if !seen[s] {
					seen[s] = true
					names = append(names, s)
				}
			}
		}
		sort.Strings(names)
		p := r.c.Pipeline()
		type cmds struct {
			q, d    *redis.IntCmd
			in, pg  *redis.StringCmd
			dropped *redis.BoolCmd
		}
		cs := make([]cmds, len(names))
		for i, s := range names {
			cs[i] = cmds{
				q:       p.LLen(ctx, r.key("f", "q", s)),
				d:       p.ZCard(ctx, r.key("f", "d", s)),
				in:      p.HGet(ctx, r.key("f", "inflight"), s),
				pg:      p.HGet(ctx, r.key("f", "pages"), s),
				dropped: p.SIsMember(ctx, r.key("f", "dropped"), s),
			}
		}
		if len(names) > 0 {
			if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
				return nil, err
			}
		}
		out := make([]SiteStatus, len(names))
		for i, s := range names {
			in, _ := strconv.Atoi(cs[i].in.Val())
			pg, _ := strconv.Atoi(cs[i].pg.Val())
			d := int(cs[i].d.Val())
			out[i] = SiteStatus{Site: s, Queued: int(cs[i].q.Val()) + d, Delayed: d, Leased: in, Pages: pg, Dropped: cs[i].dropped.Val()}
			for _, w := range workers {
				c := w.Progress.Sites[s]
				out[i].Workers.Pages += c.Pages
				out[i].Workers.Sent += c.Sent
				out[i].Workers.Refused += c.Refused
			}
		}
		return out, nil
	})
}
