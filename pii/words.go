package pii

import (
	"bytes"
	"math/rand/v2"
)

// wordTable maps short ASCII words, case-insensitively, to small values:
// the tag and attribute names the lexer looks up for every tag. A word of
// up to eight bytes packs into a uint64, which a perfect hash, found when
// the table is built, maps to its slot. A table is immutable once built.
type wordTable struct {
	keys [wordSlots]uint64
	vals [wordSlots]uint8
	mul  uint64
}

const (
	wordBits  = 7
	wordSlots = 1 << wordBits
)

// wordLower lower-cases ASCII letters; NUL becomes 0x80, so that no key
// ends in a byte that padding could stand for.
var wordLower = func() (t [256]byte) {
	for c := range t {
		t[c] = byte(c)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c + 'a' - 'A')
	}
	t[0] = 0x80
	return t
}()

// wordKey packs b, lower-cased, into a uint64, or returns 0 if b is empty
// or longer than eight bytes.
func wordKey(b []byte) uint64 {
	if len(b) == 0 || len(b) > 8 {
		return 0
	}
	var k uint64
	for i, c := range b {
		k |= uint64(wordLower[c]) << (8 * i)
	}
	return k
}

// newWordTable builds the table of words (lower-case, one to eight bytes,
// at most wordSlots/2 of them) and their values.
func newWordTable(words map[string]uint8) *wordTable {
	if len(words) > wordSlots/2 {
		panic("pii: too many words for a wordTable")
	}
	r := rand.New(rand.NewPCG(1, 2)) // fixed: the same table every run
	for {
		w := &wordTable{mul: r.Uint64() | 1}
		ok := true
		for s, v := range words {
			k := wordKey([]byte(s))
			if k == 0 {
				panic("pii: word " + s + " does not fit a wordTable")
			}
			h := w.slot(k)
			if w.keys[h] != 0 {
				ok = false
				break
			}
			w.keys[h], w.vals[h] = k, v
		}
		if ok {
			return w
		}
	}
}

func (w *wordTable) slot(k uint64) uint64 { return k * w.mul >> (64 - wordBits) }

// lookup returns the value of the word b, case-insensitively, and
// reports whether it is in the table.
func (w *wordTable) lookup(b []byte) (uint8, bool) {
	k := wordKey(b)
	if k == 0 {
		return 0, false
	}
	h := w.slot(k)
	if w.keys[h] != k {
		return 0, false
	}
	return w.vals[h], true
}

// indexRune3 returns the offset of the first occurrence of m, the UTF-8
// form of a three-byte rune, in t, or -1. It looks for m's last byte,
// which in Chinese text is much rarer than its first: every ideograph
// from U+5000 to U+5FFF starts with the byte 号 (U+53F7) starts with.
func indexRune3(t []byte, m []byte) int {
	last := m[2]
	for k := 2; k < len(t); {
		j := bytes.IndexByte(t[k:], last)
		if j < 0 {
			return -1
		}
		k += j
		if t[k-2] == m[0] && t[k-1] == m[1] {
			return k - 2
		}
		k++
	}
	return -1
}
