package operator

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/goodbot/goodbot/internal/site"
)

// FuzzParseSubmission checks that whatever the form accepts is bounded,
// printable, and a site key that the rest of goodbot accepts as is.
func FuzzParseSubmission(f *testing.F) {
	for _, s := range [][3]string{
		{"example.org", "ops@example.org", "stop"},
		{"https://Example.ORG:8443/a?b#c", "a.b@example.co.uk", "line\nline\ttab"},
		{"[::1]:8080", "x@y.z", "m"},
		{"127.0.0.1", "x@y.z", "m"},
		{"<script>", "<a@b.c>", "<script>alert(1)</script>"},
		{"xn--fiqs8s.cn", "用户@例子.中国", "请停止抓取"},
		{"http://user@example.org", "a@b", "\x00"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, siteField, email, msg string) {
		sub, err := ParseSubmission(siteField, email, msg)
		if err != nil {
			if _, ok := err.(*FieldError); !ok {
				t.Fatalf("error %T is not a *FieldError", err)
			}
			return
		}
		if k, err := site.Parse(sub.Site); err != nil || k != sub.Site {
			t.Fatalf("site %q: site.Parse gives %q, %v", sub.Site, k, err)
		}
		if strings.ContainsAny(sub.Site, "<>\"' /") || len(sub.Site) > MaxSite {
			t.Fatalf("site %q", sub.Site)
		}
		if len(sub.Email) > MaxEmail || len(sub.Message) > MaxMessage || sub.Message == "" || sub.Email == "" {
			t.Fatalf("bounds: %d %d", len(sub.Email), len(sub.Message))
		}
		if !utf8.ValidString(sub.Email) || !utf8.ValidString(sub.Message) || !printable(sub.Email, false) || !printable(sub.Message, true) {
			t.Fatalf("unprintable field accepted: %q %q", sub.Email, sub.Message)
		}
	})
}
