package pii

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestEntityIndex(t *testing.T) {
	for i, e := range allEntities {
		if got := entityIndex(e); got != i {
			t.Errorf("entityIndex(%s) = %d, want %d", e, got, i)
		}
	}
	if got := entityIndex("NOT_AN_ENTITY"); got != -1 {
		t.Errorf("entityIndex of an unknown entity = %d, want -1", got)
	}
}

func TestWordTable(t *testing.T) {
	w := newWordTable(map[string]uint8{"a": 1, "span": 2, "strong": 3, "tabindex": 4})
	for _, c := range []struct {
		in   string
		want uint8
		ok   bool
	}{
		{"a", 1, true}, {"A", 1, true}, {"SPAN", 2, true}, {"Strong", 3, true}, {"tabIndex", 4, true},
		{"", 0, false}, {"b", 0, false}, {"spa", 0, false}, {"spans", 0, false}, {"a\x00", 0, false},
		{"\x00", 0, false}, {"tabindexx", 0, false}, {"ſpan", 0, false}, {"spa\xc5", 0, false},
	} {
		if v, ok := w.lookup([]byte(c.in)); v != c.want || ok != c.ok {
			t.Errorf("lookup(%q) = %d, %v; want %d, %v", c.in, v, ok, c.want, c.ok)
		}
	}
}

func TestIndexHelpers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pieces := []string{" ", "a", "t", " at ", "at", "号", "號", "路", "\x01", "\x00", "x", "中", "\xb7", "\xe5\x8f", "<", "\""}
	for range 5000 {
		var b []byte
		for n := r.IntN(40); n > 0; n-- {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		for _, c := range []byte{'<', '"', 0xb7} {
			if got, want := indexByteNear(b, c), bytes.IndexByte(b, c); got != want {
				t.Fatalf("indexByteNear(%q, %q) = %d, want %d", b, c, got, want)
			}
		}
		for _, m := range []string{"号", "號"} {
			if got, want := indexRune3(b, []byte(m)), bytes.Index(b, []byte(m)); got != want {
				t.Fatalf("indexRune3(%q, %q) = %d, want %d", b, m, got, want)
			}
		}
	}
}

// inertByByte is inert as first written, one byte at a time: the
// reference for the eight-byte steps.
func inertByByte(v []byte) bool {
	group, colons, at := 0, 0, false
	for i, c := range v {
		k := inertTab[c]
		if k&1 != 0 {
			return false
		}
		group = (group + int(k>>1&1)) * int(k>>2&1)
		colons += int(k >> 3 & 1)
		if group > 4 {
			return false
		}
		if k&16 != 0 && i+2 < len(v) && v[i+1] == 'a' && v[i+2] == 't' {
			at = true
		}
	}
	return colons < 5 && !at
}

func TestInertReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"a", "b", "menu-item", " ", "-", "1", "23", "4567", ":", ".", "/", "(", ")", " at", "(at", "at",
		"_", "#", "A", "@", "%", "\xe4", "\n", ",", "px", "z"}
	for range 20000 {
		var b []byte
		for n := r.IntN(30); n > 0; n-- {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		if got, want := inert(b), inertByByte(b); got != want {
			t.Fatalf("inert(%q) = %v, want %v", b, got, want)
		}
	}
}

// repeatNamesByValue is repeatNames as first written, one bytes.Index
// search per value: the reference for the one-pass search.
func repeatNamesByValue(sc *scanner) {
	t := sc.p.text
	n := len(sc.out)
	var seen [][]byte
	for k := 0; k < n; k++ {
		sp := sc.out[k]
		if sp.s < 0 || sp.score < sc.f.minScore {
			continue
		}
		v := t[sp.s:sp.end]
		if len(v) < 6 || slices.ContainsFunc(seen, func(x []byte) bool { return bytes.Equal(x, v) }) {
			continue
		}
		seen = append(seen, v)
		for from := 0; from < len(t); {
			j := bytes.Index(t[from:], v)
			if j < 0 {
				break
			}
			at := from + j
			from = at + len(v)
			if at == sp.s {
				continue
			}
			if at > 0 && isAlnum(t[at-1]) && isAlnum(v[0]) || from < len(t) && isAlnum(t[from]) && isAlnum(v[len(v)-1]) {
				continue
			}
			r := sp
			r.s, r.end, r.rule = at, from, "name-repeat"
			sc.out = append(sc.out, r)
		}
	}
}

func TestRepeatNamesReference(t *testing.T) {
	f := mustNew(t, Config{})
	r := rand.New(rand.NewPCG(7, 8))
	pieces := []string{"王小明", "李四", "aaa", "a", "Michael Novak", "1381234", "5678", " ", "\n", "x", "王", "小明王小明", "ab"}
	for range 3000 {
		var text []byte
		for n := r.IntN(60); n > 0; n-- {
			text = append(text, pieces[r.IntN(len(pieces))]...)
		}
		var spans []span
		for n := r.IntN(6); n > 0 && len(text) > 0; n-- {
			s := r.IntN(len(text))
			e := min(len(text), s+1+r.IntN(16))
			spans = append(spans, span{e: CNPersonName, s: s, end: e, score: 0.3 + r.Float64()*0.6, rule: "x"})
		}
		if r.IntN(5) == 0 {
			spans = append(spans, span{e: Email, s: -1, end: -1, ss: 1, se: 2, score: 0.9})
		}
		got, want := f.get(), f.get()
		got.p.text, want.p.text = text, text
		got.out, want.out = append(got.out[:0], spans...), append(want.out[:0], spans...)
		got.repeatNames()
		repeatNamesByValue(want)
		if !slices.Equal(got.out, want.out) {
			t.Fatalf("text %q, spans %+v:\none pass %+v\nby value %+v", text, spans, got.out, want.out)
		}
		f.put(got)
		f.put(want)
	}
}
