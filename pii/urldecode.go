package pii

import (
	"bytes"
	"html"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// maxDecodePasses bounds how many layers of percent-encoding are undone:
// "%252540" is "@" after three.
const maxDecodePasses = 4

// decodeURLText returns s as a server would read it after all its
// decoding: character references, '+' in the query as a space when plus
// is set, then percent-escapes, layer after layer. Bytes
// that are not UTF-8 are read as GB18030, which includes GBK, when they
// decode cleanly that way. Malformed escapes are kept as written.
func decodeURLText(s string, plus bool) string {
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	if q := strings.IndexByte(s, '?'); plus && q >= 0 && strings.IndexByte(s[q:], '+') >= 0 {
		s = s[:q] + strings.ReplaceAll(s[q:], "+", " ")
	}
	for range maxDecodePasses {
		d, changed := percentDecode(s)
		if !changed {
			break
		}
		s = d
	}
	return s
}

// percentDecode decodes the well-formed percent-escapes in s, leaving any
// other '%' as it is, and reads the result as GB18030 if it is not UTF-8.
func percentDecode(s string) (string, bool) {
	b, changed, _ := unescapePercent(s)
	if !changed {
		return s, false
	}
	if !utf8.Valid(b) {
		if gb, ok := cleanDecode(simplifiedchinese.GB18030, b); ok {
			return gb, true
		}
	}
	return string(b), true
}

// unescapePercent decodes the well-formed percent-escapes of s, and reports
// whether there were any and whether any decoded to a byte beyond ASCII.
func unescapePercent(s string) (b []byte, changed, high bool) {
	if strings.IndexByte(s, '%') < 0 {
		return nil, false, false
	}
	b = make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c := unhex(s[i+1])<<4 | unhex(s[i+2])
			high = high || c >= 0x80
			b = append(b, c)
			i += 2
			changed = true
			continue
		}
		b = append(b, s[i])
	}
	return b, changed, high
}

// cleanDecode decodes b with enc and reports whether every byte decoded
// to a character.
func cleanDecode(enc encoding.Encoding, b []byte) (string, bool) {
	d, err := enc.NewDecoder().Bytes(b)
	if err != nil || !utf8.Valid(d) || bytes.ContainsRune(d, utf8.RuneError) {
		return "", false
	}
	return string(d), true
}

// legacyPercent reports whether the percent-escapes of v encode bytes that
// are not UTF-8: GBK or Big5, whose second bytes may be ASCII left
// unescaped ("%C5_%B1"), so that only the value as a whole decodes.
func legacyPercent(v []byte) bool {
	b, _, high := unescapePercent(string(v))
	return high && !utf8.Valid(b)
}

// big5Form returns s with its percent-escapes read as Big5, the legacy
// encoding of Taiwan and Hong Kong pages, or "" when that reading is not
// clean or s has no bytes beyond ASCII. GB18030 reads most Big5 bytes
// too, as other characters, so a URL from a Big5 page is read both ways.
func big5Form(s string) string {
	b, _, high := unescapePercent(s)
	if !high || utf8.Valid(b) {
		return ""
	}
	d, _ := cleanDecode(traditionalchinese.Big5, b)
	return d
}
