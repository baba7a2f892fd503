package job

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/internal/site"
)

// Complaint is a site operator's complaint about a job.
type Complaint struct {
	ID      string `json:"id"`
	Site    string `json:"site"` // site key (see package internal/site)
	Reason  string `json:"reason"`
	Contact string `json:"contact,omitempty"`
	// EvidenceSHA256 is the hex SHA-256 of the evidence file, if any; the
	// file itself is not kept.
	EvidenceSHA256 string    `json:"evidence_sha256,omitempty"`
	At             time.Time `json:"at"`
	Resolved       bool      `json:"resolved,omitempty"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`

	// Unconfirmed marks a complaint nobody has confirmed yet, such as one
	// sent through the operator page's form (package operator), which
	// anyone can fill in: workers stop the site at once (stopping is
	// always safe) but delete nothing until it is confirmed, by the
	// complainant proving control of the site (Board.Confirm) or by a
	// person (Board.Resolve). A complaint the operator adds is confirmed.
	Unconfirmed bool `json:"unconfirmed,omitempty"`
	// ConfirmedAt and ConfirmedBy ("proof", "operator") say when and how
	// an unconfirmed complaint was confirmed.
	ConfirmedAt time.Time `json:"confirmed_at,omitzero"`
	ConfirmedBy string    `json:"confirmed_by,omitempty"`

	// Receipt is the unguessable id a complainant holds (the status link
	// of the operator page), when the complaint came through the form;
	// ProofSHA256 is the hex SHA-256 of the proof token shown with it.
	Receipt     string `json:"receipt,omitempty"`
	ProofSHA256 string `json:"proof_sha256,omitempty"`
	// ReplyTo and Message are what the complainant wrote in the form:
	// personal data of theirs, kept on the board only, so that the
	// operator can answer. They are never written to the operation log
	// (Audit leaves them out).
	ReplyTo string `json:"reply_to,omitempty"`
	Message string `json:"message,omitempty"`
}

// State names where c stands: "resolved", "unconfirmed" (stopped, not
// deleted) or "open".
func (c Complaint) State() string {
	switch {
	case c.Resolved:
		return "resolved"
	case c.Unconfirmed:
		return "unconfirmed"
	}
	return "open"
}

// Confirmation methods for Board.Confirm.
const (
	ConfirmedByProof    = "proof"    // the complainant showed the proof token on the site
	ConfirmedByOperator = "operator" // a person confirmed it (goodbot complaint resolve)
)

// Audit returns the audit payload recording action ("added", "applied",
// "resolved") on c.
func (c Complaint) Audit(action string) *audit.Complaint {
	return &audit.Complaint{ID: c.ID, Action: action, Reason: c.Reason, Contact: c.Contact, EvidenceSHA256: c.EvidenceSHA256}
}

// check validates c and puts its site key in canonical form.
func (c *Complaint) check() error {
	s, err := site.Parse(c.Site)
	if err != nil {
		return fmt.Errorf("job: complaint: %w", err)
	}
	c.Site = s
	if strings.TrimSpace(c.Reason) == "" {
		return errors.New("job: complaint: a reason is required")
	}
	if c.EvidenceSHA256 != "" {
		if b, err := hex.DecodeString(c.EvidenceSHA256); err != nil || len(b) != 32 {
			return fmt.Errorf("job: complaint: evidence digest %q is not a hex SHA-256", c.EvidenceSHA256)
		}
		c.EvidenceSHA256 = strings.ToLower(c.EvidenceSHA256)
	}
	if c.ProofSHA256 != "" {
		if b, err := hex.DecodeString(c.ProofSHA256); err != nil || len(b) != 32 {
			return fmt.Errorf("job: complaint: proof digest %q is not a hex SHA-256", c.ProofSHA256)
		}
	}
	if c.At.IsZero() {
		c.At = time.Now()
	}
	c.At = c.At.UTC()
	return nil
}

// Ack is a worker's confirmation that it applied a complaint: it stopped
// sending to the site and deleted what it had stored from it.
type Ack struct {
	Worker   string         `json:"worker"`
	At       time.Time      `json:"at"`
	Deletion audit.Deletion `json:"deletion"`
	// StopOnly says the worker stopped the site but deleted nothing,
	// because the complaint was unconfirmed when it applied it. Once the
	// complaint is confirmed, the worker applies it again and its new ack
	// replaces this one.
	StopOnly bool `json:"stop_only,omitempty"`
}

// Covers reports whether a answers c in its present state: any ack does for
// an unconfirmed complaint, only a deleting one for a confirmed complaint.
func (a Ack) Covers(c Complaint) bool { return !a.StopOnly || c.Unconfirmed }

// AckReport says which live workers confirmed a complaint.
type AckReport struct {
	Acked   []Ack    // every ack recorded, live worker or not, by worker id
	Missing []string // live workers that have not acknowledged
}

// ComplaintsOptions configures a Complaints board.
type ComplaintsOptions struct {
	// DeadAfter is how old a worker's heartbeat may be before WaitAcks
	// stops waiting for it (see RegistryOptions). Default 15s.
	DeadAfter time.Duration
	// Resync is how often a subscription re-reads the board, to deliver
	// complaints whose pub/sub message it missed. Default 2s.
	Resync time.Duration
	// Timeout bounds each Redis call. Default DefaultTimeout.
	Timeout time.Duration
	// Logger receives warnings. Default slog.Default().
	Logger *slog.Logger
}

// Complaints is the complaint board of a job in Redis. Add puts the site
// on the job's stop list and announces the complaint in one script;
// workers Subscribe, apply each complaint (stop, delete) and Ack it;
// WaitAcks tells the one who added it which live workers confirmed.
type Complaints struct {
	conn
	opts ComplaintsOptions
	reg  *Registry
	add  *redis.Script
	ack  *redis.Script
	res  *redis.Script
	conf *redis.Script
}

// addComplaintScript stores complaint ARGV[2] (JSON) under id ARGV[1] in
// KEYS[1], puts site ARGV[3] on the stop list with entry ARGV[4], and
// announces both. ARGV[5] is the prefix.
const addComplaintScript = `
local P = ARGV[5]
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', P .. 'stop', ARGV[3], ARGV[4])
redis.call('PUBLISH', P .. 'stop:ch', ARGV[3])
redis.call('PUBLISH', P .. 'c:ch', ARGV[1])
return 1
`

// ackScript records ack ARGV[3] of worker ARGV[2] for complaint ARGV[1],
// if KEYS[1] (c:all) has it. ARGV[4] is the prefix.
const ackScript = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', ARGV[4] .. 'c:ack:' .. ARGV[1], ARGV[2], ARGV[3])
return 1
`

// resolveScript marks complaint ARGV[1] resolved at ARGV[2] (RFC 3339).
const resolveScript = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local c = cjson.decode(v)
if c.resolved then return 2 end
c.resolved = true
c.resolved_at = ARGV[2]
if c.unconfirmed then
  c.unconfirmed = nil
  c.confirmed_at = ARGV[2]
  c.confirmed_by = 'operator'
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(c))
redis.call('PUBLISH', ARGV[3] .. 'c:ch', ARGV[1])
return 1
`

// confirmScript confirms unconfirmed complaint ARGV[1] at ARGV[2] (RFC
// 3339) by ARGV[3], and announces it so that workers delete. ARGV[4] is
// the prefix. It returns 0 for an unknown complaint, 2 for one already
// confirmed.
const confirmScript = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local c = cjson.decode(v)
if not c.unconfirmed then return 2 end
c.unconfirmed = nil
c.confirmed_at = ARGV[2]
c.confirmed_by = ARGV[3]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(c))
redis.call('PUBLISH', ARGV[4] .. 'c:ch', ARGV[1])
return 1
`

// NewComplaints returns job's complaint board.
func NewComplaints(c redis.UniversalClient, job string, opts ComplaintsOptions) (*Complaints, error) {
	cn, err := newConn(c, job, opts.Timeout, opts.Logger)
	if err != nil {
		return nil, err
	}
	if opts.Resync <= 0 {
		opts.Resync = 2 * time.Second
	}
	return &Complaints{
		conn: cn,
		opts: opts,
		reg:  newRegistry(cn, opts.DeadAfter),
		add:  redis.NewScript(addComplaintScript),
		ack:  redis.NewScript(ackScript),
		res:  redis.NewScript(resolveScript),
		conf: redis.NewScript(confirmScript),
	}, nil
}

// ErrNoComplaint is returned for a complaint id the board does not have.
var ErrNoComplaint = errors.New("job: no such complaint")

// Add records c with a new id, puts c.Site on the job's stop list and
// announces the complaint to every worker, in one script. c.At defaults
// to now. It returns the id.
func (b *Complaints) Add(ctx context.Context, c Complaint) (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	n, err := call(ctx, &b.conn, "complaint id", func(ctx context.Context) (int64, error) {
		return b.c.Incr(ctx, b.key("c", "seq")).Result()
	})
	if err != nil {
		return "", err
	}
	c.ID = strconv.FormatInt(n, 10)
	c.Resolved, c.ResolvedAt = false, time.Time{}
	cj, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("job %s: complaint: %w", b.job, err)
	}
	sj, err := json.Marshal(StopEntry{Reason: c.Reason, Complaint: c.ID, At: c.At})
	if err != nil {
		return "", fmt.Errorf("job %s: complaint: %w", b.job, err)
	}
	if err := b.do(ctx, "add complaint", func(ctx context.Context) error {
		return b.add.Run(ctx, b.c, []string{b.key("c", "all")}, c.ID, cj, c.Site, sj, b.prefix).Err()
	}); err != nil {
		return "", err
	}
	return c.ID, nil
}

// List returns every complaint of the job, oldest first.
func (b *Complaints) List(ctx context.Context) ([]Complaint, error) {
	return listComplaints(ctx, &b.conn)
}

func listComplaints(ctx context.Context, c *conn) ([]Complaint, error) {
	m, err := call(ctx, c, "list complaints", func(ctx context.Context) (map[string]string, error) {
		return c.c.HGetAll(ctx, c.key("c", "all")).Result()
	})
	if err != nil {
		return nil, err
	}
	out := make([]Complaint, 0, len(m))
	for id, raw := range m {
		var cp Complaint
		if err := json.Unmarshal([]byte(raw), &cp); err != nil {
			return nil, fmt.Errorf("job %s: complaint %s: %w", c.job, id, err)
		}
		out = append(out, cp)
	}
	sortComplaints(out)
	return out, nil
}

func sortComplaints(cs []Complaint) {
	sort.Slice(cs, func(i, j int) bool {
		a, _ := strconv.ParseInt(cs[i].ID, 10, 64)
		b, _ := strconv.ParseInt(cs[j].ID, 10, 64)
		return a < b
	})
}

// Resolve marks complaint id resolved, and confirms it if it was
// unconfirmed (a person has looked at it), so that workers delete the
// site's data. The site stays on the stop list: taking it off is a
// separate decision (StopList.Resume).
func (b *Complaints) Resolve(ctx context.Context, id string) error {
	v, err := call(ctx, &b.conn, "resolve complaint", func(ctx context.Context) (int64, error) {
		return b.res.Run(ctx, b.c, []string{b.key("c", "all")}, id, time.Now().UTC().Format(time.RFC3339Nano), b.prefix).Int64()
	})
	if err != nil {
		return err
	}
	switch v {
	case 0:
		return fmt.Errorf("job %s: resolve %q: %w", b.job, id, ErrNoComplaint)
	case 2:
		return fmt.Errorf("job %s: complaint %s is already resolved", b.job, id)
	}
	return nil
}

// Confirm confirms unconfirmed complaint id (by is ConfirmedByProof or
// ConfirmedByOperator) and announces it, so that every worker deletes the
// site's data.
func (b *Complaints) Confirm(ctx context.Context, id, by string) error {
	if err := checkConfirmedBy(by); err != nil {
		return err
	}
	v, err := call(ctx, &b.conn, "confirm complaint", func(ctx context.Context) (int64, error) {
		return b.conf.Run(ctx, b.c, []string{b.key("c", "all")}, id, time.Now().UTC().Format(time.RFC3339Nano), by, b.prefix).Int64()
	})
	if err != nil {
		return err
	}
	switch v {
	case 0:
		return fmt.Errorf("job %s: confirm %q: %w", b.job, id, ErrNoComplaint)
	case 2:
		return fmt.Errorf("job %s: complaint %s: %w", b.job, id, ErrConfirmed)
	}
	return nil
}

// ErrConfirmed is returned by Confirm for a complaint that is already
// confirmed.
var ErrConfirmed = errors.New("job: complaint already confirmed")

func checkConfirmedBy(by string) error {
	if by != ConfirmedByProof && by != ConfirmedByOperator {
		return fmt.Errorf("job: confirm: method %q is neither %q nor %q", by, ConfirmedByProof, ConfirmedByOperator)
	}
	return nil
}

// Get returns complaint id.
func (b *Complaints) Get(ctx context.Context, id string) (Complaint, error) {
	raw, err := call(ctx, &b.conn, "get complaint", func(ctx context.Context) (string, error) {
		return b.c.HGet(ctx, b.key("c", "all"), id).Result()
	})
	if errors.Is(err, redis.Nil) {
		return Complaint{}, fmt.Errorf("job %s: complaint %q: %w", b.job, id, ErrNoComplaint)
	}
	if err != nil {
		return Complaint{}, err
	}
	var c Complaint
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return Complaint{}, fmt.Errorf("job %s: complaint %s: %w", b.job, id, err)
	}
	return c, nil
}

// Ack records that worker applied complaint id and deleted what d says.
func (b *Complaints) Ack(ctx context.Context, id, worker string, d audit.Deletion) error {
	return b.AckStop(ctx, id, worker, d, false)
}

// AckStop is Ack, with stopOnly saying that the worker only stopped the
// site because the complaint was unconfirmed (Ack.StopOnly).
func (b *Complaints) AckStop(ctx context.Context, id, worker string, d audit.Deletion, stopOnly bool) error {
	if err := checkWorker(worker); err != nil {
		return err
	}
	d.ComplaintID = id
	aj, err := json.Marshal(Ack{Worker: worker, At: time.Now().UTC(), Deletion: d, StopOnly: stopOnly})
	if err != nil {
		return fmt.Errorf("job %s: ack %s: %w", b.job, id, err)
	}
	v, err := call(ctx, &b.conn, "ack complaint", func(ctx context.Context) (int64, error) {
		return b.ack.Run(ctx, b.c, []string{b.key("c", "all")}, id, worker, aj, b.prefix).Int64()
	})
	if err != nil {
		return err
	}
	if v == 0 {
		return fmt.Errorf("job %s: ack %q: %w", b.job, id, ErrNoComplaint)
	}
	return nil
}

// Acks returns the acks recorded for complaint id, by worker id.
func (b *Complaints) Acks(ctx context.Context, id string) ([]Ack, error) {
	m, err := call(ctx, &b.conn, "acks", func(ctx context.Context) (map[string]string, error) {
		return b.c.HGetAll(ctx, b.key("c", "ack", id)).Result()
	})
	if err != nil {
		return nil, err
	}
	out := make([]Ack, 0, len(m))
	for w, raw := range m {
		var a Ack
		if err := json.Unmarshal([]byte(raw), &a); err != nil {
			return nil, fmt.Errorf("job %s: ack of %s for %s: %w", b.job, w, id, err)
		}
		a.Worker = w
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Worker < out[j].Worker })
	return out, nil
}

// WaitAcks waits until every live worker (see Registry) has acknowledged
// complaint id, or timeout passes, and reports who did and who did not.
// The live set is re-read as it waits: a worker that dies stops being
// waited for, one that joins is waited for too. Running out of time is
// not an error; ctx ending or Redis failing is.
func (b *Complaints) WaitAcks(ctx context.Context, id string, timeout time.Duration) (AckReport, error) {
	deadline := time.Now().Add(timeout)
	wait := 20 * time.Millisecond
	for {
		c, err := b.Get(ctx, id)
		if err != nil {
			return AckReport{}, err
		}
		acks, err := b.Acks(ctx, id)
		if err != nil {
			return AckReport{}, err
		}
		live, err := b.reg.Live(ctx)
		if err != nil {
			return AckReport{}, err
		}
		rep := AckReport{Acked: acks}
		done := map[string]bool{}
		for _, a := range acks {
			done[a.Worker] = a.Covers(c)
		}
		for _, w := range live {
			if !done[w] {
				rep.Missing = append(rep.Missing, w)
			}
		}
		left := time.Until(deadline)
		if len(rep.Missing) == 0 || left <= 0 {
			return rep, nil
		}
		t := time.NewTimer(min(wait, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return rep, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// Subscribe delivers to worker every complaint it has not acknowledged
// (an unconfirmed complaint it only stopped comes again once confirmed):
// first those already on the board (added while it was offline, or not yet
// applied), then each new one as it is added. It re-reads the board every
// Resync, so that a complaint whose pub/sub message was lost (Redis
// restarting, a reconnect) still arrives. Each complaint is delivered at
// most once per subscription; the channel is closed when ctx ends.
//
// Subscribe returns an error if Redis cannot be reached when it starts.
func (b *Complaints) Subscribe(ctx context.Context, worker string) (<-chan Complaint, error) {
	if err := checkWorker(worker); err != nil {
		return nil, err
	}
	ps := b.c.Subscribe(ctx, b.key("c", "ch"))
	// Wait for the subscription to be in place, so that nothing added from
	// now on is missed before the first read.
	if err := b.do(ctx, "subscribe", func(ctx context.Context) error {
		_, err := ps.Receive(ctx)
		return err
	}); err != nil {
		ps.Close()
		return nil, err
	}
	out := make(chan Complaint)
	s := &subscription{b: b, worker: worker, ps: ps, out: out, delivered: map[string]bool{}}
	go s.run(ctx)
	return out, nil
}

type subscription struct {
	b         *Complaints
	worker    string
	ps        *redis.PubSub
	out       chan Complaint
	delivered map[string]bool // by id and state (deliveryKey); by the run goroutine only
}

// deliveryKey names c in the state that a worker must act on: an
// unconfirmed complaint is delivered once to stop, and again when it is
// confirmed, to delete.
func deliveryKey(c Complaint) string {
	if c.Unconfirmed {
		return c.ID + "/stop"
	}
	return c.ID
}

func (s *subscription) run(ctx context.Context) {
	defer close(s.out)
	defer s.ps.Close()
	msgs := s.ps.Channel()
	t := time.NewTicker(s.b.opts.Resync)
	defer t.Stop()
	for {
		if err := s.deliverPending(ctx); err != nil && ctx.Err() == nil {
			s.b.log.LogAttrs(ctx, slog.LevelWarn, "job: reading complaints", slog.String("worker", s.worker), slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-msgs:
		case <-t.C:
		}
	}
}

// deliverPending sends every complaint not yet delivered and not acked by
// the worker.
func (s *subscription) deliverPending(ctx context.Context) error {
	b := s.b
	cs, err := b.List(ctx)
	if err != nil {
		return err
	}
	var todo []Complaint
	for _, c := range cs {
		if !s.delivered[deliveryKey(c)] {
			todo = append(todo, c)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	acked, err := call(ctx, &b.conn, "acked", func(ctx context.Context) ([]bool, error) {
		p := b.c.Pipeline()
		cmds := make([]*redis.StringCmd, len(todo))
		for i, c := range todo {
			cmds[i] = p.HGet(ctx, b.key("c", "ack", c.ID), s.worker)
		}
		if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		r := make([]bool, len(cmds))
		for i, cmd := range cmds {
			var a Ack
			if raw, err := cmd.Result(); err == nil && json.Unmarshal([]byte(raw), &a) == nil {
				r[i] = a.Covers(todo[i])
			}
		}
		return r, nil
	})
	if err != nil {
		return err
	}
	for i, c := range todo {
		s.delivered[deliveryKey(c)] = true
		if acked[i] {
			continue
		}
		select {
		case s.out <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
