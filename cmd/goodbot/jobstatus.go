package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/goodbot/goodbot/job"
)

// runJob implements "goodbot job status".
func runJob(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "status" {
		fmt.Fprintln(stderr, "Usage: goodbot job status --redis URL --job NAME [--json]")
		return 2
	}
	fs := flag.NewFlagSet("goodbot job status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisURL := fs.String("redis", "", "Redis URL of the job")
	name := fs.String("job", "", "job name")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseArgs(fs, args[1:], 0, "no argument besides the flags"); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "goodbot job status: %v\n", err)
		return 2
	}
	if *redisURL == "" || *name == "" {
		fmt.Fprintln(stderr, "goodbot job status: --redis and --job are required")
		return 2
	}
	rc, _, err := openRedis(ctx, *redisURL)
	if err != nil {
		fmt.Fprintf(stderr, "goodbot job status: %v\n", err)
		if errors.As(err, new(usageError)) {
			return 2
		}
		return 1
	}
	defer rc.Close()
	reg, err := job.NewRegistry(rc, *name, job.RegistryOptions{})
	if err != nil {
		fmt.Fprintf(stderr, "goodbot job status: %v\n", err)
		return 2
	}
	st, err := reg.Status(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "goodbot job status: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(st)
		return 0
	}
	printStatus(stdout, st)
	return 0
}

func printStatus(w io.Writer, st job.Status) {
	fmt.Fprintf(w, "job %s\n", st.Job)
	alive := 0
	for _, wk := range st.Workers {
		if wk.Alive {
			alive++
		}
	}
	fmt.Fprintf(w, "workers: %d alive of %d\n", alive, len(st.Workers))
	for _, wk := range st.Workers {
		state := "dead"
		if wk.Alive {
			state = "alive"
		}
		fmt.Fprintf(w, "  %-10s %-5s host %s pid %d, last heartbeat %s ago: %d pages, %d sent, %d refused\n",
			wk.ID, state, wk.Host, wk.PID, time.Since(wk.LastBeat).Round(time.Second), wk.Progress.Pages, wk.Progress.Sent, wk.Progress.Refused)
	}
	f := st.Frontier
	fmt.Fprintf(w, "frontier: %d queued (%d delayed), %d leased, %d pages, %d URLs seen\n", f.Queued, f.Delayed, f.InFlight, f.Pages, f.Seen)
	if len(st.Sites) > 0 {
		fmt.Fprintln(w, "sites:")
	}
	for _, s := range st.Sites {
		extra := ""
		if s.Dropped {
			extra = ", dropped"
		}
		fmt.Fprintf(w, "  %-30s %d queued, %d leased, %d pages%s\n", s.Site, s.Queued, s.Leased, s.Pages, extra)
	}
	for s, e := range st.Stopped {
		fmt.Fprintf(w, "stopped: %s: %s\n", s, e.Reason)
	}
	for _, c := range st.Complaints {
		fmt.Fprintf(w, "complaint %s (%s) %s: %q\n", c.ID, c.State(), c.Site, c.Reason)
	}
}
