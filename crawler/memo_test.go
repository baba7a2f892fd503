package crawler

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/goodbot/goodbot/pii"
)

// TestFilterMemoAnswersAsTheFilter plants personal data in URLs and texts
// and filters each many times, concurrently: every answer is the filter's
// own, the first time and from memory, and none lets the value through.
func TestFilterMemoAnswersAsTheFilter(t *testing.T) {
	f, err := pii.New(pii.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pf := PIIFilter(f)
	const phone, id = "13812345678", "11010519491231002X"
	inputs := []struct {
		in  string
		url bool
	}{
		{"https://example.org/user?mobile=" + phone, true},
		{"https://example.org/u/%31%33%38%31%32%33%34%35%36%37%38", true},
		{"https://example.org/p/1", true},
		{"联系电话 " + phone, false},
		{"身份证号 " + id, false},
		{"granted after 0s at interval 1ms", false},
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				for _, c := range inputs {
					var got, want string
					if c.url {
						got, want = pf.FilterURL(c.in), f.RedactURL(c.in)
					} else {
						got, want = pf.FilterText(c.in), f.RedactField(c.in)
					}
					if got != want {
						t.Errorf("%q: memo gave %q, the filter %q", c.in, got, want)
						return
					}
					if strings.Contains(got, phone) || strings.Contains(got, id) || strings.Contains(got, "%31%33%38") {
						t.Errorf("%q came through as %q", c.in, got)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestMemoIsBounded(t *testing.T) {
	m := newMemo(100)
	calls := 0
	f := func(s string) string { calls++; return "<" + s + ">" }
	for i := range 1000 {
		if got := m.do(fmt.Sprint(i), f); got != fmt.Sprintf("<%d>", i) {
			t.Fatalf("%d: %q", i, got)
		}
	}
	if n := len(m.cur) + len(m.old); n > 200 {
		t.Errorf("memo holds %d answers, bound 2x100", n)
	}
	calls = 0
	m.do("999", f) // recent: answered from memory
	m.do("0", f)   // long gone: filtered again
	if calls != 1 {
		t.Errorf("%d filter calls for one recent and one old input, want 1", calls)
	}
	long := strings.Repeat("x", memoMaxLen+1)
	m.do(long, f)
	if _, ok := m.cur[long]; ok {
		t.Error("an input longer than memoMaxLen was kept")
	}
}
