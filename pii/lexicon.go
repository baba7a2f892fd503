package pii

import (
	"slices"
	"strings"
)

// Sensitive categories of PIPL Art. 28 that mark a whole page.
const (
	catHealth = iota
	catReligion
	catBiometrics
	catMinors
	catWhereabouts
	catFinancial
	catIdentity
	numCats
)

var catNames = [numCats]string{"health", "religion", "biometrics", "minors", "whereabouts", "financial", "specific-identity"}

// SensitiveCategories lists the names of the page-level sensitive categories.
func SensitiveCategories() []string { return slices.Clone(catNames[:]) }

type lexEntry struct {
	ctx  uint64 // bit entityIndex: a context word for that entity
	cats uint8  // bit cat: a term of that sensitive category
	name int8   // trigger kind: names.go (nameTriggers)
	addr bool   // address context
	neg  bool   // names a non-personal number: 订单号, 序列号, serial
	// region is a phone region cue (regionNone or an index of phoneRegions).
	region uint8
}

type lexicon struct {
	ac      *automaton
	entries []lexEntry // by pattern id
}

func bit(e Entity) uint64 { return 1 << entityIndex(e) }

// contextWords maps entities to the words that raise confidence nearby.
var contextWords = []struct {
	mask  uint64
	words string
}{
	{bit(CNResidentID), "身份证|身份证号|身份证号码|身份号码|公民身份号码|居民身份证|证件号|证件号码|身份證|身分證|id card|id no|id number|identity card|identity number"},
	{bit(CNMobile) | bit(CNLandline), "来电|电话|联系电话|联系方式|手机|手机号|手机号码|電話|手機|联系|致电|拨打|热线|tel|phone|telephone|mobile|cell|call|whatsapp|微信"},
	{bit(CNLandline), "座机|固话|传真|办公电话|fax"},
	{bit(BankCard), "银行卡|银行卡号|卡号|银行账号|账号|帐号|开户行|信用卡|储蓄卡|借记卡|收款账户|card number|card no|credit card|debit card|account"},
	{bit(CNPassport), "护照|护照号|护照号码|護照|passport|passport no"},
	{bit(HKID), "香港身份证|香港身份證|hkid|hong kong id"},
	{bit(TWID), "台湾身份证|國民身分證|身分證字號|taiwan id|national id"},
	{bit(MOID), "澳门身份证|澳門身份證|澳门居民身份证|澳門居民身份證|macau id|macao id|bir"},
	{bit(Email), "邮箱|电子邮件|电子邮箱|郵箱|email|e-mail|mail"},
	{bit(IPAddress), "ip|ipv4|ipv6|ip地址|ip address|登录ip|来源ip|访问ip|client|host|remote|remote addr|src|x-forwarded-for"},
	{bit(IBAN), "iban"},
	{bit(USSSN), "ssn|social security|social security number"},
	{bit(Coordinates), "经纬度|纬度|经度|坐标|定位|latitude|longitude|lat|lng|lon|gps|geo"},
	// Other regions (intl.go, scan_intl.go, phone.go).
	{bit(Phone), "电话|联系电话|客服电话|手机|拨打|致电|热线|電話|手機|聯絡電話|手提電話|流動電話|行動電話|電話番号|携帯|携帯電話|전화|전화번호|휴대폰|핸드폰|연락처|tel|phone|telephone|mobile|cell|call|whatsapp|fax|telefon|handy|téléphone|tél|portable|telefono|cellulare|teléfono|móvil|contact"},
	{bit(CNMobile), "call me|联系方式"},
	{bit(LicensePlate), "车牌|车牌号|车牌号码|車牌|號牌|plate|licence plate|license plate|number plate|plate number|kennzeichen|immatriculation|targa|matrícula|ナンバー|번호판"},
	{bit(VIN), "vin|车架号|车辆识别代号|车辆识别码|車身號碼|vehicle identification number|chassis number|chassis no|fahrgestellnummer"},
	{bit(MACAddress), "mac|mac地址|mac address|物理地址|hwaddr|ether|bssid|设备地址"},
	{bit(BankCard), "amex|american express|diners club|diners|maestro|mastercard|visa card|visa|cardholder|expiry|cvv|cvc|unionpay|银联|工资卡"},
	{bit(USPassport), "passport|passport no|passport number|us passport|u.s. passport|护照|护照号|护照号码|護照|美国护照|美國護照"},
	{bit(USITIN), "itin|taxpayer identification|individual taxpayer|纳税人识别号|tin"},
	{bit(KRRRN), "주민등록번호|주민번호|외국인등록번호|resident registration|rrn|韩国身份证|韓國身分證|居民登录号|住民登録番号"},
	{bit(INAadhaar), "aadhaar|aadhar|आधार|uidai|uid|阿达尔|印度身份证"},
	{bit(BRCPF), "cpf|cadastro de pessoas físicas|巴西税号|巴西身份证"},
	{bit(ESDNI), "dni|nie|nif|documento nacional de identidad|número de identidad|西班牙身份证"},
	{bit(ITFiscalCode), "codice fiscale|cod. fiscale|tax code|意大利税号|税号"},
	{bit(FRNIR), "numéro de sécurité sociale|sécurité sociale|securite sociale|nir|insee|carte vitale|法国社保号"},
	{bit(PLPESEL), "pesel|numer pesel|波兰身份证"},
}

var (
	negWords  = "订单号|订单编号|序列号|编号|单号|运单号|快递单号|物流单号|货号|商品编号|发票号码|发票代码|流水号|批次号|型号|版本号|工单号|sku|serial|serial no|order no|order number|tracking|invoice|isbn|ref"
	addrWords = "地址|住址|收货地址|家庭住址|通讯地址|联系地址|户籍地址|居住地|现居住地|address"
)

// sensitiveWords are the page-level lexicons of PIPL Art. 28 categories.
var sensitiveWords = [numCats]string{
	catHealth:      "病历|病例|诊断|确诊|病情|病史|住院|门诊|处方|化验|体检报告|检查报告|艾滋病|hiv|抑郁症|精神病|癌症|糖尿病|传染病|用药|主治医生|medical record|diagnosis|diagnosed|prescription|patient",
	catReligion:    "宗教信仰|基督教|天主教|伊斯兰教|佛教|道教|穆斯林|清真寺|教堂|受洗|信徒|皈依|礼拜|religion|religious|church|mosque|baptized",
	catBiometrics:  "指纹|人脸|人脸识别|面部识别|虹膜|声纹|掌纹|基因|生物识别|dna|fingerprint|facial recognition|iris scan|biometric",
	catMinors:      "未成年|未成年人|儿童|幼儿园|小学生|学龄|监护人|未满十四周岁|未满14周岁|小朋友|学生家长|班主任|minor|child|children|kindergarten|pupil|guardian",
	catWhereabouts: "行踪|轨迹|行程|出行记录|入住记录|开房记录|实时位置|位置信息|打卡记录|途经|whereabouts|location history|check-in|gps track",
	catIdentity:    "犯罪记录|前科|服刑|刑满释放|残疾人证|残疾等级|性取向|同性恋|criminal record|disability|sexual orientation",
	catFinancial:   "银行账户|银行流水|存款|余额|征信|信用记录|交易记录|贷款|欠款|逾期|收入证明|工资|bank statement|credit record|account balance|loan",
}

// lex is built once from the fixed word lists above and never changed.
var lex = buildLexicon()

func buildLexicon() *lexicon {
	m := map[string]*lexEntry{}
	get := func(w string) *lexEntry {
		w = strings.ToLower(w)
		e, ok := m[w]
		if !ok {
			e = &lexEntry{}
			m[w] = e
		}
		return e
	}
	for _, c := range contextWords {
		for w := range strings.SplitSeq(c.words, "|") {
			get(w).ctx |= c.mask
		}
	}
	for _, nt := range nameTriggers {
		for _, w := range strings.Fields(nt.words) {
			get(w).name = nt.kind
		}
	}
	for w := range strings.SplitSeq(negWords, "|") {
		get(w).neg = true
	}
	for w := range strings.SplitSeq(addrWords, "|") {
		get(w).addr = true
	}
	for r, words := range regionWords {
		if words == "" {
			continue
		}
		for w := range strings.SplitSeq(words, "|") {
			get(w).region = uint8(r)
		}
	}
	for cat, words := range sensitiveWords {
		for w := range strings.SplitSeq(words, "|") {
			get(w).cats |= 1 << cat
		}
	}
	words := make([]string, 0, len(m))
	for w := range m {
		words = append(words, w)
	}
	slices.Sort(words)
	l := &lexicon{ac: buildAutomaton(words), entries: make([]lexEntry, len(words))}
	for i, w := range words {
		l.entries[i] = *m[w]
	}
	return l
}
