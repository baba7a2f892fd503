package pii

import (
	"encoding/binary"
	"html"
	"sort"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
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
	// attrs is the lexer's scratch space for one start tag's attributes.
	attrs []attrSpan
	// headers are the texts of the current table's header cells by
	// column, col the column of the next cell.
	headers [][]byte
	col     int
	cell    []byte // the header of the current cell, or nil
	// rowHeader is the text of a header cell earlier in the current row.
	rowHeader []byte
	// While deferring is set, segments are queued in pend, to be added
	// when the open text segment closes.
	deferring bool
	pend      []pendingSeg
	// open is the source offset where the last text segment ended while
	// it is still open to be joined by the next one (text split by inline
	// tags: "1<b>38</b>12345678"), or -1.
	open int
}

// pendingSeg is a segment queued while text is open: an attribute of an
// inline tag.
type pendingSeg struct {
	src  []byte
	name []byte // for a label
	text string // for a whole unit
	s, e int
	kind uint8
}

const (
	pendSegment = iota
	pendLabel
	pendWhole
)

type breakpoint struct {
	t, s  int32
	ident bool
}

func (p *page) reset(n int) {
	p.text = p.text[:0]
	p.bps = p.bps[:0]
	p.srcN = n
	p.open = -1
	p.deferring = false
	p.pend = p.pend[:0]
	p.headers = p.headers[:0]
	p.col, p.cell, p.rowHeader = 0, nil, nil
}

// closeText ends an open text segment with its separator.
func (p *page) closeText() {
	if p.open >= 0 {
		p.unit(p.open)
		p.text = append(p.text, '\n')
		p.open = -1
	}
	if len(p.pend) > 0 && !p.deferring {
		q := p.pend
		p.pend = nil
		for _, d := range q {
			switch d.kind {
			case pendSegment:
				p.addSegment(d.src, d.s, d.e)
			case pendLabel:
				p.label(d.name, d.s)
			case pendWhole:
				p.addWhole(d.text, d.s, d.e)
			}
		}
		p.pend = q[:0]
	}
}

// addText appends the text node src[s:e], left open so that text after
// an inline tag continues it.
func (p *page) addText(srcb []byte, s, e int) {
	if p.open >= 0 && s < e && isDigit(srcb[s]) && endsWithWord(p.text) {
		// A word and digits that only an inline tag joins are a label
		// and its value ("注册 IP</em>111.156.67.226"), not one token.
		p.unit(s)
		p.text = append(p.text, ' ')
	}
	p.normalise(srcb, s, e)
	p.unit(e) // an empty unit: the last rune ends here, not at the next text
	p.open = e
}

// endsWithWord reports whether t ends with a word of two or more ASCII letters.
func endsWithWord(t []byte) bool {
	n := len(t)
	return n >= 2 && isLetter(t[n-1]) && isLetter(t[n-2])
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
func (p *page) addSegment(srcb []byte, s, e int) {
	if p.deferring {
		p.pend = append(p.pend, pendingSeg{kind: pendSegment, src: srcb, s: s, e: e})
		return
	}
	p.closeText()
	p.normalise(srcb, s, e)
	p.unit(e)
	p.text = append(p.text, '\n')
}

// label starts a segment with the synthetic text "name: ", mapped to no
// source bytes, so that the name of an attribute or field serves as
// context for the value that follows at source offset at.
func (p *page) label(name []byte, at int) {
	if p.deferring {
		p.pend = append(p.pend, pendingSeg{kind: pendLabel, name: name, s: at})
		return
	}
	p.closeText()
	p.unit(at)
	for _, c := range name {
		if c > ' ' && c != 0x7f {
			p.text = append(p.text, c) // as written: "receiverPhone" splits into words
		}
	}
	p.text = append(p.text, ':', ' ')
}

// addWhole appends text, a decoded form of the source src[s:e] that does
// not map to it byte by byte, as one unit: a finding anywhere in it covers
// all of src[s:e].
func (p *page) addWhole(text string, s, e int) {
	if p.deferring {
		p.pend = append(p.pend, pendingSeg{kind: pendWhole, text: text, s: s, e: e})
		return
	}
	p.closeText()
	p.unit(s)
	for _, r := range text {
		switch {
		case r < ' ' || r == 0x7f:
			p.text = append(p.text, ' ')
		case r < utf8.RuneSelf:
			p.text = append(p.text, byte(r))
		default:
			var buf [utf8.UTFMax]byte
			n := utf8.EncodeRune(buf[:], r)
			p.text = norm.NFKC.Append(p.text, buf[:n]...)
		}
	}
	p.unit(e)
	p.text = append(p.text, '\n')
}

// plain8 reports whether the eight bytes of x are all ASCII that normalise
// copies as they are: none has the high bit, none is a control byte, and
// none is '&', '\\' or '%'.
func plain8(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - lo) & ^v & hi }
	if x&hi != 0 || (x-0x20*lo)&^x&hi != 0 {
		return false
	}
	return zero(x^('&'*lo))|zero(x^('\\'*lo))|zero(x^('%'*lo)) == 0
}

// special marks the ASCII bytes normalise does not copy as they are:
// character references, escapes, percent-escapes and control white space.
var special = func() (t [utf8.RuneSelf]bool) {
	for _, c := range "&\\%\n\r\t\f" {
		t[c] = true
	}
	return t
}()

// normalise appends src[s:e], NFKC-normalised, with character references,
// JavaScript/JSON string escapes and percent-escapes decoded: the form in
// which a reader, a browser or a program would take the characters.
func (p *page) normalise(srcb []byte, s, e int) {
	i := s
	for i < e {
		// Copy the longest run that maps byte for byte, eight plain ASCII
		// bytes at a time where it can.
		j := i
		for j < e {
			if j+8 <= e && plain8(binary.LittleEndian.Uint64(srcb[j:])) {
				j += 8
				continue
			}
			c := srcb[j]
			if c < utf8.RuneSelf {
				if special[c] {
					break
				}
				// Up to the byte that failed the eight-byte test, one
				// at a time, rather than testing again at every byte.
				for k := min(j+8, e); j < k && srcb[j] < utf8.RuneSelf && !special[srcb[j]]; {
					j++
				}
				continue
			}
			n := stable(srcb[j:e])
			if n > 0 {
				// A run of ideographs: copy them without testing each
				// for eight plain ASCII bytes first.
				j += n
				for j+3 <= e && stable(srcb[j:j+3]) > 0 {
					j += 3
				}
				continue
			}
			r, size := utf8.DecodeRune(srcb[j:e])
			if !nfkcStable(r) {
				break
			}
			j += size
		}
		if j > i {
			p.ident(i, srcb[i:j])
			i = j
			if i >= e {
				break
			}
		}
		c := srcb[i]
		n := 0
		switch c {
		case '&':
			n = p.entity(srcb, i, e)
		case '\\':
			n = p.escape(srcb, i, e)
		case '%':
			n = p.percent(srcb, i, e)
		default:
			if c < utf8.RuneSelf { // control white space
				p.ident(i, []byte{' '})
				i++
				continue
			}
			r, size := utf8.DecodeRune(srcb[i:e])
			p.addRune(r, srcb[i:i+size], i)
			i += size
			continue
		}
		if n > 0 {
			i += n
			continue
		}
		p.ident(i, srcb[i:i+1])
		i++
	}
}

// stableBMP has a bit set for each rune of the Basic Multilingual Plane
// that the normaliser copies as it is: NFKC leaves it alone, and addRune
// has no rule of its own for it. Built once, never changed.
var stableBMP = func() *[1 << 16 / 64]uint64 {
	var t [1 << 16 / 64]uint64
	var buf [utf8.UTFMax]byte
	for r := rune(0x80); r < 1<<16; r++ {
		if r >= 0xD800 && r < 0xE000 || ownRule(r) {
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		// Stable alone, and starting a new unit of composition: a
		// combining mark may compose with what precedes it.
		if pr := norm.NFKC.Properties(buf[:n]); norm.NFKC.IsNormal(buf[:n]) && pr.Decomposition() == nil && pr.BoundaryBefore() && pr.BoundaryAfter() {
			t[r/64] |= 1 << (r % 64)
		}
	}
	return &t
}()

// ownRule reports whether addRune treats r by a rule of its own.
func ownRule(r rune) bool {
	return r >= 0xFF01 && r <= 0xFF5E || r == 0x3000 || r == 0xA0 ||
		r == 0x200B || r == 0x200C || r == 0x200D || r == 0x2060 || r == 0xFEFF || r == 0xAD || r == utf8.RuneError
}

// nfkcStable reports whether r is copied as it is (see stableBMP).
func nfkcStable(r rune) bool {
	return r < 1<<16 && stableBMP[r/64]&(1<<(r%64)) != 0
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

// escape decodes the JavaScript or JSON string escape at srcb[i] ('\\'),
// appends it and returns its length, or returns 0 if there is none.
// "\u0031", "\u{31}", "\x31", "\uD83D\uDE00", "\/" and "\n" are escapes.
// A run of backslashes before an escape is an escape nested in a string
// literal that holds JSON or another literal (JSON.parse("{\"m\":\"\\u0031…")):
// each layer's backslash escapes the next, so the run reads as one.
func (p *page) escape(srcb []byte, i, e int) int {
	j := i
	for j < e && srcb[j] == '\\' && j-i < 16 {
		j++
	}
	r, n := decodeEscape(srcb, j-1, e)
	if n == 0 {
		if j-i == 1 {
			return 0
		}
		r, n = '\\', 1 // backslashes escaping each other
	}
	if r < ' ' {
		r = ' '
	}
	var buf [utf8.UTFMax]byte
	size := utf8.EncodeRune(buf[:], r)
	p.addRune(r, buf[:size], i)
	return j - 1 - i + n
}

// decodeEscape decodes the escape at srcb[i] ('\\') and returns the rune
// and the escape's length, or a length of 0 if there is none.
func decodeEscape(srcb []byte, i, e int) (rune, int) {
	if i+1 >= e {
		return 0, 0
	}
	c := srcb[i+1]
	r, n := rune(-1), 2
	switch c {
	case 'u':
		if i+2 < e && srcb[i+2] == '{' {
			k := i + 3
			v := rune(0)
			for k < e && k-i-3 < 6 && isHex(srcb[k]) {
				v = v<<4 | rune(unhex(srcb[k]))
				k++
			}
			if k < e && srcb[k] == '}' && k > i+3 && v <= utf8.MaxRune {
				r, n = v, k+1-i
			}
			break
		}
		v, ok := hex4(srcb, i+2, e)
		if !ok {
			return 0, 0
		}
		r, n = v, 6
		if v >= 0xD800 && v < 0xDC00 {
			// The low surrogate may carry the same nesting of backslashes.
			k := i + 6
			for k < e && k-i < 22 && srcb[k] == '\\' {
				k++
			}
			if k > i+6 && k+5 <= e && srcb[k] == 'u' {
				if lo, ok := hex4(srcb, k+1, e); ok && lo >= 0xDC00 && lo < 0xE000 {
					r, n = 0x10000+(v-0xD800)<<10+(lo-0xDC00), k+5-i
				}
			}
		}
	case 'x':
		if i+3 < e && isHex(srcb[i+2]) && isHex(srcb[i+3]) {
			r, n = rune(unhex(srcb[i+2])<<4|unhex(srcb[i+3])), 4
		}
	case 'n', 'r', 't', 'b', 'f', 'v':
		r = ' '
	case '/', '"', '\'', '`':
		r = rune(c)
	}
	if r < 0 {
		return 0, 0
	}
	return r, n
}

func hex4(b []byte, k, e int) (rune, bool) {
	if k+4 > e {
		return 0, false
	}
	v := rune(0)
	for _, c := range b[k : k+4] {
		if !isHex(c) {
			return 0, false
		}
		v = v<<4 | rune(unhex(c))
	}
	return v, true
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// maxPercentRun bounds how many percent-escapes are decoded as one run.
const maxPercentRun = 96

// percent decodes the run of percent-escapes at srcb[i] ('%'), appends it
// and returns its length, or returns 0 if there is none. A run that is not
// UTF-8 is read as GB18030 (which includes GBK), the legacy encoding of
// Chinese pages, and then maps to its source as a whole.
func (p *page) percent(srcb []byte, i, e int) int {
	var buf [maxPercentRun]byte
	n := 0
	k := i
	for k+2 < e && srcb[k] == '%' && isHex(srcb[k+1]) && isHex(srcb[k+2]) && n < len(buf) {
		c := unhex(srcb[k+1])<<4 | unhex(srcb[k+2])
		if c < ' ' && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			// "%10" in text encodes no character anyone reads: it is
			// "%" and "10", and the digits are read as written.
			break
		}
		buf[n] = c
		n++
		k += 3
	}
	if n == 0 {
		return 0
	}
	dec := buf[:n]
	if utf8.Valid(dec) {
		for off := 0; off < len(dec); {
			r, size := utf8.DecodeRune(dec[off:])
			if r < ' ' || r == 0x7f {
				p.unit(i + 3*off)
				p.text = append(p.text, ' ')
			} else {
				p.addRune(r, dec[off:off+size], i+3*off)
			}
			off += size
		}
		return k - i
	}
	gb, ok := cleanDecode(simplifiedchinese.GB18030, dec)
	if !ok {
		return 0
	}
	p.unit(i)
	p.text = norm.NFKC.AppendString(p.text, gb)
	return k - i
}
