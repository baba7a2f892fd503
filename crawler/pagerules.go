package crawler

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/usage"
	"github.com/goodbot/goodbot/internal/ahocorasick"
)

// This file reads the robots rules a page gives about itself: <meta
// name="robots">, <meta name="goodbot">, the X-Robots-Tag header, and
// rel="nofollow" (ugc, sponsored) on its links. robots.txt says what may be
// fetched; these say what may be done with what was fetched.

// ctxRules is the colly.Context key under which a page's rules reach the
// links its callbacks follow.
const ctxRules = "goodbot.rules"

// pageRules are the rules a page gives goodbot. The zero value allows
// everything.
type pageRules struct {
	page, site string // the page's URL, as the filter left it, and its site
	noindex    bool
	nofollow   bool
	noarchive  bool
	// unavailableAfter, if set, is the time from which the page is not
	// to be stored; badDate is set when a date was given that goodbot
	// cannot read (it is then treated as passed).
	unavailableAfter time.Time
	badDate          string
	// relNofollow maps each link (normalised URL) that every anchor of
	// the page to it marks rel="nofollow", "ugc" or "sponsored" to that
	// rel value.
	relNofollow map[string]string
	// rules lists each rule as read, with where it came from.
	rules []audit.Signal
	// usage lists the usage preferences the page's answer stated
	// (Content-Usage, tdm-reservation header or meta); usageErrs the
	// statements that could not be read, whose preferences are unknown.
	usage     []usage.Pref
	usageErrs []audit.Signal
	// metaTDM and metaPolicy are the content of the page's first <meta
	// name="tdm-reservation"> and <meta name="tdm-policy">, if any.
	metaTDM, metaPolicy *string
}

// Sources of page rules, as recorded in audit.Signal.Source.
const (
	srcMetaRobots  = "meta robots"
	srcMetaGoodbot = "meta goodbot"
	srcHeader      = "X-Robots-Tag"
)

// maxRules bounds the rules a page records, and maxRelLinks the links
// marked rel=nofollow that it keeps, so that a hostile page cannot make
// the log or memory grow without bound.
const (
	maxRules    = 32
	maxRelLinks = 10000
	maxTokens   = 200000
)

// unavailableLayouts are the date forms unavailable_after is read in: RFC
// 822 / 1123 / 850 and ISO 8601, the forms search engines document.
var unavailableLayouts = []string{
	time.RFC1123, time.RFC1123Z, time.RFC850, time.RFC822, time.RFC822Z, time.ANSIC,
	time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02",
	"2 Jan 2006 15:04:05 MST", "2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04 MST", "2 Jan 2006",
	"Monday, 2-Jan-2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006",
}

// parseUnavailable reads an unavailable_after date.
func parseUnavailable(s string) (time.Time, bool) {
	s = strings.Join(strings.Fields(s), " ")
	for _, l := range unavailableLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// valueDirectives are the directives that take a value after a colon;
// any other "name:" at the start of a header value's part names a user
// agent.
var valueDirectives = map[string]bool{
	"unavailable_after": true, "max-snippet": true, "max-image-preview": true, "max-video-preview": true,
}

// agentPrefix matches a user-agent prefix ("goodbot: ...") at the start
// of a part of an X-Robots-Tag value.
var agentPrefix = regexp.MustCompile(`^([A-Za-z0-9_.-]+)\s*:\s*(.*)$`)

// add applies one directive, read from src, to p, and notes it with the
// decision it causes. Directives goodbot has nothing to do for (index,
// follow, snippet limits) are not noted.
func (p *pageRules) add(src, directive string, now time.Time) {
	d := strings.ToLower(strings.TrimSpace(directive))
	if d == "" {
		return
	}
	name, value, _ := strings.Cut(d, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	var decision string
	switch name {
	case "noindex":
		p.noindex = true
		decision = "not stored"
	case "nofollow":
		p.nofollow = true
		decision = "links not followed"
	case "none":
		p.noindex, p.nofollow = true, true
		decision = "not stored; links not followed"
	case "noarchive", "nocache":
		p.noarchive = true
		decision = "stored without an archive copy (no body in the WARC or exports)"
	case "unavailable_after":
		// The value as given, not lower-cased, for the log and the parser.
		_, raw, _ := strings.Cut(strings.TrimSpace(directive), ":")
		raw = strings.TrimSpace(raw)
		t, ok := parseUnavailable(raw)
		switch {
		case !ok:
			p.badDate = raw
			decision = "not stored: a date goodbot cannot read is treated as passed"
		case !now.Before(t):
			if p.unavailableAfter.IsZero() || t.Before(p.unavailableAfter) {
				p.unavailableAfter = t
			}
			decision = "not stored: unavailable since " + t.UTC().Format(time.RFC3339)
		default:
			if p.unavailableAfter.IsZero() || t.Before(p.unavailableAfter) {
				p.unavailableAfter = t
			}
			decision = "stored: unavailable only from " + t.UTC().Format(time.RFC3339)
		}
		d = "unavailable_after: " + raw
	default:
		return // index, follow, all, snippet rules: nothing for goodbot to do
	}
	if len(p.rules) < maxRules {
		if len(d) > 200 {
			d = d[:200]
		}
		p.rules = append(p.rules, audit.Signal{Source: src, Rule: d, Decision: decision})
	}
}

// addMeta applies the content of a <meta name="robots"> or <meta
// name="goodbot">: directives separated by commas.
func (p *pageRules) addMeta(src, content string, now time.Time) {
	p.addList(src, content, now, false)
}

// addHeader applies one X-Robots-Tag header value. A part may start with
// a user agent's name and a colon; the directives after it, up to the
// next such name, apply to that agent only, and only those for goodbot
// (or for no agent in particular) are used.
func (p *pageRules) addHeader(value string, now time.Time) {
	p.addList(srcHeader, value, now, true)
}

func (p *pageRules) addList(src, list string, now time.Time, agents bool) {
	forUs := true
	var pending string // an unavailable_after whose date may hold commas
	flush := func() {
		if pending != "" {
			if forUs {
				p.add(src, pending, now)
			}
			pending = ""
		}
	}
	for i, part := range strings.Split(list, ",") {
		if i >= 256 {
			break
		}
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if agents {
			if m := agentPrefix.FindStringSubmatch(part); m != nil && !valueDirectives[strings.ToLower(m[1])] {
				flush()
				forUs = strings.EqualFold(m[1], ProductToken)
				part = m[2]
				if part == "" {
					continue
				}
			}
		}
		name, _, _ := strings.Cut(strings.ToLower(part), ":")
		name = strings.TrimSpace(name)
		switch {
		case name == "unavailable_after":
			flush()
			pending = part
		case pending != "" && !knownDirective(name):
			// The date went on past a comma ("Friday, 25-Jun-2026 ...").
			pending += ", " + part
		default:
			flush()
			if forUs {
				p.add(src, part, now)
			}
		}
	}
	flush()
}

// knownDirective reports whether name is a robots directive of any
// search engine's, so that a date is not taken to run on into it.
func knownDirective(name string) bool {
	switch name {
	case "all", "index", "noindex", "follow", "nofollow", "none", "noarchive", "nocache", "nosnippet",
		"noimageindex", "notranslate", "indexifembedded", "noodp", "noydir", "max-snippet", "max-image-preview", "max-video-preview":
		return true
	}
	return false
}

// rulesMatcher finds, case-insensitively, the words without which a page
// gives no rules, so that pages without them are not tokenized.
var rulesMatcher = ahocorasick.New([]string{"robots", ProductToken, "nofollow", "ugc", "sponsored", "tdm-"})

// readPageRules reads the rules of a page: its X-Robots-Tag headers and,
// for HTML, its robots meta tags and the rel values of its links. base is
// the page's URL. It returns nil when the page gives none.
func readPageRules(lr linkResolver, base *url.URL, hdr http.Header, body []byte, isHTML bool, now time.Time) *pageRules {
	p := &pageRules{}
	for _, v := range hdr.Values("X-Robots-Tag") {
		p.addHeader(v, now)
	}
	if isHTML {
		if _, ok := rulesMatcher.First(body); ok {
			p.readHTML(lr, base, body, now)
		}
	}
	p.readUsage(hdr)
	if len(p.rules) == 0 && len(p.relNofollow) == 0 && len(p.usage) == 0 && len(p.usageErrs) == 0 {
		return nil
	}
	return p
}

// readUsage reads the usage preferences of a page: the Content-Usage
// header (draft-ietf-aipref-attach), and the TDMRep tdm-reservation and
// tdm-policy, from the header or, when the header gives none, from the
// page's <meta> (TDMRep: the header overrides the meta).
func (p *pageRules) readUsage(hdr http.Header) {
	if vs := hdr.Values("Content-Usage"); len(vs) > 0 {
		prefs, err := usage.ParseContentUsage(usage.SourceHeader, vs...)
		if err != nil {
			p.usageErrs = append(p.usageErrs, audit.Signal{Source: usage.SourceHeader, Rule: shortRule(strings.Join(vs, ", ")),
				Decision: "unreadable, so its preferences are unknown: " + err.Error()})
		}
		p.usage = append(p.usage, prefs...)
	}
	if vs := hdr.Values("Tdm-Reservation"); len(vs) > 0 {
		value := "tdm-reservation: " + strings.Join(vs, ", ")
		if pol := hdr.Get("Tdm-Policy"); pol != "" {
			value += "; tdm-policy: " + pol
		}
		if pref, ok := usage.TDMPref(usage.SourceTDMHeader, usage.ParseTDMValue(vs[len(vs)-1]), value); ok {
			p.usage = append(p.usage, pref)
			return
		}
		p.usageErrs = append(p.usageErrs, audit.Signal{Source: usage.SourceTDMHeader, Rule: shortRule(value),
			Decision: "not 0 or 1: read as unset, as TDMRep asks"})
	}
	if p.metaTDM != nil {
		value := "tdm-reservation: " + *p.metaTDM
		if p.metaPolicy != nil {
			value += "; tdm-policy: " + *p.metaPolicy
		}
		if pref, ok := usage.TDMPref(usage.SourceTDMMeta, usage.ParseTDMValue(*p.metaTDM), value); ok {
			p.usage = append(p.usage, pref)
			return
		}
		p.usageErrs = append(p.usageErrs, audit.Signal{Source: usage.SourceTDMMeta, Rule: shortRule(value),
			Decision: "not 0 or 1: read as unset, as TDMRep asks"})
	}
}

// shortRule cuts a rule as read to the 200 bytes a Signal keeps.
func shortRule(s string) string {
	if len(s) > 200 {
		return strings.ToValidUTF8(s[:200], "")
	}
	return s
}

// readHTML reads robots meta tags and rel="nofollow" links from an HTML
// page, in one pass (scanLinks). Meta tags count wherever they are: a
// rule in the body is obeyed too. Links are resolved as
// FollowLinks and colly's e.Request.AbsoluteURL resolve them (lr, the
// document's base URL), so that a link marked nofollow is known by the
// URL it would be queued as.
func (p *pageRules) readHTML(lr linkResolver, page *url.URL, body []byte, now time.Time) {
	links, b, hasBase := scanLinks(body, func(mname, content string) {
		switch mname {
		case "tdm-reservation":
			if p.metaTDM == nil {
				p.metaTDM = &content
			}
		case "tdm-policy":
			if p.metaPolicy == nil {
				p.metaPolicy = &content
			}
		case "robots":
			p.addMeta(srcMetaRobots, content, now)
		case ProductToken:
			p.addMeta(srcMetaGoodbot, content, now)
		}
	})
	base := lr.documentBase(page, b, hasBase)
	followed := map[string]bool{} // links some anchor does not mark
	for _, l := range links {
		abs := lr.resolve(base, l.href)
		if abs == "" {
			continue
		}
		n, err := NormalizeURL(abs)
		if err != nil {
			continue
		}
		key := n.String()
		if mark := relNofollowValue(l.rel); mark != "" {
			if _, seen := p.relNofollow[key]; !seen && !followed[key] && len(p.relNofollow) < maxRelLinks {
				if p.relNofollow == nil {
					p.relNofollow = map[string]string{}
				}
				p.relNofollow[key] = mark
			}
		} else {
			followed[key] = true
			delete(p.relNofollow, key)
		}
	}
}

// relNofollowValue returns the first of nofollow, ugc and sponsored
// among the space-separated tokens of a rel attribute, or "".
func relNofollowValue(rel string) string {
	for _, t := range strings.Fields(strings.ToLower(rel)) {
		switch t {
		case "nofollow", "ugc", "sponsored":
			return t
		}
	}
	return ""
}

// notStored returns why the page is not to be stored under p, or "".
func (p *pageRules) notStored() string {
	if p == nil {
		return ""
	}
	var why []string
	for _, r := range p.rules {
		if strings.HasPrefix(r.Decision, "not stored") {
			why = append(why, r.Source+": "+r.Rule)
		}
	}
	if len(why) == 0 {
		return ""
	}
	return "the page's robots rules ask that it not be stored (" + strings.Join(why, "; ") + ")"
}

// linkRule returns why the link u (normalised), found on the page p was
// read from, is not followed, or "". relaxed is set when a relaxation lets the page's
// rel="nofollow" links be followed.
func (p *pageRules) linkRule(u *url.URL, relaxed bool) string {
	if p == nil {
		return ""
	}
	if p.nofollow {
		var src []string
		for _, r := range p.rules {
			if strings.Contains(r.Decision, "links not followed") {
				src = append(src, r.Source+": "+r.Rule)
			}
		}
		return fmt.Sprintf("the page %s asks that its links not be followed (%s)", p.page, strings.Join(src, "; "))
	}
	if mark, ok := p.relNofollow[u.String()]; ok && !relaxed {
		return fmt.Sprintf("every link to it on %s is marked rel=%q; a %s relaxation for the site follows such links", p.page, mark, FollowRelNofollow)
	}
	return ""
}
