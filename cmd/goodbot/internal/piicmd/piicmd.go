// Package piicmd implements "goodbot pii": scanning files for personal
// information and redacting it, for data teams checking existing dumps.
//
//	goodbot pii scan [--json] [--entities a,b] [--min-score x] [--charset LABEL] FILE...
//	goodbot pii redact [--operator replace|mask|hmac] [--entities a,b] [--keep-sensitive] FILE -o OUT
//
// HTML is recognised by sniffing; anything else is read as text, in blocks
// of whole lines. Findings are printed with entity, tier, score, byte
// offsets and rule, and the value masked, never in full.
//
// Exit status: 0 no findings, 1 findings, 2 usage or input errors.
package piicmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/goodbot/goodbot/cmd/goodbot/internal/cliflag"
	"github.com/goodbot/goodbot/internal/textdecode"
	"golang.org/x/text/transform"

	"github.com/goodbot/goodbot/pii"
)

// Exit statuses.
const (
	exitClean    = 0
	exitFindings = 1
	exitUsage    = 2
)

var usage = `usage:
  goodbot pii scan [--json] [--entities a,b] [--min-score x] [--charset LABEL] FILE...
  goodbot pii redact [--operator replace|mask|hmac] [--entities a,b] [--keep-sensitive] [--charset LABEL] FILE -o OUT
Files are decoded to UTF-8 first (byte-order mark, <meta charset>, else sniffed; --charset overrides),
and offsets are in that UTF-8 text. redact writes UTF-8.
entities: ` + entityList + "\n"

var entityList = func() string {
	var names []string
	for _, e := range pii.AllEntities() {
		names = append(names, string(e))
	}
	return strings.Join(names, ", ")
}()

// blockSize is the size of the blocks of whole lines text is read in.
const blockSize = 1 << 20

// Run runs "goodbot pii" with args (the words after "pii") and returns the
// exit status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "scan":
		return scan(ctx, args[1:], stdout, stderr)
	case "redact":
		return redact(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitClean
	}
	fmt.Fprintf(stderr, "goodbot pii: unknown command %q\n%s", args[0], usage)
	return exitUsage
}

func entities(s string) ([]pii.Entity, error) {
	if s == "" {
		return nil, nil
	}
	var es []pii.Entity
	for p := range strings.SplitSeq(s, ",") {
		p = strings.ToUpper(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		es = append(es, pii.Entity(p))
	}
	if len(es) == 0 {
		return nil, errors.New("--entities names no entity")
	}
	return es, nil
}

// openText opens a file's text: an HTML file as it is, for readHTML to
// decode whole, any other text decoded to UTF-8 as it streams, in the
// encoding label names or the one its first 64 KiB show. It returns the
// reader, the head of the file (for isHTML) and how it was decoded.
func openText(r io.Reader, label string) (*bufio.Reader, []byte, textdecode.Decoded) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(64 << 10)
	if isHTML(head) {
		_, how := textdecode.Choose(head, label, true)
		return br, head, how
	}
	enc, how := textdecode.Choose(head, label, false)
	if how.Charset == "utf-8" {
		if how.Source == "bom" {
			br.Discard(3)
		}
		return br, head, how
	}
	return bufio.NewReaderSize(transform.NewReader(br, enc.NewDecoder()), 64<<10), head, how
}

// readHTML reads a whole HTML file and decodes it to UTF-8, rewriting its
// <meta> charset to say so.
func readHTML(r io.Reader, label string) ([]byte, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	ctype := "text/html"
	if label != "" {
		ctype += "; charset=" + label
	}
	out, _, _, _ := textdecode.Decode(ctype, b)
	return out, nil
}

// isHTML sniffs b.
func isHTML(b []byte) bool {
	if strings.HasPrefix(http.DetectContentType(b), "text/html") {
		return true
	}
	head := bytes.ToLower(b[:min(len(b), 1024)])
	return bytes.Contains(head, []byte("<html")) || bytes.Contains(head, []byte("<!doctype html"))
}

// mask shows a value's shape without the value: every letter and digit but
// the last two becomes '*'.
func mask(v []byte) string {
	n := utf8.RuneCount(v)
	var b strings.Builder
	i := 0
	for len(v) > 0 {
		r, size := utf8.DecodeRune(v)
		v = v[size:]
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteByte('?')
		case n-i <= 2 && r < utf8.RuneSelf && (r >= '0' && r <= '9' || r|0x20 >= 'a' && r|0x20 <= 'z'):
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '@' || r == '.' || r == '(' || r == ')' || r == '+':
			b.WriteRune(r)
		default:
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}

type jsonFinding struct {
	Entity string  `json:"entity"`
	Tier   string  `json:"tier"`
	Score  float64 `json:"score"`
	Start  int     `json:"start"`
	End    int     `json:"end"`
	Rule   string  `json:"rule"`
	Masked string  `json:"masked"`
}

type jsonFile struct {
	File string `json:"file"`
	Kind string `json:"kind"` // "html" or "text"
	// Charset is the encoding the file was read in, e.g. "gbk (meta)".
	// Offsets are in its UTF-8 text.
	Charset   string         `json:"charset"`
	Findings  []jsonFinding  `json:"findings"`
	Counts    map[string]int `json:"counts,omitempty"`
	Sensitive []string       `json:"sensitive,omitempty"`
	Drop      bool           `json:"drop,omitempty"`
	Reason    string         `json:"reason,omitempty"`
}

func scan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("goodbot pii scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	cs := fs.String("charset", "", "the files' encoding (default: byte-order mark, <meta>, else sniffed)")
	ents := fs.String("entities", "", "comma-separated entities to look for (default all)")
	minScore := fs.Float64("min-score", pii.DefaultMinScore, "policy threshold: findings scoring below it are not reported (0 < F <= 1)")
	files, err := cliflag.Parse(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(files) == 0 {
		fmt.Fprint(stderr, "goodbot pii scan: no FILE given\n"+usage)
		return exitUsage
	}
	es, err := entities(*ents)
	if err == nil && *cs != "" {
		err = textdecode.Check(*cs)
	}
	if err == nil && !(*minScore > 0 && *minScore <= 1) {
		err = fmt.Errorf("--min-score %v: want a score 0 < F <= 1", *minScore)
	}
	if err != nil {
		fmt.Fprintf(stderr, "goodbot pii scan: %v\n", err)
		return exitUsage
	}
	f, err := pii.New(pii.Config{Entities: es, MinScore: *minScore, KeepSensitive: true})
	if err != nil {
		fmt.Fprintf(stderr, "goodbot pii scan: %v\n", err)
		return exitUsage
	}
	status := exitClean
	enc := json.NewEncoder(stdout)
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			fmt.Fprintf(stderr, "goodbot pii scan: %v\n", err)
			return exitUsage
		}
		res, err := scanFile(ctx, f, name, *cs)
		if err != nil {
			fmt.Fprintf(stderr, "goodbot pii scan: %v\n", err)
			status = exitUsage
			continue
		}
		if len(res.Findings) > 0 && status == exitClean {
			status = exitFindings
		}
		if *asJSON {
			if err := enc.Encode(res); err != nil {
				fmt.Fprintf(stderr, "goodbot pii scan: %v\n", err)
				return exitUsage
			}
			continue
		}
		for _, x := range res.Findings {
			fmt.Fprintf(stdout, "%s:%d-%d\t%s\t%s\t%.2f\t%s\t%s\n", name, x.Start, x.End, x.Entity, x.Tier, x.Score, x.Rule, x.Masked)
		}
		if len(res.Sensitive) > 0 {
			fmt.Fprintf(stdout, "%s: sensitive categories: %s\n", name, strings.Join(res.Sensitive, ", "))
		}
	}
	return status
}

func scanFile(ctx context.Context, f *pii.Filter, name, label string) (*jsonFile, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	br, head, how := openText(fh, label)
	res := &jsonFile{File: name, Kind: "text", Charset: how.String(), Findings: []jsonFinding{}, Counts: map[string]int{}}
	add := func(base int, block []byte, fs []pii.Finding, rep pii.Report) {
		for _, x := range fs {
			res.Findings = append(res.Findings, jsonFinding{Entity: string(x.Entity), Tier: x.Tier.String(), Score: x.Score,
				Start: base + x.Start, End: base + x.End, Rule: x.Rule, Masked: mask(block[x.Start:x.End])})
			res.Counts[string(x.Entity)]++
		}
		for _, s := range rep.Sensitive {
			if !contains(res.Sensitive, s) {
				res.Sensitive = append(res.Sensitive, s)
			}
		}
	}
	if isHTML(head) {
		res.Kind = "html"
		b, err := readHTML(br, label)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		fs, err := f.ScanHTML(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		_, rep, _ := f.RedactHTML(b)
		add(0, b, fs, rep)
		return res, nil
	}
	base := 0
	err = blocks(ctx, br, func(block []byte) error {
		fs := f.ScanText(block)
		_, rep := f.RedactText(string(block))
		add(base, block, fs, rep)
		base += len(block)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return res, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// blocks calls fn with consecutive blocks of r, each ending at a line end
// (or at blockSize when a line is longer).
func blocks(ctx context.Context, r *bufio.Reader, fn func([]byte) error) error {
	buf := make([]byte, 0, blockSize+4096)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := r.ReadSlice('\n')
		buf = append(buf, line...)
		if len(buf) >= blockSize || (err != nil && len(buf) > 0) {
			if ferr := fn(buf); ferr != nil {
				return ferr
			}
			buf = buf[:0]
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
	}
}

func redact(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("goodbot pii redact", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output file (required)")
	opName := fs.String("operator", "replace", "replace, mask or hmac")
	ents := fs.String("entities", "", "comma-separated entities to redact (default all)")
	keep := fs.Bool("keep-sensitive", false, "redact sensitive-category content span by span instead of dropping it")
	cs := fs.String("charset", "", "the file's encoding (default: byte-order mark, <meta>, else sniffed); the output is UTF-8")
	files, err := cliflag.Parse(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(files) != 1 || *out == "" {
		fmt.Fprint(stderr, "goodbot pii redact: need exactly one FILE and -o OUT\n"+usage)
		return exitUsage
	}
	op, err := pii.ParseOperator(*opName)
	if err == nil && op == pii.Drop {
		err = errors.New("operator drop is for crawls; redact a file with replace, mask or hmac")
	}
	if err != nil {
		fmt.Fprintf(stderr, "goodbot pii redact: %v\n", err)
		return exitUsage
	}
	es, err := entities(*ents)
	if err == nil && *cs != "" {
		err = textdecode.Check(*cs)
	}
	if err != nil {
		fmt.Fprintf(stderr, "goodbot pii redact: %v\n", err)
		return exitUsage
	}
	f, err := pii.New(pii.Config{Entities: es, Operator: op, KeepSensitive: *keep})
	if err != nil {
		fmt.Fprintf(stderr, "goodbot pii redact: %v\n", err)
		return exitUsage
	}
	in := files[0]
	fh, err := os.Open(in)
	if err != nil {
		fmt.Fprintf(stderr, "goodbot pii redact: %v\n", err)
		return exitUsage
	}
	defer fh.Close()
	if same(in, *out) {
		fmt.Fprintln(stderr, "goodbot pii redact: -o must not be the input file")
		return exitUsage
	}
	br, head, _ := openText(fh, *cs)
	tmp := *out + ".tmp"
	w, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		fmt.Fprintf(stderr, "goodbot pii redact: %v\n", err)
		return exitUsage
	}
	total := map[pii.Entity]int{}
	dropped := 0
	var reasons []string
	tally := func(rep pii.Report) {
		for e, n := range rep.Counts {
			total[e] += n
		}
		if rep.Drop {
			dropped++
			if !contains(reasons, rep.Reason) {
				reasons = append(reasons, rep.Reason)
			}
		}
	}
	werr := func() error {
		if isHTML(head) {
			b, err := readHTML(br, *cs)
			if err != nil {
				return err
			}
			red, rep, err := f.RedactHTML(b)
			if err != nil {
				return err
			}
			tally(rep)
			_, err = w.Write(red)
			return err
		}
		return blocks(ctx, br, func(block []byte) error {
			red, rep := f.RedactText(string(block))
			tally(rep)
			_, err := io.WriteString(w, red)
			return err
		})
	}()
	if cerr := w.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil && dropped > 0 && isHTML(head) {
		os.Remove(tmp)
		fmt.Fprintf(stderr, "goodbot pii redact: %s dropped, not written: %s\n", in, strings.Join(reasons, "; "))
		return exitFindings
	}
	if werr == nil {
		werr = os.Rename(tmp, *out)
	}
	if werr != nil {
		os.Remove(tmp)
		fmt.Fprintf(stderr, "goodbot pii redact: %s: %v\n", in, werr)
		return exitUsage
	}
	n := 0
	for _, e := range pii.AllEntities() {
		if total[e] > 0 {
			fmt.Fprintf(stdout, "%s\t%d\n", e, total[e])
			n += total[e]
		}
	}
	if dropped > 0 {
		fmt.Fprintf(stdout, "dropped blocks\t%d\t%s\n", dropped, strings.Join(reasons, "; "))
	}
	if n > 0 || dropped > 0 {
		return exitFindings
	}
	return exitClean
}

// same reports whether a and b name the same existing file.
func same(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
