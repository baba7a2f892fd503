package pii

import (
	"strings"
	"testing"
)

type vector struct {
	in   string
	want []string
}

func checkVectors(t *testing.T, f *Filter, tests []vector) {
	t.Helper()
	for _, tt := range tests {
		fs := f.ScanText([]byte(tt.in))
		g := got(tt.in, fs)
		if strings.Join(g, "|") != strings.Join(tt.want, "|") {
			t.Errorf("ScanText(%q) = %q, want %q", tt.in, g, tt.want)
		}
	}
}

func TestChineseNames(t *testing.T) {
	f := mustNew(t, Config{})
	checkVectors(t, f, []vector{
		// Field labels in every form the lexer hands over.
		{"姓名：张三", []string{"CN_PERSON_NAME=张三"}},
		{"Name: 张三\n", []string{"CN_PERSON_NAME=张三"}},
		{`{"realName":"张三","age":30}`, []string{"CN_PERSON_NAME=张三"}},
		{`{"real_name": "李四"}`, []string{"CN_PERSON_NAME=李四"}},
		{`{'nickName':'王小二'}`, []string{"CN_PERSON_NAME=王小二"}},
		{`var u = {userName:"赵六", id: 7};`, []string{"CN_PERSON_NAME=赵六"}},
		{"consignee=孙七&mobile=13812345678&city=北京", []string{"CN_PERSON_NAME=孙七", "CN_MOBILE=13812345678"}},
		{`{"order":{"receiver":{"linkman":"周八"}}}`, []string{"CN_PERSON_NAME=周八"}},
		{"data-user: 张三\n", []string{"CN_PERSON_NAME=张三"}},
		{"alt: 张三的头像\n", []string{"CN_PERSON_NAME=张三"}},
		{"title: 李四的个人主页\n", []string{"CN_PERSON_NAME=李四"}},
		{"content: 张三\n", nil}, // a meta content's label names no field
		{`{"姓名":"张三","联系人": "李四"}`, []string{"CN_PERSON_NAME=张三", "CN_PERSON_NAME=李四"}},
		{"author: 张三\n", []string{"CN_PERSON_NAME=张三"}},
		{"content-author: 仇小亮\n", []string{"CN_PERSON_NAME=仇小亮"}},
		{`{"contactName":"亓官云飞"}`, []string{"CN_PERSON_NAME=亓官云飞"}},
		{`{"name":"欧阳娜娜"}`, []string{"CN_PERSON_NAME=欧阳娜娜"}},
		{`{"@type":"Person","name":"訾建国"}`, []string{"CN_PERSON_NAME=訾建国"}},
		{"收货人：禤国维\n", []string{"CN_PERSON_NAME=禤国维"}},
		{"联系人姓名：谯周\n", []string{"CN_PERSON_NAME=谯周"}},
		{"作者：高翔\n", []string{"CN_PERSON_NAME=高翔"}},
		{"姓名：张三电话：13812345678", []string{"CN_PERSON_NAME=张三", "CN_MOBILE=13812345678"}},
		{"负责人：李总", []string{"CN_PERSON_NAME=李"}},
		// Organisations and things under name labels are not people.
		{`{"name":"华为技术有限公司"}`, nil},
		{`{"name":"华为科技"}`, nil},
		{`{"author":"钱江晚报"}`, nil},
		{"作者：新浪网\n", nil},
		{"来源：人民日报 编辑：黄子韬", []string{"CN_PERSON_NAME=黄子韬"}},
		{"作者：张三丰酒店\n", nil},
		{`{"productName":"王老吉凉茶"}`, nil},
		{`{"companyName":"张记"}`, nil},
		{`{"fileName":"李白.txt"}`, nil},
		{`{"name":"白色"}`, nil}, // a bare "name" wants an unambiguous surname
		{`{"name":"王者荣耀"}`, nil},
		// Bylines.
		{"文/张三", []string{"CN_PERSON_NAME=张三"}},
		{"文|李四 图|王五", []string{"CN_PERSON_NAME=李四", "CN_PERSON_NAME=王五"}},
		{"文丨赵丽颖", []string{"CN_PERSON_NAME=赵丽颖"}},
		{"本报记者 王五 报道", []string{"CN_PERSON_NAME=王五"}},
		{"记者 李四 通讯员 赵六", []string{"CN_PERSON_NAME=李四", "CN_PERSON_NAME=赵六"}},
		{"责任编辑：阚志强", []string{"CN_PERSON_NAME=阚志强"}},
		{"摄影/笪伟", []string{"CN_PERSON_NAME=笪伟"}},
		{"来源：新华社 作者：鲜于通", []string{"CN_PERSON_NAME=鲜于通"}},
		{"记者从市政府获悉", nil},
		{"记者周末走访了社区", nil},
		{"许多同学参加", nil},
		{"主任医生查房", nil},
		{"周围的照片", nil},
		{"记者了解到，编辑部正在招聘。", nil},
		// Personal pages: the name before 的.
		{"这是李明的个人主页", []string{"CN_PERSON_NAME=李明"}},
		{"张小龙的微博", []string{"CN_PERSON_NAME=张小龙"}},
		{"下载邝美云的简历", []string{"CN_PERSON_NAME=邝美云"}},
		{"公司的主页", nil},
		{"我的简历", nil},
		// Titles.
		{"王老师您好", []string{"CN_PERSON_NAME=王"}},
		{"感谢李明同学", []string{"CN_PERSON_NAME=李明"}},
		{"请找缪医生", []string{"CN_PERSON_NAME=缪"}},
		{"委托佘律师代理", []string{"CN_PERSON_NAME=佘"}},
		{"历史老师布置了作业", nil},
		{"音乐老师", nil},
		{"大学同学聚会", nil},
		{"各位同学注意", nil},
		{"主治医生", nil},
		{"数学老师和语文老师", nil},
		// Salutations.
		{"致张三：\n您好", []string{"CN_PERSON_NAME=张三"}},
		{"一致认为", nil},
		{"致全体员工：", nil},
		// Free text without a trigger is left alone.
		{"张三丰酒店位于市中心", nil},
		{"华为技术有限公司发布新品", nil},
	})
}

func TestEnglishNames(t *testing.T) {
	f := mustNew(t, Config{})
	checkVectors(t, f, []vector{
		{"Name: John Smith", []string{"PERSON_NAME=John Smith"}},
		{"Full name: Mary Jane Watson\n", []string{"PERSON_NAME=Mary Jane Watson"}},
		{"Contact: Mary Jones", []string{"PERSON_NAME=Mary Jones"}},
		{"Contact person: Sean O'Brien, sales", []string{"PERSON_NAME=Sean O'Brien"}},
		{"Dear Mr. McDonald,", []string{"PERSON_NAME=McDonald"}},
		{"Dear Jean-Luc,", []string{"PERSON_NAME=Jean-Luc"}},
		{"Hi Anna, thanks", []string{"PERSON_NAME=Anna"}},
		{"Posted by Jane Doe on March 3", []string{"PERSON_NAME=Jane Doe"}},
		{"By JANE DOE\n", []string{"PERSON_NAME=JANE DOE"}},
		{"a novel by J. R. R. Tolkien", []string{"PERSON_NAME=J. R. R. Tolkien"}},
		{"Author: Ludwig van Beethoven", []string{"PERSON_NAME=Ludwig van Beethoven"}},
		{"Best regards,\nEmily Clarke", []string{"PERSON_NAME=Emily Clarke"}},
		{"Signed, Robert Brown", []string{"PERSON_NAME=Robert Brown"}},
		{`{"author":"Laura Hughes","title":"Notes"}`, []string{"PERSON_NAME=Laura Hughes"}},
		{`{"fullName":"Olivia Patel"}`, []string{"PERSON_NAME=Olivia Patel"}},
		{"data-author: Thomas Walker\n", []string{"PERSON_NAME=Thomas Walker"}},
		// Not people.
		{"Dear Customer,", nil},
		{"Dear Sir or Madam,", nil},
		{"Hi there, Hi All", nil},
		{"Contact: Support Team", nil},
		{"Contact: Example Ltd", nil},
		{"Author: Reuters Staff", nil},
		{"powered by Google Cloud", nil},
		{"by January 2025", nil},
		{"by The Editors", nil},
		{"Name: N/A", nil},
		{`{"name":"Example Inc"}`, nil},
		{`{"productName":"Blue Shirt"}`, nil},
		{"Hello World", nil},
		{"Name: Product A.", nil},
		{"Contact: N/A", nil},
		{"Name: Wang Wei  Contact: Li Na Tel: 13812345678", []string{"PERSON_NAME=Wang Wei", "PERSON_NAME=Li Na", "CN_MOBILE=13812345678"}},
		{"by WANG Wei and ZHANG San", []string{"PERSON_NAME=WANG Wei"}},
		{"Dear Mr. Smith:", []string{"PERSON_NAME=Smith"}},
		{"Name: John A. Smith", []string{"PERSON_NAME=John A. Smith"}},
		{"by Marie-Claire O'Neil", []string{"PERSON_NAME=Marie-Claire O'Neil"}},
		{"Photo by John Smith/Getty Images", []string{"PERSON_NAME=John Smith"}},
		{"Stand by Me. Made by Apple Inc. Sort by Price.", nil},
		{"Written By Best Practices For Modern Teams", nil},
	})
}

func TestFieldLabels(t *testing.T) {
	f := mustNew(t, Config{})
	checkVectors(t, f, []vector{
		// Positive labels are context words.
		{`{"contactPhone":"010-88886666"}`, []string{"CN_LANDLINE=010-88886666"}},
		{"userTel=0755-86543210&x=1", []string{"CN_LANDLINE=0755-86543210"}},
		{`{"clientIp":"203.0.113.9"}`, []string{"IP_ADDRESS=203.0.113.9"}},
		{`{"idCardNo":"110105491231002"}`, []string{"CN_RESIDENT_ID=110105491231002"}},
		// Negative labels name non-personal numbers.
		{`{"orderId":"6222021234567890128"}`, nil},
		{`{"orderId": 4111111111111111}`, nil},
		{`{"order_no":"13812345678"}`, nil},
		{"trackingNo=13812345678&carrier=sf", nil},
		{`{"sku":"13812345678"}`, nil},
		{`{"ts":13812345678}`, nil},
		{`{"productId":"13812345678"}`, nil},
		{"订单号：13812345678", nil},
		{`{"订单号":"6222021234567890128"}`, nil},
		{"data-phone: 13812345678\n", []string{"CN_MOBILE=13812345678"}},
		{"phone=010-88886666", []string{"CN_LANDLINE=010-88886666"}},
		{`{"cardNo":"6222021234567890128"}`, []string{"BANK_CARD=6222021234567890128"}},
		// A checksum with its own check character survives an unrelated label.
		{`{"orderId":"11010519491231002X"}`, []string{"CN_RESIDENT_ID=11010519491231002X"}},
		{`{"waybill":"11010519491231002X"}`, []string{"CN_RESIDENT_ID=11010519491231002X"}},
		// Decoys.
		{`{"isbn":"9787111547426","ean":"6901234567892","price":"138.00"}`, nil},
		{`{"uscc":"91350100M000100Y43"}`, nil},
		{`{"uuid":"550e8400-e29b-41d4-a716-446655440000"}`, nil},
		{`{"version":"10.0.19045.3803","build":"5.3.0.0"}`, nil},
		{`{"timestamp":1700000000123}`, nil},
	})
}

func TestSplitLabel(t *testing.T) {
	for in, want := range map[string]string{
		"realName":        "real name",
		"real_name":       "real name",
		"IDCard":          "id card",
		"X-Forwarded-For": "x forwarded for",
		"data-user":       "data user",
		"contactPhone2":   "contact phone2",
		"Full name":       "full name",
	} {
		if g := strings.Join(splitLabel([]byte(in), nil), " "); g != want {
			t.Errorf("splitLabel(%q) = %q, want %q", in, g, want)
		}
	}
}

// TestDecoysSurvive: realistic lines full of non-personal numbers and
// organisation names, none of which may be flagged.
func TestDecoysSurvive(t *testing.T) {
	f := mustNew(t, Config{})
	checkVectors(t, f, []vector{
		{"《深入理解计算机系统》ISBN 978-7-111-54742-6，定价139.00元，条码 6901234567892。", nil},
		{"华为技术有限公司（统一社会信用代码 91440300708461136T）发布 HarmonyOS 4.0.0.115 版本。", nil},
		{"订单号：202311231234567890，运单号：SF1234567890123，下单时间 2023-11-23 13:55:36。", nil},
		{`{"orderId":"6222021234567890128","sku":"SKU-100023","price":199.00,"ts":1700000000123,"trackingNo":"YT1234567890123"}`, nil},
		{`{"@type":"Product","name":"Wireless Earbuds Pro","brand":{"@type":"Brand","name":"Example Audio"}}`, nil},
		{`{"@type":"Organization","name":"Example News","publisher":"Acme Media Group"}`, nil},
		{"request-id=550e8400-e29b-41d4-a716-446655440000&build=5.3.0.0&v=10.0.19045.3803", nil},
		{"Kernel 5.15.0.91 released by The Linux Foundation on 2024-01-01.", nil},
		{"Our support team replies within 24 hours. Dear Customer, thank you.", nil},
		{"北京张三丰酒店管理有限公司 位于朝阳区", nil},
		{"完善客户关系管理，客户满意度提升。", nil},
		{"记者会上，编辑部主任表示。", nil},
	})
}

func TestNamesInHTML(t *testing.T) {
	f := mustNew(t, Config{})
	in := `<html><head><title>文/张三</title><script type="application/ld+json">{"@type":"NewsArticle","author":{"@type":"Person","name":"李小明"},"publisher":{"@type":"Organization","name":"华为技术有限公司"}}</script></head>` +
		`<body><p>Posted by Jane Doe</p><p>邮箱 lisi#qq.com (把#改成@)</p></body></html>`
	fs, err := f.ScanHTML([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CN_PERSON_NAME=张三", "CN_PERSON_NAME=李小明", "PERSON_NAME=Jane Doe", "EMAIL=lisi#qq.com"}
	if g := got(in, fs); strings.Join(g, "|") != strings.Join(want, "|") {
		t.Errorf("ScanHTML = %q, want %q", g, want)
	}
}

func TestPersonNameEntitySelection(t *testing.T) {
	f := mustNew(t, Config{Entities: []Entity{PersonName}})
	checkVectors(t, f, []vector{
		{"联系人：王小明 Contact: Mary Jones, mary@example.com", []string{"PERSON_NAME=Mary Jones"}},
	})
	f = mustNew(t, Config{Entities: []Entity{CNPersonName}})
	checkVectors(t, f, []vector{
		{"联系人：王小明 Contact: Mary Jones", []string{"CN_PERSON_NAME=王小明"}},
	})
}

// TestLabelledNamesInHTML: the lexer hands attribute values over under
// their names ("data-user: 张三", "author: 王五" for a meta author), script
// literals and decoded query strings; each labelled name is found, with
// offsets in the source.
func TestLabelledNamesInHTML(t *testing.T) {
	f := mustNew(t, Config{})
	for _, tt := range []vector{
		{`<div data-user="张三">x</div><img alt="李四的头像" src="a.png"><meta name="author" content="王五"><meta property="og:title" content="赵六的个人主页">`,
			[]string{"CN_PERSON_NAME=张三", "CN_PERSON_NAME=李四", "CN_PERSON_NAME=王五", "CN_PERSON_NAME=赵六"}},
		{`<script>var u={realName:"孙七",orderId:"6222021234567890128",mobile:"13812345678"};</script>`,
			[]string{"CN_PERSON_NAME=孙七", "CN_MOBILE=13812345678"}},
		{`<a href="/s?consignee=%E5%91%A8%E5%85%AB&amp;tel=13912345678">x</a>`,
			[]string{"CN_PERSON_NAME=%E5%91%A8%E5%85%AB", "CN_MOBILE=13912345678"}},
		{`<script>{"author":"Jane Doe","name":"Wireless Earbuds Pro"}</script><meta name="author" content="John Smith">`,
			[]string{"PERSON_NAME=Jane Doe", "PERSON_NAME=John Smith"}},
		{`<table><tr><th>姓名</th><th>电话</th></tr><tr><td>吴九</td><td>13812345678</td></tr></table>`,
			[]string{"CN_PERSON_NAME=吴九", "CN_MOBILE=13812345678"}},
	} {
		fs, err := f.ScanHTML([]byte(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		if g := got(tt.in, fs); strings.Join(g, "|") != strings.Join(tt.want, "|") {
			t.Errorf("ScanHTML(%q) = %q, want %q", tt.in, g, tt.want)
		}
	}
}
