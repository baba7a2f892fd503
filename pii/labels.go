package pii

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf8"
)

// Field labels: the name of the field a value is given in, in any of the
// forms the scanner sees:
//
//	label: value      label：value (NFKC folds the full-width colon)
//	"label":"value"   "label": "value"   'label':'value'   label:"value"
//	label=value&…     (query strings, already percent-decoded)
//	data-user: value  (an attribute value after its synthetic label)
//
// A label is read backwards from the separator: an ASCII identifier
// (camelCase, snake_case, kebab-case or up to three words) or up to eight
// ideographs. A positive label is a context word for its entities; a
// negative label (orderId, sku, 订单号) names a non-personal number.

// labelInfo is what a label says about the value after it.
type labelInfo struct {
	mask uint64 // entities the label is a context word for
	neg  bool   // the label names a non-personal number
	weak bool   // a name label that also names things: bare "name", "user"
}

// labelBefore returns the label of the value starting at t[s], if any.
// The last answer is kept: the rules ask for one value's label several
// times.
func (sc *scanner) labelBefore(s int) labelInfo {
	if s == sc.lbAt {
		return sc.lbInfo
	}
	li := sc.labelBeforeAt(s)
	sc.lbAt, sc.lbInfo = s, li
	return li
}

func (sc *scanner) labelBeforeAt(s int) labelInfo {
	t := sc.p.text
	k := s
	if k > 0 && (t[k-1] == '"' || t[k-1] == '\'') {
		k--
	}
	for n := 0; n < 3 && k > 0 && t[k-1] == ' '; n++ {
		k--
	}
	if k > 1 && (t[k-1] == '{' || t[k-1] == '[') {
		// A value that is the first key or item of an object or list
		// labelled before it: "contactsByMobile":{"14117051587":…}.
		k--
		for n := 0; n < 3 && k > 0 && t[k-1] == ' '; n++ {
			k--
		}
	}
	if k > 0 && t[k-1] == '\n' {
		// The label may stand in the cell, term or line before:
		// 姓名：</td><td>张三, <dt>姓名</dt><dd>张三</dd>.
		k--
		for n := 0; n < 3 && k > 0 && t[k-1] == ' '; n++ {
			k--
		}
		if k > 0 && t[k-1] != ':' && t[k-1] != '=' {
			ls := bytes.LastIndexByte(t[:k], '\n') + 1
			if k-ls > 0 && k-ls <= 32 {
				return labelLine(t[ls:k], &sc.labels)
			}
			return labelInfo{}
		}
	}
	if k == 0 || t[k-1] != ':' && t[k-1] != '=' {
		return labelInfo{}
	}
	return labelAt(t, k-1, &sc.labels)
}

// labelLine classifies a whole line of text as a label: a term of a
// definition list, a table cell, a line of its own. Only a short line of
// ideographs, or of at most three ASCII words, is one.
func labelLine(l []byte, lc *labelCache) labelInfo {
	l = bytes.TrimSpace(l)
	if len(l) == 0 {
		return labelInfo{}
	}
	if l[0] >= 0x80 {
		var buf [32]byte
		b := buf[:0]
		for len(l) > 0 {
			r, size := utf8.DecodeRune(l)
			switch {
			case r == ' ':
			case ideograph(r) && len(b)+size <= len(buf):
				b = append(b, l[:size]...)
			default:
				return labelInfo{}
			}
			l = l[size:]
		}
		return lc.classify(b, true)
	}
	words := 1
	for _, c := range l {
		switch {
		case c == ' ':
			words++
		case !isAlnum(c) && c != '-':
			return labelInfo{}
		}
	}
	if words > 3 {
		return labelInfo{}
	}
	return lc.classify(l, false)
}

// labelAt classifies the label that ends right before the separator t[p].
func labelAt(t []byte, p int, lc *labelCache) labelInfo {
	k := p
	for n := 0; n < 2 && k > 0 && t[k-1] == ' '; n++ {
		k--
	}
	if k > 0 && (t[k-1] == '"' || t[k-1] == '\'') {
		k--
	}
	e := k
	if e == 0 {
		return labelInfo{}
	}
	if t[e-1] >= 0x80 {
		// Chinese label: up to eight ideographs, with the spaces that
		// align labels in forms left out ("姓　　名").
		var buf [32]byte
		b := buf[len(buf):]
		s := e
		for n := 0; n < 8 && s > 0; {
			r, size := utf8.DecodeLastRune(t[:s])
			if r == ' ' && len(b) > 0 && s > 1 && t[s-2] >= 0x80 {
				s--
				continue
			}
			if !ideograph(r) || len(buf)-len(b) < size {
				break
			}
			s -= size
			b = buf[len(buf)-len(b)-size:]
			copy(b, t[s:s+size])
			n++
		}
		if len(b) == 0 {
			return labelInfo{}
		}
		return lc.classify(b, true)
	}
	s := e
	words := 1
	for s > 0 && e-s < 40 {
		c := t[s-1]
		if isAlnum(c) || c == '-' || c == '.' {
			s--
			continue
		}
		if c == ' ' && words < 3 && s > 1 && isAlnum(t[s-2]) && s < e {
			words++
			s--
			continue
		}
		break
	}
	if s == e || e-s >= 40 {
		return labelInfo{}
	}
	return lc.classify(t[s:e], false)
}

// labelCache remembers the classes of the labels a scanner has met: a
// page repeats its labels (every attribute value is labelled by the
// attribute's name), and a label's class depends on its bytes alone, so
// entries stay valid from page to page. It is direct-mapped by a hash of
// the label.
type labelCache struct {
	ents [labelCacheSize]labelEntry
}

const (
	labelCacheSize = 256
	labelCacheKey  = 40 // longer labels are not kept
)

type labelEntry struct {
	n   uint8 // length of key; 0 for an empty entry
	key [labelCacheKey]byte
	li  labelInfo
}

// classify returns the class of the label b, Chinese (classifyCNLabel)
// or ASCII (classifyLabel), from the cache when b is in it. ASCII and
// Chinese labels have no bytes in common, so they share it. (The two
// classifiers are called directly, not passed in: a func value would make
// the callers' label buffers escape to the heap.)
func (lc *labelCache) classify(b []byte, cn bool) labelInfo {
	e, ok := lc.entry(b)
	if ok {
		return e.li
	}
	var li labelInfo
	if cn {
		li = classifyCNLabel(b)
	} else {
		li = classifyLabel(b)
	}
	lc.store(e, b, li)
	return li
}

// entry returns the entry for b and reports whether it holds b, or nil
// for a label too long to keep.
func (lc *labelCache) entry(b []byte) (*labelEntry, bool) {
	if len(b) == 0 || len(b) > labelCacheKey {
		return nil, false
	}
	h := uint32(2166136261) // FNV-1a
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	e := &lc.ents[h%labelCacheSize]
	return e, int(e.n) == len(b) && string(e.key[:e.n]) == string(b)
}

// store keeps li as the class of b in e, if e is not nil.
func (lc *labelCache) store(e *labelEntry, b []byte, li labelInfo) {
	if e != nil {
		e.n, e.li = uint8(len(b)), li
		copy(e.key[:], b)
	}
}

// labelWords is an ASCII label split into lower-case words at separators
// and camelCase humps: "realName" and "real_name" give real, name;
// "IDCard" gives id, card. It does not allocate.
type labelWords struct {
	buf  [48]byte // the words, lower-cased, joined without separators
	n    int      // bytes used in buf
	ends [8]int   // end of each word in buf
	nw   int
}

func (lw *labelWords) word(i int) []byte {
	if i < 0 || i >= lw.nw {
		return nil
	}
	s := 0
	if i > 0 {
		s = lw.ends[i-1]
	}
	return lw.buf[s:lw.ends[i]]
}

func (lw *labelWords) joined() []byte { return lw.buf[:lw.n] }

func splitLabelWords(b []byte, lw *labelWords) {
	lw.n, lw.nw = 0, 0
	in := false
	flush := func() {
		if in && lw.nw < len(lw.ends) {
			lw.ends[lw.nw] = lw.n
			lw.nw++
		}
		in = false
	}
	for i := 0; i < len(b) && lw.n < len(lw.buf); i++ {
		c := b[i]
		if !isAlnum(c) || c == '_' {
			flush()
			continue
		}
		if in && isUpper(c) {
			prev := b[i-1]
			if prev >= 'a' && prev <= 'z' || isDigit(prev) || isUpper(prev) && i+1 < len(b) && b[i+1] >= 'a' && b[i+1] <= 'z' {
				flush()
			}
		}
		if lw.nw == len(lw.ends) {
			break
		}
		lw.buf[lw.n] = lower(c)
		lw.n++
		in = true
	}
	flush()
}

// splitLabel returns the words of an ASCII label (for tests).
func splitLabel(b []byte, dst []string) []string {
	var lw labelWords
	splitLabelWords(b, &lw)
	for i := range lw.nw {
		dst = append(dst, string(lw.word(i)))
	}
	return dst
}

var (
	nameBits  = bit(CNPersonName) | bit(PersonName)
	phoneBits = bit(CNMobile) | bit(CNLandline)
	idBits    = bit(CNResidentID) | bit(HKID) | bit(TWID) | bit(MOID)
)

func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

var (
	// Labels naming a person, joined without separators.
	nameLabels = wordSet("buyer seller customer hr guest leadguest guestname passenger passengername traveler traveller travellername driver drivername manager member partner founder director host hostname tenant landlord resident patient reviewer poster commenter realname fullname truename nickname nick username uname author authors contact contactname contactperson consignee receiver receivername recipient recipientname linkman owner ownername firstname lastname givenname familyname surname middlename customername buyername sendername sender personname membername displayname legalname holdername cardholder cardholdername accountname accountholder patientname studentname applicant applicantname addressee signer employeename staffname reporter editor creator writer byline payee payeename payer liaison xingming xm lianxiren shouhuoren lxr shr teacher student doctor lawyer artist speaker attendee guardian guardianname emergencycontact spouse")
	// Name labels that also name things.
	weakNameLabels = wordSet("name user owner member customer person")
	// Words before "name" that make it a thing's name.
	thingNames  = wordSet("product company file site app brand shop store item goods domain host class tag field key event page category cat model device org organization organisation city province country street bank school project team group dept department business biz style font attr attribute param table column db database server service module package pkg job task plan course title type kind merchant seller series spu sku region area district town village road building hotel restaurant channel room game tenant role permission menu nav route component element property prop var variable function func method cookie header image img icon video audio media color theme layout template tpl view screen window sheet form input button btn link url path node cluster instance bucket queue topic stream index schema metric label config option setting env platform os browser agent vendor manufacturer maker publisher journal magazine book album song movie show program scheme plugin extension repo branch tab section block widget unit dish food drug disease tv brand short full_text folder dir")
	phoneWords  = wordSet("mobile phone tel telephone cellphone cell mob fax whatsapp mobileno phoneno telno phonenum mobilenum shouji dianhua lxdh sjh")
	emailWords  = wordSet("email mail mailbox emailaddress mailaddress youxiang")
	idLabels    = wordSet("idcard idno idnumber idcardno idcardnumber idnum identity identityno identitycard identitynumber identitycardno certno certificateno certificatenumber certnum certnumber sfz sfzh sfzhm citizenid nationalid residentid")
	bankLabels  = wordSet("card salarycard paymentcard cardno cardnumber cardnum bankcard bankcardno bankcardnumber bankaccount bankaccountno accountno accountnumber acctno pan creditcard debitcard")
	ipWords     = wordSet("ip ipv4 ipv6 ipaddr ipaddress remoteaddr remoteip clientip clientaddr xforwardedfor forwardedfor xrealip realip srcip dstip peerip client")
	addrWords2  = wordSet("address addr street dizhi")
	negLast     = wordSet("sku isbn ean upc gtin barcode version ver build serial sn timestamp ts time date datetime created updated price amount total qty quantity count size width height waybill tracking trackingno asin hash md5 sha1 sha256 uuid guid token nonce seq checksum crc port pid uid pv uv views likes score rank zip zipcode postcode postal")
	negPrefixes = wordSet("order tracking product item goods sku invoice transaction trade trans txn payment pay waybill express logistics shipment ship package parcel batch request req session trace span msg message event post article page category cat shop store merchant biz app device build version ref reference serial model part spu video image img file doc task job comment reply thread topic ad campaign coupon promo voucher ticket case project repo commit node cluster instance region zone group channel room game tenant org company shop sku isbn ean")
	idSuffixes  = wordSet("id no num number code sn key nr")
)

// Roles of a label word, in labelRoles.
const (
	rNegLast = 1 << iota
	rIDSuffix
	rNegPrefix
	rIDLabel
	rBank
	rIP
	rPhone
	rEmail
	rAddr
	rName
	rWeakName
	rThing
	rPassport
	rSSN
	rIBAN
)

// labelRoles maps each label word (or joined label) to its roles, so that
// a label is classified with a handful of map look-ups.
var labelRoles = func() map[string]uint32 {
	m := map[string]uint32{}
	for _, l := range []struct {
		set  map[string]bool
		role uint32
	}{
		{negLast, rNegLast}, {idSuffixes, rIDSuffix}, {negPrefixes, rNegPrefix}, {idLabels, rIDLabel},
		{bankLabels, rBank}, {ipWords, rIP}, {phoneWords, rPhone}, {emailWords, rEmail}, {addrWords2, rAddr},
		{nameLabels, rName}, {weakNameLabels, rWeakName}, {thingNames, rThing},
		{wordSet("passport passportno passportnumber"), rPassport}, {wordSet("ssn"), rSSN}, {wordSet("iban"), rIBAN},
	} {
		for w := range l.set {
			m[w] |= l.role
		}
	}
	return m
}()

// classifyLabel classifies an ASCII label.
func classifyLabel(b []byte) labelInfo {
	var lw labelWords
	splitLabelWords(b, &lw)
	if lw.nw == 0 {
		return labelInfo{}
	}
	j := lw.joined()
	last := lw.word(lw.nw - 1)
	prev := lw.word(lw.nw - 2)
	rj := labelRoles[string(j)]
	rl := rj
	if lw.nw > 1 {
		rl = labelRoles[string(last)]
	}
	var rp, rf, rany uint32
	if lw.nw > 1 {
		rp = labelRoles[string(prev)]
		rf = labelRoles[string(lw.word(0))]
		rany = rl | rp | rf
		for i := 1; i < lw.nw-2; i++ {
			rany |= labelRoles[string(lw.word(i))]
		}
	}
	rany |= rj
	var li labelInfo
	if (rl|rj)&rNegLast != 0 || rl&rIDSuffix != 0 && rp&rNegPrefix != 0 {
		li.neg = true
		return li
	}
	switch {
	case rj&rIDLabel != 0 || (string(prev) == "id" || string(prev) == "identity") && (string(last) == "card" || string(last) == "no" || string(last) == "number"):
		li.mask |= idBits
	case rj&rPassport != 0:
		li.mask |= bit(CNPassport) | bit(USPassport)
	case rj&rBank != 0:
		li.mask |= bit(BankCard)
	case rj&rSSN != 0:
		li.mask |= bit(USSSN)
	case rj&rIBAN != 0:
		li.mask |= bit(IBAN)
	case (rj|rl|rf)&rIP != 0:
		li.mask |= bit(IPAddress)
	}
	if rany&rPhone != 0 {
		li.mask |= phoneBits
	}
	if rany&rEmail != 0 {
		li.mask |= bit(Email)
	}
	if rany&rAddr != 0 && li.mask&(bit(IPAddress)|bit(Email)) == 0 {
		li.mask |= bit(CNAddress)
	}
	if li.mask != 0 {
		return li
	}
	thing := rp&rThing != 0
	switch {
	case rj&rName != 0, rl&rName != 0 && !thing:
		li.mask |= nameBits
	case string(last) == "name" && len(prev) == 0:
		li.mask |= nameBits
		li.weak = true
	case string(last) == "name" && !thing:
		li.mask |= nameBits
	case rj&rWeakName != 0, rl&rWeakName != 0 && !thing:
		li.mask |= nameBits
		li.weak = true
	}
	return li
}

var (
	cnNameLabels = []string{"姓名", "名字", "联系人", "收货人", "收件人", "寄件人", "发件人", "作者", "昵称", "用户名", "负责人", "经办人", "申请人", "持卡人", "户名", "开户名", "开户人", "法定代表人", "法人", "记者", "编辑", "主编", "摄影", "通讯员", "签名", "户主", "业主", "患者", "客户", "联络人", "收款人", "付款人", "领取人", "监护人", "家长", "学生", "教师", "老师", "医生", "撰稿", "撰文", "译者", "讲师", "主讲人", "发言人", "署名", "学员", "会员", "车主", "房东", "租客", "买家", "店主", "填表人", "被保险人", "投保人", "受益人", "乘客", "旅客", "住客", "姓",
		// Job titles label their holder: 总经理：董国庆, 销售总监：蒯丽华.
		"经理", "总经理", "总监", "主管", "主任", "董事长", "董事", "总裁", "创始人", "合伙人", "店长", "站长", "院长", "校长", "厂长", "秘书", "助理", "专员", "顾问", "联络", "对接人", "证明人", "推荐人", "介绍人", "主管", "组长", "班长", "队长", "会计", "出纳",
		// Traditional script.
		"聯絡人", "聯繫人", "負責人", "收貨人", "經辦人", "申請人", "會員", "客戶", "業主", "經理", "總經理", "總監", "董事長", "總裁"}
	cnNegLabels = []string{"订单", "单号", "编号", "序列号", "货号", "流水号", "批次", "版本", "价格", "金额", "时间", "日期", "运单", "快递", "条码", "型号", "数量", "库存", "邮编", "邮政编码", "代码", "发票", "工单", "商品"}
	cnPhoneLbls = []string{"手机", "电话", "联系方式", "座机", "传真", "手機", "電話", "總機", "总机", "热线", "手提電話", "聯絡電話"}
	cnEmailLbls = []string{"邮箱", "邮件", "郵箱", "电邮", "電郵", "電子郵件"}
	cnIDLbls    = []string{"身份证", "证件号", "身份號", "身分證", "身份證"}
	cnCardLbls  = []string{"卡号", "银行卡", "账号", "帐号", "账户"}
	cnAddrLbls  = []string{"地址", "住址", "居住地", "住所", "通訊地址"}
)

// Kinds of Chinese label words, in order of precedence.
const (
	cnlID = iota
	cnlPhone
	cnlEmail
	cnlCard
	cnlPassport
	cnlAddr
	cnlNeg
	cnlName
	cnlWeakName
)

// cnLabels matches the Chinese label words of every kind in one pass.
var cnLabels, cnLabelKind = func() (*automaton, []int) {
	lists := [...][]string{
		cnlID: cnIDLbls, cnlPhone: cnPhoneLbls, cnlEmail: cnEmailLbls, cnlCard: cnCardLbls,
		cnlPassport: {"护照"}, cnlAddr: cnAddrLbls, cnlNeg: cnNegLabels, cnlName: cnNameLabels,
		// Notes often begin with whom they are about: 客服備註：許承恩 已驗證.
		cnlWeakName: {"备注", "備註", "留言", "批注"},
	}
	kind := map[string]int{}
	for k, l := range lists {
		for _, w := range l {
			if _, ok := kind[w]; !ok {
				kind[w] = k
			}
		}
	}
	words := make([]string, 0, len(kind))
	for w := range kind {
		words = append(words, w)
	}
	slices.Sort(words)
	kinds := make([]int, len(words))
	for i, w := range words {
		kinds[i] = kind[w]
	}
	return buildAutomaton(words), kinds
}()

// classifyCNLabel classifies a Chinese label: by the words it contains,
// and for names by the word it ends with (联系人姓名, but not 姓名栏目).
func classifyCNLabel(l []byte) labelInfo {
	var buf [16]hit
	best := -1
	for _, h := range cnLabels.Find(l, buf[:0]) {
		k := cnLabelKind[h.Pattern]
		if (k == cnlName || k == cnlWeakName) && int(h.End) != len(l) {
			continue
		}
		if best < 0 || k < best {
			best = k
		}
	}
	var li labelInfo
	switch best {
	case cnlID:
		li.mask = idBits
	case cnlPhone:
		li.mask = phoneBits
	case cnlEmail:
		li.mask = bit(Email)
	case cnlCard:
		li.mask = bit(BankCard)
	case cnlPassport:
		li.mask = bit(CNPassport) | bit(USPassport)
	case cnlAddr:
		li.mask = bit(CNAddress)
	case cnlNeg:
		li.neg = true
	case cnlName:
		li.mask = nameBits
	case cnlWeakName:
		li.mask, li.weak = nameBits, true
	}
	return li
}
