package pii

import (
	"bytes"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// span is a finding in page coordinates, before mapping to the source.
type span struct {
	e      Entity
	s, end int // page offsets; -1 for findings made outside the page text
	ss, se int // source offsets
	tier   Tier
	score  float64
	rule   string
}

// scanner holds the per-call state of one scan. Scanners are pooled by
// their Filter; they are never shared between goroutines.
type scanner struct {
	f     *Filter
	p     page
	hits  []hit
	seps  []int32 // label separators (':' and '='), for labelled names
	salut []int32 // "Hi " and "Hello " (names_en.go)
	ats   []int32 // " AT " (email_obf.go)
	out   []span
	now   time.Time
	cats  [numCats]int
	catOn uint8
	intl  intlState
	// rep is repeatNames' scratch space, allocated on first use.
	rep *repeatState
	// labels caches the classes of labels, from page to page.
	labels labelCache
	// lbAt is the offset labelBefore last answered for, with lbInfo, or
	// -1 before the first question about the current text.
	lbAt   int
	lbInfo labelInfo
	// cwKey is the window windowContext last answered for, with cwMask,
	// if cwOK; run clears cwOK.
	cwKey  [4]int
	cwMask uint64
	cwOK   bool
	// mobileNearName are eleven-digit numbers in unlisted mobile ranges
	// without a phone word, kept for mobilesNearNames.
	mobileNearName []group
}

// byte classes of the candidate scanner
const (
	tNone = iota
	tDigit
	tUpper
	tAt
	tColon
	tBracket
	tEq
)

var trig = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = tDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = tUpper
	}
	t['@'] = tAt
	t[':'] = tColon
	t['['] = tBracket
	t['('] = tBracket
	t['{'] = tBracket
	t['='] = tEq
	return t
}()

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'z' || c == '_' }

// run scans the page text: context words and lexicons first, then the
// candidate scanner, then names and addresses.
func (sc *scanner) run() {
	t := sc.p.text
	sc.lbAt, sc.cwOK = -1, false
	sc.hits = dropPlaceholders(t, lex.ac.FindWords(t, sc.hits[:0]))
	sc.now = time.Now()
	sc.seps, sc.salut, sc.ats = sc.seps[:0], sc.salut[:0], sc.ats[:0]
	wantSeps := sc.f.wantNames
	sc.intl = intlState{}
	sc.mobileNearName = sc.mobileNearName[:0]
	n := len(t)
	for i := 0; i < n; {
		switch trig[t[i]] {
		case tNone:
			// Most bytes start no candidate: skip them eight at a
			// time, then one at a time up to the byte that does.
			i++
			for i+8 <= n && trig[t[i]]|trig[t[i+1]]|trig[t[i+2]]|trig[t[i+3]]|trig[t[i+4]]|trig[t[i+5]]|trig[t[i+6]]|trig[t[i+7]] == 0 {
				i += 8
			}
			for i < n && trig[t[i]] == tNone {
				i++
			}
		case tDigit:
			if i > 0 && (isAlnum(t[i-1]) || t[i-1] == '.' || t[i-1] == '-' && i > 1 && isAlnum(t[i-2]) && !isDigit(t[i-2])) {
				i = skipAlnum(t, i)
				continue
			}
			i = sc.numeric(i)
		case tUpper:
			if i > 0 && isAlnum(t[i-1]) {
				i = skipAlnum(t, i)
				continue
			}
			if t[i] == 'H' || t[i] == 'A' {
				sc.upperTrigger(i)
			}
			i = sc.letters(i)
		case tAt:
			sc.email(i)
			i++
		case tBracket:
			sc.obfuscatedEmail(i)
			i++
		case tColon:
			if wantSeps {
				sc.seps = append(sc.seps, int32(i))
			}
			i = sc.ipv6(i)
		case tEq:
			if wantSeps {
				sc.seps = append(sc.seps, int32(i))
			}
			i++
		}
	}
	if sc.f.wantEmail {
		sc.spelledEmails()
	}
	if sc.f.wantAddress {
		sc.addresses()
	}
	if sc.f.wantNames {
		sc.names()
	}
	sc.mobilesNearNames()
	for _, h := range sc.hits {
		if c := lex.entries[h.Pattern].cats; c != 0 {
			for k := range numCats {
				if c&(1<<k) != 0 {
					sc.cats[k]++
				}
			}
		}
	}
}

// mobilesNearNames emits the numbers in unlisted mobile ranges that follow
// a person's name within twelve runes: a name and a number side by side are
// a contact, whatever the number's range.
func (sc *scanner) mobilesNearNames() {
	if len(sc.mobileNearName) == 0 {
		return
	}
	for _, g := range sc.mobileNearName {
		ws := runeBack(sc.p.text, g.s, 12)
		for _, sp := range sc.out {
			if (sp.e == CNPersonName || sp.e == PersonName) && sp.s >= 0 && sp.end <= g.s && sp.end >= ws {
				sc.emit(CNMobile, g.s, g.e, false, true, "cn-mobile-near-name")
				break
			}
		}
	}
}

func skipAlnum(t []byte, i int) int {
	for i < len(t) && isAlnum(t[i]) {
		i++
	}
	return i
}

// runeBack returns the offset n runes before i.
func runeBack(t []byte, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		i--
		for i > 0 && t[i]&0xC0 == 0x80 {
			i--
		}
	}
	return i
}

// runeFwd returns the offset n runes after i.
func runeFwd(t []byte, i, n int) int {
	for ; n > 0 && i < len(t); n-- {
		i++
		for i < len(t) && t[i]&0xC0 == 0x80 {
			i++
		}
	}
	return i
}

// context reports whether a context word of e lies within the rune windows
// around [s, end).
func (sc *scanner) context(e Entity, s, end int) bool {
	return sc.contextWin(e, s, end, sc.f.ctxBefore, sc.f.ctxAfter)
}

func (sc *scanner) contextWin(e Entity, s, end, before, after int) bool {
	b := bit(e)
	if sc.labelBefore(s).mask&b != 0 {
		return true // "mobile":"…", contactPhone=…
	}
	return sc.windowContext(s, end, before, after)&b != 0
}

// windowContext returns the entities that a context word within the rune
// windows around [s, end) is one for. The last window's answer is kept:
// the rules ask about one candidate's window entity by entity.
func (sc *scanner) windowContext(s, end, before, after int) uint64 {
	if key := [4]int{s, end, before, after}; sc.cwOK && key == sc.cwKey {
		return sc.cwMask
	}
	ws := int32(runeBack(sc.p.text, s, before))
	we := int32(runeFwd(sc.p.text, end, after))
	var mask uint64
	k := sort.Search(len(sc.hits), func(i int) bool { return sc.hits[i].End > ws })
	for ; k < len(sc.hits) && sc.hits[k].Start < we; k++ {
		h := sc.hits[k]
		if h.Start >= ws && h.End <= we {
			mask |= lex.entries[h.Pattern].ctx
		}
	}
	sc.cwKey, sc.cwMask, sc.cwOK = [4]int{s, end, before, after}, mask, true
	return mask
}

// formatScore is the score of a format-only finding per entity: strong
// formats score above the default threshold, weak ones need context.
func formatScore(e Entity) float64 {
	switch e {
	case Email:
		return 0.8
	case CNMobile, IPAddress, Coordinates, CNResidentID, USSSN, Phone, LicensePlate, MACAddress, USITIN:
		return 0.6
	}
	return 0.4
}

// ipv4FormatScore is the score of an IPv4 address without a context word.
const ipv4FormatScore = 0.45

// negWindow is how far before a candidate, in runes, a word naming a
// non-personal number (订单号, serial) suppresses a finding without a checksum.
const negWindow = 8

// negative reports whether a word naming a non-personal number ends within
// negWindow runes before s, with no context word of e after it.
func (sc *scanner) negative(e Entity, s int) bool {
	b := bit(e)
	if lb := sc.labelBefore(s); lb.neg {
		return true // "orderId":"…", sku=…
	} else if lb.mask&b != 0 {
		return false
	}
	ws := int32(runeBack(sc.p.text, s, negWindow))
	neg := false
	k := sort.Search(len(sc.hits), func(i int) bool { return sc.hits[i].End > ws })
	for ; k < len(sc.hits) && sc.hits[k].End <= int32(s); k++ {
		le := lex.entries[sc.hits[k].Pattern]
		switch {
		case le.neg:
			neg = true
		case le.ctx&b != 0:
			neg = false
		}
	}
	return neg
}

func (sc *scanner) emit(e Entity, s, end int, checksum, ctx bool, rule string) {
	if !sc.f.enabled[entityIndex(e)] {
		return
	}
	// A Luhn check passes for one number in ten: a card is suppressed
	// like a format-only finding ("orderId":"6222…").
	if (!checksum || e == BankCard) && e != Email && sc.negative(e, s) {
		return
	}
	var tier Tier
	var score float64
	switch {
	case checksum && ctx:
		tier, score = TierChecksumContext, 0.95
	case checksum:
		tier, score = TierChecksum, 0.85
	case ctx:
		tier, score = TierFormatContext, min(formatScore(e)+0.2, 0.9)
	default:
		tier, score = TierFormat, formatScore(e)
	}
	sc.out = append(sc.out, span{e: e, s: s, end: end, tier: tier, score: score, rule: rule})
}

type group struct{ s, e int }

// numeric handles the digit run starting at t[i]: digit groups joined by
// short separators (space, '-', parentheses), dispatched by length and
// prefix to the validators. It returns where scanning resumes.
func (sc *scanner) numeric(i int) int {
	t := sc.p.text
	n := len(t)
	if macAt(t, i) {
		if e, ok := sc.mac(i); ok {
			return e
		}
	}
	var gs [8]group
	ng := 0
	k := i
	for ng < len(gs) {
		s := k
		for k < n && isDigit(t[k]) {
			k++
		}
		if k-s > 19 {
			return skipAlnum(t, k)
		}
		x := false
		if k < n && (t[k] == 'X' || t[k] == 'x') && (k+1 >= n || !isAlnum(t[k+1])) {
			x = true
			k++
		}
		if !x && k < n && isAlnum(t[k]) {
			if ng == 0 {
				e := skipAlnum(t, k)
				sc.intlToken(i, e)
				return e
			}
			break
		}
		if !x && k+1 < n && t[k] == '.' && isDigit(t[k+1]) {
			if ng == 0 {
				if e, ok := sc.cpf(i); ok {
					return e
				}
				return sc.dotted(i)
			}
			break
		}
		gs[ng] = group{s, k}
		ng++
		if x {
			break
		}
		m := k
		for m < n && m-k < 3 && (t[m] == ' ' || t[m] == '-' || t[m] == '(' || t[m] == ')') {
			m++
		}
		if m == k || m >= n || !isDigit(t[m]) {
			break
		}
		k = m
	}
	end := gs[ng-1].e
	if total := end - gs[0].s; total < 7 {
		// Fewer than seven digits and separators: no numeric entity is
		// that short (the shortest, HK phones and Macau IDs, have eight).
		return end
	}
	if e, ok := sc.intlRun(gs[:ng]); ok {
		return e
	}
	if sc.f.wantAddress && end+3 <= n && (bytes.HasPrefix(t[end:], hao) || bytes.HasPrefix(t[end:], haoTrad)) {
		// "号": part of an address, handled by the address pass.
		return end
	}
	var buf [48]byte
	var lens [8]int
	for k := 0; k < ng; {
		used := 0
		for m := min(ng-k, 5); m >= 1; m-- {
			d := buf[:0]
			for j := k; j < k+m; j++ {
				d = append(d, t[gs[j].s:gs[j].e]...)
				lens[j-k] = gs[j].e - gs[j].s
			}
			if sc.classify(d, lens[:m], gs[k].s, gs[k+m-1].e, k+m == ng) {
				used = m
				break
			}
		}
		if used == 0 {
			used = 1
		}
		k += used
	}
	return end
}

func shapeIs(shape []int, want ...int) bool { return slices.Equal(shape, want) }

func cardShape(shape []int) bool {
	if len(shape) < 4 || len(shape) > 5 {
		return len(shape) == 2 && shape[0] == 6
	}
	for i, l := range shape {
		if i == len(shape)-1 && i >= 4 {
			return l >= 1 && l <= 4
		}
		if l != 4 {
			return false
		}
	}
	return true
}

// classify tries the digits d (separators removed, shape the group lengths)
// found at page offsets [s, e) against the numeric entities. It reports
// whether d was recognised, as personal data or as a known non-personal
// number (a look-alike), so that no shorter reading is tried.
//
// A grouped card number must end the run: "6222 0212 3456 7890 127" is not
// a card because its first sixteen digits happen to pass Luhn.
func (sc *scanner) classify(d []byte, shape []int, s, e int, toEnd bool) bool {
	multi := len(shape) > 1
	L := len(d)
	digits := allDigits(d)
	switch {
	case L == 18:
		if !multi || shapeIs(shape, 6, 8, 4) || shapeIs(shape, 6, 4, 4, 4) {
			if idShape18(d, sc.now) {
				if validID18(d, sc.now) {
					sc.emit(CNResidentID, s, e, true, sc.context(CNResidentID, s, e), "cn-id-18")
				}
				return true // an ID-shaped number with a wrong check character: an order number
			}
			if !multi && validUSCC(d) {
				return true // an organisation's credit code
			}
		}
		if digits && (!multi || toEnd && cardShape(shape)) && validCard(d) {
			return sc.card(s, e, "card-luhn")
		}
	case L == 15:
		if digits && bytes.HasPrefix(d, []byte("0086")) && (!multi || shapeIs(shape, 4, 11) || shapeIs(shape, 4, 3, 4, 4)) && validMobile(d[4:]) {
			sc.emit(CNMobile, s, e, false, sc.context(CNMobile, s, e), "cn-mobile-0086")
			return true
		}
		if (!multi || shapeIs(shape, 6, 6, 3)) && validID15(d) {
			sc.emit(CNResidentID, s, e, false, sc.context(CNResidentID, s, e), "cn-id-15")
			return true
		}
	case L == 16 || L == 17 || L == 19:
		if digits && (!multi || toEnd && cardShape(shape)) && validCard(d) {
			return sc.card(s, e, "card-luhn")
		}
	}
	if sc.intlEarly(d, shape, s, e, digits) {
		return true
	}
	if !digits {
		return false
	}
	// +86 / 86 prefix.
	if L >= 12 && d[0] == '8' && d[1] == '6' && (!multi || shape[0] == 2) {
		ps := s
		if ps > 0 && sc.p.text[ps-1] == '+' {
			ps--
		}
		if L == 13 && (!multi || shapeIs(shape, 2, 11) || shapeIs(shape, 2, 3, 4, 4) || shapeIs(shape, 2, 3, 8)) && validMobile(d[2:]) {
			sc.emit(CNMobile, ps, e, false, sc.context(CNMobile, ps, e), "cn-mobile-86")
			return true
		}
		if multi && len(shape) >= 3 && d[2] != '0' {
			var lb [16]byte
			ld := append(append(lb[:0], '0'), d[2:]...)
			a := landlineArea(ld)
			if a == shape[1]+1 && validLandline(ld[:a], ld[a:]) {
				sc.emit(CNLandline, ps, e, false, sc.context(CNLandline, ps, e), "cn-landline-86")
				return true
			}
		}
	}
	switch {
	case L == 11 && d[0] == '1':
		if (!multi || shapeIs(shape, 3, 4, 4) || shapeIs(shape, 3, 8)) && validMobile(d) {
			sc.emit(CNMobile, s, e, false, sc.context(CNMobile, s, e), "cn-mobile")
			return true
		}
		// Ranges allocated after libphonenumber's metadata: only next to
		// a phone word.
		if (!multi || shapeIs(shape, 3, 4, 4) || shapeIs(shape, 3, 8)) && d[1] >= '3' && !sc.context(CNMobile, s, e) && sc.runStart(s) && sc.runEnd(e) {
			// Or next to a person's name, which the name pass finds
			// later: "buyer: 金霞睿 / 14912345678".
			sc.mobileNearName = append(sc.mobileNearName, group{s, e})
		}
		if (!multi || shapeIs(shape, 3, 4, 4) || shapeIs(shape, 3, 8)) && d[1] >= '3' && sc.context(CNMobile, s, e) {
			sc.emit(CNMobile, s, e, false, true, "cn-mobile-context")
			return true
		}
	case L >= 10 && L <= 12 && d[0] == '0':
		a := landlineArea(d)
		if a > 0 && (!multi || shape[0] == a) && validLandline(d[:a], d[a:]) {
			ctx := sc.context(CNLandline, s, e)
			if !ctx && sc.intlLate(d, shape, s, e, toEnd) {
				// A PESEL after "pesel=" also reads as a Bazhong landline.
				return true
			}
			sc.emit(CNLandline, s, e, false, ctx, "cn-landline")
			return true
		}
	case L == 9:
		if shapeIs(shape, 3, 2, 4) && validSSN(d) {
			sc.emit(USSSN, s, e, false, sc.context(USSSN, s, e), "us-ssn")
			return true
		}
		if !multi && validSSN(d) && sc.context(USSSN, s, e) {
			sc.emit(USSSN, s, e, false, true, "us-ssn-context")
			return true
		}
	case L == 8:
		if (!multi || shapeIs(shape, 7, 1)) && validMacau(d) && sc.contextWin(MOID, s, e, sc.f.ctxBefore, 4) {
			end := e
			if end < len(sc.p.text) && sc.p.text[end] == ')' {
				end++
			}
			sc.emit(MOID, s, end, false, true, "mo-id-context")
			return true
		}
	}
	return sc.intlLate(d, shape, s, e, toEnd)
}

// dotted handles a number with dots starting at t[i]: an IPv4 address, a
// coordinate, or something else (versions, prices) that is skipped.
func (sc *scanner) dotted(i int) int {
	t := sc.p.text
	n := len(t)
	k := i
	dots := 0
	for k < n && (isDigit(t[k]) || t[k] == '.' && k+1 < n && isDigit(t[k+1])) {
		if t[k] == '.' {
			dots++
		}
		k++
	}
	if k < n && isAlnum(t[k]) {
		return skipAlnum(t, k)
	}
	switch dots {
	case 2:
		sc.dottedMobile(i, k) // 138.0013.8000
	case 3:
		if a, err := netip.ParseAddr(string(t[i:k])); err == nil && a.Is4() && !a.IsLoopback() && !a.IsUnspecified() && !sc.versionBefore(i) {
			// Four-part version numbers ("2.6.36.4", "5.3.0.0") parse as
			// addresses too: without a context word an IPv4 address
			// scores below the default threshold.
			ctx := sc.context(IPAddress, i, k) || sc.accessLog(i, k)
			sc.emit(IPAddress, i, k, false, ctx, "ipv4")
			if !ctx && len(sc.out) > 0 && sc.out[len(sc.out)-1].rule == "ipv4" && sc.out[len(sc.out)-1].s == i {
				sc.out[len(sc.out)-1].score = ipv4FormatScore
			}
		}
	case 1:
		return sc.coordinate(i, k)
	}
	return k
}

// decimal parses a decimal number at t[i:k] with at least 4 decimals.
func decimalAt(t []byte, i, k int) (float64, bool) {
	dot := bytes.IndexByte(t[i:k], '.')
	if dot < 0 || k-(i+dot+1) < 4 {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(t[i:k]), 64)
	return v, err == nil
}

// coordinate handles a decimal at t[i:k]: a latitude,longitude pair with
// four or more decimals each, or one such value next to a coordinate word.
func (sc *scanner) coordinate(i, k int) int {
	t := sc.p.text
	lat, ok := decimalAt(t, i, k)
	if !ok {
		return k
	}
	s := i
	if s > 0 && t[s-1] == '-' {
		s--
		lat = -lat
	}
	// Look for ", lon".
	m := k
	for m < len(t) && m-k < 3 && (t[m] == ' ' || t[m] == ',') {
		m++
	}
	neg := false
	if m < len(t) && t[m] == '-' {
		neg = true
		m++
	}
	if m > k && m < len(t) && isDigit(t[m]) && bytes.IndexByte(t[k:m], ',') >= 0 {
		j := m
		for j < len(t) && (isDigit(t[j]) || t[j] == '.' && j+1 < len(t) && isDigit(t[j+1])) {
			j++
		}
		if lon, ok := decimalAt(t, m, j); ok && (j >= len(t) || !isAlnum(t[j])) {
			if neg {
				lon = -lon
			}
			if lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
				sc.emit(Coordinates, s, j, false, sc.context(Coordinates, s, j), "coordinates-pair")
				return j
			}
		}
	}
	if lat >= -180 && lat <= 180 && sc.contextWin(Coordinates, s, k, 12, 0) {
		sc.emit(Coordinates, s, k, false, true, "coordinate-context")
	}
	return k
}

// letters handles a token starting with upper-case letters: Hong Kong and
// Taiwan IDs, PRC passports and IBANs.
func (sc *scanner) letters(i int) int {
	t := sc.p.text
	n := len(t)
	if e, ok := sc.cnPlate(i); ok {
		return e
	}
	if macAt(t, i) {
		if e, ok := sc.mac(i); ok {
			return e
		}
	}
	la := 0
	for i+la < n && isUpper(t[i+la]) && la < 3 {
		la++
	}
	if la > 2 || i+la >= n || !isDigit(t[i+la]) {
		e := skipAlnum(t, i)
		if la > 2 {
			sc.intlToken(i, e)
		}
		return e
	}
	k := i + la
	for k < n && isDigit(t[k]) {
		k++
	}
	nd := k - i - la
	tokEnd := skipAlnum(t, k)
	// IBAN: two letters, two check digits, then the account (spaces allowed).
	if la == 2 {
		if e, ok := sc.iban(i); ok {
			return e
		}
	}
	// Hong Kong: 1–2 letters, 6 digits, check in parentheses.
	if nd == 6 && k+2 < n && t[k] == '(' && t[k+2] == ')' && (isDigit(t[k+1]) || t[k+1] == 'A') {
		var b [10]byte
		d := append(append(b[:0], t[i:k]...), t[k+1])
		if validHKID(d) {
			sc.emit(HKID, i, k+3, true, sc.context(HKID, i, k+3), "hk-id")
			return k + 3
		}
	}
	if tokEnd != k && !(nd == 6 && tokEnd == k+1 && t[k] == 'A') {
		sc.intlToken(i, tokEnd)
		return tokEnd // letters after the digits: a code, not an identifier
	}
	tok := t[i:tokEnd]
	if validPassport(tok) && sc.context(CNPassport, i, tokEnd) {
		sc.emit(CNPassport, i, tokEnd, false, true, "cn-passport-context")
		return tokEnd
	}
	if validHKID(tok) {
		sc.emit(HKID, i, tokEnd, true, sc.context(HKID, i, tokEnd), "hk-id")
		return tokEnd
	}
	if la == 1 && nd == 9 && validTWID(tok) {
		sc.emit(TWID, i, tokEnd, true, sc.context(TWID, i, tokEnd), "tw-id")
		return tokEnd
	}
	sc.intlToken(i, tokEnd)
	return tokEnd
}

// iban reads an IBAN at t[i], printed compactly or in groups of four.
func (sc *scanner) iban(i int) (int, bool) {
	t := sc.p.text
	var buf [40]byte
	d := buf[:0]
	k := i
	for k < len(t) && len(d) < 34 {
		c := t[k]
		switch {
		case isDigit(c) || isUpper(c):
			d = append(d, c)
			k++
			continue
		case c == ' ' && k+1 < len(t) && (isDigit(t[k+1]) || isUpper(t[k+1])):
			k++
			continue
		}
		break
	}
	// The account may be followed by other words: try the registered length.
	if len(d) < 4 {
		return 0, false
	}
	want, ok := ibanLengths[string(d[:2])]
	if !ok || len(d) < want {
		return 0, false
	}
	if !validIBAN(d[:want]) {
		return 0, false
	}
	// Find where the want-th character ends.
	cnt, e := 0, i
	for e < len(t) && cnt < want {
		if t[e] != ' ' {
			cnt++
		}
		e++
	}
	if e < len(t) && isAlnum(t[e]) {
		return 0, false
	}
	sc.emit(IBAN, i, e, true, sc.context(IBAN, i, e), "iban-mod97")
	return e, true
}

func isLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '%' || c == '+' || c == '-'
}

func isDomain(c byte) bool {
	return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'z' || c == '.' || c == '-'
}

var notTLD = map[string]bool{"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true,
	"css": true, "js": true, "avif": true, "bmp": true, "ico": true}

// email handles the '@' at t[i].
func (sc *scanner) email(i int) {
	if !sc.emailAt(i, i+1, "email") {
		sc.emailObfAt(i, i+1, false, "email-obfuscated") // name@163点com
	}
}

// localPart returns where the local part of an e-mail address that ends
// at t[i] (before the '@') starts, and reports whether there is one.
func localPart(t []byte, i int) (int, bool) {
	s := i
	for s > 0 && i-s < 64 && isLocal(t[s-1]) {
		s--
	}
	for s < i && (t[s] == '.' || t[s] == '-') {
		s++
	}
	return s, s < i && t[i-1] != '.'
}

// emailAt reads an address whose local part ends at t[i] and whose domain
// starts at t[ds], and reports whether it found one.
func (sc *scanner) emailAt(i, ds int, rule string) bool {
	t := sc.p.text
	s, ok := localPart(t, i)
	if !ok {
		return false
	}
	e := ds
	for e < len(t) && e-ds < 255 && isDomain(t[e]) {
		e++
	}
	for e > ds && (t[e-1] == '.' || t[e-1] == '-') {
		e--
	}
	dom := t[ds:e]
	dot := bytes.LastIndexByte(dom, '.')
	if dot <= 0 || bytes.Contains(dom, []byte("..")) || dom[0] == '.' || dom[0] == '-' {
		return false
	}
	tld := dom[dot+1:]
	if len(tld) < 2 || len(tld) > 24 {
		return false
	}
	for _, c := range tld {
		if c|0x20 < 'a' || c|0x20 > 'z' {
			return false
		}
	}
	var lb [24]byte // len(tld) <= 24
	if notTLD[string(lowerInto(lb[:], tld))] {
		return false
	}
	sc.emit(Email, s, e, false, sc.context(Email, s, e), rule)
	return true
}

func isHex(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

// ipv6 handles the ':' at t[i] and returns where scanning resumes.
func (sc *scanner) ipv6(i int) int {
	t := sc.p.text
	if i >= 2 && macAt(t, i-2) {
		if e, ok := sc.mac(i - 2); ok {
			return e
		}
	}
	s := i
	for s > 0 && i-s < 45 && (isHex(t[s-1]) || t[s-1] == ':' || t[s-1] == '.') {
		s--
	}
	e := i
	for e < len(t) && e-s < 45 && (isHex(t[e]) || t[e] == ':' || t[e] == '.') {
		e++
	}
	for e > i && t[e-1] == '.' {
		e--
	}
	if e > i+1 && t[e-1] == ':' && t[e-2] != ':' {
		e-- // a colon after the address is punctuation: "fe80::1: down"
	}
	if e-s < 5 || e < len(t) && isAlnum(t[e]) {
		return i + 1 // "::1" is the shortest address, and loopback
	}
	ok := false
	for try := 0; try < 2 && !ok; try++ {
		if try == 1 {
			// "IPv6:2001:db8::1": start after a leading single colon.
			c := bytes.IndexByte(t[s:e], ':')
			if c < 0 || s+c+1 >= e || t[s+c+1] == ':' {
				break
			}
			s += c + 1
		}
		ok = sc.isIPv6(s, e)
	}
	if !ok {
		return i + 1
	}
	// Drop any finding made on the first hextet before the colon was seen.
	for len(sc.out) > 0 && sc.out[len(sc.out)-1].s >= s {
		sc.out = sc.out[:len(sc.out)-1]
	}
	sc.emit(IPAddress, s, e, false, sc.context(IPAddress, s, e), "ipv6")
	return e
}

func (sc *scanner) isIPv6(s, e int) bool {
	t := sc.p.text
	tok := t[s:e]
	colons := bytes.Count(tok, []byte(":"))
	if colons < 2 || (colons < 7 && !bytes.Contains(tok, []byte("::"))) || s > 0 && isAlnum(t[s-1]) {
		return false
	}
	// At least three groups: "std::f" and "a::b" are paths in code, not
	// addresses.
	groups := 0
	for g := range bytes.SplitSeq(tok, []byte(":")) {
		if len(g) > 0 {
			groups++
		}
	}
	if groups < 3 {
		return false
	}
	a, err := netip.ParseAddr(string(tok))
	return err == nil && a.Is6() && !a.IsLoopback() && !a.IsUnspecified()
}

var (
	hao          = []byte("号")
	haoTrad      = []byte("號")
	roadMarkers  = "路街道巷弄里村段衖"
	afterHao     = []string{"期", "号楼", "號樓", "栋", "棟", "幢", "座", "单元", "單元", "室", "层", "層", "楼", "樓", "户", "戶", "院", "F"}
	adminMarkers = []string{"省", "自治区", "自治區", "市", "区", "區", "县", "縣", "镇", "鎮", "乡", "鄉", "街道"}
	provinces    = []string{"臺北", "台北", "新北", "桃園", "臺中", "台中", "臺南", "台南", "高雄", "九龍", "新界", "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门"}
)

// addresses finds Chinese postal addresses: a road and house number
// ("…路88号"), with the administrative divisions before it and the
// building, unit and room after it.
func (sc *scanner) addresses() {
	sc.addressesAt(hao)
	sc.addressesAt(haoTrad)
}

// addressesAt finds addresses whose house number ends with marker.
func (sc *scanner) addressesAt(marker []byte) {
	t := sc.p.text
	for from := 0; ; {
		j := indexRune3(t[from:], marker)
		if j < 0 {
			return
		}
		h := from + j
		from = h + len(marker)
		// digits (and '-') right before 号
		d := h
		for d > 0 && (isDigit(t[d-1]) || t[d-1] == '-') {
			d--
		}
		if d == h || d == 0 {
			continue
		}
		r, size := utf8.DecodeLastRune(t[:d])
		if runeIn(r, "東西南北中东") {
			// Hong Kong roads carry a direction: 皇后大道中270號.
			if r2, size2 := utf8.DecodeLastRune(t[:d-size]); runeIn(r2, roadMarkers) {
				r, size = r2, size+size2
			}
		}
		if !runeIn(r, roadMarkers) {
			continue
		}
		road := d - size
		// Walk back over the divisions: ideographs and digits, 30 runes at most.
		cs := road
		for n := 0; n < 30 && cs > 0; n++ {
			r, size := utf8.DecodeLastRune(t[:cs])
			if !ideograph(r) && !isDigit(byte(r)) {
				break
			}
			cs -= size
		}
		if cs == road {
			continue
		}
		start, strong := sc.addressStart(cs, road)
		// Forward: a named building, then building, unit, room.
		e := h + len(marker)
		e = sc.building(e)
		for part := 0; part < 6; part++ {
			k := e
			for k < len(t) && (isDigit(t[k]) || isUpper(t[k]) || t[k] == '-') {
				k++
			}
			matched := false
			for _, m := range afterHao {
				if bytes.HasPrefix(t[k:], []byte(m)) {
					e = k + len(m)
					matched = true
					break
				}
			}
			if !matched {
				if k > e && (k >= len(t) || !isAlnum(t[k])) && t[e] != '-' {
					e = k // "88号1-2-501"
				}
				break
			}
		}
		sc.emit(CNAddress, start, e, false, true, "cn-address")
		last := &sc.out[len(sc.out)-1]
		last.tier = TierHeuristic
		last.score = 0.6
		if strong {
			last.score = 0.7
		}
		from = e
	}
}

var buildingSuffixes = []string{"大厦", "广场", "中心", "大楼", "公寓", "小区", "花园", "家园", "苑", "院", "座", "期"}

// building extends an address at e over a named building ("中关村大厦",
// "太古汇一座") and a bare room number after it ("2301").
func (sc *scanner) building(e int) int {
	t := sc.p.text
	k := e
	best := e
	for n := 0; n < 10 && k < len(t); n++ {
		r, size := utf8.DecodeRune(t[k:])
		if !ideograph(r) {
			break
		}
		k += size
		for _, s := range buildingSuffixes {
			if bytes.HasSuffix(t[e:k], []byte(s)) {
				best = k
			}
		}
	}
	if best == e {
		return e
	}
	k = best
	for k < len(t) && (isDigit(t[k]) || isUpper(t[k]) || t[k] == '-') {
		k++
	}
	if k > best && (k >= len(t) || !isAlnum(t[k])) {
		return k
	}
	return best
}

// addressStart picks where an address in t[cs:road] begins: after an
// address word, else at a province name, else at the first division
// marker's name, else at cs.
func (sc *scanner) addressStart(cs, road int) (int, bool) {
	t := sc.p.text
	best := -1
	k := sort.Search(len(sc.hits), func(i int) bool { return sc.hits[i].End > int32(runeBack(t, cs, 4)) })
	for ; k < len(sc.hits) && sc.hits[k].End <= int32(road); k++ {
		if lex.entries[sc.hits[k].Pattern].addr {
			best = int(sc.hits[k].End)
		}
	}
	if best >= cs {
		return best, true
	}
	if best >= 0 {
		return cs, true
	}
	seg := t[cs:road]
	first := -1
	for _, p := range provinces {
		if j := bytes.Index(seg, []byte(p)); j >= 0 && (first < 0 || j < first) {
			first = j
		}
	}
	if first >= 0 {
		return cs + first, true
	}
	for _, m := range adminMarkers {
		if j := bytes.Index(seg, []byte(m)); j > 0 && (first < 0 || j < first) {
			first = j
		}
	}
	if first > 0 {
		return runeBack(t, cs+first, 2), true
	}
	return cs, false
}
