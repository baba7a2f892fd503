// Package site names the unit that goodbot's rules apply to: one host, with its
// port when the port is not the scheme's default. Budgets, holds, stop lists,
// output directories and audit queries are all keyed by it.
package site

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Key returns the site key of u: the lower-cased host name, followed by
// ":port" when u names a port other than the default for its scheme.
// IPv6 literals keep their brackets, e.g. "[::1]:8080".
func Key(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" || (port == "80" && u.Scheme == "http") || (port == "443" && u.Scheme == "https") {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, port)
}

// Parse checks that s is a site key as users type it on the command line
// ("example.com", "example.com:8080", "127.0.0.1:8080", "[::1]:8080") and
// returns it in canonical form. Ports 80 and 443, the defaults of http and
// https, are dropped, as Key drops them: "example.com:443" is the site
// "example.com".
func Parse(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("site %q: empty host", s)
	}
	if strings.ContainsAny(s, "/?#@ \t") {
		return "", fmt.Errorf("site %q: want a host or host:port, not a URL", s)
	}
	u, err := url.Parse("http://" + s)
	if err != nil {
		return "", fmt.Errorf("site %q: %w", s, err)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("site %q: empty host", s)
	}
	if p := u.Port(); p != "" {
		for _, c := range p {
			if c < '0' || c > '9' {
				return "", fmt.Errorf("site %q: bad port %q", s, p)
			}
		}
		if p != "80" && p != "443" {
			return net.JoinHostPort(strings.ToLower(u.Hostname()), p), nil
		}
		u.Host = u.Hostname()
		if strings.Contains(u.Host, ":") {
			u.Host = "[" + u.Host + "]"
		}
	}
	return Key(u), nil
}
