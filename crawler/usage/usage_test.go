package usage

import (
	"slices"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/crawler/robots"
)

func terms(prefs []Pref) []string {
	var out []string
	for _, p := range prefs {
		v := "n"
		if p.Allow {
			v = "y"
		}
		out = append(out, p.Term+"="+v)
	}
	return out
}

func TestParseContentUsage(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr bool
	}{
		{[]string{"train-ai=n"}, []string{"train-ai=n"}, false},
		{[]string{"train-ai=y, search=n"}, []string{"train-ai=y", "search=n"}, false},
		{[]string{"train-ai=y", "search=n"}, []string{"train-ai=y", "search=n"}, false}, // two field lines
		{[]string{"ai-use=n;reason=\"x\""}, []string{"ai-use=n"}, false},                // parameters ignored
		{[]string{"train-ai=y, train-ai=n"}, []string{"train-ai=n"}, false},             // the last value
		{[]string{"train-ai=y, train-ai"}, nil, false},                                  // last is a boolean: unknown
		{[]string{`search="n"`}, nil, false},                                            // a string, not a token
		{[]string{"train-ai=maybe, future-thing=n"}, nil, false},                        // unknown value, unknown label
		{[]string{"bots=n, train-genai=n"}, []string{"bots=n", "train-genai=n"}, false}, // earlier drafts' labels
		{[]string{"Train-AI=n"}, nil, true},                                             // upper case does not parse
		{[]string{"train-ai=n,,"}, nil, true},
	}
	for _, tt := range tests {
		got, err := ParseContentUsage(SourceHeader, tt.in...)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err %v, want error %v", tt.in, err, tt.wantErr)
		}
		if !slices.Equal(terms(got), tt.want) {
			t.Errorf("%q: got %q, want %q", tt.in, terms(got), tt.want)
		}
		for _, p := range got {
			if p.Source != SourceHeader || p.Value != strings.Join(tt.in, ", ") {
				t.Errorf("%q: pref %+v", tt.in, p)
			}
		}
	}
}

func TestParseContentSignal(t *testing.T) {
	got, err := ParseContentSignal("search=yes, ai-input=yes, ai-train=no")
	if err != nil || !slices.Equal(terms(got), []string{"search=y", "ai-input=y", "ai-train=n"}) {
		t.Errorf("got %q, %v", terms(got), err)
	}
	got, err = ParseContentSignal("Search=YES, ai-train=perhaps, broken, other=no, ai-input=no")
	if !slices.Equal(terms(got), []string{"search=y", "ai-input=n"}) {
		t.Errorf("got %q", terms(got))
	}
	if err == nil || !strings.Contains(err.Error(), "ai-train=\"perhaps\": want yes or no") || !strings.Contains(err.Error(), `"broken" has no "="`) {
		t.Errorf("error %v does not name the bad pairs", err)
	}
}

func TestParseTDMRep(t *testing.T) {
	rules, err := ParseTDMRep([]byte(`[
	  {"location": "/images/*", "tdm-reservation": 1, "tdm-policy": "https://example.com/policy.json"},
	  {"location": "/open/", "tdm-reservation": "0"},
	  {"location": "/odd", "tdm-reservation": 7},
	  {"location": "no-slash", "tdm-reservation": 1},
	  {"location": "/", "tdm-reservation": 1}
	]`))
	want := []TDMRule{
		{Location: "/images/*", Reservation: 1, Policy: "https://example.com/policy.json"},
		{Location: "/open/", Reservation: 0},
		{Location: "/odd", Reservation: -1},
		{Location: "/", Reservation: 1},
	}
	if !slices.Equal(rules, want) {
		t.Errorf("rules %+v, want %+v", rules, want)
	}
	if err == nil || !strings.Contains(err.Error(), "rule 4") {
		t.Errorf("error %v does not name the skipped rule", err)
	}
	for _, tt := range []struct {
		path string
		want int
	}{{"/images/a.png", 1}, {"/open/x", 0}, {"/odd", -1}, {"/other", 1}} {
		r, ok := MatchTDM(rules, tt.path, robots.MatchPattern)
		if !ok || r.Reservation != tt.want {
			t.Errorf("%s: rule %+v %v, want reservation %d", tt.path, r, ok, tt.want)
		}
	}
	if _, ok := MatchTDM(rules[:2], "/elsewhere", robots.MatchPattern); ok {
		t.Error("a path no rule covers matched")
	}
	for _, bad := range []string{`{"location": "/"}`, `not json`, `[1, 2]`, ``} {
		if rules, err := ParseTDMRep([]byte(bad)); err == nil && len(rules) > 0 {
			t.Errorf("%q: rules %+v, no error", bad, rules)
		}
	}
	if _, err := ParseTDMRep([]byte(`{"location": "/"}`)); err == nil || !strings.Contains(err.Error(), "not a JSON array") {
		t.Errorf("an object, not an array: error %v", err)
	}
	if _, err := ParseTDMRep(make([]byte, MaxTDMFile+1)); err == nil {
		t.Error("an oversized file gave no error")
	}
}

func TestPurposeReserving(t *testing.T) {
	cu, _ := ParseContentUsage(SourceHeader, "train-ai=n, search=y")
	cs, _ := ParseContentSignal("search=yes, ai-input=no, ai-train=yes")
	tdm, _ := TDMPref(SourceTDMFile, 1, `{"location":"/","tdm-reservation":1}`)
	bots, _ := ParseContentUsage(SourceRobotsUsage, "bots=n")
	tests := []struct {
		purpose Purpose
		prefs   []Pref
		want    []string // terms that reserve
	}{
		{AITrain, cu, []string{"train-ai=n"}},
		{Search, cu, nil},
		{Archive, cu, nil},
		{Unspecified, cu, []string{"train-ai=n"}},
		{AIInput, cs, []string{"ai-input=n"}},
		{AITrain, cs, nil},                                   // Content Signals allow training
		{AITrain, append(cs, cu...), []string{"train-ai=n"}}, // any n wins
		{Research, []Pref{tdm}, []string{"tdm=n"}},
		{AITrain, []Pref{tdm}, []string{"tdm=n"}},
		{Search, []Pref{tdm}, nil},
		{Archive, []Pref{tdm}, nil},
		{Archive, bots, []string{"bots=n"}},
		{Unspecified, cs, []string{"ai-input=n"}},
	}
	for _, tt := range tests {
		if got := terms(tt.purpose.Reserving(tt.prefs)); !slices.Equal(got, tt.want) {
			t.Errorf("%s over %q: reserving %q, want %q", tt.purpose, terms(tt.prefs), got, tt.want)
		}
	}
}

func TestParsePurpose(t *testing.T) {
	for _, s := range []string{"", "search", "AI-Train", " research "} {
		if _, err := ParsePurpose(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if p, _ := ParsePurpose(""); p != Unspecified {
		t.Errorf("empty purpose is %q, want unspecified", p)
	}
	_, err := ParsePurpose("marketing")
	if err == nil || !strings.Contains(err.Error(), `unknown purpose "marketing"`) || !strings.Contains(err.Error(), "ai-train") {
		t.Errorf("error %v does not name the value and the vocabulary", err)
	}
}

func TestTDMValue(t *testing.T) {
	for in, want := range map[string]int{"1": 1, " 0 ": 0, "2": -1, "yes": -1, "": -1} {
		if got := ParseTDMValue(in); got != want {
			t.Errorf("ParseTDMValue(%q) = %d, want %d", in, got, want)
		}
	}
	if _, ok := TDMPref(SourceTDMMeta, -1, "x"); ok {
		t.Error("an unset reservation gave a pref")
	}
	if p, ok := TDMPref(SourceTDMMeta, 0, strings.Repeat("é", 300)); !ok || !p.Allow || len(p.Value) > maxValue+3 {
		t.Errorf("pref %+v %v", p, ok)
	}
}
