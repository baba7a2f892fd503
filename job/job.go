package job

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/crawler/frontier"
)

// ErrUnavailable reports that the job's state in Redis cannot be reached,
// or did not answer in time. Nothing was handed out; the caller may pause
// and try again.
var ErrUnavailable = fmt.Errorf("job: redis unavailable: %w", frontier.ErrUnavailable)

// DefaultTimeout bounds each Redis call when Options.Timeout is zero.
const DefaultTimeout = 2 * time.Second

var jobName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)

// checkName validates a job name: 1 to 100 letters, digits, '_', '.', '-'
// (the limiter's rule, so that one name serves both).
func checkName(job string) error {
	if !jobName.MatchString(job) {
		return fmt.Errorf("job: name %q: want 1 to 100 letters, digits, '_', '.' or '-'", job)
	}
	return nil
}

// Prefix returns the prefix of every Redis key of job.
func Prefix(job string) string { return "goodbot:{" + job + "}:" }

// conn is what every type of the package shares: a client, a key prefix
// and a bound on each call.
type conn struct {
	c       redis.UniversalClient
	job     string
	prefix  string
	timeout time.Duration
	log     *slog.Logger
}

func newConn(c redis.UniversalClient, job string, timeout time.Duration, log *slog.Logger) (conn, error) {
	if c == nil {
		return conn{}, errors.New("job: nil redis client")
	}
	if err := checkName(job); err != nil {
		return conn{}, err
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if log == nil {
		log = slog.Default()
	}
	return conn{c: c, job: job, prefix: Prefix(job), timeout: timeout, log: log}, nil
}

func (c *conn) key(parts ...string) string {
	k := c.prefix
	for i, p := range parts {
		if i > 0 {
			k += ":"
		}
		k += p
	}
	return k
}

// call runs f with a context bounded by the call timeout. go-redis honours
// a context's deadline only when the client enables it, so call also stops
// waiting on its own (f's result is then dropped). Errors that mean Redis
// cannot serve now (see transient) wrap ErrUnavailable; redis.Nil and the
// caller's own context ending are returned as they are.
func call[T any](ctx context.Context, c *conn, op string, f func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f(cctx)
		done <- result{v, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-cctx.Done():
		r.err = cctx.Err()
	}
	switch {
	case r.err == nil || errors.Is(r.err, redis.Nil):
		return r.v, r.err
	case ctx.Err() != nil:
		return zero, fmt.Errorf("job %s: %s: %w", c.job, op, ctx.Err())
	case !transient(r.err):
		return zero, fmt.Errorf("job %s: %s: redis refused: %w", c.job, op, r.err)
	default:
		c.log.LogAttrs(ctx, slog.LevelWarn, "job: redis unavailable", slog.String("job", c.job), slog.String("op", op), slog.String("error", r.err.Error()))
		return zero, fmt.Errorf("job %s: %s: %w: %w", c.job, op, ErrUnavailable, r.err)
	}
}

// transient reports whether err means Redis is out of reach or not
// serving for now (network errors, timeouts, a loading or failing-over
// server), as opposed to refusing the command itself (a bug).
func transient(err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return true
	}
	for _, p := range []string{"LOADING", "BUSY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "MOVED", "ASK", "NOREPLICAS", "MISCONF"} {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}

// do is call for functions that return only an error.
func (c *conn) do(ctx context.Context, op string, f func(ctx context.Context) error) error {
	_, err := call(ctx, c, op, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}

// luaTime is the Lua prelude that sets now to Redis TIME in milliseconds.
const luaTime = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// serverTime returns the Redis server's clock.
func (c *conn) serverTime(ctx context.Context) (time.Time, error) {
	return call(ctx, c, "time", func(ctx context.Context) (time.Time, error) { return c.c.Time(ctx).Result() })
}
