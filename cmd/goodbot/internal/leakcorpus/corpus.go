// Package leakcorpus is a test corpus of realistic web pages carrying planted
// personal data, for measuring how much of it a crawl stores.
//
// The corpus is written independently of goodbot's personal-data filter: its
// values come from its own generator ([Gen]) and its check-digit code from the
// published standards, and its page templates imitate what sites of each kind
// serve (news with comments, a CV, an order page, a forum profile, a company
// contact page, a clinic booking, a JSON export, an English contact page, an
// access log, a Hong Kong/Taiwan page), not what a detector expects. Every
// template is served in several character encodings, and every planted value
// is written in one of several forms (visible text, script state JSON, HTML
// comments, attributes, URLs, obfuscations and so on).
//
// [New] builds a [Site], an http.Handler that serves the corpus and records
// the requests it receives, and lists what it planted ([Planted]) and the
// look-alikes that a filter must keep ([Decoy]). Everything is deterministic
// from the seed.
package leakcorpus

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// Entity names a kind of personal data.
type Entity string

// The kinds of personal data the corpus plants.
const (
	CNID        Entity = "cn_resident_id"
	CNMobile    Entity = "cn_mobile"
	CNLandline  Entity = "cn_landline"
	BankCard    Entity = "bank_card"
	Email       Entity = "email"
	IPv4        Entity = "ipv4"
	IPv6        Entity = "ipv6"
	CNPassport  Entity = "cn_passport"
	HKID        Entity = "hk_id"
	TWID        Entity = "tw_id"
	IBAN        Entity = "iban"
	USSSN       Entity = "us_ssn"
	USITIN      Entity = "us_itin"
	USPassport  Entity = "us_passport"
	Plate       Entity = "cn_plate"
	VIN         Entity = "vin"
	MAC         Entity = "mac"
	KRRRN       Entity = "kr_rrn"
	Aadhaar     Entity = "in_aadhaar"
	CPF         Entity = "br_cpf"
	DNI         Entity = "es_dni"
	NIE         Entity = "es_nie"
	ITCF        Entity = "it_codice_fiscale"
	NIR         Entity = "fr_nir"
	PESEL       Entity = "pl_pesel"
	IntlPhone   Entity = "intl_phone"
	Coordinates Entity = "coordinates"
	CNName      Entity = "cn_name"
	ENName      Entity = "en_name"
	CNAddress   Entity = "cn_address"
)

// Structured reports whether e is a structured identifier (anything but a
// name or a postal address), which a filter is expected to catch in every form.
func (e Entity) Structured() bool {
	return e != CNName && e != ENName && e != CNAddress
}

// Form names the way a planted value is written into a page.
type Form string

// The forms a value is written in.
const (
	FormText        Form = "text"              // visible text
	FormStateJSON   Form = "script_json"       // window.__INITIAL_STATE__ = {...}
	FormEscapedJSON Form = "script_json_uesc"  // the same, non-ASCII and digits as \uXXXX
	FormComment     Form = "html_comment"      // <!-- ... -->
	FormDataAttr    Form = "data_attr"         // data-user="..."
	FormTitle       Form = "title"             // <title>
	FormAltTitle    Form = "alt_title_attr"    // alt="X的头像", title="X的名片"
	FormMetaAuthor  Form = "meta_author"       // <meta name="author">
	FormJSONLD      Form = "json_ld"           // application/ld+json author/name
	FormLinkQuery   Form = "link_query"        // href="...?email=a%40b.com"
	FormHref        Form = "href_mailto_tel"   // href="mailto:..." / "tel:..."
	FormObfuscated  Form = "obfuscated_email"  // name AT 163 DOT com
	FormDotted      Form = "dotted"            // 138.0013.8000
	FormFullWidth   Form = "fullwidth"         // １３８００１３８０００
	FormSplitTags   Form = "split_tags"        // 1<span>38</span>00138000
	FormEntities    Form = "html_entities"     // &#49;&#51;&#56;...
	FormJSONBody    Form = "json_body"         // an application/json response
	FormPlain       Form = "plain_text"        // a text/plain response
	FormScriptVar   Form = "script_var"        // var phone = '...' in inline script
	FormInputValue  Form = "input_value"       // <input value="...">
	FormSpaced      Form = "spaced_or_grouped" // 138 0013 8000, 6222 0212 ...
)

// Encoding names the character encoding and the way it is declared.
type Encoding string

// The encodings each template is served in.
const (
	UTF8          Encoding = "utf-8"
	GBKHeader     Encoding = "gbk/header"       // charset only in Content-Type
	GBKMeta       Encoding = "gbk/meta-charset" // only <meta charset="gbk">
	GBKHTTPEquiv  Encoding = "gbk/http-equiv"   // only <meta http-equiv=...>
	GB18030BOM    Encoding = "gb18030/bom"      // BOM and <meta charset>
	Big5Meta      Encoding = "big5/meta"        // <meta charset="big5">
	allEncodingsN          = 6
)

// Planted is one personal value written into one page in one form.
type Planted struct {
	Value    string   // canonical value; a crawl's output must not contain it
	Shown    string   // as written in the page source, before charset encoding
	Entity   Entity   // kind of data
	Form     Form     // how it is written
	Encoding Encoding // the page's encoding
	Page     string   // URL path of the page
	Labelled bool     // for names and addresses: a label (姓名, Name:, author...) names it
}

// Decoy is a value that looks like personal data but is not; a filter must
// keep it.
type Decoy struct {
	Value    string
	Kind     string
	Encoding Encoding
	Page     string
}

// codec returns the x/text encoding for e, nil for UTF-8.
func codec(e Encoding) encoding.Encoding {
	switch e {
	case GBKHeader, GBKMeta, GBKHTTPEquiv:
		return simplifiedchinese.GBK
	case GB18030BOM:
		return simplifiedchinese.GB18030
	case Big5Meta:
		return traditionalchinese.Big5
	}
	return nil
}

// Encode returns s in encoding e, or false if s has a character e cannot
// represent.
func Encode(e Encoding, s string) ([]byte, bool) {
	c := codec(e)
	if c == nil {
		return []byte(s), utf8.ValidString(s)
	}
	b, err := c.NewEncoder().Bytes([]byte(s))
	if err != nil {
		return nil, false
	}
	return b, true
}

// Charset returns the IANA charset label of e.
func (e Encoding) Charset() string {
	switch e {
	case GBKHeader, GBKMeta, GBKHTTPEquiv:
		return "gbk"
	case GB18030BOM:
		return "gb18030"
	case Big5Meta:
		return "big5"
	}
	return "utf-8"
}

// builder collects one page's planted values and decoys.
type builder struct {
	g       *Gen
	enc     Encoding
	page    string
	planted []Planted
	decoys  []Decoy
}

func (b *builder) ok(s string) bool {
	_, ok := Encode(b.enc, s)
	return ok
}

// put records value v of entity e written as shown in form f, and returns
// shown, or "" when the page's encoding cannot carry it.
func (b *builder) put(e Entity, f Form, labelled bool, v, shown string) string {
	if shown == "" || !b.ok(shown) || !b.ok(v) {
		return ""
	}
	for _, p := range b.planted {
		if p.Value == v && p.Form == f {
			return shown // already recorded: the page repeats it, as pages do
		}
	}
	b.planted = append(b.planted, Planted{Value: v, Shown: shown, Entity: e, Form: f, Encoding: b.enc, Page: b.page, Labelled: labelled})
	return shown
}

// same is put with shown == v.
func (b *builder) same(e Entity, f Form, labelled bool, v string) string {
	return b.put(e, f, labelled, v, v)
}

// decoy records a look-alike and returns it.
func (b *builder) decoy(kind, v string) string {
	if !b.ok(v) {
		return ""
	}
	b.decoys = append(b.decoys, Decoy{Value: v, Kind: kind, Encoding: b.enc, Page: b.page})
	return v
}

// head writes the charset declaration the encoding calls for.
func (b *builder) head() string {
	switch b.enc {
	case UTF8:
		return `<meta charset="utf-8">`
	case GBKMeta:
		return `<meta charset="gbk">`
	case GBKHTTPEquiv:
		return `<meta http-equiv="Content-Type" content="text/html; charset=gbk">`
	case GB18030BOM:
		return `<meta charset="gb18030">`
	case Big5Meta:
		return `<meta charset="big5">`
	}
	return "" // GBKHeader: only the HTTP header says it
}

// pctEncode percent-encodes s as a browser does for a query value in the
// page's encoding, with '+' for spaces.
func (b *builder) pctEncode(s string) string {
	raw := []byte(s)
	if c := codec(b.enc); c != nil {
		if e, err := c.NewEncoder().Bytes(raw); err == nil {
			raw = e
		}
	}
	var o strings.Builder
	for _, c := range raw {
		switch {
		case c == ' ':
			o.WriteByte('+')
		case c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0):
			o.WriteByte(c)
		default:
			fmt.Fprintf(&o, "%%%02X", c)
		}
	}
	return o.String()
}

// fullWidth writes ASCII digits and letters as their full-width forms.
func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r > 0x20 && r < 0x7f {
			return r + 0xfee0
		}
		return r
	}, s)
}

// entities writes every character of s as a decimal character reference.
func entities(s string) string {
	var o strings.Builder
	for _, r := range s {
		fmt.Fprintf(&o, "&#%d;", r)
	}
	return o.String()
}

// hexEntities writes digits as hexadecimal references and keeps the rest.
func hexEntities(s string) string {
	var o strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' || r == '@' || r == '.' {
			fmt.Fprintf(&o, "&#x%x;", r)
		} else {
			o.WriteRune(r)
		}
	}
	return o.String()
}

// splitTags breaks s with inline tags, as sites do to defeat scrapers.
func splitTags(s string, k int) string {
	r := []rune(s)
	if len(r) < 4 {
		return s
	}
	a, c := k%3+1, len(r)-2
	return string(r[:a]) + `<span class="d">` + string(r[a:c]) + `</span><i></i>` + string(r[c:])
}

// uescape writes every non-ASCII character and every digit as \uXXXX, as
// some serializers (and some obfuscators) do.
func uescape(s string) string {
	var o strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9' || r > 0x7e:
			if r > 0xffff {
				r1, r2 := utf16Surrogates(r)
				fmt.Fprintf(&o, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(&o, `\u%04x`, r)
			}
		case r == '"' || r == '\\':
			o.WriteByte('\\')
			o.WriteRune(r)
		default:
			o.WriteRune(r)
		}
	}
	return o.String()
}

func utf16Surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// jsq quotes s as a JSON string without escaping non-ASCII (as most sites do).
func jsq(s string) string {
	var o strings.Builder
	o.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			o.WriteByte('\\')
			o.WriteRune(r)
		case '\n':
			o.WriteString(`\n`)
		default:
			o.WriteRune(r)
		}
	}
	o.WriteByte('"')
	return o.String()
}

// attr escapes s for an HTML attribute value.
func attr(s string) string {
	return strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;").Replace(s)
}

// dotted writes an 11-digit mobile as 138.0013.8000.
func dotted(m string) string { return m[:3] + "." + m[3:7] + "." + m[7:] }

// spaced writes an 11-digit mobile as 138 0013 8000.
func spaced(m string) string { return m[:3] + " " + m[3:7] + " " + m[7:] }

// dashed writes an 11-digit mobile as 138-0013-8000.
func dashed(m string) string { return m[:3] + "-" + m[3:7] + "-" + m[7:] }

// card4 writes a card number in groups of four (Amex 4-6-5).
func card4(c string) string {
	if len(c) == 15 {
		return c[:4] + " " + c[4:10] + " " + c[10:]
	}
	return group(c, 4, " ")
}

// qv builds a query string from alternating keys and already encoded values.
func qv(kv ...string) string {
	var o strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			o.WriteString("&amp;")
		}
		o.WriteString(kv[i] + "=" + kv[i+1])
	}
	return o.String()
}

// split plants v broken up by inline tags.
func (b *builder) split(e Entity, v string) string {
	return b.put(e, FormSplitTags, false, v, splitTags(v, len(b.planted)))
}

// dot plants a mobile written 138.0013.8000.
func (b *builder) dot(m string) string { return b.put(CNMobile, FormDotted, false, m, dotted(m)) }

// sp plants a mobile written 138 0013 8000.
func (b *builder) sp(m string) string { return b.put(CNMobile, FormSpaced, false, m, spaced(m)) }

// card plants a card number in groups of four.
func (b *builder) card(c string) string { return b.put(BankCard, FormSpaced, false, c, card4(c)) }

// idsp plants a resident ID written "110105 19491231 002X".
func (b *builder) idsp(id string) string {
	return b.put(CNID, FormSpaced, false, id, id[:6]+" "+id[6:14]+" "+id[14:])
}

// fw plants v in full-width characters.
func (b *builder) fw(e Entity, v string) string {
	return b.put(e, FormFullWidth, false, v, fullWidth(v))
}

// ent plants v as decimal character references.
func (b *builder) ent(e Entity, v string) string {
	return b.put(e, FormEntities, false, v, entities(v))
}

// yen returns the yuan sign a page in this encoding uses: "¥" in UTF-8, the
// full-width "￥" (which GBK and Big5 have) otherwise.
func (b *builder) yen() string {
	if b.enc == UTF8 {
		return "¥"
	}
	return "￥"
}

// alt returns s if the page's encoding can carry it, else fallback.
func (b *builder) alt(s, fallback string) string {
	if b.ok(s) {
		return s
	}
	return fallback
}
