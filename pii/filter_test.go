package pii

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
)

// cf encodes e the way Cloudflare's e-mail obfuscation does, with key k.
func cf(k byte, e string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%02x", k)
	for i := range len(e) {
		fmt.Fprintf(&b, "%02x", e[i]^k)
	}
	return b.String()
}

func TestScanHTML(t *testing.T) {
	f := mustNew(t, Config{})
	page := `<html><head><title>联系 13812345678</title>
<meta name="description" content="客服邮箱 help.desk@example.cn">
<style>.a{content:"13912345678"}</style>
<script>var phone="13712345678";</script>
<script type="application/ld+json">{"telephone":"+86-13612345678"}</script>
</head><body>
<!-- 13512345678 -->
<p>身份证：11010519491231002X，邮箱 zhang&#64;example.com</p>
<a href="mailto:li.si@example.org">写信</a>
<a href="tel:+8613312345678">拨打</a>
<img src="/13212345678.png" alt="王先生的名片">
<input value="１３８１２３４５６７８" placeholder="手机">
<span data-sku="13112345678">x</span>
<a href="/cdn-cgi/l/email-protection" data-cfemail="` + cf(0x5a, "wang@example.net") + `">[email&#160;protected]</a>
<a href="/cdn-cgi/l/email-protection#` + cf(0x17, "zhao@example.net") + `">mail</a>
</body></html>`
	fs, err := f.ScanHTML([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	g := got(page, fs)
	want := []string{
		"CN_MOBILE=13812345678",
		"EMAIL=help.desk@example.cn",
		"CN_MOBILE=13912345678",
		"CN_MOBILE=13712345678",
		"CN_MOBILE=+86-13612345678",
		"CN_MOBILE=13512345678",
		"CN_RESIDENT_ID=11010519491231002X",
		"EMAIL=zhang&#64;example.com",
		"EMAIL=li.si@example.org",
		"CN_MOBILE=+8613312345678",
		"CN_MOBILE=13212345678",
		"CN_PERSON_NAME=王",
		"CN_MOBILE=１３８１２３４５６７８",
		"EMAIL=" + cf(0x5a, "wang@example.net"),
		"EMAIL=" + cf(0x17, "zhao@example.net"),
	}
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("ScanHTML found\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	// Scripts, styles, comments and every attribute are scanned; an
	// attribute's name is context: data-sku names a product code.
	for _, x := range fs {
		if strings.Contains(page[x.Start:x.End], "13112345678") {
			t.Errorf("found the SKU 13112345678, labelled by its attribute data-sku")
		}
	}
}

func TestRedactHTMLOperators(t *testing.T) {
	page := `<p>手机 138-1234-5678，邮箱 <a href="mailto:a.b@example.com">a.b@example.com</a></p>`
	key := []byte("job-secret")
	tests := []struct {
		op   Operator
		want string
	}{
		{Replace, `<p>手机 [CN_MOBILE]，邮箱 <a href="mailto:[EMAIL]">[EMAIL]</a></p>`},
		{Mask, `<p>手机 *********5678，邮箱 <a href="mailto:************com">************com</a></p>`},
	}
	for _, tt := range tests {
		f := mustNew(t, Config{Operator: tt.op, HMACKey: key})
		out, rep, err := f.RedactHTML([]byte(page))
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != tt.want {
			t.Errorf("%v: got\n%s\nwant\n%s", tt.op, out, tt.want)
		}
		if rep.Counts[CNMobile] != 1 || rep.Counts[Email] != 2 || rep.Drop {
			t.Errorf("%v: report %+v", tt.op, rep)
		}
	}

	f := mustNew(t, Config{Operator: HMAC, HMACKey: key})
	out, _, _ := f.RedactHTML([]byte(page))
	tok := f.Token(CNMobile, "13812345678")
	if !strings.Contains(string(out), "手机 "+tok+"，") || strings.Contains(string(out), "5678") {
		t.Errorf("HMAC: got %s, want the mobile as %s", out, tok)
	}
	// The same value in another format gives the same token (joins work);
	// another key gives another.
	if f.Token(CNMobile, "+86 138 1234 5678") != tok {
		t.Error("HMAC token depends on the format of the value")
	}
	g := mustNew(t, Config{Operator: HMAC, HMACKey: []byte("other")})
	if g.Token(CNMobile, "13812345678") == tok {
		t.Error("HMAC token does not depend on the key")
	}
	if strings.ContainsAny(strings.Trim(tok, "[]CN_MOBILE:"), "0123456789") {
		t.Errorf("token %s contains digits", tok)
	}

	d := mustNew(t, Config{Operator: Drop})
	out, rep, _ := d.RedactHTML([]byte(page))
	if out != nil || !rep.Drop || rep.Reason == "" {
		t.Errorf("Drop: out %q report %+v", out, rep)
	}
}

func TestSensitivePageDropped(t *testing.T) {
	f := mustNew(t, Config{})
	personal := `<p>患者：李明，手机 13812345678。诊断：2型糖尿病，病史三年，处方如下。</p>`
	out, rep, err := f.RedactHTML([]byte(personal))
	if err != nil {
		t.Fatal(err)
	}
	if out != nil || !rep.Drop || len(rep.Sensitive) != 1 || rep.Sensitive[0] != "health" {
		t.Errorf("sensitive page: out %q report %+v", out, rep)
	}
	if strings.Contains(rep.Reason, "13812345678") || strings.Contains(rep.Reason, "李明") {
		t.Errorf("reason carries personal data: %s", rep.Reason)
	}
	// The same topic without anyone's data is not personal information.
	topic := `<p>新版糖尿病诊断指南发布，病史采集与处方规范有更新。</p>`
	out, rep, _ = f.RedactHTML([]byte(topic))
	if rep.Drop || string(out) != topic {
		t.Errorf("topic page: out %q report %+v", out, rep)
	}
	// KeepSensitive redacts span by span instead.
	k := mustNew(t, Config{KeepSensitive: true})
	out, rep, _ = k.RedactHTML([]byte(personal))
	if rep.Drop || len(rep.Sensitive) != 1 || strings.Contains(string(out), "13812345678") {
		t.Errorf("KeepSensitive: out %q report %+v", out, rep)
	}
}

func TestRedactIdempotent(t *testing.T) {
	for _, op := range []Operator{Replace, Mask, HMAC} {
		f := mustNew(t, Config{Operator: op})
		in := "身份证 11010519491231002X 手机 +86 138 1234 5678 卡号 6222 0212 3456 7890 128 mail a@b.cn 联系人：王小明 地址：北京市朝阳区建国路88号3栋501室"
		once, _ := f.RedactText(in)
		twice, _ := f.RedactText(once)
		if once != twice {
			t.Errorf("%v: not idempotent:\n%s\n%s", op, once, twice)
		}
		if fs := f.ScanText([]byte(once)); len(fs) != 0 {
			t.Errorf("%v: redacted text still has findings %v", op, fs)
		}
	}
}

func TestRedactURL(t *testing.T) {
	f := mustNew(t, Config{HMACKey: []byte("k")})
	tests := []struct{ in, leak string }{
		{"https://example.com/profile?phone=13812345678&tab=1", "13812345678"},
		{"https://example.com/u/alice@example.com/posts", "alice@example.com"},
		{"https://example.com/u/alice%40example.com", "alice"},
		{"https://bob:secret@example.com/a", "secret"},
		{"https://example.com/s?id=11010519491231002X#m=13912345678", "1391234"},
		{"/search?q=%E6%89%8B%E6%9C%BA13812345678", "13812345678"},
		{"http://[::1]:8080/p?email=x.y%40example.org", "x.y"},
		{"https://13812345678.example.com/", "13812345678"},
		{"//:17000000000", "17000000000"},
		{"https://example.com/a%2017000000000", "17000000000"},
	}
	for _, tt := range tests {
		r := f.RedactURL(tt.in)
		if strings.Contains(r, tt.leak) {
			t.Errorf("RedactURL(%q) = %q leaks %q", tt.in, r, tt.leak)
		}
		if again := f.RedactURL(tt.in); again != r {
			t.Errorf("RedactURL(%q) not deterministic: %q, %q", tt.in, r, again)
		}
		if twice := f.RedactURL(r); twice != r {
			t.Errorf("RedactURL not idempotent: %q -> %q", r, twice)
		}
	}
	for _, clean := range []string{"https://example.com/item/100012345678.html?page=2", "https://127.0.0.1:8080/a/b?x=1&y=2"} {
		if r := f.RedactURL(clean); r != clean {
			t.Errorf("RedactURL(%q) = %q, want it unchanged", clean, r)
		}
	}
	if a, b := f.RedactURL("https://e.com/?m=13812345678"), f.RedactURL("https://e.com/?m=13812345679"); a == b {
		t.Error("different personal data gives the same redacted URL")
	}
}

func TestConfigErrors(t *testing.T) {
	bad := []Config{
		{Entities: []Entity{}},
		{Entities: []Entity{"NOPE"}},
		{MinScore: 1.5},
		{MinScore: -0.1},
		{MinScore: math.NaN()},
		{MinScore: math.Inf(1)},
		{Operator: Operator(9)},
		{MaskKeep: 5},
		{ContextBefore: -1},
	}
	for _, c := range bad {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted a bad config", c)
		}
	}
	f := mustNew(t, Config{Entities: []Entity{Email}})
	if fs := f.ScanText([]byte("13812345678 a@b.cn")); len(fs) != 1 || fs[0].Entity != Email {
		t.Errorf("entity selection ignored: %v", fs)
	}
	if _, err := ParseOperator("hmac"); err != nil {
		t.Error(err)
	}
	if _, err := ParseOperator("encrypt"); err == nil {
		t.Error("ParseOperator accepted encrypt")
	}
}

func TestConcurrentUse(t *testing.T) {
	f := mustNew(t, Config{})
	in := []byte(`<p>手机 13812345678 身份证 11010519491231002X</p>`)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 200 {
				out, rep, err := f.RedactHTML(in)
				if err != nil || rep.Counts[CNMobile] != 1 || strings.Contains(string(out), "13812345678") {
					errs <- fmt.Sprintf("bad result %q %+v %v", out, rep, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestInlineTagsJoinText(t *testing.T) {
	f := mustNew(t, Config{})
	page := `<p>手机 1<span class="x">38</span>1234<b>5678</b></p><p>13</p><p>812345678</p>`
	fs, err := f.ScanHTML([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	g := got(page, fs)
	if len(g) != 1 || g[0] != `CN_MOBILE=1<span class="x">38</span>1234<b>5678` {
		t.Errorf("ScanHTML = %q", g)
	}
	out, _, _ := f.RedactHTML([]byte(page))
	if want := `<p>手机 [CN_MOBILE]</b></p><p>13</p><p>812345678</p>`; string(out) != want {
		t.Errorf("RedactHTML = %s, want %s", out, want)
	}
}
