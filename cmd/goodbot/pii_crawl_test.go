package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A crawl of a site whose pages and URLs carry personal data stores none of
// it anywhere under --out (pages, text, URLs, operation log), while the
// look-alike decoys survive untouched.
func TestCrawlStoresNoPersonalData(t *testing.T) {
	planted := []string{
		"11010519491231002X",  // CN resident ID, valid check character
		"13912345678",         // mainland mobile
		"139 1234 5678",       // the same, spaced
		"alice@example.com",   // e-mail, also in a URL path
		"6222021234567890128", // UnionPay card, Luhn-valid
		"6222 0212 3456 7890 128",
		"bob@example.com", // in a seed URL the user typed
		"bob%40example.com",
	}
	decoys := []string{
		"110105194912310021", // order number: bad check character
		"978-7-111-54493-7",  // ISBN
		"91350100M000100Y43", // unified social credit code (an organisation)
		"1700000000000",      // timestamp
		"¥1399.00",           // price
	}
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/robots.txt":
			http.NotFound(w, r)
		case "/":
			fmt.Fprint(w, `<html><head><title>Index</title></head><body>
<a href="/contact">contact</a> <a href="/u/alice@example.com">alice</a> <a href="/profile?phone=13912345678">profile</a>
<a href="/products">products</a></body></html>`)
		case "/contact":
			fmt.Fprint(w, `<html><head><title>联系我们</title></head><body>
<p>联系人：王先生，身份证号 11010519491231002X，手机 13912345678，或 139 1234 5678。</p>
<p>邮箱 <a href="mailto:alice@example.com">alice@example.com</a>，银行卡 6222 0212 3456 7890 128，卡号 6222021234567890128。</p>
</body></html>`)
		case "/products":
			fmt.Fprint(w, `<html><head><title>Products</title></head><body>
<p>订单号 110105194912310021，ISBN 978-7-111-54493-7，统一社会信用代码 91350100M000100Y43。</p>
<p>Updated 1700000000000, price ¥1399.00.</p></body></html>`)
		default:
			fmt.Fprintf(w, `<html><head><title>Profile</title></head><body><p>profile page</p></body></html>`)
		}
	})
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "crawl", "--contact", "mailto:me@example.org", "--traffic", s.hostport()+"=864000000",
		"--out", out, "--audit-key", filepath.Join(t.TempDir(), "key"), "--progress", "0", s.srv.URL+"/", s.srv.URL+"/u/bob@example.com")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := len(s.hits()); n < 4 {
		t.Fatalf("only %d requests: %+v", n, s.hits())
	}
	// Links that pointed at someone's data are not followed at all, neither
	// as they were nor as the filter rewrote them.
	for _, h := range s.hits() {
		if strings.Contains(h.uri, "bob") {
			continue // the seed
		}
		if strings.Contains(h.uri, "alice") || strings.Contains(h.uri, "phone") || strings.Contains(h.uri, "EMAIL") || strings.Contains(h.uri, "MOBILE") {
			t.Errorf("requested %s", h.uri)
		}
	}
	var all bytes.Buffer
	filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, v := range planted {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s contains planted personal data %q", p, v)
			}
		}
		all.Write(b)
		return nil
	})
	for _, v := range []string{"alice%40example.com", "phone=13912345678"} {
		if bytes.Contains(all.Bytes(), []byte(v)) {
			t.Errorf("output contains %q", v)
		}
	}
	pages, err := os.ReadFile(filepath.Join(out, "sites", strings.ReplaceAll(s.hostport(), ":", "_"), "pages.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range decoys {
		if !bytes.Contains(pages, []byte(d)) {
			t.Errorf("decoy %q did not survive", d)
		}
	}
	if !bytes.Contains(pages, []byte("[CN_RESIDENT_ID]")) {
		t.Errorf("no typed placeholder in the stored pages")
	}
}
