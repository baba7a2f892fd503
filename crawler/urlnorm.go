package crawler

import (
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// NormalizeURL parses raw as an absolute http or https URL and puts it in the
// form the crawler deduplicates on: lower-case scheme and host, no default
// port, no fragment, dot segments resolved, an empty path as "/", and
// percent-encoding normalised (upper-case hex; unreserved characters
// decoded). A port outside 1 to 65535 is refused. The query string is kept exactly as given: its order matters to
// robots.txt rules and to the site.
func NormalizeURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("crawler: URL %q: %w", raw, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("crawler: URL %q: scheme %q is not crawled (want http or https)", raw, u.Scheme)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("crawler: URL %q is not absolute (want http:// or https://)", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("crawler: URL %q carries credentials; goodbot does not log in", raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("crawler: URL %q has no host", raw)
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port != "" {
		// url.Parse takes any digits; a port is 1 to 65535, and leading
		// zeros do not make another URL.
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("crawler: URL %q: port %s is not a TCP port (want 1 to 65535)", raw, port)
		}
		port = strconv.Itoa(n)
	}
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""

	p := normalizeEscapes(u.EscapedPath())
	if p == "" {
		p = "/"
	}
	if strings.Contains(p, "/.") {
		trailing := strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
		p = path.Clean(p)
		if trailing && p != "/" {
			p += "/"
		}
	}
	dec, err := url.PathUnescape(p)
	if err != nil {
		return nil, fmt.Errorf("crawler: URL %q: %w", raw, err)
	}
	u.Path, u.RawPath = dec, p
	if u.EscapedPath() != p {
		// url.URL chose another encoding; keep ours.
		u.RawPath = p
	}
	u.RawQuery = normalizeEscapes(u.RawQuery)
	u.ForceQuery = false
	return u, nil
}

// normalizeEscapes upper-cases the hex digits of percent-escapes and decodes
// the escapes of unreserved characters (RFC 3986 section 6.2.2).
func normalizeEscapes(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			v := unhex(s[i+1])<<4 | unhex(s[i+2])
			if isUnreserved(v) {
				b.WriteByte(v)
			} else {
				b.WriteByte('%')
				b.WriteByte(upper(s[i+1]))
				b.WriteByte(upper(s[i+2]))
			}
			i += 2
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}
