// Package ahocorasick finds many byte strings in a text in one pass: an
// Aho-Corasick automaton compiled to a DFA over byte classes, matching ASCII
// case-insensitively. The personal-data filter finds its context words with
// it, and the crawler the markers of challenge pages.
package ahocorasick

import (
	"cmp"
	"slices"
)

// Matcher is an Aho-Corasick automaton compiled to a DFA over byte classes,
// matching ASCII case-insensitively. It is immutable, and safe for
// concurrent use.
type Matcher struct {
	class    [256]uint8
	nclass   int
	delta    []int32 // state*nclass + class -> next state
	outStart []int32 // state -> first index into outs
	outs     []int32 // pattern ids, grouped by state
	patLen   []int32
	maxLen   int       // the longest pattern's length
	ascii    []bool    // pattern is pure ASCII: FindWords matches it only at word boundaries
	rootSkip [256]bool // the byte starts no pattern: from the root it leads back to the root
}

// New compiles patterns, which must be in lower case, into a Matcher. A
// pattern's id is its index in patterns.
func New(patterns []string) *Matcher {
	a := &Matcher{}
	// Byte classes: every byte used by a pattern gets its own class.
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			c := p[i]
			if a.class[c] == 0 {
				a.nclass++
				a.class[c] = uint8(a.nclass)
			}
		}
	}
	a.nclass++ // class 0: bytes in no pattern
	for c := 'A'; c <= 'Z'; c++ {
		a.class[c] = a.class[c+'a'-'A']
	}
	// Trie.
	type node struct {
		next map[uint8]int32
		out  []int32
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for id, p := range patterns {
		s := int32(0)
		for i := 0; i < len(p); i++ {
			cl := a.class[p[i]]
			nx, ok := nodes[s].next[cl]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				nodes[s].next[cl] = nx
			}
			s = nx
		}
		nodes[s].out = append(nodes[s].out, int32(id))
		a.patLen = append(a.patLen, int32(len(p)))
		a.maxLen = max(a.maxLen, len(p))
		ascii := true
		for i := 0; i < len(p); i++ {
			if p[i] >= 0x80 {
				ascii = false
			}
		}
		a.ascii = append(a.ascii, ascii)
	}
	// Breadth-first: failure links folded into a full transition table.
	nc := a.nclass
	a.delta = make([]int32, len(nodes)*nc)
	fail := make([]int32, len(nodes))
	queue := []int32{}
	for cl := range nc {
		if nx, ok := nodes[0].next[uint8(cl)]; ok {
			a.delta[cl] = nx
			queue = append(queue, nx)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		nodes[s].out = append(nodes[s].out, nodes[fail[s]].out...)
		for cl := range nc {
			if nx, ok := nodes[s].next[uint8(cl)]; ok {
				fail[nx] = a.delta[int(fail[s])*nc+cl]
				a.delta[int(s)*nc+cl] = nx
				queue = append(queue, nx)
			} else {
				a.delta[int(s)*nc+cl] = a.delta[int(fail[s])*nc+cl]
			}
		}
	}
	a.outStart = make([]int32, len(nodes)+1)
	for s := range nodes {
		a.outStart[s] = int32(len(a.outs))
		a.outs = append(a.outs, nodes[s].out...)
	}
	a.outStart[len(nodes)] = int32(len(a.outs))
	for c := range 256 {
		a.rootSkip[c] = a.delta[a.class[c]] == 0
	}
	// Premultiply and mark states with output.
	for i, nx := range a.delta {
		v := nx * int32(nc)
		if len(nodes[nx].out) > 0 {
			v = -v
		}
		a.delta[i] = v
	}
	return a
}

// Match is one match of pattern Pattern at t[Start:End].
type Match struct {
	Start, End int32
	Pattern    int32
}

// isASCIIWord reports whether c continues an ASCII word. The underscore
// counts, so that placeholders such as "[US_SSN]" are not context words.
func isASCIIWord(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z' || c == '_'
}

// FindWords appends every match in t to dst, in order of their ends. ASCII
// patterns match only where they are not part of a longer ASCII word;
// patterns with other bytes (CJK words) match anywhere.
func (a *Matcher) FindWords(t []byte, dst []Match) []Match {
	return a.scan(t, dst, true, false)
}

// Find appends every match in t to dst, in order of their ends, wherever
// it is.
func (a *Matcher) Find(t []byte, dst []Match) []Match {
	return a.scan(t, dst, false, false)
}

// First returns the first match in t to end, wherever it is.
func (a *Matcher) First(t []byte) (Match, bool) {
	var one [1]Match
	m := a.scan(t, one[:0], false, true)
	if len(m) == 0 {
		return Match{}, false
	}
	return m[0], true
}

// scan is the matching loop. The transition table holds next states
// premultiplied by the number of classes, negated when the state has
// output, so the inner loop does one load per byte.
func (a *Matcher) scan(t []byte, dst []Match, words, first bool) []Match {
	if !first && len(t) >= splitMin && len(t)/4 > a.maxLen {
		return a.scanSplit(t, dst, words)
	}
	return a.scanOne(t, dst, words, first)
}

// scanOne is scan in one walk.
func (a *Matcher) scanOne(t []byte, dst []Match, words, first bool) []Match {
	s := int32(0)
	delta := a.delta
	class := &a.class
	skip := &a.rootSkip
	for i := 0; i < len(t); i++ {
		if s == 0 {
			// At the root, bytes that start no pattern leave it there:
			// skip them without the dependent table load.
			for i < len(t) && skip[t[i]] {
				i++
			}
			if i == len(t) {
				break
			}
		}
		s = delta[s+int32(class[t[i]])]
		if s < 0 {
			s = -s
			n := len(dst)
			dst = a.emit(t, i, s, dst, words)
			if first && len(dst) > n {
				return dst[:n+1]
			}
		}
	}
	return dst
}

// splitMin is the shortest text scanSplit walks in four parts.
const splitMin = 1024

// scanSplit is scan for all matches in four walks at once, one over each
// quarter of t, which a processor runs side by side: a single walk is
// bound by the latency of its chain of dependent table loads. Each walk
// but the first starts early enough (the longest pattern's length less
// one byte) to see every match that ends in its quarter, and reports only
// those; the matches are then put in order of their ends, as scan gives
// them.
func (a *Matcher) scanSplit(t []byte, dst []Match, words bool) []Match {
	n0 := len(dst)
	q := len(t) / 4
	back := a.maxLen - 1
	delta := a.delta
	class := &a.class
	var s [4]int32
	j1, j2, j3 := q-back, 2*q-back, 3*q-back
	s0, s1, s2, s3 := int32(0), int32(0), int32(0), int32(0)
	for i := 0; i < q; i, j1, j2, j3 = i+1, j1+1, j2+1, j3+1 {
		s0 = delta[s0+int32(class[t[i]])]
		s1 = delta[s1+int32(class[t[j1]])]
		s2 = delta[s2+int32(class[t[j2]])]
		s3 = delta[s3+int32(class[t[j3]])]
		if s0|s1|s2|s3 >= 0 {
			continue
		}
		if s0 < 0 {
			s0 = -s0
			dst = a.emit(t, i, s0, dst, words)
		}
		if s1 < 0 {
			s1 = -s1
			if j1 >= q {
				dst = a.emit(t, j1, s1, dst, words)
			}
		}
		if s2 < 0 {
			s2 = -s2
			if j2 >= 2*q {
				dst = a.emit(t, j2, s2, dst, words)
			}
		}
		if s3 < 0 {
			s3 = -s3
			if j3 >= 3*q {
				dst = a.emit(t, j3, s3, dst, words)
			}
		}
	}
	// The last back bytes of each quarter after the first, one walk at a
	// time, the last quarter to the end.
	s[1], s[2], s[3] = s1, s2, s3
	ends := [4]int{1: 2 * q, 2: 3 * q, 3: len(t)}
	starts := [4]int{1: j1, 2: j2, 3: j3}
	for w := 1; w < 4; w++ {
		st := s[w]
		for j := starts[w]; j < ends[w]; j++ {
			st = delta[st+int32(class[t[j]])]
			if st < 0 {
				st = -st
				if j >= w*q {
					dst = a.emit(t, j, st, dst, words)
				}
			}
		}
	}
	// Each walk's matches are in order, and all end before the next
	// walk's; between them, they are interleaved.
	sortByEnd(dst[n0:])
	return dst
}

// sortByEnd sorts m by End, keeping the order of matches with equal ends.
func sortByEnd(m []Match) {
	if len(m) > 64 {
		slices.SortStableFunc(m, func(x, y Match) int { return cmp.Compare(x.End, y.End) })
		return
	}
	for i := 1; i < len(m); i++ {
		x := m[i]
		j := i
		for j > 0 && m[j-1].End > x.End {
			m[j] = m[j-1]
			j--
		}
		m[j] = x
	}
}

func (a *Matcher) emit(t []byte, i int, s int32, dst []Match, words bool) []Match {
	st := s / int32(a.nclass)
	for o, oe := a.outStart[st], a.outStart[st+1]; o < oe; o++ {
		id := a.outs[o]
		start := int32(i+1) - a.patLen[id]
		if words && a.ascii[id] {
			if start > 0 && isASCIIWord(t[start-1]) || i+1 < len(t) && isASCIIWord(t[i+1]) {
				continue
			}
		}
		dst = append(dst, Match{Start: start, End: int32(i + 1), Pattern: id})
	}
	return dst
}
