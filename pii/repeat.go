package pii

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// repeatBits is the size, in bits, of the hash of a value's first four
// bytes by which repeatNames looks values up.
const repeatBits = 12

// repeatState is repeatNames' scratch space, kept with the scanner.
type repeatState struct {
	// head[h] is 1 + the index in vals of the last value whose first four
	// bytes hash to h, or 0; vals[i].next chains to the one before.
	head [1 << repeatBits]int32
	vals []repeatValue
	hits []repeatHit
}

// repeatValue is one value repeatNames looks for.
type repeatValue struct {
	v    []byte
	k    int   // the span in sc.out that found it
	from int   // where the next occurrence may start
	next int32 // chain in repeatState.head
	pre  uint32
}

// repeatHit is an occurrence of vals[v] at page offset at.
type repeatHit struct {
	v  int32
	at int32
}

func repeatHash(x uint32) uint32 { return x * 0x9E3779B1 >> (32 - repeatBits) }

// repeatNames finds every other occurrence on the page of a value found
// once: a name labelled in data-member="Michael Novak" is the same
// person's in alt="Photo of Michael Novak" and <h3>Michael Novak</h3>, a
// plate found after 车牌 is the same plate where no word names it, and an
// ITIN standing alone is the same one inside a longer run of digits. What
// context or shape established once must not leak elsewhere for want of
// it: no value the scanner reports survives redaction.
//
// All values are looked for in one pass over the text, by the hash of
// the four bytes at each offset; occurrences of one value do not overlap,
// each found after the end of the one before, as a search value by value
// would find them.
func (sc *scanner) repeatNames() {
	t := sc.p.text
	if sc.rep == nil {
		sc.rep = new(repeatState)
	}
	rs := sc.rep
	vals := rs.vals[:0]
	n := len(sc.out)
	for k := 0; k < n; k++ {
		sp := sc.out[k]
		if sp.s < 0 || sp.score < sc.f.minScore || sp.end-sp.s < 6 {
			continue // "王" alone is too short to look for
		}
		v := t[sp.s:sp.end]
		pre := binary.LittleEndian.Uint32(v)
		h := repeatHash(pre)
		dup := false
		for j := rs.head[h]; j > 0; j = vals[j-1].next {
			if bytes.Equal(vals[j-1].v, v) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		vals = append(vals, repeatValue{v: v, k: k, next: rs.head[h], pre: pre})
		rs.head[h] = int32(len(vals))
	}
	hits := rs.hits[:0]
	if len(vals) > 0 {
		for i := 0; i+4 <= len(t); i++ {
			x := binary.LittleEndian.Uint32(t[i:])
			for j := rs.head[repeatHash(x)]; j > 0; {
				rv := &vals[j-1]
				if rv.pre == x && i >= rv.from && bytes.HasPrefix(t[i:], rv.v) {
					rv.from = i + len(rv.v)
					hits = append(hits, repeatHit{v: j - 1, at: int32(i)})
				}
				j = rv.next
			}
		}
	}
	// Report value by value, each in order of offset.
	slices.SortStableFunc(hits, func(a, b repeatHit) int { return int(a.v - b.v) })
	for _, hv := range hits {
		rv := &vals[hv.v]
		sp := sc.out[rv.k]
		at, end := int(hv.at), int(hv.at)+len(rv.v)
		if at == sp.s {
			continue
		}
		if at > 0 && isAlnum(t[at-1]) && isAlnum(rv.v[0]) || end < len(t) && isAlnum(t[end]) && isAlnum(rv.v[len(rv.v)-1]) {
			continue // inside a longer word or number
		}
		r := sp
		r.s, r.end, r.rule = at, end, "name-repeat"
		sc.out = append(sc.out, r)
	}
	for _, rv := range vals {
		rs.head[repeatHash(rv.pre)] = 0
	}
	rs.vals, rs.hits = vals[:0], hits[:0]
}
