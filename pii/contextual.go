package pii

import "bytes"

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
	ctx := sc.context(CNMobile, i, k)
	if validMobile(d) || ctx && d[1] >= '3' {
		// A range libphonenumber does not list yet is a mobile still when
		// the context says phone, as for undotted numbers.
		sc.emit(CNMobile, i, k, false, ctx, "cn-mobile-dotted")
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

var (
	versionWords   = wordSet("version ver build release firmware kernel sdk app")
	addressWords   = wordSet("ip ipv4 ipv6 client host remote addr address src from server peer")
	cnVersionWords = []string{"版本", "版本号", "固件", "内核"}
)

// versionBefore reports whether one of the two words right before t[i]
// names a version rather than an address: in "Client app 3.2.35.132",
// "client version 10.0.19045.3803" and "kernel headers (2.6.36.4)" the
// version word wins over the address word before it. (Version words are
// not lexicon words: "ver" and "app" inside words would cost every scan.)
func (sc *scanner) versionBefore(i int) bool {
	t := sc.p.text
	k := i
	var buf [16]byte
	for w := 0; w < 2; w++ {
		for n := 0; k > 0 && n < 3 && (t[k-1] == ' ' || t[k-1] == ':' || t[k-1] == '(' || t[k-1] == '=' || t[k-1] == '"'); n++ {
			k--
		}
		if k > 0 && t[k-1] >= 0x80 {
			return endsWithAny(t[:k], cnVersionWords)
		}
		s := k
		for s > 0 && k-s < 16 && isAlnum(t[s-1]) {
			s--
		}
		if s == k {
			return false
		}
		lw := string(lowerInto(buf[:], t[s:k]))
		switch {
		case versionWords[lw]:
			return true
		case addressWords[lw]:
			return false
		}
		k = s
	}
	return false
}
