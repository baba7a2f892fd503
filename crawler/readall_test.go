package crawler

import (
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadAllSized(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 5000, 70000} {
		want := strings.Repeat("x", n)
		for _, size := range []int{1, n + 1, 512, max(1, n/2)} {
			got, err := readAll(iotest.OneByteReader(strings.NewReader(want)), size)
			if err != nil || string(got) != want {
				t.Fatalf("readAll(%d bytes, size %d) = %d bytes, %v", n, size, len(got), err)
			}
			got, err = readAll(strings.NewReader(want), size)
			if err != nil || string(got) != want {
				t.Fatalf("readAll(%d bytes, size %d) = %d bytes, %v", n, size, len(got), err)
			}
		}
	}
}
