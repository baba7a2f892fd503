package auditcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/audit/tsa"
	"github.com/goodbot/goodbot/audit/witness"
	"github.com/goodbot/goodbot/crawler/output"
	"github.com/goodbot/goodbot/internal/redistest"
	"github.com/goodbot/goodbot/internal/tsatest"
)

const testSite = "127.0.0.1:8080"

// fixture writes a closed log under OUT/audit with events for two sites and
// stored pages for one, and returns OUT and the log options.
func fixture(t *testing.T) (string, audit.Options) {
	t.Helper()
	return fixtureWith(t, nil)
}

// fixtureWith is fixture with the log options changed by set (if not nil).
func fixtureWith(t *testing.T, set func(*audit.Options)) (string, audit.Options) {
	t.Helper()
	root := t.TempDir()
	out := filepath.Join(root, "out")
	opts := audit.Options{KeyFile: filepath.Join(root, "audit.key"), Origin: "goodbot.test/cli",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if set != nil {
		set(&opts)
	}
	l, err := audit.Open(filepath.Join(out, "audit"), opts)
	if err != nil {
		t.Fatal(err)
	}
	store, err := output.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	rec := func(e audit.Event) {
		t.Helper()
		if err := l.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	rec(audit.Event{Type: audit.TypeConfig, Time: t0, Config: &audit.Config{Job: "cli", Version: "0.1.0", UserAgent: "goodbot/0.1.0 (+mailto:ops@example.org)", Settings: map[string]string{"contact": "mailto:ops@example.org"}}})
	robots := []byte("User-agent: *\nDisallow: /private/\n")
	rec(audit.Event{Type: audit.TypeRobots, Time: t0.Add(time.Second), Site: testSite, Robots: &audit.Robots{URL: "http://" + testSite + "/robots.txt", Status: 200, SHA256: sha(robots), Body: robots, Policy: "parsed"}})
	rec(audit.Event{Type: audit.TypeBudget, Time: t0.Add(time.Second), Site: testSite, Budget: &audit.Budget{EstimatePerDay: 1000, Source: "test", Share: 0.1, BudgetPerDay: 100, Interval: 864 * time.Second, Change: "initial", Reason: "test"}})
	for i := range 6 {
		u := fmt.Sprintf("http://%s/p/%d", testSite, i)
		at := t0.Add(time.Duration(i) * 20 * time.Minute)
		html := fmt.Sprintf("<html><body>page %d</body></html>", i)
		d, err := store.Put(output.Record{URL: u, Site: testSite, Time: at, Status: 200, ContentType: "text/html", HTML: html})
		if err != nil {
			t.Fatal(err)
		}
		rec(audit.Event{Type: audit.TypeDecision, Time: at, Site: testSite, Decision: &audit.Decision{RequestID: fmt.Sprint(i), URL: u, Method: "GET", Kind: "page", Verdict: audit.Allow, Reason: "ok", RobotsRule: ""}})
		rec(audit.Event{Type: audit.TypeFetch, Time: at, Site: testSite, Fetch: &audit.Fetch{RequestID: fmt.Sprint(i), URL: u, Method: "GET", UserAgent: "goodbot/0.1.0", Status: 200, Bytes: int64(len(html)), StoredSHA256: d, Class: "ok"}})
	}
	rec(audit.Event{Type: audit.TypeDecision, Time: t0.Add(3 * time.Hour), Site: testSite, Decision: &audit.Decision{RequestID: "x", URL: "http://" + testSite + "/private/a", Method: "GET", Kind: "page", Verdict: audit.Refuse, Reason: "robots", RobotsRule: "disallow: /private/"}})
	rec(audit.Event{Type: audit.TypeComplaint, Time: t0.Add(4 * time.Hour), Site: testSite, Complaint: &audit.Complaint{ID: "c1", Action: "added", Reason: "too many requests"}})
	rec(audit.Event{Type: audit.TypeDeletion, Time: t0.Add(5 * time.Hour), Site: testSite, Deletion: &audit.Deletion{ComplaintID: "c1", Records: 0, Bytes: 0}})
	rec(audit.Event{Type: audit.TypeFetch, Time: t0, Site: "other.example", Fetch: &audit.Fetch{RequestID: "o", URL: "http://other.example/", Method: "GET", UserAgent: "goodbot/0.1.0", Status: 200, Class: "ok"}})
	rec(audit.Event{Type: audit.TypeRun, Time: t0.Add(6 * time.Hour), Run: &audit.Run{Reason: "done", Pages: 6, Sent: 7}})
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return out, opts
}

func sha(b []byte) string { return output.Digest(b) }

func run(args ...string) (int, string, string) {
	var o, e bytes.Buffer
	code := Run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestVerifyAndCheckpoint(t *testing.T) {
	out, opts := fixture(t)
	dir := filepath.Join(out, "audit")
	code, stdout, stderr := run("verify", dir)
	if code != 0 || !strings.HasPrefix(stdout, "ok: ") || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("verify: %d %q %q", code, stdout, stderr)
	}
	code, cp, stderr := run("checkpoint", dir)
	if code != 0 || !strings.HasPrefix(cp, "goodbot.test/cli\n") || !strings.Contains(cp, "\n\n\u2014 ") {
		t.Fatalf("checkpoint: %d %q %q", code, cp, stderr)
	}
	cpFile := filepath.Join(t.TempDir(), "cp.txt")
	os.WriteFile(cpFile, []byte(cp), 0o644)

	// The log grows; it still extends the checkpoint handed out.
	l, err := audit.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	l.Record(context.Background(), audit.Event{Type: audit.TypeRun, Run: &audit.Run{Reason: "done"}})
	l.Close()
	code, stdout, stderr = run("verify", "--checkpoint", cpFile, dir)
	if code != 0 || !strings.Contains(stdout, "extends external checkpoint") {
		t.Fatalf("verify --checkpoint: %d %q %q", code, stdout, stderr)
	}

	// Cut the log back (and drop its own checkpoints): only the external
	// checkpoint catches it.
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.wal"))
	for _, s := range segs[1:] {
		os.Remove(s)
	}
	b, _ := os.ReadFile(segs[0])
	os.WriteFile(segs[0], b[:len(b)/2], 0o640) // torn in the middle of an entry
	os.Remove(filepath.Join(dir, "checkpoints"))
	code, _, stderr = run("verify", "--checkpoint", cpFile, dir)
	if code != 1 || !strings.Contains(stderr, "truncated") || !strings.Contains(stderr, "entry ") {
		t.Fatalf("verify of a cut log: %d %q", code, stderr)
	}
}

func TestVerifyNamesBadEntry(t *testing.T) {
	out, _ := fixture(t)
	dir := filepath.Join(out, "audit")
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.wal"))
	b, _ := os.ReadFile(segs[0])
	i := bytes.Index(b, []byte(`"p/3"`))
	if i < 0 {
		i = bytes.Index(b, []byte(`/p/3`))
	}
	b[i+1] = 'q'
	os.WriteFile(segs[0], b, 0o640)
	code, _, stderr := run("verify", dir)
	if code != 1 || !strings.Contains(stderr, "bad CRC") || !strings.Contains(stderr, "entry ") {
		t.Fatalf("verify: %d %q", code, stderr)
	}
}

func TestShow(t *testing.T) {
	out, _ := fixture(t)
	dir := filepath.Join(out, "audit")
	code, stdout, stderr := run("show", dir, "--site", testSite, "--type", "fetch")
	if code != 0 || strings.Count(stdout, "\n") != 6 || strings.Contains(stdout, "other.example") {
		t.Fatalf("show: %d %q %q", code, stdout, stderr)
	}
	code, stdout, _ = run("show", dir, "--json", "--type", "decision", "--since", "2026-11-20T10:30:00Z")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("show --json --since: %d %q", code, stdout)
	}
	for _, ln := range lines {
		if _, err := audit.ParseEntry([]byte(ln)); err != nil {
			t.Errorf("show --json printed a non-entry %q: %v", ln, err)
		}
	}
	if code, _, _ := run("show", dir, "--since", "yesterday"); code != 2 {
		t.Errorf("bad --since: exit %d, want 2", code)
	}
}

func TestProve(t *testing.T) {
	out, _ := fixture(t)
	dir := filepath.Join(out, "audit")
	code, stdout, stderr := run("prove", dir, "--entry", "5")
	if code != 0 {
		t.Fatalf("prove: %d %q", code, stderr)
	}
	var got struct {
		Entry      json.RawMessage
		Proof      audit.InclusionProof
		Checkpoint string
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	vk := strings.TrimSpace(mustRead(t, filepath.Join(dir, "keys")))
	cp, err := audit.OpenCheckpoint([]byte(got.Checkpoint), []string{vk})
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Proof.Check(cp); err != nil || got.Proof.Seq != 5 {
		t.Fatalf("proof of entry %d: %v", got.Proof.Seq, err)
	}
	if code, _, _ := run("prove", dir, "--entry", "9999"); code != 1 {
		t.Errorf("prove of a missing entry: exit %d", code)
	}
	if code, _, _ := run("prove", dir); code != 2 {
		t.Errorf("prove without --entry: exit %d", code)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestExportVerifyBundle(t *testing.T) {
	out, opts := fixture(t)
	dir := filepath.Join(out, "audit")
	bundle := filepath.Join(t.TempDir(), "bundle")
	if code, _, stderr := run("export", dir, "--site", testSite, "-o", bundle, "--sign", filepath.Join(t.TempDir(), "none")); code != 1 || !strings.Contains(stderr, "--sign KEYFILE") {
		t.Fatalf("export without the key: %d %q", code, stderr)
	}
	code, stdout, stderr := run("export", dir, "--site", testSite, "-o", bundle, "--sign", opts.KeyFile, "--purpose", "price research")
	if code != 0 || !strings.Contains(stdout, "6 pages") {
		t.Fatalf("export: %d %q %q", code, stdout, stderr)
	}
	code, stdout, stderr = run("verify-bundle", bundle)
	if code != 0 || !strings.Contains(stdout, "6 stored pages") || !strings.Contains(stdout, "(6 matched to fetch entries)") {
		t.Fatalf("verify-bundle: %d %q %q", code, stdout, stderr)
	}
	os.WriteFile(filepath.Join(bundle, "report.html"), []byte("<p>nothing to see</p>"), 0o644)
	if code, _, stderr := run("verify-bundle", bundle); code != 1 || !strings.Contains(stderr, "report.html") {
		t.Fatalf("verify-bundle of an altered bundle: %d %q", code, stderr)
	}
}

// TestTimestampedVerify runs goodbot audit verify, export and
// verify-bundle on a log time-stamped by a real TSA (openssl ts).
func TestTimestampedVerify(t *testing.T) {
	s := tsatest.Start(t, tsatest.Options{ECDSA: true})
	other := tsatest.Start(t, tsatest.Options{ECDSA: true})
	out, opts := fixtureWith(t, func(o *audit.Options) { o.Timestamper = &tsa.Client{URL: s.URL} })
	dir := filepath.Join(out, "audit")
	code, stdout, stderr := run("verify", "--tsa-ca", s.CAFile, dir)
	if code != 0 || !strings.Contains(stdout, "verified against the TSA CA") || !strings.Contains(stdout, "goodbot test TSA") {
		t.Fatalf("verify --tsa-ca: %d %q %q", code, stdout, stderr)
	}
	if code, stdout, _ = run("verify", dir); code != 0 || !strings.Contains(stdout, "NOT for trust") {
		t.Fatalf("verify without --tsa-ca: %d %q", code, stdout)
	}
	if code, _, stderr = run("verify", "--tsa-ca", other.CAFile, dir); code != 1 || !strings.Contains(stderr, "checkpoint at size") || !strings.Contains(stderr, "does not chain") {
		t.Fatalf("verify against another CA: %d %q", code, stderr)
	}
	if code, _, stderr = run("verify", "--tsa-ca", filepath.Join(dir, "keys"), dir); code != 2 || !strings.Contains(stderr, "no PEM certificate") {
		t.Fatalf("verify --tsa-ca with a file that is not PEM: %d %q", code, stderr)
	}
	bundle := filepath.Join(t.TempDir(), "bundle")
	if code, stdout, stderr = run("export", dir, "--site", testSite, "-o", bundle, "--sign", opts.KeyFile); code != 0 {
		t.Fatalf("export: %d %q %q", code, stdout, stderr)
	}
	if code, stdout, stderr = run("verify-bundle", "--tsa-ca", s.CAFile, bundle); code != 0 || !strings.Contains(stdout, "checkpoint time-stamped at") || !strings.Contains(stdout, "verified against the TSA CA") {
		t.Fatalf("verify-bundle --tsa-ca: %d %q %q", code, stdout, stderr)
	}
	if code, stdout, _ = run("verify-bundle", bundle); code != 0 || !strings.Contains(stdout, "NOT for trust") {
		t.Fatalf("verify-bundle without --tsa-ca: %d %q", code, stdout)
	}
	if code, _, stderr = run("verify-bundle", "--tsa-ca", other.CAFile, bundle); code != 1 || !strings.Contains(stderr, "checkpoint.tsr") {
		t.Fatalf("verify-bundle against another CA: %d %q", code, stderr)
	}
}

// TestCosignedVerify: a log whose job witness cosigned its checkpoints
// verifies against the cosigned checkpoint with --witness-key, exports a
// bundle with the cosignature, and verify-bundle checks it.
func TestCosignedVerify(t *testing.T) {
	addr := redistest.Addr(t)
	rc := redistest.Client(t, addr)
	job := redistest.Namespace(t)
	keyFile := filepath.Join(t.TempDir(), "witness.key")
	code, stdout, stderr := run("witness-key", "-o", keyFile, "witness.goodbot.test/cli")
	if code != 0 || !strings.HasPrefix(stdout, "witness public key (cosignature/v1): witness.goodbot.test/cli+") {
		t.Fatalf("witness-key: %d %q %q", code, stdout, stderr)
	}
	wkey := strings.TrimSpace(strings.TrimPrefix(stdout, "witness public key (cosignature/v1): "))
	c, err := witness.NewCosigner(mustRead(t, keyFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, opts := fixtureWith(t, func(o *audit.Options) {
		o.Anchor = witness.Redis{Client: rc, Prefix: witness.JobPrefix(job), Cosigner: c}
	})
	dir := filepath.Join(out, "audit")
	url := "redis://" + addr
	code, stdout, stderr = run("verify", "--redis", url, "--job", job, "--witness-key", wkey, dir)
	if code != 0 || !strings.Contains(stdout, "that witness "+wkey+" cosigned at") {
		t.Fatalf("verify --witness-key: %d %q %q", code, stdout, stderr)
	}
	_, other, _ := witness.GenerateCosignerKey("witness.goodbot.test/cli")
	if code, _, stderr = run("verify", "--redis", url, "--job", job, "--witness-key", other, dir); code != 1 || !strings.Contains(stderr, "no valid cosignature") {
		t.Fatalf("verify with another witness key: %d %q", code, stderr)
	}
	if code, _, stderr = run("verify", "--witness-key", wkey, dir); code != 2 {
		t.Fatalf("--witness-key without --redis: %d %q", code, stderr)
	}
	bundle := filepath.Join(t.TempDir(), "bundle")
	if code, stdout, stderr = run("export", dir, "--site", testSite, "-o", bundle, "--sign", opts.KeyFile, "--redis", url, "--job", job); code != 0 || stderr != "" {
		t.Fatalf("export --redis: %d %q %q", code, stdout, stderr)
	}
	if code, stdout, stderr = run("verify-bundle", "--witness-key", wkey, bundle); code != 0 || !strings.Contains(stdout, "cosigned by witness "+wkey) {
		t.Fatalf("verify-bundle --witness-key: %d %q %q", code, stdout, stderr)
	}
	if code, _, stderr = run("verify-bundle", "--witness-key", other, bundle); code != 1 {
		t.Fatalf("verify-bundle with another witness key: %d %q", code, stderr)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"bogus"}, {"verify"}, {"verify", "a", "b"}, {"export", "dir"}, {"show", "dir", "--site", "http://x/"}} {
		if code, _, _ := run(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, _, stderr := run("verify", filepath.Join(t.TempDir(), "none")); code != 1 || stderr == "" {
		t.Errorf("verify of a missing dir: exit %d %q", code, stderr)
	}
}

func TestRotateKeyAndPrune(t *testing.T) {
	out, opts := fixture(t)
	dir := filepath.Join(out, "audit")
	old := strings.TrimSpace(mustRead(t, filepath.Join(dir, "keys")))
	code, stdout, stderr := run("rotate-key", dir, "--key-file", opts.KeyFile)
	if code != 0 || !strings.HasPrefix(stdout, "new public key: goodbot.test/cli+") {
		t.Fatalf("rotate-key: %d %q %q", code, stdout, stderr)
	}
	code, stdout, stderr = run("verify", "--key", old, dir)
	if code != 0 {
		t.Fatalf("verify with the old key after rotation: %d %q %q", code, stdout, stderr)
	}
	code, stdout, _ = run("prune", dir, "--key-file", opts.KeyFile)
	if code != 0 || !strings.Contains(stdout, "pruned 0 segments") {
		t.Fatalf("prune: %d %q", code, stdout)
	}
	if code, _, stderr := run("prune", dir, "--key-file", opts.KeyFile, "--retention", "720h"); code != 2 || !strings.Contains(stderr, "--retention 720h0m0s: want at least 4320h0m0s") {
		t.Fatalf("prune with 30-day retention: %d %q", code, stderr)
	}
}

// After a crash before the first checkpoint, the log can be checkpointed
// from what is durable: the advice of the error leads somewhere.
func TestCheckpointAfterEarlyCrash(t *testing.T) {
	root := t.TempDir()
	live := filepath.Join(root, "live")
	opts := audit.Options{KeyFile: filepath.Join(root, "audit.key"), Origin: "goodbot.test/cli",
		CheckpointEvery: -1, CheckpointEntries: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	l, err := audit.Open(live, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 3 {
		if err := l.Record(context.Background(), audit.Event{Type: audit.TypeRun, Time: time.Now().UTC(), Run: &audit.Run{Reason: "done", Pages: i}}); err != nil {
			t.Fatal(err)
		}
	}
	// What a crash leaves: the durable files, no checkpoint, no lock holder.
	crashed := filepath.Join(root, "crashed")
	if err := os.MkdirAll(crashed, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(live)
	for _, e := range ents {
		if e.IsDir() || e.Name() == "LOCK" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(live, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(crashed, e.Name()), b, 0o640)
	}
	code, _, stderr := run("checkpoint", crashed)
	if code == 0 || !strings.Contains(stderr, "--sign") {
		t.Fatalf("checkpoint without one: exit %d, %q", code, stderr)
	}
	code, cp, stderr := run("checkpoint", "--sign", opts.KeyFile, crashed)
	if code != 0 || !strings.HasPrefix(cp, "goodbot.test/cli\n") {
		t.Fatalf("checkpoint --sign: exit %d, %q %q", code, cp, stderr)
	}
	if code, stdout, stderr := run("verify", crashed); code != 0 || !strings.HasPrefix(stdout, "ok: ") {
		t.Fatalf("verify after signing: %d %q %q", code, stdout, stderr)
	}
}

// goodbot audit verify never says "ok" to nothing: each case exits 1 and
// names the problem and the file.
func TestVerifyFailsClosed(t *testing.T) {
	empty := t.TempDir()
	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "hosts"), []byte("127.0.0.1 localhost\n"), 0o644)
	os.WriteFile(filepath.Join(foreign, "seg-notes.txt"), []byte("minutes of the meeting\n"), 0o644)
	cases := []struct{ name, dir, want string }{
		{"empty directory", empty, "not an operation log"},
		{"foreign directory", foreign, "not an operation log"},
	}
	if fi, err := os.Stat("/etc"); err == nil && fi.IsDir() {
		cases = append(cases, struct{ name, dir, want string }{"/etc", "/etc", "not an operation log"})
	}

	// Random bytes over the checkpoints file.
	out, _ := fixture(t)
	garbage := filepath.Join(out, "audit")
	junk := make([]byte, 2048)
	for i := range junk {
		junk[i] = byte(i*131 + i*i*7 + 0x5b) // not a frame: the first length is impossible
	}
	os.WriteFile(filepath.Join(garbage, "checkpoints"), junk, 0o640)
	cases = append(cases, struct{ name, dir, want string }{"random checkpoints", garbage, filepath.Join(garbage, "checkpoints")})

	// A log whose early segments were pruned and whose keys file is lost:
	// nothing says which key signs it.
	root := t.TempDir()
	noKey := filepath.Join(root, "audit")
	l, err := audit.Open(noKey, audit.Options{KeyFile: filepath.Join(root, "k"), Origin: "goodbot.test/cli", SegmentBytes: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		l.Record(context.Background(), audit.Event{Type: audit.TypeRun, Time: time.Now().UTC(), Run: &audit.Run{Reason: "done", Pages: i}})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(noKey, "seg-*.wal"))
	if len(segs) < 2 {
		t.Fatalf("want several segments, got %v", segs)
	}
	os.Remove(segs[0])
	os.Remove(filepath.Join(noKey, "keys"))
	cases = append(cases, struct{ name, dir, want string }{"no key", noKey, "no key: entries 0-"})

	for _, tc := range cases {
		code, stdout, stderr := run("verify", tc.dir)
		if code != 1 || stdout != "" || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, tc.dir) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 naming %q and %s", tc.name, code, stdout, stderr, tc.want, tc.dir)
		}
	}
}
