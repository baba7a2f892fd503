package operator

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/goodbot/goodbot/internal/site"
)

// Bounds of the complaint form's fields.
const (
	MaxSite    = 300      // bytes of the site field
	MaxEmail   = 254      // bytes of the e-mail field (RFC 5321 path limit)
	MaxMessage = 4 << 10  // bytes of the message
	MaxBody    = 16 << 10 // bytes of a whole form submission
	maxHost    = 253      // bytes of a DNS name
	maxLabel   = 63       // bytes of one DNS label
)

// Submission is a complaint as the form sent it, once validated.
type Submission struct {
	Site    string // site key: host or host:port, lower case
	Email   string // the complainant's address, to answer them
	Message string // what they ask for and why
}

// FieldError is a form field that did not validate.
type FieldError struct {
	Field string // "site", "email", "message"
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// ParseSubmission validates the fields of a complaint form. The site may be
// given as a host name, host:port, an IP address or an http(s) URL; it
// comes back as a site key. Every field is bounded, must be UTF-8, and
// may not hold control characters (the message may hold line breaks and
// tabs). An error is a *FieldError.
func ParseSubmission(siteField, email, message string) (Submission, error) {
	s, err := parseSite(siteField)
	if err != nil {
		return Submission{}, &FieldError{"site", err.Error()}
	}
	e, err := parseEmail(email)
	if err != nil {
		return Submission{}, &FieldError{"email", err.Error()}
	}
	m, err := parseMessage(message)
	if err != nil {
		return Submission{}, &FieldError{"message", err.Error()}
	}
	return Submission{Site: s, Email: e, Message: m}, nil
}

func parseSite(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", errors.New("required")
	case len(v) > MaxSite:
		return "", fmt.Errorf("longer than %d bytes", MaxSite)
	case !printable(v, false):
		return "", errors.New("holds control characters or is not UTF-8")
	}
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil {
			return "", errors.New("not a valid URL")
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return "", fmt.Errorf("scheme %q: want http or https", u.Scheme)
		}
		if u.User != nil {
			return "", errors.New("a URL with a user name or password is not a site")
		}
		v = u.Host
		if u.Port() == "" {
			v = u.Hostname()
		}
	}
	host, port := v, ""
	if h, p, err := net.SplitHostPort(v); err == nil {
		host, port = h, p
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if port != "" {
		if len(port) > 5 || strings.Trim(port, "0123456789") != "" || port[0] == '0' {
			return "", fmt.Errorf("port %q is not a number from 1 to 65535", port)
		}
		var n int
		fmt.Sscan(port, &n)
		if n < 1 || n > 65535 {
			return "", fmt.Errorf("port %q is not a number from 1 to 65535", port)
		}
	}
	if net.ParseIP(host) == nil {
		if err := checkHostName(host); err != nil {
			return "", err
		}
	}
	hp := host
	if strings.Contains(host, ":") {
		hp = "[" + host + "]"
	}
	if port != "" {
		hp = net.JoinHostPort(host, port)
	}
	k, err := site.Parse(hp)
	if err != nil {
		return "", errors.New("not a host name, host:port or URL")
	}
	return k, nil
}

// checkHostName accepts an LDH host name (punycode for IDNs) of at least
// two labels.
func checkHostName(h string) error {
	if h == "" || len(h) > maxHost {
		return errors.New("not a host name")
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return errors.New("want a full host name such as example.org")
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabel || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("host name label %q is not valid", l)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("host name %q holds %q: write an internationalised name in its xn-- form", h, c)
			}
		}
	}
	return nil
}

func parseEmail(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", errors.New("required, so that the operator can answer")
	case len(v) > MaxEmail:
		return "", fmt.Errorf("longer than %d bytes", MaxEmail)
	case !printable(v, false):
		return "", errors.New("holds control characters or is not UTF-8")
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") {
		return "", errors.New("not an e-mail address such as ops@example.org")
	}
	return v, nil
}

func parseMessage(v string) (string, error) {
	v = strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n"))
	switch {
	case v == "":
		return "", errors.New("required: say what you ask for")
	case len(v) > MaxMessage:
		return "", fmt.Errorf("longer than %d bytes", MaxMessage)
	case !printable(v, true):
		return "", errors.New("holds control characters or is not UTF-8")
	}
	return v, nil
}

// printable reports whether s is UTF-8 without control characters; lines
// allows line feeds and tabs.
func printable(s string, lines bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if lines && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}
