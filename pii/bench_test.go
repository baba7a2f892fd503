package pii_test

import (
	"regexp"
	"testing"

	"github.com/goodbot/goodbot/pii"
	"github.com/goodbot/goodbot/pii/internal/corpus"
)

// benchPages is the realistic page mix of the evaluation corpus.
func benchPages(b *testing.B) ([][]byte, int64) {
	b.Helper()
	ps := corpus.Generate(7, 200)
	pages := make([][]byte, len(ps))
	var n int64
	for i, p := range ps {
		pages[i] = p.HTML
		n += int64(len(p.HTML))
	}
	return pages, n
}

// BenchmarkRedactHTML measures the filter, scanning and redacting, in MB/s
// of HTML on one core.
func BenchmarkRedactHTML(b *testing.B) {
	f, err := pii.New(pii.Config{})
	if err != nil {
		b.Fatal(err)
	}
	pages, n := benchPages(b)
	b.SetBytes(n)
	b.ReportAllocs()
	defer pii.PerCPU(b, n)()
	for b.Loop() {
		for _, p := range pages {
			if _, _, err := f.RedactHTML(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkScanHTML measures scanning alone.
func BenchmarkScanHTML(b *testing.B) {
	f, err := pii.New(pii.Config{})
	if err != nil {
		b.Fatal(err)
	}
	pages, n := benchPages(b)
	b.SetBytes(n)
	b.ReportAllocs()
	defer pii.PerCPU(b, n)()
	for b.Loop() {
		for _, p := range pages {
			if _, err := f.ScanHTML(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// naivePatterns is the baseline: one regexp per entity over raw HTML, the
// way a first attempt (or Presidio's pattern recognizers) would do it.
var naivePatterns = []*regexp.Regexp{
	regexp.MustCompile(`[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]`),
	regexp.MustCompile(`(?:\+86[- ]?)?1[3-9]\d{9}`),
	regexp.MustCompile(`0\d{2,3}-\d{7,8}`),
	regexp.MustCompile(`\b(?:\d{4}[ -]?){3}\d{4,7}\b`),
	regexp.MustCompile(`[A-Z]{1,2}\d{6}\([0-9A]\)`),
	regexp.MustCompile(`[A-Z][12]\d{8}`),
	regexp.MustCompile(`E[A-Z]?\d{7,8}`),
	regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`),
	regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`),
	regexp.MustCompile(`[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}`),
	regexp.MustCompile(`\d{3}-\d{2}-\d{4}`),
	regexp.MustCompile(`-?\d{1,3}\.\d{4,}, ?-?\d{1,3}\.\d{4,}`),
}

// BenchmarkNaiveRegexp is the baseline, with redaction by ReplaceAll.
func BenchmarkNaiveRegexp(b *testing.B) {
	pages, n := benchPages(b)
	b.SetBytes(n)
	b.ReportAllocs()
	defer pii.PerCPU(b, n)()
	for b.Loop() {
		for _, p := range pages {
			out := p
			for _, re := range naivePatterns {
				out = re.ReplaceAll(out, []byte("[PII]"))
			}
		}
	}
}

// BenchmarkRedactURL measures the per-URL cost the crawler pays before it
// writes or logs a URL: one clean and one carrying a phone number.
func BenchmarkRedactURL(b *testing.B) {
	f, err := pii.New(pii.Config{HMACKey: []byte("bench")})
	if err != nil {
		b.Fatal(err)
	}
	urls := []string{
		"https://www.example.cn/products/industrial/item/100012345678.html?from=search&page=2",
		"https://www.example.cn/member/profile?phone=13812345678&tab=orders",
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, u := range urls {
			f.RedactURL(u)
		}
	}
}

// BenchmarkRedactTitle measures the per-call cost on a short text such as
// a page title.
func BenchmarkRedactTitle(b *testing.B) {
	f, err := pii.New(pii.Config{})
	if err != nil {
		b.Fatal(err)
	}
	title := "联系我们 - 示例科技有限公司 - 工业自动化设备研发、生产和销售"
	b.SetBytes(int64(len(title)))
	b.ReportAllocs()
	for b.Loop() {
		f.RedactText(title)
	}
}
