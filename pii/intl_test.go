package pii

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// The vectors below were checked by an independent implementation (a
// Python script written from the specifications, not from this code); the
// comments give the arithmetic for the ones public sources quote.

func TestValidVIN(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		// Σ value·weight = 351, 351 mod 11 = 10 → 'X' at position 9.
		{"1M8GDM9AXKP042788", true},
		{"JH4KA7561PC008269", true},
		{"1M8GDM9AXKP042789", false}, // last digit changed
		{"1M8GDM9AXKP042878", false}, // transposed
		{"1M8GDM9A1KP042788", false}, // bad check
		{"1M8GDM9AXKP04278", false},  // 16 characters
		{"1M8GDM9AXKQ042788", false}, // Q never appears
		{"11111111111111111", false}, // passes the check, but no letter: not a real VIN
		{"WVWZZZ1JZXW000001", false}, // European VIN without a check digit (scanned only with context)
		{"1M8GDM9AXKP0427AB", false}, // last four not numeric
	} {
		if got := ValidVIN(c.s); got != c.want {
			t.Errorf("ValidVIN(%q) = %v, want %v", c.s, got, c.want)
		}
	}
	if !vinShape([]byte("WVWZZZ1JZXW000001")) {
		t.Error("vinShape(WVWZZZ1JZXW000001) = false")
	}
}

func TestValidMAC(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"00:1A:2B:3C:4D:5E", true},
		{"3c-22-fb-11-22-33", true},
		{"001a.2b3c.4d5e", true},
		{"00:00:00:00:00:00", false},
		{"FF:FF:FF:FF:FF:FF", false},
		{"ff-ff-ff-ff-ff-ff", false},
		{"00:1A-2B:3C:4D:5E", false}, // mixed separators
		{"00:1A:2B:3C:4D:5G", false},
		{"00:1A:2B:3C:4D", false},
		{"12:30:45", false},
	} {
		if got := ValidMAC(c.s); got != c.want {
			t.Errorf("ValidMAC(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestValidShortCard(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"378282246310005", true},  // Amex test number
		{"371449635398431", true},  // Amex test number
		{"30569309025904", true},   // Diners Club test number
		{"38520000023237", true},   // Diners Club test number
		{"4222222222222", true},    // Visa 13 test number
		{"5018123412345", true},    // Maestro 13, Luhn checked
		{"378282246310006", false}, // one digit changed
		{"378282246301005", false}, // transposed
		{"4222222222223", false},
		{"1700000000000", false}, // timestamp: no issuer
		{"9781234567897", false}, // ISBN-13: no issuer
		{"4006381333931", false}, // EAN-13 (German prefix), Luhn fails
		{"30569309025905", false},
		{"3782822463100050", false}, // 16 digits: validCard's business
	} {
		if got := ValidShortCard(c.s); got != c.want {
			t.Errorf("ValidShortCard(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestValidITIN(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"912-70-1234", true}, {"900-50-0000", true}, {"999-99-9999", true}, {"912-65-1234", true},
		{"912-93-1234", false}, {"912-66-1234", false}, {"912-49-1234", false}, {"812-70-1234", false}, {"912-70-123", false},
	} {
		if got := ValidITIN(c.s); got != c.want {
			t.Errorf("ValidITIN(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestKRRRN(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		s                 string
		shape, check, old bool
	}{
		// 9·2+0·3+0·4+1·5+0·6+1·7+1·8+2·9+3·2+4·3+5·4+6·5 = 124; 124 mod 11 = 3; 11−3 = 8.
		{"9001011234568", true, true, true},
		{"9001011234567", true, false, true}, // bad check
		{"9010011234568", true, false, true}, // transposed date digits
		{"2101013123456", true, false, false},
		{"9013011234568", false, false, false}, // month 13
		{"9001014234568", false, false, false}, // 2090: in the future
		{"9001011234A68", false, false, false},
	} {
		shape, check, old := krRRN([]byte(c.s), now)
		if shape != c.shape || check != c.check || (shape && old != c.old) {
			t.Errorf("krRRN(%q) = %v %v %v, want %v %v %v", c.s, shape, check, old, c.shape, c.check, c.old)
		}
	}
}

func TestValidAadhaar(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"2341 2341 2346", true}, {"499182211238", true}, {"999911112221", true},
		{"2341 2341 2347", false}, // one digit changed
		{"2341 2341 2364", false}, // transposed
		{"0341 2341 2346", false}, // starts with 0
		{"134123412346", false},   // starts with 1
		{"23412341234", false},
	} {
		if got := ValidAadhaar(c.s); got != c.want {
			t.Errorf("ValidAadhaar(%q) = %v, want %v", c.s, got, c.want)
		}
	}
	if !verhoeff([]byte("2363")) { // the textbook example: check digit 3 for 236
		t.Error("verhoeff(2363) = false")
	}
}

func TestValidCPF(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		// 1·10+1·9+1·8+4·7+4·6+4·5+7·4+7·3+7·2 = 162, 162 mod 11 = 8 → 3;
		// then weights 11…2 over 1114447773: 204, 204 mod 11 = 6 → 5.
		{"111.444.777-35", true},
		{"52998224725", true},
		{"111.444.777-36", false}, // bad check
		{"111.444.777-53", false}, // transposed check digits
		{"111.444.774-75", false}, // one digit changed
		{"111.111.111-11", false}, // all one digit
		{"000.000.000-00", false},
	} {
		if got := ValidCPF(c.s); got != c.want {
			t.Errorf("ValidCPF(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestValidDNI(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		// 12345678 mod 23 = 14 → Z.
		{"12345678Z", true}, {"12345678-Z", true}, {"00000000T", true},
		{"X1234567L", true}, {"Y1234567X", true}, {"Z1234567R", true},
		{"12345678A", false}, {"12345687Z", false}, {"X1234567T", false}, {"A1234567L", false}, {"1234567Z", false},
	} {
		if got := ValidDNI(c.s); got != c.want {
			t.Errorf("ValidDNI(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestValidFiscalCode(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"RSSMRA85T10A562S", true},
		{"MRTMTT91D08F205J", true},
		{"RSSMRA85T10A56NH", true},  // omocodia: N for 2, check recomputed
		{"RSSMRA85T10A562T", false}, // bad check
		{"RSSMRA85T10A526S", false}, // transposed
		{"RSSMRA85T10A563S", false}, // one digit changed
		{"RSSMRA85X10A562S", false}, // no month X
		{"RSSMRA85T35A562S", false}, // day 35
		{"RSSMRA85T10A562", false},
	} {
		if got := ValidFiscalCode(c.s); got != c.want {
			t.Errorf("ValidFiscalCode(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestValidNIR(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		// 2840569123456 mod 97 = 57, 97 − 57 = 40. The often-quoted key
		// "85" for this number is wrong.
		{"2 84 05 69 123 456 40", true},
		{"2 84 05 69 123 456 85", false},
		{"1 85 05 78 006 084 91", true},
		{"1 84 05 2A 123 456 82", true}, // Corsica: 2A counts as 19
		{"1 84 05 2B 123 456 12", true}, // 2B counts as 18
		{"1 84 05 2A 123 456 12", false},
		{"2 84 05 69 123 465 40", false}, // transposed
		{"3 84 05 69 123 456 40", false}, // sex 3
		{"2 84 13 69 123 456 40", false}, // month 13
	} {
		if got := ValidNIR(c.s); got != c.want {
			t.Errorf("ValidNIR(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestValidPESEL(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		s    string
		want bool
	}{
		// 4·1+4·3+0·7+5·9+1·1+4·3+0·7+1·9+3·1+5·3 = 101; (10 − 1) mod 10 = 9.
		{"44051401359", true},
		{"02070803628", true},
		{"02270803624", true},  // 2002-07-08 (month + 20)
		{"44051401358", false}, // bad check
		{"44051401395", false}, // transposed
		{"44051041359", false}, // day 50 after transposition
		{"44133101359", false}, // month 13
		{"4405140135", false},
	} {
		if got := validPESEL([]byte(c.s), now); got != c.want {
			t.Errorf("validPESEL(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestValidCNPlate(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"京A12345", true}, {"京A·12345", true}, {"沪B 8K88Q", true}, {"粤BD12345", true}, {"粤B12345F", true},
		{"京AAB123", true},
		{"京A1234", false}, {"京AABC12", false}, {"京I12345", false}, {"京A1O345", false}, {"粤BX12345", false},
		{"港A12345", false}, {"京A123456", false},
	} {
		if got := ValidCNPlate(c.s); got != c.want {
			t.Errorf("ValidCNPlate(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

// BenchmarkValidPhone measures one libphonenumber validation, the cost the
// scanner pays per phone candidate that passed its cheap filters.
func BenchmarkValidPhone(b *testing.B) {
	defer cpuPerOp(b)()
	for b.Loop() {
		validPhone("09012345678", "JP")
		validPhone("+447911123456", "")
	}
}

// TestValidPhoneFast checks the fast path against libphonenumber's own
// parser on the vectors and on random numbers of each region: the fast path
// never accepts what the parser rejects, and phoneValid (fast path, then
// the parser) always agrees with it.
func TestValidPhoneFast(t *testing.T) {
	check := func(num, region string) {
		t.Helper()
		d := []byte(num)
		in := num
		if region == "" {
			in = "+" + num
		}
		if (region == "US" || region == "CA") && !regionFits(regionUS, d) {
			return // never asked: the scanner's filter rejects them
		}
		_, want := validPhone(in, region)
		if want && (region == "US" || region == "CA") {
			// National NANP numbers are checked against US and CA only.
			want = ValidPhone(in, "US") && (ValidPhoneRegion(in, "US") || ValidPhoneRegion(in, "CA"))
		}
		if _, fast := validPhoneFast(d, region); fast && !want {
			t.Errorf("validPhoneFast(%q, %q) = true, libphonenumber says false", num, region)
		}
		if _, got := phoneValid(d, region); got != want {
			t.Errorf("phoneValid(%q, %q) = %v, libphonenumber says %v", num, region, got, want)
		}
	}
	for _, c := range [][2]string{
		{"14156022671", ""}, {"4156022671", "US"}, {"0912345678", "TW"}, {"85291234567", ""}, {"91234567", "HK"},
		{"09012345678", "JP"}, {"01012345678", "KR"}, {"447911123456", ""}, {"4915123456789", ""}, {"0612345678", "FR"},
		{"02079460958", "GB"}, {"390612345678", ""}, {"0612345678", "IT"}, {"3471234567", "IT"}, {"612345678", "ES"},
		{"0201234567", "NL"}, {"512345678", "PL"}, {"8613800138000", ""}, {"4000000000", "US"}, {"0000000000", "FR"},
	} {
		check(c[0], c[1])
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, reg := range phoneRegions[1:] {
		for range 6000 {
			n := 8 + r.IntN(5)
			b := make([]byte, n)
			for i := range b {
				b[i] = byte('0' + r.IntN(10))
			}
			if r.IntN(2) == 0 {
				b[0] = '0'
			}
			check(string(b), reg)
		}
	}
	for range 20000 {
		n := 9 + r.IntN(6)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		b[0] = byte('1' + r.IntN(9))
		check(string(b), "")
	}
}

func BenchmarkValidPhoneFast(b *testing.B) {
	defer cpuPerOp(b)()
	for b.Loop() {
		validPhoneFast([]byte("09012345678"), "JP")
		validPhoneFast([]byte("447911123456"), "")
	}
}

// cpuPerOp reports CPU nanoseconds per operation (two validations), which
// a busy machine does not inflate as it does wall time.
func cpuPerOp(b *testing.B) func() {
	start := cpuTime(b)
	return func() { b.ReportMetric(float64((cpuTime(b)-start).Nanoseconds())/float64(b.N), "cpu-ns/op") }
}

// ValidPhoneRegion reports whether s is valid in region itself.
func ValidPhoneRegion(s, region string) bool {
	p, err := phonenumbers.Parse(s, region)
	return err == nil && phonenumbers.IsValidNumberForRegion(p, region)
}

// TestNANPArea checks that what nanpArea rejects libphonenumber rejects too.
func TestNANPArea(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		b := make([]byte, 10)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		switch r.IntN(3) {
		case 0:
			copy(b, "400")
		case 1:
			b[1] = '9'
		}
		if !nanpArea(b) && (ValidPhoneRegion(string(b), "US") || ValidPhoneRegion(string(b), "CA")) {
			t.Errorf("nanpArea(%s) = false, libphonenumber says valid", b)
		}
	}
}
