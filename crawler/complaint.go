package crawler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/internal/site"
)

// Complaint is a site operator's request to stop crawling their site and to
// delete what was collected from it.
type Complaint struct {
	ID             string
	Site           string // site key: host, or host:port
	Reason         string
	Contact        string    // who complained
	EvidenceSHA256 string    // digest of the evidence they sent, if any
	At             time.Time // when the complaint arrived
	// Unconfirmed stops the site without deleting anything: the
	// complaint may be forged (anyone can fill in a complaint form), and
	// stopping is always safe. Apply the complaint again without it once
	// it is confirmed, to delete.
	Unconfirmed bool
}

// ApplyComplaint stops the crawl of c.Site and deletes everything this
// crawler stored from it. From the moment it is called, the gate sends
// nothing more to the site, including requests already waiting for the
// limiter; a response already on its way is not stored. The complaint and
// the deletion, with the digest of every deleted record, are recorded in the
// operation log, which itself keeps only digests.
//
// A complaint marked Unconfirmed only stops: it is recorded with action
// "stopped", and the returned Deletion is empty.
//
// It is safe to call while Run is running, and before or after it. A data
// team's own service can feed complaints in through it; in a distributed job
// each worker calls it when the job's complaint board says so.
func (cr *Crawler) ApplyComplaint(ctx context.Context, c Complaint) (audit.Deletion, error) {
	s, err := site.Parse(c.Site)
	if err != nil {
		return audit.Deletion{}, fmt.Errorf("crawler: complaint %s: %w", c.ID, err)
	}
	if c.ID == "" {
		return audit.Deletion{}, errors.New("crawler: complaint without an ID")
	}
	reason := fmt.Sprintf("complaint %s: %s", c.ID, c.Reason)
	cr.gate.blocks.blockSite(s, reason)
	// A request that passed its last check before the block may still be
	// on its way: wait for it, so that nothing reaches the site after this
	// returns.
	cr.gate.drain(s)
	action := "applied"
	if c.Unconfirmed {
		action = "stopped"
	}
	cr.gate.record(ctx, s, audit.Event{Type: audit.TypeComplaint, Complaint: &audit.Complaint{
		ID: c.ID, Action: action, Reason: c.Reason, Contact: c.Contact, EvidenceSHA256: c.EvidenceSHA256,
	}})
	var errs []error
	if c.Unconfirmed {
		if _, err := cr.front.DropSite(ctx, s); err != nil {
			return audit.Deletion{}, fmt.Errorf("crawler: complaint %s for %s: dropping queued URLs: %w", c.ID, s, err)
		}
		cr.cfg.Logger.Warn("unconfirmed complaint: site stopped, nothing deleted until it is confirmed", "site", s, "complaint", c.ID)
		return audit.Deletion{ComplaintID: c.ID}, nil
	}
	if _, err := cr.front.DropSite(ctx, s); err != nil {
		errs = append(errs, fmt.Errorf("dropping queued URLs: %w", err))
	}
	d := audit.Deletion{ComplaintID: c.ID}
	if cr.store != nil {
		del, err := cr.store.DeleteSite(ctx, s)
		if err != nil {
			errs = append(errs, fmt.Errorf("deleting stored pages: %w", err))
		}
		d.Records, d.Bytes, d.Digests = del.Records, del.Bytes, del.Digests
	}
	if cr.cache != nil {
		if err := cr.cache.deleteSite(s); err != nil {
			errs = append(errs, fmt.Errorf("deleting the development cache: %w", err))
		}
	}
	cr.gate.record(ctx, s, audit.Event{Type: audit.TypeDeletion, Deletion: &d})
	cr.cfg.Logger.Warn("complaint applied: site stopped and its data deleted", "site", s, "complaint", c.ID,
		"records", d.Records, "bytes", d.Bytes)
	if len(errs) > 0 {
		return d, fmt.Errorf("crawler: complaint %s for %s: %w", c.ID, s, errors.Join(errs...))
	}
	return d, nil
}
