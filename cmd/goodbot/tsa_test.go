package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/internal/tsatest"
)

// TestCrawlTimestamped crawls with --tsa and --tsa-ca (a real TSA, openssl
// ts): the log's checkpoints are time-stamped and verify against the CA;
// with the TSA down the crawl still succeeds and its log verifies.
func TestCrawlTimestamped(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	s := identitySite(t)
	ts := tsatest.Start(t, tsatest.Options{ECDSA: true})
	out := t.TempDir()
	code, msgs := crawlOnce(t, s, out, "--tsa", ts.URL, "--tsa-ca", ts.CAFile)
	if code != 0 {
		t.Fatalf("crawl --tsa: exit %d\n%s", code, msgs)
	}
	ctx := context.Background()
	sum, err := audit.Verify(ctx, filepath.Join(out, "audit"), audit.VerifyOptions{TSARoots: ts.Roots})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Timestamps == nil || sum.Timestamps.Tokens == 0 || sum.Timestamps.LatestSize != sum.Checkpoint.Size || !sum.Timestamps.Trusted {
		t.Fatalf("the crawl's last checkpoint is not time-stamped: %s", sum)
	}

	ts.SetDown(true)
	out = t.TempDir()
	code, msgs = crawlOnce(t, s, out, "--tsa", ts.URL)
	if code != 0 {
		t.Fatalf("crawl with the TSA down: exit %d\n%s", code, msgs)
	}
	if !strings.Contains(msgs, "time-stamping a checkpoint failed") {
		t.Errorf("the crawl did not warn that time-stamping failed:\n%s", msgs)
	}
	sum, err = audit.Verify(ctx, filepath.Join(out, "audit"), audit.VerifyOptions{})
	if err != nil || sum.Entries == 0 {
		t.Fatalf("the log of a crawl with the TSA down: %v %s", err, sum)
	}
}
