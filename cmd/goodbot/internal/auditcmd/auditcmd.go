// Package auditcmd implements "goodbot audit": verifying, showing, proving
// and exporting goodbot's tamper-evident operation log, offline.
package auditcmd

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/audit/evidence"
	"github.com/goodbot/goodbot/audit/tsa"
	"github.com/goodbot/goodbot/audit/witness"
	"github.com/goodbot/goodbot/cmd/goodbot/internal/cliflag"
	"github.com/goodbot/goodbot/crawler"
	"github.com/goodbot/goodbot/internal/redisconn"
	"github.com/goodbot/goodbot/internal/site"
)

const usage = `usage: goodbot audit COMMAND [flags]

commands:
  verify [--checkpoint FILE] [--key VKEY]... [--tsa-ca PEM]
         [--redis URL --job NAME [--witness-key VKEY]...] DIR
      check the log and its RFC 3161 time-stamp tokens; exit 0 with a
      one-line summary if intact, 1 naming the first bad entry and the
      problem; with --witness-key, also the witness's cosignature
  checkpoint [--sign KEYFILE] DIR
      print the latest signed checkpoint, to hand to a counterparty or witness
  show DIR [--site HOST] [--type T] [--since TIME] [--json]
      list entries (TIME is RFC 3339 or a date, 2006-01-02)
  prove DIR --entry N [--checkpoint FILE]
      print an inclusion proof of entry N (JSON)
  export DIR --site HOST -o BUNDLE [--out OUTDIR] [--sign KEYFILE] [--purpose TEXT]
         [--redis URL --job NAME]
      write the evidence bundle for one site (OUTDIR defaults to DIR/..); its
      manifest is signed with the log's key (default: the log's default key);
      with --redis and --job it carries the job witness's cosignature
  verify-bundle [--tsa-ca PEM] [--witness-key VKEY]... BUNDLE
      check an evidence bundle offline
  witness-key -o FILE NAME
      make a witness key (C2SP cosignature/v1) named NAME, e.g.
      witness.example.org/goodbot, for goodbot crawl --witness-key-file;
      prints the public key to give to verifiers
  rotate-key DIR --key-file FILE
      replace the signing key (the log must not be open elsewhere); the new
      public key is recorded in the log, endorsed by the old one
  prune DIR --key-file FILE [--retention DURATION]
      remove segments older than the retention (at least 180 days, the
      default); hashes and checkpoints are kept, so proofs still verify
`

// Run runs "goodbot audit" with args (the words after "audit") and returns
// the exit status: 0 success, 1 verification failed or an error, 2 usage.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	var err error
	switch cmd {
	case "verify":
		err = runVerify(ctx, args, stdout, stderr)
	case "checkpoint":
		err = runCheckpoint(ctx, args, stdout, stderr)
	case "show":
		err = runShow(ctx, args, stdout, stderr)
	case "prove":
		err = runProve(ctx, args, stdout, stderr)
	case "export":
		err = runExport(ctx, args, stdout, stderr)
	case "verify-bundle":
		err = runVerifyBundle(ctx, args, stdout, stderr)
	case "witness-key":
		err = runWitnessKey(args, stdout, stderr)
	case "rotate-key":
		err = runWriter(ctx, "rotate-key", args, stdout, stderr)
	case "prune":
		err = runWriter(ctx, "prune", args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "goodbot audit: unknown command %q\n%s", cmd, usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "goodbot audit %s: %v\n", cmd, err)
		return 2
	case errors.Is(err, flag.ErrHelp):
		return 2
	default:
		fmt.Fprintf(stderr, "goodbot audit %s: FAILED: %v\n", cmd, err)
		return 1
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// parse parses flags anywhere among the arguments and returns the
// positional ones, of which it wants exactly want.
func parse(fs *flag.FlagSet, args []string, want int, what string) ([]string, error) {
	pos, err := cliflag.Parse(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err.Error()}
	}
	if len(pos) != want {
		return nil, usageError{fmt.Sprintf("want %s, got %d arguments", what, len(pos))}
	}
	return pos, nil
}

type keyList []string

func (k *keyList) String() string     { return strings.Join(*k, ",") }
func (k *keyList) Set(v string) error { *k = append(*k, v); return nil }

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("goodbot audit "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// verifyFlags adds the flags that configure log verification.
func verifyFlags(fs *flag.FlagSet) (cpFile *string, keys *keyList, keyFile *string) {
	cpFile = fs.String("checkpoint", "", "a signed checkpoint held elsewhere; prove the log extends it")
	keys = &keyList{}
	fs.Var(keys, "key", "a trusted public key (note verifier key); repeatable. Default: the log's first key")
	keyFile = fs.String("key-file", "", "a file of trusted public keys, one a line")
	return
}

// tsaCAFlag adds --tsa-ca, the CA certificates that RFC 3161 time-stamp
// tokens must chain to.
func tsaCAFlag(fs *flag.FlagSet) *string {
	return fs.String("tsa-ca", "", "PEM file of the CA certificates the checkpoints' RFC 3161 time-stamp tokens must chain to (without it tokens are checked for consistency, not trust)")
}

// witnessKeyFlag adds --witness-key, a witness's cosignature/v1 key.
func witnessKeyFlag(fs *flag.FlagSet) *keyList {
	k := &keyList{}
	fs.Var(k, "witness-key", "a witness's cosignature/v1 public key (C2SP tlog-cosignature, NAME+HASH+BASE64); it must have cosigned the checkpoint; repeatable")
	return k
}

// tsaRoots loads --tsa-ca, or returns nil when it is not given.
func tsaRoots(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	p, err := tsa.LoadRoots(file)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--tsa-ca: %v", err)}
	}
	return p, nil
}

func verifyOptions(cpFile string, keys keyList, keyFile string) (audit.VerifyOptions, error) {
	var o audit.VerifyOptions
	if cpFile != "" {
		b, err := os.ReadFile(cpFile)
		if err != nil {
			return o, err
		}
		o.Checkpoint = b
	}
	o.Keys = keys
	if keyFile != "" {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return o, err
		}
		o.Keys = append(o.Keys, strings.Fields(string(b))...)
	}
	return o, nil
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	cpFile, keys, keyFile := verifyFlags(fs)
	redisURL := fs.String("redis", "", "with --job: also prove the log extends the latest checkpoint the job's other workers witnessed")
	job := fs.String("job", "", "the distributed job whose Redis witnessed the log")
	tsaCA := tsaCAFlag(fs)
	wkeys := witnessKeyFlag(fs)
	pos, err := parse(fs, args, 1, "DIR")
	if err != nil {
		return err
	}
	if (*redisURL == "") != (*job == "") {
		return usageError{"--redis and --job go together"}
	}
	if len(*wkeys) > 0 && *redisURL == "" {
		return usageError{"--witness-key needs --redis and --job: the cosigned checkpoints are kept by the job's witness"}
	}
	o, err := verifyOptions(*cpFile, *keys, *keyFile)
	if err != nil {
		return err
	}
	if o.TSARoots, err = tsaRoots(*tsaCA); err != nil {
		return err
	}
	sum, err := audit.Verify(ctx, pos[0], o)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	fmt.Fprintln(stdout, sum)
	if *redisURL == "" {
		return nil
	}
	return verifyWitnessed(ctx, pos[0], sum.Origin, *redisURL, *job, *wkeys, o, stdout)
}

// verifyWitnessed proves that the log in dir is a consistent extension of
// the latest checkpoint of it that a distributed job's Redis witnessed: the
// log was neither cut nor rewritten since.
func verifyWitnessed(ctx context.Context, dir, origin, redisURL, job string, wkeys []string, o audit.VerifyOptions, stdout io.Writer) error {
	w, closeRedis, err := jobWitness(ctx, redisURL, job)
	if err != nil {
		return err
	}
	defer closeRedis()
	cp, err := w.Latest(ctx, origin)
	if err != nil {
		return err
	}
	if cp == nil {
		return fmt.Errorf("%s: job %s has witnessed no checkpoint of log %s", dir, job, origin)
	}
	o.Checkpoint = cp
	if _, err := audit.Verify(ctx, dir, o); err != nil {
		return fmt.Errorf("%s: against the checkpoint witnessed in job %s: %w", dir, job, err)
	}
	size := strings.SplitN(string(cp), "\n", 3)[1]
	fmt.Fprintf(stdout, "ok: the log extends the checkpoint of size %s that job %s witnessed\n", size, job)
	if len(wkeys) == 0 {
		return nil
	}
	cosigned, err := w.Cosigned(ctx, origin)
	if err != nil {
		return err
	}
	if cosigned == nil {
		return fmt.Errorf("%s: job %s's witness has cosigned no checkpoint of log %s", dir, job, origin)
	}
	for _, k := range wkeys {
		at, err := witness.VerifyCosignature(cosigned, k)
		if err != nil {
			return fmt.Errorf("%s: the latest cosigned checkpoint: %w", dir, err)
		}
		o.Checkpoint = cosigned
		if _, err := audit.Verify(ctx, dir, o); err != nil {
			return fmt.Errorf("%s: against the checkpoint cosigned by %s: %w", dir, k, err)
		}
		size := strings.SplitN(string(cosigned), "\n", 3)[1]
		fmt.Fprintf(stdout, "ok: the log extends the checkpoint of size %s that witness %s cosigned at %s\n", size, k, at.Format(time.RFC3339))
	}
	return nil
}

// jobWitness connects to the Redis witness of a distributed job.
func jobWitness(ctx context.Context, redisURL, job string) (witness.Redis, func(), error) {
	rc, _, err := redisconn.Open(ctx, redisURL, 0)
	if errors.Is(err, redisconn.ErrBadURL) {
		return witness.Redis{}, nil, usageError{"--redis: " + err.Error()}
	}
	if err != nil {
		return witness.Redis{}, nil, fmt.Errorf("--redis: %w", err)
	}
	return witness.Redis{Client: rc, Prefix: witness.JobPrefix(job)}, func() { rc.Close() }, nil
}

func runCheckpoint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("checkpoint", stderr)
	cpFile, keys, keyFile := verifyFlags(fs)
	sign := fs.String("sign", "", "the log's private signing key (the crawl's --audit-key): sign a checkpoint over every durable entry not covered yet, e.g. after a crash before the first one")
	pos, err := parse(fs, args, 1, "DIR")
	if err != nil {
		return err
	}
	o, err := verifyOptions(*cpFile, *keys, *keyFile)
	if err != nil {
		return err
	}
	// Only hand out a checkpoint of a log that verifies.
	sum, err := audit.Verify(ctx, pos[0], o)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *sign != "" && (sum.Checkpoint.Size == 0 || sum.Unsigned > 0) {
		// Opening the log recovers a torn tail (recorded in the log) and
		// refuses while a crawl holds it; closing signs over every entry.
		origin := sum.Origin
		if sum.Checkpoint.Size == 0 {
			// No checkpoint names the log yet: its key does
			// ("PRIVATE+KEY+origin+hash+key").
			b, err := os.ReadFile(*sign)
			if err != nil {
				return err
			}
			// The key's base64 may hold '+' too; the name may not.
			parts := strings.SplitN(strings.TrimSpace(string(b)), "+", 4)
			if len(parts) != 4 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
				return fmt.Errorf("%s: not a signing key (want PRIVATE+KEY+…)", *sign)
			}
			origin = parts[2]
		}
		l, err := audit.Open(pos[0], audit.Options{KeyFile: *sign, Origin: origin, CheckpointEvery: -1,
			Logger: slog.New(slog.NewTextHandler(stderr, nil))})
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		if err := l.Close(); err != nil {
			return fmt.Errorf("%s: signing a checkpoint: %w", pos[0], err)
		}
		if sum, err = audit.Verify(ctx, pos[0], o); err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
	}
	if sum.Checkpoint.Size == 0 {
		return fmt.Errorf("%s: no signed checkpoint yet (a running crawl writes one every minute, and one when it ends); to sign one over what is durable now: goodbot audit checkpoint --sign KEYFILE %s", pos[0], pos[0])
	}
	if sum.Unsigned > 0 {
		fmt.Fprintf(stderr, "goodbot audit checkpoint: note: %d newer entries are not covered yet\n", sum.Unsigned)
	}
	_, err = stdout.Write(sum.Checkpoint.Note)
	return err
}

func runShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("show", stderr)
	siteFlag := fs.String("site", "", "only entries about this site (host or host:port)")
	typ := fs.String("type", "", "only entries of this type (config, decision, fetch, robots, budget, pii, complaint, deletion, repair, checkpoint, key, run, recovery, prune)")
	since := fs.String("since", "", "only entries at or after this time (RFC 3339, or 2006-01-02)")
	asJSON := fs.Bool("json", false, "print entries as stored, one JSON object a line")
	pos, err := parse(fs, args, 1, "DIR")
	if err != nil {
		return err
	}
	var key string
	if *siteFlag != "" {
		if key, err = site.Parse(*siteFlag); err != nil {
			return usageError{err.Error()}
		}
	}
	var t0 time.Time
	if *since != "" {
		if t0, err = parseTime(*since); err != nil {
			return usageError{err.Error()}
		}
	}
	w := newLineWriter(stdout)
	shown := 0
	o := audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		ev := &e.Event
		if key != "" && ev.Site != key || *typ != "" && string(ev.Type) != *typ || !t0.IsZero() && ev.Time.Before(t0) {
			return nil
		}
		shown++
		if *asJSON {
			return w.line(string(e.Raw))
		}
		return w.line(describe(e))
	}}
	_, err = audit.Verify(ctx, pos[0], o)
	if err != nil {
		return fmt.Errorf("%s: stopped after %d entries shown: %w", pos[0], shown, err)
	}
	return w.err
}

type lineWriter struct {
	w   io.Writer
	err error
}

func newLineWriter(w io.Writer) *lineWriter { return &lineWriter{w: w} }

func (l *lineWriter) line(s string) error {
	if l.err == nil {
		_, l.err = io.WriteString(l.w, s+"\n")
	}
	return l.err
}

func parseTime(s string) (time.Time, error) {
	for _, f := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(f, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want RFC 3339 (2026-11-23T10:00:00Z) or a date (2026-11-23)", s)
}

// describe renders one entry as a line for humans.
func describe(e *audit.Entry) string {
	ev := &e.Event
	var b strings.Builder
	fmt.Fprintf(&b, "%6d  %s  %-10s", e.Seq, ev.Time.Format("2006-01-02T15:04:05.000000Z"), ev.Type)
	if ev.Site != "" {
		fmt.Fprintf(&b, "  %s", ev.Site)
	}
	switch {
	case ev.Decision != nil:
		d := ev.Decision
		fmt.Fprintf(&b, "  %s %s %s: %s", d.Verdict, d.Method, d.URL, d.Reason)
		if d.RobotsRule != "" {
			fmt.Fprintf(&b, " [robots %s]", d.RobotsRule)
		}
	case ev.Fetch != nil:
		f := ev.Fetch
		fmt.Fprintf(&b, "  %s %s -> %d %s, %d bytes", f.Method, f.URL, f.Status, f.Class, f.Bytes)
		if f.Error != "" {
			fmt.Fprintf(&b, " (%s)", f.Error)
		}
	case ev.Robots != nil:
		r := ev.Robots
		fmt.Fprintf(&b, "  %s -> %d, %s, sha256 %s", r.URL, r.Status, r.Policy, r.SHA256)
	case ev.Budget != nil:
		x := ev.Budget
		fmt.Fprintf(&b, "  %s: %.1f/day (estimate %.0f/day from %s), interval %v: %s", x.Change, x.BudgetPerDay, x.EstimatePerDay, x.Source, x.Interval, x.Reason)
	case ev.PII != nil:
		fmt.Fprintf(&b, "  %s %v", ev.PII.URL, ev.PII.Counts)
		if ev.PII.Dropped {
			fmt.Fprintf(&b, " dropped: %s", ev.PII.Reason)
		}
	case ev.Complaint != nil:
		c := ev.Complaint
		fmt.Fprintf(&b, "  %s %s: %s", c.ID, c.Action, c.Reason)
	case ev.Deletion != nil:
		d := ev.Deletion
		fmt.Fprintf(&b, "  %d records, %d bytes deleted (complaint %s)", d.Records, d.Bytes, d.ComplaintID)
	case ev.Config != nil:
		fmt.Fprintf(&b, "  job %q, goodbot %s, %s", ev.Config.Job, ev.Config.Version, ev.Config.UserAgent)
	case ev.Run != nil:
		r := ev.Run
		fmt.Fprintf(&b, "  %s: %d pages, %d sent, %d refused", r.Reason, r.Pages, r.Sent, r.Refused)
	case ev.State != nil:
		st := ev.State
		fmt.Fprintf(&b, "  %s %s: %d queued, %d seen, %d pages", st.Action, st.Dir, st.Queued, st.Seen, st.Pages)
		if st.Reason != "" {
			fmt.Fprintf(&b, ": %s", st.Reason)
		}
	case ev.Repair != nil:
		fmt.Fprintf(&b, "  cut %d bytes (sha256 %s) from %s", ev.Repair.Bytes, ev.Repair.SHA256, ev.Repair.File)
	case ev.Type == audit.TypeCheckpoint:
		fmt.Fprintf(&b, "  size %s root %s", ev.Other["size"], ev.Other["root"])
	case ev.Type == audit.TypeKey:
		fmt.Fprintf(&b, "  %s %s", ev.Other["action"], ev.Other["vkey"])
	case len(ev.Other) > 0:
		o, _ := json.Marshal(ev.Other)
		fmt.Fprintf(&b, "  %s", o)
	}
	return b.String()
}

func runProve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("prove", stderr)
	entry := fs.Int64("entry", -1, "the entry to prove (its sequence number)")
	cpFile, keys, keyFile := verifyFlags(fs)
	pos, err := parse(fs, args, 1, "DIR")
	if err != nil {
		return err
	}
	if *entry < 0 {
		return usageError{"--entry N is required"}
	}
	o, err := verifyOptions(*cpFile, *keys, *keyFile)
	if err != nil {
		return err
	}
	var raw []byte
	o.Visit = func(e *audit.Entry) error {
		if e.Seq == *entry {
			raw = append([]byte(nil), e.Raw...)
		}
		return nil
	}
	p, err := audit.NewProver(ctx, pos[0], o)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	defer p.Close()
	cp := p.Summary.Checkpoint
	if p.Summary.External != nil {
		cp = *p.Summary.External
	}
	if raw == nil {
		return fmt.Errorf("%s: no entry %d (the log has %d entries, of which %d were pruned)", pos[0], *entry, p.Summary.Entries, p.Summary.Pruned)
	}
	if *entry >= cp.Size {
		return fmt.Errorf("%s: entry %d is newer than the checkpoint (size %d); sign a checkpoint first", pos[0], *entry, cp.Size)
	}
	proof, err := p.Inclusion(*entry, cp.Size)
	if err != nil {
		return err
	}
	if err := proof.Check(cp); err != nil {
		return err
	}
	out := struct {
		Entry      json.RawMessage      `json:"entry"`
		Proof      audit.InclusionProof `json:"proof"`
		Checkpoint string               `json:"checkpoint"`
	}{raw, proof, string(cp.Note)}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(b, '\n'))
	return err
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	siteFlag := fs.String("site", "", "the site (host or host:port); required")
	bundle := fs.String("o", "", "the bundle directory to create; required")
	out := fs.String("out", "", "the crawl output directory with sites/ (default: the parent of DIR)")
	sign := fs.String("sign", "", "the log's private signing key, which signs the bundle's manifest (default: the log's default key file, as goodbot crawl uses)")
	purpose := fs.String("purpose", "", "what the crawl was for, for the report (the log records the job, not a purpose)")
	redisURL := fs.String("redis", "", "with --job: put the witness's cosignature of the checkpoint, kept in the job's Redis, in the bundle")
	job := fs.String("job", "", "the distributed job whose Redis witness cosigned the log")
	cpFile, keys, keyFile := verifyFlags(fs)
	pos, err := parse(fs, args, 1, "DIR")
	if err != nil {
		return err
	}
	if *siteFlag == "" || *bundle == "" {
		return usageError{"--site HOST and -o BUNDLE are required"}
	}
	if (*redisURL == "") != (*job == "") {
		return usageError{"--redis and --job go together"}
	}
	o, err := verifyOptions(*cpFile, *keys, *keyFile)
	if err != nil {
		return err
	}
	outDir := *out
	if outDir == "" {
		outDir = filepath.Dir(filepath.Clean(pos[0]))
	}
	signer, err := exportSigner(pos[0], *sign)
	if err != nil {
		return err
	}
	var cosigned [][]byte
	if *redisURL != "" {
		if cosigned, err = jobCosigned(ctx, pos[0], *redisURL, *job); err != nil {
			return err
		}
	}
	info, err := evidence.Export(ctx, pos[0], *bundle, evidence.ExportOptions{Site: *siteFlag, Out: outDir, Verify: o, Signer: signer, Purpose: *purpose, Cosigned: cosigned})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d entries (proved at size %d), %d pages, %d robots.txt copies; open %s in a browser\n",
		*bundle, info.Entries, info.CheckpointSize, info.Pages, info.Robots, filepath.Join(*bundle, evidence.FileReport))
	if *redisURL != "" && info.Cosignatures == 0 {
		fmt.Fprintf(stderr, "goodbot audit export: note: job %s's witness has not cosigned the bundle's checkpoint (size %d); the bundle has no cosignature\n", *job, info.CheckpointSize)
	}
	if len(info.Unproven) > 0 {
		fmt.Fprintf(stderr, "goodbot audit export: note: %d entries are newer than the last checkpoint and have no proof\n", len(info.Unproven))
	}
	return nil
}

// runWitnessKey makes a witness's cosignature key.
func runWitnessKey(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("witness-key", stderr)
	out := fs.String("o", "", "the private key file to create (mode 0600); required")
	pos, err := parse(fs, args, 1, "NAME")
	if err != nil {
		return err
	}
	if *out == "" {
		return usageError{"-o FILE is required"}
	}
	skey, vkey, err := witness.GenerateCosignerKey(pos[0])
	if err != nil {
		return usageError{fmt.Sprintf("NAME %q: %v", pos[0], err)}
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "witness public key (cosignature/v1): %s\n", vkey)
	return nil
}

// jobCosigned returns every checkpoint of the log in dir that the job's
// witness cosigned.
func jobCosigned(ctx context.Context, dir, redisURL, job string) ([][]byte, error) {
	origin, err := audit.LogOrigin(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	w, closeRedis, err := jobWitness(ctx, redisURL, job)
	if err != nil {
		return nil, err
	}
	defer closeRedis()
	return w.AllCosigned(ctx, origin)
}

// exportSigner loads the key that signs a bundle's manifest: the file
// given, or the default key of the log in dir.
func exportSigner(dir, file string) (note.Signer, error) {
	if file == "" {
		origin, err := audit.LogOrigin(dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if origin == "" {
			return nil, fmt.Errorf("%s: %w", dir, audit.ErrNotLog)
		}
		if file, err = crawler.KeyFileFor(origin, true); err != nil {
			return nil, err
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("the bundle's manifest is signed with the log's key; give it with --sign KEYFILE (the crawl's --audit-key): %w", err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: not a signing key: %w", file, err)
	}
	return s, nil
}

func runVerifyBundle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify-bundle", stderr)
	tsaCA := tsaCAFlag(fs)
	wkeys := witnessKeyFlag(fs)
	pos, err := parse(fs, args, 1, "BUNDLE")
	if err != nil {
		return err
	}
	roots, err := tsaRoots(*tsaCA)
	if err != nil {
		return err
	}
	s, err := evidence.VerifyBundleWith(ctx, pos[0], evidence.BundleOptions{TSARoots: roots, WitnessKeys: *wkeys})
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	fmt.Fprintln(stdout, s)
	return nil
}

// runWriter opens the log as its writer for rotate-key and prune.
func runWriter(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(cmd, stderr)
	keyFile := fs.String("key-file", "", "the private signing key file; required")
	retention := fs.Duration("retention", audit.DefaultRetention, "keep segments this long (prune)")
	pos, err := parse(fs, args, 1, "DIR")
	if err != nil {
		return err
	}
	if *keyFile == "" {
		return usageError{"--key-file FILE is required"}
	}
	if *retention < audit.DefaultRetention {
		return usageError{fmt.Sprintf("--retention %v: want at least %v (logs are kept at least six months)", *retention, audit.DefaultRetention)}
	}
	sum, err := audit.Verify(ctx, pos[0], audit.VerifyOptions{})
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	l, err := audit.Open(pos[0], audit.Options{KeyFile: *keyFile, Origin: sum.Origin, Retention: *retention,
		Logger: slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		return err
	}
	switch cmd {
	case "rotate-key":
		var vkey string
		if vkey, err = l.RotateKey(ctx); err == nil {
			fmt.Fprintf(stdout, "new public key: %s\n", vkey)
		}
	case "prune":
		var n int
		if n, err = l.Prune(ctx); err == nil {
			fmt.Fprintf(stdout, "pruned %d segments older than %v\n", n, *retention)
		}
	}
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	return err
}
