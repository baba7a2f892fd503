package pii

// automaton is an Aho-Corasick automaton compiled to a DFA over byte
// classes, matching ASCII case-insensitively. It is immutable after build.
type automaton struct {
	class    [256]uint8
	nclass   int
	delta    []int32 // state*nclass + class -> next state
	outStart []int32 // state -> first index into outs
	outs     []int32 // pattern ids, grouped by state
	patLen   []int32
	ascii    []bool // pattern is pure ASCII: match only at word boundaries
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// buildAutomaton compiles patterns (already lower-case) into an automaton;
// the id of a pattern is its index.
func buildAutomaton(patterns []string) *automaton {
	a := &automaton{}
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

// hit is one match of a pattern ending at end (exclusive) in the text.
type hit struct {
	start, end int32
	pat        int32
}

// isASCIIWord reports whether c continues an ASCII word. The underscore
// counts, so that placeholders such as "[US_SSN]" are not context words.
func isASCIIWord(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z' || c == '_'
}

// scan appends every match in t to hits. ASCII patterns match only where
// they are not part of a longer ASCII word.
//
// The transition table holds next states premultiplied by the number of
// classes, negated when the state has output, so the inner loop does one
// load per byte.
func (a *automaton) scan(t []byte, hits []hit) []hit {
	s := int32(0)
	delta := a.delta
	class := &a.class
	for i := 0; i < len(t); i++ {
		s = delta[s+int32(class[t[i]])]
		if s < 0 {
			s = -s
			hits = a.emit(t, i, s, hits)
		}
	}
	return hits
}

func (a *automaton) emit(t []byte, i int, s int32, hits []hit) []hit {
	st := s / int32(a.nclass)
	for o, oe := a.outStart[st], a.outStart[st+1]; o < oe; o++ {
		id := a.outs[o]
		start := int32(i+1) - a.patLen[id]
		if a.ascii[id] {
			if start > 0 && isASCIIWord(t[start-1]) || i+1 < len(t) && isASCIIWord(t[i+1]) {
				continue
			}
		}
		hits = append(hits, hit{start: start, end: int32(i + 1), pat: id})
	}
	return hits
}
