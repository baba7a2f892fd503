package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxInput is the largest input a Filter scans.
const MaxInput = math.MaxInt32 - 1

func (f *Filter) get() *scanner {
	if sc, ok := f.pool.Get().(*scanner); ok {
		return sc
	}
	return &scanner{f: f}
}

func (f *Filter) put(sc *scanner) {
	if cap(sc.p.text) > 4<<20 { // do not pin huge buffers
		return
	}
	sc.out = sc.out[:0]
	sc.hits = sc.hits[:0]
	sc.cats = [numCats]int{}
	f.pool.Put(sc)
}

// scanText prepares and scans plain text.
func (f *Filter) scanText(b []byte) *scanner {
	sc := f.get()
	sc.p.reset(len(b))
	sc.p.addSegment(b, 0, len(b))
	sc.run()
	sc.resolve()
	return sc
}

// scanHTML prepares and scans HTML.
func (f *Filter) scanHTML(b []byte) *scanner {
	sc := f.get()
	sc.p.reset(len(b))
	var cf []span
	lexHTML(b, &sc.p, func(s, e int) {
		cf = append(cf, span{e: Email, s: -1, end: -1, ss: s, se: e, tier: TierChecksum, score: 0.9, rule: "email-cfemail"})
	})
	sc.run()
	if f.on(Email) {
		sc.out = append(sc.out, cf...)
	}
	sc.resolve()
	return sc
}

// resolve maps spans to the source, applies the threshold and merges
// overlapping spans (the union is redacted; the higher score names it).
func (sc *scanner) resolve() {
	sc.repeatNames()
	out := sc.out[:0]
	for _, s := range sc.out {
		if s.score < sc.f.minScore {
			continue
		}
		if s.s >= 0 {
			s.ss, s.se = sc.p.sourceSpan(s.s, s.end)
		}
		if s.se <= s.ss {
			continue
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b span) int {
		if a.ss != b.ss {
			return a.ss - b.ss
		}
		return b.se - a.se
	})
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && s.ss < merged[n-1].se {
			last := &merged[n-1]
			if s.score > last.score {
				last.e, last.tier, last.score, last.rule = s.e, s.tier, s.score, s.rule
			}
			if s.se > last.se {
				last.se = s.se
				if s.end > last.end {
					last.end = s.end
				}
			}
			continue
		}
		merged = append(merged, s)
	}
	sc.out = merged
}

func (sc *scanner) findings() []Finding {
	if len(sc.out) == 0 {
		return nil
	}
	fs := make([]Finding, len(sc.out))
	for i, s := range sc.out {
		fs[i] = Finding{Entity: s.e, Start: s.ss, End: s.se, Score: s.score, Tier: s.tier, Rule: s.rule}
	}
	return fs
}

// report summarises the scan. A sensitive category marks the page when two
// or more distinct terms of it occur on a page that also carries personal
// data: a page about an illness names no one, a page about someone's
// illness does.
func (sc *scanner) report() Report {
	var r Report
	if len(sc.out) > 0 {
		r.Counts = make(map[Entity]int)
		for _, s := range sc.out {
			r.Counts[s.e]++
		}
		// A category's first term, and whether another one follows.
		var first [numCats]int32
		var two [numCats]bool
		for k := range first {
			first[k] = -1
		}
		for _, h := range sc.hits {
			c := lex.entries[h.Pattern].cats
			for k := range numCats {
				switch {
				case c&(1<<k) == 0:
				case first[k] < 0:
					first[k] = h.Pattern
				case h.Pattern != first[k]:
					two[k] = true
				}
			}
		}
		for k := range numCats {
			if two[k] {
				r.Sensitive = append(r.Sensitive, catNames[k])
			}
		}
	}
	switch {
	case len(r.Sensitive) > 0 && sc.f.dropSens:
		r.Drop = true
		r.Reason = "sensitive personal information (PIPL Art. 28): " + strings.Join(r.Sensitive, ", ")
	case len(sc.out) > 0 && sc.f.op == Drop:
		r.Drop = true
		r.Reason = "personal information found, operator drop"
	}
	return r
}

// ScanText returns the personal information in the plain text b, with
// offsets into b, in order.
func (f *Filter) ScanText(b []byte) []Finding {
	if len(b) > MaxInput {
		b = b[:MaxInput]
	}
	sc := f.scanText(b)
	defer f.put(sc)
	return sc.findings()
}

// ScanHTML returns the personal information in the HTML source b: text
// nodes, data-carrying attributes and JSON-LD, with offsets into b.
func (f *Filter) ScanHTML(b []byte) ([]Finding, error) {
	if len(b) > MaxInput {
		return nil, fmt.Errorf("pii: HTML of %d bytes exceeds the %d-byte limit", len(b), MaxInput)
	}
	sc := f.scanHTML(b)
	defer f.put(sc)
	return sc.findings(), nil
}

// RedactHTML returns b with every finding redacted in place by the
// Filter's operator. When the Report says Drop, the result is nil: the page
// must not be kept, only the Report.
func (f *Filter) RedactHTML(b []byte) ([]byte, Report, error) {
	if len(b) > MaxInput {
		return nil, Report{}, fmt.Errorf("pii: HTML of %d bytes exceeds the %d-byte limit", len(b), MaxInput)
	}
	sc := f.scanHTML(b)
	defer f.put(sc)
	r := sc.report()
	if r.Drop {
		return nil, r, nil
	}
	if len(sc.out) == 0 {
		return b, r, nil
	}
	return sc.redact(b, nil), r, nil
}

// RedactText returns s with every finding redacted by the Filter's
// operator. When the Report says Drop, the result is empty.
func (f *Filter) RedactText(s string) (string, Report) {
	b := []byte(s)
	if len(b) > MaxInput {
		b = b[:MaxInput]
	}
	sc := f.scanText(b)
	defer f.put(sc)
	r := sc.report()
	if r.Drop {
		return "", r
	}
	if len(sc.out) == 0 {
		return s, r
	}
	return string(sc.redact(b, nil)), r
}

// RedactField returns s, a short field of text such as a log message, a
// header value or a robots.txt copy, with every finding redacted by the
// Filter's operator (Replace for Drop). Unlike RedactText it never drops
// the whole text for its topic: a field is kept, span by span.
func (f *Filter) RedactField(s string) string {
	b := []byte(s)
	if len(b) > MaxInput {
		b = b[:MaxInput]
	}
	sc := f.scanText(b)
	defer f.put(sc)
	if len(sc.out) == 0 {
		return s
	}
	op := f.op
	if op == Drop {
		op = Replace
	}
	return string(sc.redactOp(b, nil, op))
}

// redact copies src with the spans replaced, appending to dst.
func (sc *scanner) redact(src, dst []byte) []byte {
	return sc.redactOp(src, dst, sc.f.op)
}

func (sc *scanner) redactOp(src, dst []byte, op Operator) []byte {
	if dst == nil {
		dst = make([]byte, 0, len(src)+len(sc.out)*8)
	}
	at := 0
	for _, s := range sc.out {
		dst = append(dst, src[at:s.ss]...)
		dst = sc.replacement(dst, src, s, op)
		at = s.se
	}
	return append(dst, src[at:]...)
}

// value returns the normalised value of a span.
func (sc *scanner) value(src []byte, s span) []byte {
	if s.s >= 0 {
		return sc.p.text[s.s:s.end]
	}
	if v, ok := cfDecode(src[s.ss:s.se]); ok {
		return []byte(v)
	}
	return src[s.ss:s.se]
}

func (sc *scanner) replacement(dst, src []byte, s span, op Operator) []byte {
	switch op {
	case Mask:
		v := sc.value(src, s)
		n := utf8.RuneCount(v)
		keep := sc.f.maskKeep
		i := 0
		for len(v) > 0 {
			r, size := utf8.DecodeRune(v)
			v = v[size:]
			if n-i <= keep && r < utf8.RuneSelf && isAlnum(byte(r)) {
				dst = append(dst, byte(r))
			} else {
				dst = append(dst, '*')
			}
			i++
		}
		return dst
	case HMAC:
		return sc.f.appendToken(dst, s.e, sc.value(src, s))
	}
	dst = append(dst, '[')
	dst = append(dst, s.e...)
	return append(dst, ']')
}

// canonical reduces a value to the form that identifies it, so that
// "138 1234 5678" and "+86 13812345678" give the same token.
func canonical(e Entity, v []byte) []byte {
	c := make([]byte, 0, len(v))
	for _, b := range v {
		if isAlnum(b) || b == '@' || b == '.' || b >= utf8.RuneSelf {
			c = append(c, lower(b))
		}
	}
	if e == CNMobile && len(c) > 11 {
		c = c[len(c)-11:]
	}
	return c
}

// appendToken appends "[ENTITY:digest]", the digest being 16 letters a–p
// from HMAC-SHA256(key, entity ":" canonical value).
func (f *Filter) appendToken(dst []byte, e Entity, v []byte) []byte {
	m := hmac.New(sha256.New, f.key)
	m.Write([]byte(e))
	m.Write([]byte{':'})
	m.Write(canonical(e, v))
	sum := m.Sum(nil)
	dst = append(dst, '[')
	dst = append(dst, e...)
	dst = append(dst, ':')
	for _, b := range sum[:8] {
		dst = append(dst, 'a'+b>>4, 'a'+b&0xf)
	}
	return append(dst, ']')
}

// Token returns the keyed digest token RedactURL and the HMAC operator put
// in place of value, e.g. "[EMAIL:kfbapjcl…]", so a caller can recognise a
// known value without keeping it.
func (f *Filter) Token(e Entity, value string) string {
	return string(f.appendToken(nil, e, []byte(value)))
}

// hmacText redacts s with the HMAC operator, ignoring the Filter's
// operator, page-level drops and the policy threshold for URLs' sake.
func (f *Filter) hmacText(s string) (string, bool) {
	b := []byte(s)
	sc := f.scanText(b)
	defer f.put(sc)
	if len(sc.out) == 0 {
		return s, false
	}
	return string(sc.redactOp(b, nil, HMAC)), true
}

// RedactURL returns raw with personal information in its path, query and
// fragment replaced by keyed HMAC tokens, host name labels carrying it
// replaced by "pii-" and a digest, and any user information removed. The same URL always gives the same result under one key, so it
// is recognisable again; the personal data itself is never returned.
// Components without findings keep their original encoding.
func (f *Filter) RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		r, _ := f.hmacText(raw)
		return r
	}
	u.User = nil
	if p := u.Port(); len(p) > 5 {
		// Not a port: digits that long may be anything, so they go.
		u.Host = strings.TrimSuffix(u.Host, ":"+p)
	}
	if h := u.Hostname(); h != "" {
		if _, err := netip.ParseAddr(h); err != nil {
			labels := strings.Split(h, ".")
			changed := false
			for i, l := range labels {
				if _, ok := f.hmacText(l); ok {
					tok := f.Token(Entity("HOST"), l)
					labels[i] = "pii-" + tok[len("[HOST:"):len(tok)-1]
					changed = true
				}
			}
			if changed {
				u.Host = strings.Join(labels, ".")
				if p := u.Port(); p != "" {
					u.Host += ":" + p
				}
			}
		}
	}
	if p := u.EscapedPath(); p != "" {
		segs := strings.Split(p, "/")
		changed := false
		for i, seg := range segs {
			if r, ok := f.redactComponent(seg, false, url.PathEscape); ok {
				segs[i] = r
				changed = true
			}
		}
		if changed {
			ep := strings.Join(segs, "/")
			if dp, err := url.PathUnescape(ep); err == nil {
				u.Path, u.RawPath = dp, ep
			}
		}
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, kv := range parts {
			if r, ok := f.redactComponent(kv, true, queryEscape); ok {
				parts[i] = r
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	if frag := u.EscapedFragment(); frag != "" {
		if r, ok := f.redactComponent(frag, false, url.PathEscape); ok {
			if df, err := url.PathUnescape(r); err == nil {
				u.Fragment, u.RawFragment = df, r
			}
		}
	}
	return u.String()
}

// queryEscape escapes a "key=value" pair, keeping its first '='.
func queryEscape(s string) string {
	k, v, found := strings.Cut(s, "=")
	if !found {
		return url.QueryEscape(s)
	}
	return url.QueryEscape(k) + "=" + url.QueryEscape(v)
}

// redactComponent redacts one escaped URL component, reading it both
// fully decoded (percent-escapes layer after layer, '+' as a space in
// queries, GBK percent-bytes) and as written (a human reading a log sees
// "%17000000000" as a number too). It reports whether anything was
// redacted. A component whose personal data shows only once decoded is
// replaced by its decoded, redacted form.
func (f *Filter) redactComponent(raw string, plus bool, escape func(string) string) (string, bool) {
	cur, changed := raw, false
	if plus {
		raw = strings.ReplaceAll(raw, "+", "%20")
		cur = raw
	}
	dec := decodeURLText(raw, false)
	if r, ok := f.hmacText(dec); ok {
		cur, changed = escape(r), true
	} else if b5 := big5Form(raw); b5 != "" {
		if r, ok := f.hmacText(b5); ok {
			cur, changed = escape(r), true
		}
	}
	if r, ok := f.hmacText(cur); ok {
		cur, changed = fixPercent(strings.NewReplacer("[", "%5B", "]", "%5D").Replace(r)), true
	}
	return cur, changed
}

// fixPercent escapes every '%' not followed by two hex digits.
func fixPercent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])) {
			b.WriteString("%25")
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
