// Package textdecode turns fetched text into UTF-8 the way browsers do:
// byte-order mark, then the Content-Type charset, then <meta>, then
// sniffing. goodbot scans and stores UTF-8 only, so every text body and
// file is decoded with it first.
package textdecode

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/saintfish/chardet"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Decoded says how a body was turned into UTF-8.
type Decoded struct {
	// Charset is the encoding the body was read in, by its WHATWG name
	// ("utf-8", "gbk", "gb18030", "big5", "windows-1252").
	Charset string
	// Source says how it was chosen: "bom", "header", "meta" or "sniff".
	Source string
}

// String returns e.g. "gbk (meta)".
func (d Decoded) String() string { return d.Charset + " (" + d.Source + ")" }

// Textual reports whether a media type is text that goodbot reads and
// scans, and so decodes to UTF-8 first.
func Textual(mt string) bool {
	switch {
	case mt == "text/html", mt == "application/xhtml+xml", strings.HasPrefix(mt, "text/"),
		mt == "application/json", mt == "application/ld+json", mt == "application/xml",
		mt == "application/javascript", mt == "application/x-javascript",
		strings.HasSuffix(mt, "+xml"), strings.HasSuffix(mt, "+json"):
		return true
	}
	return false
}

// gb18030BOM is the byte-order mark of GB18030 (U+FEFF encoded).
var gb18030BOM = []byte{0x84, 0x31, 0x95, 0x33}

// Decode decodes a text body to UTF-8 the way browsers choose its
// encoding: a byte-order mark, then the charset of the Content-Type header,
// then (for HTML) <meta charset> or <meta http-equiv=Content-Type>, then
// sniffing (valid UTF-8, else a statistical guess). It returns the UTF-8
// body, the Content-Type to go with it, and how it was decoded. Bodies of
// other types are returned as they are, with ok false.
//
// An HTML body's own declarations are rewritten to say utf-8, so that the
// stored page says what it is.
func Decode(ctype string, body []byte) (out []byte, newType string, how Decoded, ok bool) {
	mt, params, err := mime.ParseMediaType(ctype)
	if ctype == "" || err != nil {
		if !strings.Contains(http.DetectContentType(body), "text/html") {
			return body, ctype, Decoded{}, false
		}
		mt, params = "text/html", map[string]string{}
	}
	if !Textual(mt) {
		return body, ctype, Decoded{}, false
	}
	isHTML := mt == "text/html" || mt == "application/xhtml+xml"
	enc, how := Choose(body, params["charset"], isHTML)
	switch {
	case how.Charset == "utf-8":
		if how.Source == "bom" {
			body = body[3:]
		}
		out = body
		if !utf8.Valid(out) {
			out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
		}
	default:
		if how.Source == "bom" && how.Charset == "gb18030" {
			body = body[len(gb18030BOM):]
		}
		d, err := enc.NewDecoder().Bytes(body)
		if err != nil {
			// The decoders replace what they cannot read; an error here
			// is unexpected. Keep what is valid of the bytes as UTF-8.
			d = bytes.ToValidUTF8(body, []byte("\uFFFD"))
		}
		out = d
	}
	if isHTML {
		out = rewriteMetaCharset(out)
	}
	params["charset"] = "utf-8"
	return out, mime.FormatMediaType(mt, params), how, true
}

// Choose picks the encoding of body (or of its first part, for a stream)
// from its byte-order mark, the charset label of its Content-Type (or ""),
// <meta> when isHTML, and sniffing.
func Choose(body []byte, label string, isHTML bool) (encoding.Encoding, Decoded) {
	switch {
	case bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")):
		return encoding.Nop, Decoded{"utf-8", "bom"}
	case bytes.HasPrefix(body, gb18030BOM):
		return simplifiedchinese.GB18030, Decoded{"gb18030", "bom"}
	case bytes.HasPrefix(body, []byte("\xFE\xFF")), bytes.HasPrefix(body, []byte("\xFF\xFE")):
		e, name, _ := charset.DetermineEncoding(body, "")
		return e, Decoded{name, "bom"}
	}
	if label != "" {
		if e, name := lookup(label); e != nil {
			return e, Decoded{name, "header"}
		}
	}
	if isHTML {
		if label := metaCharset(body[:min(len(body), 1024)]); label != "" {
			if e, name := lookup(label); e != nil {
				return e, Decoded{name, "meta"}
			}
		}
	}
	if utf8.Valid(body) {
		return encoding.Nop, Decoded{"utf-8", "sniff"}
	}
	if r, err := chardet.NewTextDetector().DetectBest(body); err == nil {
		// chardet's names are ICU's ("GB-18030", "Big5", "Shift_JIS").
		for _, label := range []string{r.Charset, strings.ReplaceAll(r.Charset, "-", "")} {
			if e, name := lookup(label); e != nil {
				return e, Decoded{name, "sniff"}
			}
		}
	}
	// The last resort of browsers without a locale.
	return charmap.Windows1252, Decoded{"windows-1252", "sniff"}
}

// metaCharset returns the charset declared by the first <meta charset> or
// <meta http-equiv=Content-Type content="…; charset=…"> in head, the
// prescan of the HTML standard.
func metaCharset(head []byte) string {
	z := html.NewTokenizer(bytes.NewReader(head))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "meta" || !hasAttr {
				continue
			}
			var cs, content string
			httpEquiv := false
			for more := true; more; {
				var k, v []byte
				k, v, more = z.TagAttr()
				switch string(k) {
				case "charset":
					cs = string(v)
				case "content":
					content = string(v)
				case "http-equiv":
					httpEquiv = strings.EqualFold(string(v), "content-type")
				}
			}
			if cs != "" {
				return cs
			}
			if httpEquiv && content != "" {
				if _, params, err := mime.ParseMediaType(content); err == nil && params["charset"] != "" {
					return params["charset"]
				}
			}
		}
	}
}

// Check returns an error naming label if it names no encoding of the
// Encoding Standard.
func Check(label string) error {
	if e, _ := lookup(label); e == nil {
		return fmt.Errorf("unknown charset %q (want a label such as utf-8, gbk, gb18030, big5, shift_jis)", label)
	}
	return nil
}

// lookup finds an encoding by its label. GBK and GB2312 are read with the
// GB18030 decoder, as the Encoding Standard says: pages labelled so use
// its four-byte sequences too.
func lookup(label string) (encoding.Encoding, string) {
	e, err := htmlindex.Get(strings.TrimSpace(label))
	if err != nil {
		return nil, ""
	}
	name, _ := htmlindex.Name(e)
	switch name {
	case "gbk":
		return simplifiedchinese.GB18030, name
	case "utf-16be", "utf-16le":
		// A page that says utf-16 without a byte-order mark is not; the
		// Encoding Standard reads it as UTF-8.
		if !utf8.ValidString(label) {
			return nil, ""
		}
	}
	if name == "utf-8" {
		return encoding.Nop, name
	}
	return e, name
}

// rewriteMetaCharset rewrites the charset declared by each <meta charset>
// and <meta http-equiv=Content-Type content="…; charset=…"> in an HTML
// document to utf-8.
func rewriteMetaCharset(b []byte) []byte {
	var out []byte
	at := 0
	for i := 0; i < len(b); {
		j := indexWordFold(b[i:], "<meta")
		if j < 0 {
			break
		}
		i += j + 5
		end := bytes.IndexByte(b[i:], '>')
		if end < 0 {
			break
		}
		tag := b[i : i+end]
		for k := 0; k < len(tag); {
			c := indexWordFold(tag[k:], "charset")
			if c < 0 {
				break
			}
			k += c + len("charset")
			m := k
			for m < len(tag) && (tag[m] == ' ' || tag[m] == '\t' || tag[m] == '\n' || tag[m] == '\r') {
				m++
			}
			if m >= len(tag) || tag[m] != '=' {
				continue
			}
			m++
			for m < len(tag) && (tag[m] == ' ' || tag[m] == '"' || tag[m] == '\'') {
				m++
			}
			vs := m
			for m < len(tag) && tag[m] != '"' && tag[m] != '\'' && tag[m] != ';' && tag[m] != ' ' && tag[m] != '/' && tag[m] != '\t' && tag[m] != '\n' {
				m++
			}
			if m == vs || bytes.EqualFold(tag[vs:m], []byte("utf-8")) {
				continue
			}
			if out == nil {
				out = make([]byte, 0, len(b))
			}
			out = append(out, b[at:i+vs]...)
			out = append(out, "utf-8"...)
			at = i + m
			k = m
		}
		i += end
	}
	if out == nil {
		return b
	}
	return append(out, b[at:]...)
}

// indexWordFold is bytes.Index with ASCII case folding; word is lower case.
func indexWordFold(b []byte, word string) int {
	lo, up := word[0], word[0]
	if 'a' <= lo && lo <= 'z' {
		up = lo - 'a' + 'A'
	}
	for off := 0; off+len(word) <= len(b); {
		var k int
		if lo == up {
			k = bytes.IndexByte(b[off:], lo)
		} else {
			k = indexEither(b[off:], lo, up)
		}
		if k < 0 {
			return -1
		}
		i := off + k
		if i+len(word) <= len(b) && equalFoldASCII(b[i:i+len(word)], word) {
			return i
		}
		off = i + 1
	}
	return -1
}

// indexEither is the index of the first a or b in s, or -1.
func indexEither(s []byte, a, b byte) int {
	for i, c := range s {
		if c == a || c == b {
			return i
		}
	}
	return -1
}

// equalFoldASCII reports whether b is word, ASCII letters in any case;
// word is lower case.
func equalFoldASCII(b []byte, word string) bool {
	for i := range len(word) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != word[i] {
			return false
		}
	}
	return true
}
