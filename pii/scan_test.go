package pii

import (
	"fmt"
	"strings"
	"testing"
)

func mustNew(t testing.TB, cfg Config) *Filter {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// got renders findings as "ENTITY=value" for comparison.
func got(in string, fs []Finding) []string {
	var r []string
	for _, f := range fs {
		r = append(r, fmt.Sprintf("%s=%s", f.Entity, in[f.Start:f.End]))
	}
	return r
}

func TestScanTextVectors(t *testing.T) {
	f := mustNew(t, Config{})
	tests := []struct {
		in   string
		want []string
	}{
		// Resident IDs.
		{"身份证号：11010519491231002X。", []string{"CN_RESIDENT_ID=11010519491231002X"}},
		{"ID 11010519491231002x end", []string{"CN_RESIDENT_ID=11010519491231002x"}},
		{"证件 110105 19491231 002X", []string{"CN_RESIDENT_ID=110105 19491231 002X"}},
		{"身份证：１１０１０５１９４９１２３１００２Ｘ", []string{"CN_RESIDENT_ID=１１０１０５１９４９１２３１００２Ｘ"}},
		{"老身份证 110105491231002", []string{"CN_RESIDENT_ID=110105491231002"}},
		{"订单号 110105194912310021", nil}, // bad check character
		{"订单号 202311231234567890", nil},
		// Mobiles.
		{"手机：13812345678", []string{"CN_MOBILE=13812345678"}},
		{"电话 +86 138 1234 5678。", []string{"CN_MOBILE=+86 138 1234 5678"}},
		{"call +86-13812345678 now", []string{"CN_MOBILE=+86-13812345678"}},
		{"0086 13812345678", []string{"CN_MOBILE=0086 13812345678"}},
		{"+8613812345678", []string{"CN_MOBILE=+8613812345678"}},
		{"手机１３８－１２３４－５６７８", []string{"CN_MOBILE=１３８－１２３４－５６７８"}},
		{"138\u200b1234\u200b5678", []string{"CN_MOBILE=138\u200b1234\u200b5678"}},
		{"15412345678", nil},         // unassigned range
		{"213812345678", nil},        // digit before
		{"138123456789", nil},        // digit after
		{"SKU-13812345678", nil},     // a product code
		{"ab13812345678", nil},       // inside a token
		{"价格 13812345678.00 元", nil}, // a price
		{"2023-11-23 13812345678", []string{"CN_MOBILE=13812345678"}},
		{"序列号 13812345678", nil}, // names a non-personal number
		{"订单号：13812345678，手机 13912345678", []string{"CN_MOBILE=13912345678"}},
		{"订单号 11010519491231002X", []string{"CN_RESIDENT_ID=11010519491231002X"}}, // checksums win
		// Landlines.
		{"电话：010-88886666", []string{"CN_LANDLINE=010-88886666"}},
		{"Tel (0755) 8654 3210", []string{"CN_LANDLINE=0755) 8654 3210"}},
		{"传真 +86 10 88886666", []string{"CN_LANDLINE=+86 10 88886666"}},
		{"010-88886666", nil}, // no context: below the default threshold
		// Bank cards.
		{"卡号 6222 0212 3456 7890 128", []string{"BANK_CARD=6222 0212 3456 7890 128"}},
		{"4111-1111-1111-1111", []string{"BANK_CARD=4111-1111-1111-1111"}},
		{"6222021234567890127", nil}, // Luhn fails
		{"ISBN 978-7-111-54742-6", nil},
		{"timestamp 1700000000123", nil},
		// Letter-led identifiers.
		{"香港身份證 A123456(3)", []string{"HK_ID=A123456(3)"}},
		{"HKID: C668673(5).", []string{"HK_ID=C668673(5)"}},
		{"身分證字號 A123456789", []string{"TW_ID=A123456789"}},
		{"A123456788", nil},
		{"护照号码：E12345678", []string{"CN_PASSPORT=E12345678"}},
		{"E12345678", nil}, // passports need context
		{"IBAN DE89 3704 0044 0532 0130 00", []string{"IBAN=DE89 3704 0044 0532 0130 00"}},
		{"pay to GB82WEST12345698765432.", []string{"IBAN=GB82WEST12345698765432"}},
		{"澳门身份证 1234567(8)", []string{"MO_ID=1234567(8)"}},
		{"统一社会信用代码 91350100M000100Y43", nil},
		// Others.
		{"mail zhang.san@example.com.", []string{"EMAIL=zhang.san@example.com"}},
		{"<icon@2x.png>", nil},
		{"lodash@4.17.21", nil},
		{"ip 192.168.1.20", []string{"IP_ADDRESS=192.168.1.20"}},
		{"v1.2.3.4", nil},
		{"kernel headers (2.6.36.4)", nil}, // a version: no context word
		{"client 203.0.113.9 fetched", []string{"IP_ADDRESS=203.0.113.9"}},
		{"item `m1::<impl Foo>::f` and std::f", nil},
		{"version 1.2.3", nil},
		{"addr 2001:db8::8a2e:370:7334", []string{"IP_ADDRESS=2001:db8::8a2e:370:7334"}},
		{"at 14:30:00", nil},
		{"SSN 123-45-6789", []string{"US_SSN=123-45-6789"}},
		{"SSN 666-45-6789", nil},
		{"位置 39.904211, 116.407395", []string{"COORDINATES=39.904211, 116.407395"}},
		{"\"latitude\": 39.904211", []string{"COORDINATES=39.904211"}},
		{"价格 39.9, 116.4", nil},
		// Names and addresses.
		{"联系人：王小明 电话：13812345678", []string{"CN_PERSON_NAME=王小明", "CN_MOBILE=13812345678"}},
		{"请联系欧阳娜娜女士。", []string{"CN_PERSON_NAME=欧阳娜娜"}},
		{"张先生您好", []string{"CN_PERSON_NAME=张"}},
		{"地址：北京市朝阳区建国路88号3栋2单元501室。", []string{"CN_ADDRESS=北京市朝阳区建国路88号3栋2单元501室"}},
		{"公司位于广东省深圳市南山区深南大道3001号", []string{"CN_ADDRESS=广东省深圳市南山区深南大道3001号"}},
		{"地址：上海市徐汇区漕溪北路595弄12号", []string{"CN_ADDRESS=上海市徐汇区漕溪北路595弄12号"}},
		{"地址：北京市海淀区中关村大街27号中关村大厦1101室", []string{"CN_ADDRESS=北京市海淀区中关村大街27号中关村大厦1101室"}},
		{"住址：广州市天河区天河路385号太古汇一座2301。", []string{"CN_ADDRESS=广州市天河区天河路385号太古汇一座2301"}},
		{"联系人:李 明", []string{"CN_PERSON_NAME=李 明"}},
		{"负责人：李总", []string{"CN_PERSON_NAME=李"}},
		{"负责人：高翔", []string{"CN_PERSON_NAME=高翔"}},
		{"完善客户关系管理", nil},
		{"客户高度评价", nil},
		{"我叫王小明", []string{"CN_PERSON_NAME=王小明"}},
		{"联系人：司马光 先生", []string{"CN_PERSON_NAME=司马光"}},
		{"刘女士 13800138000", []string{"CN_PERSON_NAME=刘", "CN_MOBILE=13800138000"}},
		// More formats and look-alikes.
		{"电话：010 8888 6666", []string{"CN_LANDLINE=010 8888 6666"}},
		{"Tel.: +86 (21) 6234-5678", []string{"CN_LANDLINE=+86 (21) 6234-5678"}},
		{"13800138000、13900139000", []string{"CN_MOBILE=13800138000", "CN_MOBILE=13900139000"}},
		{"手机13800138000微信同号", []string{"CN_MOBILE=13800138000"}},
		{"邮箱：zhangsan＠qq．com", []string{"EMAIL=zhangsan＠qq．com"}},
		{"经度116.407395，纬度39.904211", []string{"COORDINATES=116.407395", "COORDINATES=39.904211"}},
		{"电话 400-810-8888", nil},
		{"QQ：12345678", nil},
		{"2024-01-01T12:00:00+08:00", nil},
		{"UUID 550e8400-e29b-41d4-a716-446655440000", nil},
		{"ISBN 9787111547426", nil},
		{"共 13,800,138,000 元", nil},
		{"admin@localhost", nil},
		{"邮箱：zhangsan[at]pku.edu.cn。", []string{"EMAIL=zhangsan[at]pku.edu.cn"}},
		{"write to li.na (AT) example.org today", []string{"EMAIL=li.na (AT) example.org"}},
		{"see [at] the top (at)", nil},
		{"ip 127.0.0.1 and ::1", nil},
	}
	for _, tt := range tests {
		fs := f.ScanText([]byte(tt.in))
		g := got(tt.in, fs)
		if strings.Join(g, "|") != strings.Join(tt.want, "|") {
			t.Errorf("ScanText(%q) = %q, want %q", tt.in, g, tt.want)
		}
	}
}
