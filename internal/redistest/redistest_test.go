package redistest

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestAddrAndNamespace(t *testing.T) {
	c := Client(t, Addr(t))
	ctx := context.Background()
	a, b := Namespace(t), Namespace(t)
	if a == b || !strings.HasPrefix(a, "TestAddrAndNamespace-") {
		t.Errorf("Namespace = %q, %q; want distinct, prefixed by the test name", a, b)
	}
	if err := c.Set(ctx, a+":k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, a+":k").Result(); err != nil || v != "v" {
		t.Errorf("GET = %q, %v", v, err)
	}
	if n, err := c.Exists(ctx, b+":k").Result(); err != nil || n != 0 {
		t.Errorf("other namespace sees the key: %d, %v", n, err)
	}
}

func TestPauseKillRestart(t *testing.T) {
	s := Start(t)
	c := Client(t, s.Addr)
	ctx := context.Background()

	s.Pause()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err := c.Ping(short).Err()
	cancel()
	if err == nil {
		t.Fatal("a paused server answered PING")
	}
	s.Resume()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("after Resume: %v", err)
	}

	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	short, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
	err = c.Ping(short).Err()
	cancel()
	if err == nil {
		t.Fatal("a killed server answered PING")
	}
	s.Restart()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
	if n, err := c.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Errorf("restarted server kept data: %d, %v", n, err)
	}
}

func TestPersistentRestartKeepsData(t *testing.T) {
	s := StartPersistent(t)
	c := Client(t, s.Addr)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	s.Restart()
	c2 := Client(t, s.Addr)
	if v, err := c2.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("after kill and restart: %q, %v; want the acknowledged write", v, err)
	}
}

func TestStartCluster(t *testing.T) {
	nodes := StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0].Addr, nodes[1].Addr, nodes[2].Addr}})
	defer c.Close()
	for i := range 30 { // keys land on all three masters
		if err := c.Set(ctx, "k"+strconv.Itoa(i), i, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var n atomic.Int32 // ForEachMaster runs the function concurrently
	err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		k, err := m.DBSize(ctx).Result()
		if k > 0 {
			n.Add(1)
		}
		return err
	})
	if err != nil || n.Load() != 3 {
		t.Fatalf("keys on %d masters, err %v", n.Load(), err)
	}
}

func TestStartFailover(t *testing.T) {
	f := StartFailover(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: f.Name, SentinelAddrs: []string{f.Sentinel.Addr}})
	defer c.Close()
	if err := c.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "WAIT", 1, 5000).Err(); err != nil {
		t.Fatal(err)
	}
	if err := f.KillMaster(ctx); err != nil {
		t.Fatal(err)
	}
	var v string
	var err error
	for range 100 { // the client finds the new master
		if v, err = c.Get(ctx, "before").Result(); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || v != "1" {
		t.Fatalf("after failover: %q, %v", v, err)
	}
}
