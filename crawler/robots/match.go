package robots

import (
	"cmp"
	"slices"
	"strings"
)

// Result is the outcome of Group.Test.
type Result struct {
	// Allowed reports whether the path may be crawled.
	Allowed bool
	// Rule is the rule that decided, or nil when no rule matched (which
	// allows) or the path is /robots.txt itself.
	Rule *Rule
}

// Test reports whether g allows the URL path pathQuery: the URL's escaped
// path, plus "?" and the raw query when there is one, exactly as it will be
// sent in the request line. The query is matched as it is, never re-sorted.
//
// Following RFC 9309 section 2.2.2:
//   - matching starts at the first octet of the path;
//   - "*" in a pattern matches any sequence of octets, and "$" at the end of
//     a pattern anchors it at the end of the path ("$" anywhere else is a
//     literal "$");
//   - the matching rule with the longest pattern, in octets of its normal
//     form, decides; at equal length, an allow rule wins over a disallow
//     rule; when no rule matches, the path is allowed;
//   - "/robots.txt" itself is always allowed.
//
// Both the patterns and pathQuery are compared in a normal form, so that
// equivalent spellings match each other: escapes of unreserved characters
// (A-Z a-z 0-9 "-" "." "_" "~") are decoded, the hex digits of other escapes
// are upper-cased, and raw octets that may not appear in a URL (non-ASCII,
// controls, space, and "\"<>\\^`{|}") are percent-encoded. "%7E" and "~"
// are the same, as are "/%c3%bc", "/%C3%BC" and "/ü"; escapes of reserved
// characters are not decoded, so "%2F" is not "/".
func (g *Group) Test(pathQuery string) Result {
	p := normalize(pathQuery)
	if p == "" {
		p = "/"
	}
	if p == "/robots.txt" {
		return Result{Allowed: true}
	}
	rules := g.byPriority
	if rules == nil && len(g.Rules) > 0 {
		// A Group built by hand rather than by Parse: compile on the fly.
		rules = compileRules(g.Rules)
	}
	for i := range rules {
		if rules[i].match(p) {
			return Result{Allowed: rules[i].allow, Rule: &g.Rules[rules[i].idx]}
		}
	}
	return Result{Allowed: true}
}

// compiled is a Rule prepared for matching.
type compiled struct {
	idx      int      // index in Group.Rules
	allow    bool     // Rule.Allow
	length   int      // specificity: octets of the normal-form pattern
	wild     bool     // the pattern has a "*"
	anchored bool     // the pattern ends in "$"
	literal  string   // the pattern without its final "$", when !wild
	parts    []string // the pattern without "$" split at each "*", when wild
}

// compile prepares g's rules for Test.
func (g *Group) compile() {
	g.byPriority = compileRules(g.Rules)
	g.usagePatterns = compileUsage(g.Usage)
}

// compileRules compiles rules and sorts them most specific first, allow
// before disallow at equal length, then in file order; so the first rule
// that matches a path is the one that decides.
func compileRules(rules []Rule) []compiled {
	cs := make([]compiled, 0, len(rules))
	for i, r := range rules {
		pat := normalize(r.Pattern)
		c := compiled{idx: i, allow: r.Allow, length: len(pat)}
		if strings.HasSuffix(pat, "$") {
			c.anchored = true
			pat = pat[:len(pat)-1]
		}
		if strings.Contains(pat, "*") {
			c.wild = true
			c.parts = strings.Split(pat, "*")
		} else {
			c.literal = pat
		}
		cs = append(cs, c)
	}
	slices.SortStableFunc(cs, func(a, b compiled) int {
		if a.length != b.length {
			return cmp.Compare(b.length, a.length)
		}
		if a.allow != b.allow {
			if a.allow {
				return -1
			}
			return 1
		}
		return 0
	})
	return cs
}

// match reports whether the compiled pattern matches the normal-form path p,
// starting at its first octet.
func (c *compiled) match(p string) bool {
	if !c.wild {
		if c.anchored {
			return p == c.literal
		}
		return strings.HasPrefix(p, c.literal)
	}
	first, last := c.parts[0], c.parts[len(c.parts)-1]
	if !strings.HasPrefix(p, first) {
		return false
	}
	pos := len(first)
	// Between wildcards, the leftmost occurrence of each part leaves the
	// most room for the rest, so a greedy scan is exact.
	for _, part := range c.parts[1 : len(c.parts)-1] {
		i := strings.Index(p[pos:], part)
		if i < 0 {
			return false
		}
		pos += i + len(part)
	}
	if c.anchored {
		return len(p)-pos >= len(last) && strings.HasSuffix(p, last)
	}
	return strings.Contains(p[pos:], last)
}

// matchPattern reports whether the robots.txt path pattern matches
// pathQuery, with the wildcard, anchor and percent-encoding rules described
// for Group.Test. It is Test for a group holding one disallow rule, without
// the exception for /robots.txt.
func matchPattern(pattern, pathQuery string) bool {
	cs := compileRules([]Rule{{Pattern: pattern}})
	p := normalize(pathQuery)
	if p == "" {
		p = "/"
	}
	return cs[0].match(p)
}

// MatchPattern reports whether the robots.txt path pattern matches
// pathQuery (a URL's escaped path, with "?" and the raw query when there is
// one), with the wildcard, anchor and percent-encoding rules of Group.Test.
// Other formats that reuse robots.txt patterns, such as TDMRep's
// tdmrep.json, match with it.
func MatchPattern(pattern, pathQuery string) bool { return matchPattern(pattern, pathQuery) }

// UsageFor returns the usage-preference lines of g that apply to
// pathQuery, as draft-ietf-aipref-attach section 3.1 says: for each key
// (Content-Usage, Content-Signal), the lines whose pattern matches with
// the most octets; lines with the same longest pattern all apply (their
// preferences combine, the most restrictive winning). It returns nil when
// none match.
func (g *Group) UsageFor(pathQuery string) []UsageRule {
	p := normalize(pathQuery)
	if p == "" {
		p = "/"
	}
	patterns := g.usagePatterns
	if len(patterns) != len(g.Usage) {
		// A Group built by hand rather than by Parse.
		patterns = compileUsage(g.Usage)
	}
	best := map[string]int{}
	var out []UsageRule
	for i, u := range g.Usage {
		c := &patterns[i]
		if !c.match(p) {
			continue
		}
		l, seen := best[u.Key]
		switch {
		case !seen || c.length > l:
			best[u.Key] = c.length
			out = slices.DeleteFunc(out, func(o UsageRule) bool { return o.Key == u.Key })
			out = append(out, u)
		case c.length == l:
			out = append(out, u)
		}
	}
	return out
}

// compileUsage compiles the patterns of usage lines, in their order.
func compileUsage(us []UsageRule) []compiled {
	rules := make([]Rule, len(us))
	for i, u := range us {
		rules[i] = Rule{Pattern: u.Pattern}
	}
	cs := compileRules(rules)
	// compileRules sorts by specificity: put them back in line order.
	out := make([]compiled, len(cs))
	for _, c := range cs {
		out[c.idx] = c
	}
	return out
}

const upperHex = "0123456789ABCDEF"

// rawOK reports whether c may stay unescaped: an unreserved character, or
// one of the gen-delims and sub-delims of RFC 3986.
func rawOK(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', // unreserved
		':', '/', '?', '#', '[', ']', '@', // gen-delims
		'!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=': // sub-delims
		return true
	}
	return false
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// escapeAt reports whether s[i] starts a valid escape "%XX", and its value.
func escapeAt(s string, i int) (byte, bool) {
	if i+2 >= len(s) {
		return 0, false
	}
	hi, ok1 := unhex(s[i+1])
	lo, ok2 := unhex(s[i+2])
	return hi<<4 | lo, ok1 && ok2
}

// normalize returns s in the percent-encoding normal form used for matching
// (see Group.Test). It is idempotent, and returns s itself when s is
// already in normal form.
func normalize(s string) string {
	// Fast path: most paths are already in normal form.
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			v, ok := escapeAt(s, i)
			if !ok || unreserved(v) || s[i+1] != upperHex[v>>4] || s[i+2] != upperHex[v&15] {
				break
			}
			i += 2
			continue
		}
		if !rawOK(c) {
			break
		}
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if v, ok := escapeAt(s, i); ok {
				if unreserved(v) {
					b.WriteByte(v)
				} else {
					b.WriteByte('%')
					b.WriteByte(upperHex[v>>4])
					b.WriteByte(upperHex[v&15])
				}
				i += 2
				continue
			}
			b.WriteString("%25")
		case rawOK(c):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String()
}
