// Package redisconn opens the Redis that a distributed job runs on, from one
// URL: a single server, a Redis Cluster or a master watched by Sentinel.
//
// The URL forms are go-redis's, so that a team can paste what its other
// go-redis programs use:
//
//	redis://[user:password@]host:port[/db][?option=value...]   one server
//	rediss://...                                                 one server, TLS
//	unix://[user:password@]/path/to/socket[?db=N]                one server, socket
//	redis://host1:port?addr=host2:port&addr=host3:port           a cluster: seed nodes
//	redis://sentinel1:26379?master_name=NAME&addr=sentinel2:26379 Sentinel: the master NAME
//
// Two schemes make the topology explicit, which a cluster or a Sentinel
// with a single seed address needs: redis+cluster:// (rediss+cluster://)
// and redis+sentinel:// (rediss+sentinel://, where master_name is
// required). The options after '?' are go-redis's (dial_timeout,
// read_timeout, pool_size, ...); an unknown option is an error.
package redisconn

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Topology says which kind of Redis a URL names.
type Topology int

// The topologies.
const (
	Single   Topology = iota // one server (it may have replicas the job does not use)
	Cluster                  // a Redis Cluster, reached through its seed nodes
	Sentinel                 // a master found through Sentinel, followed across failovers
)

func (t Topology) String() string {
	switch t {
	case Cluster:
		return "cluster"
	case Sentinel:
		return "sentinel"
	default:
		return "single"
	}
}

// ErrBadURL is wrapped by the errors of Parse and Open that are about the
// URL itself, not about the server it names.
var ErrBadURL = errors.New("bad Redis URL")

// Parse reads a Redis URL and returns a client for it, not yet connected,
// and its topology. Errors name what is wrong in the URL, which they show
// with its password hidden.
func Parse(raw string) (redis.UniversalClient, Topology, error) {
	c, t, err := parse(raw)
	if err != nil {
		return nil, t, fmt.Errorf("%w %q: %w", ErrBadURL, Redact(raw), err)
	}
	return c, t, nil
}

func parse(raw string) (redis.UniversalClient, Topology, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, Single, errors.New("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // its message would repeat the URL, password included
			err = ue.Err
		}
		return nil, Single, fmt.Errorf("not a URL: %w", err)
	}
	q := u.Query()
	topo := Single
	switch u.Scheme {
	case "redis+cluster", "rediss+cluster":
		topo = Cluster
		u.Scheme = strings.TrimSuffix(u.Scheme, "+cluster")
	case "redis+sentinel", "rediss+sentinel":
		topo = Sentinel
		u.Scheme = strings.TrimSuffix(u.Scheme, "+sentinel")
		if q.Get("master_name") == "" {
			return nil, topo, errors.New("a redis+sentinel URL needs ?master_name=NAME, the name Sentinel knows the master by")
		}
	case "redis", "rediss":
		switch {
		case q.Has("master_name"):
			topo = Sentinel
		case q.Has("addr"):
			topo = Cluster
		}
	case "unix":
		if q.Has("master_name") || q.Has("addr") {
			return nil, topo, errors.New("a unix:// URL names one server; use redis:// for a cluster or Sentinel")
		}
	case "":
		return nil, topo, errors.New("no scheme: write redis://host:port")
	default:
		return nil, topo, fmt.Errorf("scheme %q: want redis, rediss, unix, redis+cluster or redis+sentinel", u.Scheme)
	}
	if u.Scheme != "unix" && u.Host == "" {
		return nil, topo, errors.New("no host: write redis://host:port")
	}
	if topo == Sentinel && q.Get("master_name") == "" {
		return nil, topo, errors.New("master_name is empty")
	}
	s := u.String()
	switch topo {
	case Cluster:
		opt, err := redis.ParseClusterURL(s)
		if err != nil {
			return nil, topo, fmt.Errorf("as a cluster: %w", err)
		}
		return redis.NewClusterClient(opt), topo, nil
	case Sentinel:
		opt, err := redis.ParseFailoverURL(s)
		if err != nil {
			return nil, topo, fmt.Errorf("as Sentinel: %w", err)
		}
		return redis.NewFailoverClient(opt), topo, nil
	default:
		opt, err := redis.ParseURL(s)
		if err != nil {
			return nil, topo, err
		}
		return redis.NewClient(opt), topo, nil
	}
}

// Open parses raw, connects, and checks within timeout (5 s when zero)
// that the server answers: for a cluster, that the cluster is up; for
// Sentinel, that it names a master that answers. The caller closes the
// client.
func Open(ctx context.Context, raw string, timeout time.Duration) (redis.UniversalClient, Topology, error) {
	c, topo, err := Parse(raw)
	if err != nil {
		return nil, topo, err
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := check(pctx, c, topo); err != nil {
		c.Close()
		return nil, topo, fmt.Errorf("Redis %s (%s) did not answer: %w", Redact(raw), topo, err)
	}
	return c, topo, nil
}

func check(ctx context.Context, c redis.UniversalClient, topo Topology) error {
	if err := c.Ping(ctx).Err(); err != nil {
		return err
	}
	if topo != Cluster {
		return nil
	}
	info, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		return fmt.Errorf("CLUSTER INFO: %w", err)
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return errors.New("the cluster's state is not ok (CLUSTER INFO says " + firstLine(info) + ")")
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// Redact returns raw with the password in its user information, and any
// password or sentinel_password option, replaced by "xxxxx", for messages
// and logs. A string that is not a URL comes back unchanged when it holds
// no '@', and as "(unparsable URL)" otherwise.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			return "(unparsable URL)"
		}
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	changed := false
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
