package evidence

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReportPrintsWhole prints a real crawl's report.html to PDF (A4) with
// headless Chromium and reads it back with pdftotext: every SHA-256 in the
// report must be in the PDF whole (wrapped lines joined, nothing clipped),
// the bundle ID and root hash on every page, and the Chinese text there.
// It skips when chromium or pdftotext is not installed (test.sh installs
// them from Debian when it can).
func TestReportPrintsWhole(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed")
	}
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	auditDir, out, key, signer := realCrawl(t)
	bundle := filepath.Join(t.TempDir(), "bundle")
	info, err := Export(context.Background(), auditDir, bundle, ExportOptions{Site: key, Out: out, Signer: signer, Purpose: "测试 test"})
	if err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(bundle, FileReport)
	pdf := filepath.Join(t.TempDir(), "report.pdf")
	// A hung browser is stopped; no assertion depends on the time taken.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
		"--user-data-dir="+t.TempDir(), "--print-to-pdf="+pdf, "file://"+rep)
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, o)
	}
	txt, err := exec.Command(pdftotext, pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	joined := func(b []byte) string { return strings.Join(strings.Fields(string(b)), "") }
	all := joined(txt)
	html := must(os.ReadFile(rep))
	hashes := regexp.MustCompile(`[0-9a-f]{64}`).FindAll(html, -1)
	if len(hashes) < 3 {
		t.Fatalf("report has only %d SHA-256 values", len(hashes))
	}
	for _, h := range hashes {
		if !strings.Contains(all, string(h)) {
			t.Errorf("SHA-256 %s is not whole in the PDF", h)
		}
	}
	pages := bytes.Split(bytes.TrimRight(txt, "\f\n"), []byte("\f"))
	for i, p := range pages {
		if s := joined(p); !strings.Contains(s, info.ID) || !strings.Contains(s, info.Root) {
			t.Errorf("page %d of %d lacks the bundle ID or the root hash in its footer", i+1, len(pages))
		}
	}
	for _, want := range []string{"爬取证据", "投诉与删除", "如何验证本证据包", "第十六条"} {
		if !strings.Contains(all, want) {
			t.Errorf("the PDF lacks the Chinese %q (no CJK font?)", want)
		}
	}
	t.Logf("%d pages, %d hashes", len(pages), len(hashes))
}
