package output

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func FuzzReadRecords(f *testing.F) {
	f.Add([]byte(`{"url":"http://a/","site":"a","sha256":"x"}` + "\n"))
	f.Add([]byte("garbage\n"))
	f.Add([]byte(`{"url":"a"}` + "\n" + `{"url":`))
	f.Add([]byte("\n\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		err := readRecords(context.Background(), bytes.NewReader(b), "f", func(Record) error { n++; return nil })
		if err != nil && !strings.Contains(err.Error(), "f line ") {
			t.Fatalf("error does not name the file and line: %v", err)
		}
		if lines := bytes.Count(b, []byte("\n")); n > lines {
			t.Fatalf("%d records from %d complete lines", n, lines)
		}
	})
}
