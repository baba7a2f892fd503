package crawler

import (
	"fmt"
	"strings"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/robots"
	"github.com/goodbot/goodbot/crawler/usage"
)

// usagePrefs gathers the usage preferences in force for the page r
// fetched: its own (the Content-Usage and tdm-reservation headers, the
// tdm-reservation meta, in rules), the robots.txt Content-Usage and
// Content-Signal lines for its URL, and its site's tdmrep.json. Every
// value has passed the personal-data filter. It returns them with the
// audit signals that record each, and the decision it causes under the
// crawl's purpose.
func (cr *Crawler) usagePrefs(r *request, rules *pageRules) ([]usage.Pref, []audit.Signal) {
	r.mu.Lock()
	lines, tdm := r.robotsUsage, r.tdm
	r.mu.Unlock()
	var prefs []usage.Pref
	var sigs []audit.Signal
	if rules != nil {
		prefs = append(prefs, rules.usage...)
		sigs = append(sigs, rules.usageErrs...)
	}
	for _, l := range lines {
		stated := fmt.Sprintf("%s (line %d)", l.String(), l.Line)
		var ps []usage.Pref
		var err error
		source := usage.SourceRobotsUsage
		if l.Key == robots.KeyContentSignal {
			source = usage.SourceRobotsSignal
			ps, err = usage.ParseContentSignal(l.Value)
		} else {
			ps, err = usage.ParseContentUsage(source, l.Value)
		}
		if err != nil {
			sigs = append(sigs, audit.Signal{Source: source, Rule: shortRule(stated), Decision: "partly or wholly unreadable, so those preferences are unknown: " + err.Error()})
		}
		for i := range ps {
			ps[i].Value = shortRule(stated)
		}
		prefs = append(prefs, ps...)
	}
	if tdm != nil && tdm.pref != nil {
		prefs = append(prefs, *tdm.pref)
	}
	for i := range prefs {
		prefs[i].Value = cr.gate.redactText(prefs[i].Value)
	}
	for i := range sigs {
		sigs[i].Rule = cr.gate.redactText(sigs[i].Rule)
		sigs[i].Decision = cr.gate.redactText(sigs[i].Decision)
	}
	purpose := cr.cfg.Purpose
	for _, p := range prefs {
		sigs = append(sigs, audit.Signal{Source: p.Source, Rule: prefRule(p), Decision: prefDecision(purpose, p)})
	}
	if len(sigs) > maxRules {
		sigs = sigs[:maxRules]
	}
	return prefs, sigs
}

// prefRule formats a preference for an audit signal: the term and its
// value, then the statement as read.
func prefRule(p usage.Pref) string {
	v := "n"
	if p.Allow {
		v = "y"
	}
	return shortRule(p.Term + "=" + v + " from " + p.Value)
}

// prefDecision says what a preference does to a crawl for purpose.
func prefDecision(purpose usage.Purpose, p usage.Pref) string {
	switch {
	case !purpose.Governs(p):
		return fmt.Sprintf("does not concern purpose %s", purpose)
	case p.Allow:
		return fmt.Sprintf("allows purpose %s", purpose)
	default:
		return fmt.Sprintf("not stored: reserves purpose %s", purpose)
	}
}

// reservedWhy returns why a page with prefs is not stored for purpose, or
// "" when none of them reserves it.
func reservedWhy(purpose usage.Purpose, prefs []usage.Pref) string {
	res := purpose.Reserving(prefs)
	if len(res) == 0 {
		return ""
	}
	var why []string
	for _, p := range res {
		why = append(why, p.Source+": "+p.Term+"=n ("+p.Value+")")
	}
	return fmt.Sprintf("the site's usage preferences reserve the crawl's purpose %s (%s); the page was fetched, since preferences govern use, not fetching", purpose, strings.Join(why, "; "))
}
