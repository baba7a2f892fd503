package piicmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const page = `<!DOCTYPE html><html><body><p>联系人：王小明 手机 13812345678</p><a href="mailto:li.si@example.com">mail</a><script>var x="13912345678"</script></body></html>`

func TestScan(t *testing.T) {
	html := write(t, "p.html", page)
	text := write(t, "dump.jsonl", "{\"id\":1,\"note\":\"order 110105194912310021\"}\n{\"id\":2,\"id_card\":\"11010519491231002X\"}\n")
	clean := write(t, "clean.txt", "nothing personal here, order 110105194912310021\n")

	code, out, errs := run(t, "scan", html)
	if code != 1 {
		t.Fatalf("scan html: exit %d, stderr %s", code, errs)
	}
	for _, want := range []string{"CN_MOBILE\tformat+context", "EMAIL\tformat", "CN_PERSON_NAME\theuristic", "*********78"} {
		if !strings.Contains(out, want) {
			t.Errorf("scan output lacks %q:\n%s", want, out)
		}
	}
	for _, leak := range []string{"13812345678", "li.si@example.com", "王小明", "13912345678"} {
		if strings.Contains(out, leak) {
			t.Errorf("scan output shows %q:\n%s", leak, out)
		}
	}

	code, out, _ = run(t, "scan", "--json", text, clean)
	if code != 1 {
		t.Fatalf("scan json: exit %d", code)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var files []jsonFile
	for dec.More() {
		var f jsonFile
		if err := dec.Decode(&f); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) != 2 || files[0].Kind != "text" || len(files[0].Findings) != 1 || len(files[1].Findings) != 0 {
		t.Fatalf("json output: %+v", files)
	}
	x := files[0].Findings[0]
	raw, _ := os.ReadFile(text)
	if x.Entity != "CN_RESIDENT_ID" || string(raw[x.Start:x.End]) != "11010519491231002X" || strings.Contains(out, "11010519491231002X") {
		t.Errorf("finding %+v", x)
	}

	if code, _, _ := run(t, "scan", clean); code != 0 {
		t.Errorf("clean file: exit %d", code)
	}
	if code, _, _ := run(t, "scan", "--entities", "EMAIL", text); code != 0 {
		t.Errorf("entity filter: exit %d", code)
	}
}

func TestRedact(t *testing.T) {
	html := write(t, "p.html", page)
	out := filepath.Join(t.TempDir(), "out.html")
	code, stdout, errs := run(t, "redact", html, "-o", out)
	if code != 1 {
		t.Fatalf("redact: exit %d, stderr %s", code, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"13812345678", "li.si@example.com", "王小明"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("redacted file keeps %q: %s", leak, b)
		}
	}
	if !strings.Contains(string(b), "[CN_MOBILE]") || !strings.Contains(stdout, "CN_MOBILE\t2") {
		t.Errorf("redacted file %s, summary %s", b, stdout)
	}

	// A sensitive page is not written at all.
	med := write(t, "m.html", `<html><body>患者：李明，手机 13812345678。诊断：糖尿病，病史三年。</body></html>`)
	out2 := filepath.Join(t.TempDir(), "m.out")
	if code, _, errs := run(t, "redact", "-o", out2, med); code != 1 || !strings.Contains(errs, "health") {
		t.Errorf("sensitive: exit %d, stderr %s", code, errs)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Errorf("sensitive page written: %v", err)
	}

	txt := write(t, "t.txt", "a@b.cn\nnothing\n")
	out3 := filepath.Join(t.TempDir(), "t.out")
	if code, _, _ := run(t, "redact", "--operator", "mask", txt, "-o", out3); code != 1 {
		t.Errorf("text redact: exit %d", code)
	}
	if b, _ := os.ReadFile(out3); string(b) != "**b*cn\nnothing\n" {
		t.Errorf("masked text %q", b)
	}
}

func TestUsage(t *testing.T) {
	f := write(t, "x.txt", "x")
	for _, args := range [][]string{
		nil,
		{"bogus"},
		{"scan"},
		{"scan", "/nonexistent/file"},
		{"scan", "--entities", "NOPE", f},
		{"scan", "--min-score", "3", f},
		{"redact", f},
		{"redact", f, "-o", f},
		{"redact", "--operator", "encrypt", f, "-o", f + ".out"},
		{"redact", "--operator", "drop", f, "-o", f + ".out"},
	} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

// Files in legacy Chinese encodings are decoded before scanning: the cue
// words and full-width digits of a GBK page are invisible as bytes.
func TestScanDecodesLegacyEncodings(t *testing.T) {
	page := `<html><head><meta charset="gbk"><title>联系我们</title></head><body><p>联系人：王小明，手机 １３８１２３４５６７８，身份证 11010519491231002X</p></body></html>`
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(page)
	if err != nil {
		t.Fatal(err)
	}
	big5, err := traditionalchinese.Big5.NewEncoder().String(`<html><head><meta charset="big5"><title>聯絡我們</title></head><body><p>聯絡人：王小明，手機 １３８１２３４５６７８，身分證 A123456789</p></body></html>`)
	if err != nil {
		t.Fatal(err)
	}
	text, err := simplifiedchinese.GB18030.NewEncoder().String("客户手机：１３９１２３４５６７８\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, body, charset string
	}{
		{"gbk.html", gbk, "gbk (meta)"},
		{"big5.html", big5, "big5 (meta)"},
		{"gb18030-bom.txt", "\x84\x31\x95\x33" + text, "gb18030 (bom)"},
	} {
		p := write(t, c.name, c.body)
		code, stdout, errs := run(t, "scan", "--json", p)
		if code != 1 {
			t.Fatalf("%s: exit %d, stderr %s", c.name, code, errs)
		}
		if !strings.Contains(stdout, `"charset":"`+c.charset+`"`) || !strings.Contains(stdout, "CN_MOBILE") {
			t.Errorf("%s: %s", c.name, stdout)
		}
		out := filepath.Join(t.TempDir(), "out")
		if code, _, errs := run(t, "redact", p, "-o", out); code != 1 {
			t.Fatalf("%s: redact exit %d: %s", c.name, code, errs)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(b) || strings.Contains(string(b), "１３８") || strings.Contains(string(b), "１３９") || strings.Contains(string(b), "gbk") || strings.Contains(string(b), `charset="big5"`) {
			t.Errorf("%s: redacted output %s", c.name, b)
		}
	}
	if code, _, errs := run(t, "scan", "--charset", "klingon", write(t, "x.txt", "x")); code != 2 || !strings.Contains(errs, "klingon") {
		t.Errorf("unknown charset: exit %d, %s", code, errs)
	}
}
