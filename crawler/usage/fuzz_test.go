package usage

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/goodbot/goodbot/crawler/robots"
)

// seeds adds the files of testdata/<dir> to f's corpus.
func seeds(f *testing.F, dir string) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
}

func FuzzContentUsage(f *testing.F) {
	seeds(f, "content-usage")
	f.Fuzz(func(t *testing.T, v string) {
		prefs, err := ParseContentUsage(SourceHeader, v)
		if err != nil && len(prefs) > 0 {
			t.Fatalf("%q: prefs %+v with error %v", v, prefs, err)
		}
		for _, p := range prefs {
			if !Unspecified.Governs(p) || len(p.Value) > maxValue+3 {
				t.Fatalf("%q: pref %+v", v, p)
			}
		}
	})
}

func FuzzContentSignal(f *testing.F) {
	seeds(f, "content-signal")
	f.Fuzz(func(t *testing.T, v string) {
		prefs, _ := ParseContentSignal(v)
		for _, p := range prefs {
			if p.Source != SourceRobotsSignal || (p.Term != SignalSearch && p.Term != SignalAIInput && p.Term != SignalAITrain) {
				t.Fatalf("%q: pref %+v", v, p)
			}
			if utf8.ValidString(v) && !utf8.ValidString(p.Value) {
				t.Fatalf("%q: shortening broke UTF-8: %q", v, p.Value)
			}
		}
	})
}

func FuzzTDMRep(f *testing.F) {
	seeds(f, "tdmrep")
	f.Fuzz(func(t *testing.T, v string) {
		rules, err := ParseTDMRep([]byte(v))
		if len(rules) > MaxTDMRules {
			t.Fatalf("%d rules kept", len(rules))
		}
		for _, r := range rules {
			if r.Location == "" || (r.Location[0] != '/' && r.Location[0] != '*') || r.Reservation < -1 || r.Reservation > 1 {
				t.Fatalf("rule %+v (err %v)", r, err)
			}
		}
		MatchTDM(rules, "/a/b?c", robots.MatchPattern)
	})
}
