package pii

import (
	"time"
)

// Validators take ASCII bytes with separators already removed.

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// validProvince reports whether the first two digits of a resident ID name a
// province-level division (GB/T 2260), or 81–83 (Hong Kong, Macau, Taiwan
// residence permits).
func validProvince(a, b byte) bool {
	if a < '0' || a > '9' || b < '0' || b > '9' {
		return false
	}
	switch p := int(a-'0')*10 + int(b-'0'); {
	case p >= 11 && p <= 15, p >= 21 && p <= 23, p >= 31 && p <= 37,
		p >= 41 && p <= 46, p >= 50 && p <= 54, p >= 61 && p <= 65,
		p == 71, p >= 81 && p <= 83:
		return true
	}
	return false
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

// validDate reports whether y-m-d is a real calendar date between 1900 and now.
func validDate(y, m, d int, now time.Time) bool {
	if y < 1900 || m < 1 || m > 12 || d < 1 || d > 31 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || t.Month() != time.Month(m) {
		return false
	}
	return !t.After(now)
}

// idShape18 reports whether b has the shape of an 18-character resident ID
// (province, real past date), whatever its check character.
func idShape18(b []byte, now time.Time) bool {
	if len(b) != 18 || !allDigits(b[:17]) || !validProvince(b[0], b[1]) {
		return false
	}
	return validDate(atoi(b[6:10]), atoi(b[10:12]), atoi(b[12:14]), now)
}

// idCheck18 computes the GB 11643 check character of the first 17 digits.
func idCheck18(b []byte) byte {
	s := 0
	for i := range 17 {
		s += int(b[i]-'0') * idWeights[i]
	}
	return idCheckChars[s%11]
}

// ValidCNResidentID18 reports whether s is a valid 18-character resident
// identity number: province, a real date not in the future, and the GB 11643
// check character (x or X).
func ValidCNResidentID18(s string) bool { return validID18([]byte(s), time.Now()) }

func validID18(b []byte, now time.Time) bool {
	if !idShape18(b, now) {
		return false
	}
	c := b[17]
	if c == 'x' {
		c = 'X'
	}
	return c == idCheck18(b)
}

// ValidCNResidentID15 reports whether s is a valid first-generation
// 15-digit resident identity number: province and a real 19YYMMDD date.
func ValidCNResidentID15(s string) bool { return validID15([]byte(s)) }

func validID15(b []byte) bool {
	if len(b) != 15 || !allDigits(b) || !validProvince(b[0], b[1]) {
		return false
	}
	return validDate(1900+atoi(b[6:8]), atoi(b[8:10]), atoi(b[10:12]), time.Now())
}

// ValidCNMobile reports whether the 11 digits of s fall in a mainland mobile
// range as libphonenumber's metadata has them:
// 1740[0-5]\d{6} | 1(?:[38]\d|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])\d{8}.
func ValidCNMobile(s string) bool { return validMobile([]byte(s)) }

func validMobile(b []byte) bool {
	if len(b) != 11 || b[0] != '1' || !allDigits(b) {
		return false
	}
	d := b[2]
	switch b[1] {
	case '3', '8':
		return true
	case '4':
		return d == '5' || d == '7'
	case '5', '9':
		return d != '4'
	case '6':
		return d == '2' || (d >= '5' && d <= '7')
	case '7':
		if d == '4' {
			return b[3] == '0' && b[4] <= '5'
		}
		return d != '9'
	}
	return false
}

// landlineArea returns the length of the area code (with its leading 0) at
// the start of b, or 0. 010 and 02X are 3 digits; 0[3-9]XX are 4.
func landlineArea(b []byte) int {
	if len(b) < 3 || b[0] != '0' {
		return 0
	}
	switch {
	case b[1] == '1' && b[2] == '0', b[1] == '2':
		return 3
	case b[1] >= '3' && b[1] <= '9' && len(b) >= 4 && b[2] >= '1':
		return 4
	}
	return 0
}

// validLandline reports whether area followed by subscriber is a mainland
// fixed-line number: a valid area code and 7–8 digits not starting with 0 or 1.
func validLandline(area, sub []byte) bool {
	if landlineArea(area) != len(area) || len(sub) < 7 || len(sub) > 8 || sub[0] < '2' {
		return false
	}
	if len(area) == 3 && len(sub) != 8 {
		return false // the 2- and 3-digit area codes serve big cities with 8-digit numbers
	}
	return allDigits(area) && allDigits(sub)
}

// ValidLuhn reports whether the digits of s pass the Luhn check.
func ValidLuhn(s string) bool { return luhn([]byte(s)) }

func luhn(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	s := 0
	dbl := false
	for i := len(b) - 1; i >= 0; i-- {
		c := b[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if dbl {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		s += d
		dbl = !dbl
	}
	return s%10 == 0
}

// cardPrefix reports whether b starts like a payment card number (issuer
// identification ranges of UnionPay, Visa, Mastercard, JCB, Discover, Maestro).
func cardPrefix(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	p2 := atoi(b[:2])
	p4 := atoi(b[:4])
	switch {
	case b[0] == '4': // Visa, and older Chinese bank debit cards
		return true
	case p2 >= 50 && p2 <= 58, p4 >= 2221 && p4 <= 2720: // Mastercard, Maestro
		return true
	case p2 == 62 || p2 == 81: // UnionPay
		return true
	case p4 >= 3528 && p4 <= 3589: // JCB
		return true
	case p4 == 6011, p2 == 65, p4 >= 6440 && p4 <= 6499, b[0] == '6': // Discover, Maestro
		return true
	case p2 == 60 || p2 == 94 || p2 == 95 || p2 == 99: // domestic bank cards of some Chinese banks
		return true
	}
	return false
}

// ValidBankCard reports whether s (digits only) is a 16–19 digit card number
// with a known issuer prefix and a valid Luhn check digit.
func ValidBankCard(s string) bool { return validCard([]byte(s)) }

func validCard(b []byte) bool {
	return len(b) >= 16 && len(b) <= 19 && allDigits(b) && cardPrefix(b) && luhn(b)
}

// ValidHKID reports whether s is a Hong Kong identity card number, with or
// without parentheses around the check digit: "A123456(3)", "AB9876543".
func ValidHKID(s string) bool {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '(' && s[i] != ')' {
			b = append(b, s[i])
		}
	}
	return validHKID(b)
}

// validHKID checks 1–2 upper-case letters, 6 digits and a check character.
func validHKID(b []byte) bool {
	n := len(b)
	if n != 8 && n != 9 {
		return false
	}
	letters := n - 7
	sum := 0
	w := 9
	if letters == 1 {
		sum += 36 * w
		w--
	}
	for i := range letters {
		c := b[i]
		if c < 'A' || c > 'Z' {
			return false
		}
		sum += int(c-'A'+10) * w
		w--
	}
	for i := letters; i < letters+6; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * w
		w--
	}
	var chk int
	switch c := b[n-1]; {
	case c >= '0' && c <= '9':
		chk = int(c - '0')
	case c == 'A' || c == 'a':
		chk = 10
	default:
		return false
	}
	return (sum+chk)%11 == 0
}

const twLetters = "ABCDEFGHJKLMNPQRSTUVXYWZIO"

// ValidTWID reports whether s is a Taiwan national identification number:
// a letter, 1 or 2, 8 more digits, with the weighted check.
func ValidTWID(s string) bool { return validTWID([]byte(s)) }

func validTWID(b []byte) bool {
	if len(b) != 10 || (b[1] != '1' && b[1] != '2') || !allDigits(b[1:]) {
		return false
	}
	v := -1
	for i := 0; i < len(twLetters); i++ {
		if twLetters[i] == b[0] {
			v = i + 10
		}
	}
	if v < 0 {
		return false
	}
	sum := v/10 + (v%10)*9
	for i := 1; i <= 8; i++ {
		sum += int(b[i]-'0') * (9 - i)
	}
	sum += int(b[9] - '0')
	return sum%10 == 0
}

// ibanLengths holds the IBAN length of common countries (ISO 13616 registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CY": 28,
	"CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "KW": 30, "KZ": 20, "LB": 28,
	"LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PK": 24,
	"PL": 28, "PT": 25, "QA": 29, "RO": 24, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
	"TR": 26, "UA": 29,
}

// ValidIBAN reports whether s (spaces allowed) is an IBAN of a known country
// with the right length and a valid ISO 7064 mod-97 check.
func ValidIBAN(s string) bool {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			b = append(b, s[i])
		}
	}
	return validIBAN(b)
}

func validIBAN(b []byte) bool {
	if len(b) < 15 || len(b) > 34 {
		return false
	}
	if want, ok := ibanLengths[string(b[:2])]; !ok || want != len(b) {
		return false
	}
	if b[2] < '0' || b[2] > '9' || b[3] < '0' || b[3] > '9' {
		return false
	}
	r := 0
	for i := range b {
		c := b[(i+4)%len(b)]
		switch {
		case c >= '0' && c <= '9':
			r = (r*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			r = (r*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return r == 1
}

// ValidSSN reports whether s ("123-45-6789" or 9 digits) is outside the
// ranges the US Social Security Administration never assigns: area 000, 666
// and 900–999, group 00, serial 0000.
func ValidSSN(s string) bool {
	b := make([]byte, 0, 9)
	for i := 0; i < len(s); i++ {
		if s[i] != '-' && s[i] != ' ' {
			b = append(b, s[i])
		}
	}
	return validSSN(b)
}

func validSSN(b []byte) bool {
	if len(b) != 9 || !allDigits(b) {
		return false
	}
	area, group, serial := atoi(b[:3]), atoi(b[3:5]), atoi(b[5:])
	return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// ValidUSCC reports whether s is a unified social credit code (GB 32100),
// which identifies an organisation, not a person.
func ValidUSCC(s string) bool { return validUSCC([]byte(s)) }

func validUSCC(b []byte) bool {
	if len(b) != 18 {
		return false
	}
	sum := 0
	w := 1
	var v [18]int
	for i, c := range b {
		v[i] = -1
		for j := 0; j < len(usccAlphabet); j++ {
			if usccAlphabet[j] == c {
				v[i] = j
				break
			}
		}
		if v[i] < 0 {
			return false
		}
	}
	for i := range 17 {
		sum += v[i] * w
		w = w * 3 % 31
	}
	return (31-sum%31)%31 == v[17]
}

// validMacau checks the shape of a Macau ID: 8 digits starting 1, 5 or 7.
func validMacau(b []byte) bool {
	return len(b) == 8 && allDigits(b) && (b[0] == '1' || b[0] == '5' || b[0] == '7')
}

// validPassport checks the shape of a PRC passport number: E, G, D, S or P
// and 8 digits, or E, a letter other than I and O, and 7 digits.
func validPassport(b []byte) bool {
	if len(b) != 9 {
		return false
	}
	switch b[0] {
	case 'E':
		if b[1] >= 'A' && b[1] <= 'Z' && b[1] != 'I' && b[1] != 'O' {
			return allDigits(b[2:])
		}
		return allDigits(b[1:])
	case 'G', 'D', 'S', 'P':
		return allDigits(b[1:])
	}
	return false
}
