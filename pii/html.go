package pii

import (
	"bytes"
	"encoding/hex"
	"unicode/utf8"
)

// lexHTML walks HTML source b and adds to p every part of the document
// that carries characters a reader or a program could take from it: text
// nodes (the title included), every attribute value, comments, CDATA
// sections, and the contents of script and style elements. What goodbot
// stores is what was scanned, so nothing that can be stored is skipped;
// only tag and attribute names and the doctype are not read.
//
// Script contents are read with JavaScript and JSON string escapes decoded
// ("\u0031" is "1"), every part with character references and
// percent-escapes decoded. An attribute value is preceded in the scanned
// text by a label naming it ("data-user: ", "author: " for the content of
// <meta name=author>), which serves as context, and URL-valued attributes
// with nested or '+' encodings are also read fully decoded. Cloudflare-
// obfuscated addresses (data-cfemail, /cdn-cgi/l/email-protection#…) are
// decoded and reported through cf.
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
		j := indexByteNear(b[i:], '<')
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
			if next, ok := markupSection(b, i, p); ok {
				i, textStart = next, next
				continue
			}
			i = skipTo(b, i, '>') // doctype
			textStart = i
		case c == '?' || c == '/':
			flush(i)
			if c == '?' || !inline(b, i+2) {
				p.closeText()
			}
			if c == '/' && (p.cell != nil || p.rowHeader != nil || len(p.headers) > 0) {
				p.endCell(b, i+2)
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

// markupSection adds the contents of the comment or CDATA section at b[i]
// to p and returns the offset after it, or reports that there is none.
func markupSection(b []byte, i int, p *page) (int, bool) {
	for _, m := range [...][2]string{{"<!--", "-->"}, {"<![CDATA[", "]]>"}} {
		open, close := m[0], m[1]
		if !bytes.HasPrefix(b[i:], []byte(open)) {
			continue
		}
		s := i + len(open)
		end, next := len(b), len(b)
		if k := bytes.Index(b[s:], []byte(close)); k >= 0 {
			end, next = s+k, s+k+len(close)
		}
		if end > s {
			p.addSegment(b, s, end)
		}
		return next, true
	}
	return 0, false
}

// inline reports whether the tag name at b[k:] is an inline element, one
// that does not break text: a value split by them
// ("1<span>38</span>12345678") is read as one.
func inline(b []byte, k int) bool {
	n := 0
	for k+n < len(b) && isLetter(b[k+n]) {
		if n == 7 {
			return false
		}
		n++
	}
	if n == 0 || k+n < len(b) && !nameEnd[b[k+n]] {
		return false
	}
	_, ok := inlineTags.lookup(b[k : k+n])
	return ok
}

// inlineTags are the inline elements.
var inlineTags = newWordTable(map[string]uint8{
	"a": 1, "abbr": 1, "b": 1, "big": 1, "cite": 1, "del": 1, "em": 1, "font": 1, "i": 1, "ins": 1,
	"mark": 1, "q": 1, "s": 1, "small": 1, "span": 1, "strong": 1, "sub": 1, "sup": 1, "u": 1, "wbr": 1,
})

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

// indexByteNear is bytes.IndexByte for a byte that is usually near: the
// next tag, the end of an attribute value. It looks at the first sixteen
// bytes itself, which is quicker than the call for so few.
func indexByteNear(b []byte, c byte) int {
	n := min(len(b), 16)
	for i, x := range b[:n] {
		if x == c {
			return i
		}
	}
	if k := bytes.IndexByte(b[n:], c); k >= 0 {
		return n + k
	}
	return -1
}

// skipTo returns the offset just after the next c at or after i, or len(b).
func skipTo(b []byte, i int, c byte) int {
	k := indexByteNear(b[i:], c)
	if k < 0 {
		return len(b)
	}
	return i + k + 1
}

// attrSpan is one attribute of a start tag: name and value offsets.
type attrSpan struct {
	ns, ne, vs, ve int32 // MaxInput fits
	name           attrName
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
	raw := rawTextElement(name)
	attrs := p.attrs[:0]
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
		ae := k
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
			e := indexByteNear(b[vs:], q)
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
		attrs = append(attrs, attrSpan{int32(as), int32(ae), int32(vs), int32(ve), classifyAttr(b[as:ae])})
	}
	p.attrs = attrs
	// The value of content= and value= is labelled by the field it fills:
	// <meta name="author" content="…">, <input name="mobile" value="…">.
	var field []byte
	for _, a := range attrs {
		if a.name.field && field == nil && a.ve > a.vs && a.ve-a.vs <= 64 {
			field = b[a.vs:a.ve]
		}
	}
	// Inside text that an inline tag does not break, the attributes are
	// read once the text is closed, so that they do not split it.
	p.deferring = p.open >= 0
	for _, a := range attrs {
		attr(b, b[a.ns:a.ne], a.name, field, int(a.vs), int(a.ve), p, cf)
	}
	p.deferring = false
	if len(name) == 2 || len(name) == 5 {
		p.tableCell(b, name, k)
	}
	if raw != rawNone {
		end := closeTag(b, k, raw)
		if end > k {
			p.addSegment(b, k, end)
		}
		return skipTo(b, end, '>')
	}
	return k
}

// maxHeader bounds the bytes of a table header cell kept as a label.
const maxHeader = 48

// tableCell keeps track of table columns: the text of a header cell
// (<th>) labels the cells below it, so that a column headed 护照 or IP
// gives its values the context a label would, and the attributes inside
// the cell (<span data-value="…">). k is the offset after the start tag.
func (p *page) tableCell(b, name []byte, k int) {
	if name[0]|0x20 != 't' {
		return // not table, tr, th or td: <li>, <input>
	}
	switch {
	case bytes.EqualFold(name, []byte("table")):
		p.headers = p.headers[:0]
		p.col, p.cell, p.rowHeader = 0, nil, nil
	case bytes.EqualFold(name, []byte("tr")):
		p.col, p.cell, p.rowHeader = 0, nil, nil
	case bytes.EqualFold(name, []byte("th")):
		h := headerText(b, k)
		for len(p.headers) <= p.col {
			p.headers = append(p.headers, nil)
		}
		p.headers[p.col] = h
		p.col, p.cell, p.rowHeader = p.col+1, nil, h
	case bytes.EqualFold(name, []byte("td")):
		// A column's header labels the cell; in a table of keys and
		// values (<tr><th>Lead guest</th><td>…), the row's header does.
		p.cell = nil
		switch {
		case p.rowHeader != nil:
			p.cell = p.rowHeader
		case p.col < len(p.headers) && len(p.headers[p.col]) > 0:
			p.cell = p.headers[p.col]
		}
		if p.cell != nil {
			p.label(p.cell, k)
		}
		p.col++
	}
}

// endCell ends the current cell's label at an end tag </td>, </th>,
// </tr> or </table> at b[k:].
func (p *page) endCell(b []byte, k int) {
	e := k
	for e < len(b) && isLetter(b[e]) && e-k < 6 {
		e++
	}
	switch name := b[k:e]; {
	case bytes.EqualFold(name, []byte("td")), bytes.EqualFold(name, []byte("th")):
		p.cell = nil
	case bytes.EqualFold(name, []byte("tr")):
		p.cell, p.rowHeader = nil, nil
	case bytes.EqualFold(name, []byte("table")):
		p.cell, p.rowHeader = nil, nil
		p.headers = p.headers[:0]
	}
}

// headerText returns the text of the header cell starting at b[k:], up to
// its end, without tags, at most maxHeader bytes.
func headerText(b []byte, k int) []byte {
	end := min(len(b), k+4*maxHeader)
	var out []byte
	for i := k; i < end && len(out) < maxHeader; i++ {
		c := b[i]
		if c == '<' {
			if i+3 < len(b) && (b[i+1]|0x20 == 't' && (b[i+2]|0x20 == 'd' || b[i+2]|0x20 == 'h' || b[i+2]|0x20 == 'r') || b[i+1] == '/' && b[i+2]|0x20 == 't') {
				break
			}
			j := bytes.IndexByte(b[i:end], '>')
			if j < 0 {
				break
			}
			i += j
			continue
		}
		if c == '(' {
			// "Guest 2 (Brazil)": what is in brackets qualifies the label.
			if j := bytes.IndexByte(b[i:end], ')'); j > 0 {
				i += j
				continue
			}
		}
		if c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == ':' || c >= '0' && c <= '9' {
			continue
		}
		out = append(out, c)
	}
	for len(out) > 0 && !utf8.Valid(out) {
		out = out[:len(out)-1]
	}
	return out
}

// Raw-text elements, whose contents run to their end tag.
const (
	rawNone = iota
	rawScript
	rawStyle
	rawTextarea
	rawTitle
)

var rawNames = [...]string{rawScript: "script", rawStyle: "style", rawTextarea: "textarea", rawTitle: "title"}

func rawTextElement(name []byte) int {
	if len(name) == 0 || name[0]|0x20 != 's' && name[0]|0x20 != 't' {
		return rawNone // not script, style, textarea or title
	}
	switch len(name) {
	case 5:
		if bytes.EqualFold(name, []byte("style")) {
			return rawStyle
		}
		if bytes.EqualFold(name, []byte("title")) {
			return rawTitle
		}
	case 6:
		if bytes.EqualFold(name, []byte("script")) {
			return rawScript
		}
	case 8:
		if bytes.EqualFold(name, []byte("textarea")) {
			return rawTextarea
		}
	}
	return rawNone
}

// closeTag returns the offset of the end tag of raw-text element kind in
// the raw text starting at k, or len(b).
func closeTag(b []byte, k int, kind int) int {
	want := []byte(rawNames[kind])
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

// attrKind classifies an attribute by how its value is read.
type attrKind uint8

const (
	attrPlain   attrKind = iota // scanned, no label
	attrLabel                   // scanned after a label naming the attribute
	attrField                   // content= / value=: labelled by the field it fills
	attrURL                     // a URL: scanned as written and fully decoded
	attrCFEmail                 // Cloudflare's obfuscated e-mail
)

// attrName is what an attribute's name says about its value.
type attrName struct {
	kind attrKind
	// structural: the value is markup vocabulary (class names, ids,
	// styles, link types) rather than content.
	structural bool
	// field: the value names the field the tag fills (name=, property=,
	// itemprop=, http-equiv=).
	field bool
}

// classifyAttr classifies an attribute name, case-insensitively.
func classifyAttr(name []byte) attrName {
	if len(name) > 5 && (name[0]|0x20 == 'd' && bytes.EqualFold(name[:5], []byte("data-")) ||
		name[0]|0x20 == 'a' && bytes.EqualFold(name[:5], []byte("aria-"))) {
		if bytes.EqualFold(name, []byte("data-cfemail")) {
			return attrName{kind: attrCFEmail}
		}
		if hasSuffixFold(name, "src") || hasSuffixFold(name, "href") || hasSuffixFold(name, "url") {
			return attrName{kind: attrURL}
		}
		return attrName{kind: attrLabel}
	}
	if v, ok := attrNames.lookup(name); ok {
		return attrClasses[v]
	}
	if len(name) <= 8 {
		return attrName{}
	}
	var buf [12]byte // longer than any name below
	if len(name) > len(buf) {
		return attrName{}
	}
	low := buf[:len(name)]
	for i, c := range name {
		low[i] = wordLower[c]
	}
	switch string(low) {
	case "formaction", "background":
		return attrName{kind: attrURL}
	case "placeholder":
		return attrName{kind: attrLabel}
	case "http-equiv":
		return attrName{field: true}
	}
	return attrName{}
}

// attrClasses are the classes of attrNames' values.
var attrClasses = [...]attrName{
	{kind: attrURL},
	{kind: attrLabel},
	{kind: attrField},
	{structural: true},
	{field: true},
}

// attrNames are the attribute names of up to eight bytes that classifyAttr
// knows, by their index in attrClasses.
var attrNames = newWordTable(map[string]uint8{
	"src": 0, "href": 0, "cite": 0, "action": 0, "poster": 0, "srcset": 0,
	"alt": 1, "title": 1, "label": 1, "summary": 1,
	"value": 2, "content": 2,
	"id": 3, "rel": 3, "dir": 3, "for": 3, "type": 3, "role": 3, "lang": 3, "class": 3, "style": 3, "width": 3,
	"align": 3, "sizes": 3, "media": 3, "target": 3, "height": 3, "method": 3, "loading": 3, "charset": 3,
	"tabindex": 3, "decoding": 3,
	"name": 4, "property": 4, "itemprop": 4,
})

func hasSuffixFold(b []byte, suffix string) bool {
	return len(b) >= len(suffix) && bytes.EqualFold(b[len(b)-len(suffix):], []byte(suffix))
}

// attr adds the value b[vs:ve] of attribute name, classified as an, to
// p. field is the name of the field the tag fills (its name=, property=,
// itemprop= or http-equiv=), or nil.
func attr(b, name []byte, an attrName, field []byte, vs, ve int, p *page, cf func(start, end int)) {
	if ve <= vs {
		return
	}
	v := b[vs:ve]
	switch an.kind {
	case attrCFEmail:
		if _, ok := cfDecode(v); ok {
			cf(vs, ve)
			return
		}
		p.label(name, vs)
	case attrURL:
		if inert(v) {
			// "/static/js/app.8c1d2e.js": no query, capitals, escapes or
			// long digit groups, so nothing any entity could be.
			return
		}
		if k := cfProtected(v); k >= 0 {
			hs := vs + k + len("/cdn-cgi/l/email-protection#")
			if _, ok := cfDecode(b[hs:ve]); ok {
				cf(hs, ve)
				return
			}
		}
		if nestedEncoding(v) {
			// Read as a server would after all its decoding: a finding
			// anywhere in it redacts the whole value. Legacy bytes are
			// read as GBK, and as Big5 too.
			p.addWhole(decodeURLText(string(v), true), vs, ve)
			if b5 := big5Form(string(v)); b5 != "" {
				p.addWhole(b5, vs, ve)
			}
		}
	case attrLabel:
		// In a table cell, the column's header says more than a generic
		// attribute name (data-value, title) does.
		if p.cell != nil {
			name = p.cell
		}
		p.label(name, vs)
	case attrField:
		switch {
		case field != nil:
			p.label(field, vs)
		case p.cell != nil:
			p.label(p.cell, vs)
		default:
			p.label(name, vs)
		}
	case attrPlain:
		if an.structural && inert(v) {
			return
		}
	}
	p.addSegment(b, vs, ve)
}

// inertTab classifies the bytes of a structural value for inert: bit 0 a
// byte that is not inert (capitals, '@', '%', '&', '\\', non-ASCII),
// bit 1 a digit, bit 2 a byte that keeps a digit group going (digits and
// separators), bit 3 a colon, bit 4 a byte that may start " at ".
var inertTab = func() (t [256]uint8) {
	for c := range t {
		t[c] = 1
	}
	for _, c := range "abcdefghijklmnopqrstuvwxyz_#;!" {
		t[c] = 0
	}
	for _, c := range "0123456789" {
		t[c] = 2 | 4
	}
	for _, c := range " -.,/()\t\n\r" {
		t[c] = 4
	}
	t[' '] |= 16
	t['('] |= 16
	t[':'] = 4 | 8
	return t
}()

// inert reports whether v can hold no personal data: only inert bytes,
// no group of more than four digits joined by separators (every numeric
// entity has more; letters end a group, as "10px" is no number), fewer
// colons than a MAC address has, and no spelt-out " at " of an e-mail.
func inert(v []byte) bool {
	group, colons := 0, 0
	for i := 0; i < len(v); {
		if i+8 <= len(v) {
			// Eight bytes at a time where none is a digit or a colon:
			// the group can only end, at a letter.
			o := inertChunk[v[i]] | inertChunk[v[i+1]] | inertChunk[v[i+2]] | inertChunk[v[i+3]] |
				inertChunk[v[i+4]] | inertChunk[v[i+5]] | inertChunk[v[i+6]] | inertChunk[v[i+7]]
			if o&1 != 0 {
				return false
			}
			if o&2 == 0 {
				if o&8 != 0 && spaceAt(v, i, i+8) {
					return false
				}
				if o&4 != 0 {
					group = 0
				}
				i += 8
				continue
			}
		}
		for e := min(i+8, len(v)); i < e; i++ {
			k := inertTab[v[i]]
			if k&1 != 0 {
				return false
			}
			group = (group + int(k>>1&1)) & -int(k>>2&1)
			colons += int(k >> 3 & 1)
			if group > 4 || k&16 != 0 && spaceAt(v, i, i+1) {
				return false
			}
		}
	}
	return colons < 5
}

// spaceAt reports whether a spelt-out " at" or "(at" starts in v[i:e].
func spaceAt(v []byte, i, e int) bool {
	for ; i < e && i+2 < len(v); i++ {
		if (v[i] == ' ' || v[i] == '(') && v[i+1] == 'a' && v[i+2] == 't' {
			return true
		}
	}
	return false
}

// inertChunk sums up inertTab for inert's eight-byte steps: bit 0 a byte
// that is not inert, bit 1 a digit or a colon, bit 2 a byte that ends a
// digit group, bit 3 a byte that may start " at".
var inertChunk = func() (t [256]uint8) {
	for c, k := range inertTab {
		switch {
		case k&1 != 0:
			t[c] = 1
		case k&2 != 0 || k&8 != 0:
			t[c] = 2
		case k&4 == 0:
			t[c] = 4
		}
		if k&16 != 0 {
			t[c] |= 8
		}
	}
	return t
}()

// cfProtected returns the offset of Cloudflare's e-mail protection path
// in v, or -1.
func cfProtected(v []byte) int {
	if bytes.IndexByte(v, '#') < 0 {
		return -1 // the path ends with '#': a quick test first
	}
	return bytes.Index(v, []byte("/cdn-cgi/l/email-protection#"))
}

// nestedEncoding reports whether a URL uses encodings that one pass of
// percent-decoding does not undo: '+' for spaces in the query, escaped
// '%' ("%2540").
func nestedEncoding(v []byte) bool {
	if q := bytes.IndexByte(v, '?'); q >= 0 && bytes.IndexByte(v[q:], '+') >= 0 {
		return true
	}
	if bytes.IndexByte(v, '%') < 0 {
		return false
	}
	if legacyPercent(v) {
		return true
	}
	return bytes.Contains(v, []byte("%25")) || bytes.Contains(v, []byte("%2B")) || bytes.Contains(v, []byte("%2b"))
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
