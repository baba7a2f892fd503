package pii

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

func TestValidators(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) bool
		in   string
		want bool
	}{
		{"id18 reference", ValidCNResidentID18, "11010519491231002X", true},
		{"id18 lower x", ValidCNResidentID18, "11010519491231002x", true},
		{"id18 shenzhen", ValidCNResidentID18, "44030419900307123X", true},
		{"id18 leap day", ValidCNResidentID18, "310101200002294569", true},
		{"id18 chengdu", ValidCNResidentID18, "510107198511110014", true},
		{"id18 bad check", ValidCNResidentID18, "110105194912310021", false},
		{"id18 bad date", ValidCNResidentID18, "110105194913310020", false},
		{"id18 not leap", ValidCNResidentID18, "310101200102294568", false},
		{"id18 bad province", ValidCNResidentID18, "990105194912310025", false},
		{"id18 future", ValidCNResidentID18, "110105209912310021", false},
		{"id18 short", ValidCNResidentID18, "11010519491231002", false},
		{"id15", ValidCNResidentID15, "110105491231002", true},
		{"id15 bad month", ValidCNResidentID15, "110105491331002", false},
		{"id15 bad province", ValidCNResidentID15, "000105491231002", false},
		{"mobile 138", ValidCNMobile, "13812345678", true},
		{"mobile 199", ValidCNMobile, "19912345678", true},
		{"mobile 166", ValidCNMobile, "16612345678", true},
		{"mobile 17400", ValidCNMobile, "17400123456", true},
		{"mobile 17406 unassigned", ValidCNMobile, "17406123456", false},
		{"mobile 154 unassigned", ValidCNMobile, "15412345678", false},
		{"mobile 160 unassigned", ValidCNMobile, "16012345678", false},
		{"mobile 194 unassigned", ValidCNMobile, "19412345678", false},
		{"mobile 144 unassigned", ValidCNMobile, "14412345678", false},
		{"mobile 179 unassigned", ValidCNMobile, "17912345678", false},
		{"mobile short", ValidCNMobile, "1381234567", false},
		{"luhn visa", ValidLuhn, "4111111111111111", true},
		{"luhn bad", ValidLuhn, "4111111111111112", false},
		{"card unionpay 19", ValidBankCard, "6222021234567890128", true},
		{"card unionpay 16", ValidBankCard, "6217001234567893", true},
		{"card unionpay 18", ValidBankCard, "621483012345678902", true},
		{"card luhn fail", ValidBankCard, "6222021234567890127", false},
		{"card 15 digits", ValidBankCard, "378282246310005", false},
		{"card bad prefix", ValidBankCard, "1000000000000009", false},
		{"hkid", ValidHKID, "A123456(3)", true},
		{"hkid plain", ValidHKID, "A1234563", true},
		{"hkid two letters", ValidHKID, "AB123456(9)", true},
		{"hkid C668673(5)", ValidHKID, "C668673(5)", true},
		{"hkid bad", ValidHKID, "A123456(4)", false},
		{"twid", ValidTWID, "A123456789", true},
		{"twid F", ValidTWID, "F223456713", true},
		{"twid bad", ValidTWID, "A123456788", false},
		{"twid bad gender", ValidTWID, "A323456789", false},
		{"iban de", ValidIBAN, "DE89370400440532013000", true},
		{"iban de spaced", ValidIBAN, "DE89 3704 0044 0532 0130 00", true},
		{"iban gb", ValidIBAN, "GB82WEST12345698765432", true},
		{"iban bad check", ValidIBAN, "DE88370400440532013000", false},
		{"iban bad length", ValidIBAN, "DE8937040044053201300", false},
		{"ssn", ValidSSN, "123-45-6789", true},
		{"ssn area 000", ValidSSN, "000-45-6789", false},
		{"ssn area 666", ValidSSN, "666-45-6789", false},
		{"ssn area 9xx", ValidSSN, "900-45-6789", false},
		{"ssn group 00", ValidSSN, "123-00-6789", false},
		{"ssn serial 0000", ValidSSN, "123-45-0000", false},
		{"uscc", ValidUSCC, "91350100M000100Y43", true},
		{"uscc bad", ValidUSCC, "91350100M000100Y44", false},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%s: valid(%q) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestLandline(t *testing.T) {
	tests := []struct {
		area, sub string
		want      bool
	}{
		{"010", "88886666", true},
		{"021", "62345678", true},
		{"0755", "86543210", true},
		{"0755", "8654321", true},
		{"010", "8888666", false}, // Beijing numbers have 8 digits
		{"0755", "06543210", false},
		{"0755", "16543210", false},
		{"011", "88886666", false},
		{"0755", "865432101", false},
	}
	for _, tt := range tests {
		if got := validLandline([]byte(tt.area), []byte(tt.sub)); got != tt.want {
			t.Errorf("validLandline(%s, %s) = %v, want %v", tt.area, tt.sub, got, tt.want)
		}
	}
}

func TestValidDateNotFuture(t *testing.T) {
	now := time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)
	if !validDate(2020, 5, 31, now) || validDate(2020, 6, 2, now) || validDate(1899, 1, 1, now) {
		t.Error("validDate does not bound dates by [1900, now]")
	}
}

// libphonenumberCNMobile is the CN mobile national-number pattern of
// libphonenumber's metadata, as github.com/nyaruka/phonenumbers v1.8.1
// carries it (checked 2026-11-23).
const libphonenumberCNMobile = `1740[0-5]\d{6}|1(?:[38]\d|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])\d{8}`

// TestMobileRangesMatchLibphonenumber compares the hand-written range
// table with the metadata pattern on every 5-digit prefix.
func TestMobileRangesMatchLibphonenumber(t *testing.T) {
	re := regexp.MustCompile(`^(?:` + libphonenumberCNMobile + `)$`)
	for p := 10000; p < 20000; p++ {
		for _, tail := range []string{"000000", "123456", "999999"} {
			n := strconv.Itoa(p) + tail
			if got, want := ValidCNMobile(n), re.MatchString(n); got != want {
				t.Fatalf("ValidCNMobile(%s) = %v, libphonenumber says %v", n, got, want)
			}
		}
	}
}
