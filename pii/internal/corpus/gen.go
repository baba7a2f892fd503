package corpus

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
)

// The generators below compute check digits on their own, independently of
// package pii, so that the evaluation does not grade pii against itself.

var areas = []string{"110105", "110108", "310101", "310115", "440304", "440106", "510107", "320102", "330106", "420102", "610113", "120101", "500103", "370202", "210202"}

func birth(r *rand.Rand) (int, int, int) {
	y := 1950 + r.IntN(60)
	m := 1 + r.IntN(12)
	d := 1 + r.IntN(28)
	return y, m, d
}

func id17(r *rand.Rand) string {
	y, m, d := birth(r)
	return fmt.Sprintf("%s%04d%02d%02d%s", areas[r.IntN(len(areas))], y, m, d, digits(r, 3))
}

func idCheck(s string) byte {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(s[i]-'0') * w[i]
	}
	return "10X98765432"[sum%11]
}

// ID18 returns a valid 18-character resident ID.
func ID18(r *rand.Rand) string {
	s := id17(r)
	return s + string(idCheck(s))
}

// BadID18 returns an ID-shaped 18-digit number with a wrong check digit,
// the shape of many order numbers.
func BadID18(r *rand.Rand) string {
	for {
		s := id17(r)
		c := byte('0' + r.IntN(10))
		if c != idCheck(s) {
			return s + string(c)
		}
	}
}

// ID15 returns a valid first-generation 15-digit resident ID.
func ID15(r *rand.Rand) string {
	y, m, d := birth(r)
	return fmt.Sprintf("%s%02d%02d%02d%s", areas[r.IntN(len(areas))], y%100, m, d, digits(r, 3))
}

var mobilePrefixes = []string{"130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147",
	"150", "151", "152", "153", "155", "156", "157", "158", "159", "162", "165", "166", "167", "170", "171",
	"172", "173", "175", "176", "177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188",
	"189", "190", "191", "192", "193", "195", "196", "197", "198", "199"}

// Mobile returns a mainland mobile number in a current range.
func Mobile(r *rand.Rand) string {
	return mobilePrefixes[r.IntN(len(mobilePrefixes))] + digits(r, 8)
}

// Landline returns a formatted mainland fixed-line number.
func Landline(r *rand.Rand) string {
	sub8 := fmt.Sprintf("%d%s", 2+r.IntN(7), digits(r, 7))
	sub7 := sub8[:7]
	switch r.IntN(4) {
	case 0:
		return []string{"010", "021", "020", "028", "027"}[r.IntN(5)] + "-" + sub8
	case 1:
		return "(" + []string{"0755", "0571", "0512"}[r.IntN(3)] + ") " + sub8[:4] + " " + sub8[4:]
	case 2:
		return []string{"0755", "0571", "0731"}[r.IntN(3)] + "-" + sub7
	default:
		return "+86 " + []string{"10", "21", "755"}[r.IntN(3)] + " " + sub8
	}
}

func luhnDigit(s string) byte {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

var cardBINs = []string{"622202", "621700", "622848", "436742", "622588", "625807", "403391", "552599"}

// Card returns a 16- or 19-digit payment card number with a valid Luhn digit.
func Card(r *rand.Rand) string {
	n := 16
	if r.IntN(2) == 0 {
		n = 19
	}
	s := cardBINs[r.IntN(len(cardBINs))]
	s += digits(r, n-1-len(s))
	return s + string(luhnDigit(s))
}

// BadCard returns a card-like number, grouped by four, failing Luhn.
func BadCard(r *rand.Rand) string {
	c := Card(r)
	last := c[len(c)-1]
	bad := byte('0' + (int(last-'0')+1+r.IntN(9))%10)
	return group4(c[:len(c)-1]+string(bad), " ")
}

// HKID returns a Hong Kong ID with its check digit in parentheses.
func HKID(r *rand.Rand) string {
	l := byte('A' + r.IntN(26))
	d := digits(r, 6)
	sum := 36*9 + int(l-'A'+10)*8
	for i := range 6 {
		sum += int(d[i]-'0') * (7 - i)
	}
	c := (11 - sum%11) % 11
	cs := fmt.Sprint(c)
	if c == 10 {
		cs = "A"
	}
	return fmt.Sprintf("%c%s(%s)", l, d, cs)
}

// TWID returns a Taiwan national ID.
func TWID(r *rand.Rand) string {
	const letters = "ABCDEFGHJKLMNPQRSTUVXYWZIO"
	i := r.IntN(len(letters))
	v := i + 10
	d := fmt.Sprint(1+r.IntN(2)) + digits(r, 7)
	sum := v/10 + v%10*9
	for k := range 8 {
		sum += int(d[k]-'0') * (8 - k)
	}
	return fmt.Sprintf("%c%s%d", letters[i], d, (10-sum%10)%10)
}

// Passport returns a PRC passport number.
func Passport(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return "E" + digits(r, 8)
	}
	return "E" + string("ABCDEFGHJKLMNPQRSTUVWXYZ"[r.IntN(24)]) + digits(r, 7)
}

// MOID returns a Macau ID as printed, 1234567(8).
func MOID(r *rand.Rand) string {
	return string("157"[r.IntN(3)]) + digits(r, 6) + "(" + digits(r, 1) + ")"
}

var users = []string{"zhangwei", "li.na", "wangfang", "liu_yang", "chen.jing", "yang.li", "huang.min", "john.smith", "mary.j", "alex88"}
var domains = []string{"qq.com", "163.com", "126.com", "gmail.com", "example.cn", "company.com.cn", "sina.com", "outlook.com"}

// Email returns an e-mail address.
func Email(r *rand.Rand) string {
	u := users[r.IntN(len(users))]
	if r.IntN(2) == 0 {
		u += digits(r, 1+r.IntN(4))
	}
	return u + "@" + domains[r.IntN(len(domains))]
}

// CFEmail returns the Cloudflare data-cfemail encoding of e.
func CFEmail(r *rand.Rand, e string) string {
	key := byte(r.IntN(256))
	var b strings.Builder
	fmt.Fprintf(&b, "%02x", key)
	for i := range len(e) {
		fmt.Fprintf(&b, "%02x", e[i]^key)
	}
	return b.String()
}

// IPv4 returns a public-looking IPv4 address.
func IPv4(r *rand.Rand) string {
	a := 11 + r.IntN(200)
	if a == 127 {
		a = 128 // loopback is nobody's address
	}
	return fmt.Sprintf("%d.%d.%d.%d", a, r.IntN(256), r.IntN(256), 1+r.IntN(254))
}

// IPv6 returns an IPv6 address in compressed form.
func IPv6(r *rand.Rand) string {
	return fmt.Sprintf("2001:db8:%x:%x::%x", r.IntN(0xffff), r.IntN(0xffff), 1+r.IntN(0xfffe))
}

// IBAN returns a German or British IBAN, printed compactly or in fours.
func IBAN(r *rand.Rand) string {
	var cc, bban string
	if r.IntN(2) == 0 {
		cc, bban = "DE", digits(r, 18)
	} else {
		cc, bban = "GB", "WEST"+digits(r, 14)
	}
	n := new(big.Int)
	var num strings.Builder
	for _, c := range bban + cc + "00" {
		if c >= 'A' && c <= 'Z' {
			fmt.Fprintf(&num, "%d", c-'A'+10)
		} else {
			num.WriteRune(c)
		}
	}
	n.SetString(num.String(), 10)
	chk := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	s := fmt.Sprintf("%s%02d%s", cc, chk, bban)
	if r.IntN(2) == 0 {
		return group4(s, " ")
	}
	return s
}

// SSN returns a US social security number outside the never-assigned ranges.
func SSN(r *rand.Rand) string {
	a := 1 + r.IntN(899)
	if a == 666 {
		a = 667
	}
	return fmt.Sprintf("%03d-%02d-%04d", a, 1+r.IntN(99), 1+r.IntN(9999))
}

// Coordinates returns a precise latitude and longitude in China.
func Coordinates(r *rand.Rand) (string, string) {
	return fmt.Sprintf("%.6f", 18+r.Float64()*35), fmt.Sprintf("%.6f", 73+r.Float64()*62)
}

var (
	surnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "林", "罗", "郑", "梁", "欧阳"}
	given    = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞", "平", "刚", "桂", "英", "华", "小", "建", "国", "志", "红", "晓"}
)

// Surname returns a Chinese surname.
func Surname(r *rand.Rand) string { return surnames[r.IntN(len(surnames))] }

// Name returns a Chinese full name: surname and one or two characters.
func Name(r *rand.Rand) string {
	s := Surname(r) + given[r.IntN(len(given))]
	if r.IntN(2) == 0 {
		s += given[r.IntN(len(given))]
	}
	return s
}

var (
	cities = []string{"北京市朝阳区", "上海市浦东新区", "广东省深圳市南山区", "浙江省杭州市西湖区", "四川省成都市武侯区", "江苏省南京市鼓楼区", "湖北省武汉市洪山区"}
	roads  = []string{"建国路", "中山路", "人民路", "解放大道", "科技园路", "文三路", "滨江大道", "长安街"}
)

// Address returns a Chinese postal address down to the house number, and
// often the building, unit and room.
func Address(r *rand.Rand) string {
	s := cities[r.IntN(len(cities))]
	if r.IntN(3) == 0 {
		s += []string{"望京街道", "花木街道", "粤海街道"}[r.IntN(3)]
	}
	s += roads[r.IntN(len(roads))] + fmt.Sprint(1+r.IntN(999)) + "号"
	switch r.IntN(3) {
	case 0:
		s += fmt.Sprintf("%d栋%d单元%d室", 1+r.IntN(30), 1+r.IntN(6), 101+r.IntN(2800))
	case 1:
		s += fmt.Sprintf("%d号楼%d室", 1+r.IntN(20), 101+r.IntN(2800))
	}
	return s
}

// USCC returns a valid unified social credit code: an organisation's.
func USCC(r *rand.Rand) string {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	s := "91" + areas[r.IntN(len(areas))] + "MA"
	for len(s) < 17 {
		s += string(alphabet[r.IntN(len(alphabet))])
	}
	sum, w := 0, 1
	for i := range 17 {
		sum += strings.IndexByte(alphabet, s[i]) * w
		w = w * 3 % 31
	}
	return s + string(alphabet[(31-sum%31)%31])
}

// ISBN returns a hyphenated ISBN-13 of a Chinese publisher.
func ISBN(r *rand.Rand) string {
	s := "9787" + digits(r, 8)
	sum := 0
	for i := range 12 {
		d := int(s[i] - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	s += fmt.Sprint((10 - sum%10) % 10)
	return s[:3] + "-" + s[3:4] + "-" + s[4:7] + "-" + s[7:12] + "-" + s[12:]
}

// FullWidth returns s with ASCII digits and letters in full-width forms.
func FullWidth(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c > ' ' && c < 0x7f {
			c += 0xFEE0
		}
		b.WriteRune(c)
	}
	return b.String()
}
