package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/goodbot/goodbot/crawler/output"
	"github.com/goodbot/goodbot/job"
)

// chromiumPath returns Debian's chromium, skipping the test when it is not
// installed, or failing it under CI=1 (test.sh installs it).
func chromiumPath(t *testing.T) string {
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed, and CI is set: the browser test must run (apt-get install chromium)")
		}
		t.Skip("chromium is not installed")
	}
	return p
}

// The acceptance test of goodbot serve in a real browser: headless
// Chromium fills in and sends the complaint form about a loopback site that
// a single-machine crawl is crawling; the crawl stops (no request reaches
// the site after the crawl confirmed the stop), the complaint is on the
// board, and the status page, followed from the receipt, shows the stop,
// that nothing was sent after it, and that nothing was deleted because
// the complaint awaits confirmation. Then the site serves the receipt's
// token, the browser presses "Check", and the status page shows the
// complaint proven and the site's pages deleted.
func TestServeBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	chromium := chromiumPath(t)
	s := newProofSite(t, 3000)
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	crawlCtx, stopCrawl := context.WithCancel(context.Background())
	defer stopCrawl()
	crawled := make(chan string, 1)
	go func() {
		// About 20 requests a second: minutes of work, stopped by the
		// complaint long before the end.
		code, o, e := runCLIctx(crawlCtx, "crawl", "--contact", "mailto:me@example.org", "--traffic", s.hostport()+"=17280000",
			"--out", out, "--audit-key", key, "--progress", "0", s.srv.URL+"/")
		if code != 0 {
			crawled <- "exit " + strings.TrimSpace(o+"\n"+e)
			return
		}
		crawled <- ""
	}()
	for deadline := time.Now().Add(60 * time.Second); len(s.hits()) < 5; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the crawl did not start: %d hits", len(s.hits()))
		}
	}
	base := startServe(t, "--out", out, "--audit-key", key)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU)...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	// A hung browser is stopped (the first call's context bounds the
	// browser's life); no assertion depends on the time taken.
	bctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return v
	}

	// do runs one step, bounded, and shows the page when it fails.
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, time.Minute)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			html, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("html")))
			t.Fatalf("%s: %v\npage:\n%s", what, err, html)
		}
	}
	// The first call starts the browser, which lives as long as its
	// context: bctx, not a step's.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	do("opening the page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#complaint-form")))
	do("filling in the form",
		chromedp.SendKeys(chromedp.CSS("#site"), "http://"+s.hostport()+"/p1"),
		chromedp.SendKeys(chromedp.CSS("#email"), "webmaster@site.example"),
		chromedp.SendKeys(chromedp.CSS("#message"), "Please stop crawling our site."))
	do("sending the form", chromedp.Click(chromedp.CSS("#send")), chromedp.WaitVisible(chromedp.CSS("#receipt")))
	receipt, stopped, token := text("#receipt"), text("#stopped"), text("#token")
	if !isReceipt(receipt) || !strings.Contains(stopped, s.hostport()) || !strings.HasPrefix(token, "goodbot-proof-") {
		t.Fatalf("receipt %q, %q, token %q", receipt, stopped, token)
	}

	// The complaint is on the board, and the running crawl confirms the
	// stop within a second or so.
	board, err := job.OpenFileComplaints(out)
	if err != nil {
		t.Fatal(err)
	}
	var c job.Complaint
	var ack job.Ack
	for deadline := time.Now().Add(60 * time.Second); ack.Worker == ""; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the crawl did not confirm the complaint %+v", c)
		}
		cs, err := board.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range cs {
			if x.Receipt == receipt {
				c = x
			}
		}
		if c.ID == "" {
			t.Fatalf("no complaint with receipt %s on the board: %+v", receipt, cs)
		}
		if acks, _ := board.Acks(context.Background(), c.ID); len(acks) > 0 {
			ack = acks[0]
		}
	}
	if !c.Unconfirmed || c.Site != s.hostport() || !ack.StopOnly || ack.Deletion.Records != 0 {
		t.Fatalf("complaint %+v, ack %+v", c, ack)
	}

	// The status page, reached from the receipt's link, shows it.
	var state, crawl string
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS("#status-link")),
		chromedp.WaitVisible(chromedp.CSS("#state")),
	); err != nil {
		t.Fatalf("following the status link: %v", err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		if err := chromedp.Do(bctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#state"))); err != nil {
			t.Fatalf("reading the status page: %v", err)
		}
		state, crawl = text("#state"), text("#crawl")
		if strings.Contains(crawl, "Crawling stopped.") && strings.Contains(crawl, "nothing was sent to the site after it stopped") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the status page does not show the stop:\nstate %q\ncrawl %q", state, crawl)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !strings.Contains(state, "awaiting confirmation") || !strings.Contains(crawl, "stopped") || strings.Contains(crawl, "deleted") {
		t.Errorf("status: state %q, crawl %q", state, crawl)
	}

	// The crawl ends (its only site is stopped); no request reached the
	// site after the stop was confirmed, and its pages are still there.
	select {
	case msg := <-crawled:
		if msg != "" {
			t.Fatalf("crawl: %s", msg)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the crawl did not end after its only site was stopped")
	}
	hits := s.hits()
	for _, h := range hits {
		if h.at.After(ack.At) {
			t.Errorf("%s reached the site %s after the stop was confirmed", h.uri, h.at.Sub(ack.At))
		}
	}
	if len(hits) >= 3000 {
		t.Errorf("the crawl fetched all %d pages: it was not stopped", len(hits))
	}
	t.Logf("%d requests reached the site before the complaint stopped the crawl", len(hits))
	dir := filepath.Join(out, "sites", output.SiteDir(s.hostport()))
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("an unconfirmed complaint deleted the pages: %v", err)
	}

	// Proven: the site serves the token, the browser presses Check.
	s.serveToken(token)
	// The click starts a navigation that the old page may outlive: wait
	// for the answer, the status page again or a problem shown on it.
	checkAt := time.Now()
	do("checking the proof", chromedp.Click(chromedp.CSS("#check")))
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		// While the old page is replaced, a read may find its document
		// gone ("Cannot find context with specified id"): read again.
		rctx, cancel := context.WithTimeout(bctx, 5*time.Second)
		v, err := chromedp.Run(rctx, chromedp.Text(chromedp.CSS("#state")))
		cancel()
		if err == nil {
			if state = v; strings.Contains(state, "proven by the site") {
				break
			}
		}
		if time.Now().After(deadline) {
			html, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("the status page does not show the proof:\n%s", html)
		}
	}
	t.Logf("the proof was checked and the pages deleted %s after the click", time.Since(checkAt).Round(time.Millisecond))
	if crawl = text("#crawl"); !strings.Contains(crawl, "records") || !strings.Contains(crawl, "deleted") {
		t.Fatalf("status after the proof: crawl %q", crawl)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the proven complaint did not delete the pages: %v", err)
	}
}

func isReceipt(s string) bool {
	if len(s) != 26 {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz234567") == ""
}
