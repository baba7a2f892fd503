package pii

import (
	"bytes"
	"time"
)

// Validators of identifiers from outside mainland China. Each takes ASCII
// bytes with separators removed (unless it says otherwise) and is a pure
// function of its input (and of now, where a date must not lie ahead).

// vinValue is the ISO 3779 transliteration of a VIN character, or -1 for a
// character a VIN never has (I, O, Q, anything not A–Z 0–9).
func vinValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'H':
		return int(c-'A') + 1
	case c >= 'J' && c <= 'N':
		return int(c-'J') + 1
	case c == 'P':
		return 7
	case c == 'R':
		return 9
	case c >= 'S' && c <= 'Z':
		return int(c-'S') + 2
	}
	return -1
}

var vinWeights = [17]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}

// vinShape reports whether b has the shape of a VIN: 17 characters of
// A–Z (without I, O, Q) and 0–9, the last four numeric (ISO 3779 5.4).
func vinShape(b []byte) bool {
	if len(b) != 17 {
		return false
	}
	letters := 0
	for _, c := range b {
		if vinValue(c) < 0 {
			return false
		}
		if !isDigit(c) {
			letters++
		}
	}
	return letters > 0 && allDigits(b[13:])
}

// validVINCheck reports whether a VIN-shaped b has the right check
// character at position 9: Σ value·weight mod 11, 10 written as X.
func validVINCheck(b []byte) bool {
	if !vinShape(b) {
		return false
	}
	s := 0
	for i, c := range b {
		s += vinValue(c) * vinWeights[i]
	}
	want := byte('0' + s%11)
	if s%11 == 10 {
		want = 'X'
	}
	return b[8] == want
}

// ValidVIN reports whether s is a vehicle identification number with a
// valid ISO 3779 check digit.
func ValidVIN(s string) bool { return validVINCheck([]byte(s)) }

func hexVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return int(c|0x20-'a') + 10
	}
	return -1
}

// macLen returns the length of a MAC address at the start of b ("00:1A:2B:
// 3C:4D:5E", "00-1a-2b-3c-4d-5e" or Cisco "001a.2b3c.4d5e"), or 0. The
// all-zero and broadcast addresses are not personal and return 0.
func macLen(b []byte) int {
	var v [12]int
	n := 0
	switch {
	case len(b) >= 17 && (b[2] == ':' || b[2] == '-'):
		sep := b[2]
		for i := 0; i < 17; i++ {
			if i%3 == 2 {
				if b[i] != sep {
					return 0
				}
				continue
			}
			if v[n] = hexVal(b[i]); v[n] < 0 {
				return 0
			}
			n++
		}
		n = 17
	case len(b) >= 14 && b[4] == '.' && b[9] == '.':
		k := 0
		for i := 0; i < 14; i++ {
			if i == 4 || i == 9 {
				continue
			}
			if v[k] = hexVal(b[i]); v[k] < 0 {
				return 0
			}
			k++
		}
		n = 14
	default:
		return 0
	}
	zero, ff := true, true
	for _, x := range v {
		zero = zero && x == 0
		ff = ff && x == 15
	}
	if zero || ff {
		return 0
	}
	return n
}

// ValidMAC reports whether s is exactly a MAC address in one of the three
// usual notations, neither all-zero nor broadcast.
func ValidMAC(s string) bool { n := macLen([]byte(s)); return n > 0 && n == len(s) }

// shortCard reports whether the 12–15 digits of b are a payment card number:
// Amex (15, 34/37), Diners Club (14, 36, 300–305, 38–39), Visa (13, 4) or
// Maestro (12–15, 50, 56–69), with a valid Luhn check. It returns the
// issuer's usual grouping (nil where it has none) to compare with the shape.
func shortCard(b []byte) (ok bool, shapes [][]int) {
	if len(b) < 12 || len(b) > 15 || !allDigits(b) {
		return false, nil
	}
	p2 := atoi(b[:2])
	p3 := atoi(b[:3])
	switch L := len(b); {
	case L == 15 && (p2 == 34 || p2 == 37):
		shapes = shapesAmex
	case L == 14 && (p2 == 36 || p2 == 38 || p2 == 39 || p3 >= 300 && p3 <= 305):
		shapes = shapesDiners
	case L == 13 && b[0] == '4':
		shapes = shapesVisa13
	case p2 == 50 || p2 >= 56 && p2 <= 69:
		switch L {
		case 13:
			shapes = shapes13
		case 15:
			shapes = shapesAmex
		}
	default:
		return false, nil
	}
	return luhn(b), shapes
}

var (
	shapesAmex   = [][]int{{4, 6, 5}}
	shapesDiners = [][]int{{4, 6, 4}}
	shapesVisa13 = [][]int{{4, 4, 5}, {4, 3, 3, 3}}
	shapes13     = [][]int{{4, 4, 5}}
)

// ValidShortCard reports whether s (digits only) is a 12–15 digit payment
// card number (Amex, Diners Club, Visa 13, Maestro) with a valid Luhn check.
func ValidShortCard(s string) bool { ok, _ := shortCard([]byte(s)); return ok }

// validITIN reports whether the 9 digits of b are a US individual taxpayer
// identification number: 9XX, group 50–65, 70–88, 90–92 or 94–99.
func validITIN(b []byte) bool {
	if len(b) != 9 || !allDigits(b) || b[0] != '9' {
		return false
	}
	g := atoi(b[3:5])
	return g >= 50 && g <= 65 || g >= 70 && g <= 88 || g >= 90 && g <= 92 || g >= 94
}

// ValidITIN reports whether s ("9XX-XX-XXXX" or 9 digits) is a US ITIN.
func ValidITIN(s string) bool { return validITIN(stripSeps([]byte(s))) }

// usPassportShape reports whether b is 9 digits or a letter and 8 digits
// (next-generation US passport book). It has no check digit.
func usPassportShape(b []byte) bool {
	if len(b) != 9 {
		return false
	}
	if isUpper(b[0]) {
		return allDigits(b[1:])
	}
	return allDigits(b)
}

func stripSeps(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == ' ' || c == '-' || c == '.' || c == '/':
		case c == 0xC2 && i+1 < len(b) && b[i+1] == 0xB7: // '·'
			i++
		default:
			out = append(out, c)
		}
	}
	return out
}

var rrnWeights = [12]int{2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5}

// krRRN checks the 13 digits of a Korean resident registration number
// YYMMDD-GNNNNNC: a real birth date (the century from G: 9/0 1800s, 1/2/5/6
// 1900s, 3/4/7/8 2000s) not after now. check reports whether the check digit
// (11 − Σ dᵢ·wᵢ mod 11) mod 10 holds; dated reports whether the number is
// from before October 2020, when the check digit stopped being assigned.
func krRRN(b []byte, now time.Time) (shape, check, old bool) {
	if len(b) != 13 || !allDigits(b) {
		return false, false, false
	}
	var century int
	switch b[6] {
	case '9', '0':
		century = 1800
	case '1', '2', '5', '6':
		century = 1900
	case '3', '4', '7', '8':
		century = 2000
	}
	y := century + atoi(b[:2])
	m, d := atoi(b[2:4]), atoi(b[4:6])
	if century == 0 || !validDateFrom(1800, y, m, d, now) {
		return false, false, false
	}
	s := 0
	for i, w := range rrnWeights {
		s += int(b[i]-'0') * w
	}
	check = byte('0'+(11-s%11)%10) == b[12]
	old = time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Before(time.Date(2020, 10, 1, 0, 0, 0, 0, time.UTC))
	return true, check, old
}

// ValidKRRRN reports whether s ("YYMMDD-GNNNNNC" or 13 digits) is a Korean
// resident registration number with a valid check digit.
func ValidKRRRN(s string) bool {
	shape, check, _ := krRRN(stripSeps([]byte(s)), time.Now())
	return shape && check
}

// validDateFrom is validDate with another first year.
func validDateFrom(from, y, m, d int, now time.Time) bool {
	if y < from || m < 1 || m > 12 || d < 1 || d > 31 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return t.Day() == d && t.Month() == time.Month(m) && !t.After(now)
}

// Verhoeff tables (dihedral group D5).
var (
	verD = [10][10]uint8{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verP = [8][10]uint8{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
)

func verhoeff(b []byte) bool {
	c := uint8(0)
	for i := range b {
		x := b[len(b)-1-i]
		if !isDigit(x) {
			return false
		}
		c = verD[c][verP[i%8][x-'0']]
	}
	return c == 0
}

// validAadhaar reports whether the 12 digits of b are an Aadhaar number:
// first digit 2–9 and a valid Verhoeff check digit.
func validAadhaar(b []byte) bool {
	return len(b) == 12 && b[0] >= '2' && b[0] <= '9' && verhoeff(b)
}

// ValidAadhaar reports whether s (12 digits, spaces allowed) is an Aadhaar
// number with a valid Verhoeff check digit.
func ValidAadhaar(s string) bool { return validAadhaar(stripSeps([]byte(s))) }

// validCPF reports whether the 11 digits of b are a Brazilian CPF: two
// mod-11 check digits (weights 10…2 then 11…2, remainder < 2 gives 0), not
// all one digit.
func validCPF(b []byte) bool {
	if len(b) != 11 || !allDigits(b) {
		return false
	}
	same := true
	for _, c := range b[1:] {
		same = same && c == b[0]
	}
	if same {
		return false
	}
	for k := 9; k <= 10; k++ {
		s := 0
		for i := range k {
			s += int(b[i]-'0') * (k + 1 - i)
		}
		r := s % 11
		want := 0
		if r >= 2 {
			want = 11 - r
		}
		if int(b[k]-'0') != want {
			return false
		}
	}
	return true
}

// ValidCPF reports whether s ("000.000.000-00" or 11 digits) is a CPF.
func ValidCPF(s string) bool { return validCPF(stripSeps([]byte(s))) }

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// validDNI reports whether b is a Spanish DNI (8 digits and the letter
// dniLetters[n mod 23]) or NIE (X, Y or Z for 0, 1, 2, 7 digits, letter).
func validDNI(b []byte) bool {
	if len(b) != 9 {
		return false
	}
	n := 0
	switch b[0] {
	case 'X':
	case 'Y':
		n = 1
	case 'Z':
		n = 2
	default:
		if !isDigit(b[0]) {
			return false
		}
		n = int(b[0] - '0')
	}
	if !allDigits(b[1:8]) {
		return false
	}
	n = n*10000000 + atoi(b[1:8])
	return b[8] == dniLetters[n%23]
}

// ValidDNI reports whether s is a Spanish DNI or NIE ("12345678Z",
// "X1234567L"; one '-' or space before the letter allowed).
func ValidDNI(s string) bool { return validDNI(stripSeps([]byte(s))) }

// Codice fiscale tables: the value of a character in an odd (1st, 3rd, …)
// position, by 0–9 then A–Z; even positions count 0–9 and A–Z as 0–25.
var cfOdd = [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

const (
	cfMonths   = "ABCDEHLMPRST"
	cfOmocodia = "LMNPQRSTUV" // stand for 0–9 where a code collides
)

// cfDigit returns the digit c stands for in a digit position of a codice
// fiscale (a digit, or its omocodia letter), or -1.
func cfDigit(c byte) int {
	if isDigit(c) {
		return int(c - '0')
	}
	return bytes.IndexByte([]byte(cfOmocodia), c)
}

// validFiscalCode reports whether b is an Italian codice fiscale: 6
// letters, 2 digits (year), a month letter, 2 digits (day, +40 for
// women), a letter and 3 digits (place), and the check letter; digits may be
// replaced by omocodia letters.
func validFiscalCode(b []byte) bool {
	if len(b) != 16 {
		return false
	}
	for i, c := range b {
		switch i {
		case 6, 7, 9, 10, 12, 13, 14:
			if cfDigit(c) < 0 {
				return false
			}
		default:
			if !isUpper(c) {
				return false
			}
		}
	}
	if bytes.IndexByte([]byte(cfMonths), b[8]) < 0 {
		return false
	}
	day := cfDigit(b[9])*10 + cfDigit(b[10])
	if !(day >= 1 && day <= 31 || day >= 41 && day <= 71) {
		return false
	}
	s := 0
	for i, c := range b[:15] {
		v := int(c - '0')
		if isUpper(c) {
			v = int(c-'A') + 10
		}
		if i%2 == 0 {
			s += cfOdd[v]
		} else if v >= 10 {
			s += v - 10
		} else {
			s += v
		}
	}
	return b[15] == byte('A'+s%26)
}

// ValidFiscalCode reports whether s is an Italian codice fiscale.
func ValidFiscalCode(s string) bool { return validFiscalCode([]byte(s)) }

// validNIR reports whether b (15 characters, the department may be 2A or
// 2B) is a French social security number (NIR): sex 1 or 2, year, month
// 01–12 or 20 and 30–42 (unknown), department, commune, order, and the key
// 97 − (the first 13 as a number, 2A as 19 and 2B as 18) mod 97.
func validNIR(b []byte) bool {
	if len(b) != 15 || (b[0] != '1' && b[0] != '2') {
		return false
	}
	var n [13]byte
	copy(n[:], b[:13])
	switch {
	case b[5] == '2' && b[6] == 'A':
		n[5], n[6] = '1', '9'
	case b[5] == '2' && b[6] == 'B':
		n[5], n[6] = '1', '8'
	}
	if !allDigits(n[:]) || !allDigits(b[13:]) {
		return false
	}
	if m := atoi(b[3:5]); !(m >= 1 && m <= 12 || m == 20 || m >= 30 && m <= 42) {
		return false
	}
	if atoi(n[5:7]) == 0 {
		return false
	}
	r := 0
	for _, c := range n {
		r = (r*10 + int(c-'0')) % 97
	}
	return atoi(b[13:]) == 97-r
}

// ValidNIR reports whether s (spaces allowed) is a French NIR with its key.
func ValidNIR(s string) bool { return validNIR(stripSeps([]byte(s))) }

var peselWeights = [10]int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}

// validPESEL reports whether the 11 digits of b are a Polish PESEL: a real
// birth date (the month carries the century: +80 1800s, +0 1900s, +20
// 2000s, +40 2100s, +60 2200s) not after now, and the check digit
// (10 − Σ dᵢ·wᵢ mod 10) mod 10.
func validPESEL(b []byte, now time.Time) bool {
	if len(b) != 11 || !allDigits(b) {
		return false
	}
	y, m, d := atoi(b[:2]), atoi(b[2:4]), atoi(b[4:6])
	switch {
	case m > 80:
		y, m = y+1800, m-80
	case m > 60:
		y, m = y+2200, m-60
	case m > 40:
		y, m = y+2100, m-40
	case m > 20:
		y, m = y+2000, m-20
	default:
		y += 1900
	}
	if !validDateFrom(1800, y, m, d, now) {
		return false
	}
	s := 0
	for i, w := range peselWeights {
		s += int(b[i]-'0') * w
	}
	return int(b[10]-'0') == (10-s%10)%10
}

// ValidPESEL reports whether s is a Polish PESEL number.
func ValidPESEL(s string) bool { return validPESEL([]byte(s), time.Now()) }

// cnPlateProvince reports the length of a province abbreviation of a
// mainland licence plate at the start of b, or 0.
func cnPlateProvince(b []byte) int {
	if len(b) < 3 || b[0] < 0xE4 || b[0] > 0xE9 {
		return 0
	}
	if bytes.Contains([]byte(plateProvinces), b[:3]) {
		return 3
	}
	return 0
}

const plateProvinces = "京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川贵云陕甘青蒙桂藏宁新"

func plateChar(c byte) bool { return isDigit(c) || isUpper(c) && c != 'I' && c != 'O' }

// validCNPlate reports whether b (the issuing-authority letter and the
// serial, separators removed) is a mainland plate after the province: an
// ordinary plate (letter, 5 of A–Z without I/O and 0–9, at most 2 letters,
// at least one digit) or a new-energy plate (letter, 6 characters: D or F,
// a letter or digit and 4 digits for small cars; 5 digits and D or F for
// large ones).
func validCNPlate(b []byte) bool {
	if len(b) < 6 || len(b) > 7 || !isUpper(b[0]) || b[0] == 'I' || b[0] == 'O' {
		return false
	}
	ser := b[1:]
	for _, c := range ser {
		if !plateChar(c) {
			return false
		}
	}
	if len(ser) == 6 {
		small := (ser[0] == 'D' || ser[0] == 'F') && allDigits(ser[2:])
		large := allDigits(ser[:5]) && (ser[5] == 'D' || ser[5] == 'F')
		return small || large
	}
	letters := 0
	for _, c := range ser {
		if isUpper(c) {
			letters++
		}
	}
	return letters <= 2
}

// ValidCNPlate reports whether s is a mainland licence plate such as
// "京A12345", "京A·12345" or "粤BD12345".
func ValidCNPlate(s string) bool {
	b := []byte(s)
	p := cnPlateProvince(b)
	if p == 0 {
		return false
	}
	return validCNPlate(stripSeps(b[p:]))
}

// plateShape reports whether b (separators removed) could be a plate of
// another region: 4–8 letters and digits with at least one of each. It is
// used only after a plate context word.
func plateShape(b []byte) bool {
	if len(b) < 4 || len(b) > 8 {
		return false
	}
	l, d := 0, 0
	for _, c := range b {
		switch {
		case isDigit(c):
			d++
		case isUpper(c):
			l++
		default:
			return false
		}
	}
	return l > 0 && d > 0
}
