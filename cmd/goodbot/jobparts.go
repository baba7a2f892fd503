package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/crawler"
	"github.com/goodbot/goodbot/job"
)

// jobParts are what one worker of a distributed job shares with the others
// through Redis.
type jobParts struct {
	worker     string
	frontier   *job.Frontier
	stop       *job.StopList
	robots     *job.RobotsStore
	registry   *job.Registry
	complaints *job.Complaints
	logger     *slog.Logger
}

func openJob(rc redis.UniversalClient, o *crawlOptions, worker string, logger *slog.Logger) (*jobParts, error) {
	p := &jobParts{worker: worker, logger: logger}
	var err error
	if p.frontier, err = job.NewFrontier(rc, o.job, job.FrontierOptions{PerSite: o.parallel, MaxPages: o.maxPages, LeaseTTL: o.leaseTTL, Logger: logger}); err != nil {
		return nil, err
	}
	if p.stop, err = job.NewStopList(rc, o.job, job.StopListOptions{Logger: logger}); err != nil {
		p.close()
		return nil, err
	}
	if p.robots, err = job.NewRobotsStore(rc, o.job, 0); err != nil {
		p.close()
		return nil, err
	}
	if p.registry, err = job.NewRegistry(rc, o.job, job.RegistryOptions{Logger: logger}); err != nil {
		p.close()
		return nil, err
	}
	if p.complaints, err = job.NewComplaints(rc, o.job, job.ComplaintsOptions{Logger: logger}); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *jobParts) close() {
	if p.frontier != nil {
		p.frontier.Close()
	}
	if p.stop != nil {
		p.stop.Close()
	}
}

// serve registers the worker, beats its heartbeat with its progress, and
// applies the job's complaints, until ctx ends; then it leaves the job.
func (p *jobParts) serve(ctx context.Context, cr *crawler.Crawler) {
	host, _ := os.Hostname()
	info := job.WorkerInfo{ID: p.worker, Host: host, PID: os.Getpid(), Started: time.Now().UTC()}
	if err := p.registry.Join(ctx, info); err != nil {
		p.logger.Warn("could not join the job's registry", "err", err)
	}
	defer func() {
		if err := p.registry.Leave(context.WithoutCancel(ctx), p.worker); err != nil {
			p.logger.Warn("could not leave the job's registry", "err", err)
		}
	}()
	go p.registry.Beat(ctx, p.worker, 3*time.Second, func() job.Progress {
		s := cr.Summary()
		return job.Progress{Counts: job.Counts{Pages: int64(s.Pages), Sent: int64(s.Sent), Refused: int64(s.Refused)}}
	})
	for {
		ch, err := p.complaints.Subscribe(ctx, p.worker)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.logger.Warn("complaint board unavailable; retrying (the stop list still applies)", "err", err)
			sleepCtx(ctx, 2*time.Second)
			continue
		}
		for c := range ch {
			applyComplaint(ctx, p.complaints, p.worker, cr, c, p.logger)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// progressLine summarises the whole job for the progress output.
func (p *jobParts) progressLine(ctx context.Context) string {
	c, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	ws, err := p.registry.Workers(c)
	if err != nil {
		return fmt.Sprintf("  job: registry unavailable: %v\n", err)
	}
	alive := 0
	var pages, sent int64
	for _, w := range ws {
		if w.Alive {
			alive++
		}
		pages += w.Progress.Pages
		sent += w.Progress.Sent
	}
	return fmt.Sprintf("  job: %d workers alive of %d; %d pages and %d requests job-wide\n", alive, len(ws), pages, sent)
}

// applyComplaint applies c in cr and confirms it on the board: an
// unconfirmed complaint only stops the site (a stop-only ack), a confirmed
// one deletes too.
func applyComplaint(ctx context.Context, board job.Board, worker string, cr *crawler.Crawler, c job.Complaint, logger *slog.Logger) {
	d, err := cr.ApplyComplaint(context.WithoutCancel(ctx), crawler.Complaint{
		ID: c.ID, Site: c.Site, Reason: c.Reason, Contact: c.Contact, EvidenceSHA256: c.EvidenceSHA256, At: c.At,
		Unconfirmed: c.Unconfirmed,
	})
	if err != nil {
		logger.Error("complaint applied with errors; not confirmed", "complaint", c.ID, "site", c.Site, "err", err)
		return
	}
	if err := board.AckStop(context.WithoutCancel(ctx), c.ID, worker, d, c.Unconfirmed); err != nil {
		logger.Error("could not confirm a complaint on the board", "complaint", c.ID, "err", err)
	}
}

// watchFileComplaints applies, every half second, the complaints of a
// single machine's board that this worker has not confirmed in their
// present state (an unconfirmed complaint it stopped is applied again,
// to delete, once confirmed).
func watchFileComplaints(ctx context.Context, board job.Board, worker string, cr *crawler.Crawler, logger *slog.Logger) {
	for {
		cs, err := board.List(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			logger.Warn("complaint board unreadable", "err", err)
		}
		for _, c := range cs {
			acks, err := board.Acks(ctx, c.ID)
			if err != nil {
				continue
			}
			done := false
			for _, a := range acks {
				done = done || (a.Worker == worker && a.Covers(c))
			}
			if !done {
				applyComplaint(ctx, board, worker, cr, c, logger)
			}
		}
		if !sleepCtx(ctx, 500*time.Millisecond) {
			return
		}
	}
}

// sleepCtx sleeps for d; it reports false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
