package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/cmd/goodbot/internal/cliflag"
	"github.com/goodbot/goodbot/crawler/output"
	"github.com/goodbot/goodbot/internal/site"
	"github.com/goodbot/goodbot/job"
)

const complaintUsage = `Usage:
  goodbot complaint add --site HOST --reason TEXT [--contact WHO] [--evidence FILE] [--wait D]
                        (--redis URL --job NAME | --out DIR [--audit-key FILE])
  goodbot complaint list (--redis URL --job NAME | --out DIR) [--json]
  goodbot complaint resolve ID [--wait D] (--redis URL --job NAME | --out DIR [--audit-key FILE])

A complaint stops every worker crawling the site and deletes what each one
stored from it. add waits until every live worker has confirmed.

A complaint sent through the form of "goodbot serve" is unconfirmed until
the complainant proves control of the site: it stops the site but deletes
nothing. resolve confirms it (a person has looked at it), and the workers
then delete; resolve waits for them as add does.
`

// boardFlags are the flags that name a complaint board.
type boardFlags struct {
	redis, job, out, auditKey string
}

func (b *boardFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.redis, "redis", "", "Redis URL of a distributed job")
	fs.StringVar(&b.job, "job", "", "job name")
	fs.StringVar(&b.out, "out", "", "output directory of a single-machine crawl")
	fs.StringVar(&b.auditKey, "audit-key", "", "the crawl's operation log signing key (with --out)")
}

// open returns the board the flags name, and a function to release it.
func (b *boardFlags) open(ctx context.Context) (job.Board, *job.Complaints, func(), error) {
	switch {
	case b.redis != "" && b.job != "" && b.out == "":
		rc, _, err := openRedis(ctx, b.redis)
		if err != nil {
			return nil, nil, nil, err
		}
		c, err := job.NewComplaints(rc, b.job, job.ComplaintsOptions{})
		if err != nil {
			rc.Close()
			return nil, nil, nil, usageError{err.Error()}
		}
		return c, c, func() { rc.Close() }, nil
	case b.out != "" && b.redis == "" && b.job == "":
		fc, err := job.OpenFileComplaints(b.out)
		if err != nil {
			return nil, nil, nil, err
		}
		return fc, nil, func() {}, nil
	default:
		return nil, nil, nil, usagef("name the board: --redis URL --job NAME for a distributed job, or --out DIR for a single-machine crawl")
	}
}

// parseArgs parses the flags of fs among args and returns the positional
// arguments, of which it wants exactly want (what names them in the
// error). Mistakes are usage errors.
func parseArgs(fs *flag.FlagSet, args []string, want int, what string) ([]string, error) {
	pos, err := cliflag.Parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, err
	}
	if err != nil {
		return nil, usageError{err.Error()}
	}
	if len(pos) != want {
		return nil, usagef("want %s, got %q", what, pos)
	}
	return pos, nil
}

func runComplaint(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, complaintUsage)
		return 2
	}
	var err error
	switch args[0] {
	case "add":
		err = complaintAdd(ctx, args[1:], stdout, stderr)
	case "list":
		err = complaintList(ctx, args[1:], stdout, stderr)
	case "resolve":
		err = complaintResolve(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, complaintUsage)
		return 0
	default:
		err = usagef("unknown subcommand %q", args[0])
	}
	return exitCode(err, "goodbot complaint", complaintUsage, stderr)
}

// exitCode reports err of command cmd on stderr and returns the exit code:
// 0 for none (or a request for help), 2 for a usage error (printed with
// usage), 1 for any other.
func exitCode(err error, cmd, usage string, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprint(stderr, usage)
		return 2
	}
	return 1
}

func complaintAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("goodbot complaint add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var bf boardFlags
	bf.register(fs)
	siteFlag := fs.String("site", "", "the site complained about: host or host:port")
	reason := fs.String("reason", "", "what the operator asked for and why")
	contact := fs.String("contact", "", "who complained")
	evidence := fs.String("evidence", "", "a file the operator sent; only its SHA-256 is kept")
	wait := fs.Duration("wait", 10*time.Second, "how long to wait for the workers to confirm")
	if _, err := parseArgs(fs, args, 0, "no argument besides the flags"); err != nil {
		return err
	}
	if *wait <= 0 {
		return usagef("--wait %v: want a duration above 0", *wait)
	}
	s, err := site.Parse(*siteFlag)
	if err != nil {
		return usagef("--site: %v", err)
	}
	if strings.TrimSpace(*reason) == "" {
		return usagef("--reason is required: it is recorded in every worker's operation log")
	}
	c := job.Complaint{Site: s, Reason: *reason, Contact: *contact, At: time.Now().UTC()}
	if *evidence != "" {
		b, err := os.ReadFile(*evidence)
		if err != nil {
			return fmt.Errorf("--evidence: %w", err)
		}
		sum := sha256.Sum256(b)
		c.EvidenceSHA256 = hex.EncodeToString(sum[:])
	}
	board, redisBoard, release, err := bf.open(ctx)
	if err != nil {
		return err
	}
	defer release()
	id, err := board.Add(ctx, c)
	if err != nil {
		return err
	}
	c.ID = id
	fmt.Fprintf(stdout, "complaint %s: %s is on the stop list\n", id, s)
	return waitApplied(ctx, bf, c, board, redisBoard, *wait, stdout)
}

// waitApplied waits until the workers have applied complaint c (stopped
// and deleted), on a Redis board, or applies it offline on a single
// machine with no crawl running (applyOffline).
func waitApplied(ctx context.Context, bf boardFlags, c job.Complaint, board job.Board, redisBoard *job.Complaints, wait time.Duration, stdout io.Writer) error {
	id := c.ID
	if redisBoard != nil {
		rep, err := redisBoard.WaitAcks(ctx, id, wait)
		if err != nil {
			return err
		}
		for _, a := range rep.Acked {
			fmt.Fprintf(stdout, "confirmed by %s at %s: %d records, %d bytes deleted\n", a.Worker, a.At.UTC().Format(time.RFC3339), a.Deletion.Records, a.Deletion.Bytes)
		}
		if len(rep.Missing) > 0 {
			fmt.Fprintf(stdout, "not confirmed within %s by %s: they apply it when they next read the board\n", wait, strings.Join(rep.Missing, ", "))
			return fmt.Errorf("%d live workers did not confirm", len(rep.Missing))
		}
		if len(rep.Acked) == 0 {
			fmt.Fprintln(stdout, "no live worker: workers apply it when they start")
		}
		return nil
	}
	return applyOffline(ctx, bf, c, board, wait, stdout)
}

// applyOffline applies a complaint to a single machine's output. If a crawl
// is running there, it holds the operation log, applies the complaint
// itself within a second, and applyOffline waits for its confirmation;
// otherwise applyOffline deletes the site's data and records the complaint
// and the deletion in the operation log.
func applyOffline(ctx context.Context, bf boardFlags, c job.Complaint, board job.Board, wait time.Duration, stdout io.Writer) error {
	worker, err := workerID(bf.out)
	if err != nil {
		return err
	}
	// The log keeps its name; one that does not exist yet gets the
	// default name a crawl with no contact would give it.
	origin, keyFile, _, err := logIdentity(filepath.Join(bf.out, "audit"), "", bf.auditKey, "", "", worker)
	if err != nil {
		return err
	}
	alog, err := audit.Open(filepath.Join(bf.out, "audit"), audit.Options{KeyFile: keyFile, Origin: origin,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		// Most likely a running crawl holds the log: it applies the
		// complaint. Wait for it to confirm.
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) {
			acks, aerr := board.Acks(ctx, c.ID)
			if i := slices.IndexFunc(acks, func(a job.Ack) bool { return a.Covers(c) }); aerr == nil && i >= 0 {
				a := acks[i]
				fmt.Fprintf(stdout, "confirmed by the running crawl %s: %d records, %d bytes deleted\n", a.Worker, a.Deletion.Records, a.Deletion.Bytes)
				return nil
			}
			if !sleepCtx(ctx, 100*time.Millisecond) {
				return ctx.Err()
			}
		}
		return fmt.Errorf("the operation log could not be opened (%v) and no running crawl confirmed within %s; the site is on the stop list, and the deletion happens when a crawl next starts on %s", err, wait, bf.out)
	}
	del, derr := output.DeleteSite(ctx, bf.out, c.Site)
	d := audit.Deletion{ComplaintID: c.ID, Records: del.Records, Bytes: del.Bytes, Digests: del.Digests}
	errs := []error{derr,
		alog.Record(ctx, audit.Event{Type: audit.TypeComplaint, Site: c.Site, Complaint: c.Audit("applied")}),
		alog.Record(ctx, audit.Event{Type: audit.TypeDeletion, Site: c.Site, Deletion: &d}),
		alog.Close(),
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := board.Ack(ctx, c.ID, worker, d); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied: %d records, %d bytes deleted from %s; recorded in %s\n", d.Records, d.Bytes, bf.out, filepath.Join(bf.out, "audit"))
	return nil
}

func complaintList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("goodbot complaint list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var bf boardFlags
	bf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseArgs(fs, args, 0, "no argument besides the flags"); err != nil {
		return err
	}
	board, _, release, err := bf.open(ctx)
	if err != nil {
		return err
	}
	defer release()
	cs, err := board.List(ctx)
	if err != nil {
		return err
	}
	type entry struct {
		job.Complaint
		Acks []job.Ack `json:"acks"`
	}
	var all []entry
	for _, c := range cs {
		acks, err := board.Acks(ctx, c.ID)
		if err != nil {
			return err
		}
		all = append(all, entry{c, acks})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	if len(all) == 0 {
		fmt.Fprintln(stdout, "no complaints")
	}
	for _, e := range all {
		fmt.Fprintf(stdout, "%s  %s  %-8s %s  %q", e.ID, e.At.UTC().Format(time.RFC3339), e.State(), e.Site, e.Reason)
		if e.Contact != "" {
			fmt.Fprintf(stdout, "  from %s", e.Contact)
		}
		fmt.Fprintf(stdout, "  confirmed by %d workers\n", len(e.Acks))
	}
	return nil
}

func complaintResolve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("goodbot complaint resolve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var bf boardFlags
	bf.register(fs)
	wait := fs.Duration("wait", 10*time.Second, "how long to wait for the workers to delete, when the complaint was unconfirmed")
	// The ID may come before, between or after the flags.
	pos, err := parseArgs(fs, args, 1, "the complaint ID")
	if err != nil {
		return err
	}
	if *wait <= 0 {
		return usagef("--wait %v: want a duration above 0", *wait)
	}
	id := pos[0]
	board, redisBoard, release, err := bf.open(ctx)
	if err != nil {
		return err
	}
	defer release()
	cs, err := board.List(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(cs, func(c job.Complaint) bool { return c.ID == id })
	if i < 0 {
		return fmt.Errorf("resolve %q: %w", id, job.ErrNoComplaint)
	}
	if err := board.Resolve(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "complaint %s resolved; its site stays on the stop list\n", id)
	if c := cs[i]; c.Unconfirmed {
		// Resolving confirmed it: now the site's data goes.
		fmt.Fprintf(stdout, "complaint %s was unconfirmed: confirmed now, deleting what was stored from %s\n", id, c.Site)
		c.Unconfirmed = false
		return waitApplied(ctx, bf, c, board, redisBoard, *wait, stdout)
	}
	return nil
}
