package crawler

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// This file is scanLinks: a page's links, its <base href> and its <meta>
// tags, read in one pass without golang.org/x/net/html's Tokenizer, which
// reads a page byte by byte. The scanner jumps over text with
// bytes.IndexByte and does real work only at '<'. It reproduces, state by
// state, what that Tokenizer (golang.org/x/net v0.62.0, used with its
// defaults: no CDATA, no fragment context, no buffer limit) returns to a
// loop that calls Next at most maxTokens times and reads the attributes of
// start and self-closing tags with TagAttr:
//
//   - what begins a tag ('<' and a letter), an end tag ("</" and a
//     letter), "</>", a bogus comment ("</" and anything else, "<?", "<!"
//     and anything but "--"), a comment ("<!--", ended as the Tokenizer
//     ends it: "-->", "--!>", "<!-->", "<!--->") and text ('<' and
//     anything else, or '<' or "</" at the end of the page);
//   - tag names and attributes as the Tokenizer reads them: names of any
//     bytes up to white space, '/' or '>', a leading '=' that is part of an
//     attribute's name, '/' between attributes, quoted and unquoted
//     values, attributes without a value, a repeated attribute of which
//     the first counts, and a tag cut off by the end of the page, which is
//     no token at all and ends the page;
//   - the text of the elements the Tokenizer reads as raw text after their
//     start tag (iframe, noembed, noframes, noscript, plaintext, script,
//     style, textarea, title, xmp), ended by the first "</name" followed by
//     white space, '/' or '>', and, for script, the escaped ("<!--") and
//     double-escaped ("<!--<script>") states with the Tokenizer's own
//     transitions;
//   - attribute values as TagAttr gives them: NUL as U+FFFD, CR LF and CR
//     as LF, and character references unescaped by the rules for
//     attribute values (see appendUnescapedAttr); the rare value with a named
//     reference that only the entity table can decide is read by the
//     Tokenizer itself (attrValueTokenizer);
//   - the tokens it counts (text, tags, comments, doctypes), so that the
//     maxTokens bound cuts a page where the Tokenizer's loop would.
//
// The tests in linkscan_test.go keep the Tokenizer-based scanner this one
// replaced as the oracle and check that, for any input and for small
// token and link bounds too, both give the same links, base and <meta>
// calls: FuzzScanLinks, TestScanLinksCases (each state's edges),
// TestScanLinksSoup (random strings of markup) and TestScanLinksPages
// (real pages, cut at every tag). They are what says whether a new
// version of golang.org/x/net reads pages differently.

// scanLinks reads an HTML page once. It returns the href and rel of
// every <a> and <area> element that has an href, in document order, and
// the href of the first <base> element that has one, wherever it stands
// (the document's base URL). If meta is not nil, it is called with the
// name (trimmed, lower case) and content of each <meta> element that has
// an attribute. Of an attribute given twice, the first counts, as in a
// browser. Links inside <script>, <style>, comments and other raw text are
// not links: they are text to golang.org/x/net/html's Tokenizer, as they
// are to colly's parser, and scanLinks reads the page as that Tokenizer
// does (see the comment at the top of this file). At most maxTokens
// tokens are read and maxLinks links kept.
func scanLinks(body []byte, meta func(name, content string)) (links []htmlLink, base string, hasBase bool) {
	s := linkScanner{b: body, meta: meta, tokens: maxTokens, maxLinks: maxLinks}
	s.scan()
	return s.links(), s.base, s.hasBase
}

// linkScanner is the state of one scanLinks pass.
type linkScanner struct {
	b        []byte
	meta     func(name, content string)
	tokens   int // tokens left to read
	maxLinks int

	// The links' hrefs and rels, one after another in vals, and where
	// each link's href and rel end there: links cuts them from one
	// string. scratch holds a value being unescaped.
	vals    strings.Builder
	ends    []linkEnds
	scratch []byte
	base    string
	hasBase bool
}

// linkEnds is where a link's href and rel end in linkScanner.vals.
type linkEnds struct{ href, rel int }

// links returns the links read.
func (s *linkScanner) links() []htmlLink {
	if len(s.ends) == 0 {
		return nil
	}
	all := s.vals.String()
	links := make([]htmlLink, len(s.ends))
	start := 0
	for i, e := range s.ends {
		links[i] = htmlLink{href: all[start:e.href], rel: all[e.href:e.rel]}
		start = e.rel
	}
	return links
}

// take counts a token and reports whether the bound allowed it.
func (s *linkScanner) take() bool {
	if s.tokens <= 0 {
		return false
	}
	s.tokens--
	return true
}

// scan reads the page from the start in the data state. Each return is
// the end of the page (or of the Tokenizer's tokens: an unterminated tag
// is an error token) or of the token bound.
func (s *linkScanner) scan() {
	b := s.b
	p := 0
	for {
		// p is where a token begins. Find the '<' that ends its text.
		start := p
		i := -1
		for {
			j := bytes.IndexByte(b[p:], '<')
			if j < 0 || p+j+1 >= len(b) {
				return // text to the end of the page
			}
			i = p + j
			c := b[i+1]
			if isASCIILetter(c) || c == '/' || c == '!' || c == '?' {
				break
			}
			p = i + 1 // '<' and anything else is text
		}
		if start < i && !s.take() {
			return
		}
		if !s.take() {
			return
		}
		var ok bool
		switch c := b[i+1]; {
		case isASCIILetter(c):
			var raw string
			if p, raw, ok = s.startTag(i + 1); !ok {
				return
			}
			if raw != "" {
				end := rawEnd(b, p, raw)
				if end < 0 {
					return
				}
				if end > p && !s.take() {
					return
				}
				p = end
			}
		case c == '/':
			if i+2 >= len(b) {
				return // "</" at the end of the page is text
			}
			switch c2 := b[i+2]; {
			case c2 == '>':
				p = i + 3 // "</>", an empty comment token
			case isASCIILetter(c2):
				if p, ok = s.tag(tagNameEnd(b, i+2), nil); !ok {
					return
				}
			default:
				if p, ok = closeAngle(b, i+2); !ok {
					return
				}
			}
		case c == '!':
			if p, ok = markupDeclaration(b, i+2); !ok {
				return
			}
		default: // '?'
			if p, ok = closeAngle(b, i+1); !ok {
				return
			}
		}
	}
}

// closeAngle returns the position after the first '>' at or after p, and
// false if there is none (the token runs to the end of the page).
func closeAngle(b []byte, p int) (int, bool) {
	j := bytes.IndexByte(b[p:], '>')
	if j < 0 {
		return len(b), false
	}
	return p + j + 1, true
}

// markupDeclaration returns where the token that begins with "<!" ends;
// p is after the "<!". With "--" it is a comment; otherwise a doctype or
// a bogus comment up to the first '>'.
func markupDeclaration(b []byte, p int) (int, bool) {
	if p+2 > len(b) {
		return len(b), false
	}
	if b[p] == '-' && b[p+1] == '-' {
		return commentEnd(b, p+2)
	}
	return closeAngle(b, p)
}

// commentEnd returns the position after the comment whose text begins at
// q (after "<!--"). As the Tokenizer reads it, a comment ends at the first
// '>' that is preceded, within the comment's text, by "--" or "--!", or
// that only dashes precede ("<!-->", "<!--->").
func commentEnd(b []byte, q int) (int, bool) {
	dashes := q // the end of the dashes the comment's text begins with
	for dashes < len(b) && b[dashes] == '-' {
		dashes++
	}
	for k := q; ; k++ {
		j := bytes.IndexByte(b[k:], '>')
		if j < 0 {
			return len(b), false
		}
		k += j
		switch {
		case k <= dashes,
			k-2 >= q && b[k-2] == '-' && b[k-1] == '-',
			k-3 >= q && b[k-3] == '-' && b[k-2] == '-' && b[k-1] == '!':
			return k + 1, true
		}
	}
}

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// htmlSpace is the set of the bytes HTML calls white space (all below
// 64, as are the other bytes that end names and values in a tag).
const htmlSpace = 1<<' ' | 1<<'\n' | 1<<'\r' | 1<<'\t' | 1<<'\f'

func isHTMLSpace(c byte) bool { return inSet(c, htmlSpace) }

// inSet reports whether c is in set, a bit set of bytes below 64.
func inSet(c byte, set uint64) bool { return c < 64 && set>>c&1 != 0 }

func skipHTMLSpace(b []byte, p int) int {
	for p < len(b) && isHTMLSpace(b[p]) {
		p++
	}
	return p
}

// tagNameEnd returns the end of the tag name that begins at p.
func tagNameEnd(b []byte, p int) int {
	p++
	for p < len(b) && !inSet(b[p], htmlSpace|1<<'/'|1<<'>') {
		p++
	}
	return p
}

// equalFold reports whether b, lower-cased in ASCII, is s (lower case).
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// tagKind is what scanLinks does with a start tag.
type tagKind uint8

const (
	tagOther tagKind = iota
	tagA             // <a> and <area>
	tagBase
	tagMeta
)

// startTag reads the start tag whose name begins at p, records what it
// says, and returns the position after it and how the text after it is
// read: the name of the raw text element it begins (lower case), or "".
// It returns false if the page ends inside the tag.
func (s *linkScanner) startTag(p int) (next int, raw string, ok bool) {
	b := s.b
	end := tagNameEnd(b, p)
	kind, raw := classifyTag(b[p:end])
	if kind == tagMeta && s.meta == nil {
		kind = tagOther
	}
	if kind == tagOther {
		next, ok = s.tag(end, nil)
		return next, raw, ok
	}
	var at tagAttrs
	if next, ok = s.tag(end, &at); !ok {
		return next, raw, false
	}
	if !at.any {
		return next, raw, true // TagName reports no attributes
	}
	switch {
	case kind == tagMeta:
		s.meta(strings.ToLower(strings.TrimSpace(at.value(b, attrName))), at.value(b, attrContent))
	case !at.has[attrHref]:
	case kind == tagBase:
		if !s.hasBase {
			s.base, s.hasBase = at.value(b, attrHref), true
		}
	case len(s.ends) < s.maxLinks:
		var e linkEnds
		s.writeValue(&at, attrHref)
		e.href = s.vals.Len()
		s.writeValue(&at, attrRel)
		e.rel = s.vals.Len()
		s.ends = append(s.ends, e)
	}
	return next, raw, true
}

// classifyTag says what scanLinks does with a start tag with this name,
// and returns the lower-case name of the raw text element it begins, or
// "": the elements whose start tag makes the Tokenizer read what follows
// as raw text (its rawTag), whatever the context.
func classifyTag(name []byte) (tagKind, string) {
	var cands []string
	switch len(name) {
	case 1:
		if name[0]|0x20 == 'a' {
			return tagA, ""
		}
		return tagOther, ""
	case 4:
		switch {
		case equalFold(name, "area"):
			return tagA, ""
		case equalFold(name, "base"):
			return tagBase, ""
		case equalFold(name, "meta"):
			return tagMeta, ""
		}
		return tagOther, ""
	case 3:
		cands = []string{"xmp"}
	case 5:
		cands = []string{"style", "title"}
	case 6:
		cands = []string{"script", "iframe"}
	case 7:
		cands = []string{"noembed"}
	case 8:
		cands = []string{"noscript", "noframes", "textarea"}
	case 9:
		cands = []string{"plaintext"}
	}
	for _, e := range cands {
		if equalFold(name, e) {
			return tagOther, e
		}
	}
	return tagOther, ""
}

// The attributes scanLinks reads.
const (
	attrHref = iota
	attrRel
	attrName
	attrContent
	nAttrs
)

// tagAttrs are the attributes scanLinks reads from one tag: for each, the
// first one's raw value in the page and the quote it stood in (0 if
// none). any is whether the tag has any attribute with a name.
type tagAttrs struct {
	any   bool
	has   [nAttrs]bool
	start [nAttrs]int
	end   [nAttrs]int
	quote [nAttrs]byte
}

// value returns attribute i's value as TagAttr gives it, "" if it is absent.
func (at *tagAttrs) value(b []byte, i int) string {
	if !at.has[i] {
		return ""
	}
	return attrValue(b[at.start[i]:at.end[i]], at.quote[i])
}

// writeValue writes the value of at's attribute i, as TagAttr gives it,
// to s.vals.
func (s *linkScanner) writeValue(at *tagAttrs, i int) {
	if !at.has[i] {
		return
	}
	raw := s.b[at.start[i]:at.end[i]]
	if bytes.IndexByte(raw, '&') < 0 && !hasNULOrCR(raw) {
		s.vals.Write(raw)
		return
	}
	s.scratch = appendAttrValue(s.scratch[:0], raw, at.quote[i])
	s.vals.Write(s.scratch)
}

// attrIndex returns which of the attributes scanLinks reads key names,
// or -1.
func attrIndex(key []byte) int {
	switch {
	case equalFold(key, "href"):
		return attrHref
	case equalFold(key, "rel"):
		return attrRel
	case equalFold(key, "name"):
		return attrName
	case equalFold(key, "content"):
		return attrContent
	}
	return -1
}

// tag reads the rest of a tag whose name ends at p (see tagNameEnd) up
// to and including its '>', as the Tokenizer's readTag does, and returns
// the position after it; if at is not nil, it records the attributes
// there. It returns false if the page ends first.
func (s *linkScanner) tag(p int, at *tagAttrs) (int, bool) {
	b := s.b
	n := len(b)
	p = skipHTMLSpace(b, p)
	for {
		if p >= n {
			return n, false
		}
		if b[p] == '>' {
			return p + 1, true
		}
		// The name: a leading '=' is part of it; it ends at white
		// space, '/', '>' or '='. It is empty only at a '/'.
		ks := p
		if b[p] == '=' {
			p++
		}
		for p < n && !inSet(b[p], htmlSpace|1<<'/'|1<<'>'|1<<'=') {
			p++
		}
		if p >= n {
			return n, false
		}
		ke := p
		// The value, if there is one.
		vs, ve, quote := p, p, byte(0)
		p = skipHTMLSpace(b, p)
		if p >= n {
			return n, false
		}
		switch b[p] {
		case '/':
			p++
		case '=':
			p = skipHTMLSpace(b, p+1)
			if p >= n {
				return n, false
			}
			switch q := b[p]; q {
			case '>':
			case '"', '\'':
				j := bytes.IndexByte(b[p+1:], q)
				if j < 0 {
					return n, false
				}
				vs, ve, quote = p+1, p+1+j, q
				p = ve + 1
			default:
				vs = p
				for p < n && !inSet(b[p], htmlSpace|1<<'>') {
					p++
				}
				if p >= n {
					return n, false
				}
				ve = p
			}
		}
		if at != nil && ke > ks {
			at.any = true
			if i := attrIndex(b[ks:ke]); i >= 0 && !at.has[i] {
				at.has[i], at.start[i], at.end[i], at.quote[i] = true, vs, ve, quote
			}
		}
		p = skipHTMLSpace(b, p)
	}
}

// rawEnd returns where the raw text of element tag (lower case) that
// begins at p ends: at the '<' of the end tag that closes it, or -1 if it
// runs to the end of the page, as plaintext always does.
func rawEnd(b []byte, p int, tag string) int {
	switch tag {
	case "script":
		return scriptEnd(b, p)
	case "plaintext":
		return -1
	}
	for {
		j := bytes.IndexByte(b[p:], '<')
		if j < 0 {
			return -1
		}
		i := p + j
		if end, ok := rawEndTag(b, i, tag); ok {
			return end
		}
		p = i + 1
	}
}

// rawEndTag reports whether b[i:] begins with the end tag "</tag" (ASCII
// case-insensitive) followed by white space, '/' or '>'; if so, it
// returns i.
func rawEndTag(b []byte, i int, tag string) (int, bool) {
	j := i + 2 + len(tag)
	if j >= len(b) || b[i+1] != '/' || !equalFold(b[i+2:j], tag) {
		return 0, false
	}
	if c := b[j]; isHTMLSpace(c) || c == '/' || c == '>' {
		return i, true
	}
	return 0, false
}

// scriptEnd returns where the script data that begins at p ends: at the
// '<' of the "</script" that closes it, or -1 at the end of the page. It
// follows the Tokenizer's script states, which are the HTML standard's
// except that "<" and a non-letter in the escaped state returns to plain
// script data. Each state reads one byte; one that is not consumed is read
// again in the next state.
func scriptEnd(b []byte, p int) int {
	type state uint8
	const (
		data state = iota
		lessThan
		escapeStart
		escapeStartDash
		escaped
		escapedDash
		escapedDashDash
		escapedLessThan
		doubleEscapeStart
		doubleEscaped
		doubleEscapedDash
		doubleEscapedDashDash
		doubleEscapedLessThan
	)
	const script = "script"
	n := len(b)
	st := data
	for p < n {
		c := b[p]
		switch st {
		case data:
			j := bytes.IndexByte(b[p:], '<')
			if j < 0 {
				return -1
			}
			p += j + 1
			st = lessThan
		case lessThan:
			switch c {
			case '/':
				if end, ok := rawEndTag(b, p-1, script); ok {
					return end
				}
				p++
				p = skipMatch(b, p, "script")
				st = data
			case '!':
				p++
				st = escapeStart
			default:
				st = data
			}
		case escapeStart:
			st = data
			if c == '-' {
				p, st = p+1, escapeStartDash
			}
		case escapeStartDash:
			st = data
			if c == '-' {
				p, st = p+1, escapedDashDash
			}
		case escaped, escapedDash, escapedDashDash:
			p++
			switch {
			case c == '-' && st == escaped:
				st = escapedDash
			case c == '-':
				st = escapedDashDash
			case c == '<':
				st = escapedLessThan
			case c == '>' && st == escapedDashDash:
				st = data
			default:
				st = escaped
			}
		case escapedLessThan:
			switch {
			case c == '/':
				if end, ok := rawEndTag(b, p-1, script); ok {
					return end
				}
				p = skipMatch(b, p+1, "script")
				st = escaped
			case isASCIILetter(c):
				st = doubleEscapeStart
			default:
				st = data
			}
		case doubleEscapeStart:
			q := skipMatch(b, p, "script")
			switch {
			case q-p < len("script"):
				p, st = q, escaped
			case q >= n:
				return -1
			case isHTMLSpace(b[q]) || b[q] == '/' || b[q] == '>':
				p, st = q+1, doubleEscaped
			default:
				p, st = q, escaped
			}
		case doubleEscaped, doubleEscapedDash, doubleEscapedDashDash:
			p++
			switch {
			case c == '-' && st == doubleEscaped:
				st = doubleEscapedDash
			case c == '-':
				st = doubleEscapedDashDash
			case c == '<':
				st = doubleEscapedLessThan
			case c == '>' && st == doubleEscapedDashDash:
				st = data
			default:
				st = doubleEscaped
			}
		case doubleEscapedLessThan:
			if c != '/' {
				st = doubleEscaped
				break
			}
			if _, ok := rawEndTag(b, p-1, script); ok {
				p += len("/script") + 1
				st = escaped
				break
			}
			p = skipMatch(b, p+1, "script")
			st = doubleEscaped
		}
	}
	return -1
}

// skipMatch returns the position after the longest prefix of s (lower
// case) that b[p:] begins with, ASCII case-insensitively.
func skipMatch(b []byte, p int, s string) int {
	for i := 0; i < len(s) && p < len(b); i++ {
		c := b[p]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			break
		}
		p++
	}
	return p
}

// attrValue returns an attribute's raw value as the Tokenizer's TagAttr
// gives it: NUL bytes as U+FFFD, CR LF and lone CR as LF, and character
// references unescaped as in an attribute value (see appendUnescapedAttr).
// quote is the quote the value stood in, 0 if none.
func attrValue(raw []byte, quote byte) string {
	if bytes.IndexByte(raw, '&') < 0 && !hasNULOrCR(raw) {
		return string(raw)
	}
	return string(appendAttrValue(nil, raw, quote))
}

// appendAttrValue appends to dst what attrValue returns.
func appendAttrValue(dst, raw []byte, quote byte) []byte {
	amp := bytes.IndexByte(raw, '&')
	nulOrCR := hasNULOrCR(raw)
	if amp < 0 && !nulOrCR {
		return append(dst, raw...)
	}
	if out, ok := appendUnescapedAttr(dst, raw, nulOrCR); ok {
		return out
	}
	return append(dst, attrValueTokenizer(raw, quote)...)
}

func hasNULOrCR(raw []byte) bool {
	return bytes.IndexByte(raw, 0) >= 0 || bytes.IndexByte(raw, '\r') >= 0
}

// attrValueTokenizer has the Tokenizer itself read a value that
// appendUnescapedAttr cannot decide, as the only attribute of a tag written the
// way the page wrote it. The raw value of a quoted attribute does not
// hold its quote, and that of an unquoted one no white space or '>' and no
// leading quote, so the Tokenizer reads back exactly raw.
func attrValueTokenizer(raw []byte, quote byte) string {
	var buf bytes.Buffer
	buf.Grow(len(raw) + 8)
	buf.WriteString("<a v=")
	if quote != 0 {
		buf.WriteByte(quote)
	}
	buf.Write(raw)
	if quote != 0 {
		buf.WriteByte(quote)
	}
	buf.WriteByte('>')
	z := html.NewTokenizer(&buf)
	z.Next()
	_, v, _ := z.TagAttr()
	return string(v)
}

// appendUnescapedAttr appends to dst a raw attribute value with NUL, CR
// and character references replaced as TagAttr replaces them. The
// Tokenizer replaces NUL and CR first, but neither they nor what replaces
// them can be part of a reference, so one pass does both. A reference is
// unescaped by the rules the Tokenizer applies to attribute values, which
// differ from html.UnescapeString's for text: a named reference without
// ';' followed by '=' is left as it is, and a name that is not an entity
// is left whole, where text takes its longest prefix that is one
// ("&ampx=1" stays, "&notify" is not "¬ify"). It reports false, and
// returns dst as it was, for a named reference it cannot decide without
// the entity table; the caller then asks the Tokenizer. nulOrCR says
// whether v has a NUL or CR.
func appendUnescapedAttr(dst, v []byte, nulOrCR bool) ([]byte, bool) {
	n0 := len(dst)
	dst = slices.Grow(dst, len(v))
	for i := 0; i < len(v); {
		j := len(v)
		if !nulOrCR {
			if k := bytes.IndexByte(v[i:], '&'); k >= 0 {
				j = i + k
			}
		} else {
			for j = i; j < len(v) && !attrSpecial(v[j]); j++ {
			}
		}
		dst = append(dst, v[i:j]...)
		if i = j; i >= len(v) {
			break
		}
		switch v[i] {
		case 0:
			dst = append(dst, "\uFFFD"...)
			i++
			continue
		case '\r':
			dst = append(dst, '\n')
			if i++; i < len(v) && v[i] == '\n' {
				i++
			}
			continue
		}
		// v[i] is '&'.
		if i+1 < len(v) && v[i+1] == '#' {
			r, n := numericRef(v[i:])
			if n == 0 {
				dst = append(dst, '&')
				i++
				continue
			}
			dst = append(dst, r...)
			i += n
			continue
		}
		k := i + 1
		for k < len(v) && isASCIIAlnum(v[k]) {
			k++
		}
		if k == i+1 || k < len(v) && v[k] == '=' {
			// Not a name (";" is none either), or one before '='.
			dst = append(dst, '&')
			i++
			continue
		}
		if k < len(v) && v[k] == ';' {
			k++
		}
		ref := v[i:k]
		if r, ok := commonEntity(ref); ok {
			dst = append(dst, r...)
			i = k
			continue
		}
		if html.UnescapeString(string(ref)) != string(ref) {
			// Either ref is an entity, or text would take a prefix
			// of it that is: only the entity table can tell.
			return dst[:n0], false
		}
		dst = append(dst, '&') // neither ref nor a prefix of it is an entity
		i++
	}
	return dst, true
}

// attrSpecial reports whether appendUnescapedAttr has to replace c: '&', NUL
// or CR.
func attrSpecial(c byte) bool {
	return inSet(c, 1<<'&'|1<<0|1<<'\r')
}

// commonEntity decodes the named references pages mostly have in their
// attributes. Each is an entity by itself (TestUnescapeAttr checks them
// against the Tokenizer), so it needs no entity table.
func commonEntity(ref []byte) (string, bool) {
	switch string(ref) {
	case "&amp;", "&amp":
		return "&", true
	case "&lt;", "&lt":
		return "<", true
	case "&gt;", "&gt":
		return ">", true
	case "&quot;", "&quot":
		return `"`, true
	case "&apos;":
		return "'", true
	case "&nbsp;", "&nbsp":
		return "\u00a0", true
	}
	return "", false
}

func isASCIIAlnum(c byte) bool { return isASCIILetter(c) || '0' <= c && c <= '9' }

// numericRef decodes the numeric character reference at the start of
// ref ("&#" and decimal digits, or "&#x" and hex digits, and an optional
// ';'), returning its UTF-8 and its length, or length 0 if ref has no
// digits. Code points 0x80 to 0x9F are read as Windows-1252, as the HTML
// standard says; html.UnescapeString, whose numeric rules are the same
// for text and attributes, decodes those.
func numericRef(ref []byte) (string, int) {
	k := 2
	hex := false
	if k < len(ref) && (ref[k] == 'x' || ref[k] == 'X') {
		hex = true
		k++
	}
	k0 := k
	x := rune(0)
	for ; k < len(ref); k++ {
		c := ref[k]
		var d rune
		switch {
		case '0' <= c && c <= '9':
			d = rune(c - '0')
		case hex && 'a' <= c|0x20 && c|0x20 <= 'f':
			d = rune(c|0x20-'a') + 10
		default:
			goto done
		}
		if x <= utf8.MaxRune {
			if hex {
				x = 16*x + d
			} else {
				x = 10*x + d
			}
		}
	}
done:
	if k == k0 {
		return "", 0
	}
	if k < len(ref) && ref[k] == ';' {
		k++
	}
	switch {
	case 0x80 <= x && x <= 0x9f:
		return html.UnescapeString(string(ref[:k])), k
	case x == 0 || 0xd800 <= x && x <= 0xdfff || x > utf8.MaxRune:
		return "\uFFFD", k
	}
	return string(x), k
}
