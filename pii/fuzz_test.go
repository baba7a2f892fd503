package pii

import (
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"身份证：11010519491231002X，手机 +86 138 1234 5678",
	"卡号 6222 0212 3456 7890 128 mail zhang&#64;example.com",
	`<a href="mailto:a@b.cn" title="13812345678">x</a><script>13912345678</script>`,
	`<p data-cfemail="5a2d3b34` + `3d1a">x</p><a href="/cdn-cgi/l/email-protection#1234">`,
	"香港身份證 A123456(3) 身分證字號 A123456789 IBAN DE89 3704 0044 0532 0130 00",
	"联系人：欧阳娜娜 王先生 地址：北京市朝阳区建国路88号3栋2单元501室",
	"39.904211, 116.407395 2001:db8::1 192.168.1.1 123-45-6789",
	"１３８\u200b１２３４\u3000５６７８&#x31;&#51;8",
	"<!-- x --><style>a</style><title>&amp;&lt;&#65296;</title><",
	`{"realName":"张三","orderId":"6222021234567890128","contactPhone":"010-88886666"} author: 仇小亮` + "\n",
	"文/张三 本报记者 王五 李明的个人主页 致张三：王老师 Dear Mr. McDonald, by J. R. R. Tolkien",
	"name AT 163 DOT com li(at)qq(dot)com zhangsan#163.com（#换成@） x@163点com 138.0013.8000",
	"203.0.113.9 - - [10/Oct/2023:13:55:36 +0000] Client app 3.2.35.132 consignee=孙七&mobile=13812345678",
}

// noSurvivor fails if a value the scanner reported in input survives in
// the redacted output. (A second pass over the output may find more: the
// context windows are counted in runes, and a placeholder is shorter than
// what it replaced, so a context word can come within reach. Redaction is
// therefore not required to be idempotent, only complete.)
func noSurvivor(t *testing.T, input []byte, fs []Finding, out string) {
	t.Helper()
	for _, x := range fs {
		v := string(input[x.Start:x.End])
		if len(v) >= 6 && !strings.ContainsAny(v, "[]<>&\\%") && containsToken(out, v) {
			t.Fatalf("%s %q survives redaction:\ninput  %q\noutput %q", x.Entity, v, input, out)
		}
	}
}

// checkFindings checks offsets are in range, ordered and disjoint.
func checkFindings(t *testing.T, n int, fs []Finding) {
	t.Helper()
	prev := 0
	for _, f := range fs {
		if f.Start < prev || f.End <= f.Start || f.End > n {
			t.Fatalf("finding %+v out of range or overlapping (input %d bytes, previous end %d)", f, n, prev)
		}
		if f.Tier < TierHeuristic || f.Tier > TierChecksumContext || f.Score <= 0 || f.Score > 1 || f.Rule == "" {
			t.Fatalf("finding %+v has a bad tier, score or rule", f)
		}
		prev = f.End
	}
}

func FuzzScanText(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	fl := mustNew(f, Config{KeepSensitive: true})
	f.Fuzz(func(t *testing.T, b []byte) {
		fs := fl.ScanText(b)
		checkFindings(t, len(b), fs)
		once, _ := fl.RedactText(string(b))
		noSurvivor(t, b, fs, once)
	})
}

func FuzzScanHTML(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	fl := mustNew(f, Config{KeepSensitive: true})
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := fl.ScanHTML(b)
		if err != nil {
			t.Fatal(err)
		}
		checkFindings(t, len(b), fs)
		once, _, err := fl.RedactHTML(b)
		if err != nil {
			t.Fatal(err)
		}
		noSurvivor(t, b, fs, string(once))
	})
}

func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/profile?phone=13812345678&tab=1",
		"https://bob:pw@example.com/u/alice@example.com#x",
		"/p/%E6%89%8B%E6%9C%BA13812345678?a=%zz",
		"mailto:a@b.cn",
		"http://[::1]:80/?q=11010519491231002X",
	} {
		f.Add(s)
	}
	fl := mustNew(f, Config{HMACKey: []byte("fuzz")})
	f.Fuzz(func(t *testing.T, s string) {
		r := fl.RedactURL(s)
		if again := fl.RedactURL(s); again != r {
			t.Fatalf("RedactURL(%q) not deterministic", s)
		}
		for _, x := range fl.ScanText([]byte(s)) {
			v := s[x.Start:x.End]
			if len(v) >= 8 && containsToken(r, v) {
				t.Fatalf("RedactURL(%q) = %q keeps %s %q", s, r, x.Entity, v)
			}
		}
	})
}

// containsToken reports whether v occurs in s other than inside a longer
// run of letters and digits (where it is part of another token).
func containsToken(s, v string) bool {
	for i := 0; i+len(v) <= len(s); i++ {
		if s[i:i+len(v)] != v {
			continue
		}
		if (i == 0 || !isAlnum(s[i-1])) && (i+len(v) == len(s) || !isAlnum(s[i+len(v)])) {
			return true
		}
	}
	return false
}
