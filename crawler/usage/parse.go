package usage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dunglas/httpsfv"
)

// aiprefLabels are the aipref labels read, in the order they are reported.
var aiprefLabels = []string{TermBots, TermTrainAI, TermTrainGenAI, TermAIUse, TermSearch}

// signalLabels are the Content Signals labels read.
var signalLabels = []string{SignalSearch, SignalAIInput, SignalAITrain}

// ParseContentUsage reads an aipref usage preference: the values of a
// Content-Usage header field (joined as RFC 9651 asks for several field
// lines), or the preference part of a robots.txt Content-Usage rule.
// source becomes each Pref's Source, and value (shortened) its Value.
//
// It follows draft-ietf-aipref-vocab section 7: the bytes are parsed as a
// Dictionary; a label's preference is its value when that is the Token y or
// n, and unknown otherwise (no Pref); parameters and unknown labels are
// ignored; a repeated label takes its last value. When the Dictionary does
// not parse, every preference is unknown: ParseContentUsage then returns no
// prefs and an error saying why.
func ParseContentUsage(source string, values ...string) ([]Pref, error) {
	all := values
	if len(all) == 0 {
		return nil, nil
	}
	d, err := httpsfv.UnmarshalDictionary(all)
	stated := shorten(strings.Join(all, ", "))
	if err != nil {
		return nil, fmt.Errorf("usage: %s %q is not a structured-field dictionary, so its preferences are unknown: %w", source, stated, err)
	}
	var prefs []Pref
	for _, label := range aiprefLabels {
		m, ok := d.Get(label)
		if !ok {
			continue
		}
		it, ok := m.(httpsfv.Item)
		if !ok {
			continue
		}
		tok, ok := it.Value.(httpsfv.Token)
		if !ok {
			continue
		}
		switch tok {
		case "y":
			prefs = append(prefs, Pref{Source: source, Term: label, Allow: true, Value: stated})
		case "n":
			prefs = append(prefs, Pref{Source: source, Term: label, Allow: false, Value: stated})
		}
	}
	return prefs, nil
}

// ParseContentSignal reads the value of a robots.txt Content-Signal line
// without its path: comma-separated label=value pairs, the labels search,
// ai-input and ai-train, the values yes and no (draft-romm-aipref-
// contentsignals). Labels and values are read case-insensitively; unknown
// labels are ignored. A pair with no "=" or with a value other than yes or
// no gives no Pref and is reported in the error, which does not stop the
// other pairs from being read. value (shortened) becomes each Pref's Value.
func ParseContentSignal(value string) ([]Pref, error) {
	stated := shorten(value)
	var prefs []Pref
	var bad []string
	for i, part := range strings.Split(value, ",") {
		if i >= 64 {
			bad = append(bad, "more than 64 pairs: the rest ignored")
			break
		}
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.ToLower(strings.TrimSpace(v))
		if !ok {
			bad = append(bad, fmt.Sprintf("%q has no \"=\"", shortPart(part)))
			continue
		}
		known := false
		for _, l := range signalLabels {
			known = known || l == k
		}
		if !known {
			continue
		}
		var allow bool
		switch v {
		case "yes":
			allow = true
		case "no":
		default:
			bad = append(bad, fmt.Sprintf("%s=%q: want yes or no", k, shortPart(v)))
			continue
		}
		// A repeated label: the more restrictive statement stands.
		prefs = append(prefs, Pref{Source: SourceRobotsSignal, Term: k, Allow: allow, Value: stated})
	}
	if len(bad) > 0 {
		return prefs, fmt.Errorf("usage: Content-Signal %q: %s", stated, strings.Join(bad, "; "))
	}
	return prefs, nil
}

func shortPart(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// TDMRule is one rule of a tdmrep.json file.
type TDMRule struct {
	// Location is the path pattern the rule applies to, in robots.txt
	// syntax ("*" wildcards, a final "$" anchor).
	Location string `json:"location"`
	// Reservation is 1 (TDM rights reserved), 0 (not reserved), or -1
	// when the file gave a value TDMRep does not define (read as unset).
	Reservation int `json:"tdm-reservation"`
	// Policy is the tdm-policy URL, if any.
	Policy string `json:"tdm-policy,omitempty"`
}

// MaxTDMFile is the number of bytes of a tdmrep.json file that are read;
// MaxTDMRules the number of rules kept.
const (
	MaxTDMFile  = 512 << 10
	MaxTDMRules = 10000
)

// ParseTDMRep reads a /.well-known/tdmrep.json file: a JSON array of
// objects with "location", "tdm-reservation" and optional "tdm-policy"
// (TDMRep section 3.2). tdm-reservation may be the number or the string 0
// or 1; another value makes the rule's Reservation -1 (unset, as TDMRep
// says to read protocol errors). A rule without a location starting with
// "/" or "*" is skipped and reported in the error, as is a file with more
// than MaxTDMRules rules; the rules read are still returned. A file that
// is not such an array (or larger than MaxTDMFile) is an error and gives
// no rules: TDMRep then applies as if there were no file.
func ParseTDMRep(b []byte) ([]TDMRule, error) {
	if len(b) > MaxTDMFile {
		return nil, fmt.Errorf("usage: tdmrep.json is %d bytes, more than the %d read", len(b), MaxTDMFile)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("usage: tdmrep.json is not a JSON array of rules: %w", err)
	}
	var rules []TDMRule
	var bad []string
	for i, obj := range raw {
		if len(rules) >= MaxTDMRules {
			bad = append(bad, fmt.Sprintf("more than %d rules: the rest ignored", MaxTDMRules))
			break
		}
		var loc string
		if err := json.Unmarshal(obj["location"], &loc); err != nil || loc == "" || (loc[0] != '/' && loc[0] != '*') {
			bad = append(bad, fmt.Sprintf("rule %d: no location path starting with \"/\" or \"*\"", i+1))
			continue
		}
		r := TDMRule{Location: loc, Reservation: tdmReservation(obj["tdm-reservation"])}
		var pol string
		if json.Unmarshal(obj["tdm-policy"], &pol) == nil {
			r.Policy = pol
		}
		rules = append(rules, r)
	}
	if len(bad) > 0 {
		return rules, errors.New("usage: tdmrep.json: " + strings.Join(bad, "; "))
	}
	return rules, nil
}

// tdmReservation reads a tdm-reservation value: 0, 1, "0" or "1"; -1 for
// anything else.
func tdmReservation(m json.RawMessage) int {
	var n json.Number
	if err := json.Unmarshal(m, &n); err == nil {
		if v, err := strconv.Atoi(n.String()); err == nil && (v == 0 || v == 1) {
			return v
		}
		return -1
	}
	var s string
	if err := json.Unmarshal(m, &s); err == nil {
		return ParseTDMValue(s)
	}
	return -1
}

// MatchTDM returns the rule of rules that applies to pathQuery: the first
// whose Location matches (TDMRep: "the most specific match is the first in
// sequence"). match reports whether a pattern matches a path; pass
// robots.MatchPattern, since TDMRep reuses robots.txt pattern syntax.
func MatchTDM(rules []TDMRule, pathQuery string, match func(pattern, pathQuery string) bool) (TDMRule, bool) {
	for _, r := range rules {
		if match(r.Location, pathQuery) {
			return r, true
		}
	}
	return TDMRule{}, false
}

// TDMPref turns a TDMRep reservation, read from source, into a Pref: ok is
// false when reservation is not 0 or 1 (unset). value (shortened) is the
// statement as read.
func TDMPref(source string, reservation int, value string) (Pref, bool) {
	if reservation != 0 && reservation != 1 {
		return Pref{}, false
	}
	return Pref{Source: source, Term: TermTDM, Allow: reservation == 0, Value: shorten(value)}, true
}

// ParseTDMValue reads a tdm-reservation header or meta value: 0 or 1, else
// -1 (unset).
func ParseTDMValue(s string) int {
	switch strings.TrimSpace(s) {
	case "0":
		return 0
	case "1":
		return 1
	}
	return -1
}
