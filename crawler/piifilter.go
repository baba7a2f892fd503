package crawler

import (
	"mime"

	"github.com/goodbot/goodbot/internal/textdecode"

	"github.com/goodbot/goodbot/pii"
)

// PIIFilter adapts a pii.Filter to a PageFilter.
//
// HTML is redacted in place; text-like bodies (text/*, JSON, XML,
// JavaScript) are redacted as text, with their string escapes decoded for
// scanning. Bodies of other types (images, PDFs, archives, fonts) cannot be
// scanned, so they are dropped: what cannot be checked for personal data is
// not passed on.
func PIIFilter(f *pii.Filter) PageFilter { return piiFilter{f} }

type piiFilter struct{ f *pii.Filter }

func (p piiFilter) FilterURL(u string) string { return p.f.RedactURL(u) }

func (p piiFilter) FilterText(s string) string { return p.f.RedactField(s) }

func (p piiFilter) FilterBody(ctype string, b []byte) ([]byte, FilterSummary, error) {
	mt, _, _ := mime.ParseMediaType(ctype)
	if mt == "" {
		mt = "text/html"
		if !looksHTML("", b) {
			mt = "application/octet-stream"
		}
	}
	var out []byte
	var rep pii.Report
	switch {
	case mt == "text/html" || mt == "application/xhtml+xml":
		var err error
		out, rep, err = p.f.RedactHTML(b)
		if err != nil {
			return nil, FilterSummary{}, err
		}
	case textdecode.Textual(mt):
		s, r := p.f.RedactText(string(b))
		out, rep = []byte(s), r
	default:
		return nil, FilterSummary{Drop: true, Reason: "content type " + mt + " cannot be scanned for personal data"}, nil
	}
	return out, FilterSummary{
		Counts:  rep.CountsByName(),
		Drop:    rep.Drop,
		Reason:  rep.Reason,
		Changed: len(rep.Counts) > 0,
	}, nil
}
