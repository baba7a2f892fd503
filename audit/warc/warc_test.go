package warc

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestWriteReadBack(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	date := time.Date(2026, 11, 23, 10, 1, 2, 345000000, time.UTC)
	info := []byte("software: goodbot/test\r\nrobots: RFC 9309\r\n")
	infoID, err := w.Write(TypeWarcinfo, date, []Header{{"Content-Type", "application/warc-fields"}}, info)
	if err != nil {
		t.Fatal(err)
	}
	page := []byte("<html><body>hello \x00 binary\r\n\r\nend</body></html>")
	pageID, err := w.Write(TypeResource, date, []Header{
		{"WARC-Target-URI", "http://127.0.0.1:8080/a?b=1"},
		{"WARC-Warcinfo-ID", infoID},
		{"WARC-Payload-Digest", Digest(page)},
		{"Content-Type", "text/html"},
	}, page)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(TypeMetadata, date, []Header{{"WARC-Concurrent-To", pageID}, {"WARC-Target-URI", "http://127.0.0.1:8080/a?b=1"}}, []byte("status: 200\r\n")); err != nil {
		t.Fatal(err)
	}

	// One gzip member per record.
	// bytes.Reader is an io.ByteReader, so gzip reads exactly one member.
	src := bytes.NewReader(buf.Bytes())
	zr, err := gzip.NewReader(src)
	if err != nil {
		t.Fatal(err)
	}
	members := 0
	for {
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatal(err)
		}
		members++
		if err := zr.Reset(src); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if members != 3 {
		t.Errorf("%d gzip members, want 3", members)
	}

	r := NewReader(bytes.NewReader(buf.Bytes()))
	var recs []*Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.CheckDigests(); err != nil {
			t.Error(err)
		}
		recs = append(recs, rec)
	}
	if len(recs) != 3 {
		t.Fatalf("read %d records, want 3", len(recs))
	}
	if recs[0].Type() != TypeWarcinfo || recs[0].Get("WARC-Record-ID") != infoID || !bytes.Equal(recs[0].Block, info) {
		t.Errorf("warcinfo record: %+v", recs[0])
	}
	p := recs[1]
	if p.Get("WARC-Target-URI") != "http://127.0.0.1:8080/a?b=1" || !bytes.Equal(p.Block, page) || p.Get("warc-date") != "2026-11-23T10:01:02.345Z" {
		t.Errorf("resource record: %+v", p.Headers)
	}
	if !strings.HasPrefix(p.Get("WARC-Record-ID"), "<urn:uuid:") {
		t.Errorf("record id %q", p.Get("WARC-Record-ID"))
	}
	if recs[2].Get("WARC-Concurrent-To") != pageID {
		t.Error("metadata not linked to its resource")
	}
}

func TestTamperedBlockDetected(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if _, err := w.Write(TypeResource, time.Now(), []Header{{"WARC-Target-URI", "http://127.0.0.1/"}}, []byte("original page")); err != nil {
		t.Fatal(err)
	}
	zr, _ := gzip.NewReader(&buf)
	plain, _ := io.ReadAll(zr)
	plain = bytes.Replace(plain, []byte("original"), []byte("altered!"), 1)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(plain)
	zw.Close()
	rec, err := NewReader(&out).Next()
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.CheckDigests(); err == nil {
		t.Fatal("altered block passed its digest")
	}
}

func TestWriterRefusesBadHeaders(t *testing.T) {
	w := NewWriter(io.Discard)
	for _, h := range []Header{{"Content-Length", "3"}, {"X-Bad", "a\r\nb"}, {"Bad Name", "x"}} {
		if _, err := w.Write(TypeResource, time.Now(), []Header{h}, nil); err == nil {
			t.Errorf("header %q accepted", h)
		}
	}
	if _, err := w.Write("", time.Now(), nil, nil); err == nil {
		t.Error("record without type accepted")
	}
}

func FuzzReader(f *testing.F) {
	var buf bytes.Buffer
	NewWriter(&buf).Write(TypeResource, time.Unix(0, 0), []Header{{"WARC-Target-URI", "http://x/"}}, []byte("x"))
	f.Add(buf.Bytes())
	f.Add([]byte("WARC/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		for range 100 {
			rec, err := r.Next()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return
				}
				return
			}
			rec.CheckDigests()
		}
	})
}

// A response record's payload digest is checked when it holds its body,
// and not when the body was left out (WARC-Truncated).
func TestResponsePayloadDigest(t *testing.T) {
	body := []byte("<p>hi</p>")
	head := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
	for _, tc := range []struct {
		name   string
		block  string
		extra  []Header
		digest string
		ok     bool
	}{
		{"full body", head + string(body), nil, Digest(body), true},
		{"wrong digest", head + string(body), nil, Digest([]byte("other")), false},
		{"truncated", head, []Header{{"WARC-Truncated", "unspecified"}}, Digest(body), true},
	} {
		var buf bytes.Buffer
		h := append([]Header{{"WARC-Target-URI", "http://127.0.0.1/"}, {"Content-Type", ContentTypeHTTPResponse}, {"WARC-Payload-Digest", tc.digest}}, tc.extra...)
		if _, err := NewWriter(&buf).Write(TypeResponse, time.Now(), h, []byte(tc.block)); err != nil {
			t.Fatal(err)
		}
		rec, err := NewReader(&buf).Next()
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.CheckDigests(); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
