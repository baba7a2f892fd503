package pii_test

import (
	"strings"
	"testing"

	"github.com/goodbot/goodbot/pii"
)

func intlFilter(t testing.TB) *pii.Filter {
	t.Helper()
	f, err := pii.New(pii.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestIntlFound checks that each entity of other regions is found in a
// realistic sentence, with the exact value, and redacted.
func TestIntlFound(t *testing.T) {
	f := intlFilter(t)
	for _, c := range []struct {
		text  string
		e     pii.Entity
		value string
	}{
		{"Call us at +1 (415) 602-2671 today.", pii.Phone, "+1 (415) 602-2671"},
		{"Office phone: (415) 602-2671", pii.Phone, "(415) 602-2671"},
		{"台灣手機 0912-345-678，歡迎來電", pii.Phone, "0912-345-678"},
		{"香港辦公室電話 +852 9123 4567", pii.Phone, "+852 9123 4567"},
		{"香港联系电话：9123 4567", pii.Phone, "9123 4567"},
		{"日本の携帯電話 090-1234-5678 までご連絡ください", pii.Phone, "090-1234-5678"},
		{"한국 휴대폰 010-1234-5678 로 연락주세요", pii.Phone, "010-1234-5678"},
		{"UK mobile +44 7911 123456", pii.Phone, "+44 7911 123456"},
		{"Telefon: +49 151 23456789", pii.Phone, "+49 151 23456789"},
		{"请拨打 +33 6 12 34 56 78", pii.Phone, "+33 6 12 34 56 78"},
		{"韩国朋友的电话是+82 10-1234-5678", pii.Phone, "+82 10-1234-5678"},
		{"Tel. 03-1234-5678 東京", pii.Phone, "03-1234-5678"},
		{"Telefon 030 12345678 Berlin", pii.Phone, "030 12345678"},
		{"Mon portable : 06 12 34 56 78 (France)", pii.Phone, "06 12 34 56 78"},
		{"London office 020 7946 0958", pii.Phone, "020 7946 0958"},
		{"联系方式：19412345678", pii.CNMobile, "19412345678"},
		{"手机 138 0013 8000", pii.CNMobile, "138 0013 8000"},
		{"车牌京A12345的车主请挪车", pii.LicensePlate, "京A12345"},
		{"粤BD12345 是新能源车", pii.LicensePlate, "粤BD12345"},
		{"车辆 沪A·D12345", pii.LicensePlate, "沪A·D12345"},
		{"licence plate AB12 CDE was seen", pii.LicensePlate, "AB12 CDE"},
		{"VIN: 1M8GDM9AXKP042788", pii.VIN, "1M8GDM9AXKP042788"},
		{"我的VIN码是1M8GDM9AXKP042788，请核对", pii.VIN, "1M8GDM9AXKP042788"},
		{"英国车牌 AB12 CDE", pii.LicensePlate, "AB12 CDE"},
		{"巴西CPF：111.444.777-35", pii.BRCPF, "111.444.777-35"},
		{"法国社保号 2 84 05 69 123 456 40", pii.FRNIR, "2 84 05 69 123 456 40"},
		{"波兰PESEL 44051401359", pii.PLPESEL, "44051401359"},
		{"车架号 WVWZZZ1JZXW000001", pii.VIN, "WVWZZZ1JZXW000001"},
		{"the car JH4KA7561PC008269 was sold", pii.VIN, "JH4KA7561PC008269"},
		{"设备MAC地址 00:1A:2B:3C:4D:5E 已登记", pii.MACAddress, "00:1A:2B:3C:4D:5E"},
		{"bssid 3c-22-fb-11-22-33", pii.MACAddress, "3c-22-fb-11-22-33"},
		{"路由器MAC地址：00-1A-2B-3C-4D-5E", pii.MACAddress, "00-1A-2B-3C-4D-5E"},
		{"ether ab:cd:ef:01:23:45 up", pii.MACAddress, "ab:cd:ef:01:23:45"},
		{"switch port 001a.2b3c.4d5e", pii.MACAddress, "001a.2b3c.4d5e"},
		{"Amex 3782 822463 10005 exp 12/28", pii.BankCard, "3782 822463 10005"},
		{"Diners 3056 930902 5904", pii.BankCard, "3056 930902 5904"},
		{"信用卡号 4222222222222", pii.BankCard, "4222222222222"},
		{"US passport 123456789", pii.USPassport, "123456789"},
		{"美国护照 A12345678", pii.USPassport, "A12345678"},
		{"ITIN 912-70-1234", pii.USITIN, "912-70-1234"},
		{"주민등록번호 900101-1234568", pii.KRRRN, "900101-1234568"},
		{"韩国身份证 900101-1234568", pii.KRRRN, "900101-1234568"},
		{"Aadhaar: 2341 2341 2346", pii.INAadhaar, "2341 2341 2346"},
		{"आधार 234123412346", pii.INAadhaar, "234123412346"},
		{"CPF 111.444.777-35", pii.BRCPF, "111.444.777-35"},
		{"meu CPF é 11144477735", pii.BRCPF, "11144477735"},
		{"DNI 12345678Z", pii.ESDNI, "12345678Z"},
		{"NIE X1234567L", pii.ESDNI, "X1234567L"},
		{"DNI 12345678-Z", pii.ESDNI, "12345678-Z"},
		{"codice fiscale RSSMRA85T10A562S", pii.ITFiscalCode, "RSSMRA85T10A562S"},
		{"意大利税号 RSSMRA85T10A56NH", pii.ITFiscalCode, "RSSMRA85T10A56NH"},
		{"numéro de sécurité sociale 2 84 05 69 123 456 40", pii.FRNIR, "2 84 05 69 123 456 40"},
		{"NIR 284056912345640", pii.FRNIR, "284056912345640"},
		{"sécurité sociale : 1 84 05 2A 123 456 82, Ajaccio", pii.FRNIR, "1 84 05 2A 123 456 82"},
		{"n° INSEE 184052B12345612", pii.FRNIR, "184052B12345612"},
		{"PESEL 44051401359", pii.PLPESEL, "44051401359"},
	} {
		fs := f.ScanText([]byte(c.text))
		found := false
		for _, x := range fs {
			if x.Entity == c.e && (c.value == "" || c.text[x.Start:x.End] == c.value) {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: no %s %q in %v", c.text, c.e, c.value, fs)
			continue
		}
		out, _ := f.RedactText(c.text)
		if c.value != "" && strings.Contains(out, c.value) || !strings.Contains(out, "["+string(c.e)+"]") {
			t.Errorf("RedactText(%q) = %q", c.text, out)
		}
	}
}

// TestIntlRedactHTML checks the entities in markup and attributes.
func TestIntlRedactHTML(t *testing.T) {
	f := intlFilter(t)
	page := `<html><body><p>Tel: <a href="tel:+14156022671">+1 (415) 602-2671</a></p>
<p>车牌 京A12345，VIN 1M8GDM9AXKP042788，PESEL 44051401359</p></body></html>`
	out, rep, err := f.RedactHTML([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"602-2671", "京A12345", "1M8GDM9AXKP042788", "44051401359"} {
		if strings.Contains(string(out), v) {
			t.Errorf("%q survived: %s", v, out)
		}
	}
	for _, e := range []pii.Entity{pii.Phone, pii.LicensePlate, pii.VIN, pii.PLPESEL} {
		if rep.Counts[e] == 0 {
			t.Errorf("no %s in %v", e, rep.Counts)
		}
	}
}

// TestIntlDecoys checks numbers that look like the new entities and are not.
func TestIntlDecoys(t *testing.T) {
	f := intlFilter(t)
	for _, text := range []string{
		"ISBN 978-7-111-54742-6 与 9787111547426",
		"条码 EAN-13 4006381333931，4012345678901",
		"统一社会信用代码 91350100M000100Y43",
		"订单号 6222021234567890128",
		"order no 62220212345678901289",
		"订单编号：202311150123456789",
		"运单号 SF1234567890123，UPS 1Z999AA10123456784",
		"版本 3.2.35.132，build 10.0.19045.3693",
		"id 550e8400-e29b-41d4-a716-446655440000",
		"created 1700000000 / 1700000000000 ms",
		"价格 ¥1,299.00，$12,345.67，共 4222222222222 次浏览",
		"SKU-482913570021，货号 JD100012345678",
		"日期 2024-01-15，2023年11月15日 12:30:45",
		"颜色 #A1B2C3 #ff00ff",
		"commit 3f786850e387550fdab836ed7e6dc881de23001b",
		"first 1234 5678 9012 3456 7 grouped",
		"serial 12:30:45:00",
		"MAC 00:00:00:00:00:00 and FF:FF:FF:FF:FF:FF",
		"手机 6225 8820 0142 4125",
		"用户34890885 电话联系",
		"京ICP备12345678号",
		"型号 ABC1234 参数",
		"page 12345678A",
		"주민등록번호 200101-3123456", // before October 2020 with a wrong check digit
		"time 12:30:45:00:11:22:33",
	} {
		fs := f.ScanText([]byte(text))
		for _, x := range fs {
			if x.Score >= pii.DefaultMinScore {
				t.Errorf("%q: decoy flagged as %s %q (%s)", text, x.Entity, text[x.Start:x.End], x.Rule)
			}
		}
	}
}

// BenchmarkRedactTextIntl measures a text dense with foreign phone numbers
// and identifiers, where libphonenumber is called on most candidates.
func BenchmarkRedactTextIntl(b *testing.B) {
	f := intlFilter(b)
	var sb strings.Builder
	for range 20 {
		sb.WriteString("Call us at +1 (415) 602-2671 today. 台灣手機 0912-345-678，歡迎來電。 日本の携帯電話 090-1234-5678。 ")
		sb.WriteString("UK mobile +44 7911 123456. VIN: 1M8GDM9AXKP042788. CPF 111.444.777-35. 车牌京A12345。 ")
		sb.WriteString(strings.Repeat("Ordinary words of a page that carry no personal data at all, 普通的网页文字。 ", 20))
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	defer pii.PerCPU(b, int64(len(text)))()
	for b.Loop() {
		f.RedactText(text)
	}
}
