package leakcorpus

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Gen draws realistic personal data and look-alike decoys from a seeded
// random source. The same seed gives the same values in the same order. A Gen
// never returns the same value twice, so a value found in a crawl's output
// points at exactly one place in the corpus.
type Gen struct {
	r     *rand.Rand
	used  map[string]bool
	names []string // names handed out, checked for overlaps
}

// NewGen returns a generator seeded with seed.
func NewGen(seed uint64) *Gen {
	return &Gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), used: map[string]bool{}}
}

// unique calls f until it returns a value not returned before (at most 200 tries).
func (g *Gen) unique(f func() string) string {
	var v string
	for i := 0; i < 200; i++ {
		v = f()
		if !g.used[v] {
			break
		}
	}
	g.used[v] = true
	return v
}

// uniqueName is unique for names, which must also not be part of, or
// contain, a name handed out before: that would make a search ambiguous.
func (g *Gen) uniqueName(f func() string) string {
	var v string
	for i := 0; i < 200; i++ {
		v = f()
		if !g.used[v] && !g.overlaps(v) {
			break
		}
	}
	g.used[v] = true
	g.names = append(g.names, v)
	return v
}

func (g *Gen) overlaps(v string) bool {
	for _, u := range g.names {
		if strings.Contains(u, v) || strings.Contains(v, u) {
			return true
		}
	}
	return false
}

func (g *Gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *Gen) n(lo, hi int) int         { return lo + g.r.IntN(hi-lo+1) }
func (g *Gen) digits(k int) string {
	b := make([]byte, k)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

// Intn returns a number in [lo, hi], for templates that need filler numbers.
func (g *Gen) Intn(lo, hi int) int { return g.n(lo, hi) }

// Pick returns one of xs.
func (g *Gen) Pick(xs ...string) string { return g.pick(xs...) }

var cnAreas = []string{
	"110105", "110108", "110102", "120101", "130102", "140105", "150102", "210203", "220102", "230103",
	"310104", "310115", "320102", "320583", "330106", "330382", "340104", "350203", "360102", "370202",
	"410105", "420106", "430104", "440106", "440305", "440306", "450103", "460105", "500103", "510107",
	"520102", "530102", "540102", "610113", "620102", "630102", "640104", "650102", "441900", "445202",
}

// CNID returns a valid 18-character mainland resident identity number.
func (g *Gen) CNID() string {
	return g.unique(func() string {
		y, m := g.n(1950, 2005), g.n(1, 12)
		d := g.n(1, 28)
		s := fmt.Sprintf("%s%04d%02d%02d%s", g.pick(cnAreas...), y, m, d, g.digits(3))
		return s + string(CNIDCheck(s))
	})
}

var cnMobilePrefixes = []string{
	"130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "150", "151", "152", "153",
	"155", "156", "157", "158", "159", "166", "170", "171", "172", "173", "175", "176", "177", "178", "180", "181",
	"182", "183", "184", "185", "186", "187", "188", "189", "191", "193", "195", "196", "197", "198", "199",
	"192", "190", "162", "167", "141", "148", "149",
}

// CNMobile returns an 11-digit mainland mobile number.
func (g *Gen) CNMobile() string {
	return g.unique(func() string { return g.pick(cnMobilePrefixes...) + g.digits(8) })
}

// CNLandline returns a landline with its area code, as "0755-86013388".
func (g *Gen) CNLandline() string {
	return g.unique(func() string {
		area := g.pick("010", "021", "020", "022", "023", "0755", "0571", "0512", "0731", "028", "027", "0591", "0532")
		return area + "-" + fmt.Sprint(g.n(2, 8)) + g.digits(7)
	})
}

// BankCard returns a Luhn-valid card number of the named scheme: unionpay16,
// unionpay19, visa16, visa13, mastercard, amex, diners, diners300, maestro.
func (g *Gen) BankCard(scheme string) string {
	return g.unique(func() string {
		var p string
		n := 16
		switch scheme {
		case "unionpay16":
			p = g.pick("622202", "621700", "622848", "621226", "623052", "621483", "622588", "625807")
		case "unionpay19":
			p, n = g.pick("622202", "621700", "622848", "621661", "622208", "621559"), 19
		case "visa13":
			p, n = "4"+g.digits(5), 13
		case "visa16":
			p = "4" + g.pick("39225", "00000", "26684", "62263", "83248", "17500")
		case "mastercard":
			if g.r.IntN(2) == 0 {
				p = fmt.Sprint(g.n(51, 55)) + g.digits(4)
			} else {
				p = fmt.Sprint(g.n(2221, 2720)) + g.digits(2)
			}
		case "amex":
			p, n = g.pick("34", "37")+g.digits(4), 15
		case "diners":
			p, n = "36"+g.digits(4), 14
		case "diners300":
			p, n = fmt.Sprint(g.n(300, 305))+g.digits(3), 14
		default: // maestro
			p, n = g.pick("5018", "5020", "5038", "6304", "6759", "6761", "6763")+g.digits(2), g.n(12, 19)
		}
		s := p + g.digits(n-1-len(p))
		return s + string(LuhnCheck(s))
	})
}

var pinyinGiven = []string{"wei", "fang", "na", "xiuying", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong", "yan", "jie",
	"juan", "tao", "ming", "chao", "xiulan", "xia", "ping", "gang", "haoran", "zihan", "xinyi", "yuxuan", "yinuo", "siyuan", "yutong", "junjie"}
var pinyinFamily = []string{"wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu", "hu",
	"guo", "he", "gao", "lin", "luo", "zheng", "liang", "xie", "song", "tang", "ouyang", "zhuge", "shangguan", "qiu", "kou", "miao", "kuang"}

// Email returns an address at a Chinese or international provider, or at a
// company domain when provider is "company".
func (g *Gen) Email(provider string) string {
	return g.unique(func() string {
		var local string
		switch g.r.IntN(4) {
		case 0:
			local = g.pick(pinyinFamily...) + g.pick(pinyinGiven...) + fmt.Sprint(g.n(1970, 2008))
		case 1:
			local = g.pick(pinyinGiven...) + "." + g.pick(pinyinFamily...) + fmt.Sprint(g.n(1, 99))
		case 2:
			local = g.pick(pinyinFamily...) + "_" + g.pick(pinyinGiven...) + g.digits(3)
		default:
			local = fmt.Sprint(g.n(10000000, 2999999999)) // QQ number style
		}
		dom := provider
		switch provider {
		case "":
			dom = g.pick("163.com", "qq.com", "126.com", "sina.com", "gmail.com", "foxmail.com", "139.com", "yeah.net", "outlook.com", "hotmail.com")
		case "company":
			dom = g.pick("huaxin-tech.com.cn", "szlongteng.com", "mail.zjhengda.cn", "bjyuanhang.com", "corp.xinghe.net", "westlake-bio.com")
			local = strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return -1
				}
				return r
			}, local)
			if len(local) < 5 {
				local = g.pick(pinyinGiven...) + "." + g.pick(pinyinFamily...)
			}
			local += g.digits(2)
		}
		return local + "@" + dom
	})
}

// EmailLocal returns the part of e before the '@'.
func EmailLocal(e string) string {
	if i := strings.IndexByte(e, '@'); i >= 0 {
		return e[:i]
	}
	return e
}

// IPv4 returns an address in a public, routed range (no private, loopback,
// shared, documentation or multicast blocks).
func (g *Gen) IPv4() string {
	return g.unique(func() string {
		first := g.pick("58", "59", "60", "61", "101", "106", "111", "112", "113", "114", "115", "116", "117", "119",
			"120", "121", "122", "123", "124", "125", "180", "182", "183", "211", "218", "219", "220", "221", "222", "36", "39", "42", "49")
		return fmt.Sprintf("%s.%d.%d.%d", first, g.n(1, 254), g.n(0, 255), g.n(2, 254))
	})
}

// IPv6 returns a global unicast address of a Chinese carrier or CERNET, in
// the compressed or full form.
func (g *Gen) IPv6() string {
	return g.unique(func() string {
		pre := g.pick("2408:8207", "240e:3b4", "2409:8a00", "2001:da8", "240e:46c", "2408:8456")
		h := func() string { return fmt.Sprintf("%x", g.n(0x1000, 0xffff)) }
		if g.r.IntN(2) == 0 {
			return fmt.Sprintf("%s:%s:%s::%s", pre, h(), h(), h())
		}
		return fmt.Sprintf("%s:%s:%s:%s:%s:%s:%s", pre, h(), h(), h(), h(), h(), h())
	})
}

// CNPassport returns a People's Republic of China passport number (E or G
// followed by eight digits).
func (g *Gen) CNPassport() string {
	return g.unique(func() string { return g.pick("E", "E", "G") + fmt.Sprint(g.n(1, 9)) + g.digits(7) })
}

// HKID returns a Hong Kong identity card number as printed, "A123456(3)".
func (g *Gen) HKID() string {
	return g.unique(func() string {
		body := g.pick("A", "C", "D", "E", "G", "H", "K", "M", "P", "R", "Y", "Z", "WX", "XA") + g.digits(6)
		return body + "(" + string(HKIDCheck(body)) + ")"
	})
}

// TWID returns a Taiwan national identification number.
func (g *Gen) TWID() string {
	return g.unique(func() string {
		s := g.pick("A", "B", "C", "D", "E", "F", "H", "J", "K", "N", "P", "R", "S", "T", "U") + g.pick("1", "2") + g.digits(7)
		return s + string(TWIDCheck(s))
	})
}

// IBAN returns a valid IBAN of country DE, GB or FR in the compact form.
func (g *Gen) IBAN(cc string) string {
	return g.unique(func() string {
		var bban string
		switch cc {
		case "GB":
			bban = g.pick("WEST", "NWBK", "BARC", "HBUK", "LOYD", "MIDL") + g.digits(6) + g.digits(8)
		case "FR":
			bank, branch, acct := g.pick("30004", "30003", "20041", "10278", "30002"), g.digits(5), g.digits(11)
			bban = bank + branch + acct + FRRIBKey(bank, branch, acct)
		default:
			cc = "DE"
			bban = g.pick("37040044", "50010517", "10070000", "20041111", "70020270", "12030000") + g.digits(10)
		}
		return cc + IBANCheck(cc, bban) + bban
	})
}

// SpacedIBAN writes an IBAN in groups of four, as printed on statements.
func SpacedIBAN(s string) string { return group(s, 4, " ") }

func group(s string, k int, sep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += k {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s[i:min(i+k, len(s))])
	}
	return b.String()
}

// SSN returns a US social security number, "123-45-6789", avoiding the
// never-issued areas 000, 666 and 900–999.
func (g *Gen) SSN() string {
	return g.unique(func() string {
		a := g.n(1, 899)
		if a == 666 {
			a = 667
		}
		return fmt.Sprintf("%03d-%02d-%04d", a, g.n(1, 99), g.n(1, 9999))
	})
}

// ITIN returns a US individual taxpayer identification number, 9XX-7X-XXXX.
func (g *Gen) ITIN() string {
	return g.unique(func() string { return fmt.Sprintf("9%02d-%d-%04d", g.n(0, 99), g.n(70, 88), g.n(0, 9999)) })
}

// USPassport returns a nine-digit US passport number.
func (g *Gen) USPassport() string {
	return g.unique(func() string { return fmt.Sprint(g.n(1, 9)) + g.digits(8) })
}

var plateProvinces = []string{"京", "沪", "津", "渝", "冀", "豫", "云", "辽", "黑", "湘", "皖", "鲁", "新", "苏", "浙", "赣", "鄂", "桂", "甘", "晋", "蒙", "陕", "吉", "闽", "贵", "粤", "青", "川", "宁", "琼"}

const plateLetters = "ABCDEFGHJKLMNPQRSTUVWXYZ"

// Plate returns a Chinese licence plate; newEnergy gives the eight-character
// green plate, "粤B·D12345".
func (g *Gen) Plate(newEnergy bool) string {
	return g.unique(func() string {
		p := g.pick(plateProvinces...) + string(plateLetters[g.r.IntN(len(plateLetters))])
		if newEnergy {
			return p + "·" + g.pick("D", "F") + g.digits(5)
		}
		tail := []byte(g.digits(5))
		if g.r.IntN(2) == 0 {
			tail[g.r.IntN(3)] = plateLetters[g.r.IntN(len(plateLetters))]
		}
		return p + string(tail)
	})
}

const vinChars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"

// VIN returns a 17-character vehicle identification number with a valid
// ISO 3779 check digit.
func (g *Gen) VIN() string {
	return g.unique(func() string {
		b := []byte(g.pick("LSV", "LFV", "LGB", "LRW", "WBA", "1HG", "JTD", "LVS", "LHG", "WVW"))
		for len(b) < 8 {
			b = append(b, vinChars[g.r.IntN(len(vinChars))])
		}
		b = append(b, '0', "LMNPRSTVWXY"[g.r.IntN(11)], vinChars[g.r.IntN(23)])
		b = append(b, g.digits(6)...)
		b[8] = VINCheck(string(b))
		return string(b)
	})
}

// MAC returns a MAC address with a real vendor prefix, colon-separated.
func (g *Gen) MAC() string {
	return g.unique(func() string {
		oui := g.pick("3C:22:FB", "F0:18:98", "28:6C:07", "64:09:80", "48:3C:0C", "AC:BC:32", "00:E0:4C", "B4:2E:99", "8C:85:90")
		return fmt.Sprintf("%s:%02X:%02X:%02X", oui, g.n(0, 255), g.n(0, 255), g.n(0, 255))
	})
}

// KRRRN returns a Korean resident registration number, "YYMMDD-GNNNNNC".
func (g *Gen) KRRRN() string {
	return g.unique(func() string {
		y := g.n(1955, 2008)
		gd := g.n(1, 2)
		if y >= 2000 {
			gd += 2
		}
		s := fmt.Sprintf("%02d%02d%02d%d%s", y%100, g.n(1, 12), g.n(1, 28), gd, g.digits(5))
		return s[:6] + "-" + s[6:] + string(KRRRNCheck(s))
	})
}

// Aadhaar returns a 12-digit Aadhaar number with a Verhoeff check digit,
// printed in groups of four.
func (g *Gen) Aadhaar() string {
	return g.unique(func() string {
		s := fmt.Sprint(g.n(2, 9)) + g.digits(10)
		s += string(VerhoeffCheck(s))
		return group(s, 4, " ")
	})
}

// CPF returns a Brazilian CPF, "000.000.000-00".
func (g *Gen) CPF() string {
	return g.unique(func() string {
		s := g.digits(9)
		s += CPFChecks(s)
		return s[:3] + "." + s[3:6] + "." + s[6:9] + "-" + s[9:]
	})
}

// DNI returns a Spanish DNI, eight digits and the control letter.
func (g *Gen) DNI() string {
	return g.unique(func() string {
		n := g.n(10000000, 79999999)
		return fmt.Sprintf("%08d%c", n, DNILetter(n))
	})
}

// NIE returns a Spanish foreigner identity number, "X1234567L".
func (g *Gen) NIE() string {
	return g.unique(func() string {
		k := g.r.IntN(3)
		n := g.n(0, 9999999)
		return fmt.Sprintf("%c%07d%c", "XYZ"[k], n, DNILetter(k*10000000+n))
	})
}

func cfPart(s string, name bool) string {
	var cons, vow []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 'A' || c > 'Z' {
			continue
		}
		if strings.IndexByte("AEIOU", c) >= 0 {
			vow = append(vow, c)
		} else {
			cons = append(cons, c)
		}
	}
	if name && len(cons) >= 4 {
		return string([]byte{cons[0], cons[2], cons[3]})
	}
	out := append(append(cons, vow...), 'X', 'X', 'X')
	return string(out[:3])
}

var itSurnames = []string{"ROSSI", "FERRARI", "ESPOSITO", "BIANCHI", "ROMANO", "COLOMBO", "RICCI", "MARINO", "GRECO", "BRUNO", "GALLO", "CONTI", "DE LUCA", "COSTA"}
var itNames = []string{"MARCO", "GIULIA", "ALESSANDRO", "FRANCESCA", "LUCA", "CHIARA", "MATTEO", "SARA", "ANDREA", "ELENA", "LORENZO", "MARTINA"}

// CodiceFiscale returns an Italian tax code with a valid check character,
// built from an Italian name as the real ones are.
func (g *Gen) CodiceFiscale() string {
	return g.unique(func() string {
		name := g.pick(itNames...)
		female := strings.HasSuffix(name, "A")
		day := g.n(1, 28)
		if female {
			day += 40
		}
		s := cfPart(g.pick(itSurnames...), false) + cfPart(name, true) +
			fmt.Sprintf("%02d%c%02d", g.n(50, 99), "ABCDEHLMPRST"[g.r.IntN(12)], day) +
			g.pick("H501", "F205", "L219", "G273", "A662", "F839", "D612", "A944")
		return s + string(ITCFCheck(s))
	})
}

// NIR returns a French social security number (15 digits with key), printed
// "1 85 05 78 006 084 36".
func (g *Gen) NIR() string {
	return g.unique(func() string {
		s := fmt.Sprintf("%d%02d%02d%02d%03d%03d", g.n(1, 2), g.n(50, 99), g.n(1, 12), g.n(1, 95), g.n(1, 999), g.n(1, 999))
		if s[5:7] == "20" {
			s = s[:5] + "75" + s[7:]
		}
		k := NIRKey(s)
		return s[:1] + " " + s[1:3] + " " + s[3:5] + " " + s[5:7] + " " + s[7:10] + " " + s[10:13] + " " + k
	})
}

// PESEL returns a Polish PESEL number.
func (g *Gen) PESEL() string {
	return g.unique(func() string {
		y := g.n(1950, 2009)
		m := g.n(1, 12)
		if y >= 2000 {
			m += 20
		}
		s := fmt.Sprintf("%02d%02d%02d%s", y%100, m, g.n(1, 28), g.digits(4))
		return s + string(PESELCheck(s))
	})
}

// IntlPhone returns a phone number of the given country (us, tw, hk, jp, kr,
// uk, de, fr) written as people there write it.
func (g *Gen) IntlPhone(country string) string {
	return g.unique(func() string {
		switch country {
		case "us":
			ex := g.n(201, 989)
			if ex == 555 || ex%100 == 11 {
				ex++
			}
			area := g.pick("415", "212", "646", "310", "206", "312", "617", "202", "512", "408")
			if g.r.IntN(2) == 0 {
				return fmt.Sprintf("+1 (%s) %03d-%s", area, ex, g.digits(4))
			}
			return fmt.Sprintf("(%s) %03d-%s", area, ex, g.digits(4))
		case "tw":
			if g.r.IntN(2) == 0 {
				return fmt.Sprintf("09%d%d-%s-%s", g.n(1, 8), g.n(0, 9), g.digits(3), g.digits(3))
			}
			return fmt.Sprintf("+886 9%d%d %s %s", g.n(1, 8), g.n(0, 9), g.digits(3), g.digits(3))
		case "hk":
			f := g.pick("9", "6", "5")
			if g.r.IntN(2) == 0 {
				return fmt.Sprintf("%s%s %s", f, g.digits(3), g.digits(4))
			}
			return fmt.Sprintf("+852 %s%s %s", f, g.digits(3), g.digits(4))
		case "jp":
			p := g.pick("090", "080", "070")
			if g.r.IntN(2) == 0 {
				return fmt.Sprintf("%s-%s-%s", p, g.digits(4), g.digits(4))
			}
			return fmt.Sprintf("+81 %s-%s-%s", p[1:], g.digits(4), g.digits(4))
		case "kr":
			if g.r.IntN(2) == 0 {
				return fmt.Sprintf("010-%d%s-%s", g.n(2, 9), g.digits(3), g.digits(4))
			}
			return fmt.Sprintf("+82 10-%d%s-%s", g.n(2, 9), g.digits(3), g.digits(4))
		case "uk":
			if g.r.IntN(2) == 0 {
				return fmt.Sprintf("+44 7%d%s %s", g.n(4, 9), g.digits(2), g.digits(6))
			}
			return fmt.Sprintf("07%d%s %s", g.n(4, 9), g.digits(2), g.digits(6))
		case "de":
			p := g.pick("151", "160", "170", "171", "172", "176", "157")
			if g.r.IntN(2) == 0 {
				return fmt.Sprintf("+49 %s %s", p, g.digits(8))
			}
			return fmt.Sprintf("0%s %s", p, g.digits(7))
		default:
			if g.r.IntN(2) == 0 {
				return fmt.Sprintf("0%d %s %s %s %s", g.n(6, 7), g.digits(2), g.digits(2), g.digits(2), g.digits(2))
			}
			return fmt.Sprintf("+33 %d %s %s %s %s", g.n(6, 7), g.digits(2), g.digits(2), g.digits(2), g.digits(2))
		}
	})
}

// Coordinates returns a latitude and longitude inside mainland China with six
// decimals, as a phone or map widget reports a position.
func (g *Gen) Coordinates() (lat, lng string) {
	v := g.unique(func() string {
		return fmt.Sprintf("%d.%s,%d.%s", g.n(22, 40), g.digits(6), g.n(103, 121), g.digits(6))
	})
	i := strings.IndexByte(v, ',')
	return v[:i], v[i+1:]
}

var (
	cnSurnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
		"郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "叶",
		"程", "苏", "魏", "吕", "丁", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "廖", "贾", "夏", "韦", "方", "邹",
		"孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯", "龙", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "覃", "戴"}
	cnCompound = []string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯"}
	cnRare     = []string{"仇", "寇", "亓", "訾", "佘", "邝", "缪", "谯", "禚", "郗", "逄", "笪", "蒯", "厍", "冼", "覃"}
	cnGiven    = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰",
		"霞", "平", "刚", "桂英", "浩然", "子涵", "欣怡", "梓萱", "宇轩", "一诺", "思远", "雨桐", "俊杰", "晓东", "建国", "志强", "海燕",
		"婷婷", "嘉怡", "博文", "诗涵", "文斌", "丽华", "国庆", "春梅", "振华", "慧敏", "佳琪", "晨曦", "天佑", "若曦", "明轩", "紫薇",
		"永康", "德华", "淑芬", "美玲", "志明", "家豪", "雅婷", "冠宇"}
)

// CNName returns a Chinese personal name; kind is "common", "compound" or "rare".
func (g *Gen) CNName(kind string) string {
	return g.uniqueName(func() string {
		s := g.pick(cnSurnames...)
		switch kind {
		case "compound":
			s = g.pick(cnCompound...)
		case "rare":
			s = g.pick(cnRare...)
		}
		given := g.pick(cnGiven...)
		if len([]rune(given)) == 1 && g.r.IntN(3) > 0 {
			given += g.pick("华", "宁", "琳", "鹏", "颖", "辉", "晴", "峰", "琦", "瑶", "彬", "睿")
		}
		return s + given
	})
}

var (
	enFirst = []string{"James", "Emily", "Michael", "Sarah", "David", "Laura", "Daniel", "Rachel", "Thomas", "Hannah", "Oliver", "Chloe",
		"Benjamin", "Megan", "Samuel", "Grace", "Nathan", "Abigail", "Ethan", "Victoria", "Lucas", "Isabel", "Henry", "Charlotte"}
	enLast = []string{"Thompson", "Whitaker", "Gallagher", "Henderson", "Fitzgerald", "Caldwell", "Montgomery", "Harrington", "Pemberton",
		"Lindqvist", "Okafor", "Nakamura", "Castellano", "Novak", "Brennan", "Ashford", "Delacroix", "Kowalski", "Sutherland", "Rasmussen"}
)

// ENName returns an English-language personal name, "Sarah Whitaker".
func (g *Gen) ENName() string {
	return g.uniqueName(func() string { return g.pick(enFirst...) + " " + g.pick(enLast...) })
}

var cnCities = [][3]string{
	{"广东省", "深圳市", "南山区"}, {"广东省", "广州市", "天河区"}, {"浙江省", "杭州市", "西湖区"}, {"江苏省", "苏州市", "工业园区"},
	{"四川省", "成都市", "武侯区"}, {"湖北省", "武汉市", "洪山区"}, {"福建省", "厦门市", "思明区"}, {"山东省", "青岛市", "市南区"},
	{"", "北京市", "朝阳区"}, {"", "上海市", "浦东新区"}, {"", "重庆市", "渝北区"}, {"湖南省", "长沙市", "岳麓区"},
}
var cnRoads = []string{"科技南十二路", "天河北路", "文三路", "星湖街", "人民南路", "珞喻路", "湖滨南路", "香港中路", "建国路", "张杨路",
	"金开大道", "麓谷大道", "学苑街", "中山东一路", "解放西路", "幸福路", "青年大街", "和平里东街"}

// CNAddress returns a full mainland street address down to the room, and the
// personal part of it (street, number and room) that must not be stored.
func (g *Gen) CNAddress() (full, personal string) {
	var c [3]string
	v := g.unique(func() string {
		c = cnCities[g.r.IntN(len(cnCities))]
		p := fmt.Sprintf("%s%d号", g.pick(cnRoads...), g.n(1, 999))
		switch g.r.IntN(3) {
		case 0:
			p += fmt.Sprintf("%s小区%d栋%d单元%d室", g.pick("阳光", "碧桂园", "万科城", "金地", "锦绣", "翠苑"), g.n(1, 30), g.n(1, 6), g.n(101, 3208))
		case 1:
			p += fmt.Sprintf("%d号楼%d室", g.n(1, 20), g.n(101, 2808))
		default:
			p += fmt.Sprintf("%d室", g.n(101, 2808))
		}
		return p
	})
	return c[0] + c[1] + c[2] + v, v
}

// ---- decoys ----

// ISBN returns an ISBN-13 of a Chinese publisher, hyphenated, with a valid check.
func (g *Gen) ISBN() string {
	return g.unique(func() string {
		pub := g.pick("111", "115", "302", "121", "5086", "5327", "5442", "5217")
		item := g.digits(8 - len(pub))
		s := "9787" + pub + item
		return "978-7-" + pub + "-" + item + "-" + string(EANCheck(s))
	})
}

// EAN13 returns a product bar code with a Chinese (690–699) prefix.
func (g *Gen) EAN13() string {
	return g.unique(func() string {
		s := fmt.Sprint(g.n(690, 699)) + g.digits(9)
		return s + string(EANCheck(s))
	})
}

// USCC returns a valid unified social credit code of a company.
func (g *Gen) USCC() string {
	return g.unique(func() string {
		org := make([]byte, 8)
		for i := range org {
			if i == 0 && g.r.IntN(2) == 0 {
				org[i] = "MLNPQ"[g.r.IntN(5)]
				continue
			}
			org[i] = byte('0' + g.r.IntN(10))
		}
		s := "91" + g.pick(cnAreas...)[:4] + "00" + string(org) + string(OrgCodeCheck(string(org)))
		return s + string(USCCCheck(s))
	})
}

// OrderNo returns an order number of 18 to 20 digits starting with a date,
// Luhn-valid when luhn is set.
func (g *Gen) OrderNo(luhn bool) string {
	return g.unique(func() string {
		s := fmt.Sprintf("2026%02d%02d", g.n(1, 11), g.n(1, 28)) + g.digits(g.n(10, 12)-1)
		if luhn {
			return s + string(LuhnCheck(s))
		}
		c := LuhnCheck(s)
		return s + string('0'+(c-'0'+1)%10)
	})
}

// Tracking returns a parcel tracking number of the named carrier: sf, yt, ups or jd.
func (g *Gen) Tracking(carrier string) string {
	return g.unique(func() string {
		switch carrier {
		case "sf":
			return "SF" + fmt.Sprint(g.n(1, 9)) + g.digits(12)
		case "yt":
			return "YT" + fmt.Sprint(g.n(1, 9)) + g.digits(12)
		case "ups":
			b := []byte("1Z")
			for i := 0; i < 16; i++ {
				if i >= 3 && i < 5 {
					b = append(b, "ABCDEFGHJKLMNPRSTUVWXY"[g.r.IntN(22)])
				} else {
					b = append(b, byte('0'+g.r.IntN(10)))
				}
			}
			return string(b)
		default:
			return "JDV" + fmt.Sprint(g.n(1, 9)) + g.digits(11)
		}
	})
}

// Version returns a four-part version number, "3.2.35.132".
func (g *Gen) Version() string {
	return g.unique(func() string {
		return fmt.Sprintf("%d.%d.%d.%d", g.n(1, 12), g.n(0, 9), g.n(10, 99), g.n(100, 999))
	})
}

// UUID returns a random version-4 UUID.
func (g *Gen) UUID() string {
	return g.unique(func() string {
		h := func(k int) string {
			var b strings.Builder
			for i := 0; i < k; i++ {
				b.WriteByte("0123456789abcdef"[g.r.IntN(16)])
			}
			return b.String()
		}
		return h(8) + "-" + h(4) + "-4" + h(3) + "-" + string("89ab"[g.r.IntN(4)]) + h(3) + "-" + h(12)
	})
}

// Timestamp returns a Unix time in late 2026 in seconds (10 digits) or
// milliseconds (13 digits).
func (g *Gen) Timestamp(millis bool) string {
	return g.unique(func() string {
		s := fmt.Sprint(g.n(1780000000, 1796000000))
		if millis {
			s += g.digits(3)
		}
		return s
	})
}

// SKU returns a product stock-keeping unit, "HW-P50-8G-256-BLK".
func (g *Gen) SKU() string {
	return g.unique(func() string {
		return fmt.Sprintf("%s-%s%d-%dG-%s-%s", g.pick("HW", "MI", "OP", "LN", "AP"), g.pick("P", "X", "K", "R"), g.n(10, 99),
			g.n(4, 16), g.pick("128", "256", "512"), g.pick("BLK", "WHT", "BLU", "GRN"))
	})
}

var (
	twSurnames = []string{"陳", "林", "黃", "張", "李", "王", "吳", "劉", "蔡", "楊", "許", "鄭", "謝", "郭", "洪", "邱", "曾", "廖", "賴", "周",
		"徐", "蘇", "葉", "莊", "呂", "江", "何", "蕭", "羅", "高", "歐陽", "司馬", "上官", "諸葛", "鄺", "佘", "繆"}
	twGiven = []string{"志明", "淑芬", "雅婷", "家豪", "冠宇", "怡君", "宗翰", "佩珊", "建宏", "美玲", "俊傑", "詩涵", "承恩", "欣妤", "子軒",
		"嘉欣", "偉倫", "凱文", "曉彤", "國華", "麗珍", "文傑", "穎琳", "浩賢"}
	twRoads = []string{"忠孝東路四段", "信義路五段", "中山北路二段", "民生東路三段", "彌敦道", "軒尼詩道", "皇后大道中", "英皇道", "文心路三段", "中正路"}
)

// TradName returns a personal name in traditional characters, as written in
// Hong Kong and Taiwan.
func (g *Gen) TradName() string {
	return g.uniqueName(func() string { return g.pick(twSurnames...) + g.pick(twGiven...) })
}

// TradAddress returns a Taiwan or Hong Kong street address in traditional
// characters, and its personal part (street, number, floor).
func (g *Gen) TradAddress() (full, personal string) {
	var city string
	v := g.unique(func() string {
		road := g.pick(twRoads...)
		switch road {
		case "彌敦道", "軒尼詩道", "皇后大道中", "英皇道":
			city = g.pick("香港九龍旺角", "香港灣仔", "香港中環", "香港北角")
			return fmt.Sprintf("%s%d號%s大廈%d樓%c室", road, g.n(1, 600), g.pick("恒基", "新世紀", "永安", "華懋"), g.n(2, 38), 'A'+rune(g.r.IntN(8)))
		}
		city = g.pick("臺北市大安區", "臺北市信義區", "臺中市西屯區", "新北市板橋區", "高雄市前鎮區")
		return fmt.Sprintf("%s%d巷%d號%d樓", road, g.n(1, 300), g.n(1, 99), g.n(2, 20))
	})
	return city + v, v
}

// NamedEmail returns a company address for an English name, as
// "sarah.whitaker@domain" (with a number when that is taken).
func (g *Gen) NamedEmail(name, domain string) string {
	f := strings.Fields(strings.ToLower(name))
	base := strings.Join(f, ".")
	return g.unique(func() string {
		if !g.used[base+"@"+domain] {
			return base + "@" + domain
		}
		return fmt.Sprintf("%s%d@%s", base, g.n(2, 99), domain)
	})
}
