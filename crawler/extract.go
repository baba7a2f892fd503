package crawler

import (
	"bytes"
	"mime"
	"strings"

	"golang.org/x/net/html"
)

// extractText returns the title and the visible text of an HTML page, with
// white space collapsed. For plain text it returns the text itself; for
// other types, nothing.
func extractText(ctype string, body []byte) (title, text string) {
	mt, _, _ := mime.ParseMediaType(ctype)
	switch {
	case mt == "text/plain":
		return "", collapse(string(body))
	case mt == "text/html" || mt == "application/xhtml+xml" || (mt == "" && looksHTML("", body)):
	default:
		return "", ""
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	var tb, xb strings.Builder
	skip := 0
	inTitle := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			return collapse(tb.String()), collapse(xb.String())
		case html.StartTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "noscript", "template", "svg":
				skip++
			case "title":
				inTitle = true
			case "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "section", "article":
				xb.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "noscript", "template", "svg":
				if skip > 0 {
					skip--
				}
			case "title":
				inTitle = false
			}
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := z.Text()
			if inTitle {
				tb.Write(t)
				continue
			}
			xb.Write(t)
			xb.WriteByte(' ')
		}
	}
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
