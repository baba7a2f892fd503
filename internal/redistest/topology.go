package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartCluster starts n redis-servers (at least 3) in cluster mode on
// loopback and joins them into one Redis Cluster of n masters without
// replicas, with redis-cli --cluster create. It returns the nodes; their
// addresses are seeds for a cluster client. They stop when the test ends.
func StartCluster(tb testing.TB, n int) []*Server {
	tb.Helper()
	if n < 3 {
		tb.Fatalf("redistest: StartCluster(%d): a cluster needs at least 3 masters", n)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		unavailable(tb, "redis-cli is not on PATH")
	}
	nodes := make([]*Server, n)
	addrs := make([]string, n)
	for i := range nodes {
		nodes[i] = startServer(tb, &Server{
			extra:   []string{"--cluster-enabled", "yes", "--cluster-node-timeout", "2000"},
			maxPort: 65535 - 10000, // the cluster bus port is port+10000
		})
		addrs[i] = nodes[i].Addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	var info string
	for ctx.Err() == nil { // until every node agrees that all slots are served
		ok := 0
		for _, a := range addrs {
			nc := redis.NewClient(&redis.Options{Addr: a})
			info, err = nc.ClusterInfo(ctx).Result()
			nc.Close()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				ok++
			}
		}
		if ok == len(addrs) {
			return nodes
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("redistest: the cluster did not become ok in 30 s: %v %s", err, info)
	return nil
}

// ClusterURL returns the redis+cluster:// URL of nodes, as goodbot's
// --redis flag takes it.
func ClusterURL(nodes []*Server) string {
	u := "redis+cluster://" + nodes[0].Addr
	for i, n := range nodes[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + n.Addr
	}
	return u
}

// Failover is a Redis master with one replica, watched by one Sentinel
// under the master name Name, for tests of a failover.
type Failover struct {
	Name     string
	Master   *Server // the master at the start; after a failover, the dead one
	Replica  *Server // promoted by a failover
	Sentinel *Server
}

// StartFailover starts a master (with an append-only file synced on every
// write), a replica of it, and a Sentinel that declares the master down
// after one second. It returns when the Sentinel knows the replica, so
// that killing the master fails over to it.
func StartFailover(tb testing.TB) *Failover {
	tb.Helper()
	f := &Failover{Name: "goodbot-test"}
	// Without a delay before the first sync, the replica has the data
	// within milliseconds, not after 5 s.
	f.Master = startServer(tb, &Server{persistent: true, extra: []string{"--repl-diskless-sync-delay", "0"}})
	f.Replica = startServer(tb, &Server{persistent: true, extra: []string{"--replicaof", "127.0.0.1", strconv.Itoa(f.Master.port)}})
	conf := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 1\n"+
		"sentinel down-after-milliseconds %[1]s 1000\n"+
		"sentinel failover-timeout %[1]s 5000\n"+
		"sentinel parallel-syncs %[1]s 1\n", f.Name, f.Master.port)
	f.Sentinel = startServer(tb, &Server{sentinel: conf})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sc := redis.NewSentinelClient(&redis.Options{Addr: f.Sentinel.Addr})
	defer sc.Close()
	rc := redis.NewClient(&redis.Options{Addr: f.Replica.Addr})
	defer rc.Close()
	for ctx.Err() == nil {
		info, err := rc.Info(ctx, "replication").Result()
		rs, serr := sc.Replicas(ctx, f.Name).Result()
		if err == nil && strings.Contains(info, "master_link_status:up") &&
			serr == nil && len(rs) > 0 && !strings.Contains(fmt.Sprint(rs), "disconnected") {
			return f
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("redistest: the replica did not sync, or the Sentinel did not find it, in 30 s")
	return nil
}

// URL returns the redis+sentinel:// URL of f, as goodbot's --redis flag
// takes it.
func (f *Failover) URL() string {
	return "redis+sentinel://" + f.Sentinel.Addr + "?master_name=" + f.Name
}

// MasterAddr returns the master's address as the Sentinel names it.
func (f *Failover) MasterAddr(ctx context.Context) (string, error) {
	sc := redis.NewSentinelClient(&redis.Options{Addr: f.Sentinel.Addr})
	defer sc.Close()
	a, err := sc.GetMasterAddrByName(ctx, f.Name).Result()
	if err != nil {
		return "", err
	}
	if len(a) != 2 {
		return "", fmt.Errorf("SENTINEL get-master-addr-by-name: %q", a)
	}
	return net.JoinHostPort(a[0], a[1]), nil
}

// KillMaster kills the master and waits, up to the context's end, until
// the Sentinel has promoted the replica.
func (f *Failover) KillMaster(ctx context.Context) error {
	old := f.Master.Addr
	f.Master.Kill()
	for {
		a, err := f.MasterAddr(ctx)
		if err == nil && a != old {
			if a != f.Replica.Addr {
				return fmt.Errorf("the Sentinel promoted %s, not the replica %s", a, f.Replica.Addr)
			}
			// The promoted replica must take writes.
			c := redis.NewClient(&redis.Options{Addr: a})
			err = c.Set(ctx, "redistest:failover", "1", time.Minute).Err()
			c.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no failover from %s: %w (last: %v)", old, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// StartClient starts a private Redis of the named topology, "single" (one
// redis-server) or "cluster" (StartCluster with three masters), and
// returns a client of it, closed when the test ends. Benchmarks use it to
// compare the two.
func StartClient(tb testing.TB, topology string) redis.UniversalClient {
	tb.Helper()
	var c redis.UniversalClient
	switch topology {
	case "single":
		c = redis.NewClient(&redis.Options{Addr: Start(tb).Addr})
	case "cluster":
		var addrs []string
		for _, n := range StartCluster(tb, 3) {
			addrs = append(addrs, n.Addr)
		}
		c = redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	default:
		tb.Fatalf("redistest: StartClient: topology %q: want single or cluster", topology)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
