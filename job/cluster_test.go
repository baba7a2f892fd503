//go:build cluster

package job

// Run with: go test -tags cluster -run Cluster ./job/
// It starts a three-master Redis Cluster on loopback (redis-server and
// redis-cli must be on PATH) and runs the job's scripts on it.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/frontier"
)

func startCluster(t *testing.T) []string {
	t.Helper()
	var addrs []string
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port > 55535 { // the cluster bus port is port+10000
			t.Skip("free port too high for a cluster bus port")
		}
		dir := t.TempDir()
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
			"--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf", "--save", "", "--appendonly", "no", "--loglevel", "warning")
		if err := cmd.Start(); err != nil {
			t.Skipf("redis-server: %v", err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		addrs = append(addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	time.Sleep(500 * time.Millisecond)
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	for range 100 {
		if s, err := c.ClusterInfo(context.Background()).Result(); err == nil && strings.Contains(s, "cluster_state:ok") {
			return addrs
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("cluster did not become ok")
	return nil
}

func TestCluster(t *testing.T) {
	addrs := startCluster(t)
	ctx := ctxT(t)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { c.Close() })
	for j := range 3 { // jobs land in different slots
		job := fmt.Sprintf("cluster-%d", j)
		f, err := NewFrontier(c, job, FrontierOptions{PerSite: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for i := range 6 {
			if ok, err := f.Add(ctx, item(fmt.Sprintf("s%d.test", i%3), i)); err != nil || !ok {
				t.Fatalf("Add: %v %v", ok, err)
			}
		}
		if _, err := f.AddAll(ctx, []frontier.Item{item("s0.test", 0), item("s9.test", 9)}); err != nil {
			t.Fatal(err)
		}
		n := 0
		for range 20 {
			l, err := f.Next(ctx)
			if errors.Is(err, frontier.ErrDone) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				if err := f.Retry(ctx, l, time.Now().Add(50*time.Millisecond)); err != nil {
					t.Fatal(err)
				}
			} else if err := f.Complete(ctx, l, true); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if st, err := f.Stats(ctx); err != nil || st.Pages != 7 {
			t.Errorf("%s: Stats = %+v, %v", job, st, err)
		}
		if _, err := f.DropSite(ctx, "s1.test"); err != nil {
			t.Fatal(err)
		}

		stops, err := NewStopList(c, job, StopListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer stops.Close()
		b, err := NewComplaints(c, job, ComplaintsOptions{})
		if err != nil {
			t.Fatal(err)
		}
		reg := newRegistry(b.conn, 0)
		if err := reg.Join(ctx, WorkerInfo{ID: "w", Started: time.Now()}); err != nil {
			t.Fatal(err)
		}
		sub, err := b.Subscribe(ctx, "w")
		if err != nil {
			t.Fatal(err)
		}
		id, err := b.Add(ctx, Complaint{Site: "s2.test", Reason: "cluster"})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-sub:
			if got.ID != id {
				t.Errorf("received %+v", got)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no complaint received")
		}
		if err := b.Ack(ctx, id, "w", audit.Deletion{}); err != nil {
			t.Fatal(err)
		}
		if err := b.Resolve(ctx, id); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second + 10*time.Millisecond)
		if _, stopped, err := stops.Stopped(ctx, "s2.test"); err != nil || !stopped {
			t.Errorf("Stopped = %v, %v", stopped, err)
		}
		st, err := reg.Status(ctx)
		if err != nil || len(st.Workers) != 1 || len(st.Complaints) != 1 || len(st.Sites) != 4 {
			t.Errorf("Status = %+v, %v", st, err)
		}
		rs, _ := NewRobotsStore(c, job, 0)
		if won, err := rs.Claim(ctx, "http://s0.test", time.Second); err != nil || !won {
			t.Fatal(won, err)
		}
		if n, err := Purge(ctx, c, job); err != nil || n == 0 {
			t.Errorf("Purge = %d, %v", n, err)
		}
	}
}
