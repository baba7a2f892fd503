package pii

import (
	"bytes"
	"sort"
)

// dottedMobile handles a mainland mobile number written with dots,
// "138.0013.8000" or "138.001.38000", at t[i:k] (two dots).
func (sc *scanner) dottedMobile(i, k int) {
	t := sc.p.text
	if k-i != 13 || t[i] != '1' {
		return
	}
	var buf [11]byte
	d := buf[:0]
	var shape [3]int
	g := 0
	for j := i; j < k; j++ {
		if t[j] == '.' {
			g++
			continue
		}
		d = append(d, t[j])
		shape[g]++
	}
	if len(d) != 11 || shape[0] != 3 || !(shape[1] == 4 && shape[2] == 4 || shape[1] == 3 && shape[2] == 5) {
		return
	}
	if validMobile(d) {
		sc.emit(CNMobile, i, k, false, sc.context(CNMobile, i, k), "cn-mobile-dotted")
	}
}

// accessLog reports whether the IPv4 address at t[i:k] opens a line of an
// access log in the Common Log Format: "203.0.113.9 - - [10/Oct/2023:…"
// or "203.0.113.9 - frank [10/Oct/2023:…". (Text normalisation folds line
// breaks into spaces, so the line start is not checked.)
func (sc *scanner) accessLog(i, k int) bool {
	t := sc.p.text
	if i > 0 && isAlnum(t[i-1]) {
		return false
	}
	r := t[k:]
	if !bytes.HasPrefix(r, []byte(" - ")) {
		return false
	}
	r = r[3:]
	j := 0
	for j < len(r) && j < 64 && r[j] != ' ' && r[j] != '\n' {
		j++
	}
	return j > 0 && len(r) > j+2 && r[j] == ' ' && r[j+1] == '[' && isDigit(r[j+2])
}

// versionBefore reports whether the lexicon word nearest before t[i],
// within 12 runes, names a version rather than an address: in "Client
// app 3.2.35.132" and "client version 10.0.19045.3803" the version word
// right before wins over the address word before it.
func (sc *scanner) versionBefore(i int) bool {
	ws := int32(runeBack(sc.p.text, i, 12))
	ip := bit(IPAddress)
	version := false
	for k := sort.Search(len(sc.hits), func(k int) bool { return sc.hits[k].End > ws }); k < len(sc.hits) && sc.hits[k].End <= int32(i); k++ {
		switch le := lex.entries[sc.hits[k].Pattern]; {
		case le.name == versionWord:
			version = true
		case le.ctx&ip != 0:
			version = false
		}
	}
	return version
}
