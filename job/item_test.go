package job

import (
	"errors"
	"testing"

	"github.com/goodbot/goodbot/crawler/frontier"
)

// A job's frontier keeps the collector an item names, and refuses, with
// an error that says why, an item with a method or a body: a request body
// is not written to Redis.
func TestJobItemFields(t *testing.T) {
	it := frontier.Item{URL: "http://a/x", Site: "a", Depth: 2, Collector: "clone-1"}
	b, err := encodeItem(it)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeItem("a", string(b))
	if err != nil || back.URL != it.URL || back.Depth != it.Depth || back.Collector != it.Collector {
		t.Fatalf("round trip: %+v, %v; want %+v", back, err, it)
	}
	for _, bad := range []frontier.Item{
		{URL: "http://a/s", Site: "a", Method: "POST", Body: []byte("q=1")},
		{URL: "http://a/s", Site: "a", Method: "HEAD"},
	} {
		if err := checkItem(bad); !errors.Is(err, ErrNotGet) {
			t.Errorf("checkItem(%s) = %v, want ErrNotGet", bad.Method, err)
		}
	}
	if err := checkItem(frontier.Item{URL: "http://a/s", Site: "a", Method: "GET"}); err != nil {
		t.Errorf("checkItem(GET) = %v", err)
	}
}
