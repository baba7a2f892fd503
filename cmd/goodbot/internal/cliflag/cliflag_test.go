package cliflag

import (
	"flag"
	"io"
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		pos      []string
		out      string
		verbose  bool
		wantFail bool
	}{
		{args: []string{"a", "b"}, pos: []string{"a", "b"}},
		{args: []string{"--out", "d", "a"}, pos: []string{"a"}, out: "d"},
		{args: []string{"a", "--out", "d", "b"}, pos: []string{"a", "b"}, out: "d"},
		{args: []string{"a", "b", "--out=d", "-v"}, pos: []string{"a", "b"}, out: "d", verbose: true},
		{args: []string{"-v", "a", "--", "--out", "d"}, pos: []string{"a", "--out", "d"}, verbose: true},
		{args: []string{"--", "-v"}, pos: []string{"-v"}},
		{args: []string{"a", "--", "b", "--", "c"}, pos: []string{"a", "b", "--", "c"}},
		// "--" as a flag's value does not end the flags.
		{args: []string{"--out", "--", "a", "-v"}, pos: []string{"a"}, out: "--", verbose: true},
		{args: []string{"--out", "--", "--", "-v"}, pos: []string{"-v"}, out: "--"},
		{args: []string{"a", "--nope"}, wantFail: true},
		{args: []string{"a", "--out"}, wantFail: true},
		{args: nil},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		out := fs.String("out", "", "")
		verbose := fs.Bool("v", false, "")
		pos, err := Parse(fs, tc.args)
		if tc.wantFail {
			if err == nil {
				t.Errorf("Parse(%q) succeeded, want an error", tc.args)
			}
			continue
		}
		if err != nil || !slices.Equal(pos, tc.pos) || *out != tc.out || *verbose != tc.verbose {
			t.Errorf("Parse(%q) = %q, %v; out %q, v %v; want %q, out %q, v %v", tc.args, pos, err, *out, *verbose, tc.pos, tc.out, tc.verbose)
		}
	}
}
