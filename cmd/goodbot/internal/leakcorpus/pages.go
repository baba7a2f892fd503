package leakcorpus

import (
	"fmt"
	"strings"
)

// template writes one page. It returns the page's media type (without
// charset) and its source text.
type template struct {
	name string
	kind string // "html", "json" or "plain"
	trad bool   // written in traditional characters: also served as Big5
	fn   func(b *builder) string
}

var templates = []template{
	{"news", "html", false, newsPage},
	{"cv", "html", false, cvPage},
	{"order", "html", false, orderPage},
	{"forum", "html", false, forumPage},
	{"company", "html", false, companyPage},
	{"clinic", "html", false, clinicPage},
	{"export", "json", false, exportPage},
	{"about-en", "html", false, aboutENPage},
	{"booking-en", "html", false, bookingENPage},
	{"accesslog", "plain", false, accessLogPage},
	{"hktw", "html", true, hktwPage},
	{"directory", "html", false, directoryPage},
}

// obf writes an e-mail address the way people hide it from harvesters.
func obf(e string, style int) string {
	local, dom := EmailLocal(e), e[strings.IndexByte(e, '@')+1:]
	parts := strings.Split(dom, ".")
	switch style % 5 {
	case 0:
		return local + " AT " + strings.Join(parts, " DOT ")
	case 1:
		return local + "#" + dom + "（#换成@）"
	case 2:
		return local + "(at)" + strings.Join(parts, "(dot)")
	case 3:
		return local + " [at] " + strings.Join(parts, " [dot] ")
	default:
		return local + "＠" + dom
	}
}

// obfEmail plants an obfuscated e-mail; the local part is what must not be stored.
func (b *builder) obfEmail(style int) string {
	e := b.g.Email("")
	return b.put(Email, FormObfuscated, false, EmailLocal(e), obf(e, style))
}

func newsPage(b *builder) string {
	g := b.g
	reporter, intern, editor, byline := g.CNName("common"), g.CNName("rare"), g.CNName("common"), g.CNName("compound")
	victim, witness, boss := g.CNName("common"), g.CNName("rare"), g.CNName("compound")
	c1, c2, c3, c4 := g.CNName("common"), g.CNName("rare"), g.CNName("common"), g.CNName("compound")
	m1, m2, m3, m4, m5 := g.CNMobile(), g.CNMobile(), g.CNMobile(), g.CNMobile(), g.CNMobile()
	id1, id2 := g.CNID(), g.CNID()
	card := g.BankCard("unionpay19")
	addrFull, addr := g.CNAddress()
	plate := g.Plate(false)
	ip1, ip2 := g.IPv4(), g.IPv6()
	lat, lng := g.Coordinates()
	ldName := g.CNName("common")
	var s strings.Builder
	fmt.Fprintf(&s, `<!DOCTYPE html>
<html lang="zh-CN"><head>%s
<title>男子遭遇“冒充客服”诈骗 民警提醒：切勿向陌生人转账_社会_南方晨报网</title>
<meta name="keywords" content="电信诈骗,冒充客服,反诈">
<meta name="author" content="%s">
<meta name="description" content="近日，市民在接到自称某电商平台客服的电话后被骗走三万余元。">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"男子遭遇冒充客服诈骗","datePublished":"%s","author":{"@type":"Person","name":%s},"publisher":{"@type":"Organization","name":"南方晨报"}}</script>
<link rel="stylesheet" href="/static/css/article.v%s.css">
</head>
<body>
<div class="header"><a href="/">首页</a> &gt; <a href="/news/">社会</a></div>
<div class="article" data-article-id="%s">
<h1>男子遭遇“冒充客服”诈骗 民警提醒：切勿泄露验证码</h1>
<div class="info">来源：南方晨报　记者 %s　通讯员 %s　<span class="time">%s 08:32</span>　阅读 %s</div>
`, b.head(), b.same(CNName, FormMetaAuthor, true, reporter), b.decoy("date", "2026-11-30"), jsq(b.same(CNName, FormJSONLD, true, ldName)),
		b.decoy("version", g.Version()), b.decoy("uuid", g.UUID()),
		b.same(CNName, FormText, true, g.CNName("common")), b.same(CNName, FormText, true, intern), b.decoy("date", "2026-11-29"), b.decoy("pageviews", fmt.Sprint(g.Intn(10000, 99999))))
	fmt.Fprintf(&s, `<p>本报讯 11月28日下午，家住%s的%s接到一个自称“平台售后客服”的电话，对方准确说出了他的订单号 %s 和收货地址，称商品存在质量问题需要退款。</p>
<p>“他一开始就报出了我的身份证号 %s，我就信了。”%s回忆说。随后，对方以“开通退款通道”为由，诱导他将银行卡 %s 里的三万余元转入所谓“安全账户”。</p>
<p>目击者%s告诉记者，当天下午还看到一辆车牌为%s的白色轿车在小区门口停留许久。警方已调取监控，涉案手机号码 %s 已被标记。</p>
<p>派出所副所长%s提醒：公检法机关不会通过电话要求转账，如接到可疑来电，请拨打 96110 咨询。如有线索，可联系办案民警，电话 %s。</p>
<p>受害人的家属称，老人此前曾在网上填写过一份“健康问卷”，留下了手机 %s 和家庭住址，<b>身份证</b>：%s。</p>
<p class="author">文/%s　责任编辑：%s</p>
</div>
`, b.same(CNAddress, FormText, false, addrFull), b.same(CNName, FormText, false, victim), b.decoy("order_no", g.OrderNo(true)),
		b.put(CNID, FormSplitTags, false, id1, splitTags(id1, 2)), b.same(CNName, FormText, false, victim),
		b.put(BankCard, FormSpaced, false, card, card4(card)), b.same(CNName, FormText, false, witness), b.same(Plate, FormText, false, plate),
		b.put(CNMobile, FormSpaced, false, m1, spaced(m1)), b.same(CNName, FormText, false, boss), b.put(CNMobile, FormDotted, false, m2, dotted(m2)),
		b.put(CNMobile, FormFullWidth, false, m3, fullWidth(m3)), b.put(CNID, FormEntities, false, id2, entities(id2)),
		b.same(CNName, FormText, true, byline), b.same(CNName, FormText, true, editor))
	fmt.Fprintf(&s, `<!-- 采编系统导出 author=%s tel=%s 审核 2026-11-30 -->
<div class="comments"><h3>网友评论（%s）</h3>
<div class="comment" data-uid="%s" data-user="%s"><img src="/avatar/1.png" alt="%s的头像"><span class="nick">%s</span>：骗子太猖狂了，我上周也接到过，号码是 %s，大家小心！<span class="ip">IP属地：广东</span></div>
<div class="comment" data-uid="%s"><img src="/avatar/2.png" alt="%s的头像"><span class="nick">热心市民</span>：有同样遭遇的可以加群，联系人 %s，微信同手机 %s，邮箱 %s</div>
<div class="comment"><span class="nick">%s</span>：我在%s附近也见过那辆车，定位 %s,%s 就在这</div>
<div class="comment"><span class="nick">匿名用户</span>：楼上的，我的邮箱是 %s，收到类似短信的可以发我截图</div>
</div>
<script>window.__INITIAL_STATE__ = {"article":{"id":%s,"views":%s,"editor":{"realName":%s,"mobile":%s,"idCard":%s}},"user":{"nickname":%s,"lastLoginIp":%s,"ipv6":%s},"ts":%s};</script>
<div class="footer">南方晨报网 版权所有　粤ICP备05012345号　<a href="/news/?page=2">下一页</a></div>
</body></html>
`, b.same(CNName, FormComment, true, g.CNName("common")), b.same(CNMobile, FormComment, false, g.CNMobile()),
		b.decoy("count", fmt.Sprint(g.Intn(120, 999))),
		b.decoy("uid", fmt.Sprint(g.Intn(1000000, 9999999))), b.same(CNName, FormDataAttr, false, c1), b.same(CNName, FormAltTitle, true, c2), b.same(CNName, FormText, false, c3),
		b.same(CNMobile, FormText, false, m4), b.decoy("uid", fmt.Sprint(g.Intn(1000000, 9999999))), b.same(CNName, FormAltTitle, true, c4),
		b.same(CNName, FormText, true, g.CNName("rare")), b.same(CNMobile, FormText, false, m5), b.same(Email, FormText, false, g.Email("")),
		b.same(CNName, FormText, false, g.CNName("common")), b.same(CNAddress, FormText, false, addr),
		b.put(Coordinates, FormText, false, lat, lat), lng, b.obfEmail(g.Intn(0, 4)),
		b.decoy("article_id", fmt.Sprint(g.Intn(100000, 999999))), b.decoy("pageviews", fmt.Sprint(g.Intn(10000, 99999))),
		jsq(b.same(CNName, FormStateJSON, true, g.CNName("compound"))), jsq(b.same(CNMobile, FormStateJSON, false, g.CNMobile())), jsq(b.same(CNID, FormStateJSON, false, g.CNID())),
		jsq(b.same(CNName, FormStateJSON, true, g.CNName("common"))), jsq(b.same(IPv4, FormStateJSON, false, ip1)), jsq(b.same(IPv6, FormStateJSON, false, ip2)),
		b.decoy("timestamp13", g.Timestamp(true)))
	return s.String()
}

func cvPage(b *builder) string {
	g := b.g
	name := g.CNName(g.Pick("common", "compound", "rare"))
	ref1, ref2 := g.CNName("common"), g.CNName("rare")
	m, mail := g.CNMobile(), g.Email("")
	id := g.CNID()
	addrFull, _ := g.CNAddress()
	var s strings.Builder
	fmt.Fprintf(&s, `<!DOCTYPE html>
<html><head>%s
<title>%s</title>
<meta name="author" content="%s">
<style>.cv{width:800px}.k{color:#666}</style>
</head><body>
<div class="cv" data-owner="%s">
<img class="photo" src="/photo/cv.jpg" alt="%s" title="%s">
<h1>个人简历</h1>
<table class="base">
<tr><td class="k">姓　　名：</td><td>%s</td><td class="k">性　　别：</td><td>男</td></tr>
<tr><td class="k">出生年月：</td><td>%s</td><td class="k">民　　族：</td><td>汉</td></tr>
<tr><td class="k">身份证号：</td><td>%s</td><td class="k">政治面貌：</td><td>党员</td></tr>
<tr><td class="k">联系电话：</td><td>%s</td><td class="k">电子邮箱：</td><td><a href="mailto:%s">%s</a></td></tr>
<tr><td class="k">现居住地：</td><td colspan="3">%s</td></tr>
<tr><td class="k">护照号码：</td><td>%s</td><td class="k">备用邮箱：</td><td>%s</td></tr>
</table>
`, b.head(), b.put(CNName, FormTitle, true, name, name+"的个人简历 - 简历网"), b.same(CNName, FormMetaAuthor, true, name),
		b.same(CNName, FormDataAttr, true, name), b.put(CNName, FormAltTitle, true, name, name+"的头像"), b.put(CNName, FormAltTitle, true, name, name+"的照片"),
		b.same(CNName, FormText, true, name), "1996年"+fmt.Sprint(g.Intn(1, 12))+"月",
		b.same(CNID, FormText, false, id), b.put(CNMobile, FormSpaced, false, m, dashed(m)), b.same(Email, FormHref, false, mail), b.same(Email, FormText, false, mail),
		b.same(CNAddress, FormText, true, addrFull), b.same(CNPassport, FormText, false, g.CNPassport()), b.same(Email, FormText, false, g.Email("qq.com")))
	fmt.Fprintf(&s, `<h2>求职意向</h2><p>Java 高级开发工程师　期望薪资：25K-35K　期望城市：杭州</p>
<h2>工作经历</h2>
<p>2021.07 - 至今　杭州某科技有限公司（统一社会信用代码 %s）　后端开发</p>
<p>负责订单系统重构，日均处理订单 %s 单；主导客户端 v%s 灰度发布。</p>
<h2>证明人</h2>
<p>前主管：%s，电话 %s；HR：%s，邮箱 %s</p>
<h2>自我评价</h2><p>热爱技术，有良好的沟通能力。</p>
<p class="contact">联系我：%s</p>
</div>
<script>var resume = {"name":%s,"phone":%s,"email":%s,"idNo":%s};</script>
<!-- 简历ID %s 最后更新 %s by %s -->
</body></html>
`, b.decoy("uscc", g.USCC()), b.decoy("count", fmt.Sprint(g.Intn(100000, 900000))), b.decoy("version", g.Version()),
		b.same(CNName, FormText, true, ref1), b.same(CNLandline, FormText, false, g.CNLandline()), b.same(CNName, FormText, true, ref2),
		b.same(Email, FormText, false, g.Email("company")), b.obfEmail(g.Intn(0, 4)),
		jsq(b.same(CNName, FormScriptVar, true, g.CNName("common"))), jsq(b.same(CNMobile, FormScriptVar, false, g.CNMobile())),
		jsq(b.same(Email, FormScriptVar, false, g.Email(""))), jsq(b.same(CNID, FormScriptVar, false, g.CNID())),
		b.decoy("uuid", g.UUID()), b.decoy("timestamp10", g.Timestamp(false)), b.same(CNName, FormComment, true, g.CNName("common")))
	return s.String()
}

func orderPage(b *builder) string {
	g := b.g
	recv := g.CNName("common")
	m := g.CNMobile()
	addrFull := g.CNAddressFull()
	card := g.BankCard(g.Pick("unionpay16", "visa16", "mastercard"))
	order := g.OrderNo(g.Intn(0, 1) == 0)
	escName, escMobile, escID, escAddr := g.CNName("compound"), g.CNMobile(), g.CNID(), g.CNAddressFull()
	var s strings.Builder
	fmt.Fprintf(&s, `<!DOCTYPE html>
<html><head>%s<title>订单详情 - 优选商城</title>
<script>window.__INITIAL_STATE__ = {"order":{"orderId":"%s","status":"WAIT_RECEIVE","payTime":%s,"amount":"1399.00"},"consignee":{"realName":%s,"mobile":%s,"address":%s,"idCard":%s},"pay":{"cardNo":%s,"bank":"招商银行"}};</script>
<script>window.__USER__ = JSON.parse("{\"realName\":\"%s\",\"mobile\":\"%s\",\"idCard\":\"%s\",\"address\":\"%s\"}");</script>
</head><body>
<div class="order" data-order="%s" data-mobile="%s" data-contact="%s">
<h2>订单号：%s</h2>
<div class="status">卖家已发货　%s 快递单号 <b>%s</b></div>
<div class="addr"><h3>收货信息</h3>
<p>收货人：%s</p><p>联系电话：%s</p><p>收货地址：%s</p><p>邮编：%s</p></div>
<div class="goods"><table>
<tr><th>商品</th><th>SKU</th><th>条码</th><th>单价</th><th>数量</th></tr>
<tr><td>华为 MatePad 11.5 平板电脑</td><td>%s</td><td>%s</td><td>%s</td><td>1</td></tr>
<tr><td>《深入理解计算机系统》（原书第3版）ISBN %s</td><td>%s</td><td>%s</td><td>%s</td><td>1</td></tr>
</table></div>
<div class="pay">支付方式：银行卡（%s）　实付：<b>%s</b>　下单时间：%s</div>
<div class="inv">发票抬头：杭州某某贸易有限公司　税号：%s</div>
<div class="svc">客服热线 400-820-8820　物流电话 %s</div>
<p><a href="/order/track?%s">查看物流</a>　<a href="/member/address?%s">修改地址</a>　<a href="/user/contact?%s">联系买家</a></p>
<input type="hidden" name="receiverPhone" value="%s">
</div>
<!-- buyer: %s / %s -->
</body></html>
`, b.head(), b.decoy("order_no", order), b.decoy("timestamp13", g.Timestamp(true)),
		jsq(b.same(CNName, FormStateJSON, true, g.CNName("common"))), jsq(b.same(CNMobile, FormStateJSON, false, g.CNMobile())),
		jsq(b.same(CNAddress, FormStateJSON, true, g.CNAddressFull())), jsq(b.same(CNID, FormStateJSON, false, g.CNID())), jsq(b.same(BankCard, FormStateJSON, false, g.BankCard("unionpay16"))),
		b.put(CNName, FormEscapedJSON, true, escName, jsStr(uescape(escName))), b.put(CNMobile, FormEscapedJSON, false, escMobile, jsStr(uescape(escMobile))),
		b.put(CNID, FormEscapedJSON, false, escID, jsStr(uescape(escID))), b.put(CNAddress, FormEscapedJSON, true, escAddr, jsStr(uescape(escAddr))),
		order, b.same(CNMobile, FormDataAttr, false, g.CNMobile()), b.same(CNName, FormDataAttr, false, g.CNName("rare")),
		order, g.Pick("顺丰速运", "圆通速递"), b.decoy("tracking", g.Tracking(g.Pick("sf", "yt"))),
		b.same(CNName, FormText, true, recv), b.put(CNMobile, FormText, false, m, m), b.same(CNAddress, FormText, true, addrFull), b.decoy("zip", g.Pick("310012", "518057", "100020")),
		b.decoy("sku", g.SKU()), b.decoy("ean13", g.EAN13()), b.decoy("price", b.yen()+"1399.00"),
		b.decoy("isbn", g.ISBN()), b.decoy("sku", g.SKU()), b.decoy("ean13", g.EAN13()), b.decoy("price", b.yen()+fmt.Sprint(g.Intn(39, 139))+".00"),
		b.put(BankCard, FormText, false, card, card), b.decoy("price", b.yen()+"1399.00"), b.decoy("date", "2026-11-2"+fmt.Sprint(g.Intn(0, 9))+" 21:14:09"), b.decoy("uscc", g.USCC()),
		b.same(CNLandline, FormText, false, g.CNLandline()),
		qv("mobile", b.same(CNMobile, FormLinkQuery, false, g.CNMobile()), "orderId", order),
		qv("addr", b.linkQ(CNAddress, true, g.CNAddressFull())),
		qv("name", b.linkQ(CNName, true, g.CNName("common")), "tel", b.same(CNMobile, FormLinkQuery, false, g.CNMobile())),
		b.same(CNMobile, FormInputValue, false, g.CNMobile()),
		b.same(CNName, FormComment, true, g.CNName("common")), b.same(CNMobile, FormComment, false, g.CNMobile()))
	return s.String()
}

// jsStr escapes a string for the inside of a JSON string nested in a
// JavaScript string literal (backslashes doubled).
func jsStr(s string) string { return strings.ReplaceAll(s, `\`, `\\`) }

// linkQ plants a value percent-encoded in a link's query, as the page's
// encoding would send it, and returns the encoded text.
func (b *builder) linkQ(e Entity, labelled bool, v string) string {
	if !b.ok(v) {
		return ""
	}
	enc := b.pctEncode(v)
	return b.put(e, FormLinkQuery, labelled, v, enc)
}

// CNAddressFull returns only the full form of a new address.
func (g *Gen) CNAddressFull() string {
	f, _ := g.CNAddress()
	return f
}

func forumPage(b *builder) string {
	g := b.g
	nick := "追风少年" + fmt.Sprint(g.Intn(10, 99))
	real := g.CNName("rare")
	mail := g.Email("")
	mac, vin := g.MAC(), g.VIN()
	var s strings.Builder
	fmt.Fprintf(&s, `<!DOCTYPE html>
<html><head>%s<title>%s的个人资料 - 车友之家论坛</title>
<meta name="generator" content="Discuz! X3.4">
</head><body>
<div id="uhd" data-uid="%s" data-user="%s">
<img src="/uc_server/avatar.php?uid=%s&amp;size=middle" alt="%s的头像">
<h2>%s <span class="xg1">(UID: %s)</span></h2>
</div>
<ul class="pf_l">
<li><em>真实姓名</em>%s</li>
<li><em>性别</em>男</li>
<li><em>生日</em>%s</li>
<li><em>所在地</em>浙江省 杭州市</li>
<li><em>手机</em>%s</li>
<li><em>QQ邮箱</em>%s</li>
<li><em>邮箱</em>%s</li>
<li><em>注册 IP</em>%s</li>
<li><em>上次访问 IP</em>%s</li>
<li><em>在线时间</em>%s 小时</li>
<li><em>注册时间</em>%s</li>
</ul>
`, b.head(), nick, b.decoy("uid", fmt.Sprint(g.Intn(100000, 999999))), b.same(CNName, FormDataAttr, false, g.CNName("common")), b.decoy("uid", fmt.Sprint(g.Intn(100000, 999999))),
		nick, nick, b.decoy("uid", fmt.Sprint(g.Intn(100000, 999999))),
		b.same(CNName, FormText, true, real), b.decoy("date", "1990-0"+fmt.Sprint(g.Intn(1, 9))+"-1"+fmt.Sprint(g.Intn(0, 9))),
		b.split(CNMobile, g.CNMobile()),
		b.same(Email, FormText, false, g.Email("qq.com")), b.put(Email, FormEntities, false, mail, hexEntities(mail)),
		b.same(IPv4, FormText, false, g.IPv4()), b.same(IPv6, FormText, false, g.IPv6()), b.decoy("count", fmt.Sprint(g.Intn(100, 9999))), b.decoy("date", "2019-03-1"+fmt.Sprint(g.Intn(0, 9))+" 20:11"))
	fmt.Fprintf(&s, `<div class="thread"><h3>【转让】自用 2019 款大众途观L，车况极好</h3>
<div class="postmessage">
<p>个人一手车，无事故无泡水，车牌 %s，车架号（VIN）%s，可随时验车。</p>
<p>行车记录仪 WiFi 模块 MAC %s，一起送。新能源那辆 %s 也考虑出，价格私聊。</p>
<p>看车地址：%s，联系电话 %s（%s）。</p>
<p>也可以发邮件到 %s 或者 %s</p>
<p>转账请打到 %s（户名 %s）</p>
</div>
<div class="sign">签名：%s | 手机 %s</div>
</div>
<p><a href="/home.php?mod=space&amp;%s">Ta的主页</a> <a href="/search.php?%s">搜索Ta的帖子</a> <a href="/plugin.php?id=contact&amp;%s">私信</a></p>
<script>var discuz_uid = '%s', discuz_mobile = '%s', discuz_email = '%s';</script>
<script>window.__INITIAL_STATE__ = {"space":{"uid":%s,"nickname":%s,"realName":%s,"mobile":%s,"mac":%s,"vin":%s,"plate":%s}};</script>
</body></html>
`, b.same(Plate, FormText, false, g.Plate(false)), b.same(VIN, FormText, false, vin), b.same(MAC, FormText, false, mac), b.same(Plate, FormText, false, g.Plate(true)),
		b.same(CNAddress, FormText, true, g.CNAddressFull()), b.dot(g.CNMobile()), b.same(CNName, FormText, false, g.CNName("compound")),
		b.obfEmail(g.Intn(0, 4)), b.obfEmail(g.Intn(0, 4)),
		b.card(g.BankCard("unionpay16")), b.same(CNName, FormText, true, g.CNName("common")),
		b.same(CNName, FormText, false, g.CNName("common")), b.fw(CNMobile, g.CNMobile()),
		qv("username", b.linkQ(CNName, true, g.CNName("common"))), qv("srchtxt", b.linkQ(Email, false, g.Email("")), "searchsubmit", "yes"),
		qv("email", b.linkQ(Email, false, g.Email("")), "mobile", b.same(CNMobile, FormLinkQuery, false, g.CNMobile())),
		b.decoy("uid", fmt.Sprint(g.Intn(100000, 999999))), b.same(CNMobile, FormScriptVar, false, g.CNMobile()), b.same(Email, FormScriptVar, false, g.Email("")),
		b.decoy("uid", fmt.Sprint(g.Intn(100000, 999999))), jsq(nick), jsq(b.same(CNName, FormStateJSON, true, g.CNName("rare"))),
		jsq(b.same(CNMobile, FormStateJSON, false, g.CNMobile())), jsq(b.same(MAC, FormStateJSON, false, g.MAC())), jsq(b.same(VIN, FormStateJSON, false, g.VIN())),
		jsq(b.same(Plate, FormStateJSON, false, g.Plate(g.Intn(0, 1) == 0))))
	return s.String()
}

func companyPage(b *builder) string {
	g := b.g
	ceo, hr, sales, pr := g.CNName("common"), g.CNName("compound"), g.CNName("rare"), g.CNName("common")
	var s strings.Builder
	fmt.Fprintf(&s, `<!DOCTYPE html>
<html><head>%s<title>联系我们 - 深圳市龙腾智能科技有限公司</title>
<meta name="author" content="深圳市龙腾智能科技有限公司">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Organization","name":"深圳市龙腾智能科技有限公司","telephone":"0755-86013388","employee":[{"@type":"Person","name":%s,"jobTitle":"总经理","telephone":%s,"email":%s}]}</script>
</head><body>
<div class="contact">
<h1>联系我们</h1>
<p>公司地址：广东省深圳市南山区粤海街道高新南七道 18 号（公司地址，邮编 %s）</p>
<p>统一社会信用代码：%s　营业执照注册号 见公示系统</p>
<p>总机：0755-86013388　传真：0755-86013399　服务热线：400-600-8888</p>
<div class="people">
<div class="card" data-contact="%s"><img src="/img/ceo.jpg" alt="%s的名片" title="%s的名片"><p>总经理：%s</p><p>手机：%s</p><p>邮箱：%s</p></div>
<div class="card"><p>人事部 联系人：%s</p><p>电话：%s</p><p>简历投递：%s</p><p>个人微信/手机：%s</p></div>
<div class="card"><p>销售总监：%s</p><p>手机：%s</p><p>Email: <a href="mailto:%s">%s</a></p><p><a href="tel:%s">一键拨号</a></p></div>
<div class="card"><p>媒体联络：%s 女士</p><p>电话：%s</p></div>
</div>
<p>对公账户：招商银行深圳科技园支行　账号 7559 1234 5610 801（对公账户）</p>
<p>最近更新：%s　官网版本 %s　访问量 %s</p>
</div>
<!-- 旧版联系人：%s %s，已离职 -->
<p><a href="/contact/card.php?%s">下载电子名片</a></p>
</body></html>
`, b.head(), jsq(b.same(CNName, FormJSONLD, true, g.CNName("common"))), jsq(b.same(CNMobile, FormJSONLD, false, g.CNMobile())), jsq(b.same(Email, FormJSONLD, false, g.Email("company"))),
		b.decoy("zip", "518057"), b.decoy("uscc", g.USCC()),
		b.same(CNName, FormDataAttr, false, ceo), b.put(CNName, FormAltTitle, true, ceo, ceo), b.put(CNName, FormAltTitle, true, ceo, ceo),
		b.same(CNName, FormText, true, ceo), b.same(CNMobile, FormText, false, g.CNMobile()), b.same(Email, FormText, false, g.Email("company")),
		b.same(CNName, FormText, true, hr), b.same(CNLandline, FormText, false, g.CNLandline()), b.same(Email, FormText, false, g.Email("company")),
		b.ent(CNMobile, g.CNMobile()),
		b.same(CNName, FormText, true, sales), b.sp(g.CNMobile()),
		b.same(Email, FormHref, false, g.Email("company")), b.same(Email, FormText, false, g.Email("company")), b.same(CNMobile, FormHref, false, g.CNMobile()),
		b.same(CNName, FormText, true, pr), b.same(CNLandline, FormText, false, g.CNLandline()),
		b.decoy("date", "2026-10-08"), b.decoy("version", g.Version()), b.decoy("pageviews", fmt.Sprint(g.Intn(100000, 999999))),
		b.same(CNName, FormComment, true, g.CNName("common")), b.same(CNMobile, FormComment, false, g.CNMobile()),
		qv("name", b.linkQ(CNName, true, g.CNName("common")), "mobile", b.same(CNMobile, FormLinkQuery, false, g.CNMobile())))
	return s.String()
}

func clinicPage(b *builder) string {
	g := b.g
	patient := g.CNName("common")
	doctor := g.CNName("rare")
	var s strings.Builder
	fmt.Fprintf(&s, `<!DOCTYPE html>
<html><head>%s<title>预约挂号成功 - 仁和口腔门诊部</title></head><body>
<div class="booking" data-patient="%s" data-id-card="%s">
<h2>预约成功</h2>
<table>
<tr><th>就诊人</th><td>%s</td></tr>
<tr><th>身份证号</th><td>%s</td></tr>
<tr><th>手机号码</th><td>%s</td></tr>
<tr><th>就诊卡号</th><td>%s</td></tr>
<tr><th>医保卡绑定银行卡</th><td>%s</td></tr>
<tr><th>科室/医生</th><td>正畸科 %s 主任医师</td></tr>
<tr><th>就诊时间</th><td>%s 上午 09:30-10:00</td></tr>
<tr><th>紧急联系人</th><td>%s（母亲） %s</td></tr>
<tr><th>家庭住址</th><td>%s</td></tr>
<tr><th>护照（外籍患者）</th><td>护照号：%s</td></tr>
<tr><th>港澳台证件</th><td>%s</td></tr>
</table>
<p>温馨提示：请携带本人身份证原件，提前 15 分钟到院取号。预约编号 %s，挂号费 ￥%s.00。</p>
<p>门诊地址：福建省厦门市思明区（门诊部地址）　电话 0592-5201314</p>
</div>
<script>var patientInfo = {"name":"%s","phone":"%s","idCard":"%s"};</script>
<!-- his-sync patient=%s idcard=%s -->
<p><a href="/booking/cancel?%s">取消预约</a> <a href="/report/view?%s">查看报告</a></p>
</body></html>
`, b.head(), b.same(CNName, FormDataAttr, true, g.CNName("common")), b.same(CNID, FormDataAttr, false, g.CNID()),
		b.same(CNName, FormText, true, patient), b.idsp(g.CNID()), b.same(CNMobile, FormText, false, g.CNMobile()),
		b.decoy("card_no", fmt.Sprint(g.Intn(10000000, 99999999))), b.same(BankCard, FormText, false, g.BankCard("unionpay19")),
		b.same(CNName, FormText, true, doctor), b.decoy("date", "2026-12-0"+fmt.Sprint(g.Intn(1, 9))),
		b.same(CNName, FormText, true, g.CNName("compound")), b.same(CNMobile, FormText, false, g.CNMobile()),
		b.same(CNAddress, FormText, true, g.CNAddressFull()), b.same(CNPassport, FormText, false, g.CNPassport()), b.same(HKID, FormText, false, g.HKID()),
		b.decoy("booking_no", "YY"+g.Timestamp(false)), fmt.Sprint(g.Intn(10, 50)),
		b.same(CNName, FormScriptVar, true, g.CNName("common")), b.same(CNMobile, FormScriptVar, false, g.CNMobile()), b.same(CNID, FormScriptVar, false, g.CNID()),
		b.same(CNName, FormComment, true, g.CNName("common")), b.same(CNID, FormComment, false, g.CNID()),
		qv("idcard", b.same(CNID, FormLinkQuery, false, g.CNID()), "name", b.linkQ(CNName, true, g.CNName("common"))),
		qv("patient", b.linkQ(CNName, true, g.CNName("rare")), "phone", b.same(CNMobile, FormLinkQuery, false, g.CNMobile())))
	return s.String()
}
