package leakcorpus

import (
	"fmt"
	"html"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// maxRecorded bounds the request log of a Site.
const maxRecorded = 100000

// page is one served response.
type page struct {
	path     string
	ctype    string
	body     []byte
	template string
	enc      Encoding
}

// Site serves the corpus: an index at "/" linking to every page, each
// template in each of its encodings, a small member page for any other path
// (so that links carrying personal data, when followed, are answered and
// counted), and a 404 for /robots.txt (everything allowed). It records the
// request URI of every request it receives, up to 100,000.
type Site struct {
	pages   map[string]*page
	paths   []string
	planted []Planted
	decoys  []Decoy

	mu   sync.Mutex
	reqs []string
}

func encSlug(e Encoding) string {
	switch e {
	case GBKHeader:
		return "gbk-header"
	case GBKMeta:
		return "gbk-meta"
	case GBKHTTPEquiv:
		return "gbk-equiv"
	case GB18030BOM:
		return "gb18030-bom"
	case Big5Meta:
		return "big5"
	}
	return "utf8"
}

// encodingsFor lists the encodings a template is served in.
func encodingsFor(t template) []Encoding {
	switch t.kind {
	case "json":
		return []Encoding{UTF8, GBKHeader}
	case "plain":
		return []Encoding{UTF8, GBKHeader, GB18030BOM}
	}
	e := []Encoding{UTF8, GBKHeader, GBKMeta, GBKHTTPEquiv, GB18030BOM}
	if t.trad {
		e = append(e, Big5Meta)
	}
	return e
}

func contentType(kind string, e Encoding) string {
	base := map[string]string{"html": "text/html", "json": "application/json", "plain": "text/plain"}[kind]
	switch e {
	case UTF8:
		return base + "; charset=utf-8"
	case GBKHeader:
		return base + "; charset=GBK"
	case GB18030BOM:
		if kind == "plain" {
			return base + "; charset=gb18030"
		}
	}
	return base
}

// New builds the corpus from seed.
func New(seed uint64) (*Site, error) {
	s := &Site{pages: map[string]*page{}}
	g := NewGen(seed)
	for _, t := range templates {
		for _, e := range encodingsFor(t) {
			ext := map[string]string{"html": ".html", "json": ".json", "plain": ".log"}[t.kind]
			path := "/" + t.name + "/" + encSlug(e) + ext
			b := &builder{g: g, enc: e, page: path}
			src := t.fn(b)
			body, ok := Encode(e, src)
			if !ok {
				for _, r := range src {
					if _, ok := Encode(e, string(r)); !ok {
						return nil, fmt.Errorf("leakcorpus: page %s has %q, which %s cannot encode", path, r, e)
					}
				}
				return nil, fmt.Errorf("leakcorpus: page %s cannot be encoded in %s", path, e)
			}
			if e == GB18030BOM {
				body = append([]byte{0x84, 0x31, 0x95, 0x33}, body...)
			}
			s.pages[path] = &page{path: path, ctype: contentType(t.kind, e), body: body, template: t.name, enc: e}
			s.paths = append(s.paths, path)
			s.planted = append(s.planted, b.planted...)
			s.decoys = append(s.decoys, b.decoys...)
		}
	}
	sort.Strings(s.paths)
	return s, nil
}

// ServeHTTP serves the corpus and records the request.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if len(s.reqs) < maxRecorded {
		s.reqs = append(s.reqs, r.RequestURI)
	}
	s.mu.Unlock()
	switch p := r.URL.Path; {
	case p == "/robots.txt":
		http.NotFound(w, r)
	case p == "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var b strings.Builder
		b.WriteString("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Corpus index</title></head><body><h1>Pages</h1><ul>\n")
		for _, path := range s.paths {
			pg := s.pages[path]
			fmt.Fprintf(&b, "<li><a href=\"%s\">%s (%s)</a></li>\n", html.EscapeString(path), pg.template, pg.enc)
		}
		b.WriteString("</ul></body></html>\n")
		w.Write([]byte(b.String()))
	default:
		if pg, ok := s.pages[p]; ok {
			w.Header().Set("Content-Type", pg.ctype)
			w.Write(pg.body)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>会员中心</title></head><body><p>请先登录。</p><a href="/">返回首页</a></body></html>`))
	}
}

// Requests returns the request URIs received so far, in order.
func (s *Site) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...)
}

// Planted returns every planted value.
func (s *Site) Planted() []Planted { return append([]Planted(nil), s.planted...) }

// Decoys returns every decoy.
func (s *Site) Decoys() []Decoy { return append([]Decoy(nil), s.decoys...) }

// Pages returns the URL paths of the corpus pages (not the index), sorted.
func (s *Site) Pages() []string { return append([]string(nil), s.paths...) }

// Body returns the bytes served at path and its Content-Type.
func (s *Site) Body(path string) ([]byte, string, bool) {
	p, ok := s.pages[path]
	if !ok {
		return nil, "", false
	}
	return p.body, p.ctype, true
}
