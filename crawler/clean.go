package crawler

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// cleanHTML returns the cleaned DOM of an HTML page for StoreClean: the
// markup and visible text as they are, without script, style, template
// and noscript elements, comments, processing instructions, event-handler
// attributes (onclick=…), inline styles, or javascript: URLs.
func cleanHTML(b []byte) []byte {
	z := html.NewTokenizer(bytes.NewReader(b))
	var out bytes.Buffer
	out.Grow(len(b) / 2)
	skip := 0 // inside an element dropped whole
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out.Bytes()
		case html.CommentToken:
			continue
		case html.StartTagToken, html.SelfClosingTagToken:
			raw := z.Raw()
			t := z.Token()
			if dropElement(t.Data) {
				if tt == html.StartTagToken {
					skip++
				}
				continue
			}
			if skip > 0 {
				continue
			}
			kept := t.Attr[:0]
			for _, a := range t.Attr {
				k := a.Key
				if strings.HasPrefix(k, "on") || k == "style" || k == "srcdoc" ||
					strings.HasPrefix(strings.TrimSpace(strings.ToLower(a.Val)), "javascript:") {
					continue
				}
				kept = append(kept, a)
			}
			if len(kept) == len(t.Attr) {
				out.Write(raw)
				continue
			}
			t.Attr = kept
			out.WriteString(t.String())
		case html.EndTagToken:
			name, _ := z.TagName()
			if dropElement(string(name)) {
				if skip > 0 {
					skip--
				}
				continue
			}
			if skip == 0 {
				out.Write(z.Raw())
			}
		default: // text, doctype
			if skip == 0 {
				out.Write(z.Raw())
			}
		}
	}
}

func dropElement(name string) bool {
	switch name {
	case "script", "style", "template", "noscript":
		return true
	}
	return false
}
