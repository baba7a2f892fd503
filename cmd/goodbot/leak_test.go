package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"index/suffixarray"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/unicode/norm"

	"github.com/goodbot/goodbot/cmd/goodbot/internal/leakcorpus"
)

var (
	leakStrict     = flag.Bool("leak.strict", true, "TestLeakCorpus: fail if a structured identifier or a labelled name leaks, a link carrying personal data is followed, or fewer than 97% of decoys on stored pages survive")
	leakReportOnly = flag.Bool("leak.report-only", false, "TestLeakCorpus: only print the report, never fail on leaks")
	leakSeed       = flag.Uint64("leak.seed", 1, "TestLeakCorpus: corpus seed")
)

// TestLeakCorpus crawls the leakcorpus site with the real CLI and searches
// everything written under --out for every planted value, raw and after
// undoing the encodings a page store may apply (JSON string escapes, HTML
// entities, percent-encoding, NFKC, case, tags between digits, separators
// between digits, GBK/Big5 bytes and their mojibake). It reports recall per
// entity, form, encoding and entity×form, decoy survival, and how many links
// carrying personal data were followed. Set GOODBOT_LEAK_REPORT=FILE to also
// write the report to FILE.clean and FILE.full.
//
// It runs once per store mode: --store clean (the default) drops scripts,
// styles and comments, so decoys placed there are lost with them; --store
// full keeps everything, so its decoy figure measures the filter alone.
func TestLeakCorpus(t *testing.T) {
	for _, mode := range []string{"clean", "full"} {
		t.Run("store="+mode, func(t *testing.T) { leakCorpus(t, mode) })
	}
}

func leakCorpus(t *testing.T, mode string) {
	site, err := leakcorpus.New(*leakSeed)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site) // listens on 127.0.0.1
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	out := t.TempDir()
	if d := os.Getenv("GOODBOT_LEAK_OUT"); d != "" { // keep the output for inspection
		d += "." + mode
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		out = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	start := time.Now()
	args := []string{"crawl", "--contact", "mailto:me@example.org", "--traffic", u.Host + "=864000000",
		"--out", out, "--audit-key", filepath.Join(t.TempDir(), "key"), "--progress", "0", "--max-pages", "2000", "--timeout", "10s", "--store", mode}
	if os.Getenv("GOODBOT_LEAK_VERBOSE") != "" {
		args = append(args, "-v")
	}
	code, stdout, stderr := runCLIctx(ctx, append(args, srv.URL+"/")...)
	if f := os.Getenv("GOODBOT_LEAK_VERBOSE"); f != "" { // a file for the crawl's -v log
		if err := os.WriteFile(f, []byte(stderr), 0o644); err != nil {
			t.Error(err)
		}
	}
	if code != 0 {
		t.Fatalf("crawl exit %d after %v\nstdout:\n%s\nstderr:\n%s", code, time.Since(start), stdout, tail(stderr, 4000))
	}
	crawlTime := time.Since(start)

	files, nonUTF8, err := readOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	hs := buildHaystacks(files)
	planted, decoys := site.Planted(), site.Decoys()

	// Which corpus pages were fetched, which were stored, and which were
	// stored with their text destroyed by a wrong decoding.
	stored := storedPages(files)
	var garbled []string
	garbledPage := map[string]bool{}
	for _, p := range site.Pages() {
		if stored[p] >= garbledMin {
			garbledPage[p] = true
			garbled = append(garbled, fmt.Sprintf("%s (%d U+FFFD)", p, stored[p]))
		}
	}
	reqs := site.Requests()
	fetched := map[string]bool{}
	for _, r := range reqs {
		if p, _, _ := strings.Cut(r, "?"); p != "" {
			fetched[p] = true
		}
	}
	var notFetched, notStored []string
	for _, p := range site.Pages() {
		if !fetched[p] {
			notFetched = append(notFetched, p)
		}
		if _, ok := stored[p]; !ok && fetched[p] {
			notStored = append(notStored, p)
		}
	}

	// Search every planted value on a page that was fetched and stored;
	// values on other pages are not measured.
	// Values on a page never fetched are not measured; nor are non-ASCII
	// values on a page stored with its text replaced by U+FFFD (they were
	// destroyed, not filtered). Values on a page fetched but not stored
	// (dropped) count as kept out of the store.
	skip := map[string]bool{}
	for _, p := range notFetched {
		skip[p] = true
	}
	var unmeasured, destroyed int
	var measured []leakcorpus.Planted
	var leaked []bool
	var leaks []leak
	for _, p := range planted {
		if skip[p.Page] {
			unmeasured++
			continue
		}
		f, how, ok := hs.find(p)
		if !ok && stored[p.Page] >= garbledMin && !isASCII(p.Value) {
			destroyed++ // not found, but perhaps only because it was mangled
			continue
		}
		measured = append(measured, p)
		leaked = append(leaked, ok)
		if ok {
			leaks = append(leaks, leak{p, f, how})
		}
	}
	planted = measured

	// Decoys must survive in the stored pages.
	var lostDecoys []leakcorpus.Decoy
	for _, d := range decoys {
		if !hs.decoyKept(d.Value) {
			lostDecoys = append(lostDecoys, d)
		}
	}

	// Requests whose URI carries a planted value.
	linkTotal, linkFollowed := 0, 0
	var followed []string
	decodedReqs := make([]string, len(reqs))
	for i, r := range reqs {
		decodedReqs[i] = decodeURI(r)
	}
	for _, p := range planted {
		if p.Form != leakcorpus.FormLinkQuery {
			continue
		}
		linkTotal++
		for i, r := range decodedReqs {
			if strings.Contains(r, canon(p.Value)) || strings.Contains(reqs[i], p.Shown) {
				linkFollowed++
				followed = append(followed, fmt.Sprintf("%s %s (%s, %s): %s", p.Entity, mask(p.Value), p.Encoding, p.Page, mask(reqs[i])))
				break
			}
		}
	}
	otherPII := 0
	for i, r := range decodedReqs {
		for _, p := range planted {
			if p.Form != leakcorpus.FormLinkQuery && len(p.Value) >= 6 && (strings.Contains(r, canon(p.Value)) || strings.Contains(reqs[i], p.Value)) {
				otherPII++
				break
			}
		}
	}

	rep := report(planted, leaked, leaks, decoys, lostDecoys, linkTotal, linkFollowed, followed, otherPII,
		files, nonUTF8, notFetched, notStored, garbledPage, len(reqs), crawlTime)
	var head strings.Builder
	corpus := map[leakcorpus.Encoding]int{}
	for _, p := range site.Planted() {
		corpus[p.Encoding]++
	}
	fmt.Fprintf(&head, "CORPUS seed %d: %d pages, %d planted values (%v), %d decoys\n", *leakSeed, len(site.Pages()), len(site.Planted()), corpus, len(decoys))
	if unmeasured > 0 {
		fmt.Fprintf(&head, "NOT MEASURED: %d planted values on pages that were never fetched\n", unmeasured)
	}
	if destroyed > 0 {
		fmt.Fprintf(&head, "NOT MEASURED: %d non-ASCII planted values not found on %d pages stored with their text replaced by U+FFFD (charset not honoured):\n", destroyed, len(garbled))
		for _, g := range garbled {
			fmt.Fprintf(&head, "  garbled %s\n", g)
		}
	}
	if len(notStored) > 0 {
		fmt.Fprintf(&head, "DROPPED (fetched, not stored; their values count as kept out): %v\n", notStored)
	}
	rep = head.String() + rep
	for _, chunk := range splitLines(rep, 60000) {
		t.Log("\n" + chunk)
	}
	if f := os.Getenv("GOODBOT_LEAK_REPORT"); f != "" {
		if err := os.WriteFile(f+"."+mode, []byte(rep), 0o644); err != nil {
			t.Errorf("writing report: %v", err)
		}
	}
	if *leakReportOnly {
		return
	}
	if len(notFetched) > 0 {
		t.Errorf("%d corpus pages were never fetched (recall would be meaningless): %v", len(notFetched), notFetched)
	}
	if !*leakStrict {
		return
	}
	structured, labelled := 0, 0
	for _, l := range leaks {
		switch {
		case l.p.Entity.Structured():
			structured++
		case l.p.Labelled && (l.p.Entity == leakcorpus.CNName || l.p.Entity == leakcorpus.ENName):
			labelled++
		}
	}
	if structured > 0 {
		t.Errorf("%d structured identifiers stored (see the leak list above)", structured)
	}
	if linkFollowed > 0 {
		t.Errorf("%d links carrying personal data were followed", linkFollowed)
	}
	// No labelled name may be stored in the default mode. --store full also
	// keeps comments, where one labelled name of 473 still leaks (a name in
	// a note, 客服備註：莊家豪, read as the common word 莊家); the bound
	// catches any regression.
	maxLabelled := 0
	if mode == "full" {
		maxLabelled = 1
	}
	if labelled > maxLabelled {
		t.Errorf("%d labelled names stored (want at most %d)", labelled, maxLabelled)
	}
	// Decoys: what the filter alone keeps is measured with --store full, on
	// the pages that were stored (a page with a sensitive category is
	// dropped whole, decoys and all); --store clean also drops the
	// scripts and comments where some decoys stand.
	if mode == "full" {
		onStored, lostOnStored := 0, 0
		for _, d := range decoys {
			if !slices.Contains(notStored, d.Page) {
				onStored++
			}
		}
		for _, d := range lostDecoys {
			if !slices.Contains(notStored, d.Page) {
				lostOnStored++
			}
		}
		if kept := onStored - lostOnStored; onStored > 0 && float64(kept) < 0.97*float64(onStored) {
			t.Errorf("only %d of %d decoys on stored pages survived (want ≥ 97%%)", kept, onStored)
		}
	}
}

// garbledMin is how many U+FFFD make a stored page count as garbled.
const garbledMin = 5

// storedPages maps the URL path of every record in the stored pages files
// to the number of U+FFFD replacement characters in it.
func storedPages(files []outFile) map[string]int {
	m := map[string]int{}
	for _, f := range files {
		if !f.pages || strings.HasSuffix(f.name, ")") {
			continue
		}
		for _, line := range strings.Split(f.data, "\n") {
			var rec struct {
				URL, Title, Text, HTML string
			}
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			u, err := url.Parse(rec.URL)
			if err != nil {
				continue
			}
			m[u.Path] += strings.Count(rec.Title+rec.Text+rec.HTML, "\uFFFD")
		}
	}
	return m
}

type leak struct {
	p    leakcorpus.Planted
	file string
	how  string
}

// outFile is one file written under --out.
type outFile struct {
	name  string // relative to --out; " (as GBK)" etc. for a decoded copy
	data  string
	pages bool // a stored-pages file
}

const maxOutFile = 256 << 20

// readOutput reads every regular file under dir. A file that is not valid
// UTF-8 is also added decoded as GBK and as Big5.
func readOutput(dir string) ([]outFile, []string, error) {
	var files []outFile
	var bad []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return err
		}
		if info.Size() > maxOutFile {
			return fmt.Errorf("%s: %d bytes, too large to search", p, info.Size())
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		isPages := strings.Contains(filepath.Base(p), "pages")
		files = append(files, outFile{rel, string(b), isPages})
		if !utf8.Valid(b) {
			bad = append(bad, rel)
			for _, e := range []struct {
				n string
				c encoding.Encoding
			}{{"GBK", simplifiedchinese.GBK}, {"Big5", traditionalchinese.Big5}} {
				if d, err := e.c.NewDecoder().Bytes(b); err == nil {
					files = append(files, outFile{rel + " (as " + e.n + ")", string(d), isPages})
				}
			}
		}
		return nil
	})
	return files, bad, err
}

// haystack is the concatenation of one normalised view of every file.
type haystack struct {
	name   string
	data   []byte
	starts []int // start offset of each file
	files  []outFile
	idx    *suffixarray.Index
}

func newHaystack(name string, files []outFile, view func(string) string) *haystack {
	h := &haystack{name: name, files: files}
	var b bytes.Buffer
	for _, f := range files {
		h.starts = append(h.starts, b.Len())
		b.WriteString(view(f.data))
		b.WriteString("\x00\x00")
	}
	h.data = b.Bytes()
	h.idx = suffixarray.New(h.data)
	return h
}

func (h *haystack) fileAt(off int) outFile {
	i := sort.SearchInts(h.starts, off+1) - 1
	return h.files[max(i, 0)]
}

// lookup returns the files holding needle (at most a few positions looked at).
func (h *haystack) lookup(needle string, pagesOnly bool) (string, bool) {
	if needle == "" {
		return "", false
	}
	copyName := ""
	for _, off := range h.idx.Lookup([]byte(needle), 512) {
		if !bounded(h.data, off, len(needle)) {
			continue
		}
		f := h.fileAt(off)
		if pagesOnly && !f.pages {
			continue
		}
		if !strings.HasSuffix(f.name, ")") { // an original file, not a decoded copy
			return f.name, true
		}
		copyName = f.name
	}
	return copyName, copyName != ""
}

// bounded reports whether the match data[off:off+n] is a whole token: a
// digit at either end of it has no digit next to it, and an ASCII letter no
// letter or digit.
func bounded(data []byte, off, n int) bool {
	edge := func(in, out byte) bool {
		switch {
		case isDigit(in):
			return !isDigit(out)
		case isLetter(in):
			return !isDigit(out) && !isLetter(out)
		}
		return true
	}
	if off > 0 && !edge(data[off], data[off-1]) {
		return false
	}
	if end := off + n; end < len(data) && !edge(data[end-1], data[end]) {
		return false
	}
	return true
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// digitIndex holds the digits of a view, with a break ('|') wherever the
// digits are separated by something other than a few separators.
type digitIndex struct {
	d    []byte
	gap  []bool // the character before this digit in the text was not a digit
	orig []int  // offset of this digit in the view
	view *haystack
	idx  *suffixarray.Index
}

func newDigitIndex(h *haystack) *digitIndex {
	di := &digitIndex{view: h}
	seps := 0
	prevDigit := false
	for i, c := range h.data {
		switch {
		case c >= '0' && c <= '9':
			di.d = append(di.d, c)
			di.gap = append(di.gap, !prevDigit)
			di.orig = append(di.orig, i)
			prevDigit, seps = true, 0
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '\t':
			seps++
			prevDigit = false
			if seps == 4 {
				di.brk()
			}
		default:
			prevDigit, seps = false, 0
			di.brk()
		}
	}
	di.idx = suffixarray.New(di.d)
	return di
}

func (di *digitIndex) brk() {
	if n := len(di.d); n > 0 && di.d[n-1] != '|' {
		di.d = append(di.d, '|')
		di.gap = append(di.gap, true)
		di.orig = append(di.orig, -1)
	}
}

// lookup finds digits as a whole number: no digit right before or after in
// the text, only separators between its digits.
func (di *digitIndex) lookup(digits string) (string, bool) {
	for _, off := range di.idx.Lookup([]byte(digits), 256) {
		end := off + len(digits)
		if !di.gap[off] {
			continue
		}
		if end < len(di.d) && di.d[end] != '|' && !di.gap[end] {
			continue
		}
		return di.view.fileAt(di.orig[off]).name, true
	}
	return "", false
}

type haystacks struct {
	raw, norm, strip *haystack
	digits           *digitIndex
}

func buildHaystacks(files []outFile) *haystacks {
	h := &haystacks{}
	h.raw = newHaystack("raw", files, func(s string) string { return s })
	h.norm = newHaystack("normalised", files, normalise)
	h.strip = newHaystack("tags stripped", files, func(s string) string { return stripTags(normalise(s)) })
	h.digits = newDigitIndex(h.strip)
	return h
}

func (h *haystacks) decoyKept(v string) bool {
	if _, ok := h.raw.lookup(v, true); ok {
		return true
	}
	_, ok := h.norm.lookup(canon(v), true)
	return ok
}

var (
	gbkEnc  = simplifiedchinese.GBK
	big5Enc = traditionalchinese.Big5
)

// find searches for every written form of p's value.
func (h *haystacks) find(p leakcorpus.Planted) (string, string, bool) {
	v := p.Value
	c := canon(v)
	try := []struct {
		h      *haystack
		needle string
		how    string
	}{
		{h.raw, v, "raw"},
		{h.norm, c, "normalised"},
		{h.strip, c, "tags stripped"},
	}
	if strings.Contains(c, " ") {
		try = append(try, struct {
			h      *haystack
			needle string
			how    string
		}{h.norm, strings.ReplaceAll(c, " ", "+"), "query '+' for space"})
	}
	if !isASCII(v) {
		for _, e := range []struct {
			n string
			c encoding.Encoding
		}{{"GBK", gbkEnc}, {"Big5", big5Enc}} {
			b, err := e.c.NewEncoder().Bytes([]byte(v))
			if err != nil {
				continue
			}
			add := func(hs *haystack, needle, how string) {
				try = append(try, struct {
					h      *haystack
					needle string
					how    string
				}{hs, needle, how})
			}
			add(h.norm, strings.ToLower(pctBytes(b)), e.n+" percent-encoded")
			if m, err := charmap.Windows1252.NewDecoder().Bytes(b); err == nil {
				add(h.raw, string(m), e.n+" read as windows-1252")
				add(h.norm, canon(string(m)), e.n+" read as windows-1252")
			}
			add(h.raw, latin1(b), e.n+" read as latin-1")
		}
	}
	for _, t := range try {
		if f, ok := t.h.lookup(t.needle, false); ok {
			return f, t.how, true
		}
	}
	for _, d := range digitNeedles(p) {
		if f, ok := h.digits.lookup(d); ok {
			return f, "digits with separators", true
		}
	}
	return "", "", false
}

// digitNeedles returns the digit strings a numeric value is also searched
// as, tolerating separators; empty for values that are not mostly digits.
func digitNeedles(p leakcorpus.Planted) []string {
	v := p.Value
	if p.Entity == leakcorpus.Coordinates || p.Entity == leakcorpus.IPv4 || p.Entity == leakcorpus.IPv6 || p.Entity == leakcorpus.MAC {
		return nil
	}
	var d []byte
	letters := 0
	for _, r := range norm.NFKC.String(v) {
		switch {
		case r >= '0' && r <= '9':
			d = append(d, byte(r))
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x7f:
			letters++
		}
	}
	if len(d) < 8 || letters > 1 {
		return nil
	}
	out := []string{string(d)}
	if strings.HasPrefix(strings.TrimSpace(v), "+") {
		for _, cc := range []string{"852", "886", "86", "81", "82", "44", "49", "33", "1"} {
			if rest := strings.TrimPrefix(string(d), cc); rest != string(d) {
				out = append(out, rest)
				break
			}
		}
	}
	return out
}

// canon is the normal form values and texts are compared in: NFKC, lower case.
func canon(s string) string { return strings.ToLower(norm.NFKC.String(s)) }

// normalise undoes the encodings a stored file may apply to text: JSON
// string escapes (repeatedly: HTML inside JSON inside JSON), HTML character
// references, percent-encoding (repeatedly, where it decodes to UTF-8), then
// NFKC and lower case.
func normalise(s string) string {
	for i := 0; i < 4; i++ {
		n := jsonUnescape(s)
		if n == s {
			break
		}
		s = n
	}
	s = html.UnescapeString(html.UnescapeString(s))
	for i := 0; i < 4; i++ {
		n := pctDecode(s)
		if n == s {
			break
		}
		s = n
	}
	return canon(s)
}

// jsonUnescape decodes JSON string escapes wherever they appear.
func jsonUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch n := s[i+1]; n {
		case 'u':
			if r, ok := hex4(s, i+2); ok {
				i += 5
				if r >= 0xd800 && r < 0xdc00 && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if r2, ok := hex4(s, i+3); ok && r2 >= 0xdc00 && r2 < 0xe000 {
						r = 0x10000 + (r-0xd800)<<10 + (r2 - 0xdc00)
						i += 6
					}
				}
				b.WriteRune(r)
				continue
			}
			b.WriteByte(c)
		case 'n':
			b.WriteByte('\n')
			i++
		case 't':
			b.WriteByte('\t')
			i++
		case 'r':
			b.WriteByte('\r')
			i++
		case '"', '\\', '/':
			b.WriteByte(n)
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i:i+4], 16, 32)
	return rune(v), err == nil
}

// pctDecode decodes each run of %XX escapes that decodes to valid UTF-8.
func pctDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '%' || !isPct(s, i) {
			b.WriteByte(s[i])
			i++
			continue
		}
		var run []byte
		j := i
		for j < len(s) && isPct(s, j) {
			v, _ := strconv.ParseUint(s[j+1:j+3], 16, 8)
			run = append(run, byte(v))
			j += 3
		}
		if utf8.Valid(run) {
			b.Write(run)
		} else {
			b.WriteString(s[i:j])
		}
		i = j
	}
	return b.String()
}

func isPct(s string, i int) bool {
	return i+2 < len(s) && s[i] == '%' && isHex(s[i+1]) && isHex(s[i+2])
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

var tagRE = regexp.MustCompile(`<[^<>]{0,300}>`)

func stripTags(s string) string { return tagRE.ReplaceAllString(s, "") }

func pctBytes(b []byte) string {
	var o strings.Builder
	for _, c := range b {
		if c < 0x80 && c != '%' && c != ' ' {
			o.WriteByte(c)
		} else {
			fmt.Fprintf(&o, "%%%02X", c)
		}
	}
	return o.String()
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// decodeURI undoes percent-encoding (UTF-8, else GBK, else Big5) and '+'.
func decodeURI(r string) string {
	s := r
	for i := 0; i < 4; i++ {
		var raw []byte
		for j := 0; j < len(s); j++ {
			if isPct(s, j) {
				v, _ := strconv.ParseUint(s[j+1:j+3], 16, 8)
				raw = append(raw, byte(v))
				j += 2
			} else {
				raw = append(raw, s[j])
			}
		}
		n := string(raw)
		if !utf8.Valid(raw) {
			if d, err := gbkEnc.NewDecoder().Bytes(raw); err == nil && utf8.Valid(d) {
				n = string(d)
			} else if d, err := big5Enc.NewDecoder().Bytes(raw); err == nil {
				n = string(d)
			}
		}
		if n == s {
			break
		}
		s = n
	}
	return canon(s) + "\n" + canon(strings.ReplaceAll(s, "+", " "))
}

// mask shows the first three characters of a value.
func mask(v string) string {
	r := []rune(v)
	if len(r) <= 3 {
		return string(r[:1]) + "…"
	}
	return string(r[:3]) + "…(" + strconv.Itoa(len(r)) + ")"
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func splitLines(s string, n int) []string {
	var out []string
	for len(s) > n {
		i := strings.LastIndexByte(s[:n], '\n')
		if i <= 0 {
			i = n
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return append(out, s)
}

type tally struct{ planted, leaked int }

func (t tally) recall() float64 {
	if t.planted == 0 {
		return 1
	}
	return 1 - float64(t.leaked)/float64(t.planted)
}

func table(b *strings.Builder, title string, m map[string]*tally, byLeaks bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if byLeaks && m[keys[i]].leaked != m[keys[j]].leaked {
			return m[keys[i]].leaked > m[keys[j]].leaked
		}
		return keys[i] < keys[j]
	})
	fmt.Fprintf(b, "\n%s\n%-44s %8s %8s %8s\n", title, "", "planted", "leaked", "recall")
	for _, k := range keys {
		t := m[k]
		fmt.Fprintf(b, "%-44s %8d %8d %7.1f%%\n", k, t.planted, t.leaked, 100*t.recall())
	}
}

func report(planted []leakcorpus.Planted, leaked []bool, leaks []leak, decoys, lost []leakcorpus.Decoy, linkTotal, linkFollowed int,
	followed []string, otherPII int, files []outFile, nonUTF8, notFetched, notStored []string, garbledPage map[string]bool, nreqs int, crawlTime time.Duration) string {
	var b strings.Builder
	byFile := map[string]int{}
	for _, l := range leaks {
		byFile[l.file]++
	}
	add := func(m map[string]*tally, k string, l bool) {
		t := m[k]
		if t == nil {
			t = &tally{}
			m[k] = t
		}
		t.planted++
		if l {
			t.leaked++
		}
	}
	byEntity, byForm, byEnc, byEF, names, total := map[string]*tally{}, map[string]*tally{}, map[string]*tally{}, map[string]*tally{}, map[string]*tally{}, map[string]*tally{}
	for i, p := range planted {
		l := leaked[i]
		add(byEntity, string(p.Entity), l)
		add(byForm, string(p.Form), l)
		add(byEnc, string(p.Encoding), l)
		add(byEF, string(p.Entity)+" × "+string(p.Form), l)
		if p.Entity.Structured() {
			add(total, "structured identifiers", l)
		} else {
			add(total, "names and addresses", l)
		}
		add(total, "all", l)
		if p.Entity == leakcorpus.CNName || p.Entity == leakcorpus.ENName || p.Entity == leakcorpus.CNAddress {
			lab := "unlabelled"
			if p.Labelled {
				lab = "labelled"
			}
			add(names, string(p.Entity)+" "+lab, l)
		}
	}
	fmt.Fprintf(&b, "LEAK CORPUS REPORT (crawl %v, %d requests, %d files under --out)\n", crawlTime.Round(time.Millisecond), nreqs, len(files))
	for _, f := range files {
		fmt.Fprintf(&b, "  file %s (%d bytes)\n", f.name, len(f.data))
	}
	if len(nonUTF8) > 0 {
		fmt.Fprintf(&b, "  NOT VALID UTF-8 (also searched decoded as GBK and as Big5): %v\n", nonUTF8)
	}
	if len(notFetched) > 0 {
		fmt.Fprintf(&b, "  corpus pages never fetched: %v\n", notFetched)
	}
	for f, n := range byFile {
		fmt.Fprintf(&b, "  leaks found in %s: %d\n", f, n)
	}
	table(&b, "TOTAL (recall = 1 − leaked/planted)", total, false)
	table(&b, "BY ENTITY", byEntity, false)
	table(&b, "NAMES AND ADDRESSES, LABELLED OR NOT", names, false)
	table(&b, "BY FORM", byForm, false)
	table(&b, "BY ENCODING", byEnc, false)
	table(&b, "ENTITY × FORM (most leaks first)", byEF, true)
	fmt.Fprintf(&b, "\nDECOYS kept %d / %d (%.1f%%)\n", len(decoys)-len(lost), len(decoys), 100*float64(len(decoys)-len(lost))/float64(max(len(decoys), 1)))
	lostKinds := map[string]int{}
	for _, d := range lost {
		lostKinds[d.Kind]++
	}
	for k, n := range lostKinds {
		fmt.Fprintf(&b, "  lost %-14s %d\n", k, n)
	}
	for _, d := range lost {
		why := "redacted or altered"
		switch {
		case slices.Contains(notStored, d.Page):
			why = "page dropped"
		case garbledPage[d.Page] && !isASCII(d.Value):
			why = "page text garbled"
		}
		fmt.Fprintf(&b, "  lost decoy %-12s %-28q %-16s %-28s %s\n", d.Kind, d.Value, d.Encoding, d.Page, why)
	}
	fmt.Fprintf(&b, "\nLINKS carrying planted personal data followed: %d / %d (values in link queries whose value reached the site)\n", linkFollowed, linkTotal)
	fmt.Fprintf(&b, "requests whose URI carries a non-link planted value: %d\n", otherPII)
	for _, f := range followed {
		fmt.Fprintf(&b, "  followed %s\n", f)
	}
	sort.SliceStable(leaks, func(i, j int) bool {
		a, c := leaks[i].p, leaks[j].p
		if a.Entity.Structured() != c.Entity.Structured() {
			return a.Entity.Structured()
		}
		if a.Entity != c.Entity {
			return a.Entity < c.Entity
		}
		return a.Form < c.Form
	})
	fmt.Fprintf(&b, "\nLEAKS (%d): entity, form, encoding, page, labelled, found in file (how), value masked\n", len(leaks))
	for _, l := range leaks {
		fmt.Fprintf(&b, "  %-18s %-18s %-16s %-26s lab=%-5v %s (%s) %s\n", l.p.Entity, l.p.Form, l.p.Encoding, l.p.Page, l.p.Labelled, l.file, l.how, mask(l.p.Value))
	}
	return b.String()
}
