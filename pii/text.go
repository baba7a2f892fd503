package pii

import (
	"html"
	"sort"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// page is the normalised text of one input: every scanned segment (text
// node, attribute value, JSON-LD block, or the whole input for plain text),
// NFKC-normalised with HTML entities decoded, each followed by '\n'.
//
// The offset map is run-length coded: a breakpoint starts either an
// identity run, where text and source offsets advance together, or a unit
// (one rune or character reference whose normalised form has another
// length), all of whose bytes map to the unit's source offset. A segment's
// separator is a unit at the segment's end, so every unit ends where the
// next breakpoint begins in the source.
type page struct {
	text []byte
	bps  []breakpoint
	srcN int // length of the source
	// open is the source offset where the last text segment ended while
	// it is still open to be joined by the next one (text split by inline
	// tags: "1<b>38</b>12345678"), or -1.
	open int
}

type breakpoint struct {
	t, s  int32
	ident bool
}

func (p *page) reset(n int) {
	p.text = p.text[:0]
	p.bps = p.bps[:0]
	p.srcN = n
	p.open = -1
}

// closeText ends an open text segment with its separator.
func (p *page) closeText() {
	if p.open >= 0 {
		p.unit(p.open)
		p.text = append(p.text, '\n')
		p.open = -1
	}
}

// addText appends the text node src[s:e], left open so that text after
// an inline tag continues it.
func (p *page) addText(srcb []byte, s, e int) {
	p.normalise(srcb, s, e, true)
	p.unit(e) // an empty unit: the last rune ends here, not at the next text
	p.open = e
}

// bp returns the index of the breakpoint covering text offset i.
func (p *page) bp(i int) int {
	k := sort.Search(len(p.bps), func(k int) bool { return int(p.bps[k].t) > i })
	return k - 1
}

// sourceSpan maps [s, e) in p.text to source offsets.
func (p *page) sourceSpan(s, e int) (int, int) {
	if s >= len(p.text) || len(p.bps) == 0 {
		return p.srcN, p.srcN
	}
	k := p.bp(s)
	b := p.bps[k]
	start := int(b.s)
	if b.ident {
		start += s - int(b.t)
	}
	if e <= s {
		return start, start
	}
	k = p.bp(e - 1)
	b = p.bps[k]
	if b.ident {
		return start, int(b.s) + e - int(b.t)
	}
	if k+1 < len(p.bps) {
		return start, int(p.bps[k+1].s)
	}
	return start, p.srcN
}

// ident appends raw, which maps byte for byte to the source from at.
func (p *page) ident(at int, raw []byte) {
	if n := len(p.bps); n == 0 || !p.bps[n-1].ident || int(p.bps[n-1].s)+len(p.text)-int(p.bps[n-1].t) != at {
		p.bps = append(p.bps, breakpoint{t: int32(len(p.text)), s: int32(at), ident: true})
	}
	p.text = append(p.text, raw...)
}

// unit starts a unit for the source offset at; its text follows.
func (p *page) unit(at int) {
	p.bps = append(p.bps, breakpoint{t: int32(len(p.text)), s: int32(at)})
}

// stable reports how many bytes at b[0:] form a rune that NFKC leaves
// alone and that may be copied as is: CJK ideographs (U+4000–U+9FFF) and
// CJK punctuation U+3001–U+3035. It returns 0 otherwise.
func stable(b []byte) int {
	if len(b) < 3 || b[1]&0xC0 != 0x80 || b[2]&0xC0 != 0x80 {
		return 0
	}
	switch c := b[0]; {
	case c >= 0xE4 && c <= 0xE9:
		return 3
	case c == 0xE3 && b[1] == 0x80 && b[2] >= 0x81 && b[2] <= 0xB5:
		return 3
	}
	return 0
}

// addSegment appends src[s:e] of the source, normalised, then a separator.
func (p *page) addSegment(srcb []byte, s, e int, entities bool) {
	p.closeText()
	p.normalise(srcb, s, e, entities)
	p.unit(e)
	p.text = append(p.text, '\n')
}

// normalise appends src[s:e], NFKC-normalised, with entities decoded if asked.
func (p *page) normalise(srcb []byte, s, e int, entities bool) {
	i := s
	for i < e {
		// Copy the longest run that maps byte for byte.
		j := i
		for j < e {
			c := srcb[j]
			if c < utf8.RuneSelf {
				if c == '&' && entities || c == '\n' || c == '\r' || c == '\t' || c == '\f' {
					break
				}
				j++
				continue
			}
			n := stable(srcb[j:e])
			if n == 0 {
				break
			}
			j += n
		}
		if j > i {
			p.ident(i, srcb[i:j])
			i = j
			if i >= e {
				break
			}
		}
		c := srcb[i]
		switch {
		case c == '&' && entities:
			if n := p.entity(srcb, i, e); n > 0 {
				i += n
				continue
			}
			p.ident(i, srcb[i:i+1])
			i++
		case c < utf8.RuneSelf: // control whitespace
			p.ident(i, []byte{' '})
			i++
		default:
			r, size := utf8.DecodeRune(srcb[i:e])
			p.addRune(r, srcb[i:i+size], i)
			i += size
		}
	}
}

// addRune appends the NFKC form of one rune whose source bytes are raw.
func (p *page) addRune(r rune, raw []byte, at int) {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
		p.unit(at)
		p.text = append(p.text, byte(r-0xFEE0))
	case r == 0x3000 || r == 0xA0: // ideographic and no-break space
		p.unit(at)
		p.text = append(p.text, ' ')
	case r == 0x200B || r == 0x200C || r == 0x200D || r == 0x2060 || r == 0xFEFF || r == 0xAD:
		// Zero-width characters and soft hyphens hide nothing: drop them.
	case r == utf8.RuneError && len(raw) == 1:
		p.unit(at)
		p.text = append(p.text, '?')
	default:
		p.unit(at)
		p.text = norm.NFKC.Append(p.text, raw...)
	}
}

// entity decodes the character reference at srcb[i] ('&'), appends it and
// returns its length, or returns 0 if there is none.
func (p *page) entity(srcb []byte, i, e int) int {
	end := i + 1
	for end < e && end-i < 33 && srcb[end] != ';' && srcb[end] != '&' && srcb[end] != '<' && srcb[end] != ' ' {
		end++
	}
	if end >= e || srcb[end] != ';' || end == i+1 {
		return 0
	}
	ref := srcb[i : end+1]
	var r rune = -1
	switch string(ref) {
	case "&amp;":
		r = '&'
	case "&lt;":
		r = '<'
	case "&gt;":
		r = '>'
	case "&quot;":
		r = '"'
	case "&#39;", "&apos;":
		r = '\''
	case "&nbsp;":
		r = ' '
	}
	if r < 0 {
		dec := html.UnescapeString(string(ref))
		if dec == string(ref) {
			return 0
		}
		for _, r := range dec {
			var buf [utf8.UTFMax]byte
			n := utf8.EncodeRune(buf[:], r)
			p.addRune(r, buf[:n], i)
		}
		return len(ref)
	}
	p.unit(i)
	p.text = append(p.text, byte(r))
	return len(ref)
}
