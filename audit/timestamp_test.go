package audit

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit/tsa"
	"github.com/goodbot/goodbot/internal/tsatest"
)

func timestampedLog(t *testing.T, s *tsatest.TSA) (*Log, string, Options) {
	t.Helper()
	opts := Options{CheckpointEntries: 20, CheckpointEvery: -1, Timestamper: &tsa.Client{URL: s.URL}, TimestampTimeout: 20 * time.Second}
	l, dir := testLog(t, opts)
	opts.KeyFile = filepath.Join(filepath.Dir(dir), "key", "audit.key")
	opts.Logger, opts.Origin = quietLogger(), "goodbot.test/unit"
	return l, dir, opts
}

func TestTimestampedCheckpoints(t *testing.T) {
	s := tsatest.Start(t, tsatest.Options{})
	other := tsatest.Start(t, tsatest.Options{ECDSA: true})
	l, dir, _ := timestampedLog(t, s)
	recordN(t, l, 0, 45) // checkpoints at 20 and 40 (+ their entries)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	list, bad, err := ReadTimestamps(dir)
	if err != nil || len(bad) != 0 {
		t.Fatalf("read tokens: %v, damage %v", err, bad)
	}
	if len(list) < 3 || int64(len(list)) != s.Requests.Load() {
		t.Fatalf("%d tokens kept, %d issued; want one per checkpoint (at least 3)", len(list), s.Requests.Load())
	}
	sum, err := Verify(ctx, dir, VerifyOptions{TSARoots: s.Roots})
	if err != nil {
		t.Fatal(err)
	}
	ts := sum.Timestamps
	if ts == nil || ts.Tokens != len(list) || !ts.Trusted || ts.LatestSize != sum.Checkpoint.Size || !strings.Contains(ts.LatestTSA, "goodbot test TSA") {
		t.Fatalf("timestamps summary %+v for checkpoint size %d", ts, sum.Checkpoint.Size)
	}
	if !strings.Contains(sum.String(), "verified against the TSA CA") {
		t.Errorf("summary %q does not say the tokens were verified", sum)
	}
	// Without a CA: consistent, not trusted, and the summary says so.
	sum, err = Verify(ctx, dir, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Timestamps.Trusted || !strings.Contains(sum.String(), "NOT for trust") {
		t.Errorf("without a CA: %q", sum)
	}
	// Another CA: refused, naming the checkpoint.
	_, err = Verify(ctx, dir, VerifyOptions{TSARoots: other.Roots})
	if !errors.Is(err, ErrTimestamp) || !errors.Is(err, tsa.ErrUntrusted) || !strings.Contains(err.Error(), "checkpoint at size") {
		t.Errorf("tokens checked against another CA: %v", err)
	}
	// The log's checkpoint entries say where the tokens are.
	var stamped int
	_, err = Verify(ctx, dir, VerifyOptions{Visit: func(e *Entry) error {
		if e.Event.Type == TypeCheckpoint && e.Event.Other["timestamp"] == timestampsFile {
			stamped++
		}
		return nil
	}})
	if err != nil || stamped != 2 {
		t.Errorf("%d checkpoint entries record a token, want 2 (err %v)", stamped, err)
	}
}

// TestTimestampForAnotherCheckpoint puts the token of one checkpoint in
// the place of another's: Verify names the checkpoint.
func TestTimestampForAnotherCheckpoint(t *testing.T) {
	s := tsatest.Start(t, tsatest.Options{ECDSA: true})
	l, dir, _ := timestampedLog(t, s)
	recordN(t, l, 0, 25)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	list, _, err := ReadTimestamps(dir)
	if err != nil || len(list) < 2 {
		t.Fatalf("%d tokens, %v", len(list), err)
	}
	a, b := list[0], list[1]
	a.Token = b.Token
	var buf []byte
	buf = appendFrame(buf, encodeTimestamp(a))
	for _, ts := range list[1:] {
		buf = appendFrame(buf, encodeTimestamp(ts))
	}
	if err := os.WriteFile(filepath.Join(dir, timestampsFile), buf, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err = Verify(context.Background(), dir, VerifyOptions{TSARoots: s.Roots})
	if !errors.Is(err, ErrTimestamp) || !errors.Is(err, tsa.ErrImprint) {
		t.Fatalf("swapped token: err %v, want ErrTimestamp and ErrImprint", err)
	}
	if want := "checkpoint at size " + strconv.FormatInt(a.Size, 10); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the %s", err, want)
	}
}

// TestTimestampOutage: with the TSA down, answering slowly, or gone,
// logging goes on; each checkpoint entry records the failure, and once the
// TSA is back the next checkpoint is stamped.
func TestTimestampOutage(t *testing.T) {
	s := tsatest.Start(t, tsatest.Options{ECDSA: true})
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)
	stamper := &switchable{}
	stamper.set(&tsa.Client{URL: s.URL})
	opts := Options{CheckpointEntries: 10, CheckpointEvery: -1, Timestamper: stamper, TimestampTimeout: 300 * time.Millisecond}
	l, dir := testLog(t, opts)

	s.SetDown(true)
	recordN(t, l, 0, 12) // a checkpoint while the TSA answers 503
	stamper.set(&tsa.Client{URL: slow.URL})
	recordN(t, l, 12, 10) // one while it does not answer in time
	stamper.set(&tsa.Client{URL: "http://127.0.0.1:1/"})
	recordN(t, l, 22, 10) // one while nothing listens
	s.SetDown(false)
	stamper.set(&tsa.Client{URL: s.URL})
	recordN(t, l, 32, 10) // back: stamped
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var failed, stamped int
	sum, err := Verify(context.Background(), dir, VerifyOptions{TSARoots: s.Roots, Visit: func(e *Entry) error {
		if e.Event.Type != TypeCheckpoint {
			return nil
		}
		if e.Event.Other["timestamp_error"] != "" {
			failed++
		}
		if e.Event.Other["timestamp"] != "" {
			stamped++
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Entries < 42 || failed != 3 || stamped < 1 {
		t.Fatalf("%d entries, %d checkpoint entries with a time-stamp failure (want 3), %d stamped (want >= 1)", sum.Entries, failed, stamped)
	}
	if sum.Timestamps == nil || sum.Timestamps.LatestSize != sum.Checkpoint.Size {
		t.Errorf("the last checkpoint is not stamped after the TSA came back: %+v", sum.Timestamps)
	}
}

// switchable is a Timestamper whose TSA a test changes while the log runs.
type switchable struct {
	mu sync.Mutex
	c  *tsa.Client
}

func (s *switchable) set(c *tsa.Client) { s.mu.Lock(); s.c = c; s.mu.Unlock() }

func (s *switchable) Timestamp(ctx context.Context, data []byte) ([]byte, error) {
	s.mu.Lock()
	c := s.c
	s.mu.Unlock()
	return c.Timestamp(ctx, data)
}

// TestTornTimestampFile: a crash while a token was written leaves a torn
// frame; Open cuts it and the log goes on. Damage in the middle is skipped
// and reported by Verify, and never stops the log.
func TestTornTimestampFile(t *testing.T) {
	s := tsatest.Start(t, tsatest.Options{ECDSA: true})
	l, dir, opts := timestampedLog(t, s)
	recordN(t, l, 0, 5)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, timestampsFile)
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	appendBytes(t, path, whole[:len(whole)/2]) // a torn second frame
	l, err = Open(dir, opts)
	if err != nil {
		t.Fatalf("a torn token file stops the log: %v", err)
	}
	recordN(t, l, 5, 5)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	list, bad, err := ReadTimestamps(dir)
	if err != nil || len(bad) != 0 || len(list) != 2 {
		t.Fatalf("after recovery: %d tokens, damage %v, err %v; want 2 tokens, no damage", len(list), bad, err)
	}
	// Damage in the middle: the first frame's CRC no longer matches.
	b, _ := os.ReadFile(path)
	b[frameHeader+3] ^= 0xff
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	l, err = Open(dir, opts)
	if err != nil {
		t.Fatalf("a damaged token file stops the log: %v", err)
	}
	recordN(t, l, 10, 5)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	sum, err := Verify(context.Background(), dir, VerifyOptions{TSARoots: s.Roots})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Timestamps == nil || sum.Timestamps.Damaged != 1 || sum.Timestamps.Tokens != 2 || !strings.Contains(sum.String(), "damaged") {
		t.Errorf("damaged token file: %+v, %q", sum.Timestamps, sum)
	}
}

// TestNoTimestamper: without a TSA no token file is made and the log is
// as before.
func TestNoTimestamper(t *testing.T) {
	l, dir := testLog(t, Options{CheckpointEntries: 5})
	recordN(t, l, 0, 12)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, timestampsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists without a Timestamper (err %v)", timestampsFile, err)
	}
	sum, err := Verify(context.Background(), dir, VerifyOptions{})
	if err != nil || sum.Timestamps != nil || strings.Contains(sum.String(), "time-stamp") {
		t.Errorf("summary %q, timestamps %+v, err %v", sum, sum.Timestamps, err)
	}
	var keys []string
	_, err = Verify(context.Background(), dir, VerifyOptions{Visit: func(e *Entry) error {
		if e.Event.Type == TypeCheckpoint {
			for k := range e.Event.Other {
				if strings.HasPrefix(k, "timestamp") {
					keys = append(keys, k)
				}
			}
		}
		return nil
	}})
	if err != nil || len(keys) > 0 {
		t.Errorf("checkpoint entries carry %v without a Timestamper (err %v)", keys, err)
	}
}
