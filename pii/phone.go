package pii

import (
	"bytes"
	"strconv"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"
)

// Phone numbers outside the mainland are validated against libphonenumber's
// metadata (github.com/nyaruka/phonenumbers), which follows number-plan
// changes upstream. It is called only on candidates the scanner has already
// shaped: a digit run with a '+' prefix, or a national-format run with a
// region cue or a phone context word nearby. A call costs microseconds, so
// never per byte.

// phoneRegions are the regions whose national formats are recognised,
// indexed by lexEntry.region; 0 is no region.
var phoneRegions = [...]string{"", "US", "TW", "HK", "JP", "KR", "GB", "DE", "FR", "IT", "ES", "NL", "PL", "AT", "CH", "CA", "MO", "SG"}

const (
	regionNone = iota
	regionUS
	regionTW
	regionHK
	regionJP
	regionKR
	regionGB
	regionDE
	regionFR
)

// regionWords are the words that name a region (its country, capital, or a
// phone word of its language) for national-format phone numbers.
var regionWords = [len(phoneRegions)]string{
	1:  "usa|united states|美国|美國|america",
	2:  "台湾|台灣|臺灣|taiwan|台北|臺北|taipei|高雄",
	3:  "香港|hong kong|hongkong|九龍|九龙|kowloon",
	4:  "日本|japan|東京|东京|tokyo|大阪|osaka|電話番号|携帯",
	5:  "韩国|韓國|한국|korea|서울|seoul|전화번호|휴대폰",
	6:  "uk|united kingdom|英国|英國|london|伦敦|england|britain|scotland",
	7:  "germany|deutschland|德国|德國|berlin|münchen|munich|telefon|handy",
	8:  "france|法国|法國|paris|巴黎|téléphone|tél|portable",
	9:  "italia|italy|意大利|roma|milano|cellulare",
	10: "españa|spain|西班牙|madrid|barcelona|teléfono|móvil",
	11: "netherlands|nederland|荷兰|amsterdam",
	12: "polska|poland|波兰|warszawa|warsaw",
	13: "österreich|austria|奥地利|wien|vienna",
	14: "schweiz|switzerland|suisse|瑞士|zürich|zurich",
	15: "canada|加拿大|toronto|vancouver",
	16: "澳门|澳門|macau|macao",
	17: "新加坡|singapore",
}

// phoneTryOrder is the order in which regions are tried for a national
// number that has a phone context word but no region cue.
var phoneTryOrder = [...]uint8{regionTW, regionJP, regionKR, regionGB, regionDE, regionFR}

// validPhone reports whether num (digits, with a leading '+' for the
// international format) is a valid number of region (ignored after '+'),
// and returns its country calling code.
func validPhone(num string, region string) (int, bool) {
	p, err := phonenumbers.Parse(num, region)
	if err != nil {
		return 0, false
	}
	if !phonenumbers.IsValidNumber(p) {
		return 0, false
	}
	return int(p.GetCountryCode()), true
}

// phonePossible reports whether digits d (international after '+' when
// region is "", else national in region) have a length the region's plan
// allows, whether or not the range is assigned yet, and returns the country
// calling code. Allocations change and libphonenumber lags behind them, so
// a number with strong evidence that it is one ('+' and a country code, a
// phone word, its region named next to it) needs only this.
func phonePossible(d []byte, region string) (int, bool) {
	var b [20]byte
	num := b[:0]
	if region == "" {
		num = append(num, '+')
	}
	p, err := phonenumbers.Parse(string(append(num, d...)), region)
	if err != nil || !phonenumbers.IsPossibleNumber(p) {
		return 0, false
	}
	return int(p.GetCountryCode()), true
}

// ValidPhone reports whether s is a valid phone number: international
// ("+44 7911 123456") or national in region ("090-1234-5678", "JP").
func ValidPhone(s, region string) bool { _, ok := validPhone(s, region); return ok }

// regionFits is the cheap test before libphonenumber: whether national
// digits d have a length and leading digit that region r's plan allows.
func regionFits(r uint8, d []byte) bool {
	L := len(d)
	trunk := d[0] == '0'
	switch phoneRegions[r] {
	case "US", "CA":
		if L == 11 && d[0] == '1' {
			d, L = d[1:], 10
		}
		return L == 10 && nanpArea(d)
	case "HK", "MO", "SG":
		return L == 8 && !trunk
	case "TW":
		return trunk && L >= 9 && L <= 10
	case "JP":
		return trunk && L >= 10 && L <= 11
	case "KR":
		return trunk && L >= 9 && L <= 11
	case "GB":
		return trunk && L >= 10 && L <= 11
	case "DE", "AT":
		return trunk && L >= 8 && L <= 13
	case "FR", "NL", "CH":
		return trunk && L == 10
	case "IT":
		return L >= 9 && L <= 11 && (trunk || d[0] == '3')
	case "ES":
		return L == 9 && d[0] >= '6'
	case "PL":
		return L == 9 && !trunk
	}
	return false
}

// phoneValid reports whether digits d are a valid number of region, or
// after a '+' when region is "". The fast path decides most numbers; what
// it rejects in a form it does not split ("+49 (0)151…" with the trunk
// prefix after the country code, "+1 1…", a national "00…" international
// prefix) goes to libphonenumber's parser, so the result is always the
// parser's (TestValidPhoneFast).
func phoneValid(d []byte, region string) (int, bool) {
	cc, ok := validPhoneFast(d, region)
	if ok || !parserMayAccept(d, region) {
		return cc, ok
	}
	var b [20]byte
	num := b[:0]
	if region == "" {
		num = append(num, '+')
	}
	return validPhone(string(append(num, d...)), region)
}

// parserMayAccept reports whether d is in a form the parser reads
// differently from validPhoneFast: a trunk prefix after the country code,
// or an international prefix in a national number.
func parserMayAccept(d []byte, region string) bool {
	if len(d) < 3 {
		return false
	}
	if region == "" {
		// After '+': national prefixes after the country code vary by
		// country (0, 1, 8, …); these numbers are rare, leave them to it.
		return true
	}
	cc := phonenumbers.GetCountryCodeForRegion(region)
	var b [4]byte
	ccs := strconv.AppendInt(b[:0], int64(cc), 10)
	// International prefixes (00, 01x, 08x carrier codes in KR) and the
	// country code written in a national number.
	if cc == 1 {
		// validPhoneFast reads plain US and CA numbers as the parser does.
		return !(len(d) == 10 && d[0] >= '2' || len(d) == 11 && d[0] == '1' && d[1] >= '2')
	}
	return d[0] == '0' && (d[1] == '0' || d[1] == '1' || d[1] == '8' || !trunkZero[region]) || d[0] == '1' || bytes.HasPrefix(d, ccs)
}

// trunkZero lists the regions whose national format adds a trunk prefix 0
// that is not part of the national significant number.
var trunkZero = map[string]bool{"TW": true, "JP": true, "KR": true, "GB": true, "DE": true, "FR": true, "NL": true, "AT": true, "CH": true}

// validPhoneFast is validPhone without libphonenumber's parser, which costs
// three quarters of a validation: the digits are split into country code
// and national significant number here (country codes are prefix-free;
// the trunk prefixes of the regions above are fixed), and only the number
// plan's patterns are matched. TestValidPhoneFast checks it against
// validPhone. d is digits only; region "" means d starts with the country
// code.
func validPhoneFast(d []byte, region string) (int, bool) {
	cc := 0
	nsn := d
	if region == "" {
		for k := 1; k <= 3 && k < len(d); k++ {
			if c := atoi(d[:k]); phonenumbers.GetRegionCodeForCountryCode(c) != "ZZ" {
				cc, nsn = c, d[k:]
				break
			}
		}
		if cc == 0 {
			return 0, false
		}
	} else {
		cc = phonenumbers.GetCountryCodeForRegion(region)
		switch {
		case cc == 0:
			return 0, false
		case trunkZero[region] && len(d) > 0 && d[0] == '0':
			nsn = d[1:]
		case cc == 1 && len(d) == 11 && d[0] == '1':
			nsn = d[1:]
		}
	}
	if len(nsn) < 2 || len(nsn) > 17 {
		return 0, false
	}
	zeros := 0
	for zeros < len(nsn)-1 && nsn[zeros] == '0' {
		zeros++
	}
	p := &phonenumbers.PhoneNumber{CountryCode: proto.Int32(int32(cc)), NationalNumber: proto.Uint64(uint64(atoi64(nsn)))}
	if zeros > 0 {
		p.ItalianLeadingZero = proto.Bool(true)
		p.NumberOfLeadingZeros = proto.Int32(int32(zeros))
	}
	if cc == 1 && region != "" {
		// A national NANP number from a US or Canadian context: checking
		// the other 23 regions of +1 costs more than all the rest.
		if !phonenumbers.IsValidNumberForRegion(p, "US") && !phonenumbers.IsValidNumberForRegion(p, "CA") {
			return 0, false
		}
		return cc, true
	}
	if !phonenumbers.IsValidNumber(p) {
		return 0, false
	}
	return cc, true
}

func atoi64(b []byte) int64 {
	var n int64
	for _, c := range b {
		n = n*10 + int64(c-'0')
	}
	return n
}

// nanpArea reports whether a 10-digit NANP number has an area code and
// exchange that can exist: NXX-NXX, not an N9X code (reserved for
// expansion), not an N11 service code, not 400 (unassigned; the Chinese
// 400 service numbers have the same shape). Stable plan rules, checked
// against the metadata in TestNANPArea.
func nanpArea(d []byte) bool {
	if d[0] < '2' || d[3] < '2' || d[1] == '9' || d[1] == '1' && d[2] == '1' {
		return false
	}
	return !(d[0] == '4' && d[1] == '0' && d[2] == '0')
}
