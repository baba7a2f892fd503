package crawler

import (
	"context"
	"net/http"
	"strings"

	"github.com/goodbot/goodbot/audit"
)

// scrubSink passes every event through the page filter before the sink
// beneath it sees it: URLs with FilterURL, every free-text field (reasons,
// errors, robots.txt copies) with FilterText. It is the one place where
// the operation log's content is checked, whoever records the event (the
// gate, the limiter, a complaint), because the log is append-only and kept
// for six months: what reaches it cannot be cleaned afterwards.
type scrubSink struct {
	next audit.Sink
	f    PageFilter
}

// newScrubSink wraps next, keeping its AsyncSink side if it has one.
func newScrubSink(next audit.Sink, f PageFilter) audit.Sink {
	s := scrubSink{next: next, f: f}
	if _, ok := next.(audit.AsyncSink); ok {
		return asyncScrubSink{s}
	}
	return s
}

// Record implements audit.Sink.
func (s scrubSink) Record(ctx context.Context, e audit.Event) error {
	return s.next.Record(ctx, s.scrub(e))
}

type asyncScrubSink struct{ scrubSink }

// Append implements audit.AsyncSink.
func (s asyncScrubSink) Append(ctx context.Context, e audit.Event) error {
	return s.next.(audit.AsyncSink).Append(ctx, s.scrub(e))
}

// scrub returns e with its payload copied and filtered; e itself is not
// changed, so that callers may keep using what they recorded.
func (s scrubSink) scrub(e audit.Event) audit.Event {
	url, text := s.f.FilterURL, s.f.FilterText
	switch {
	case e.Decision != nil:
		d := *e.Decision
		d.URL, d.Reason, d.RobotsRule = url(d.URL), text(d.Reason), text(d.RobotsRule)
		d.Checks = append([]audit.Check(nil), d.Checks...)
		for i := range d.Checks {
			d.Checks[i].Reason = text(d.Checks[i].Reason)
		}
		if d.Conditional != nil {
			c := scrubConditional(*d.Conditional, text)
			d.Conditional = &c
		}
		e.Decision = &d
	case e.Fetch != nil:
		f := *e.Fetch
		f.URL, f.Error, f.NotStored = url(f.URL), text(f.Error), text(f.NotStored)
		f.Signals = append([]audit.Signal(nil), f.Signals...)
		for i := range f.Signals {
			f.Signals[i].Rule, f.Signals[i].Decision = text(f.Signals[i].Rule), text(f.Signals[i].Decision)
		}
		// goodbot's own User-Agent and From, which name the operator's
		// contact, are kept as sent: the entry records the User-Agent
		// anyway, and the From address is in it.
		own := func(v string) string {
			if v != "" && f.UserAgent != "" && strings.Contains(f.UserAgent, v) {
				return v
			}
			return text(v)
		}
		f.RequestHeader, f.ResponseHeader = scrubHeader(f.RequestHeader, url, text, own), scrubHeader(f.ResponseHeader, url, text, nil)
		if f.Revisit != nil {
			rv := *f.Revisit
			rv.Conditional = scrubConditional(rv.Conditional, text)
			f.Revisit = &rv
		}
		e.Fetch = &f
	case e.Robots != nil:
		r := *e.Robots
		r.URL, r.Error = url(r.URL), text(r.Error)
		if len(r.Body) > 0 {
			if b := text(string(r.Body)); b != string(r.Body) {
				// The copy no longer matches SHA256, the digest of the
				// file as fetched; Redacted says why.
				r.Body, r.Redacted = []byte(b), true
			}
		}
		e.Robots = &r
	case e.Budget != nil:
		b := *e.Budget
		b.Reason, b.Source = text(b.Reason), text(b.Source)
		e.Budget = &b
	case e.PII != nil:
		p := *e.PII
		p.URL, p.Reason = url(p.URL), text(p.Reason)
		e.PII = &p
	case e.Run != nil:
		r := *e.Run
		r.Reason = text(r.Reason)
		e.Run = &r
	case e.Config != nil:
		c := *e.Config
		c.Relaxations = append([]string(nil), c.Relaxations...)
		for i := range c.Relaxations {
			c.Relaxations[i] = text(c.Relaxations[i])
		}
		e.Config = &c
	}
	return e
}

// scrubConditional returns c with its validators filtered. The crawler
// sends only validators the filter leaves alone; this is the log's own
// check.
func scrubConditional(c audit.Conditional, text func(string) string) audit.Conditional {
	c.IfNoneMatch, c.IfModifiedSince = text(c.IfNoneMatch), text(c.IfModifiedSince)
	return c
}

// withheldHeader lists the header fields whose values identify a session
// or a person by design: the log keeps that they were there, not what
// they held.
var withheldHeader = map[string]bool{"Cookie": true, "Set-Cookie": true, "Authorization": true, "Proxy-Authorization": true}

// Withheld replaces the value of a withheld header field in the log.
const Withheld = "[withheld by goodbot]"

// scrubHeader returns a filtered copy of h: URL-valued fields pass
// FilterURL, User-Agent and From own (when not nil), the others
// FilterText, and a field whose name the filter would change is left out.
func scrubHeader(h map[string][]string, url, text, own func(string) string) map[string][]string {
	if h == nil {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		if text(k) != k {
			continue
		}
		f := text
		switch http.CanonicalHeaderKey(k) {
		case "Location", "Content-Location", "Referer":
			f = url
		case "User-Agent", "From":
			if own != nil {
				f = own
			}
		}
		c := make([]string, len(vs))
		for i, v := range vs {
			if withheldHeader[http.CanonicalHeaderKey(k)] {
				c[i] = Withheld
			} else {
				c[i] = f(v)
			}
		}
		out[k] = c
	}
	return out
}
