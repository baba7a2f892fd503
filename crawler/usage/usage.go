// Package usage reads the preferences a site states about how what it
// serves may be used, and decides whether they reserve a crawl's purpose.
//
// Three vocabularies are read:
//   - IETF aipref (draft-ietf-aipref-vocab, draft-ietf-aipref-attach): the
//     Content-Usage HTTP field and robots.txt rule, an RFC 9651 Dictionary
//     such as "train-ai=n, search=y";
//   - Cloudflare's Content Signals (draft-romm-aipref-contentsignals): a
//     robots.txt Content-Signal line such as "search=yes, ai-train=no";
//   - W3C TDMRep (Community Group final report, 2024): the tdm-reservation
//     and tdm-policy HTTP fields and <meta> names, and the site-wide
//     /.well-known/tdmrep.json.
//
// Preferences govern use, not fetching: robots.txt Allow and Disallow
// decide what may be fetched, and these decide what may be kept for a
// purpose. Every statement read becomes a Pref; when statements conflict,
// the most restrictive wins (draft-ietf-aipref-vocab section 7.1): one
// reservation of the purpose is enough.
package usage

import (
	"fmt"
	"slices"
	"strings"
)

// The sources a Pref is read from, as recorded in Pref.Source.
const (
	SourceHeader       = "Content-Usage header"
	SourceRobotsUsage  = "robots.txt Content-Usage"
	SourceRobotsSignal = "robots.txt Content-Signal"
	SourceTDMHeader    = "tdm-reservation header"
	SourceTDMMeta      = "meta tdm-reservation"
	SourceTDMFile      = "tdmrep.json"
)

// The terms of the vocabularies, as recorded in Pref.Term.
const (
	// IETF aipref (draft-ietf-aipref-vocab-08).
	TermTrainAI = "train-ai" // training a generative AI model
	TermAIUse   = "ai-use"   // input to a generative AI model (RAG, grounding)
	TermSearch  = "search"   // a search application that links to the asset
	// Labels of earlier aipref drafts, still deployed: "bots" (all
	// automated processing, the parent of every category) and
	// "train-genai" (a child of train-ai).
	TermBots       = "bots"
	TermTrainGenAI = "train-genai"

	// Content Signals (draft-romm-aipref-contentsignals-00).
	SignalSearch  = "search"
	SignalAIInput = "ai-input"
	SignalAITrain = "ai-train"

	// TermTDM is text and data mining, as TDMRep reserves it.
	TermTDM = "tdm"
)

// maxValue bounds the bytes of a statement a Pref keeps.
const maxValue = 200

// Pref is one preference a site stated about one term.
type Pref struct {
	// Source is where it was read: one of the Source constants.
	Source string `json:"source"`
	// Term is the term of Source's vocabulary it concerns, e.g. "train-ai".
	Term string `json:"term"`
	// Allow is the preference: true for y, yes or tdm-reservation 0;
	// false for n, no or tdm-reservation 1.
	Allow bool `json:"allow"`
	// Value is the statement as read, e.g. "train-ai=n, search=y" or
	// "Content-Usage: /private/ train-ai=n (line 4)", at most 200 bytes.
	Value string `json:"value"`
}

// String formats p as `tdmrep.json: tdm=n ("...")`.
func (p Pref) String() string {
	v := "n"
	if p.Allow {
		v = "y"
	}
	return fmt.Sprintf("%s: %s=%s (%q)", p.Source, p.Term, v, p.Value)
}

// Purpose is what a crawl's collected pages are for.
type Purpose string

// The purposes a crawl may declare.
const (
	// Unspecified is the purpose of a crawl that declares none. Any
	// reservation of any use, under any vocabulary, keeps a page from
	// being stored: goodbot cannot show that an undeclared use is not
	// the one reserved.
	Unspecified Purpose = "unspecified"
	// Search is building a search index that links to the pages.
	Search Purpose = "search"
	// Research is analysis of the pages (statistics, linguistics,
	// measurement): text and data mining without training a generative
	// model.
	Research Purpose = "research"
	// AITrain is training or fine-tuning AI models.
	AITrain Purpose = "ai-train"
	// AIInput is feeding the pages to an AI model as input at use time
	// (retrieval-augmented generation, grounding, summaries).
	AIInput Purpose = "ai-input"
	// Archive is keeping copies of the pages as they were, for
	// preservation or evidence.
	Archive Purpose = "archive"
)

// Purposes lists the purposes a crawl may declare, Unspecified first.
func Purposes() []Purpose {
	return []Purpose{Unspecified, Search, Research, AITrain, AIInput, Archive}
}

// ParsePurpose reads a purpose. The empty string is Unspecified; anything
// not in Purposes is an error that lists them.
func ParsePurpose(s string) (Purpose, error) {
	if s == "" {
		return Unspecified, nil
	}
	p := Purpose(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Purposes(), p) {
		return p, nil
	}
	names := make([]string, 0, len(Purposes()))
	for _, q := range Purposes() {
		names = append(names, string(q))
	}
	return "", fmt.Errorf("usage: unknown purpose %q: want one of %s", s, strings.Join(names, ", "))
}

// ConcernsTDM reports whether a TDMRep reservation reserves p, so that a
// crawl for p needs a site's tdmrep.json. Text and data mining is "any
// automated analytical technique aimed at analysing text and data in
// digital form in order to generate information" (EU Directive 2019/790,
// Art. 2(2)); training and feeding AI models, and research analysis, are
// such techniques. Indexing for a search engine that links to the pages,
// and keeping copies as they were, generate no new information from the
// text and are not read as TDM.
func (p Purpose) ConcernsTDM() bool {
	switch p {
	case Unspecified, Research, AITrain, AIInput:
		return true
	}
	return false
}

// Governs reports whether pref, when it disallows, reserves p.
func (p Purpose) Governs(pref Pref) bool {
	if p == Unspecified {
		return true
	}
	switch pref.Source {
	case SourceTDMHeader, SourceTDMMeta, SourceTDMFile:
		return p.ConcernsTDM()
	case SourceRobotsSignal:
		switch pref.Term {
		case SignalSearch:
			return p == Search
		case SignalAIInput:
			return p == AIInput
		case SignalAITrain:
			return p == AITrain
		}
		return false
	}
	// aipref, header or robots.txt.
	switch pref.Term {
	case TermBots:
		return true // the parent of every category of automated processing
	case TermTrainAI, TermTrainGenAI:
		return p == AITrain
	case TermAIUse:
		return p == AIInput
	case TermSearch:
		return p == Search
	}
	return false
}

// Reserving returns the prefs that reserve p: those that disallow a term
// governing p. Any one of them is enough to reserve it; a preference that
// allows never outweighs one that disallows.
func (p Purpose) Reserving(prefs []Pref) []Pref {
	var out []Pref
	for _, pr := range prefs {
		if !pr.Allow && p.Governs(pr) {
			out = append(out, pr)
		}
	}
	return out
}

// shorten cuts s to maxValue bytes, on a rune boundary.
func shorten(s string) string {
	if len(s) <= maxValue {
		return s
	}
	cut := maxValue
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}
