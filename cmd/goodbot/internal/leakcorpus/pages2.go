package leakcorpus

import (
	"fmt"
	"strings"
)

// FormJSONKey is a value used as a key of a JSON object.
const FormJSONKey Form = "json_key"

func exportPage(b *builder) string {
	g := b.g
	var s strings.Builder
	fmt.Fprintf(&s, `{"code":0,"msg":"success","requestId":"%s","data":{"total":%s,"page":1,"exportTime":%s,"list":[`,
		b.decoy("uuid", g.UUID()), b.decoy("count", fmt.Sprint(g.Intn(1000, 9999))), b.decoy("timestamp13", g.Timestamp(true)))
	for i := 0; i < 4; i++ {
		if i > 0 {
			s.WriteString(",")
		}
		name, mobile, id, mail := g.CNName(g.Pick("common", "rare", "compound")), g.CNMobile(), g.CNID(), g.Email("")
		addr := g.CNAddressFull()
		card := g.BankCard(g.Pick("unionpay16", "unionpay19"))
		f := FormJSONBody
		q := func(e Entity, lab bool, v string) string { return jsq(b.same(e, f, lab, v)) }
		if i == 3 { // as Python's json.dumps writes it: non-ASCII (and here digits) escaped
			f = FormEscapedJSON
			q = func(e Entity, lab bool, v string) string { return `"` + b.put(e, f, lab, v, uescape(v)) + `"` }
		}
		fmt.Fprintf(&s, `{"orderId":"%s","userId":%s,"realName":%s,"nickname":%s,"mobile":%s,"idCard":%s,"email":%s,"address":%s,"bankCard":%s,"loginIp":%s,"createTime":%s,"trackingNo":"%s","appVersion":"%s","deviceId":"%s","amount":%s}`,
			b.decoy("order_no", g.OrderNo(i%2 == 0)), b.decoy("uid", fmt.Sprint(g.Intn(10000000, 99999999))), q(CNName, true, name), jsq("小"+g.Pick("鱼", "熊", "猫")+fmt.Sprint(i)),
			q(CNMobile, false, mobile), q(CNID, false, id), q(Email, false, mail), q(CNAddress, true, addr), q(BankCard, false, card), q(IPv4, false, g.IPv4()),
			b.decoy("timestamp10", g.Timestamp(false)), b.decoy("tracking", g.Tracking(g.Pick("sf", "yt", "jd", "ups"))), b.decoy("version", g.Version()),
			b.decoy("uuid", g.UUID()), b.decoy("price_plain", fmt.Sprintf("%d.%02d", g.Intn(10, 3000), g.Intn(0, 99))))
	}
	k1, k2 := g.CNMobile(), g.CNName("common")
	fmt.Fprintf(&s, `],"contactsByMobile":{%s:{"orders":3},%s:{"mobile":%s}},"sku":"%s","ean":"%s"}}`,
		jsq(b.same(CNMobile, FormJSONKey, false, k1)), jsq(b.same(CNName, FormJSONKey, false, k2)), jsq(b.same(CNMobile, FormJSONBody, false, g.CNMobile())),
		b.decoy("sku", g.SKU()), b.decoy("ean13", g.EAN13()))
	return s.String()
}

func aboutENPage(b *builder) string {
	g := b.g
	founder, partner, dear, contact, by := g.ENName(), g.ENName(), g.ENName(), g.ENName(), g.ENName()
	team := []struct{ country, role string }{{"uk", "Managing Partner, London"}, {"us", "Head of Client Services, San Francisco"},
		{"de", "Senior Consultant, Berlin"}, {"fr", "Consultant, Paris"}, {"jp", "Representative, Tokyo"}, {"kr", "Representative, Seoul"}}
	var s strings.Builder
	fmt.Fprintf(&s, `<!DOCTYPE html>
<html lang="en"><head>%s
<title>About us | Harbourline Consulting</title>
<meta name="author" content="%s">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"AboutPage","author":{"@type":"Person","name":%s},"mainEntity":{"@type":"Person","name":%s,"email":%s,"telephone":%s}}</script>
</head><body>
<nav><a href="/">Home</a> · <a href="/services">Services</a></nav>
<h1>About us</h1>
<p>Harbourline was founded in 2009 by %s and has since advised more than 300 manufacturers on entering the Chinese market.
Our registered office is at 20-22 Wenlock Road, London N1 7GU (company no. %s, VAT GB %s).</p>
<h2>Our team</h2>
`, b.head(), b.same(ENName, FormMetaAuthor, true, g.ENName()), jsq(b.same(ENName, FormJSONLD, true, g.ENName())), jsq(b.same(ENName, FormJSONLD, true, founder)),
		jsq(b.same(Email, FormJSONLD, false, g.Email("gmail.com"))), jsq(b.same(IntlPhone, FormJSONLD, false, g.IntlPhone("us"))),
		b.same(ENName, FormText, true, founder), b.decoy("company_no", fmt.Sprintf("08%06d", g.Intn(100000, 999999))), b.decoy("vat", fmt.Sprintf("%03d %04d %02d", g.Intn(100, 999), g.Intn(1000, 9999), g.Intn(10, 99))))
	for i, m := range team {
		n := g.ENName()
		fmt.Fprintf(&s, `<div class="member" data-member="%s"><img src="/img/team/%d.jpg" alt="%s" title="%s"><h3>%s</h3><p>%s</p><p>Mobile: %s</p><p>Email: <a href="mailto:%s">%s</a></p></div>
`, b.same(ENName, FormDataAttr, false, n), i, b.put(ENName, FormAltTitle, true, n, "Photo of "+n), b.put(ENName, FormAltTitle, true, n, n),
			b.same(ENName, FormText, false, n), m.role, b.same(IntlPhone, FormText, false, g.IntlPhone(m.country)),
			b.same(Email, FormHref, false, g.NamedEmail(n, "harbourline.co.uk")), b.same(Email, FormText, false, g.Email("company")))
	}
	fmt.Fprintf(&s, `<h2>What clients say</h2>
<blockquote>Dear %s, thank you for guiding us through the certification process. — %s, Operations Director</blockquote>
<p class="byline">Posted by %s on 2 November 2026 · 4 min read</p>
<h2>Contact</h2>
<p>Contact: %s, %s, phone %s</p>
<p>Name: %s<br>Direct line: %s<br>Hong Kong office: %s · Taipei: %s</p>
<p>Press enquiries: %s or %s</p>
<p>Bank details for invoices: IBAN %s (BIC NWBKGB2L)</p>
<p>We are an ISO 9001 certified firm. Client portal version %s. Last updated 2026-11-15.</p>
<!-- old contact: %s <%s> -->
<p><a href="/newsletter/subscribe?%s">Subscribe</a> · <a href="/unsubscribe?%s">Unsubscribe</a> · <a href="/profile?%s">My profile</a></p>
<form action="/contact" method="post"><input name="name" value="%s"><input name="email" value="%s"></form>
</body></html>
`, b.same(ENName, FormText, true, dear), b.same(ENName, FormText, false, partner), b.same(ENName, FormText, true, by),
		b.same(ENName, FormText, true, contact), b.same(Email, FormText, false, g.Email("outlook.com")), b.same(IntlPhone, FormText, false, g.IntlPhone("uk")),
		b.same(ENName, FormText, true, g.ENName()), b.same(IntlPhone, FormText, false, g.IntlPhone("us")), b.same(IntlPhone, FormText, false, g.IntlPhone("hk")), b.same(IntlPhone, FormText, false, g.IntlPhone("tw")),
		b.obfEmail(0), b.obfEmail(3), b.same(IBAN, FormText, false, SpacedIBAN(g.IBAN("GB"))), b.decoy("version", g.Version()),
		b.same(ENName, FormComment, true, g.ENName()), b.same(Email, FormComment, false, g.Email("")),
		qv("email", b.linkQ(Email, false, g.Email("gmail.com")), "name", b.linkQ(ENName, true, g.ENName())),
		qv("email", b.dblEnc(g.Email("")), "token", b.decoy("uuid", g.UUID())),
		qv("phone", b.linkQ(IntlPhone, false, g.IntlPhone("us"))),
		b.same(ENName, FormInputValue, true, g.ENName()), b.same(Email, FormInputValue, false, g.Email("")))
	return s.String()
}

// dblEnc plants an e-mail percent-encoded twice (%2540 for '@').
func (b *builder) dblEnc(e string) string {
	return b.put(Email, FormLinkQuery, false, e, strings.ReplaceAll(b.pctEncode(e), "%", "%25"))
}

func bookingENPage(b *builder) string {
	g := b.g
	lead := g.ENName()
	lat, lng := g.Coordinates()
	var s strings.Builder
	fmt.Fprintf(&s, `<!DOCTYPE html>
<html lang="en"><head>%s<title>Booking confirmed – Reservation %s | Lakeside Grand Hotel</title>
<script>window.__INITIAL_STATE__ = {"booking":{"ref":"%s","guest":{"fullName":%s,"passportNo":%s,"ssn":%s,"itin":%s,"iban":%s,"card":%s,"rrn":%s,"aadhaar":%s}}};</script>
<script>window.__GUEST__ = JSON.parse("{\"fullName\":\"%s\",\"cpf\":\"%s\",\"dni\":\"%s\",\"pesel\":\"%s\"}");</script>
</head><body>
<h1>Your booking is confirmed</h1>
<p>Dear %s,</p>
<p>Thank you for choosing Lakeside Grand Hotel. Confirmation number <b>%s</b>, check-in 2026-12-18, 2 nights, total $%s.</p>
<table class="guests" data-owner="%s">
<tr><th>Lead guest</th><td>%s</td></tr>
<tr><th>US passport</th><td>Passport No. %s</td></tr>
<tr><th>SSN (W-9 on file)</th><td>%s</td></tr>
<tr><th>ITIN</th><td>%s</td></tr>
<tr><th>Guest 2 (Brazil)</th><td>%s — CPF %s</td></tr>
<tr><th>Guest 3 (Spain)</th><td>DNI %s · partner NIE %s</td></tr>
<tr><th>Guest 4 (Italy)</th><td>Codice fiscale %s</td></tr>
<tr><th>Guest 5 (France)</th><td>N° de sécurité sociale %s</td></tr>
<tr><th>Guest 6 (Poland)</th><td>PESEL %s</td></tr>
<tr><th>Guest 7 (Korea)</th><td>%s %s</td></tr>
<tr><th>Guest 8 (India)</th><td>Aadhaar %s</td></tr>
<tr><th>Guest 9 (Hong Kong)</th><td>HKID %s</td></tr>
<tr><th>Guest 10 (Taiwan)</th><td>ID %s</td></tr>
</table>
`, b.head(), b.decoy("booking_ref", "LGH-"+fmt.Sprint(g.Intn(100000, 999999))), b.decoy("booking_ref", "LGH-"+fmt.Sprint(g.Intn(100000, 999999))),
		jsq(b.same(ENName, FormStateJSON, true, g.ENName())), jsq(b.same(USPassport, FormStateJSON, false, g.USPassport())), jsq(b.same(USSSN, FormStateJSON, false, g.SSN())),
		jsq(b.same(USITIN, FormStateJSON, false, g.ITIN())), jsq(b.same(IBAN, FormStateJSON, false, g.IBAN("DE"))), jsq(b.same(BankCard, FormStateJSON, false, g.BankCard("amex"))),
		jsq(b.same(KRRRN, FormStateJSON, false, g.KRRRN())), jsq(b.same(Aadhaar, FormStateJSON, false, g.Aadhaar())),
		b.uesc(ENName, true, g.ENName()), b.uesc(CPF, false, g.CPF()), b.uesc(DNI, false, g.DNI()), b.uesc(PESEL, false, g.PESEL()),
		b.same(ENName, FormText, true, lead), b.decoy("booking_ref", "LGH-"+fmt.Sprint(g.Intn(100000, 999999))), b.decoy("price_usd", fmt.Sprintf("%d.%02d", g.Intn(200, 900), g.Intn(0, 99))),
		b.same(ENName, FormDataAttr, true, g.ENName()), b.same(ENName, FormText, true, g.ENName()),
		b.same(USPassport, FormText, false, g.USPassport()), b.same(USSSN, FormText, false, g.SSN()), b.same(USITIN, FormText, false, g.ITIN()),
		b.same(ENName, FormText, true, g.ENName()), b.same(CPF, FormText, false, g.CPF()), b.same(DNI, FormText, false, g.DNI()), b.same(NIE, FormText, false, g.NIE()),
		b.same(ITCF, FormText, false, g.CodiceFiscale()), b.same(NIR, FormText, false, g.NIR()), b.same(PESEL, FormText, false, g.PESEL()),
		b.alt("주민등록번호", "RRN"), b.same(KRRRN, FormText, false, g.KRRRN()), b.same(Aadhaar, FormText, false, g.Aadhaar()), b.same(HKID, FormText, false, g.HKID()), b.same(TWID, FormText, false, g.TWID()))
	cards := []string{"visa16", "visa13", "mastercard", "amex", "diners", "diners300", "maestro", "unionpay19"}
	s.WriteString("<h2>Payment</h2><ul class=\"cards\">\n")
	for i, c := range cards {
		v := g.BankCard(c)
		var shown string
		if i%2 == 1 {
			shown = b.card(v)
		} else {
			shown = b.same(BankCard, FormText, false, v)
		}
		fmt.Fprintf(&s, "<li>%s card %s, authorised %s</li>\n", strings.ToUpper(c[:1])+c[1:], shown, b.decoy("date", fmt.Sprintf("2026-11-%02d", g.Intn(1, 28))))
	}
	fmt.Fprintf(&s, `</ul>
<p>Refund account: %s · alternative %s</p>
<p>Guest Wi-Fi device registered: %s (IP %s, %s)</p>
<p>Airport pickup from your pinned location %s, %s. Driver: %s, %s.</p>
<p>Emergency contact: %s, %s, %s</p>
<div data-guest-ssn="%s" data-passport="%s" data-dni="%s" data-cf="%s"></div>
<!-- PMS export: guest=%s ssn=%s cpf=%s nir=%s pesel=%s rrn=%s -->
<p>Card on file: <span>%s</span> · SSN <span>%s</span> · Aadhaar <span>%s</span></p>
<p>Codice fiscale (entities): %s · PESEL %s</p>
<p>Full-width entry from the kiosk: %s %s</p>
<p><a href="/manage?%s">Manage booking</a> <a href="/invoice?%s">Invoice</a> <a href="/checkin?%s">Online check-in</a></p>
<p>Reservation system build 10.0.19045.%s · Client app %s · %s</p>
</body></html>
`, b.same(IBAN, FormText, false, SpacedIBAN(g.IBAN("FR"))), b.same(IBAN, FormText, false, g.IBAN("GB")),
		b.same(MAC, FormText, false, strings.ReplaceAll(g.MAC(), ":", "-")), b.same(IPv4, FormText, false, g.IPv4()), b.same(IPv6, FormText, false, g.IPv6()),
		b.same(Coordinates, FormText, false, lat), lng, b.same(ENName, FormText, true, "Mr "+g.ENName()), b.same(IntlPhone, FormText, false, g.IntlPhone("us")),
		b.same(ENName, FormText, false, g.ENName()), b.same(IntlPhone, FormText, false, g.IntlPhone("de")), b.same(IntlPhone, FormText, false, g.IntlPhone("fr")),
		b.same(USSSN, FormDataAttr, false, g.SSN()), b.same(USPassport, FormDataAttr, false, g.USPassport()), b.same(DNI, FormDataAttr, false, g.DNI()), b.same(ITCF, FormDataAttr, false, g.CodiceFiscale()),
		b.same(ENName, FormComment, true, g.ENName()), b.same(USSSN, FormComment, false, g.SSN()), b.same(CPF, FormComment, false, g.CPF()), b.same(NIR, FormComment, false, g.NIR()),
		b.same(PESEL, FormComment, false, g.PESEL()), b.same(KRRRN, FormComment, false, g.KRRRN()),
		b.split(BankCard, g.BankCard("visa16")), b.split(USSSN, g.SSN()), b.split(Aadhaar, g.Aadhaar()),
		b.ent(ITCF, g.CodiceFiscale()), b.ent(PESEL, g.PESEL()), b.fw(DNI, g.DNI()), b.fw(USSSN, g.SSN()),
		qv("ssn", b.linkQ(USSSN, false, g.SSN()), "guest", b.linkQ(ENName, true, g.ENName())),
		qv("cpf", b.linkQ(CPF, false, g.CPF()), "iban", b.linkQ(IBAN, false, g.IBAN("DE"))),
		qv("passport", b.linkQ(USPassport, false, g.USPassport()), "email", b.linkQ(Email, false, g.Email("gmail.com"))),
		b.decoy("build", fmt.Sprint(g.Intn(1000, 9999))), b.decoy("version", g.Version()), b.decoy("uuid", g.UUID()))
	return s.String()
}

// uesc plants v as a \uXXXX-escaped JSON string inside a JavaScript string.
func (b *builder) uesc(e Entity, lab bool, v string) string {
	return b.put(e, FormEscapedJSON, lab, v, jsStr(uescape(v)))
}

func accessLogPage(b *builder) string {
	g := b.g
	var s strings.Builder
	uas := []string{
		`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36`,
		`Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.53(0x18003531) NetType/WIFI Language/zh_CN`,
		`okhttp/4.12.0 Client app %s`,
	}
	for i := 0; i < 14; i++ {
		var ip string
		if i%4 == 3 {
			ip = b.same(IPv6, FormPlain, false, g.IPv6())
		} else {
			ip = b.same(IPv4, FormPlain, false, g.IPv4())
		}
		var path string
		switch i % 7 {
		case 0:
			path = "/api/user/info?mobile=" + b.same(CNMobile, FormPlain, false, g.CNMobile())
		case 1:
			e := g.Email("")
			path = "/login?email=" + b.put(Email, FormPlain, false, e, strings.ReplaceAll(e, "@", "%40"))
		case 2:
			path = "/api/order/" + b.decoy("order_no", g.OrderNo(true)) + "?t=" + b.decoy("timestamp13", g.Timestamp(true))
		case 3:
			path = "/verify?idcard=" + b.same(CNID, FormPlain, false, g.CNID())
		case 4:
			path = "/static/js/app." + b.decoy("version", g.Version()) + ".js"
		case 5:
			path = "/search?q=" + b.linkQPlain(CNName, g.CNName("common"))
		default:
			path = "/device/bind?mac=" + b.same(MAC, FormPlain, false, g.MAC())
		}
		ua := uas[i%3]
		if strings.Contains(ua, "%s") {
			ua = fmt.Sprintf(ua, b.decoy("version", g.Version()))
		}
		fmt.Fprintf(&s, "%s - - [01/Dec/2026:10:%02d:%02d +0800] \"GET %s HTTP/1.1\" 200 %d \"-\" \"%s\" rt=0.0%d req_id=%s\n",
			ip, i*3%60, i*7%60, path, g.Intn(300, 40000), ua, g.Intn(10, 99), b.decoy("uuid", g.UUID()))
	}
	fmt.Fprintf(&s, "# rotated at %s by logrotate; build 10.0.19045.%s\n", b.decoy("timestamp10", g.Timestamp(false)), b.decoy("build", fmt.Sprint(g.Intn(1000, 9999))))
	return s.String()
}

// linkQPlain plants a value percent-encoded in UTF-8 in a logged request line.
func (b *builder) linkQPlain(e Entity, v string) string {
	if !b.ok(v) {
		return ""
	}
	return b.put(e, FormPlain, false, v, pathEscapeQuery(v))
}

func pathEscapeQuery(v string) string {
	var o strings.Builder
	for _, c := range []byte(v) {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			o.WriteByte(c)
		} else {
			fmt.Fprintf(&o, "%%%02X", c)
		}
	}
	return o.String()
}

func hktwPage(b *builder) string {
	g := b.g
	name, name2, name3 := g.TradName(), g.TradName(), g.TradName()
	addrFull, _ := g.TradAddress()
	var s strings.Builder
	fmt.Fprintf(&s, `<!DOCTYPE html>
<html lang="zh-Hant"><head>%s
<title>%s的會員資料 - 港台購物網</title>
<meta name="author" content="%s">
</head><body>
<div class="member" data-user="%s" data-mobile="%s">
<img src="/avatar/m.png" alt="%s的頭像">
<h2>會員資料</h2>
<dl>
<dt>姓名</dt><dd>%s</dd>
<dt>身分證字號</dt><dd>%s</dd>
<dt>香港身份證</dt><dd>%s</dd>
<dt>手機</dt><dd>%s</dd>
<dt>香港手提電話</dt><dd>%s</dd>
<dt>電郵</dt><dd>%s</dd>
<dt>通訊地址</dt><dd>%s</dd>
<dt>收件人</dt><dd>%s</dd>
</dl>
</div>
<div class="post"><p>各位好，我是%s，之前在這裡買的耳機有問題，請賣家盡快回覆，我的電話 %s，或寄信到 %s。</p>
<p>訂單編號 %s，商品條碼 %s，售價 NT$%s。</p></div>
<!-- 客服備註：%s 已驗證 身分證 %s -->
<script>window.__INITIAL_STATE__ = {"member":{"realName":%s,"mobile":%s,"twId":%s,"hkId":%s}};</script>
<script>window.__M__ = JSON.parse("{\"realName\":\"%s\",\"mobile\":\"%s\"}");</script>
<p><a href="/member/edit?%s">修改資料</a> <a href="/search?%s">搜尋</a></p>
</body></html>
`, b.head(), b.put(CNName, FormTitle, true, name, name), b.same(CNName, FormMetaAuthor, true, name),
		b.same(CNName, FormDataAttr, true, name), b.same(IntlPhone, FormDataAttr, false, g.IntlPhone("tw")), b.put(CNName, FormAltTitle, true, name, name),
		b.same(CNName, FormText, true, name), b.same(TWID, FormText, false, g.TWID()), b.same(HKID, FormText, false, g.HKID()),
		b.same(IntlPhone, FormText, false, g.IntlPhone("tw")), b.same(IntlPhone, FormText, false, g.IntlPhone("hk")), b.same(Email, FormText, false, g.Email("gmail.com")),
		b.same(CNAddress, FormText, true, addrFull), b.same(CNName, FormText, true, name2),
		b.same(CNName, FormText, false, name3), b.same(IntlPhone, FormText, false, g.IntlPhone("hk")), b.same(Email, FormText, false, g.Email("")),
		b.decoy("order_no", g.OrderNo(false)), b.decoy("ean13", g.EAN13()), b.decoy("price", fmt.Sprint(g.Intn(500, 9000))),
		b.same(CNName, FormComment, true, g.TradName()), b.same(TWID, FormComment, false, g.TWID()),
		jsq(b.same(CNName, FormStateJSON, true, g.TradName())), jsq(b.same(IntlPhone, FormStateJSON, false, g.IntlPhone("tw"))),
		jsq(b.same(TWID, FormStateJSON, false, g.TWID())), jsq(b.same(HKID, FormStateJSON, false, g.HKID())),
		b.uesc(CNName, true, g.TradName()), b.uesc(IntlPhone, false, g.IntlPhone("hk")),
		qv("name", b.linkQ(CNName, true, g.TradName()), "tel", b.linkQ(IntlPhone, false, g.IntlPhone("tw"))),
		qv("q", b.linkQ(CNAddress, false, g.TradAddressFull())))
	return s.String()
}

// TradAddressFull returns only the full form of a new traditional address.
func (g *Gen) TradAddressFull() string {
	f, _ := g.TradAddress()
	return f
}

// cell writes v as a table cell in form f, as the admin pages and leaked
// spreadsheets-turned-HTML that carry staff lists do.
func (b *builder) cell(e Entity, f Form, lab bool, v string) string {
	var shown, html string
	switch f {
	case FormDataAttr:
		shown = attr(v)
		html = `<span class="masked" data-value="` + shown + `">已隐藏</span>`
	case FormFullWidth:
		shown = fullWidth(v)
		html = shown
	case FormEntities:
		shown = entities(v)
		html = shown
	case FormSplitTags:
		shown = splitTags(v, len(b.planted))
		html = shown
	case FormComment:
		shown = v
		html = "<!-- " + v + " -->—"
	case FormAltTitle:
		shown = attr(v)
		html = `<a href="#" title="` + shown + `">查看</a>`
	case FormInputValue:
		shown = attr(v)
		html = `<input type="text" readonly value="` + shown + `">`
	default:
		shown, html = v, v
	}
	if b.put(e, f, lab, v, shown) == "" {
		return "<td></td>"
	}
	return "<td>" + html + "</td>"
}

func directoryPage(b *builder) string {
	g := b.g
	forms := []Form{FormText, FormDataAttr, FormFullWidth, FormEntities, FormSplitTags, FormComment, FormAltTitle, FormInputValue}
	var s strings.Builder
	fmt.Fprintf(&s, `<!DOCTYPE html>
<html><head>%s<title>通讯录 - 华信科技内部门户</title></head><body>
<h2>研发中心通讯录（%s 更新）</h2>
<table class="tbl" border="1">
<tr><th>工号</th><th>姓名</th><th>部门</th><th>手机</th><th>座机</th><th>邮箱</th><th>身份证号</th><th>工资卡</th><th>车牌</th><th>办公IP</th><th>网卡MAC</th><th>护照</th></tr>
`, b.head(), b.decoy("date", fmt.Sprintf("2026-11-%02d", g.Intn(1, 28))))
	type row struct{ name, mobile, land, mail, id, card, plate, ip, mac, pp string }
	var rows []row
	for i, f := range forms {
		r := row{g.CNName([]string{"common", "rare", "compound"}[i%3]), g.CNMobile(), g.CNLandline(), g.Email("company"), g.CNID(),
			g.BankCard("unionpay19"), g.Plate(i%2 == 0), g.IPv4(), g.MAC(), g.CNPassport()}
		rows = append(rows, r)
		fmt.Fprintf(&s, "<tr><td>%s</td>%s<td>%s</td>%s%s%s%s%s%s%s%s%s</tr>\n",
			b.decoy("staff_no", fmt.Sprintf("HX%06d", g.Intn(100000, 999999))), b.cell(CNName, f, true, r.name), g.Pick("平台部", "算法组", "测试部", "运维部"),
			b.cell(CNMobile, f, false, r.mobile), b.cell(CNLandline, f, false, r.land), b.cell(Email, f, false, r.mail), b.cell(CNID, f, false, r.id),
			b.cell(BankCard, f, false, r.card), b.cell(Plate, f, false, r.plate), b.cell(IPv4, f, false, r.ip), b.cell(MAC, f, false, r.mac), b.cell(CNPassport, f, false, r.pp))
	}
	s.WriteString("</table>\n")
	// The same list as the page's script receives it, escaped as some
	// serializers write it.
	r := row{g.CNName("rare"), g.CNMobile(), g.CNLandline(), g.Email("company"), g.CNID(), g.BankCard("unionpay16"), g.Plate(true), g.IPv4(), g.MAC(), g.CNPassport()}
	fmt.Fprintf(&s, `<script>window.__INITIAL_STATE__ = JSON.parse("{\"staff\":[{\"realName\":\"%s\",\"mobile\":\"%s\",\"tel\":\"%s\",\"email\":\"%s\",\"idCard\":\"%s\",\"salaryCard\":\"%s\",\"plate\":\"%s\",\"ip\":\"%s\",\"mac\":\"%s\",\"passport\":\"%s\"}]}");</script>
<p>共 %d 人　导出时间 %s　门户版本 %s</p>
</body></html>
`, b.uesc(CNName, true, r.name), b.uesc(CNMobile, false, r.mobile), b.uesc(CNLandline, false, r.land), b.uesc(Email, false, r.mail), b.uesc(CNID, false, r.id),
		b.uesc(BankCard, false, r.card), b.uesc(Plate, false, r.plate), b.uesc(IPv4, false, r.ip), b.uesc(MAC, false, r.mac), b.uesc(CNPassport, false, r.pp),
		len(rows)+1, b.decoy("timestamp10", g.Timestamp(false)), b.decoy("version", g.Version()))
	return s.String()
}
