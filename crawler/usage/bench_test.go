package usage

import (
	"fmt"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/crawler/robots"
)

func BenchmarkParseContentUsage(b *testing.B) {
	for b.Loop() {
		if _, err := ParseContentUsage(SourceHeader, "train-ai=n, ai-use=y, search=y;reason=\"ok\""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseContentSignal(b *testing.B) {
	for b.Loop() {
		if _, err := ParseContentSignal("search=yes, ai-input=yes, ai-train=no"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTDMRep parses a 100-rule tdmrep.json and matches a path that
// only the last rule covers.
func BenchmarkTDMRep(b *testing.B) {
	var rules []string
	for i := range 99 {
		rules = append(rules, fmt.Sprintf(`{"location":"/section%d/*.html","tdm-reservation":1,"tdm-policy":"https://example.com/p%d"}`, i, i))
	}
	rules = append(rules, `{"location":"/","tdm-reservation":0}`)
	file := []byte("[" + strings.Join(rules, ",") + "]")
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		rs, err := ParseTDMRep(file)
		if err != nil {
			b.Fatal(err)
		}
		if r, ok := MatchTDM(rs, "/other/page.html", robots.MatchPattern); !ok || r.Reservation != 0 {
			b.Fatal("wrong rule")
		}
	}
}
