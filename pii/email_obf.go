package pii

import "bytes"

// Obfuscated e-mail addresses, written so that harvesters miss them:
//
//	name[at]example.com  name (at) example.com  name{at}example.com
//	name(at)qq(dot)com   name [at] gmail [dot] com
//	name AT 163 DOT com  name at gmail dot com
//	name@163点com        name＠163.com (NFKC folds ＠)
//	name#163.com（#换成@） name#qq.com (把#改成@)

// obfuscatedEmail handles "[at]", "(at)" and "{at}" at the bracket t[i].
func (sc *scanner) obfuscatedEmail(i int) {
	t := sc.p.text
	if i+4 > len(t) || t[i+1]|0x20 != 'a' || t[i+2]|0x20 != 't' {
		return
	}
	if close := t[i+3]; !(t[i] == '[' && close == ']' || t[i] == '(' && close == ')' || t[i] == '{' && close == '}') {
		return
	}
	ls := i
	if ls > 0 && t[ls-1] == ' ' {
		ls--
	}
	ds := i + 4
	if ds < len(t) && t[ds] == ' ' {
		ds++
	}
	if !sc.emailAt(ls, ds, "email-obfuscated") {
		sc.emailObfAt(ls, ds, false, "email-obfuscated")
	}
}

// dotWord returns the end of a written-out dot at t[k] ("(dot)", "[dot]",
// "{dot}", " dot ", " DOT ", "点", optionally spaced), or k.
func dotWord(t []byte, k int) int {
	n := len(t)
	m := k
	if m < n && t[m] == ' ' {
		m++
	}
	if m+3 <= n && string(t[m:m+3]) == "点" {
		m += 3
		if m < n && t[m] == ' ' {
			m++
		}
		return m
	}
	open := byte(0)
	if m < n && (t[m] == '(' || t[m] == '[' || t[m] == '{') {
		open = t[m]
		m++
	}
	if m+3 > n || t[m]|0x20 != 'd' || t[m+1]|0x20 != 'o' || t[m+2]|0x20 != 't' {
		return k
	}
	m += 3
	switch open {
	case 0:
		// " dot " needs spaces on both sides.
		if m == k+3 || m >= n || t[m] != ' ' {
			return k
		}
		return m + 1
	case '(':
		open = ')'
	case '[':
		open = ']'
	case '{':
		open = '}'
	}
	if m >= n || t[m] != open {
		return k
	}
	m++
	if m < n && t[m] == ' ' {
		m++
	}
	return m
}

func isLabelChar(c byte) bool {
	return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'z' || c == '-'
}

// obfDomain reads a domain at t[ds] whose dots may be written out. It
// returns its end and whether any dot was written out.
func obfDomain(t []byte, ds int) (end int, spelt, ok bool) {
	k := ds
	labels := 0
	var ls, le int
	for labels < 10 {
		s := k
		for k < len(t) && k-s < 63 && isLabelChar(t[k]) {
			k++
		}
		if k == s || t[s] == '-' || t[k-1] == '-' {
			return 0, false, false
		}
		ls, le = s, k
		labels++
		if k+1 < len(t) && t[k] == '.' && isLabelChar(t[k+1]) {
			k++
			continue
		}
		if m := dotWord(t, k); m > k && m < len(t) && isLabelChar(t[m]) {
			spelt = true
			k = m
			continue
		}
		break
	}
	if labels < 2 || le < len(t) && isAlnum(t[le]) {
		return 0, false, false
	}
	tld := t[ls:le]
	if len(tld) < 2 || len(tld) > 24 {
		return 0, false, false
	}
	for _, c := range tld {
		if c|0x20 < 'a' || c|0x20 > 'z' {
			return 0, false, false
		}
	}
	var lb [24]byte // len(tld) <= 24
	if notTLD[string(lowerInto(lb[:], tld))] {
		return 0, false, false
	}
	return le, spelt, true
}

// emailObfAt reads an address whose local part ends at t[i] and whose
// domain, with written-out dots, starts at t[ds]. With needSpelt, a domain
// with plain dots only is not enough.
func (sc *scanner) emailObfAt(i, ds int, needSpelt bool, rule string) bool {
	t := sc.p.text
	s, ok := localPart(t, i)
	if !ok {
		return false
	}
	e, spelt, ok := obfDomain(t, ds)
	if !ok || needSpelt && !spelt {
		return false
	}
	if !spelt && rule == "email-obfuscated" && ds > 0 && t[ds-1] == '@' {
		return false // a plain address emailAt has already judged
	}
	sc.emit(Email, s, e, false, sc.context(Email, s, e), rule)
	return true
}

// spelledEmails handles a spelt-out " at " and the "#换成@" hint.
func (sc *scanner) spelledEmails() {
	t := sc.p.text
	// " at ": upper case found by the candidate scanner, lower case here.
	for _, p := range sc.ats {
		sc.spelledAt(int(p))
	}
	for from := 0; ; {
		j := bytes.Index(t[from:], []byte(" at "))
		if j < 0 {
			break
		}
		sc.spelledAt(from + j + 1)
		from += j + 3
	}
	for _, h := range sc.hits {
		switch lex.entries[h.Pattern].name {
		case obfHash:
			// name#163.com(#换成@) / name#qq.com (把#改成@)
			p := int(h.Start)
			if p > 0 && t[p-1] == '#' {
				p--
			}
			for _, w := range []string{"把", "将"} {
				if p >= len(w) && string(t[p-len(w):p]) == w {
					p -= len(w)
				}
			}
			if p > 0 && t[p-1] == '(' {
				p--
			} else {
				continue
			}
			if p > 0 && t[p-1] == ' ' {
				p--
			}
			hash := p
			for hash > 0 && p-hash < 255 && isDomain(t[hash-1]) {
				hash--
			}
			if hash == 0 || t[hash-1] != '#' {
				continue
			}
			sc.emailAt(hash-1, hash, "email-hash")
		}
	}
}

// spelledAt handles the spelt-out "at" or "AT" at t[s:s+2], between spaces.
func (sc *scanner) spelledAt(s int) {
	t := sc.p.text
	e := s + 2
	if s < 2 || e+1 >= len(t) || !isLocal(t[s-2]) {
		return
	}
	if e+5 < len(t) && t[e+1]|0x20 == 'w' && t[e+2]|0x20 == 'w' && t[e+3]|0x20 == 'w' && t[e+4] == '.' {
		return // "find us at www.example.com"
	}
	// A lower-case " at " before a plain domain is English ("look at
	// example.com"): then the local part must look like one (digits, dots,
	// underscores) or an e-mail word be near.
	_, spelt, ok := obfDomain(t, e+1)
	if !ok {
		return // "at the top": most spelt-out ats end here
	}
	strict := t[s] == 'a' && !spelt
	if strict {
		ls := s - 1
		for ls > 0 && s-1-ls < 64 && isLocal(t[ls-1]) {
			ls--
		}
		if bytes.ContainsAny(t[ls:s-1], "0123456789._") || sc.context(Email, ls, e+1) {
			strict = false
		}
	}
	sc.emailObfAt(s-1, e+1, strict, "email-obfuscated")
}
