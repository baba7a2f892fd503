package leakcorpus

import (
	"math/big"
	"strings"
)

// This file holds the check-digit algorithms the generator uses. They are
// written from the published standards, independently of goodbot's pii
// package, so that the corpus does not inherit that package's mistakes.

// digitsOf returns the decimal digits of s, ignoring everything else.
func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// CNIDCheck returns the GB 11643 check character for the first 17 digits of
// a mainland resident identity number.
func CNIDCheck(first17 string) byte {
	w := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * w[i]
	}
	return "10X98765432"[sum%11]
}

// ValidCNID reports whether id is 18 characters with a correct check character.
func ValidCNID(id string) bool {
	if len(id) != 18 {
		return false
	}
	for i := 0; i < 17; i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	c := id[17]
	if c == 'x' {
		c = 'X'
	}
	return CNIDCheck(id[:17]) == c
}

// LuhnCheck returns the Luhn check digit to append to the digits of s.
func LuhnCheck(s string) byte {
	d := digitsOf(s)
	sum := 0
	double := true
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// ValidLuhn reports whether the digits of s pass the Luhn test.
func ValidLuhn(s string) bool {
	d := digitsOf(s)
	if len(d) < 2 {
		return false
	}
	return LuhnCheck(d[:len(d)-1]) == d[len(d)-1]
}

var (
	verhoeffD = [10][10]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
		{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
		{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
		{4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
		{7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
	verhoeffInv = [10]int{0, 4, 3, 2, 1, 5, 6, 7, 8, 9}
)

// VerhoeffCheck returns the Verhoeff check digit to append to the digits of s.
func VerhoeffCheck(s string) byte {
	d := digitsOf(s)
	c := 0
	for i := 0; i < len(d); i++ {
		c = verhoeffD[c][verhoeffP[(i+1)%8][int(d[len(d)-1-i]-'0')]]
	}
	return byte('0' + verhoeffInv[c])
}

// ValidVerhoeff reports whether the digits of s pass the Verhoeff test.
func ValidVerhoeff(s string) bool {
	d := digitsOf(s)
	c := 0
	for i := 0; i < len(d); i++ {
		c = verhoeffD[c][verhoeffP[i%8][int(d[len(d)-1-i]-'0')]]
	}
	return len(d) > 1 && c == 0
}

// CPFChecks returns the two check digits of a Brazilian CPF whose first nine
// digits are given.
func CPFChecks(nine string) string {
	d := digitsOf(nine)
	calc := func(s string) byte {
		sum := 0
		w := len(s) + 1
		for i := 0; i < len(s); i++ {
			sum += int(s[i]-'0') * (w - i)
		}
		r := sum * 10 % 11
		if r == 10 {
			r = 0
		}
		return byte('0' + r)
	}
	d1 := calc(d)
	d2 := calc(d + string(d1))
	return string([]byte{d1, d2})
}

// ValidCPF reports whether the 11 digits of s carry correct check digits.
func ValidCPF(s string) bool {
	d := digitsOf(s)
	return len(d) == 11 && CPFChecks(d[:9]) == d[9:]
}

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// DNILetter returns the control letter of a Spanish DNI number (or of a NIE
// whose initial X, Y or Z has been replaced by 0, 1 or 2).
func DNILetter(n int) byte { return dniLetters[n%23] }

// ValidDNI reports whether s is 8 digits followed by the right letter, or a
// NIE (X, Y or Z, 7 digits, letter), ignoring a hyphen or space before the letter.
func ValidDNI(s string) bool {
	s = strings.NewReplacer("-", "", " ", "").Replace(strings.ToUpper(s))
	if len(s) != 9 {
		return false
	}
	switch s[0] {
	case 'X':
		s = "0" + s[1:]
	case 'Y':
		s = "1" + s[1:]
	case 'Z':
		s = "2" + s[1:]
	}
	n := 0
	for i := 0; i < 8; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return DNILetter(n) == s[8]
}

// PESELCheck returns the check digit of a Polish PESEL's first ten digits.
func PESELCheck(ten string) byte {
	w := [10]int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}
	sum := 0
	for i := 0; i < 10; i++ {
		sum += int(ten[i]-'0') * w[i]
	}
	return byte('0' + (10-sum%10)%10)
}

// ValidPESEL reports whether s is 11 digits with a correct check digit.
func ValidPESEL(s string) bool {
	return len(s) == 11 && digitsOf(s) == s && PESELCheck(s[:10]) == s[10]
}

// ibanNumber turns an IBAN (without spaces) rearranged for the mod-97 test
// into its integer form.
func ibanMod97(s string) int {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteString(itoa(int(r-'A') + 10))
		}
	}
	n, _ := new(big.Int).SetString(b.String(), 10)
	return int(new(big.Int).Mod(n, big.NewInt(97)).Int64())
}

// IBANCheck returns the two check digits of an IBAN with country code cc and
// basic bank account number bban.
func IBANCheck(cc, bban string) string {
	r := ibanMod97(bban + cc + "00")
	c := 98 - r
	return string([]byte{byte('0' + c/10), byte('0' + c%10)})
}

// ValidIBAN reports whether s (spaces allowed) passes the ISO 13616 mod-97 test.
func ValidIBAN(s string) bool {
	s = strings.ReplaceAll(strings.ToUpper(s), " ", "")
	if len(s) < 15 {
		return false
	}
	return ibanMod97(s[4:]+s[:4]) == 1
}

// FRRIBKey returns the two-digit key of a French RIB (all-digit account).
func FRRIBKey(bank, branch, account string) string {
	n, _ := new(big.Int).SetString(bank+branch+account+"00", 10)
	r := int(new(big.Int).Mod(n, big.NewInt(97)).Int64())
	k := 97 - r
	return string([]byte{byte('0' + k/10), byte('0' + k%10)})
}

// NIRKey returns the key of a French NIR whose 13 digits are given:
// 97 − (n mod 97).
func NIRKey(thirteen string) string {
	n, _ := new(big.Int).SetString(thirteen, 10)
	k := 97 - int(new(big.Int).Mod(n, big.NewInt(97)).Int64())
	return string([]byte{byte('0' + k/10), byte('0' + k%10)})
}

// HKIDCheck returns the check character of a Hong Kong identity card number
// (one or two letters followed by six digits).
func HKIDCheck(body string) byte {
	if len(body) == 7 {
		body = " " + body
	}
	sum := 0
	for i := 0; i < 8; i++ {
		c := body[i]
		v := 0
		switch {
		case c == ' ':
			v = 36
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			v = int(c - '0')
		}
		sum += v * (9 - i)
	}
	r := (11 - sum%11) % 11
	if r == 10 {
		return 'A'
	}
	return byte('0' + r)
}

// twLetter maps the first letter of a Taiwan ID to its two-digit value.
var twLetter = map[byte]int{
	'A': 10, 'B': 11, 'C': 12, 'D': 13, 'E': 14, 'F': 15, 'G': 16, 'H': 17, 'I': 34,
	'J': 18, 'K': 19, 'L': 20, 'M': 21, 'N': 22, 'O': 35, 'P': 23, 'Q': 24, 'R': 25,
	'S': 26, 'T': 27, 'U': 28, 'V': 29, 'W': 32, 'X': 30, 'Y': 31, 'Z': 33,
}

// TWIDCheck returns the check digit of a Taiwan national ID whose letter and
// first eight digits are given.
func TWIDCheck(nine string) byte {
	v := twLetter[nine[0]]
	sum := v/10 + (v%10)*9
	for i := 1; i < 9; i++ {
		sum += int(nine[i]-'0') * (9 - i)
	}
	return byte('0' + (10-sum%10)%10)
}

// KRRRNCheck returns the check digit of a Korean resident registration number
// whose first 12 digits are given.
func KRRRNCheck(twelve string) byte {
	w := [12]int{2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5}
	sum := 0
	for i := 0; i < 12; i++ {
		sum += int(twelve[i]-'0') * w[i]
	}
	return byte('0' + (11-sum%11)%10)
}

// VINCheck returns the ISO 3779 (North American) check character of a
// 17-character VIN; the character at position 9 is ignored.
func VINCheck(vin string) byte {
	const letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
	vals := [...]int{1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9}
	w := [17]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		c := vin[i]
		v := 0
		if c >= '0' && c <= '9' {
			v = int(c - '0')
		} else if j := strings.IndexByte(letters, c); j >= 0 {
			v = vals[j]
		}
		sum += v * w[i]
	}
	r := sum % 11
	if r == 10 {
		return 'X'
	}
	return byte('0' + r)
}

// ITCFCheck returns the check character of an Italian codice fiscale whose
// first 15 characters are given.
func ITCFCheck(fifteen string) byte {
	odd := [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
		1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}
	sum := 0
	for i := 0; i < 15; i++ {
		c := fifteen[i]
		idx := 0
		if c >= '0' && c <= '9' {
			idx = int(c - '0')
		} else {
			idx = int(c-'A') + 10
		}
		if i%2 == 0 { // 1st, 3rd, ... (odd positions counted from 1)
			sum += odd[idx]
		} else if c >= '0' && c <= '9' {
			sum += int(c - '0')
		} else {
			sum += int(c - 'A')
		}
	}
	return byte('A' + sum%26)
}

// OrgCodeCheck returns the GB 11714 check character of an eight-character
// organisation code.
func OrgCodeCheck(eight string) byte {
	w := [8]int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 8; i++ {
		sum += alnumValue(eight[i]) * w[i]
	}
	c := 11 - sum%11
	switch c {
	case 10:
		return 'X'
	case 11:
		return '0'
	}
	return byte('0' + c)
}

func alnumValue(c byte) int {
	if c >= '0' && c <= '9' {
		return int(c - '0')
	}
	return int(c-'A') + 10
}

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// USCCCheck returns the GB 32100 check character of a unified social credit
// code whose first 17 characters are given.
func USCCCheck(seventeen string) byte {
	w := [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(usccChars, seventeen[i]) * w[i]
	}
	return usccChars[(31-sum%31)%31]
}

// ValidUSCC reports whether s is a unified social credit code whose
// organisation code and final check characters are both right.
func ValidUSCC(s string) bool {
	if len(s) != 18 {
		return false
	}
	for i := 0; i < 18; i++ {
		if strings.IndexByte(usccChars, s[i]) < 0 {
			return false
		}
	}
	return OrgCodeCheck(s[8:16]) == s[16] && USCCCheck(s[:17]) == s[17]
}

// EANCheck returns the check digit of an EAN-13 or ISBN-13 whose first 12
// digits are given.
func EANCheck(twelve string) byte {
	d := digitsOf(twelve)
	sum := 0
	for i := 0; i < 12; i++ {
		n := int(d[i] - '0')
		if i%2 == 1 {
			n *= 3
		}
		sum += n
	}
	return byte('0' + (10-sum%10)%10)
}

// ValidEAN13 reports whether the 13 digits of s carry a correct check digit.
func ValidEAN13(s string) bool {
	d := digitsOf(s)
	return len(d) == 13 && EANCheck(d[:12]) == d[12]
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
