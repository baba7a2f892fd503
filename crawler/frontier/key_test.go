package frontier

import (
	"context"
	"testing"
)

// Two different POSTs to one URL are two requests; the same POST twice is
// one; a POST is not taken for a GET of its URL; Collector is not part of
// the key.
func TestSeenKeyIncludesMethodAndBody(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(Options{})
	get := Item{URL: "http://a/s", Site: "a"}
	p1 := Item{URL: "http://a/s", Site: "a", Method: "POST", Body: []byte("q=1"), ContentType: "application/x-www-form-urlencoded"}
	p2 := p1
	p2.Body = []byte("q=2")
	again := p1
	again.Collector = "clone-1"
	explicitGet := get
	explicitGet.Method = "GET"
	for _, c := range []struct {
		it   Item
		want bool
	}{{get, true}, {p1, true}, {p2, true}, {again, false}, {explicitGet, false}} {
		if ok, err := m.Add(ctx, c.it); err != nil || ok != c.want {
			t.Errorf("Add %s %s %q = %v, %v; want %v", c.it.Method, c.it.URL, c.it.Body, ok, err, c.want)
		}
	}
	if get.Key() != get.URL {
		t.Errorf("a GET's key is %q, want its URL", get.Key())
	}
	if seen, _ := m.Seen(ctx, "http://a/s"); !seen {
		t.Error("Seen(url) does not know the GET")
	}
}
