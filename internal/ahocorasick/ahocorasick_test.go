package ahocorasick

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	m := New([]string{"he", "she", "his", "hers", "验证码"})
	got := m.Find([]byte("uSHErs 获取验证码"), nil)
	var names []string
	for _, x := range got {
		names = append(names, []string{"he", "she", "his", "hers", "验证码"}[x.Pattern])
	}
	want := "she he hers 验证码"
	if strings.Join(names, " ") != want {
		t.Fatalf("Find = %v, want %s", names, want)
	}
	text := "uSHErs 获取验证码"
	for _, x := range got {
		if x.End-x.Start != int32(len([]string{"he", "she", "his", "hers", "验证码"}[x.Pattern])) || x.End > int32(len(text)) {
			t.Fatalf("bad offsets %+v", x)
		}
	}
}

func TestFindWords(t *testing.T) {
	m := New([]string{"tel", "电话"})
	got := m.FindWords([]byte("hotel, Tel: 12; 电话12"), nil)
	if len(got) != 2 || got[0].Start != 7 || got[1].Pattern != 1 {
		t.Fatalf("FindWords = %+v; want Tel (not hotel) and 电话", got)
	}
}

func TestFirst(t *testing.T) {
	m := New([]string{"g-recaptcha", "cf_chl_opt"})
	if x, ok := m.First([]byte(`<div class="G-ReCaptcha">`)); !ok || x.Pattern != 0 {
		t.Fatalf("First = %+v %v", x, ok)
	}
	// Inside a longer word: Find and First still match, FindWords does not.
	if _, ok := m.First([]byte("window._cf_chl_opt={}")); !ok {
		t.Fatal("First missed a marker inside a word")
	}
	if got := m.FindWords([]byte("window._cf_chl_opt={}"), nil); len(got) != 0 {
		t.Fatalf("FindWords matched inside a word: %+v", got)
	}
	if _, ok := m.First([]byte("nothing here")); ok {
		t.Fatal("First matched nothing")
	}
}

func FuzzFind(f *testing.F) {
	f.Add("ushers", "he,she,his,hers")
	f.Add("aaaa", "a,aa,aaa")
	f.Fuzz(func(t *testing.T, text, pats string) {
		var ps []string
		for _, p := range strings.Split(strings.ToLower(pats), ",") {
			if p != "" {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 || len(ps) > 20 {
			return
		}
		m := New(ps)
		got := m.Find([]byte(text), nil)
		// Every match is real, and the count equals a naive search's.
		naive := 0
		for _, p := range ps {
			for i := 0; i+len(p) <= len(text); i++ {
				if asciiFold(text[i:i+len(p)]) == p {
					naive++
				}
			}
		}
		for _, x := range got {
			if asciiFold(text[x.Start:x.End]) != ps[x.Pattern] {
				t.Fatalf("match %+v is %q, not %q", x, text[x.Start:x.End], ps[x.Pattern])
			}
		}
		if len(got) != naive {
			t.Fatalf("%d matches, naive search finds %d", len(got), naive)
		}
		// Repeated past splitMin, the text is matched in four walks,
		// which must find what one walk finds.
		if len(text) > 0 {
			long := []byte(strings.Repeat(text, splitMin/len(text)+2))
			for _, words := range []bool{false, true} {
				if a, b := m.scan(long, nil, words, false), m.scanOne(long, nil, words, false); !slices.Equal(a, b) {
					t.Fatalf("four walks found %d matches in %q repeated, one walk %d (words=%v)", len(a), text, len(b), words)
				}
			}
		}
	})
}

// asciiFold lower-cases ASCII letters only, as the matcher does.
func asciiFold(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TestSplitWalk checks that the two-walk scan of long texts finds what one
// walk finds, in the same order, matches across the middle included.
func TestSplitWalk(t *testing.T) {
	pats := []string{"ab", "abcab", "b", "电话", "话号", "手机号码", "tel", "abcabcabcabcabcabc"}
	m := New(pats)
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "c", "A", " ", "电", "话", "号", "手", "机", "码", "t", "e", "l", "\xe8"}
	for n := range 600 {
		var sb strings.Builder
		size := 1000 + r.IntN(3000)
		for sb.Len() < size {
			if n%2 == 1 && r.IntN(40) != 0 {
				sb.WriteString("x") // few matches: sorted by insertion
				continue
			}
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		text := []byte(sb.String())
		for _, words := range []bool{false, true} {
			got := m.scan(text, nil, words, false)
			want := m.scanOne(text, nil, words, false)
			if !slices.Equal(got, want) {
				t.Fatalf("split walk found %d matches, one walk %d (words=%v, text of %d bytes)", len(got), len(want), words, len(text))
			}
		}
	}
}
