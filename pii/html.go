package pii

import (
	"bytes"
	"encoding/hex"
)

// lexHTML walks HTML source b and adds to p every text node and every
// data-carrying attribute value (href, title, alt, value, placeholder,
// content, aria-label) and JSON-LD block. Scripts, styles, comments and
// other markup are skipped. Cloudflare-obfuscated addresses (data-cfemail,
// /cdn-cgi/l/email-protection#…) are decoded and reported through cf.
//
// It is a forgiving hand-written lexer, not a parser: it tracks only what
// scanning needs, so that every byte handed on keeps its source offset.
func lexHTML(b []byte, p *page, cf func(start, end int)) {
	i := 0
	n := len(b)
	textStart := 0
	flush := func(end int) {
		if end > textStart && (p.open >= 0 || !blank(b[textStart:end])) {
			p.addText(b, textStart, end)
		}
	}
	for i < n {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			break
		}
		i += j
		if i+1 >= n {
			break
		}
		c := b[i+1]
		switch {
		case c == '!':
			flush(i)
			p.closeText()
			if bytes.HasPrefix(b[i:], []byte("<!--")) {
				k := bytes.Index(b[i+4:], []byte("-->"))
				if k < 0 {
					i, textStart = n, n
				} else {
					i = i + 4 + k + 3
					textStart = i
				}
				continue
			}
			i = skipTo(b, i, '>')
			textStart = i
		case c == '?' || c == '/':
			flush(i)
			if c == '?' || !inline(b, i+2) {
				p.closeText()
			}
			i = skipTo(b, i, '>')
			textStart = i
		case isLetter(c):
			flush(i)
			if !inline(b, i+1) {
				p.closeText()
			}
			i = lexTag(b, i, p, cf)
			textStart = i
		default:
			i++ // a stray '<' is text
		}
	}
	flush(n)
	p.closeText()
}

// inline reports whether the tag name at b[k:] is an inline element, one
// that does not break text: a value split by them
// ("1<span>38</span>12345678") is read as one.
func inline(b []byte, k int) bool {
	var buf [7]byte
	n := 0
	for k+n < len(b) && isLetter(b[k+n]) {
		if n == len(buf) {
			return false
		}
		buf[n] = b[k+n] | 0x20
		n++
	}
	if n == 0 || k+n < len(b) && !nameEnd[b[k+n]] {
		return false
	}
	switch string(buf[:n]) {
	case "a", "abbr", "b", "big", "cite", "del", "em", "font", "i", "ins", "mark", "q", "s", "small", "span", "strong", "sub", "sup", "u", "wbr":
		return true
	}
	return false
}

// nameEnd marks the bytes that end an attribute name.
var nameEnd = func() (t [256]bool) {
	for _, c := range "=> /\t\n\r\f" {
		t[c] = true
	}
	return t
}()

func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// skipTo returns the offset just after the next c at or after i, or len(b).
func skipTo(b []byte, i int, c byte) int {
	k := bytes.IndexByte(b[i:], c)
	if k < 0 {
		return len(b)
	}
	return i + k + 1
}

// lexTag lexes the start tag at b[i] ('<' then a letter) and returns the
// offset after it, or after the element's end tag for script and style.
func lexTag(b []byte, i int, p *page, cf func(start, end int)) int {
	n := len(b)
	k := i + 1
	for k < n && b[k] != ' ' && b[k] != '>' && b[k] != '/' && b[k] != '\t' && b[k] != '\n' && b[k] != '\r' {
		k++
	}
	name := b[i+1 : k]
	isScript, isStyle := false, false
	if len(name) > 0 && name[0]|0x20 == 's' {
		isScript = bytes.EqualFold(name, []byte("script"))
		isStyle = !isScript && bytes.EqualFold(name, []byte("style"))
	}
	jsonLD := false
	for k < n {
		c := b[k]
		if c == '>' {
			k++
			break
		}
		if c == ' ' || c == '/' || c == '\t' || c == '\n' || c == '\r' || c == '\f' {
			k++
			continue
		}
		// Attribute name.
		as := k
		for k < n && !nameEnd[b[k]] {
			k++
		}
		an := b[as:k]
		for k < n && (b[k] == ' ' || b[k] == '\t' || b[k] == '\n' || b[k] == '\r') {
			k++
		}
		if k >= n || b[k] != '=' {
			continue
		}
		k++
		for k < n && (b[k] == ' ' || b[k] == '\t' || b[k] == '\n' || b[k] == '\r') {
			k++
		}
		if k >= n {
			break
		}
		var vs, ve int
		if q := b[k]; q == '"' || q == '\'' {
			vs = k + 1
			e := bytes.IndexByte(b[vs:], q)
			if e < 0 {
				ve = n
				k = n
			} else {
				ve = vs + e
				k = ve + 1
			}
		} else {
			vs = k
			for k < n && b[k] != ' ' && b[k] != '>' && b[k] != '\t' && b[k] != '\n' && b[k] != '\r' {
				k++
			}
			ve = k
		}
		attr(b, an, vs, ve, p, cf, &jsonLD)
	}
	if isScript || isStyle {
		end := closeTag(b, k, isScript)
		if isScript && jsonLD && end > k {
			p.addSegment(b, k, end, false)
		}
		return skipTo(b, end, '>')
	}
	return k
}

// closeTag returns the offset of the "</script" or "</style" that ends the
// raw text starting at k, or len(b).
func closeTag(b []byte, k int, script bool) int {
	want := []byte("style")
	if script {
		want = []byte("script")
	}
	for k < len(b) {
		j := bytes.Index(b[k:], []byte("</"))
		if j < 0 {
			return len(b)
		}
		k += j
		if k+2+len(want) <= len(b) && bytes.EqualFold(b[k+2:k+2+len(want)], want) {
			return k
		}
		k += 2
	}
	return len(b)
}

// attrKind classifies the attribute names lexTag cares about.
type attrKind uint8

const (
	attrOther attrKind = iota
	attrType
	attrHref
	attrCFEmail
	attrData // a value that carries data: scanned as text
)

// kindOf classifies an attribute name, case-insensitively, by its length
// first so that most names are rejected without a comparison.
func kindOf(name []byte) attrKind {
	var want []string
	switch len(name) {
	case 3:
		want = []string{"alt"}
	case 4:
		if bytes.EqualFold(name, []byte("href")) {
			return attrHref
		}
		if bytes.EqualFold(name, []byte("type")) {
			return attrType
		}
		return attrOther
	case 5:
		want = []string{"title", "value"}
	case 7:
		want = []string{"content"}
	case 8:
		want = []string{"data-tel"}
	case 10:
		want = []string{"aria-label", "data-phone", "data-email"}
	case 11:
		want = []string{"placeholder"}
	case 12:
		if bytes.EqualFold(name, []byte("data-cfemail")) {
			return attrCFEmail
		}
	}
	for _, w := range want {
		if bytes.EqualFold(name, []byte(w)) {
			return attrData
		}
	}
	return attrOther
}

func attr(b, name []byte, vs, ve int, p *page, cf func(start, end int), jsonLD *bool) {
	switch kindOf(name) {
	case attrType:
		*jsonLD = bytes.Contains(bytes.ToLower(b[vs:ve]), []byte("ld+json"))
	case attrHref:
		v := b[vs:ve]
		if k := bytes.Index(v, []byte("/cdn-cgi/l/email-protection#")); k >= 0 {
			hs := vs + k + len("/cdn-cgi/l/email-protection#")
			if _, ok := cfDecode(b[hs:ve]); ok {
				cf(hs, ve)
			}
			return
		}
		p.addSegment(b, vs, ve, true)
	case attrCFEmail:
		if _, ok := cfDecode(b[vs:ve]); ok {
			cf(vs, ve)
		}
	case attrData:
		if ve > vs {
			p.addSegment(b, vs, ve, true)
		}
	}
}

// cfDecode decodes a Cloudflare e-mail obfuscation: hex bytes, the first a
// key XORed with the rest. It reports whether h is one, decoding to an
// address with '@'.
func cfDecode(h []byte) (string, bool) {
	if len(h) < 8 || len(h)%2 != 0 || len(h) > 512 {
		return "", false
	}
	var buf [256]byte
	n, err := hex.Decode(buf[:], h)
	if err != nil || n < 4 {
		return "", false
	}
	key := buf[0]
	at := false
	for i := 1; i < n; i++ {
		c := buf[i] ^ key
		buf[i] = c
		if c == '@' {
			at = true
		}
		if c <= ' ' || c >= 0x7f {
			return "", false
		}
	}
	return string(buf[1:n]), at
}
