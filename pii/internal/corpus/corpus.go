// Package corpus generates labelled evaluation pages for package pii:
// realistic Chinese and English HTML with valid personal identifiers
// (generated with their check digits) planted in varied formats, hard
// look-alike decoys beside them, and every planted span labelled with its
// byte offsets in the HTML.
package corpus

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Label marks one planted value: its entity name and byte span in the HTML.
type Label struct {
	Entity     string
	Start, End int
}

// Page is one generated page.
type Page struct {
	HTML   []byte
	Labels []Label
	// Decoys are look-alikes that are not personal data; each must survive
	// redaction verbatim.
	Decoys []string
	// Sensitive is true for pages built around a PIPL Art. 28 category
	// (with personal data), which should be dropped.
	Sensitive bool
}

type builder struct {
	b      strings.Builder
	labels []Label
	decoys []string
	r      *rand.Rand
}

func (w *builder) raw(s string)                  { w.b.WriteString(s) }
func (w *builder) rawf(f string, a ...any)       { fmt.Fprintf(&w.b, f, a...) }
func (w *builder) decoy(s string)                { w.decoys = append(w.decoys, s); w.raw(s) }
func (w *builder) pick(s []string) string        { return s[w.r.IntN(len(s))] }
func (w *builder) digits(n int) string           { return digits(w.r, n) }
func (w *builder) plant(entity, rendered string) { w.plantAt(entity, rendered, 0, len(rendered)) }

// plantAt writes rendered and labels rendered[s:e].
func (w *builder) plantAt(entity, rendered string, s, e int) {
	at := w.b.Len()
	w.b.WriteString(rendered)
	w.labels = append(w.labels, Label{Entity: entity, Start: at + s, End: at + e})
}

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// Generate returns n pages from seed; the same seed gives the same pages.
func Generate(seed uint64, n int) []Page {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pages := make([]Page, 0, n)
	for i := range n {
		w := &builder{r: r}
		sensitive := false
		switch i % 12 {
		case 0, 1, 2:
			contactPage(w)
		case 3, 4:
			orderPage(w)
		case 5, 6:
			newsPage(w)
		case 7, 8:
			englishPage(w)
		case 9:
			medicalPage(w)
			sensitive = true
		case 10:
			healthNewsPage(w)
		case 11:
			forumPage(w)
		}
		pages = append(pages, Page{HTML: []byte(w.b.String()), Labels: w.labels, Decoys: w.decoys, Sensitive: sensitive})
	}
	return pages
}

var zhFiller = []string{
	"本公司成立于二〇〇八年，专注于工业自动化设备的研发、生产和销售，产品远销东南亚及欧洲市场。",
	"今年第三季度，全市规模以上工业增加值同比增长百分之五点二，高新技术产业增速明显快于整体水平。",
	"为进一步优化营商环境，相关部门将简化审批流程，推行“一网通办”，企业开办时间压缩至一个工作日。",
	"活动期间，全场商品满三百元减五十元，会员可叠加使用优惠券，具体规则以页面公示为准。",
	"该款产品采用全新设计的散热结构，续航时间较上一代提升约两成，支持快速充电与无线充电。",
	"展会吸引了来自二十多个国家和地区的八百余家企业参展，现场签约项目金额超过百亿元。",
	"请在收到商品后七日内确认收货，如有质量问题可申请退换货，运费由商家承担。",
	"专家表示，随着数字经济的发展，数据要素市场建设将成为下一阶段改革的重点方向之一。",
}

var enFiller = []string{
	"Our team builds reliable software for logistics companies across the region, with a focus on open standards.",
	"The quarterly report shows steady growth in subscriptions, while churn fell to its lowest level in three years.",
	"Registration for the annual conference opens next month; early-bird tickets are limited.",
	"All orders ship within two business days. Returns are accepted within thirty days of delivery.",
	"The new release improves startup time, fixes several rendering issues and adds a dark theme.",
}

func (w *builder) head(title string) {
	w.rawf(`<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>%s</title>`, title)
	w.raw(`<meta name="viewport" content="width=device-width, initial-scale=1">`)
	w.raw(`<link rel="stylesheet" href="/static/css/main.3f9a2c.css"><style>body{font-family:"PingFang SC",sans-serif;margin:0}.nav a{color:#333;padding:0 12px}.footer{font-size:12px;color:#999}</style>`)
	w.raw(`<script>window.__CONFIG__={"cdn":"https://static.example.cn","build":"20231123.1","features":["search","cart"]};function track(e){if(!window.dataLayer)return;window.dataLayer.push({event:e,ts:Date.now()})}</script>`)
	w.raw("</head><body>\n")
	w.boiler(false)
	w.raw(`<div class="nav"><a href="/">首页</a><a href="/products/">产品中心</a><a href="/news/">新闻动态</a><a href="/about/">关于我们</a><a href="/contact/">联系我们</a></div>` + "\n")
}

func (w *builder) foot() {
	w.raw(`<div class="footer"><p>版权所有 © 2023 示例科技有限公司</p><p>`)
	w.decoy("京ICP备" + w.digits(8) + "号")
	w.raw(` 统一社会信用代码：`)
	w.decoy(USCC(w.r))
	w.raw(`</p><p>客服热线：`)
	w.decoy("400-" + w.digits(3) + "-" + w.digits(4))
	w.raw("</p></div>\n")
	w.raw(`<script src="/static/js/app.8c1d2e.js"></script><script>track("pageview")</script></body></html>`)
}

func (w *builder) filler(n int, en bool) {
	for range n {
		if en {
			w.rawf("<p>%s</p>\n", w.pick(enFiller))
		} else {
			w.rawf("<p>%s</p>\n", w.pick(zhFiller))
		}
	}
}

func contactPage(w *builder) {
	w.head("联系我们 - 示例科技")
	w.filler(2, false)
	w.raw(`<table class="contacts"><tr><th>部门</th><th>联系人</th><th>电话</th><th>邮箱</th></tr>` + "\n")
	for range 2 + w.r.IntN(3) {
		w.rawf("<tr><td>%s</td><td>", w.pick([]string{"销售部", "市场部", "人事部", "售后服务"}))
		w.raw("联系人：")
		w.plant("CN_PERSON_NAME", Name(w.r))
		w.raw("</td><td>")
		w.mobileOrLandline()
		w.raw("</td><td>")
		w.email()
		w.raw("</td></tr>\n")
	}
	w.raw("</table>\n")
	w.raw(`<table class="info"><tr><td>姓名</td><td>`)
	w.plant("CN_PERSON_NAME", Name(w.r))
	w.raw(`</td><td>联系电话</td><td>`)
	w.mobile()
	w.raw(`</td></tr><tr><td>家庭住址</td><td>`)
	w.plant("CN_ADDRESS", Address(w.r))
	w.raw("</td></tr></table>\n")
	w.raw("<p>公司地址：")
	w.plant("CN_ADDRESS", Address(w.r))
	w.raw("</p>\n<p>如需合作，请联系")
	w.plant("CN_PERSON_NAME", Surname(w.r))
	w.raw(w.pick([]string{"先生", "女士"}) + "，")
	w.mobile()
	w.raw("。</p>\n")
	w.raw(`<script type="application/ld+json">{"@context":"https://schema.org","@type":"Organization","name":"示例科技","telephone":"`)
	w.plant("CN_MOBILE", "+86-"+Mobile(w.r))
	w.raw(`","email":"`)
	w.plant("EMAIL", Email(w.r))
	w.raw(`","geo":{"@type":"GeoCoordinates","latitude":`)
	lat, lon := Coordinates(w.r)
	w.plant("COORDINATES", lat)
	w.raw(`,"longitude":`)
	w.plant("COORDINATES", lon)
	w.raw("}}</script>\n")
	w.raw("<p>更新时间：")
	w.decoy(fmt.Sprintf("2023-%02d-%02d %02d:%02d:%02d", 1+w.r.IntN(12), 1+w.r.IntN(28), w.r.IntN(24), w.r.IntN(60), w.r.IntN(60)))
	w.raw("</p>\n")
	w.foot()
}

func (w *builder) mobileOrLandline() {
	if w.r.IntN(3) == 0 {
		w.raw(w.pick([]string{"电话：", "座机：", "Tel: "}))
		w.plant("CN_LANDLINE", Landline(w.r))
		return
	}
	w.mobile()
}

func (w *builder) mobile() {
	m := Mobile(w.r)
	switch w.r.IntN(8) {
	case 0:
		w.plant("CN_MOBILE", m)
	case 1:
		w.plant("CN_MOBILE", m[:3]+" "+m[3:7]+" "+m[7:])
	case 2:
		w.plant("CN_MOBILE", m[:3]+"-"+m[3:7]+"-"+m[7:])
	case 3:
		w.plant("CN_MOBILE", "+86 "+m)
	case 4:
		w.plant("CN_MOBILE", "+86 "+m[:3]+" "+m[3:7]+" "+m[7:])
	case 5:
		w.plant("CN_MOBILE", FullWidth(m))
	case 6:
		w.raw(`<a href="tel:`)
		w.plant("CN_MOBILE", "+86"+m)
		w.raw(`">`)
		w.plant("CN_MOBILE", m)
		w.raw(`</a>`)
	case 7:
		w.raw("手机：")
		w.plant("CN_MOBILE", "0086 "+m)
	}
}

func (w *builder) email() {
	e := Email(w.r)
	switch w.r.IntN(5) {
	case 4:
		w.plant("EMAIL", strings.Replace(e, "@", w.pick([]string{"[at]", "(at)", " [at] "}), 1))
	case 0:
		w.plant("EMAIL", e)
	case 1:
		w.raw(`<a href="mailto:`)
		w.plant("EMAIL", e)
		w.raw(`">`)
		w.plant("EMAIL", e)
		w.raw(`</a>`)
	case 2:
		w.plant("EMAIL", strings.Replace(e, "@", "&#64;", 1))
	case 3:
		w.raw(`<a href="/cdn-cgi/l/email-protection" class="__cf_email__" data-cfemail="`)
		w.plant("EMAIL", CFEmail(w.r, e))
		w.raw(`">[email&#160;protected]</a>`)
	}
}

func orderPage(w *builder) {
	w.head("订单详情")
	w.raw(`<div class="order"><h2>订单详情</h2><dl>`)
	w.raw("<dt>订单编号</dt><dd>")
	w.decoy(BadID18(w.r))
	w.raw("</dd><dt>下单时间</dt><dd>")
	w.decoy(fmt.Sprintf("%d", 1690000000+w.r.IntN(10000000)))
	w.raw("</dd><dt>收货人</dt><dd>收货人：")
	w.plant("CN_PERSON_NAME", Name(w.r))
	w.raw("</dd><dt>手机号码</dt><dd>")
	w.mobile()
	w.raw("</dd><dt>收货地址</dt><dd>收货地址：")
	w.plant("CN_ADDRESS", Address(w.r))
	w.raw("</dd><dt>身份证号</dt><dd>")
	w.id()
	w.raw("</dd><dt>支付卡号</dt><dd>")
	w.card()
	w.raw("</dd></dl></div>\n")
	w.raw(`<table class="items"><tr><th>商品</th><th>货号</th><th>单价</th></tr>`)
	for range 2 + w.r.IntN(3) {
		w.raw("<tr><td>")
		w.raw(w.pick([]string{"无线蓝牙耳机", "不锈钢保温杯", "机械键盘", "儿童绘本套装"}))
		w.raw("</td><td>")
		w.decoy(w.pick([]string{"SKU-", "JD", "货号"}) + w.digits(12))
		w.raw("</td><td>")
		w.decoy(fmt.Sprintf("¥%d.%02d", 10+w.r.IntN(2000), w.r.IntN(100)))
		w.raw("</td></tr>")
	}
	w.raw("</table>\n<p>参考卡号（校验失败）：")
	w.decoy(BadCard(w.r))
	w.raw("</p>\n<p>物流单号：")
	w.decoy("SF" + w.digits(12))
	w.raw("</p>\n")
	w.filler(1, false)
	w.foot()
}

func (w *builder) id() {
	if w.r.IntN(5) == 0 {
		w.plant("CN_RESIDENT_ID", ID15(w.r))
		return
	}
	id := ID18(w.r)
	switch w.r.IntN(4) {
	case 0:
		w.plant("CN_RESIDENT_ID", id)
	case 1:
		w.plant("CN_RESIDENT_ID", id[:6]+" "+id[6:14]+" "+id[14:])
	case 2:
		w.plant("CN_RESIDENT_ID", FullWidth(id))
	case 3:
		w.plant("CN_RESIDENT_ID", strings.ToLower(id))
	}
}

func (w *builder) card() {
	c := Card(w.r)
	switch w.r.IntN(3) {
	case 0:
		w.plant("BANK_CARD", c)
	case 1:
		w.plant("BANK_CARD", group4(c, " "))
	case 2:
		w.plant("BANK_CARD", group4(c, "-"))
	}
}

func group4(s, sep string) string {
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), sep)
}

func newsPage(w *builder) {
	w.head("新闻动态")
	w.raw("<article><h1>")
	w.raw(w.pick([]string{"我市召开优化营商环境推进会", "第二十届工业博览会圆满落幕", "新款产品正式发布"}))
	w.raw("</h1>\n")
	w.filler(3, false)
	w.raw("<p>ISBN ")
	w.decoy(ISBN(w.r))
	w.raw("，定价")
	w.decoy(fmt.Sprintf("%d.00元", 20+w.r.IntN(100)))
	w.raw("。版本号 ")
	w.decoy(fmt.Sprintf("v%d.%d.%d.%d", 1+w.r.IntN(9), w.r.IntN(20), w.r.IntN(20), w.r.IntN(200)))
	w.raw("，发布时间戳 ")
	w.decoy(fmt.Sprintf("%d", int64(1600000000000)+w.r.Int64N(100000000000)))
	w.raw("。</p>\n<p>记者联系方式：")
	w.email()
	w.raw("；通讯员")
	w.plant("CN_PERSON_NAME", Surname(w.r))
	w.raw(w.pick([]string{"先生", "女士"}) + "，")
	w.mobile()
	w.raw("。</p>\n")
	w.raw(`<p><img src="/img/banner@2x.png" alt="活动海报" title="`)
	w.raw("活动主办方 ")
	w.plant("CN_LANDLINE", "电话 "+Landline(w.r))
	w.labels[len(w.labels)-1].Start += len("电话 ")
	w.raw(`"></p>` + "\n")
	w.raw("<p>香港身份證：")
	w.plant("HK_ID", HKID(w.r))
	w.raw("；身分證字號：")
	w.plant("TW_ID", TWID(w.r))
	w.raw("；护照号码：")
	w.plant("CN_PASSPORT", Passport(w.r))
	w.raw("；澳門身份證：")
	w.plant("MO_ID", MOID(w.r))
	w.raw("</p>\n<p>据悉，当事人")
	w.plant("CN_RESIDENT_ID", ID18(w.r))
	w.raw("已于上月办结手续，退款打入")
	w.plant("BANK_CARD", Card(w.r))
	w.raw("，如有疑问可回复")
	w.plant("EMAIL", Email(w.r))
	w.raw("或致信本报。防采集写法：")
	m := Mobile(w.r)
	w.plant("CN_MOBILE", m[:3]+`<span class="n">`+m[3:7]+`</span><span class="n">`+m[7:])
	w.raw("</span>")
	w.raw("</p>\n<p>登录IP：")
	w.plant("IP_ADDRESS", IPv4(w.r))
	w.raw("，IPv6：")
	w.plant("IP_ADDRESS", IPv6(w.r))
	w.raw("，坐标 ")
	lat, lon := Coordinates(w.r)
	w.plant("COORDINATES", lat+", "+lon)
	w.raw("</p>\n")
	w.raw(`<form><input name="phone" placeholder="请输入手机号" value="`)
	w.plant("CN_MOBILE", Mobile(w.r))
	w.raw(`"></form>` + "\n")
	w.raw("</article>\n")
	w.foot()
}

func englishPage(w *builder) {
	w.raw(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Contact - Example Ltd</title><style>p{line-height:1.5}</style></head><body>` + "\n")
	w.raw(`<nav><a href="/">Home</a> <a href="/team">Team</a> <a href="/careers">Careers</a></nav>` + "\n")
	w.boiler(true)
	w.filler(2, true)
	w.raw(w.pick([]string{"<p>Contact person: ", "<p>Dear ", "<p>Posted by ", "<p>Author: "}))
	w.plant("PERSON_NAME", EnglishName(w.r))
	w.raw(".</p>\n<p>Write to ")
	w.email()
	w.raw(" or call ")
	m := Mobile(w.r)
	w.plant("CN_MOBILE", "+86 "+m[:3]+"-"+m[3:7]+"-"+m[7:])
	w.raw(".</p>\n<p>Wire transfers: IBAN ")
	w.plant("IBAN", IBAN(w.r))
	w.raw(". SSN on file: ")
	w.plant("US_SSN", SSN(w.r))
	w.raw(".</p>\n<p>Server log: client ")
	w.plant("IP_ADDRESS", IPv4(w.r))
	w.raw(" fetched /assets/logo@2x.png at ")
	w.decoy(fmt.Sprintf("%02d:%02d:%02d", w.r.IntN(24), w.r.IntN(60), w.r.IntN(60)))
	w.raw(", build ")
	w.decoy(fmt.Sprintf("%d.%d.%d", 1+w.r.IntN(9), w.r.IntN(20), w.r.IntN(50)))
	w.raw(", order ")
	w.decoy(w.digits(6) + "-" + w.digits(7))
	w.raw(".</p>\n<p>Card on file: ")
	w.card()
	w.raw(". Price: ")
	w.decoy(fmt.Sprintf("$%d,%03d.%02d", 1+w.r.IntN(99), w.r.IntN(1000), w.r.IntN(100)))
	w.raw(". Tracking ")
	w.decoy("1Z" + w.digits(16))
	w.raw(".</p>\n")
	w.filler(1, true)
	w.raw(`<footer>© Example Ltd. <a href="/privacy">Privacy</a></footer></body></html>`)
}

func medicalPage(w *builder) {
	w.head("病历摘要")
	w.raw("<h2>门诊病历</h2><p>患者：")
	w.plant("CN_PERSON_NAME", Name(w.r))
	w.raw("，身份证号：")
	w.plant("CN_RESIDENT_ID", ID18(w.r))
	w.raw("，联系电话：")
	w.plant("CN_MOBILE", Mobile(w.r))
	w.raw("。</p><p>诊断：")
	w.raw(w.pick([]string{"2型糖尿病", "抑郁症", "高血压"}))
	w.raw("。病史：三年。处方：按医嘱用药。</p>\n")
	w.foot()
}

// healthNewsPage is about a sensitive topic but names no one: it must be
// kept.
func healthNewsPage(w *builder) {
	w.head("健康科普")
	w.raw("<article><h1>糖尿病诊断新指南发布</h1>\n")
	w.raw("<p>新版指南对糖尿病的诊断标准、病史采集和处方用药作出了调整，住院与门诊患者的随访频率也有新的建议。</p>\n")
	w.filler(2, false)
	w.raw("<p>全国已有")
	w.decoy(fmt.Sprintf("%d", 100+w.r.IntN(900)))
	w.raw("家医院试点，累计随访")
	w.decoy(fmt.Sprintf("%d,%03d", 1+w.r.IntN(99), w.r.IntN(1000)))
	w.raw("人次，精确到小数的统计为 ")
	w.decoy(fmt.Sprintf("%d.%02d, %d.%02d", 10+w.r.IntN(80), w.r.IntN(100), 10+w.r.IntN(80), w.r.IntN(100)))
	w.raw("。</p>\n</article>\n")
	w.foot()
}

// forumPage is free text with personal data written the way people write
// it, and number look-alikes around it.
func forumPage(w *builder) {
	w.head("论坛 - 二手交易")
	w.raw(`<div class="post"><div class="author">`)
	w.decoy("用户" + w.digits(8))
	w.raw(`</div><div class="content"><p>出一台九成新笔记本，价格`)
	w.decoy(fmt.Sprintf("%d元", 1000+w.r.IntN(9000)))
	w.raw("，有意者加微信或者直接打我电话")
	m := Mobile(w.r)
	w.plant("CN_MOBILE", m[:3]+" "+m[3:7]+" "+m[7:])
	w.raw("，我叫")
	w.plant("CN_PERSON_NAME", Name(w.r))
	w.raw("。邮箱 ")
	u := Email(w.r)
	w.plant("EMAIL", strings.Replace(u, "@", "+market@", 1))
	w.raw("，自提地点：")
	w.plant("CN_ADDRESS", Address(w.r))
	w.raw("。</p><p>序列号 ")
	w.decoy(w.digits(11))
	w.raw(" 不要问了，发票号码 ")
	w.decoy("0" + w.digits(11))
	w.raw("。无效号段")
	w.decoy("154" + w.digits(8))
	w.raw("，多一位")
	w.decoy(Mobile(w.r) + w.digits(1))
	w.raw("，回复时间 ")
	w.decoy(fmt.Sprintf("2023年%d月%d日 %02d:%02d", 1+w.r.IntN(12), 1+w.r.IntN(28), w.r.IntN(24), w.r.IntN(60)))
	w.raw("。</p><p>本地邮箱 ")
	w.decoy("admin@localhost")
	w.raw("，图片 ")
	w.decoy("cover@3x.webp")
	w.raw("，身份证号（错误）")
	w.decoy(BadID18(w.r))
	w.raw("。</p></div></div>\n")
	w.foot()
}
