package pii

import "sort"

// Scanner dispatch for the entities of other regions. Each hook is called
// from scan.go only where the mainland rules have not matched, on a
// candidate the cheap scanner already produced.

// intlState is the per-scan state of the hooks, reset by run.
type intlState struct {
	pageRegion uint8 // 0: not computed yet; else region+1
	// the script cue last computed, for candidates near scriptAt
	scriptAt     int
	scriptRegion uint8
	scriptOK     bool
}

// phoneCues returns the region of the nearest region word within the
// context windows around [s, end) (or regionNone), and whether a phone
// context word is there, in one look at the hits.
func (sc *scanner) phoneCues(s, end int) (uint8, bool) {
	ws := int32(runeBack(sc.p.text, s, sc.f.ctxBefore))
	we := int32(runeFwd(sc.p.text, end, sc.f.ctxAfter))
	r := uint8(regionNone)
	ctx := false
	best := int32(1 << 30)
	b := phoneBit
	k := sort.Search(len(sc.hits), func(i int) bool { return sc.hits[i].End > ws })
	for ; k < len(sc.hits) && sc.hits[k].Start < we; k++ {
		h := sc.hits[k]
		if h.Start < ws || h.End > we {
			continue
		}
		le := &lex.entries[h.Pattern]
		ctx = ctx || le.ctx&b != 0
		if le.region == regionNone {
			continue
		}
		// The nearest region word, in bytes, on either side: in
		// "Hong Kong office: 6154 6026 · Taipei: …" the number is Hong
		// Kong's.
		d := int32(s) - h.End
		if h.Start >= int32(s) {
			if labelsNext(sc.p.text, int(h.End)) {
				continue // "Taipei: …" names the number after it
			}
			d = h.Start - int32(end)
		}
		if d < best {
			r, best = le.region, d
		}
	}
	return r, ctx
}

// labelsNext reports whether the word ending at t[i] is (part of) a label,
// a few letters or ideographs at most before a colon: "Taipei office: ".
func labelsNext(t []byte, i int) bool {
	for n := 0; n < 24 && i < len(t); n++ {
		switch c := t[i]; {
		case c == ':':
			return true
		case c == ' ' || isAlnum(c) || c >= 0x80:
			i++
		default:
			return false
		}
	}
	return false
}

// pageRegionOf returns the region the page as a whole points to: the most
// frequent region word (counted once per scan, only when a candidate needs
// it), else Hangul (Korea) or kana (Japan) in the 2 KB around [s, e).
func (sc *scanner) pageRegionOf(s, e int, trunk bool) uint8 {
	if sc.intl.pageRegion == 0 {
		var cnt [len(phoneRegions)]int
		best := uint8(regionNone)
		for _, h := range sc.hits {
			if g := lex.entries[h.Pattern].region; g != regionNone {
				cnt[g]++
				if best == regionNone || cnt[g] > cnt[best] {
					best = g
				}
			}
		}
		sc.intl.pageRegion = best + 1
	}
	if r := sc.intl.pageRegion - 1; r != regionNone || !trunk {
		return r // only Korean and Japanese numbers are told by the script
	}
	if sc.intl.scriptOK && s-sc.intl.scriptAt < 512 && sc.intl.scriptAt-s < 512 {
		return sc.intl.scriptRegion
	}
	t := sc.p.text
	hangul, kana := 0, 0
	for i := max(0, s-1024); i+2 < min(len(t), e+1024); i++ {
		switch c := t[i]; {
		case c < 0xE3:
		case c == 0xE3 && (t[i+1] == 0x81 || t[i+1] == 0x82 || t[i+1] == 0x83):
			kana++
		case c >= 0xEA && c <= 0xED:
			hangul++
		}
	}
	r := uint8(regionNone)
	switch {
	case hangul > 8 && hangul > kana:
		r = regionKR
	case kana > 8:
		r = regionJP
	}
	sc.intl.scriptAt, sc.intl.scriptRegion, sc.intl.scriptOK = s, r, true
	return r
}

var (
	phoneIndex = entityIndex(Phone)
	phoneBit   = bit(Phone)
)

// phoneShape reports whether digits d grouped as shape could be a national
// phone number of some region (the cheap filter before libphonenumber).
func phoneShape(d []byte, shape []int, paren bool) bool {
	L := len(d)
	multi := len(shape) > 1
	for _, g := range shape[1:] {
		if g < 2 {
			return false
		}
	}
	switch {
	case d[0] == '0':
		return L >= 9 && L <= 12 && (!multi || shape[0] >= 2 && shape[0] <= 5)
	case L == 8:
		return d[0] != '0' && d[0] != '1' && d[0] != '4' && (!multi || shapeIs(shape, 4, 4))
	case L == 10 && d[0] >= '2':
		return nanpArea(d) && (paren || !multi || shapeIs(shape, 3, 3, 4))
	case L == 9 && d[0] >= '6':
		// Spanish and Italian numbers without a trunk prefix.
		return !multi || shapeIs(shape, 3, 3, 3) || shapeIs(shape, 3, 2, 2, 2)
	}
	return false
}

var (
	tryHK = [...]uint8{regionHK}
	tryUS = [...]uint8{regionUS}
)

// phoneStart extends a phone number's start over a '(' or '+' before it.
func (sc *scanner) phoneStart(s int) (int, bool, bool) {
	t := sc.p.text
	paren, plus := false, false
	if s > 0 && t[s-1] == '(' {
		s--
		paren = true
	}
	if s > 0 && t[s-1] == '+' {
		s--
		plus = true
	}
	return s, plus, paren
}

// phonePlus handles a run written after '+': an international number of a
// region other than the mainland, whose numbers CN_MOBILE and CN_LANDLINE
// handle.
func (sc *scanner) phonePlus(d []byte, s, e int) bool {
	if len(d) < 8 || len(d) > 15 || d[0] == '0' || d[0] == '8' && d[1] == '6' {
		return false
	}
	cc, ok := phoneValid(d, "")
	if !ok {
		cc, ok = phonePossible(d, "")
	}
	if !ok || cc == 86 {
		return false
	}
	ps, _, _ := sc.phoneStart(s)
	sc.emit(Phone, ps, e, false, sc.context(Phone, ps, e), "phone-intl")
	return true
}

// phoneNational handles a national-format run. The region comes from a
// region word nearby, else from the page; without a phone context word the
// number must be grouped and a region known. With a phone context word but
// no region, the usual regions are tried in turn.
func (sc *scanner) phoneNational(d []byte, shape []int, s, e int, early bool) bool {
	ps, plus, paren := sc.phoneStart(s)
	if plus || !phoneShape(d, shape, paren) {
		return false
	}
	r, ctx := sc.phoneCues(ps, e)
	near := r != regionNone // the region is named next to the number
	// Formats that name their region: "(212) 407-7818" is North
	// American, "06 96 12 73 03" French.
	switch {
	case paren && shapeIs(shape, 3, 3, 4) && d[0] != '0' && d[0] != '1':
		r, near = regionUS, true
	case d[0] == '0' && d[1] != '0' && shapeIs(shape, 2, 2, 2, 2, 2):
		r, near = regionFR, true
	}
	if early && r == regionNone {
		return false
	}
	multi := len(shape) > 1 || paren
	if !ctx && !multi {
		return false
	}
	if r == regionNone && !(ctx && multi) {
		r = sc.pageRegionOf(ps, e, d[0] == '0')
	}
	switch {
	case multi && (ctx || r != regionNone):
	case !multi && ctx && r != regionNone:
	case !multi && ctx && d[0] == '0' && len(d) >= 10:
	default:
		return false
	}
	if r != regionNone && !regionFits(r, d) && ctx && multi {
		// The region does not fit; a grouped number after a phone word
		// may still be another region's: 手機 0912-974-266 next to
		// 香港手提電話 on a page about Hong Kong and Taiwan.
		if !sc.phoneIn(d, fallbackRegions(d), true) {
			return false
		}
		sc.emit(Phone, ps, e, false, ctx, "phone-national")
		return true
	}
	if r != regionNone {
		if !regionFits(r, d) {
			return false
		}
		if _, ok := phoneValid(d, phoneRegions[r]); !ok {
			// A grouped number with a phone word or its region next to
			// it need only be possible: ranges are assigned faster than
			// libphonenumber follows.
			if !multi || !ctx && !near {
				return false
			}
			if _, ok := phonePossible(d, phoneRegions[r]); !ok {
				return false
			}
		}
	} else {
		if !sc.phoneIn(d, fallbackRegions(d), ctx && multi) {
			return false
		}
	}
	sc.emit(Phone, ps, e, false, ctx, "phone-national")
	return true
}

// fallbackRegions are the regions tried for a national number whose region
// no cue gives: those that use its trunk prefix, length or shape.
func fallbackRegions(d []byte) []uint8 {
	switch {
	case d[0] == '0':
		return phoneTryOrder[:]
	case len(d) == 8:
		return tryHK[:]
	case len(d) == 10:
		return tryUS[:]
	}
	return nil
}

// phoneIn reports whether national digits d are a valid number of one of
// the regions cands, or, when possible is set, a possible one.
func (sc *scanner) phoneIn(d []byte, cands []uint8, possible bool) bool {
	for _, c := range cands {
		if !regionFits(c, d) {
			continue
		}
		if _, ok := phoneValid(d, phoneRegions[c]); ok {
			return true
		}
	}
	if !possible {
		return false
	}
	for _, c := range cands {
		if !regionFits(c, d) {
			continue
		}
		if _, ok := phonePossible(d, phoneRegions[c]); ok {
			return true
		}
	}
	return false
}

// intlEarly runs before the mainland rules on digit runs: international
// numbers after '+' (other than +86), national numbers next to the name of
// their region (a UK "020 7946 0958" is not a Guangzhou landline), and DNI
// numbers whose letter is X.
func (sc *scanner) intlEarly(d []byte, shape []int, s, e int, digits bool) bool {
	if !digits {
		if len(d) == 9 && d[8] == 'X' && len(shape) == 1 && validDNI(d) {
			sc.emit(ESDNI, s, e, true, sc.context(ESDNI, s, e), "es-dni")
			return true
		}
		return false
	}
	if s > 0 && sc.p.text[s-1] == '+' || s > 1 && sc.p.text[s-1] == '(' && sc.p.text[s-2] == '+' {
		return sc.phonePlus(d, s, e)
	}
	if d[0] == '0' && len(d) >= 9 && len(d) <= 12 && sc.f.enabled[phoneIndex] && sc.runStart(s) && sc.runEnd(e) {
		return sc.phoneNational(d, shape, s, e, true)
	}
	return false
}

// runStart reports whether a digit run starts at s: the hooks read whole
// runs only, never the tail of a longer number ("6225 8820 0142 4125").
//
// A placeholder next to the run counts as more of it: "1234 [BANK_CARD]"
// was a longer run before redaction, and redacting again must not find
// what the first pass did not.
func (sc *scanner) runStart(s int) bool {
	t := sc.p.text
	k := s
	for k > 0 && s-k < 3 && isRunSep(t[k-1]) {
		k--
	}
	return k == 0 || !isDigit(t[k-1]) && !(k < s && t[k-1] == ']')
}

// runEnd reports whether no placeholder follows the run ending at e.
func (sc *scanner) runEnd(e int) bool {
	t := sc.p.text
	k := e
	for k < len(t) && k-e < 3 && isRunSep(t[k]) {
		k++
	}
	return !(k > e && k+1 < len(t) && t[k] == '[' && isUpper(t[k+1]))
}

// isRunSep reports whether c may separate the digit groups of one run.
func isRunSep(c byte) bool { return c == ' ' || c == '-' || c == '(' || c == ')' }

// intlLate runs after the mainland rules on digit runs.
func (sc *scanner) intlLate(d []byte, shape []int, s, e int, toEnd bool) bool {
	if L := len(d); L < 8 || L > 15 || !toEnd || !sc.runStart(s) || !sc.runEnd(e) {
		return false
	}
	multi := len(shape) > 1
	// shortCard is pure, and two rules below ask it about the same digits.
	var isShortCard bool
	var shortShapes [][]int
	if L := len(d); L >= 12 && L <= 15 {
		isShortCard, shortShapes = shortCard(d)
	}
	switch L := len(d); L {
	case 9:
		if validITIN(d) && (shapeIs(shape, 3, 2, 4) || !multi && sc.context(USITIN, s, e)) {
			sc.emit(USITIN, s, e, false, sc.context(USITIN, s, e), "us-itin")
			return true
		}
		if !multi && sc.context(USPassport, s, e) {
			sc.emit(USPassport, s, e, false, true, "us-passport-context")
			return true
		}
	case 11:
		if (!multi || shapeIs(shape, 9, 2)) && validCPF(d) && sc.context(BRCPF, s, e) {
			sc.emit(BRCPF, s, e, true, true, "br-cpf-context")
			return true
		}
		if !multi && validPESEL(d, sc.now) && sc.context(PLPESEL, s, e) {
			sc.emit(PLPESEL, s, e, true, true, "pl-pesel-context")
			return true
		}
	case 12:
		if isShortCard && sc.context(BankCard, s, e) {
			return sc.card(s, e, "card-luhn-short")
		}
		if validAadhaar(d) && (shapeIs(shape, 4, 4, 4) || !multi && sc.context(INAadhaar, s, e)) {
			sc.emit(INAadhaar, s, e, true, sc.context(INAadhaar, s, e), "in-aadhaar")
			return true
		}
	case 13:
		if shapeIs(shape, 6, 7) || !multi && sc.context(KRRRN, s, e) {
			if shape, check, old := krRRN(d, sc.now); shape {
				switch ctx := sc.context(KRRRN, s, e); {
				case check:
					sc.emit(KRRRN, s, e, true, ctx, "kr-rrn")
					return true
				case !old && ctx:
					sc.emit(KRRRN, s, e, false, true, "kr-rrn-context")
					return true
				}
			}
		}
	case 15:
		if (shapeIs(shape, 13, 2) || !multi && sc.context(FRNIR, s, e)) && validNIR(d) {
			sc.emit(FRNIR, s, e, true, sc.context(FRNIR, s, e), "fr-nir")
			return true
		}
	}
	if L := len(d); L >= 12 && L <= 15 && toEnd {
		if isShortCard {
			grouped := len(d) >= 13 && groupsOfFour(shape)
			for _, sh := range shortShapes {
				grouped = grouped || shapeIs(shape, sh...)
			}
			if grouped || sc.context(BankCard, s, e) {
				return sc.card(s, e, "card-luhn-short")
			}
		}
	}
	if L := len(d); L >= 8 && L <= 12 && sc.f.enabled[phoneIndex] {
		return sc.phoneNational(d, shape, s, e, false)
	}
	return false
}

// groupsOfFour reports whether a run is printed in groups of four with a
// shorter last group, the way card numbers of any length are often shown
// ("4496 3015 6226 6").
func groupsOfFour(shape []int) bool {
	if len(shape) < 3 {
		return false
	}
	for i, l := range shape {
		if i == len(shape)-1 {
			return l >= 1 && l <= 4
		}
		if l != 4 {
			return false
		}
	}
	return false
}

// card emits a bank card unless a word naming a non-personal number (订单号,
// order no) comes right before it: order numbers pass Luhn one time in ten.
func (sc *scanner) card(s, e int, rule string) bool {
	if !sc.negative(BankCard, s) {
		sc.emit(BankCard, s, e, true, sc.context(BankCard, s, e), rule)
	}
	return true
}

// intlRun handles digit runs as a whole, before they are split: a NIR
// printed in seven groups, a DNI with "-Z". It returns where scanning
// resumes.
func (sc *scanner) intlRun(gs []group) (int, bool) {
	t := sc.p.text
	end := gs[len(gs)-1].e
	if s := gs[0].s; len(gs) > 5 && (s > 0 && t[s-1] == '+' || s > 1 && t[s-1] == '(' && t[s-2] == '+') {
		// "+33 6 12 34 56 78": more groups than classify joins.
		var buf [24]byte
		d := buf[:0]
		for _, g := range gs {
			d = append(d, t[g.s:g.e]...)
		}
		if len(d) <= 15 && sc.phonePlus(d, s, end) {
			return end, true
		}
	}
	if e, ok := sc.corsicanNIR(gs); ok {
		return e, true
	}
	switch {
	case len(gs) == 7:
		var buf [16]byte
		d := buf[:0]
		for _, g := range gs {
			d = append(d, t[g.s:g.e]...)
		}
		if len(d) == 15 && gs[0].e-gs[0].s == 1 && validNIR(d) {
			sc.emit(FRNIR, gs[0].s, end, true, sc.context(FRNIR, gs[0].s, end), "fr-nir")
			return end, true
		}
	case len(gs) == 1 && end-gs[0].s == 8 && end+2 < len(t) && t[end] == '-' && isUpper(t[end+1]) && (end+2 >= len(t) || !isAlnum(t[end+2])):
		var buf [9]byte
		d := append(append(buf[:0], t[gs[0].s:end]...), t[end+1])
		if validDNI(d) {
			sc.emit(ESDNI, gs[0].s, end+2, true, sc.context(ESDNI, gs[0].s, end+2), "es-dni")
			return end + 2, true
		}
	}
	return 0, false
}

// corsicanNIR handles a NIR of a Corsican department printed in groups,
// "1 84 05 2A 123 456 82": the digit run stops at the 'A' or 'B'.
func (sc *scanner) corsicanNIR(gs []group) (int, bool) {
	t := sc.p.text
	if len(gs) != 3 || gs[0].e-gs[0].s != 1 || gs[1].e-gs[1].s != 2 || gs[2].e-gs[2].s != 2 {
		return 0, false
	}
	k := gs[2].e // the run stopped before "2A", a digit and a letter
	if k+3 > len(t) || t[k] != ' ' || t[k+1] != '2' || t[k+2] != 'A' && t[k+2] != 'B' {
		return 0, false
	}
	var buf [15]byte
	d := buf[:0]
	for _, g := range gs {
		d = append(d, t[g.s:g.e]...)
	}
	d = append(d, '2', t[k+2])
	k += 3
	for _, n := range [...]int{3, 3, 2} {
		if k+1+n > len(t) || t[k] != ' ' {
			return 0, false
		}
		k++
		for range n {
			if !isDigit(t[k]) {
				return 0, false
			}
			d = append(d, t[k])
			k++
		}
	}
	if k < len(t) && isAlnum(t[k]) || !validNIR(d) {
		return 0, false
	}
	s := gs[0].s
	sc.emit(FRNIR, s, k, true, sc.context(FRNIR, s, k), "fr-nir")
	return k, true
}

// cpf handles "000.000.000-00" at t[i], reached through the dotted path.
func (sc *scanner) cpf(i int) (int, bool) {
	t := sc.p.text
	if i+14 > len(t) || t[i+3] != '.' || t[i+7] != '.' || t[i+11] != '-' || i+14 < len(t) && isAlnum(t[i+14]) {
		return 0, false
	}
	var buf [11]byte
	d := buf[:0]
	for k := i; k < i+14; k++ {
		if k == i+3 || k == i+7 || k == i+11 {
			continue
		}
		if !isDigit(t[k]) {
			return 0, false
		}
		d = append(d, t[k])
	}
	if !validCPF(d) {
		return 0, false
	}
	sc.emit(BRCPF, i, i+14, true, sc.context(BRCPF, i, i+14), "br-cpf")
	return i + 14, true
}

// mac handles a MAC address starting at t[i], if there is one.
func (sc *scanner) mac(i int) (int, bool) {
	t := sc.p.text
	if i > 0 && isAlnum(t[i-1]) || i > 1 && (t[i-1] == ':' || t[i-1] == '-' || t[i-1] == '.') && isHex(t[i-2]) {
		return 0, false // inside a longer sequence
	}
	n := macLen(t[i:])
	if n == 0 {
		return 0, false
	}
	if e := i + n; e < len(t) && (isAlnum(t[e]) || (t[e] == ':' || t[e] == '-' || t[e] == '.') && e+1 < len(t) && isHex(t[e+1])) {
		return 0, false
	}
	sc.emit(MACAddress, i, i+n, false, sc.context(MACAddress, i, i+n), "mac")
	return i + n, true
}

// macAt is the cheap test before mac: separators where a MAC has them.
func macAt(t []byte, i int) bool {
	return i+14 <= len(t) && (t[i+2] == ':' || t[i+2] == '-' || t[i+4] == '.')
}

// cnPlate handles a mainland plate whose authority letter is t[i], right
// after a province abbreviation.
func (sc *scanner) cnPlate(i int) (int, bool) {
	t := sc.p.text
	if i < 3 || cnPlateProvince(t[i-3:]) == 0 {
		return 0, false
	}
	var buf [8]byte
	d := append(buf[:0], t[i])
	k := i + 1
	switch {
	case k+1 < len(t) && t[k] == 0xC2 && t[k+1] == 0xB7: // '·'
		k += 2
	case k < len(t) && (t[k] == ' ' || t[k] == '-'):
		k++
	}
	for k < len(t) && isAlnum(t[k]) && len(d) < 8 {
		d = append(d, t[k])
		k++
	}
	if k < len(t) && isAlnum(t[k]) || !validCNPlate(d) {
		return 0, false
	}
	sc.emit(LicensePlate, i-3, k, false, sc.context(LicensePlate, i-3, k), "cn-plate")
	return k, true
}

// intlToken handles a token of letters and digits at t[i:end] that the
// mainland rules passed over: codice fiscale, VIN, DNI/NIE, US passport,
// and other regions' plates after a plate word.
func (sc *scanner) intlToken(i, end int) {
	t := sc.p.text
	tok := t[i:end]
	switch len(tok) {
	case 15:
		if validNIR(tok) && sc.context(FRNIR, i, end) {
			sc.emit(FRNIR, i, end, true, true, "fr-nir-context")
			return
		}
	case 16:
		if validFiscalCode(tok) {
			sc.emit(ITFiscalCode, i, end, true, sc.context(ITFiscalCode, i, end), "it-fiscal-code")
			return
		}
	case 17:
		if vinShape(tok) {
			ctx := sc.context(VIN, i, end)
			if validVINCheck(tok) {
				sc.emit(VIN, i, end, true, ctx, "vin")
			} else if ctx {
				sc.emit(VIN, i, end, false, true, "vin-context")
			}
			return
		}
	case 9:
		if validDNI(tok) {
			sc.emit(ESDNI, i, end, true, sc.context(ESDNI, i, end), "es-dni")
			return
		}
		if isUpper(tok[0]) && usPassportShape(tok) && sc.context(USPassport, i, end) {
			sc.emit(USPassport, i, end, false, true, "us-passport-context")
			return
		}
	}
	// Plates of other regions: only right after a plate word.
	if len(tok) > 8 {
		return
	}
	pe := end
	if pe+1 < len(t) && (t[pe] == ' ' || t[pe] == '-') && (isUpper(t[pe+1]) || isDigit(t[pe+1])) {
		if e2 := skipAlnum(t, pe+1); e2-i <= 9 {
			pe = e2
		}
	}
	var buf [16]byte
	d := buf[:0]
	for _, c := range t[i:pe] {
		if c != ' ' && c != '-' {
			d = append(d, c)
		}
	}
	if !plateShape(d) {
		if pe == end {
			return
		}
		pe, d = end, append(d[:0], tok...)
		if !plateShape(d) {
			return
		}
	}
	if sc.contextWin(LicensePlate, i, pe, 12, 0) {
		sc.emit(LicensePlate, i, pe, false, true, "plate-context")
	}
}

// dropPlaceholders removes the context-word hits that are the entity names
// of redaction placeholders ("[PHONE]", "[VIN:…]"): redacting twice must
// give what redacting once gave, so a placeholder must not act as context
// for the number after it.
func dropPlaceholders(t []byte, hits []hit) []hit {
	out := hits[:0]
	for _, h := range hits {
		if h.Start > 0 && t[h.Start-1] == '[' && int(h.End) < len(t) && (t[h.End] == ']' || t[h.End] == ':') {
			continue
		}
		out = append(out, h)
	}
	return out
}
