package crawler

import (
	"mime"
	"sync"

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
//
// URLs and short texts are filtered once each: a crawl filters the same
// ones again and again (a page's URL for its decision, its fetch, its
// callbacks; the same reasons and header values in every entry), and the
// filter gives the same answer for the same input, so recent answers are
// kept in memory (see memo).
func PIIFilter(f *pii.Filter) PageFilter {
	return piiFilter{f: f, urls: newMemo(memoEntries), texts: newMemo(memoEntries)}
}

type piiFilter struct {
	f           *pii.Filter
	urls, texts *memo
}

func (p piiFilter) FilterURL(u string) string { return p.urls.do(u, p.f.RedactURL) }

func (p piiFilter) FilterText(s string) string { return p.texts.do(s, p.f.RedactField) }

// memoEntries bounds each memo: two generations of this many answers.
const memoEntries = 4096

// memoMaxLen is the longest input a memo keeps: longer ones (bodies of
// error messages, long header values) are rarely seen twice.
const memoMaxLen = 1024

// memo keeps the filter's recent answers, in two generations: when the
// current one is full it becomes the old one, and the old one goes. An
// answer found in the old generation moves to the current one. What it
// holds is in memory only; nothing of it is stored.
type memo struct {
	mu       sync.Mutex
	max      int
	cur, old map[string]string
}

func newMemo(max int) *memo { return &memo{max: max, cur: make(map[string]string)} }

// do returns f(in), from memory when in was filtered recently.
func (m *memo) do(in string, f func(string) string) string {
	if in == "" || len(in) > memoMaxLen {
		return f(in)
	}
	m.mu.Lock()
	out, ok := m.cur[in]
	if !ok {
		if out, ok = m.old[in]; ok {
			m.putLocked(in, out)
		}
	}
	m.mu.Unlock()
	if ok {
		return out
	}
	out = f(in)
	m.mu.Lock()
	m.putLocked(in, out)
	m.mu.Unlock()
	return out
}

func (m *memo) putLocked(in, out string) {
	if len(m.cur) >= m.max {
		m.old, m.cur = m.cur, make(map[string]string, m.max)
	}
	m.cur[in] = out
}

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
