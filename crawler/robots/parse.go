// Package robots implements the Robots Exclusion Protocol of RFC 9309 for
// goodbot: a parser that never rejects a file, a matcher that follows the
// RFC's rules for specificity, wildcards and percent-encoding, and a Cache
// that fetches each origin's robots.txt once, applies the RFC's status-code
// rules, and keeps the result for at most 24 hours.
//
// Where the RFC leaves a choice, this package takes the one that sends less
// traffic: see the documentation of Parse and Cache.
package robots

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// MaxSize is the number of bytes of a robots.txt file that are parsed
// (RFC 9309 section 2.5 asks for at least 500 kibibytes). The rest is
// ignored, and the Cache reads no more than this from the network.
const MaxSize = 500 << 10

// MaxWarnings is the number of warnings a File keeps. Further warnings are
// only counted in File.MoreWarnings, so that a binary or hostile file cannot
// make the warning list large.
const MaxWarnings = 100

// maxWarningText is the number of bytes of an offending line a Warning keeps.
const maxWarningText = 120

// maxDelay caps Crawl-delay and Request-rate intervals, so that absurd
// values neither overflow time.Duration nor outlive a cached file.
const maxDelay = 24 * time.Hour

// File is a parsed robots.txt file. It is safe for concurrent use once
// returned by Parse.
type File struct {
	// Warnings lists the lines that were skipped or read with a fix-up,
	// in file order, at most MaxWarnings of them.
	Warnings []Warning
	// MoreWarnings counts the warnings left out of Warnings.
	MoreWarnings int
	// Sitemaps lists the values of Sitemap lines, in file order.
	Sitemaps []string
	// Truncated reports that the body was longer than MaxSize and only its
	// first MaxSize bytes were parsed.
	Truncated bool

	groups []*Group          // in file order, unmerged
	index  map[string][]int  // agent key (lower-cased token, or "*") -> indexes in groups
	mu     sync.Mutex        // guards merged
	merged map[string]*Group // agent key -> merged group, built on first use
}

// Warning describes one line of a robots.txt file that was skipped or
// read with a fix-up.
type Warning struct {
	Line   int    // 1-based line number
	Text   string // the line, shortened to at most 120 bytes and made valid UTF-8
	Reason string // what is wrong with it
}

// String formats w as `line 4: reason: "text"`.
func (w Warning) String() string {
	return fmt.Sprintf("line %d: %s: %q", w.Line, w.Reason, w.Text)
}

// Group is the set of rules that applies to one crawler: one group of a
// robots.txt file, or several groups naming the same product token merged
// into one. A Group returned by File.Group may be shared; do not modify it.
type Group struct {
	// Rules lists the allow and disallow rules in file order.
	Rules []Rule
	// CrawlDelay is the Crawl-delay asked for, or zero. When merged groups
	// ask for several, it is the largest.
	CrawlDelay time.Duration
	// RequestRate is the interval m/n from a Request-rate of n/m, or zero.
	// When merged groups ask for several, it is the largest.
	RequestRate time.Duration
	// MaxCrawlRate is the interval unit/n from a Max-Crawl-Rate of n/unit
	// (draft-meunier-signature-agent-rep), or zero. When merged groups ask
	// for several, it is the largest.
	MaxCrawlRate time.Duration
	// Usage lists the group's usage-preference lines, Content-Usage
	// (draft-ietf-aipref-attach) and Content-Signal
	// (draft-romm-aipref-contentsignals), in file order. They say how
	// what is fetched may be used, not what may be fetched. See
	// UsageFor.
	Usage []UsageRule
	// Agents lists the User-agent values, as written, of the lines that
	// selected this group ("Goodbot/2.1", "*"). It is empty when no group
	// applies and everything is allowed.
	Agents []string

	// byPriority holds the rules compiled for matching, most specific
	// first, allow before disallow at equal specificity.
	byPriority []compiled
	// usagePatterns holds the patterns of Usage compiled, in Usage's
	// order.
	usagePatterns []compiled
}

// Rule is one allow or disallow line of a group.
type Rule struct {
	Allow bool
	// Pattern is the path pattern in normal form: percent-encoding
	// normalised as described for Group.Test, with "*" wildcards and an
	// optional final "$" anchor.
	Pattern string
	// Line is the rule's 1-based line number in the file, or 0 for rules
	// made up by DisallowAll.
	Line int
}

// The keys of usage-preference lines, as in UsageRule.Key.
const (
	KeyContentUsage  = "content-usage"
	KeyContentSignal = "content-signal"
)

// UsageRule is one Content-Usage or Content-Signal line of a group.
type UsageRule struct {
	// Key is KeyContentUsage or KeyContentSignal.
	Key string
	// Pattern is the path the preference applies to, in normal form
	// like Rule.Pattern; "/" when the line gave none.
	Pattern string
	// Value is the preference as written after the path, e.g.
	// "train-ai=n" or "search=yes, ai-train=no". It is not checked
	// here: see package usage.
	Value string
	// Line is the 1-based line number in the file.
	Line int
}

// String returns the line as it would be written: "Content-Usage: /
// train-ai=n".
func (u UsageRule) String() string {
	key := "Content-Usage"
	if u.Key == KeyContentSignal {
		key = "Content-Signal"
	}
	return key + ": " + u.Pattern + " " + u.Value
}

// String returns the rule as it would be written in a robots.txt file, with
// a lower-case key: "allow: /public/" or "disallow: /private".
func (r Rule) String() string {
	if r.Allow {
		return "allow: " + r.Pattern
	}
	return "disallow: " + r.Pattern
}

// Delay returns the minimum interval between requests that g asks for: the
// largest of CrawlDelay, RequestRate and MaxCrawlRate.
func (g *Group) Delay() time.Duration {
	return max(g.CrawlDelay, g.RequestRate, g.MaxCrawlRate)
}

// AllowAll returns a File that allows everything, as RFC 9309 asks when
// robots.txt is unavailable (a 4xx answer).
func AllowAll() *File {
	return &File{}
}

// DisallowAll returns a File that disallows everything but /robots.txt
// itself, as RFC 9309 asks when robots.txt is unreachable (a 5xx answer or
// a network error).
func DisallowAll() *File {
	g := &Group{Agents: []string{"*"}, Rules: []Rule{{Allow: false, Pattern: "/"}}}
	return &File{groups: []*Group{g}, index: map[string][]int{"*": {0}}}
}

// Group returns the rules that apply to the crawler with the given product
// token, compared case-insensitively. Only the token part of productToken is
// used: "goodbot/1.0 (+https://example.org)" is read as "goodbot".
//
// It returns the merged groups whose User-agent names the token; if there
// are none, the merged "*" groups; if there are none, an empty group, which
// allows everything. It never returns nil.
func (f *File) Group(productToken string) *Group {
	key := strings.ToLower(productTokenOf(productToken))
	if key == "" || len(f.index[key]) == 0 {
		key = "*"
	}
	if len(f.index[key]) == 0 {
		return &Group{}
	}
	// Groups are merged on first use, and only for the agents asked for:
	// merging for every agent up front would let a file with many
	// User-agent lines over many rules take memory quadratic in its size.
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.merged[key]; g != nil {
		return g
	}
	g := &Group{}
	for _, i := range f.index[key] {
		src := f.groups[i]
		for _, a := range src.Agents {
			if agentKey(a) == key {
				g.Agents = append(g.Agents, a)
			}
		}
		g.Rules = append(g.Rules, src.Rules...)
		g.Usage = append(g.Usage, src.Usage...)
		g.CrawlDelay = max(g.CrawlDelay, src.CrawlDelay)
		g.RequestRate = max(g.RequestRate, src.RequestRate)
		g.MaxCrawlRate = max(g.MaxCrawlRate, src.MaxCrawlRate)
	}
	g.compile()
	if f.merged == nil {
		f.merged = map[string]*Group{}
	}
	f.merged[key] = g
	return g
}

// agentKey returns the key under which a User-agent value is indexed: "*",
// the lower-cased product token, or "" when it has none.
func agentKey(value string) string {
	if value == "*" {
		return "*"
	}
	return strings.ToLower(productTokenOf(value))
}

// productTokenOf returns the leading product token of a User-agent value:
// the longest prefix of letters, "-" and "_" (RFC 9309 section 2.2.1).
func productTokenOf(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return s[:i]
		}
	}
	return s
}

// Parse parses a robots.txt body. It never fails: a line that cannot be
// understood is skipped and reported in File.Warnings, and the rest of the
// file is still used. Only the first MaxSize bytes are read; if body is
// longer, File.Truncated is set and a last line cut short by the limit is
// skipped too, since a shortened path could change its meaning.
//
// The parser reads:
//   - a UTF-8 byte order mark, and CR, LF or CRLF line ends;
//   - "#" comments, blank lines and whitespace around keys and values;
//   - the keys User-agent, Allow, Disallow, Crawl-delay, Request-rate,
//     Max-Crawl-Rate, Sitemap, Content-Usage and Content-Signal,
//     case-insensitively. Other keys are skipped with a warning.
//
// Consecutive User-agent lines open one group; a User-agent line after an
// Allow, Disallow, Crawl-delay, Request-rate or Max-Crawl-Rate line opens a
// new one. Blank
// lines, comments, Sitemap lines and skipped lines do not end a group.
// Rules before the first User-agent line belong to no group and are skipped.
//
// An empty Allow or Disallow value is no rule. A Disallow pattern that does
// not start with "/" or "*" is read as if it started with "/" (it would
// otherwise match nothing, and the site meant to exclude something); an Allow
// pattern like that is kept as written, and so matches nothing. Both get a
// warning.
//
// Crawl-delay takes non-negative decimal seconds ("10", "0.5"). Request-rate
// takes n/m, where m may carry a unit s, m or h ("1/5s", "1/10m"), and means
// one request per m/n; a time-of-day window after it is ignored with a
// warning, and the rate applies all day.
//
// Max-Crawl-Rate (draft-meunier-signature-agent-rep, an individual draft)
// takes a whole number of requests n with an optional "/" and unit s, m,
// h, d or w ("10/m", "100 / d"), and means at most n requests per unit:
// one every unit/n. The draft names no default unit; a bare "n" is read per
// second, as a Request-rate's m is. "0" asks for no requests, and is read
// as the longest interval, 24 hours, with a warning.
//
// All three are capped at 24 hours.
//
// Content-Usage (draft-ietf-aipref-attach) and Content-Signal
// (draft-romm-aipref-contentsignals) take an optional path, starting with
// "/" or "*" and ending at the first space or tab, then a usage
// preference; without a path the preference applies to "/". They belong
// to the group they are in (Group.Usage), but, like Sitemap lines, do not
// end it: the Allow and Disallow rules, and so what may be fetched, are
// exactly what RFC 9309 alone would give. Outside any group they are
// skipped with a warning.
func Parse(body []byte) *File {
	f := &File{}
	if len(body) > MaxSize {
		f.Truncated = true
		complete := body[MaxSize] == '\n' || body[MaxSize] == '\r'
		body = body[:MaxSize]
		if !complete {
			// The limit cut the last line short: drop it.
			if i := bytes.LastIndexAny(body, "\r\n"); i >= 0 {
				body = body[:i+1]
			} else {
				body = nil
			}
		}
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))

	p := parser{f: f}
	lineNo := 0
	for len(body) > 0 {
		lineNo++
		var line []byte
		i := bytes.IndexAny(body, "\r\n")
		if i < 0 {
			line, body = body, nil
		} else {
			line = body[:i]
			if body[i] == '\r' && i+1 < len(body) && body[i+1] == '\n' {
				i++
			}
			body = body[i+1:]
		}
		p.line(lineNo, line)
	}
	if f.Truncated {
		p.warn(lineNo+1, nil, fmt.Sprintf("file longer than %d bytes: the rest is ignored", MaxSize))
	}
	f.merge()
	return f
}

// parser holds the state of Parse between lines.
type parser struct {
	f   *File
	cur *Group // the group being read, or nil before the first User-agent
	// inRules reports that cur has had a member line, so that the next
	// User-agent line opens a new group.
	inRules bool
}

// warn records a warning about line, keeping at most MaxWarnings.
func (p *parser) warn(line int, text []byte, reason string) {
	if len(p.f.Warnings) >= MaxWarnings {
		p.f.MoreWarnings++
		return
	}
	if len(text) > maxWarningText {
		text = text[:maxWarningText]
	}
	p.f.Warnings = append(p.f.Warnings, Warning{Line: line, Text: strings.ToValidUTF8(string(text), "\uFFFD"), Reason: reason})
}

// line handles line n of the file.
func (p *parser) line(n int, raw []byte) {
	line := raw
	if i := bytes.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	if bytes.ContainsFunc(line, isControl) {
		p.warn(n, raw, "binary data or control characters")
		return
	}
	if !utf8.Valid(line) {
		// Read on: raw octets are percent-encoded like any non-ASCII.
		p.warn(n, raw, "not valid UTF-8: octets read as they are")
	}
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		p.warn(n, raw, `no ":" between key and value`)
		return
	}
	key := strings.ToLower(string(bytes.TrimSpace(line[:colon])))
	value := string(bytes.TrimSpace(line[colon+1:]))

	switch key {
	case "user-agent":
		p.userAgent(n, raw, value)
	case "allow", "disallow":
		if !p.member(n, raw) {
			return
		}
		p.rule(n, raw, key == "allow", value)
	case "crawl-delay":
		if !p.member(n, raw) {
			return
		}
		d, err := parseCrawlDelay(value)
		if err != nil {
			p.warn(n, raw, err.Error())
			return
		}
		if d > maxDelay {
			p.warn(n, raw, "crawl-delay above 24h: read as 24h")
			d = maxDelay
		}
		p.cur.CrawlDelay = max(p.cur.CrawlDelay, d)
	case "request-rate":
		if !p.member(n, raw) {
			return
		}
		rate, rest, _ := strings.Cut(value, " ")
		d, err := parseRequestRate(rate)
		if err != nil {
			p.warn(n, raw, err.Error())
			return
		}
		if strings.TrimSpace(rest) != "" {
			p.warn(n, raw, "request-rate time window ignored: the rate applies all day")
		}
		if d > maxDelay {
			p.warn(n, raw, "request-rate interval above 24h: read as 24h")
			d = maxDelay
		}
		p.cur.RequestRate = max(p.cur.RequestRate, d)
	case "max-crawl-rate":
		if !p.member(n, raw) {
			return
		}
		d, err := parseMaxCrawlRate(value)
		if err != nil {
			p.warn(n, raw, err.Error())
			return
		}
		switch {
		case d == 0:
			p.warn(n, raw, "max-crawl-rate 0 asks for no requests: read as one a day")
			d = maxDelay
		case d > maxDelay:
			p.warn(n, raw, "max-crawl-rate interval above 24h: read as 24h")
			d = maxDelay
		}
		p.cur.MaxCrawlRate = max(p.cur.MaxCrawlRate, d)
	case KeyContentUsage, KeyContentSignal:
		p.usage(n, raw, key, value)
	case "sitemap":
		if value == "" {
			p.warn(n, raw, "empty sitemap URL")
			return
		}
		p.f.Sitemaps = append(p.f.Sitemaps, value)
	case "":
		p.warn(n, raw, "empty key")
	default:
		p.warn(n, raw, fmt.Sprintf("unknown key %q", shorten(key)))
	}
}

// userAgent handles a User-agent line.
func (p *parser) userAgent(n int, raw []byte, value string) {
	if p.cur == nil || p.inRules {
		p.cur = &Group{}
		p.f.groups = append(p.f.groups, p.cur)
		p.inRules = false
	}
	if value != "*" && productTokenOf(value) == "" {
		// Still a User-agent line: it ends the previous group, and the
		// rules after it apply to an agent no crawler matches.
		p.warn(n, raw, "user-agent value has no product token")
	}
	p.cur.Agents = append(p.cur.Agents, value)
}

// usage handles a Content-Usage or Content-Signal line.
func (p *parser) usage(n int, raw []byte, key, value string) {
	if p.cur == nil {
		p.warn(n, raw, key+" line before any user-agent line")
		return
	}
	pattern, pref := "/", value
	if value != "" && (value[0] == '/' || value[0] == '*') {
		pattern, pref = value, ""
		if i := strings.IndexAny(value, " \t"); i >= 0 {
			pattern, pref = value[:i], strings.TrimSpace(value[i+1:])
		}
	}
	if pref == "" {
		p.warn(n, raw, key+" line without a preference")
		return
	}
	p.cur.Usage = append(p.cur.Usage, UsageRule{Key: key, Pattern: normalize(pattern), Value: pref, Line: n})
}

// member reports whether a group member line (a rule, Crawl-delay,
// Request-rate or Max-Crawl-Rate) may be used, and marks the current group as having one.
func (p *parser) member(n int, raw []byte) bool {
	if p.cur == nil {
		p.warn(n, raw, "rule before any user-agent line")
		return false
	}
	p.inRules = true
	return true
}

// rule handles an Allow or Disallow line.
func (p *parser) rule(n int, raw []byte, allow bool, value string) {
	if value == "" {
		return // an empty value is no rule (RFC 9309 section 2.2.2)
	}
	if value[0] != '/' && value[0] != '*' {
		if allow {
			p.warn(n, raw, `allow pattern does not start with "/" or "*": it matches nothing`)
		} else {
			p.warn(n, raw, `disallow pattern does not start with "/" or "*": read with a leading "/"`)
			value = "/" + value
		}
	}
	p.cur.Rules = append(p.cur.Rules, Rule{Allow: allow, Pattern: normalize(value), Line: n})
}

// merge indexes the groups of f by the agents they name.
func (f *File) merge() {
	f.index = map[string][]int{}
	for i, g := range f.groups {
		for _, a := range g.Agents {
			key := agentKey(a)
			if key == "" {
				continue
			}
			if idx := f.index[key]; len(idx) > 0 && idx[len(idx)-1] == i {
				continue // the same group names the agent twice
			}
			f.index[key] = append(f.index[key], i)
		}
	}
}

func isControl(r rune) bool {
	return r < 0x20 && r != '\t' || r == 0x7f
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// parseCrawlDelay parses non-negative decimal seconds: "10", "2.5", ".5".
func parseCrawlDelay(s string) (time.Duration, error) {
	if !isDecimal(s) {
		return 0, fmt.Errorf("crawl-delay %q: want non-negative decimal seconds", shorten(s))
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("crawl-delay %q: %w", shorten(s), err)
	}
	return seconds(v), nil
}

// parseRequestRate parses n/m with an optional unit s, m or h on m, and
// returns the interval m/n.
func parseRequestRate(s string) (time.Duration, error) {
	ns, ms, ok := strings.Cut(s, "/")
	bad := func(why string) error {
		return fmt.Errorf("request-rate %q: %s", shorten(s), why)
	}
	if !ok {
		return 0, bad(`want n/m, e.g. "1/5s"`)
	}
	n, err := strconv.ParseUint(ns, 10, 32)
	if err != nil || n == 0 || !isDecimal(ns) {
		return 0, bad("want a positive whole number of requests before the /")
	}
	unit := time.Second
	if ms != "" {
		switch ms[len(ms)-1] {
		case 's', 'S':
			ms = ms[:len(ms)-1]
		case 'm', 'M':
			unit, ms = time.Minute, ms[:len(ms)-1]
		case 'h', 'H':
			unit, ms = time.Hour, ms[:len(ms)-1]
		}
	}
	if !isDecimal(ms) {
		return 0, bad("want a positive decimal number after the /, with an optional unit s, m or h")
	}
	m, err := strconv.ParseFloat(ms, 64)
	if err != nil || m <= 0 {
		return 0, bad("want a positive decimal number after the /, with an optional unit s, m or h")
	}
	return seconds(m * unit.Seconds() / float64(n)), nil
}

// parseMaxCrawlRate parses n, or n/unit with a unit s, m, h, d or w, and
// returns the interval unit/n; 0 for n = 0.
func parseMaxCrawlRate(s string) (time.Duration, error) {
	ns, us, slash := strings.Cut(s, "/")
	ns, us = strings.TrimSpace(ns), strings.TrimSpace(us)
	bad := func(why string) error {
		return fmt.Errorf("max-crawl-rate %q: %s", shorten(s), why)
	}
	n, err := strconv.ParseUint(ns, 10, 32)
	if err != nil || !isDecimal(ns) || strings.Contains(ns, ".") {
		return 0, bad(`want a whole number of requests, e.g. "10/m"`)
	}
	unit := time.Second
	if slash {
		switch strings.ToLower(us) {
		case "s":
		case "m":
			unit = time.Minute
		case "h":
			unit = time.Hour
		case "d":
			unit = 24 * time.Hour
		case "w":
			unit = 7 * 24 * time.Hour
		default:
			return 0, bad("want a time unit s, m, h, d or w after the /")
		}
	}
	if n == 0 {
		return 0, nil
	}
	return seconds(unit.Seconds() / float64(n)), nil
}

// isDecimal reports whether s is digits with at most one ".", and at least
// one digit.
func isDecimal(s string) bool {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// seconds converts non-negative seconds to a Duration, saturating at
// math.MaxInt64 nanoseconds.
func seconds(v float64) time.Duration {
	ns := v * float64(time.Second)
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(math.Round(ns))
}
