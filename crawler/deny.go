package crawler

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"strings"

	"golang.org/x/net/idna"
)

// This file holds the denylist: hosts goodbot never contacts, whatever
// the scope, robots.txt or a relaxation says.

// Art285 cites the law behind the built-in denylist.
const Art285 = "Criminal Law of the PRC, Art. 285(1): intruding into a computer information system in the fields of state affairs, national defence or cutting-edge science and technology is a crime even when no data is taken"

// DenyEntry is one entry of the denylist: a host, or "*.suffix" for a
// domain and every host under it.
type DenyEntry struct {
	Pattern string
	// Builtin is set for goodbot's own entries, which nothing lifts.
	Builtin bool
	// Why is the reason cited when the entry refuses a request.
	Why string
}

// BuiltinDeny returns goodbot's built-in denylist. It holds *.mil.cn, the
// domain of China's military, because Art. 285(1) of the Criminal Law
// makes intrusion into national-defence systems a crime in itself. It
// holds nothing more: the article names fields (state affairs, national
// defence, cutting-edge science), not domains, and only .mil.cn is a
// domain that is in such a field as a whole. *.gov.cn is not in it,
// because most of it is public information published for anyone to read
// (government information disclosure), and refusing it all would refuse
// that too; a crawl that must keep off it, or off a research
// institute's systems, lists them in Config.Deny (CLI: --deny-file).
func BuiltinDeny() []DenyEntry {
	return []DenyEntry{{Pattern: "*.mil.cn", Builtin: true, Why: "national defence systems; " + Art285}}
}

// denyList matches hosts against the denylist.
type denyList struct {
	entries []denyEntry
}

type denyEntry struct {
	DenyEntry
	host   string // the host, or the suffix without "*."
	suffix bool
	origin string // where the entry came from, e.g. "Config.Deny[2]"
}

// hostName matches a host name in ASCII (after IDNA), lower case.
var hostName = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$`)

// canonicalHost returns h lower-cased, without a trailing dot or IPv6
// brackets, and in its ASCII (punycode) form.
func canonicalHost(h string) (string, error) {
	h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			return "", fmt.Errorf("%q: an address with a zone is not a host", h)
		}
		return a.Unmap().String(), nil
	}
	for i := 0; i < len(h); i++ {
		if h[i] >= 0x80 {
			a, err := idna.Lookup.ToASCII(h)
			if err != nil {
				return "", fmt.Errorf("host %q: %w", h, err)
			}
			h = a
			break
		}
	}
	if !hostName.MatchString(h) {
		return "", fmt.Errorf("%q is not a host name", h)
	}
	return h, nil
}

// ParseDenyEntry reads one denylist entry: a host name or IP address, or
// "*.suffix" for a domain and every host under it ("*.example.org"
// matches example.org and www.example.org). It returns the entry in
// canonical form.
func ParseDenyEntry(s string) (string, error) {
	e, err := parseDenyEntry(s)
	if err != nil {
		return "", err
	}
	return e.Pattern, nil
}

func parseDenyEntry(s string) (denyEntry, error) {
	s = strings.TrimSpace(s)
	suffix := strings.HasPrefix(s, "*.")
	rest := strings.TrimPrefix(s, "*.")
	if rest == "" || strings.Contains(rest, "*") {
		return denyEntry{}, fmt.Errorf("deny entry %q: want a host or *.suffix (one leading wildcard, nothing else)", s)
	}
	if strings.ContainsAny(rest, "/:?#@ \t") && !strings.HasPrefix(rest, "[") && strings.Count(rest, ":") < 2 {
		return denyEntry{}, fmt.Errorf("deny entry %q: want a host, not a URL or host:port", s)
	}
	h, err := canonicalHost(rest)
	if err != nil {
		return denyEntry{}, fmt.Errorf("deny entry %q: %w", s, err)
	}
	if suffix {
		if _, err := netip.ParseAddr(h); err == nil {
			return denyEntry{}, fmt.Errorf("deny entry %q: *. takes a domain, not an address", s)
		}
	}
	p := h
	if suffix {
		p = "*." + h
	}
	return denyEntry{DenyEntry: DenyEntry{Pattern: p}, host: h, suffix: suffix}, nil
}

// maxDenyLines bounds a deny file.
const maxDenyLines = 1 << 20

// ReadDenyList reads a deny file: one entry (see ParseDenyEntry) a line;
// blank lines and everything from a # are ignored. A line that is not an
// entry is an error naming the file (name) and the line.
func ReadDenyList(r io.Reader, name string) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	var out []string
	for n := 1; sc.Scan(); n++ {
		if n > maxDenyLines {
			return nil, fmt.Errorf("%s: more than %d lines", name, maxDenyLines)
		}
		line, _, _ := strings.Cut(sc.Text(), "#")
		if strings.TrimSpace(line) == "" {
			continue
		}
		p, err := ParseDenyEntry(line)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, n, err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s: a line is longer than 64 KiB: %w", name, err)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// ReadDenyFile reads the deny file at path; see ReadDenyList.
func ReadDenyFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("deny file: %w", err)
	}
	defer f.Close()
	return ReadDenyList(f, path)
}

// newDenyList builds the denylist from the built-in entries and the
// user's (Config.Deny).
func newDenyList(user []string) (*denyList, error) {
	d := &denyList{}
	for _, b := range BuiltinDeny() {
		e, err := parseDenyEntry(b.Pattern)
		if err != nil {
			return nil, fmt.Errorf("crawler: built-in deny entry: %w", err)
		}
		e.DenyEntry = b
		e.origin = "goodbot's built-in denylist"
		d.entries = append(d.entries, e)
	}
	for i, s := range user {
		e, err := parseDenyEntry(s)
		if err != nil {
			return nil, fmt.Errorf("crawler: Deny[%d]: %w", i, err)
		}
		e.Why = "listed by the operator"
		e.origin = fmt.Sprintf("the operator's denylist (Config.Deny[%d])", i)
		d.entries = append(d.entries, e)
	}
	return d, nil
}

// match returns the entry that denies host, if any.
func (d *denyList) match(host string) (denyEntry, bool) {
	h, err := canonicalHost(host)
	if err != nil {
		h = strings.ToLower(host)
	}
	for _, e := range d.entries {
		if h == e.host || (e.suffix && strings.HasSuffix(h, "."+e.host)) {
			return e, true
		}
	}
	return denyEntry{}, false
}

// reason returns why host is refused, citing the entry, or "".
func (d *denyList) reason(host string) string {
	e, ok := d.match(host)
	if !ok {
		return ""
	}
	return fmt.Sprintf("host %s matches %s on %s: %s", strings.ToLower(host), e.Pattern, e.origin, e.Why)
}
