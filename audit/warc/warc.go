// Package warc writes and reads WARC 1.1 files (ISO 28500:2017), one gzip
// member per record, as web archives expect.
//
// It is deliberately small: enough to write the evidence bundle's archive of
// stored pages (warcinfo, resource and metadata records with block and
// payload digests) and to read any such file back and check its digests.
package warc

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Record types used by goodbot (WARC 1.1 section 6).
const (
	TypeWarcinfo   = "warcinfo"
	TypeResponse   = "response"
	TypeResource   = "resource"
	TypeMetadata   = "metadata"
	TypeRequest    = "request"
	TypeRevisit    = "revisit"
	TypeConversion = "conversion"
)

// ProfileNotModified is the WARC-Profile of a revisit record for an HTTP
// 304 answer (WARC 1.1 section 6.7.3).
const ProfileNotModified = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"

// ContentTypeHTTPResponse and ContentTypeHTTPRequest are the Content-Type
// of response and request records whose block is an HTTP message.
const (
	ContentTypeHTTPResponse = "application/http; msgtype=response"
	ContentTypeHTTPRequest  = "application/http; msgtype=request"
)

// A Header is one named WARC header field. Record headers keep their order.
type Header struct{ Name, Value string }

// Record is one WARC record.
type Record struct {
	Headers []Header
	Block   []byte
}

// Get returns the value of the first header named name (case-insensitive),
// or "".
func (r *Record) Get(name string) string {
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Type returns the record's WARC-Type.
func (r *Record) Type() string { return r.Get("WARC-Type") }

// Digest returns the WARC digest string of b: "sha256:" followed by the
// base32 (RFC 4648) SHA-256, the form used for WARC-Block-Digest and
// WARC-Payload-Digest.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + base32.StdEncoding.EncodeToString(sum[:])
}

// DigestHex returns the WARC digest string of a hex SHA-256, as the
// operation log records digests.
func DigestHex(h string) (string, error) {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("warc: %q is not a hex SHA-256", h)
	}
	return "sha256:" + base32.StdEncoding.EncodeToString(b), nil
}

// NewRecordID returns a fresh "<urn:uuid:...>" record id (random, version 4).
func NewRecordID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("<urn:uuid:%x-%x-%x-%x-%x>", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// FormatDate formats t as a WARC-Date: UTC, W3C ISO 8601, with fractional
// seconds when t has them (allowed since WARC 1.1).
func FormatDate(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Writer writes records, each as its own gzip member.
type Writer struct {
	w io.Writer
}

// NewWriter returns a Writer appending to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes r. It requires WARC-Type, fills in WARC-Record-ID and
// WARC-Date when absent, and always sets Content-Length and
// WARC-Block-Digest from the block. It returns the record id.
func (w *Writer) Write(typ string, date time.Time, headers []Header, block []byte) (string, error) {
	if typ == "" {
		return "", errors.New("warc: record without WARC-Type")
	}
	rec := Record{Block: block}
	rec.Headers = append(rec.Headers, Header{"WARC-Type", typ})
	id := ""
	for _, h := range headers {
		if strings.EqualFold(h.Name, "WARC-Record-ID") {
			id = h.Value
		}
	}
	if id == "" {
		id = NewRecordID()
		rec.Headers = append(rec.Headers, Header{"WARC-Record-ID", id})
	}
	rec.Headers = append(rec.Headers, Header{"WARC-Date", FormatDate(date)})
	for _, h := range headers {
		switch strings.ToLower(h.Name) {
		case "warc-type", "warc-date", "content-length", "warc-block-digest":
			return "", fmt.Errorf("warc: header %s is set by the writer", h.Name)
		}
		if strings.ContainsAny(h.Name, ":\r\n ") || strings.ContainsAny(h.Value, "\r\n") {
			return "", fmt.Errorf("warc: bad header %q: %q", h.Name, h.Value)
		}
		rec.Headers = append(rec.Headers, h)
	}
	rec.Headers = append(rec.Headers,
		Header{"WARC-Block-Digest", Digest(block)},
		Header{"Content-Length", strconv.Itoa(len(block))})

	var buf bytes.Buffer
	buf.WriteString("WARC/1.1\r\n")
	for _, h := range rec.Headers {
		buf.WriteString(h.Name + ": " + h.Value + "\r\n")
	}
	buf.WriteString("\r\n")
	buf.Write(block)
	buf.WriteString("\r\n\r\n")

	zw, err := gzip.NewWriterLevel(w.w, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(buf.Bytes()); err != nil {
		return "", fmt.Errorf("warc: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("warc: %w", err)
	}
	return id, nil
}

// Reader reads records from a file of gzip members, one record per member.
type Reader struct {
	br *bufio.Reader
	zr *gzip.Reader
	n  int
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader { return &Reader{br: bufio.NewReader(r)} }

// Next returns the next record, or io.EOF after the last one. It checks the
// record's framing, Content-Length and mandatory headers; CheckDigests
// checks its digests.
func (r *Reader) Next() (*Record, error) {
	var err error
	if r.zr == nil {
		r.zr, err = gzip.NewReader(r.br)
	} else {
		err = r.zr.Reset(r.br)
	}
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("warc: record %d: %w", r.n, err)
	}
	r.zr.Multistream(false)
	member, err := io.ReadAll(io.LimitReader(r.zr, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("warc: record %d: %w", r.n, err)
	}
	rec, err := parseRecord(member)
	if err != nil {
		return nil, fmt.Errorf("warc: record %d: %w", r.n, err)
	}
	r.n++
	return rec, nil
}

func parseRecord(b []byte) (*Record, error) {
	head, rest, ok := bytes.Cut(b, []byte("\r\n\r\n"))
	if !ok {
		return nil, errors.New("no end of headers")
	}
	lines := strings.Split(string(head), "\r\n")
	if lines[0] != "WARC/1.1" && lines[0] != "WARC/1.0" {
		return nil, fmt.Errorf("bad version line %q", lines[0])
	}
	rec := &Record{}
	for _, ln := range lines[1:] {
		name, value, ok := strings.Cut(ln, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("bad header line %q", ln)
		}
		rec.Headers = append(rec.Headers, Header{name, strings.TrimSpace(value)})
	}
	for _, h := range []string{"WARC-Type", "WARC-Record-ID", "WARC-Date", "Content-Length"} {
		if rec.Get(h) == "" {
			return nil, fmt.Errorf("missing mandatory header %s", h)
		}
	}
	n, err := strconv.Atoi(rec.Get("Content-Length"))
	if err != nil || n < 0 || n > len(rest) {
		return nil, fmt.Errorf("bad Content-Length %q", rec.Get("Content-Length"))
	}
	if string(rest[n:]) != "\r\n\r\n" {
		return nil, errors.New("block is not followed by exactly CRLF CRLF (more than one record in a gzip member?)")
	}
	if _, err := time.Parse(time.RFC3339Nano, rec.Get("WARC-Date")); err != nil {
		return nil, fmt.Errorf("bad WARC-Date: %w", err)
	}
	if t := rec.Type(); t == TypeResponse || t == TypeResource || t == TypeRequest || t == TypeRevisit || t == TypeConversion {
		if rec.Get("WARC-Target-URI") == "" {
			return nil, fmt.Errorf("%s record without WARC-Target-URI", t)
		}
	}
	rec.Block = rest[:n]
	return rec, nil
}

// Payload returns the record's payload, and whether it has a well-defined
// one the record contains: the block of a resource or conversion record;
// the body of a response or request record holding an HTTP message that is
// not truncated. A revisit or truncated record's WARC-Payload-Digest is
// that of a payload it does not contain.
func (r *Record) Payload() ([]byte, bool) {
	switch r.Type() {
	case TypeResource, TypeConversion:
		return r.Block, true
	case TypeResponse, TypeRequest:
		if r.Get("WARC-Truncated") != "" || !strings.HasPrefix(strings.ToLower(r.Get("Content-Type")), "application/http") {
			return nil, false
		}
		_, body, ok := bytes.Cut(r.Block, []byte("\r\n\r\n"))
		return body, ok
	}
	return nil, false
}

// CheckDigests checks WARC-Block-Digest and, for records that contain
// their payload (see Payload), WARC-Payload-Digest. sha256 digests are
// understood; a record with no block digest fails.
func (r *Record) CheckDigests() error {
	bd := r.Get("WARC-Block-Digest")
	if bd == "" {
		return errors.New("warc: no WARC-Block-Digest")
	}
	if bd != Digest(r.Block) {
		return fmt.Errorf("warc: record %s: block digest %s does not match its block", r.Get("WARC-Record-ID"), bd)
	}
	if pd := r.Get("WARC-Payload-Digest"); pd != "" {
		if p, ok := r.Payload(); ok && pd != Digest(p) {
			return fmt.Errorf("warc: record %s: payload digest %s does not match its payload", r.Get("WARC-Record-ID"), pd)
		}
	}
	return nil
}
