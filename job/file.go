package job

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/goodbot/goodbot/audit"
)

// Board is a complaint board: Complaints keeps one in Redis for a
// distributed job, FileComplaints one in a file for a single machine.
type Board interface {
	// Add records c with a new id and stops its site. It returns the id.
	Add(ctx context.Context, c Complaint) (string, error)
	// List returns every complaint, oldest first.
	List(ctx context.Context) ([]Complaint, error)
	// Resolve marks complaint id resolved; its site stays stopped.
	Resolve(ctx context.Context, id string) error
	// Ack records that worker applied complaint id, deleting what d says.
	Ack(ctx context.Context, id, worker string, d audit.Deletion) error
	// Acks returns the acks of complaint id, by worker id.
	Acks(ctx context.Context, id string) ([]Ack, error)
	// Confirm confirms unconfirmed complaint id (by is ConfirmedByProof
	// or ConfirmedByOperator), so that workers delete the site's data.
	// It returns ErrConfirmed if id is confirmed already.
	Confirm(ctx context.Context, id, by string) error
	// AckStop is Ack, with stopOnly saying that the worker stopped the
	// site but deleted nothing (Ack.StopOnly).
	AckStop(ctx context.Context, id, worker string, d audit.Deletion, stopOnly bool) error
}

var (
	_ Board = (*Complaints)(nil)
	_ Board = (*FileComplaints)(nil)
)

// ComplaintsFile is the name of the complaint board in an output directory.
const ComplaintsFile = "complaints.jsonl"

// FileComplaints is the complaint board of a single-machine crawl, kept in
// OUT/complaints.jsonl: one JSON line per change ("add", "resolve",
// "ack"), appended and synced under an exclusive file lock, so that
// "goodbot complaint add" and a running crawler can share it. It is also
// a stop list (Stopped) naming every site with a complaint.
//
// A last line without its newline (a crash during an append) is ignored;
// any other line that does not parse is an error.
type FileComplaints struct {
	path string

	mu      sync.Mutex
	stamp   fileStamp // of the file behind stopped
	stopped map[string]StopEntry
}

type fileStamp struct {
	size int64
	mod  time.Time
}

// fileOp is one line of complaints.jsonl.
type fileOp struct {
	Op        string     `json:"op"`           // "add", "resolve", "confirm", "ack"
	By        string     `json:"by,omitempty"` // of a confirm
	Complaint *Complaint `json:"complaint,omitempty"`
	ID        string     `json:"id,omitempty"`
	At        time.Time  `json:"at,omitzero"`
	Ack       *Ack       `json:"ack,omitempty"`
}

// OpenFileComplaints returns the board of output directory dir, which
// must exist. The file is created on the first Add.
func OpenFileComplaints(dir string) (*FileComplaints, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("job: complaints: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("job: complaints: %s is not a directory", dir)
	}
	return &FileComplaints{path: filepath.Join(dir, ComplaintsFile)}, nil
}

// board is the state a file describes.
type board struct {
	complaints map[string]*Complaint
	acks       map[string]map[string]Ack // complaint id -> worker -> ack
	maxID      int64
}

// parseBoard reads the lines of a complaints file.
func parseBoard(data []byte) (*board, error) {
	b := &board{complaints: map[string]*Complaint{}, acks: map[string]map[string]Ack{}}
	for n := 1; len(data) > 0; n++ {
		line, rest, complete := bytes.Cut(data, []byte("\n"))
		data = rest
		if !complete {
			break // torn tail of an interrupted append
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var op fileOp
		if err := json.Unmarshal(line, &op); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		switch op.Op {
		case "add":
			c := op.Complaint
			if c == nil || c.ID == "" || c.Site == "" {
				return nil, fmt.Errorf("line %d: add without a complaint id and site", n)
			}
			if _, dup := b.complaints[c.ID]; dup {
				return nil, fmt.Errorf("line %d: complaint %s added twice", n, c.ID)
			}
			b.complaints[c.ID] = c
			if id, err := strconv.ParseInt(c.ID, 10, 64); err == nil && id > b.maxID {
				b.maxID = id
			}
		case "resolve":
			c := b.complaints[op.ID]
			if c == nil {
				return nil, fmt.Errorf("line %d: resolve of unknown complaint %q", n, op.ID)
			}
			c.Resolved, c.ResolvedAt = true, op.At
			if c.Unconfirmed {
				c.Unconfirmed, c.ConfirmedAt, c.ConfirmedBy = false, op.At, ConfirmedByOperator
			}
		case "confirm":
			c := b.complaints[op.ID]
			if c == nil {
				return nil, fmt.Errorf("line %d: confirm of unknown complaint %q", n, op.ID)
			}
			c.Unconfirmed, c.ConfirmedAt, c.ConfirmedBy = false, op.At, op.By
		case "ack":
			if b.complaints[op.ID] == nil || op.Ack == nil || op.Ack.Worker == "" {
				return nil, fmt.Errorf("line %d: ack of unknown complaint %q or without a worker", n, op.ID)
			}
			if b.acks[op.ID] == nil {
				b.acks[op.ID] = map[string]Ack{}
			}
			b.acks[op.ID][op.Ack.Worker] = *op.Ack
		default:
			return nil, fmt.Errorf("line %d: unknown op %q", n, op.Op)
		}
	}
	return b, nil
}

// update runs f on the board under an exclusive lock and appends the line
// it returns, if any.
func (fc *FileComplaints) update(f func(b *board) (*fileOp, error)) error {
	file, err := os.OpenFile(fc.path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("job: complaints: %w", err)
	}
	defer file.Close()
	if err := lockFile(file, true); err != nil {
		return fmt.Errorf("job: complaints: locking %s: %w", fc.path, err)
	}
	data, err := io.ReadAll(file)
	if err != nil {
		return fmt.Errorf("job: complaints: reading %s: %w", fc.path, err)
	}
	b, err := parseBoard(data)
	if err != nil {
		return fmt.Errorf("job: complaints: %s: %w", fc.path, err)
	}
	op, err := f(b)
	if err != nil || op == nil {
		return err
	}
	line, err := json.Marshal(op)
	if err != nil {
		return fmt.Errorf("job: complaints: %w", err)
	}
	// Drop a torn tail before appending, so the new line stands alone.
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		if err := file.Truncate(int64(i + 1)); err != nil {
			return fmt.Errorf("job: complaints: %w", err)
		}
	}
	end := int64(bytes.LastIndexByte(data, '\n') + 1)
	if _, err := file.WriteAt(append(line, '\n'), end); err != nil {
		return fmt.Errorf("job: complaints: writing %s: %w", fc.path, err)
	}
	if err := file.Sync(); err != nil {
		return fmt.Errorf("job: complaints: syncing %s: %w", fc.path, err)
	}
	return nil
}

func (fc *FileComplaints) read() (*board, error) {
	file, err := os.Open(fc.path)
	if errors.Is(err, os.ErrNotExist) {
		return parseBoard(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("job: complaints: %w", err)
	}
	defer file.Close()
	if err := lockFile(file, false); err != nil {
		return nil, fmt.Errorf("job: complaints: locking %s: %w", fc.path, err)
	}
	data, err := io.ReadAll(bufio.NewReader(file))
	if err != nil {
		return nil, fmt.Errorf("job: complaints: reading %s: %w", fc.path, err)
	}
	b, err := parseBoard(data)
	if err != nil {
		return nil, fmt.Errorf("job: complaints: %s: %w", fc.path, err)
	}
	return b, nil
}

// Add implements Board. Ids are 1, 2, 3, ... in the file.
func (fc *FileComplaints) Add(ctx context.Context, c Complaint) (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	c.Resolved, c.ResolvedAt = false, time.Time{}
	err := fc.update(func(b *board) (*fileOp, error) {
		c.ID = strconv.FormatInt(b.maxID+1, 10)
		return &fileOp{Op: "add", Complaint: &c}, nil
	})
	if err != nil {
		return "", err
	}
	return c.ID, nil
}

// List implements Board.
func (fc *FileComplaints) List(ctx context.Context) ([]Complaint, error) {
	b, err := fc.read()
	if err != nil {
		return nil, err
	}
	out := make([]Complaint, 0, len(b.complaints))
	for _, c := range b.complaints {
		out = append(out, *c)
	}
	sortComplaints(out)
	return out, nil
}

// Resolve implements Board. An unconfirmed complaint is confirmed by it
// (ConfirmedByOperator): a person has looked at it.
func (fc *FileComplaints) Resolve(ctx context.Context, id string) error {
	return fc.update(func(b *board) (*fileOp, error) {
		c := b.complaints[id]
		if c == nil {
			return nil, fmt.Errorf("job: resolve %q: %w", id, ErrNoComplaint)
		}
		if c.Resolved {
			return nil, fmt.Errorf("job: complaint %s is already resolved", id)
		}
		return &fileOp{Op: "resolve", ID: id, At: time.Now().UTC()}, nil
	})
}

// Confirm implements Board.
func (fc *FileComplaints) Confirm(ctx context.Context, id, by string) error {
	if err := checkConfirmedBy(by); err != nil {
		return err
	}
	return fc.update(func(b *board) (*fileOp, error) {
		c := b.complaints[id]
		if c == nil {
			return nil, fmt.Errorf("job: confirm %q: %w", id, ErrNoComplaint)
		}
		if !c.Unconfirmed {
			return nil, fmt.Errorf("job: complaint %s: %w", id, ErrConfirmed)
		}
		return &fileOp{Op: "confirm", ID: id, By: by, At: time.Now().UTC()}, nil
	})
}

// Ack implements Board.
func (fc *FileComplaints) Ack(ctx context.Context, id, worker string, d audit.Deletion) error {
	return fc.AckStop(ctx, id, worker, d, false)
}

// AckStop implements Board.
func (fc *FileComplaints) AckStop(ctx context.Context, id, worker string, d audit.Deletion, stopOnly bool) error {
	if err := checkWorker(worker); err != nil {
		return err
	}
	d.ComplaintID = id
	return fc.update(func(b *board) (*fileOp, error) {
		if b.complaints[id] == nil {
			return nil, fmt.Errorf("job: ack %q: %w", id, ErrNoComplaint)
		}
		return &fileOp{Op: "ack", ID: id, Ack: &Ack{Worker: worker, At: time.Now().UTC(), Deletion: d, StopOnly: stopOnly}}, nil
	})
}

// Acks implements Board.
func (fc *FileComplaints) Acks(ctx context.Context, id string) ([]Ack, error) {
	b, err := fc.read()
	if err != nil {
		return nil, err
	}
	out := make([]Ack, 0, len(b.acks[id]))
	for _, a := range b.acks[id] {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Worker < out[j].Worker })
	return out, nil
}

// Stopped implements crawler.StopList: a site is stopped when it has a
// complaint, resolved or not. The file is re-read when its size or
// modification time changes (one stat per call). An unreadable file is
// an error, so the gate sends nothing.
func (fc *FileComplaints) Stopped(ctx context.Context, site string) (string, bool, error) {
	var st fileStamp
	fi, err := os.Stat(fc.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return "", false, fmt.Errorf("job: complaints: %w", err)
	default:
		st = fileStamp{fi.Size(), fi.ModTime()}
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.stopped == nil || st != fc.stamp {
		b, err := fc.read()
		if err != nil {
			return "", false, err
		}
		stopped := map[string]StopEntry{}
		ids := make([]Complaint, 0, len(b.complaints))
		for _, c := range b.complaints {
			ids = append(ids, *c)
		}
		sortComplaints(ids)
		for _, c := range ids {
			if _, ok := stopped[c.Site]; !ok {
				stopped[c.Site] = StopEntry{Reason: c.Reason, Complaint: c.ID, At: c.At}
			}
		}
		fc.stopped, fc.stamp = stopped, st
	}
	e, ok := fc.stopped[site]
	if !ok {
		return "", false, nil
	}
	return e.String(), true, nil
}
