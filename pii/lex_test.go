package pii

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Every part of a page that can be stored is scanned, in its decoded form:
// each case plants a value and fails if RedactHTML lets it through.
func TestRedactHTMLEveryPart(t *testing.T) {
	gbkAddr, _ := simplifiedchinese.GBK.NewEncoder().String("联系人邮箱 wang@example.cn")
	cases := []struct {
		name, page, value string
	}{
		{"script state", `<script>window.__INITIAL_STATE__={"user":{"mobile":"13812345678"}};</script>`, "13812345678"},
		{"script \\u escapes", `<script>var s={"mobile":"\u0031\u0033\u0038\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038"};</script>`, `\u0031\u0033\u0038`},
		{"script \\x escapes", `<script>var e="wang\x40example.cn";</script>`, `wang\x40example.cn`},
		{"script \\u{} escapes", `<script>var e="wang\u{40}example.cn";</script>`, `wang\u{40}`},
		{"script escaped slash", `<script>var e="mailto:wang@example.cn\/x";</script>`, "wang@example.cn"},
		{"json-ld", `<script type="application/ld+json">{"@type":"Person","email":"li.si@example.org"}</script>`, "li.si@example.org"},
		{"comment", `<p>x</p><!-- owner: 13912345678 -->`, "13912345678"},
		{"cdata", `<svg><![CDATA[ 13912345678 ]]></svg>`, "13912345678"},
		{"style", `<style>.a::after{content:"13712345678"}</style>`, "13712345678"},
		{"data attribute", `<div data-user="11010519491231002X">x</div>`, "11010519491231002X"},
		{"data attribute on inline tag", `<p>手机 138<span data-x="13512345678">1234</span>5678</p>`, "13512345678"},
		{"title attribute", `<a title="电话 13612345678">x</a>`, "13612345678"},
		{"alt", `<img alt="wang@example.cn">`, "wang@example.cn"},
		{"meta content", `<meta name="author" content="wang@example.cn">`, "wang@example.cn"},
		{"input value", `<input name="tel" value="13312345678">`, "13312345678"},
		{"event attribute", `<button onclick="call('13212345678')">x</button>`, "13212345678"},
		{"class attribute", `<div class="tel 13212345678">x</div>`, "13212345678"},
		{"title element", `<title>联系 13112345678</title>`, "13112345678"},
		{"textarea", `<textarea>手机 13112345678</textarea>`, "13112345678"},
		{"percent-encoded href", `<a href="/p?email=wang%40example.cn">x</a>`, "wang%40example.cn"},
		{"percent-encoded in text", `<p>email=wang%40example.cn</p>`, "wang%40example.cn"},
		{"double-encoded href", `<a href="/p?email=wang%2540example.cn">x</a>`, "wang%2540example.cn"},
		{"plus in query", `<a href="/p?q=138+1234+5678">x</a>`, "138+1234+5678"},
		{"UTF-8 percent Chinese", `<a href="/p?c=` + url.QueryEscape("身份证11010519491231002X") + `">x</a>`, "11010519491231002X"},
		{"GBK percent bytes", `<a href="/p?c=` + url.QueryEscape(gbkAddr) + `">x</a>`, "wang%40example.cn"},
		{"entity-encoded href", `<a href="mailto:wang&#64;example.cn">x</a>`, "wang&#64;example.cn"},
		{"unquoted attribute", `<a data-m=13812345678>x</a>`, "13812345678"},
	}
	f := mustNew(t, Config{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := f.RedactHTML([]byte(c.page))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), c.value) {
				t.Errorf("%q survived:\n%s", c.value, out)
			}
			if len(out) == 0 {
				t.Errorf("page dropped instead of redacted")
			}
		})
	}
}

// Redacting inside a script keeps it a script: the placeholder replaces
// the escaped value inside its string literal.
func TestRedactHTMLScriptEscapesInPlace(t *testing.T) {
	f := mustNew(t, Config{})
	page := `<script>var s={"mobile":"\u0031\u0033\u0038\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038","n":1};</script>`
	out, _, err := f.RedactHTML([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	want := `<script>var s={"mobile":"[CN_MOBILE]","n":1};</script>`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}

// Attribute names are context both ways: a number in data-sku is a product
// code, and the text around attributes of inline tags is still read as one.
func TestAttributeLabels(t *testing.T) {
	f := mustNew(t, Config{})
	for _, c := range []struct {
		page string
		want int
	}{
		{`<span data-sku="13112345678">x</span>`, 0},
		{`<p>手机 138<b class="x">1234</b>5678</p>`, 1},
		{`<meta name="description" content="订单号 13112345678">`, 0},
	} {
		fs, err := f.ScanHTML([]byte(c.page))
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != c.want {
			t.Errorf("%s: %d findings %v, want %d", c.page, len(fs), fs, c.want)
		}
	}
}

func TestDecodeURLText(t *testing.T) {
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("张三")
	for _, c := range []struct{ in, want string }{
		{"a%40b.com", "a@b.com"},
		{"a%2540b.com", "a@b.com"},
		{"a%252540b.com", "a@b.com"},
		{"/p?q=a+b", "/p?q=a b"},
		{"/a+b?q=1", "/a+b?q=1"},
		{"/p?n=" + url.QueryEscape(gbk), "/p?n=张三"},
		{"/p?n=%E5%BC%A0%E4%B8%89", "/p?n=张三"},
		{"100%", "100%"},
		{"%zz", "%zz"},
		{"a&amp;b=%31", "a&b=1"},
	} {
		if got := decodeURLText(c.in, true); got != c.want {
			t.Errorf("decodeURLText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// RedactURL reads every component fully decoded before scanning it.
func TestRedactURLDecodes(t *testing.T) {
	f := mustNew(t, Config{})
	gbkID, _ := simplifiedchinese.GBK.NewEncoder().String("身份证11010519491231002X")
	for _, c := range []struct{ in, leak string }{
		{"https://example.com/p?email=wang%40example.cn", "wang"},
		{"https://example.com/p?email=wang%2540example.cn", "wang"},
		{"https://example.com/p?email=wang%252540example.cn", "wang"},
		{"https://example.com/p?tel=138+1234+5678", "1234"},
		{"https://example.com/p?tel=%2B86+138+1234+5678", "1234"},
		{"https://example.com/p?c=" + url.QueryEscape(gbkID), "2X"},
		{"https://example.com/p/%E8%BA%AB%E4%BB%BD%E8%AF%8111010519491231002X", "2X"},
		{"https://example.com/p#mail=wang%40example.cn", "wang"},
	} {
		got := f.RedactURL(c.in)
		if strings.Contains(got, c.leak) {
			t.Errorf("RedactURL(%q) = %q keeps %q", c.in, got, c.leak)
		}
		if _, err := url.Parse(got); err != nil {
			t.Errorf("RedactURL(%q) = %q, not a URL: %v", c.in, got, err)
		}
	}
}

// A table's header cells label the cells below them.
func TestTableHeadersLabelCells(t *testing.T) {
	f := mustNew(t, Config{})
	page := `<table><tr><th>工号</th><th>座机</th><th>护照</th><th>办公IP</th></tr>
<tr><td>HX447867</td><td>0731-68164652</td><td>E31796459</td><td>183.162.220.129</td></tr>
<tr><td>HX496823</td><td><a href="#" title="022-53156768">查看</a></td><td><span>E5</span>4593410</td><td>106.4.58.251</td></tr></table>
<p>以上为研发中心全体人员的联系方式，如有变动请及时通知行政部门更新，谢谢大家的配合与支持。</p>
<table><tr><td>版本</td><td>3.2.35.132</td></tr></table>`
	out, _, err := f.RedactHTML([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"68164652", "E31796459", "183.162", "53156768", "4593410", "106.4.58"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("%s survived:\n%s", leak, out)
		}
	}
	for _, keep := range []string{"HX447867", "3.2.35.132"} {
		if !strings.Contains(string(out), keep) {
			t.Errorf("%s was redacted:\n%s", keep, out)
		}
	}
}

// Structural attributes whose values cannot hold any entity are skipped;
// any that could are scanned like the rest.
func TestStructuralAttributes(t *testing.T) {
	for _, v := range []string{"13812345678", "wang@example.cn", "ab:cd:ef:01:23:45", "wang at example dot cn", "李四", "A123456(3)", "u%40x.cn"} {
		if inert([]byte(v)) {
			t.Errorf("%q is taken for inert", v)
		}
	}
	for _, v := range []string{"menu-item menu-item-1034", "col-md-6 col-lg-4", "color:#333;margin:0 10px", "hover:bg-red-500"} {
		if !inert([]byte(v)) {
			t.Errorf("%q is not inert", v)
		}
	}
}

// JSON inside a string literal (JSON.parse("…")) escapes its escapes.
func TestNestedEscapes(t *testing.T) {
	f := mustNew(t, Config{})
	page := `<script>window.S = JSON.parse("{\"m\":\"\\u0031\\u0033\\u0038\\u0031\\u0032\\u0033\\u0034\\u0035\\u0036\\u0037\\u0038\",\"e\":\"wang\\u0040example.cn\",\"p\":\"a\\\\b\"}");</script>`
	out, _, err := f.RedactHTML([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), `\\u0031\\u0033`) || strings.Contains(string(out), "wang") || !strings.Contains(string(out), `a\\\\b`) {
		t.Errorf("got %s", out)
	}
}

// plain8 agrees with the byte-by-byte test it stands in for.
func TestPlain8(t *testing.T) {
	r := uint64(88172645463325252)
	for n := 0; n < 200000; n++ {
		r ^= r << 13
		r ^= r >> 7
		r ^= r << 17
		x := r
		if n%3 == 0 {
			x &= 0x7f7f7f7f7f7f7f7f // mostly ASCII
		}
		want := true
		for k := 0; k < 8; k++ {
			c := byte(x >> (8 * k))
			if c >= 0x80 || c < 0x20 || special[c] {
				want = false
			}
		}
		if got := plain8(x); got != want {
			t.Fatalf("plain8(%#x) = %v, want %v", x, got, want)
		}
	}
}
