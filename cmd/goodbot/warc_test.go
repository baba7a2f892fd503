package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Values planted in pages and headers; none may reach the log or the bundle.
var plantedWARC = []string{"zhang.san@example.cn", "13812345678", "boss@example.net", "13987654321"}

// warcSite serves UTF-8, GBK and ISO-8859-1 pages, a page and header
// fields with personal data, a 403 and a 429.
func warcSite(t *testing.T) *testSite {
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(`<html><head><title>中文标题</title></head><body><p>中文内容</p></body></html>`)
	if err != nil {
		t.Fatal(err)
	}
	latin1, err := charmap.ISO8859_1.NewEncoder().String(`<html><body><p>café crème brûlée</p></body></html>`)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	busy := 0
	return newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<html><body><p>home</p><a href="/gbk">g</a><a href="/latin1">l</a><a href="/pii">p</a><a href="/forbidden">f</a><a href="/busy">b</a><a href="/private/x">x</a></body></html>`)
		case "/gbk":
			w.Header().Set("Content-Type", "text/html; charset=gbk")
			io.WriteString(w, gbk)
		case "/latin1":
			w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
			io.WriteString(w, latin1)
		case "/pii":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("X-Owner", "zhang.san@example.cn 13812345678")
			w.Header().Set("Set-Cookie", "sid=13812345678; Path=/")
			fmt.Fprint(w, `<html><body><p>write to zhang.san@example.cn or call 13812345678</p></body></html>`)
		case "/forbidden":
			w.Header().Set("X-Reason", "ask boss@example.net, 13987654321")
			http.Error(w, "forbidden: ask boss@example.net", http.StatusForbidden)
		case "/busy":
			mu.Lock()
			busy++
			n := busy
			mu.Unlock()
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "slow down, 13987654321", http.StatusTooManyRequests)
				return
			}
			fmt.Fprint(w, "<html><body><p>ok now</p></body></html>")
		default:
			http.NotFound(w, r)
		}
	})
}

// specRecord is a WARC record as read by readWARCSpec.
type specRecord struct {
	headers map[string]string
	block   []byte
}

func (r specRecord) get(name string) string { return r.headers[strings.ToLower(name)] }

// readWARCSpec reads a WARC file following ISO 28500:2017 alone, without
// goodbot's warc package: each gzip member holds one record, "WARC/1.1",
// named fields up to an empty line, a block of Content-Length bytes and
// two CRLFs. It checks the mandatory fields and the block digests.
func readWARCSpec(t *testing.T, path string) []specRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var recs []specRecord
	for i := 0; i < 100000; i++ {
		zr, err := gzip.NewReader(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("record %d: not a gzip member: %v", i, err)
		}
		zr.Multistream(false)
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		rd := bufio.NewReader(bytes.NewReader(b))
		line, _ := rd.ReadString('\n')
		if line != "WARC/1.1\r\n" {
			t.Fatalf("record %d: version line %q", i, line)
		}
		rec := specRecord{headers: map[string]string{}}
		for {
			line, err := rd.ReadString('\n')
			if err != nil || !strings.HasSuffix(line, "\r\n") {
				t.Fatalf("record %d: header line %q: %v", i, line, err)
			}
			if line == "\r\n" {
				break
			}
			k, v, ok := strings.Cut(strings.TrimSuffix(line, "\r\n"), ":")
			if !ok {
				t.Fatalf("record %d: bad field %q", i, line)
			}
			k = strings.ToLower(k)
			if _, dup := rec.headers[k]; dup && k != "warc-concurrent-to" {
				t.Errorf("record %d: field %s twice", i, k)
			}
			rec.headers[k] = strings.TrimSpace(v)
		}
		for _, m := range []string{"WARC-Record-ID", "Content-Length", "WARC-Date", "WARC-Type"} {
			if rec.get(m) == "" {
				t.Fatalf("record %d: no %s", i, m)
			}
		}
		n, err := strconv.Atoi(rec.get("Content-Length"))
		if err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(rd)
		if len(rest) != n+4 || string(rest[n:]) != "\r\n\r\n" {
			t.Fatalf("record %d: block of %d bytes + trailer, Content-Length %d", i, len(rest), n)
		}
		rec.block = rest[:n]
		if got := specDigest(rec.block); rec.get("WARC-Block-Digest") != got {
			t.Errorf("record %d: block digest %s, computed %s", i, rec.get("WARC-Block-Digest"), got)
		}
		recs = append(recs, rec)
	}
	return recs
}

func specDigest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + base32.StdEncoding.EncodeToString(s[:])
}

// A loopback crawl of pages in three encodings, with 403 and 429 answers
// and personal data in pages and header fields, exported as a bundle: the
// WARC has request and response records with the header fields, the
// stored pages as UTF-8 conversion records referring to their responses,
// robots.txt, the refusals, and metadata that says what was redacted; no
// planted value is anywhere in the log or the bundle. Checked with a WARC
// reader written here from the spec and, when installed, with warcio.js.
func TestCrawlExportWARC(t *testing.T) {
	s := warcSite(t)
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	code, stdout, stderr := runCLI(t, "crawl", "--contact", "mailto:ops@example.org", "--traffic", s.hostport()+"=864000000",
		"--out", out, "--audit-key", key, "--progress", "0", s.srv.URL+"/")
	if code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, stdout, stderr)
	}
	bundle := filepath.Join(t.TempDir(), "bundle")
	if code, o, e := runCLI(t, "audit", "export", filepath.Join(out, "audit"), "--site", s.hostport(), "-o", bundle, "--sign", key); code != 0 {
		t.Fatalf("export: exit %d\n%s\n%s", code, o, e)
	}
	if code, o, e := runCLI(t, "audit", "verify-bundle", bundle); code != 0 {
		t.Fatalf("verify-bundle: exit %d\n%s\n%s", code, o, e)
	}

	// What is stored is what was checked: nothing planted got through,
	// in the log, the stored pages or any file of the bundle.
	warcPath := filepath.Join(bundle, "pages.warc.gz")
	checkNowhere(t, plantedWARC, warcPath, out, bundle)
	pages, _ := os.ReadFile(filepath.Join(out, "sites", strings.ReplaceAll(s.hostport(), ":", "_"), "pages.jsonl"))
	for _, ln := range bytes.Split(bytes.TrimSpace(pages), []byte("\n")) {
		var r struct {
			URL         string `json:"url"`
			ContentType string `json:"content_type"`
		}
		json.Unmarshal(ln, &r)
		if strings.Contains(r.URL, "/gbk") || strings.Contains(r.URL, "/latin1") {
			if r.ContentType != "text/html; charset=utf-8" {
				t.Errorf("pages.jsonl: %s stored as %q, want text/html; charset=utf-8", r.URL, r.ContentType)
			}
		}
	}

	recs := readWARCSpec(t, warcPath)
	byURL := func(typ, path string) []specRecord {
		var rs []specRecord
		for _, r := range recs {
			if r.get("WARC-Type") == typ && r.get("WARC-Target-URI") == s.srv.URL+path {
				rs = append(rs, r)
			}
		}
		return rs
	}
	if recs[0].get("WARC-Type") != "warcinfo" || bytes.Count(recs[0].block, []byte("\nsoftware:"))+bytes.Count(recs[0].block[:9], []byte("software:")) != 1 {
		t.Errorf("warcinfo: want one software field:\n%s", recs[0].block)
	}
	ids := map[string]specRecord{}
	for _, r := range recs {
		ids[r.get("WARC-Record-ID")] = r
	}
	for _, path := range []string{"/", "/gbk", "/latin1", "/pii", "/forbidden", "/busy", "/robots.txt"} {
		if len(byURL("request", path)) == 0 {
			t.Errorf("no request record for %s", path)
		}
		for _, q := range byURL("request", path) {
			if !bytes.Contains(q.block, []byte("User-Agent: goodbot/0.1.0 (+mailto:ops@example.org)\r\n")) || !bytes.Contains(q.block, []byte("From: ops@example.org\r\n")) || !bytes.HasPrefix(q.block, []byte("GET "+path+" HTTP/1.1\r\n")) {
				t.Errorf("request record for %s:\n%s", path, q.block)
			}
		}
	}
	status := func(path string) []string {
		var st []string
		for _, r := range byURL("response", path) {
			st = append(st, strings.SplitN(string(r.block), " ", 3)[1])
		}
		return st
	}
	if st := status("/forbidden"); len(st) != 1 || st[0] != "403" {
		t.Errorf("/forbidden: responses %v, want one 403", st)
	}
	if st := status("/busy"); len(st) != 2 || st[0] != "429" || st[1] != "200" {
		t.Errorf("/busy: responses %v, want 429 then 200", st)
	}
	if rb := byURL("response", "/robots.txt"); len(rb) != 1 || !bytes.HasSuffix(rb[0].block, []byte("\r\n\r\nUser-agent: *\nDisallow: /private/\n")) || rb[0].get("WARC-Truncated") != "" {
		t.Errorf("robots.txt response record: %v", rb)
	}
	if m := byURL("metadata", "/private/x"); len(m) != 1 || !bytes.Contains(m[0].block, []byte("goodbot-decision: refuse")) {
		t.Errorf("refused /private/x: metadata %v", m)
	}
	for path, want := range map[string]string{"/gbk": "中文标题", "/latin1": "café crème brûlée", "/pii": "write to"} {
		cv := byURL("conversion", path)
		if len(cv) != 1 {
			t.Errorf("%s: %d conversion records", path, len(cv))
			continue
		}
		c := cv[0]
		if c.get("Content-Type") != "text/html; charset=utf-8" || !bytes.Contains(c.block, []byte(want)) || c.get("WARC-Payload-Digest") != specDigest(c.block) {
			t.Errorf("%s conversion: %v\n%s", path, c.headers, c.block)
		}
		resp, ok := ids[c.get("WARC-Refers-To")]
		if !ok || resp.get("WARC-Type") != "response" || resp.get("WARC-Truncated") == "" || !strings.HasPrefix(resp.get("WARC-Payload-Digest"), "sha256:") {
			t.Errorf("%s: conversion refers to %v", path, resp.headers)
		}
		var meta string
		for _, m := range byURL("metadata", path) {
			if m.get("WARC-Refers-To") == c.get("WARC-Record-ID") {
				meta = string(m.block)
			}
		}
		if path == "/pii" {
			if !strings.Contains(meta, "redacted: EMAIL: 1") || !strings.Contains(meta, "redacted: CN_MOBILE: 1") || strings.Contains(meta, "redacted: nothing") {
				t.Errorf("/pii redaction metadata: %q", meta)
			}
		} else if !strings.Contains(meta, "redacted: nothing") {
			t.Errorf("%s redaction metadata: %q", path, meta)
		}
	}
	if rs := byURL("response", "/gbk"); len(rs) != 1 || !bytes.Contains(rs[0].block, []byte("Content-Type: text/html; charset=gbk\r\n")) {
		t.Errorf("/gbk response keeps the header as received: %v", rs)
	}
	if rs := byURL("response", "/pii"); len(rs) != 1 || !bytes.Contains(rs[0].block, []byte("Set-Cookie: [withheld by goodbot]\r\n")) || !bytes.Contains(rs[0].block, []byte("X-Owner: ")) {
		t.Errorf("/pii response header fields: %v", rs)
	}

	checkWithWarcio(t, warcPath, s.srv.URL)
}

// checkNowhere fails t for each planted value that a file under dirs
// holds; warcPath, the bundle's WARC, is read unzipped.
func checkNowhere(t *testing.T, planted []string, warcPath string, dirs ...string) {
	t.Helper()
	plain := gunzipAll(t, warcPath)
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := os.ReadFile(p)
			if p == warcPath {
				b = plain
			}
			for _, v := range planted {
				if bytes.Contains(b, []byte(v)) {
					t.Errorf("%s holds the planted %q", p, v)
				}
			}
			return nil
		})
	}
}

func gunzipAll(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkWithWarcio reads the WARC with warcio.js, installed by test.sh in
// GOODBOT_WARCIO_DIR (node_modules/warcio), and indexes it with its
// cdx-index command. Without it the test says so and skips that part.
func checkWithWarcio(t *testing.T, warcPath, base string) {
	recs, cdx, ok := readWithWarcio(t, warcPath)
	if !ok {
		return
	}
	var conv = map[string]string{}
	for _, r := range recs {
		if r.Type == "conversion" {
			conv[strings.TrimPrefix(r.URI, base)] = r.Text
		}
	}
	if !strings.Contains(conv["/gbk"], "中文标题") || !strings.Contains(conv["/latin1"], "café crème brûlée") {
		t.Errorf("warcio.js read the conversion records as %q", conv)
	}
	if !bytes.Contains(cdx, []byte(`"status":"403"`)) || !bytes.Contains(cdx, []byte("/gbk")) {
		t.Errorf("warcio cdx-index:\n%s", cdx)
	}
}

// warcioRecord is a record as testdata/warccheck.mjs prints it.
type warcioRecord struct {
	Type, URI, ID, Refers, Text, Ctype, Error string
	Status                                    int
}

// readWithWarcio reads the WARC with warcio.js (see checkWithWarcio),
// which checks every digest, and returns its records and its CDX index;
// ok is false when warcio.js is not installed.
func readWithWarcio(t *testing.T, warcPath string) (recs []warcioRecord, cdx []byte, ok bool) {
	t.Helper()
	dir := os.Getenv("GOODBOT_WARCIO_DIR")
	node, err := exec.LookPath("node")
	if dir == "" || err != nil {
		t.Log("warcio.js not installed (GOODBOT_WARCIO_DIR unset, or no node): only the spec reader checked the WARC")
		return nil, nil, false
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "warcio")); err != nil {
		t.Fatalf("GOODBOT_WARCIO_DIR=%s: %v", dir, err)
	}
	outb, err := exec.Command(node, "testdata/warccheck.mjs", dir, warcPath).CombinedOutput()
	if err != nil {
		t.Fatalf("warcio.js check: %v\n%s", err, outb)
	}
	for _, ln := range bytes.Split(bytes.TrimSpace(outb), []byte("\n")) {
		var r warcioRecord
		if err := json.Unmarshal(ln, &r); err != nil {
			t.Fatalf("warcio.js check: %q: %v", ln, err)
		}
		recs = append(recs, r)
	}
	cdx, err = exec.Command(node, filepath.Join(dir, "node_modules", "warcio", "dist", "cli.js"), "cdx-index", warcPath).CombinedOutput()
	if err != nil {
		t.Fatalf("warcio cdx-index: %v\n%s", err, cdx)
	}
	return recs, cdx, true
}

// A page that asks for noarchive is stored, but its evidence bundle's
// WARC file holds no copy of it; one that asks for noindex is not stored,
// and the WARC says why.
func TestCrawlExportNoarchive(t *testing.T) {
	const secret, hidden = "archived-nowhere-7f3a", "indexed-nowhere-9c2e"
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<html><body><a href="/keep">k</a><a href="/noarchive">n</a><a href="/noindex">i</a></body></html>`)
		case "/noarchive":
			w.Header().Set("X-Robots-Tag", "goodbot: noarchive")
			fmt.Fprint(w, "<html><body><p>"+secret+"</p></body></html>")
		case "/noindex":
			fmt.Fprint(w, `<html><head><meta name="goodbot" content="noindex"></head><body><p>`+hidden+`</p></body></html>`)
		default:
			fmt.Fprint(w, "<html><body><p>kept</p></body></html>")
		}
	})
	out := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	if code, o, e := runCLI(t, "crawl", "--contact", "mailto:ops@example.org", "--traffic", s.hostport()+"=864000000",
		"--out", out, "--audit-key", key, "--progress", "0", s.srv.URL+"/"); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, o, e)
	}
	pages, _ := os.ReadFile(filepath.Join(out, "sites", strings.ReplaceAll(s.hostport(), ":", "_"), "pages.jsonl"))
	if !bytes.Contains(pages, []byte(secret)) || !bytes.Contains(pages, []byte(`"noarchive":true`)) || bytes.Contains(pages, []byte(hidden)) {
		t.Fatalf("pages.jsonl: want the noarchive page stored and marked, the noindex page not stored:\n%s", pages)
	}
	bundle := filepath.Join(t.TempDir(), "bundle")
	if code, o, e := runCLI(t, "audit", "export", filepath.Join(out, "audit"), "--site", s.hostport(), "-o", bundle, "--sign", key); code != 0 {
		t.Fatalf("export: exit %d\n%s\n%s", code, o, e)
	}
	plain := gunzipAll(t, filepath.Join(bundle, "pages.warc.gz"))
	if bytes.Contains(plain, []byte(secret)) || bytes.Contains(plain, []byte(hidden)) {
		t.Fatal("the WARC file holds a page that asked for noarchive or noindex")
	}
	for _, want := range []string{"stored: yes, without an archive copy", "stored: no: the page's robots rules ask that it not be stored (meta goodbot: noindex)", "robots-rule: X-Robots-Tag: noarchive -> stored without an archive copy"} {
		if !bytes.Contains(plain, []byte(want)) {
			t.Errorf("the WARC file does not say %q", want)
		}
	}
}
