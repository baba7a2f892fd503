package textdecode

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

func enc(t *testing.T, s string, big5 bool) string {
	t.Helper()
	var out string
	var err error
	if big5 {
		out, err = traditionalchinese.Big5.NewEncoder().String(s)
	} else {
		out, err = simplifiedchinese.GB18030.NewEncoder().String(s)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDecode(t *testing.T) {
	long := strings.Repeat("<!-- padding, all ASCII, longer than the 1024-byte prescan window -->\n", 20)
	cases := []struct {
		name, ctype, body, want, charset, source string
	}{
		{"utf-8 header", "text/html; charset=utf-8", "<p>联系人</p>", "联系人", "utf-8", "header"},
		{"gbk header", "text/html; charset=GBK", enc(t, "<p>联系人</p>", false), "联系人", "gbk", "header"},
		{"gb2312 header reads gb18030", "text/html; charset=gb2312", enc(t, "<p>𠀀联系人</p>", false), "𠀀联系人", "gbk", "header"},
		{"gbk meta only", "text/html", enc(t, `<meta charset="gbk"><p>联系人</p>`, false), "联系人", "gbk", "meta"},
		{"gbk http-equiv", "text/html", enc(t, `<meta http-equiv="Content-Type" content="text/html; charset=gbk"><p>联系人</p>`, false), "联系人", "gbk", "meta"},
		{"gb18030 bom", "text/html", "\x84\x31\x95\x33" + enc(t, "<p>联系人</p>", false), "联系人", "gb18030", "bom"},
		{"utf-8 bom", "text/plain", "\xEF\xBB\xBF联系人", "联系人", "utf-8", "bom"},
		{"big5 meta", "text/html", enc(t, `<meta charset="big5"><p>聯絡人</p>`, true), "聯絡人", "big5", "meta"},
		{"header wins over meta", "text/html; charset=gbk", enc(t, `<meta charset="big5"><p>联系人</p>`, false), "联系人", "gbk", "header"},
		{"utf-8 after a long ascii head", "text/html", long + "<p>联系人</p>", "联系人", "utf-8", "sniff"},
		{"undeclared gbk is sniffed", "text/plain", enc(t, strings.Repeat("联系人手机号码和家庭住址都在这里。", 20), false), "联系人", "gb18030", "sniff"},
		{"json", "application/json", `{"n":"联系人"}`, "联系人", "utf-8", "sniff"},
		{"unknown label falls through", "text/html; charset=klingon", `<meta charset="gbk">` + enc(t, "<p>联系人</p>", false), "联系人", "gbk", "meta"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, ct, how, ok := Decode(c.ctype, []byte(c.body))
			if !ok {
				t.Fatal("not decoded")
			}
			if !utf8.Valid(out) || !strings.Contains(string(out), c.want) {
				t.Errorf("decoded %q", out)
			}
			if !strings.Contains(ct, "charset=utf-8") {
				t.Errorf("content type %q", ct)
			}
			if (c.charset != "gb18030" || c.source != "sniff") && (how.Charset != c.charset || how.Source != c.source) {
				t.Errorf("decoded as %v, want %s (%s)", how, c.charset, c.source)
			}
			if c.source == "sniff" && c.charset == "gb18030" && how.Charset != "gb18030" && how.Charset != "gbk" {
				t.Errorf("decoded as %v, want a GB encoding", how)
			}
			if strings.Contains(strings.ToLower(string(out)), `charset="gbk"`) || strings.Contains(strings.ToLower(string(out)), "charset=gbk") || strings.Contains(string(out), `charset="big5"`) {
				t.Errorf("the page still declares its old charset: %q", out)
			}
		})
	}
	if _, _, _, ok := Decode("image/png", []byte("\x89PNG")); ok {
		t.Error("an image was decoded")
	}
}

func TestRewriteMetaCharset(t *testing.T) {
	for in, want := range map[string]string{
		`<META CHARSET=GBK>`: `<META CHARSET=utf-8>`,
		`<meta http-equiv="Content-Type" content="text/html; charset=gb2312">`: `<meta http-equiv="Content-Type" content="text/html; charset=utf-8">`,
		`<meta charset='big5'/><p>charset=gbk in text stays</p>`:               `<meta charset='utf-8'/><p>charset=gbk in text stays</p>`,
		`<meta charset="utf-8">`: `<meta charset="utf-8">`,
		`<meta name="x">`:        `<meta name="x">`,
	} {
		if got := string(rewriteMetaCharset([]byte(in))); got != want {
			t.Errorf("rewriteMetaCharset(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, l := range []string{"utf-8", "GBK", "gb2312", "big5", "shift_jis", "windows-1252"} {
		if err := Check(l); err != nil {
			t.Errorf("Check(%q): %v", l, err)
		}
	}
	if err := Check("klingon"); err == nil || !strings.Contains(err.Error(), "klingon") {
		t.Errorf("Check(klingon) = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("text/html", []byte(`<meta charset="gbk"><p>x</p>`))
	f.Add("text/html; charset=big5", []byte("\xa4\xa4\xa4\xe5"))
	f.Add("text/plain", []byte("\x84\x31\x95\x33\xc1\xaa"))
	f.Add("", []byte("<html>\xff\xfe"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		out, ct, _, ok := Decode(ctype, body)
		if !ok {
			return
		}
		if !utf8.Valid(out) {
			t.Fatalf("Decode(%q, %q) is not UTF-8: %q", ctype, body, out)
		}
		if !strings.Contains(ct, "utf-8") {
			t.Fatalf("content type %q", ct)
		}
	})
}

// FuzzIndexWordFold checks indexWordFold against a plain search of the
// input with ASCII letters lower-cased.
func FuzzIndexWordFold(f *testing.F) {
	for _, s := range []string{"<META charset=x>", "<p>a<MeTa", "cCcCcharSET", "<<<<meta", "", "<met", "ch\u00e4rset charset"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		lower := make([]byte, len(b))
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		for _, w := range []string{"<meta", "charset"} {
			if got, want := indexWordFold(b, w), bytes.Index(lower, []byte(w)); got != want {
				t.Fatalf("indexWordFold(%q, %q) = %d, want %d", b, w, got, want)
			}
		}
	})
}
