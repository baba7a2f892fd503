package job

// TestCluster starts a three-master Redis Cluster on loopback (redis-server
// and redis-cli must be on PATH) and runs the job's scripts on it.

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/internal/redistest"
)

func startCluster(t *testing.T) []string {
	t.Helper()
	var addrs []string
	for _, n := range redistest.StartCluster(t, 3) {
		addrs = append(addrs, n.Addr)
	}
	return addrs
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
