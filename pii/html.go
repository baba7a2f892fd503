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
		if end > textStart && !blank(b[textStart:end]) {
			p.addSegment(b, textStart, end, true)
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
			i = skipTo(b, i, '>')
			textStart = i
		case isLetter(c):
			flush(i)
			i = lexTag(b, i, p, cf)
			textStart = i
		default:
			i++ // a stray '<' is text
		}
	}
	flush(n)
}

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
	isScript := bytes.EqualFold(name, []byte("script"))
	isStyle := !isScript && bytes.EqualFold(name, []byte("style"))
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
		for k < n && b[k] != '=' && b[k] != '>' && b[k] != ' ' && b[k] != '/' && b[k] != '\t' && b[k] != '\n' && b[k] != '\r' {
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

func attr(b, name []byte, vs, ve int, p *page, cf func(start, end int), jsonLD *bool) {
	switch {
	case len(name) == 4 && bytes.EqualFold(name, []byte("type")):
		*jsonLD = bytes.Contains(bytes.ToLower(b[vs:ve]), []byte("ld+json"))
	case len(name) == 4 && bytes.EqualFold(name, []byte("href")):
		v := b[vs:ve]
		if k := bytes.Index(v, []byte("/cdn-cgi/l/email-protection#")); k >= 0 {
			hs := vs + k + len("/cdn-cgi/l/email-protection#")
			if _, ok := cfDecode(b[hs:ve]); ok {
				cf(hs, ve)
			}
			return
		}
		p.addSegment(b, vs, ve, true)
	case bytes.EqualFold(name, []byte("data-cfemail")):
		if _, ok := cfDecode(b[vs:ve]); ok {
			cf(vs, ve)
		}
	case bytes.EqualFold(name, []byte("title")), bytes.EqualFold(name, []byte("alt")),
		bytes.EqualFold(name, []byte("value")), bytes.EqualFold(name, []byte("placeholder")),
		bytes.EqualFold(name, []byte("content")), bytes.EqualFold(name, []byte("aria-label")),
		bytes.EqualFold(name, []byte("data-phone")), bytes.EqualFold(name, []byte("data-email")),
		bytes.EqualFold(name, []byte("data-tel")):
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
