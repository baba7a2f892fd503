// Package audit records what goodbot did and why, as evidence.
//
// Every request and every decision of the crawler's outgoing-request gate is
// an Event handed to a Sink. The tamper-evident operation log is a Sink; so
// is SlogSink, which only writes events to a structured logger.
//
// Events never carry personal data: URLs are redacted by the PII filter
// before they reach a sink, and bodies are represented by their digests.
package audit

import (
	"context"
	"log/slog"
	"time"
)

// Type names the kind of an Event. Exactly one payload field of the Event,
// the one named like the type, is set.
type Type string

// The event types.
const (
	TypeConfig     Type = "config"     // a run started: job, version, settings, estimate sources
	TypeDecision   Type = "decision"   // the gate decided about one outgoing request
	TypeFetch      Type = "fetch"      // a request was sent and answered (or failed)
	TypeRobots     Type = "robots"     // a robots.txt was fetched, with its copy
	TypeBudget     Type = "budget"     // a site's estimate, budget, pacing or hold changed
	TypePII        Type = "pii"        // personal data was found and redacted, or a page dropped
	TypeComplaint  Type = "complaint"  // a site operator's complaint arrived or was resolved
	TypeDeletion   Type = "deletion"   // collected data from a site was deleted
	TypeRepair     Type = "repair"     // a torn record left by a crash was cut from an output file
	TypeCheckpoint Type = "checkpoint" // a signed checkpoint of the log itself
	TypeKey        Type = "key"        // a signing key was created or rotated
	TypeBotKey     Type = "botkey"     // the Web Bot Auth key that signs requests was created, rotated or put to use
	TypeRun        Type = "run"        // a run ended (or was interrupted), with its summary
	TypeState      Type = "state"      // the crawl state was opened: new, resumed, reconciled or started over
	TypeRecovery   Type = "recovery"   // the log truncated a torn tail after a crash (log-defined)
	TypePrune      Type = "prune"      // the log removed segments past retention (log-defined)
)

// Event is one entry of the operation log. Its JSON encoding (field order as
// declared, empty fields omitted) is deterministic.
type Event struct {
	Type Type      `json:"type"`
	Time time.Time `json:"time"` // UTC, sub-second precision
	// Site is the site key ("example.com", "127.0.0.1:8080") the event
	// concerns, if any. See package internal/site.
	Site string `json:"site,omitempty"`

	Config    *Config    `json:"config,omitempty"`
	Decision  *Decision  `json:"decision,omitempty"`
	Fetch     *Fetch     `json:"fetch,omitempty"`
	Robots    *Robots    `json:"robots,omitempty"`
	Budget    *Budget    `json:"budget,omitempty"`
	PII       *PII       `json:"pii,omitempty"`
	Complaint *Complaint `json:"complaint,omitempty"`
	Deletion  *Deletion  `json:"deletion,omitempty"`
	Repair    *Repair    `json:"repair,omitempty"`
	State     *State     `json:"state,omitempty"`
	Run       *Run       `json:"run,omitempty"`
	BotKey    *BotKey    `json:"botkey,omitempty"`
	// Other carries the payload of types defined by the log itself
	// (checkpoint, key), already encoded.
	Other map[string]string `json:"other,omitempty"`
}

// Verdict is the outcome of one gate check.
type Verdict string

// The verdicts.
const (
	Allow  Verdict = "allow"  // the check passed
	Refuse Verdict = "refuse" // the request is not sent, now or later
	Defer  Verdict = "defer"  // the request is not sent now; it may be retried later
)

// Check is one gate's verdict on a request, with its reason.
type Check struct {
	Gate    string  `json:"gate"` // "stoplist", "scope", "robots", "signal", "limiter"
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason,omitempty"`
}

// Decision records the gate's decision about one outgoing request, before it
// is sent. A refused request has a Decision and no Fetch.
type Decision struct {
	RequestID string  `json:"request_id"` // joins the decision to its fetch
	URL       string  `json:"url"`        // redacted
	Method    string  `json:"method"`
	Kind      string  `json:"kind"` // "page", "robots", "redirect"
	Depth     int     `json:"depth"`
	Verdict   Verdict `json:"verdict"`
	Reason    string  `json:"reason"`
	Checks    []Check `json:"checks"`
	// RobotsRule is the robots.txt rule that decided, e.g. "allow: /public/"
	// or "" when no rule matched (which allows).
	RobotsRule string `json:"robots_rule,omitempty"`
	// RobotsSHA256 is the digest of the robots.txt in force (hex), if any.
	RobotsSHA256 string `json:"robots_sha256,omitempty"`
	// Wait is how long the limiter made the request wait.
	Wait time.Duration `json:"wait_ns,omitempty"`
	// Conditional holds the validators the request carries, when it is a
	// conditional revisit of a page stored before.
	Conditional *Conditional `json:"conditional,omitempty"`
}

// Conditional is what makes a request conditional (RFC 9110 section
// 13.1): the validators of a page stored before, sent back as the site
// gave them.
type Conditional struct {
	IfNoneMatch     string `json:"if_none_match,omitempty"`
	IfModifiedSince string `json:"if_modified_since,omitempty"`
}

// Revisit records a conditional request answered 304 Not Modified: the
// page is as an earlier fetch stored it, and nothing new was stored.
type Revisit struct {
	// Conditional holds the validators the request carried.
	Conditional
	// RefersToDate is the time of the earlier fetch entry whose answer
	// was stored (the WARC-Date of its response record), and
	// RefersToSHA256 the digest of that answer's body (hex);
	// StoredSHA256 is the digest of what was stored of it.
	RefersToDate   time.Time `json:"refers_to_date"`
	RefersToSHA256 string    `json:"refers_to_sha256,omitempty"`
	StoredSHA256   string    `json:"stored_sha256,omitempty"`
	// Spared is the number of body bytes the site did not send: the
	// length of the earlier answer's body.
	Spared int64 `json:"spared"`
}

// Fetch records one request that was sent, and how it was answered.
type Fetch struct {
	RequestID    string `json:"request_id"`
	URL          string `json:"url"` // redacted
	Method       string `json:"method"`
	UserAgent    string `json:"user_agent"`
	Status       int    `json:"status,omitempty"`
	ContentType  string `json:"content_type,omitempty"`
	Bytes        int64  `json:"bytes"`                   // body bytes received (after transfer decoding)
	BodySHA256   string `json:"body_sha256,omitempty"`   // digest of the body as received
	StoredSHA256 string `json:"stored_sha256,omitempty"` // digest of what was stored, if anything
	// Charset is the encoding the body was read in before it was decoded
	// to UTF-8, and how that was chosen, e.g. "gbk (meta)".
	Charset  string        `json:"charset,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// Proto is the answer's protocol ("HTTP/1.1", "HTTP/2.0").
	Proto string `json:"proto,omitempty"`
	// RequestHeader holds the request's header fields as the HTTP client
	// wrote them (Host included), and ResponseHeader the answer's as it
	// read them, before the body was decoded; where the client or
	// goodbot undid a Content-Encoding, that field is gone, so the
	// fields describe the body BodySHA256 is of. Values have passed the
	// personal-data filter; those of Cookie, Set-Cookie and
	// Authorization fields are withheld. Entries written before these
	// fields existed have neither.
	RequestHeader  map[string][]string `json:"request_header,omitempty"`
	ResponseHeader map[string][]string `json:"response_header,omitempty"`
	// Class is how goodbot read the answer: "ok", "redirect", "refused"
	// (401/403/407), "hold" (429/503), "error" (other 4xx/5xx), "login",
	// "challenge", "payment" (402 or crawler-price), "too-large", "network",
	// "not-modified" (a 304 to a conditional revisit), "unexpected-304" (a
	// 304 to a request goodbot knows no earlier answer for).
	Class string `json:"class"`
	Error string `json:"error,omitempty"`
	// Signals lists the robots rules the page gave about itself (meta
	// robots, meta goodbot, X-Robots-Tag), each with the decision it
	// caused.
	Signals []Signal `json:"signals,omitempty"`
	// NotStored says why an answer that could have been stored was not,
	// e.g. because the page asked not to be (noindex).
	NotStored string `json:"not_stored,omitempty"`
	// NoArchive is set when the page was stored but asked for no archive
	// copy (noarchive): exports hold no body of it.
	NoArchive bool `json:"noarchive,omitempty"`
	// Revisit is set for a 304 answer to a conditional revisit (Class
	// "not-modified"): what it refers to, and the bytes it spared.
	Revisit *Revisit `json:"revisit,omitempty"`
}

// Signal is one rule a page gave about itself, and what goodbot did.
type Signal struct {
	Source   string `json:"source"`   // "meta robots", "meta goodbot", "X-Robots-Tag"
	Rule     string `json:"rule"`     // the directive as read, e.g. "noindex"
	Decision string `json:"decision"` // e.g. "not stored", "links not followed"
}

// Robots records one robots.txt fetch, with the file itself so that the rules
// in force can be shown later.
type Robots struct {
	URL    string `json:"url"`
	Status int    `json:"status,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Body   []byte `json:"body,omitempty"` // as fetched, at most the parse limit
	// Redacted is set when personal data was replaced in Body, which then
	// no longer matches SHA256, the digest of the file as fetched.
	Redacted bool      `json:"redacted,omitempty"`
	Policy   string    `json:"policy"` // "parsed", "allow-all", "disallow-all"
	Expires  time.Time `json:"expires"`
	Error    string    `json:"error,omitempty"`
	// CrawlDelay is the least interval between requests that applies to
	// goodbot: the largest of Crawl-delay and the Request-rate and
	// Max-Crawl-Rate intervals.
	CrawlDelay time.Duration `json:"crawl_delay_ns,omitempty"`
}

// Budget records a site's traffic estimate and the pacing derived from it,
// or a change to either (a hold, a slow-down, a re-estimate).
type Budget struct {
	// EstimatePerDay is the central figure of the site's estimated traffic.
	EstimatePerDay float64 `json:"estimate_per_day"`
	// EstimateLow and EstimateHigh bound the estimate: the site's traffic is
	// somewhere between them. The budget is Share × EstimateLow. For a
	// figure given as a point (the user's --traffic, an agreement, the
	// default) both equal EstimatePerDay. Zero in entries written before
	// goodbot recorded ranges.
	EstimateLow  float64       `json:"estimate_low_per_day,omitempty"`
	EstimateHigh float64       `json:"estimate_high_per_day,omitempty"`
	Source       string        `json:"source"` // where the estimate came from
	Share        float64       `json:"share"`
	BudgetPerDay float64       `json:"budget_per_day"`
	Interval     time.Duration `json:"interval_ns"`
	HoldUntil    time.Time     `json:"hold_until,omitzero"`
	Change       string        `json:"change"` // "initial", "hold", "slower", "faster", "estimate", "robots"
	Reason       string        `json:"reason"`
}

// PII records what the personal-data filter found on one page: counts by
// type, never the values.
type PII struct {
	URL string `json:"url"` // redacted
	// SHA256 is the digest of the body as received, for a page that was
	// dropped or not stored.
	SHA256  string         `json:"sha256,omitempty"`
	Counts  map[string]int `json:"counts,omitempty"`
	Dropped bool           `json:"dropped,omitempty"`
	// Unreadable is set when the page was not stored because it could not
	// be read (a type that cannot be scanned, HTML the parser refuses).
	Unreadable bool   `json:"unreadable,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Complaint records a site operator's complaint.
type Complaint struct {
	ID             string `json:"id"`
	Action         string `json:"action"` // "added", "stopped" (unconfirmed: nothing deleted yet), "applied", "resolved"
	Reason         string `json:"reason,omitempty"`
	Contact        string `json:"contact,omitempty"`
	EvidenceSHA256 string `json:"evidence_sha256,omitempty"`
}

// Deletion records data deleted from the output, by digest.
type Deletion struct {
	ComplaintID string   `json:"complaint_id,omitempty"`
	Records     int      `json:"records"`
	Bytes       int64    `json:"bytes"`
	Digests     []string `json:"digests,omitempty"` // SHA-256 of each deleted record
}

// Repair records a torn last record cut from an output file on open: a
// write a crash or a full disk stopped half way. The bytes are kept only
// by digest.
type Repair struct {
	File   string `json:"file"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// State records how a run took up the crawl state it resumes from: a new
// state, one resumed, one reconciled with this log after a crash, or one
// discarded on purpose to start over.
type State struct {
	Action string `json:"action"` // "new", "resume", "fresh"
	Dir    string `json:"dir"`
	// What the state held when it was opened.
	Queued int `json:"queued"`
	Seen   int `json:"seen"`
	Pages  int `json:"pages"`
	// Requests a crashed run had leased: Settled were sent, as this log
	// says, and are not sent again; Requeued were not, and are queued.
	Settled  int    `json:"settled,omitempty"`
	Requeued int    `json:"requeued,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// BotKey records the key that signs the crawler's requests for Web Bot
// Auth (package botauth): a key distinct from the operation log's own, which
// a site operator verifies against the key directory the requests name. The
// crawler records it when it creates the key and at the start of every run
// ("in-use"); "goodbot botkey rotate" records a rotation.
type BotKey struct {
	Action string `json:"action"` // "created", "in-use", "rotated"
	// KeyID is the key's keyid: its JWK SHA-256 thumbprint (RFC 7638).
	KeyID string `json:"keyid"`
	// PublicKey is the Ed25519 public key, base64url (the JWK's x).
	PublicKey string `json:"public_key"`
	// Previous is, for "rotated", the keyid of the key replaced.
	Previous string `json:"previous,omitempty"`
	// Agent is the origin of the key directory that Signature-Agent
	// names.
	Agent string `json:"agent,omitempty"`
	// File is where the private key is kept ("" for a key the caller
	// passed in).
	File string `json:"file,omitempty"`
}

// Config records how a run was set up.
type Config struct {
	Job       string            `json:"job,omitempty"`
	Version   string            `json:"version"`
	UserAgent string            `json:"user_agent"`
	Settings  map[string]string `json:"settings,omitempty"`
	// Estimates lists each site's traffic estimate and its source.
	Estimates []Budget `json:"estimates,omitempty"`
	// Relaxations lists every rule the operator relaxed, with the justification.
	Relaxations []string `json:"relaxations,omitempty"`
}

// Run records the end of a run.
type Run struct {
	Reason  string `json:"reason"` // "done", "interrupted", "error: ..."
	Pages   int    `json:"pages"`
	Sent    int    `json:"sent"`
	Refused int    `json:"refused"`
	// Revisits counts conditional revisits answered 304 Not Modified, and
	// Spared the body bytes they spared the sites; Unchanged counts the
	// pages a revisit did not ask for, their sitemaps dating them before
	// the stored copy.
	Revisits  int   `json:"revisits,omitempty"`
	Spared    int64 `json:"spared,omitempty"`
	Unchanged int   `json:"unchanged,omitempty"`
}

// A Sink receives events.
//
// Record returns once the event is as durable as the sink makes it: the
// operation log returns after the event is on disk, so a decision recorded
// before a request is sent survives a crash. Record must be safe for
// concurrent use. An error means the event may be lost; the crawler then
// stops sending.
type Sink interface {
	Record(ctx context.Context, e Event) error
}

// An AsyncSink can also take an event without waiting for it to be durable.
// Append keeps the order of events: an event recorded after it with Record
// is durable only once it is, and a failure to write it fails the sink.
// The crawler appends its fetch, robots, budget and PII events this way, and
// records its decisions, which must be durable before a request is sent.
type AsyncSink interface {
	Sink
	Append(ctx context.Context, e Event) error
}

// SlogSink writes events to a structured logger at level Debug (decisions
// that allow, fetches, budgets) or Info (refusals and everything else). It
// keeps no evidence: use it for development, or beside the operation log.
type SlogSink struct {
	Logger *slog.Logger
}

// Record implements Sink.
func (s SlogSink) Record(ctx context.Context, e Event) error {
	l := s.Logger
	if l == nil {
		l = slog.Default()
	}
	level := slog.LevelInfo
	attrs := []slog.Attr{slog.String("site", e.Site)}
	switch {
	case e.Decision != nil:
		d := e.Decision
		if d.Verdict == Allow {
			level = slog.LevelDebug
		}
		attrs = append(attrs, slog.String("url", d.URL), slog.String("verdict", string(d.Verdict)), slog.String("reason", d.Reason))
		if d.RobotsRule != "" {
			attrs = append(attrs, slog.String("robots_rule", d.RobotsRule))
		}
	case e.Fetch != nil:
		f := e.Fetch
		level = slog.LevelDebug
		attrs = append(attrs, slog.String("url", f.URL), slog.Int("status", f.Status), slog.Int64("bytes", f.Bytes), slog.String("class", f.Class))
		if f.Error != "" {
			attrs = append(attrs, slog.String("error", f.Error))
		}
	case e.Robots != nil:
		attrs = append(attrs, slog.String("url", e.Robots.URL), slog.Int("status", e.Robots.Status), slog.String("policy", e.Robots.Policy))
	case e.Budget != nil:
		b := e.Budget
		attrs = append(attrs, slog.String("change", b.Change), slog.Float64("budget_per_day", b.BudgetPerDay), slog.Duration("interval", b.Interval), slog.String("source", b.Source), slog.String("reason", b.Reason))
	case e.PII != nil:
		attrs = append(attrs, slog.String("url", e.PII.URL), slog.Any("counts", e.PII.Counts), slog.Bool("dropped", e.PII.Dropped))
	case e.Complaint != nil:
		attrs = append(attrs, slog.String("id", e.Complaint.ID), slog.String("action", e.Complaint.Action))
	case e.Deletion != nil:
		attrs = append(attrs, slog.Int("records", e.Deletion.Records), slog.Int64("bytes", e.Deletion.Bytes))
	case e.Repair != nil:
		attrs = append(attrs, slog.String("file", e.Repair.File), slog.Int64("bytes", e.Repair.Bytes))
	case e.State != nil:
		attrs = append(attrs, slog.String("action", e.State.Action), slog.Int("queued", e.State.Queued), slog.Int("pages", e.State.Pages))
	case e.Run != nil:
		attrs = append(attrs, slog.String("reason", e.Run.Reason), slog.Int("pages", e.Run.Pages))
	case e.BotKey != nil:
		attrs = append(attrs, slog.String("action", e.BotKey.Action), slog.String("keyid", e.BotKey.KeyID), slog.String("agent", e.BotKey.Agent))
	case e.Config != nil:
		attrs = append(attrs, slog.String("user_agent", e.Config.UserAgent), slog.Any("settings", e.Config.Settings), slog.Any("relaxations", e.Config.Relaxations))
	}
	l.LogAttrs(ctx, level, "audit "+string(e.Type), attrs...)
	return nil
}

// Discard is a Sink that drops every event.
type Discard struct{}

// Record implements Sink.
func (Discard) Record(context.Context, Event) error { return nil }
