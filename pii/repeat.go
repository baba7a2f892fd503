package pii

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math/bits"
	"slices"
)

// repeatState is repeatNames' scratch space, kept with the scanner.
type repeatState struct {
	// head[h] is 1 + the index in grams of the last gram hashing to h,
	// or 0; grams[i].next chains to the one before.
	head  []int32
	shift uint
	grams []repeatGram
	vals  []repeatValue
	hits  []repeatHit
}

// repeatValue is one value repeatNames looks for.
type repeatValue struct {
	v []byte
	k int // the span in sc.out that found it
}

// repeatGram is the four bytes of vals[val] at offset off.
type repeatGram struct {
	x    uint32
	val  int32
	off  int32
	next int32
}

// repeatHit is an occurrence of vals[v] at page offset at.
type repeatHit struct {
	v  int32
	at int32
}

// repeatStride is how far apart the offsets are at which repeatNames
// reads the text. A value is at least six bytes long, so any occurrence
// holds the four bytes at one of them, at its offset 0, 1 or 2.
const repeatStride = 3

// repeatMul is the multiplier of the grams' hash (Fibonacci hashing).
const repeatMul = 0x9E3779B1

func (rs *repeatState) hash(x uint32) uint32 { return x * repeatMul >> rs.shift }

// add chains the gram of vals[val] at offset off.
func (rs *repeatState) add(val, off int) {
	v := rs.vals[val].v
	x := binary.LittleEndian.Uint32(v[off:])
	h := rs.hash(x)
	rs.grams = append(rs.grams, repeatGram{x: x, val: int32(val), off: int32(off), next: rs.head[h]})
	rs.head[h] = int32(len(rs.grams))
}

// lookAt records the values whose grams, chained from slot j, occur at
// t[i:], x being the four bytes there.
func (rs *repeatState) lookAt(t []byte, i int, x uint32, j int32) {
	for j > 0 {
		g := &rs.grams[j-1]
		if at := i - int(g.off); g.x == x && at >= 0 && bytes.HasPrefix(t[at:], rs.vals[g.val].v) {
			rs.hits = append(rs.hits, repeatHit{v: g.val, at: int32(at)})
		}
		j = g.next
	}
}

// repeatNames finds every other occurrence on the page of a value found
// once: a name labelled in data-member="Michael Novak" is the same
// person's in alt="Photo of Michael Novak" and <h3>Michael Novak</h3>, a
// plate found after 车牌 is the same plate where no word names it, and an
// ITIN standing alone is the same one inside a longer run of digits. What
// context or shape established once must not leak elsewhere for want of
// it: no value the scanner reports survives redaction.
//
// All values are looked for in one pass over the text, by a hash of four
// bytes at every third offset. Occurrences of one value do not overlap:
// each counts from the end of the one before, as a search value by value
// finds them, and they are reported value by value, in order.
func (sc *scanner) repeatNames() {
	t := sc.p.text
	if sc.rep == nil {
		sc.rep = new(repeatState)
	}
	rs := sc.rep
	rs.vals, rs.grams, rs.hits = rs.vals[:0], rs.grams[:0], rs.hits[:0]
	n := len(sc.out)
	nv := 0
	for k := 0; k < n; k++ {
		sp := sc.out[k]
		if sp.s >= 0 && sp.score >= sc.f.minScore && sp.end-sp.s >= 6 {
			nv++
		}
	}
	if nv == 0 {
		return
	}
	// A table of at least sixteen slots per gram: most offsets find theirs
	// empty (at most 1 MiB of it).
	size := min(1<<18, max(1024, 1<<bits.Len(uint(16*repeatStride*nv))))
	if cap(rs.head) < size {
		rs.head = make([]int32, size)
	}
	rs.head = rs.head[:size]
	rs.shift = uint(32 - bits.Len(uint(size-1)))
	defer func() {
		for _, g := range rs.grams {
			rs.head[rs.hash(g.x)] = 0
		}
	}()
	for k := 0; k < n; k++ {
		sp := sc.out[k]
		if sp.s < 0 || sp.score < sc.f.minScore || sp.end-sp.s < 6 {
			continue // "王" alone is too short to look for
		}
		v := t[sp.s:sp.end]
		x := binary.LittleEndian.Uint32(v)
		dup := false
		for j := rs.head[rs.hash(x)]; j > 0; j = rs.grams[j-1].next {
			if g := rs.grams[j-1]; g.x == x && g.off == 0 && bytes.Equal(rs.vals[g.val].v, v) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		rs.vals = append(rs.vals, repeatValue{v: v, k: k})
		for off := range repeatStride {
			rs.add(len(rs.vals)-1, off)
		}
	}
	head, shift := rs.head, rs.shift // not reloaded as hits grow
	i := 0
	// Two offsets, i and i+3, from one eight-byte load.
	for ; i+8 <= len(t); i += 2 * repeatStride {
		w := binary.LittleEndian.Uint64(t[i:])
		x0, x1 := uint32(w), uint32(w>>(8*repeatStride))
		h0, h1 := head[x0*repeatMul>>shift], head[x1*repeatMul>>shift]
		if h0|h1 == 0 {
			continue
		}
		rs.lookAt(t, i, x0, h0)
		rs.lookAt(t, i+repeatStride, x1, h1)
	}
	for ; i+4 <= len(t); i += repeatStride {
		x := binary.LittleEndian.Uint32(t[i:])
		rs.lookAt(t, i, x, head[x*repeatMul>>shift])
	}
	slices.SortFunc(rs.hits, func(a, b repeatHit) int {
		return cmp.Or(cmp.Compare(a.v, b.v), cmp.Compare(a.at, b.at))
	})
	from, last := 0, int32(-1)
	for _, hv := range rs.hits {
		rv := rs.vals[hv.v]
		if hv.v != last {
			from, last = 0, hv.v
		}
		at, end := int(hv.at), int(hv.at)+len(rv.v)
		if at < from {
			continue // overlaps the occurrence before, or found twice
		}
		from = end
		sp := sc.out[rv.k]
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
}
