// Package cliflag parses the command lines of goodbot's subcommands.
package cliflag

import (
	"flag"
	"strings"
)

// Parse parses the flags of fs anywhere among args, before, between or
// after the positional arguments, and returns the positional ones in
// order. A "--" that is not a flag's value ends the flags: every argument
// after it is positional. Errors are those of fs.Parse.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	// Each round consumes at least one argument, so the loop ends.
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if endedAtTerminator(fs, args[:len(args)-len(rest)]) {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return pos, nil
}

// endedAtTerminator reports whether the arguments fs.Parse consumed, used,
// end with a "--" that ended the flags, rather than one taken as a flag's
// value (as in "--out --"). It replays the flag syntax over used, which
// fs.Parse has already accepted.
func endedAtTerminator(fs *flag.FlagSet, used []string) bool {
	i := 0
	for i < len(used)-1 {
		name := strings.TrimPrefix(strings.TrimPrefix(used[i], "-"), "-")
		i++
		if strings.Contains(name, "=") || isBool(fs.Lookup(name)) {
			continue
		}
		i++ // the flag's value
	}
	return i == len(used)-1 && used[i] == "--"
}

func isBool(f *flag.Flag) bool {
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
