package leakcorpus

import (
	"bytes"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/text/transform"
)

// Published or widely used test vectors for the check-digit algorithms.
func TestCheckVectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"CN ID 11010519491231002X", ValidCNID("11010519491231002X")},
		{"CN ID 110105194912310021 is wrong", !ValidCNID("110105194912310021")},
		{"USCC 91350100M000100Y43", ValidUSCC("91350100M000100Y43")},
		{"USCC 91350100M000100Y44 is wrong", !ValidUSCC("91350100M000100Y44")},
		{"Luhn 4111111111111111", ValidLuhn("4111111111111111")},
		{"Luhn 378282246310005 (Amex)", ValidLuhn("378282246310005")},
		{"Luhn 4111111111111112 is wrong", !ValidLuhn("4111111111111112")},
		{"Verhoeff 236 -> 3", VerhoeffCheck("236") == '3'},
		{"Verhoeff 12345 -> 1", VerhoeffCheck("12345") == '1'},
		{"Verhoeff 2363 valid", ValidVerhoeff("2363")},
		{"Verhoeff 2364 invalid", !ValidVerhoeff("2364")},
		{"Aadhaar-format 2341 2341 2346", ValidVerhoeff("2341 2341 2346")},
		{"Aadhaar-format 4991 1866 5246", ValidVerhoeff("4991 1866 5246")},
		{"Aadhaar-format 2341 2341 2347 invalid", !ValidVerhoeff("2341 2341 2347")},
		{"CPF 111.444.777-35", ValidCPF("111.444.777-35")},
		{"CPF 111.444.777-36 is wrong", !ValidCPF("111.444.777-36")},
		{"DNI 12345678Z", ValidDNI("12345678Z")},
		{"NIE X1234567L", ValidDNI("X1234567L")},
		{"PESEL 44051401359", ValidPESEL("44051401359")},
		{"PESEL 44051401358 is wrong", !ValidPESEL("44051401358")},
		{"IBAN GB82WEST12345698765432", ValidIBAN("GB82WEST12345698765432")},
		{"IBAN DE89370400440532013000", ValidIBAN("DE89370400440532013000")},
		{"IBAN FR1420041010050500013M02606", ValidIBAN("FR1420041010050500013M02606")},
		{"IBAN check GB82", IBANCheck("GB", "WEST12345698765432") == "82"},
		{"HKID A123456(3)", HKIDCheck("A123456") == '3'},
		{"TW ID A123456789", TWIDCheck("A12345678") == '9'},
		{"VIN 1M8GDM9AXKP042788", VINCheck("1M8GDM9AXKP042788") == 'X'},
		{"VIN 11111111111111111", VINCheck("11111111111111111") == '1'},
		{"codice fiscale RSSMRA85T10A562S", ITCFCheck("RSSMRA85T10A562") == 'S'},
		{"ISBN 978-7-111-54493-7", ValidEAN13("978-7-111-54493-7")},
		{"EAN 6901234567892", ValidEAN13("6901234567892")},
		{"NIR key 1 85 05 78 006 084 -> 91", NIRKey("1850578006084") == "91"},
		{"org code M000100Y -> 4", OrgCodeCheck("M000100Y") == '4'},
	} {
		if !tc.ok {
			t.Errorf("%s: wrong", tc.name)
		}
	}
}

// Every generated value passes its own validator, and the generator is
// deterministic.
func TestGeneratedValuesValid(t *testing.T) {
	g := NewGen(7)
	for i := 0; i < 300; i++ {
		if v := g.CNID(); !ValidCNID(v) {
			t.Fatalf("CNID %s", v)
		}
		for _, sc := range []string{"unionpay16", "unionpay19", "visa16", "visa13", "mastercard", "amex", "diners", "diners300", "maestro"} {
			v := g.BankCard(sc)
			want := map[string]int{"unionpay16": 16, "unionpay19": 19, "visa16": 16, "visa13": 13, "mastercard": 16, "amex": 15, "diners": 14, "diners300": 14}[sc]
			if !ValidLuhn(v) || (want != 0 && len(v) != want) || len(v) < 12 || len(v) > 19 {
				t.Fatalf("%s %s", sc, v)
			}
		}
		if v := g.Aadhaar(); !ValidVerhoeff(v) || len(digitsOf(v)) != 12 || v[0] < '2' {
			t.Fatalf("Aadhaar %s", v)
		}
		if v := g.CPF(); !ValidCPF(v) {
			t.Fatalf("CPF %s", v)
		}
		if v := g.DNI(); !ValidDNI(v) {
			t.Fatalf("DNI %s", v)
		}
		if v := g.NIE(); !ValidDNI(v) {
			t.Fatalf("NIE %s", v)
		}
		if v := g.PESEL(); !ValidPESEL(v) {
			t.Fatalf("PESEL %s", v)
		}
		for _, cc := range []string{"DE", "GB", "FR"} {
			if v := g.IBAN(cc); !ValidIBAN(v) || v[:2] != cc {
				t.Fatalf("IBAN %s", v)
			}
		}
		if v := g.USCC(); !ValidUSCC(v) {
			t.Fatalf("USCC %s", v)
		}
		if v := g.ISBN(); !ValidEAN13(v) {
			t.Fatalf("ISBN %s", v)
		}
		if v := g.EAN13(); !ValidEAN13(v) {
			t.Fatalf("EAN %s", v)
		}
		if v := g.VIN(); VINCheck(v) != v[8] || len(v) != 17 {
			t.Fatalf("VIN %s", v)
		}
		if v := g.HKID(); HKIDCheck(v[:len(v)-3]) != v[len(v)-2] {
			t.Fatalf("HKID %s", v)
		}
		if v := g.TWID(); TWIDCheck(v[:9]) != v[9] {
			t.Fatalf("TWID %s", v)
		}
		if v := g.KRRRN(); KRRRNCheck(strings.ReplaceAll(v, "-", "")[:12]) != v[len(v)-1] {
			t.Fatalf("RRN %s", v)
		}
		if v := g.CodiceFiscale(); ITCFCheck(v[:15]) != v[15] {
			t.Fatalf("CF %s", v)
		}
		if v := digitsOf(g.NIR()); NIRKey(v[:13]) != v[13:] {
			t.Fatalf("NIR %s", v)
		}
		if v := g.SSN(); v[:3] == "000" || v[:3] == "666" || v[0] == '9' {
			t.Fatalf("SSN %s", v)
		}
		if v := g.ITIN(); v[0] != '9' || v[4] != '7' && v[4] != '8' {
			t.Fatalf("ITIN %s", v)
		}
	}
	a, b := NewGen(42), NewGen(42)
	for i := 0; i < 50; i++ {
		if x, y := a.CNName("rare"), b.CNName("rare"); x != y {
			t.Fatalf("not deterministic: %s %s", x, y)
		}
	}
}

// The corpus builds, every page decodes back to text containing what was
// planted in it as it was shown, and each value is planted once per form.
func TestCorpusConsistent(t *testing.T) {
	s, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	src := map[string]string{}
	for _, p := range s.Pages() {
		body, _, _ := s.Body(p)
		var enc Encoding
		for _, pl := range s.Planted() {
			if pl.Page == p {
				enc = pl.Encoding
				break
			}
		}
		text := body
		if c := codec(enc); c != nil {
			text, _ = io.ReadAll(transform.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte{0x84, 0x31, 0x95, 0x33})), c.NewDecoder()))
		}
		src[p] = string(text)
	}
	seen := map[string]string{}
	for _, pl := range s.Planted() {
		if !strings.Contains(src[pl.Page], pl.Shown) {
			t.Errorf("%s: %q (%s) not in the page", pl.Page, pl.Shown, pl.Form)
		}
		if prev, ok := seen[pl.Value]; ok && prev != pl.Page {
			t.Errorf("%q planted on %s and %s", pl.Value, prev, pl.Page)
		}
		seen[pl.Value] = pl.Page
	}
	// A name found on a page it was not planted on would make a search
	// ambiguous (say, a two-character name that is also a place name).
	for _, pl := range s.Planted() {
		if pl.Entity != CNName && pl.Entity != ENName {
			continue
		}
		for p, text := range src {
			if p != pl.Page && strings.Contains(text, pl.Value) {
				t.Errorf("name %q planted on %s also occurs on %s", pl.Value, pl.Page, p)
			}
		}
	}
	if n := len(s.Planted()); n < 1000 {
		t.Errorf("only %d planted values", n)
	}
	if n := len(s.Decoys()); n < 200 {
		t.Errorf("only %d decoys", n)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	for _, p := range []string{"/", "/robots.txt", s.Pages()[0], "/u/x"} {
		resp, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := 200
		if p == "/robots.txt" {
			want = 404
		}
		if resp.StatusCode != want {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	if len(s.Requests()) != 4 {
		t.Errorf("requests %v", s.Requests())
	}
}
