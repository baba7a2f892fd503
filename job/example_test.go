package job_test

import (
	"context"
	"errors"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/job"
)

// A worker of a distributed job: join, take work, apply complaints, leave.
// (Compiled, not run: it needs a redis-server.)
func Example_worker() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	const name, me = "nightly", "host-a:1234"

	reg, _ := job.NewRegistry(rdb, name, job.RegistryOptions{})
	host, _ := os.Hostname()
	reg.Join(ctx, job.WorkerInfo{ID: me, Host: host, PID: os.Getpid(), Started: time.Now()})
	defer reg.Leave(ctx, me)
	go reg.Beat(ctx, me, 3*time.Second, func() job.Progress { return job.Progress{} })

	stops, _ := job.NewStopList(rdb, name, job.StopListOptions{}) // the gate's crawler.StopList
	defer stops.Close()

	board, _ := job.NewComplaints(rdb, name, job.ComplaintsOptions{})
	complaints, _ := board.Subscribe(ctx, me)
	go func() {
		for c := range complaints {
			// Delete what this worker stored from c.Site, record the
			// deletion in the operation log, then confirm.
			board.Ack(ctx, c.ID, me, audit.Deletion{Records: 0})
		}
	}()

	f, _ := job.NewFrontier(rdb, name, job.FrontierOptions{PerSite: 2, MaxPages: 10000})
	defer f.Close()
	for {
		l, err := f.Next(ctx)
		switch {
		case errors.Is(err, frontier.ErrDone):
			return
		case errors.Is(err, job.ErrUnavailable):
			time.Sleep(time.Second) // Redis is away: send nothing, try again
			continue
		case err != nil:
			log.Fatal(err)
		}
		// ... check the gate (stop list, robots, limiter), fetch l.Item.URL ...
		f.Complete(ctx, l, true)
	}
}
