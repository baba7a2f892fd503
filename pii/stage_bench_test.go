package pii

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goodbot/goodbot/pii/internal/corpus"
)

// Stage benchmarks split the filter's cost, on the same page mix as
// BenchmarkRedactHTML. SetBytes is the HTML size for lexing and the
// normalised text size for the later stages.

// cpuTime returns the CPU time (user and system) this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PerCPU starts measuring CPU time; the function it returns reports
// throughput per CPU-second ("MB/cpu-s") for bytesPerOp bytes per
// iteration. Unlike MB/s, it does not fall when other processes share the
// cores, which they do on the machine the figures were taken on.
func PerCPU(b *testing.B, bytesPerOp int64) func() {
	start := cpuTime(b)
	return func() {
		if used := cpuTime(b) - start; used > 0 {
			b.ReportMetric(float64(bytesPerOp)*float64(b.N)/1e6/used.Seconds(), "MB/cpu-s")
		}
	}
}

func stagePages(b *testing.B) ([][]byte, *Filter) {
	b.Helper()
	var pages [][]byte
	for _, p := range corpus.Generate(7, 200) {
		pages = append(pages, p.HTML)
	}
	return pages, mustNew(b, Config{})
}

// BenchmarkStageLex: HTML lexing, entity decoding and NFKC with the offset map.
func BenchmarkStageLex(b *testing.B) {
	pages, f := stagePages(b)
	var n int64
	for _, p := range pages {
		n += int64(len(p))
	}
	sc := f.get()
	b.SetBytes(n)
	defer PerCPU(b, n)()
	for b.Loop() {
		for _, p := range pages {
			sc.p.reset(len(p))
			lexHTML(p, &sc.p, func(int, int) {})
		}
	}
}

func stageTexts(b *testing.B) ([][]byte, int64) {
	pages, f := stagePages(b)
	var texts [][]byte
	var n int64
	for _, p := range pages {
		sc := f.get()
		sc.p.reset(len(p))
		lexHTML(p, &sc.p, func(int, int) {})
		texts = append(texts, append([]byte(nil), sc.p.text...))
		n += int64(len(sc.p.text))
	}
	return texts, n
}

// BenchmarkStageAC: the one Aho-Corasick pass for all context words and
// lexicons, over the normalised text.
func BenchmarkStageAC(b *testing.B) {
	texts, n := stageTexts(b)
	var hits []hit
	b.SetBytes(n)
	defer PerCPU(b, n)()
	for b.Loop() {
		for _, t := range texts {
			hits = lex.ac.FindWords(t, hits[:0])
		}
	}
}

// BenchmarkStageACRegexp is what the AC pass replaces: the same words as
// one case-insensitive alternation.
func BenchmarkStageACRegexp(b *testing.B) {
	texts, n := stageTexts(b)
	var words []string
	for w := range lexWords() {
		words = append(words, regexp.QuoteMeta(w))
	}
	re := regexp.MustCompile(`(?i)` + strings.Join(words, "|"))
	// The alternation is so slow that a tenth of the texts is enough.
	texts = texts[:len(texts)/10]
	n = 0
	for _, t := range texts {
		n += int64(len(t))
	}
	b.SetBytes(n)
	defer PerCPU(b, n)()
	for b.Loop() {
		for _, t := range texts {
			re.FindAllIndex(t, -1)
		}
	}
}

func lexWords() map[string]bool {
	m := map[string]bool{}
	add := func(s string) {
		for w := range strings.SplitSeq(s, "|") {
			m[strings.ToLower(w)] = true
		}
	}
	for _, c := range contextWords {
		add(c.words)
	}
	for _, nt := range nameTriggers {
		for _, w := range strings.Fields(nt.words) {
			m[strings.ToLower(w)] = true
		}
	}
	add(addrWords)
	add(negWords)
	for _, w := range sensitiveWords {
		add(w)
	}
	return m
}

// BenchmarkStageCandidates: the candidate scanner, names and addresses,
// over the normalised text (context words already found).
func BenchmarkStageCandidates(b *testing.B) {
	texts, n := stageTexts(b)
	f := mustNew(b, Config{})
	sc := f.get()
	b.SetBytes(n)
	defer PerCPU(b, n)()
	for b.Loop() {
		for _, t := range texts {
			sc.p.text = t
			sc.out = sc.out[:0]
			sc.run()
		}
	}
}
