package pii

import (
	"bytes"
	"sort"
	"unicode/utf8"
)

// Person names are found by triggers and field labels, not by a
// segmenter. github.com/go-ego/gse (v0.80.3, the only served segmenter
// with person-name tags) was measured on this machine: 1.9 s to load its
// dictionary, 201 MB of heap (510 MB peak RSS), 32 MB/s for Segment and
// 12 MB/s for Pos with HMM on Chinese text, against a budget of 200 MB/s
// for the whole filter; and it tags 华为 as a person name (nr). It does
// not pay for itself.

// Trigger kinds of lexicon words (lexEntry.name).
const (
	namePrefix  = 1 // the name follows: 联系人：王小明
	nameSuffix  = 2 // the name precedes: 王先生
	nameByline  = 3 // a byline, the name follows: 文/张三, 本报记者 王五
	nameTitle   = 4 // a title that also follows ordinary words: 王老师, 李同学
	nameOf      = 5 // the name precedes 的 and a personal page: 李明的个人主页
	nameTo      = 6 // a letter's salutation: 致张三：
	nameEnglish = 7 // a Latin-script name follows: Dear, Hi, by, Signed
	obfHash     = 9 // a hint that '#' stands for '@': (#换成@)
)

// nameTriggers are the lexicon words, separated by spaces, that trigger
// the name and obfuscated e-mail rules.
var nameTriggers = []struct {
	kind  int8
	words string
}{
	{namePrefix, "我叫 我是 户名 开户名 账户名 收款人 戶名 联系人 姓名 负责人 收件人 收货人 经办人 联络人 申请人 户主 患者 法定代表人 法人代表 客户 业主 寄件人 持卡人 真实姓名 名字叫 " +
		"聯絡人 聯繫人 負責人 收貨人 經辦人 申請人 戶主 客戶 業主 持卡人 真實姓名 會員"},
	{nameSuffix, "先生 女士 小姐"},
	{nameByline, "文/ 文| 文丨 图/ 图| 图丨 摄影 撰文 撰稿 记者 本报记者 特约记者 见习记者 实习记者 实习生 通讯员 作者 编辑 责任编辑 责编 主编 校对 审核"},
	{nameTitle, "同学 老师 医生 律师 教授"},
	{nameOf, "的简历 的个人简历 的头像 的名片 的主页 的个人主页 的博客 的相册 的微博 的朋友圈 的个人资料 的照片 的资料 的会员资料 的档案 的个人档案 " +
		"的簡歷 的個人簡歷 的頭像 的主頁 的個人主頁 的相簿 的部落格 的個人資料 的資料 的會員資料 的檔案"},
	{nameTo, "致"},
	{nameEnglish, "dear by signed regards sincerely attn mr mrs ms miss dr prof"}, // and Hi, Hello: upperTrigger
	{obfHash, "换成@ 改成@ 换为@ 改为@ 替换为@ 替换成@"},
}

// notBeforeTitle are words that end right before 老师/同学/医生/律师 and
// are not names: 历史老师, 大学同学, 主治医生.
var notBeforeTitle = []string{"历史", "音乐", "语文", "数学", "英语", "体育", "美术", "化学", "物理", "生物", "政治", "地理", "科学", "信息", "班主任", "实习", "代课", "外教", "大学", "高中", "初中", "小学", "中学", "本科", "同班", "全体", "广大", "在校", "其他", "部分", "优秀", "主治", "主任", "任课", "任教", "家庭", "值班", "住院", "社区", "乡村", "全科", "专科", "执业", "代理", "专业", "各位", "这位", "那位", "一位", "两位", "几位", "新", "老", "男", "女", "小", "好", "名"}

// companyWords mark an organisation, not a person: 华为技术有限公司.
var companyWords = []string{"公司", "集团", "科技", "银行", "大学", "学院", "医院", "酒店", "宾馆", "中心", "协会", "工作室", "商行", "商店", "有限", "股份", "研究", "政府", "委员", "学校", "中学", "小学", "幼儿园", "电视", "报社", "出版", "网络", "传媒", "广告", "餐厅", "饭店", "超市", "商城", "旗舰", "专卖", "门店", "官方", "客服", "团队", "小组", "基金", "事务所", "工厂", "实业", "贸易", "物流", "快递", "平台", "系统", "新闻", "日报", "晚报", "早报", "时报", "商报", "周刊", "杂志", "电台", "频道", "网", "编辑部", "出版社", "研究院", "研究所", "学会", "委员会", "联合会", "政务", "发布"}

var companyAC = buildAutomaton(companyWords)

func ideograph(r rune) bool { return r >= 0x4E00 && r <= 0x9FFF }

// names finds person names next to name triggers and after name labels.
func (sc *scanner) names() {
	t := sc.p.text
	for _, h := range sc.hits {
		switch kind := lex.entries[h.Pattern].name; kind {
		case namePrefix, nameByline:
			k := int(h.End)
			for skip := 0; skip < 3 && k < len(t); skip++ {
				r, size := utf8.DecodeRune(t[k:])
				if r == ':' || r == ' ' || r == '\n' || r == '为' || r == '是' || kind == nameByline && (r == '/' || r == '|' || r == '丨' || r == '・') {
					k += size
					continue
				}
				break
			}
			// A surname that is also a common word ("关" in 客户关系) counts
			// only after a label separator.
			loose := k > int(h.End)
			if e := sc.nameAt(k, loose); e > k && !sc.organisationAt(k) { // 联系人：华为技术有限公司
				rule := "cn-name-after-trigger"
				if kind == nameByline {
					rule = "cn-name-byline"
					if runeCount(t[k:e]) < 2 {
						continue // 记者王 is not a byline
					}
				}
				sc.emitName(CNPersonName, k, e, rule)
			}
		case nameSuffix, nameTitle, nameOf:
			st := int(h.Start)
			if kind == nameTitle && endsWithAny(t[:st], notBeforeTitle) {
				continue
			}
			minBack := 1
			if kind == nameOf {
				minBack = 2
			}
			for back := 4; back >= minBack; back-- {
				k := runeBack(t, st, back)
				if k >= st || runeFwd(t, k, back) != st || back > 1 && wordAcross(t, k) {
					continue
				}
				loose := back == 1 && kind == nameSuffix
				if kind == nameOf && (k == 0 || t[k-1] == ' ' || t[k-1] == '\n' || t[k-1] == ':' || t[k-1] == '"') &&
					!(k+6 <= len(t) && surnameWords[string(t[k:k+6])]) && !sc.stopInside(k, st) {
					// "alt: 禚欣怡的头像": the phrase is the whole value, so
					// a rarer surname counts too.
					loose = true
				}
				if e := sc.nameAt(k, loose); e == st {
					sc.emitName(CNPersonName, k, st, "cn-name-before-title")
					break
				}
			}
		case nameTo:
			s := int(h.Start)
			if s > 0 && t[s-1] != '\n' && t[s-1] != ' ' {
				continue
			}
			k := int(h.End)
			if e := sc.nameAt(k, true); e > k && runeCount(t[k:e]) >= 2 && e < len(t) && (t[e] == ':' || t[e] == ',' || t[e] == '\n' || sc.hitStartsAt(e)) {
				sc.emitName(CNPersonName, k, e, "cn-name-salutation")
			}
		case nameEnglish:
			sc.englishAfterTrigger(h)
		}
	}
	for _, p := range sc.salut {
		e := p + 2
		if sc.p.text[e] == 'l' {
			e = p + 5
		}
		sc.englishAfterTrigger(hit{Start: p, End: e})
	}
	for _, p := range sc.seps {
		sc.labelledName(int(p))
	}
}

func (sc *scanner) emitName(e Entity, s, end int, rule string) {
	n := len(sc.out)
	sc.emit(e, s, end, false, true, rule)
	if len(sc.out) > n {
		sc.out[n].tier = TierHeuristic
	}
}

// organisationAt reports whether the run of ideographs at t[k] names an
// organisation.
func (sc *scanner) organisationAt(k int) bool {
	t := sc.p.text
	e := k
	for n := 0; n < 12 && e < len(t); n++ {
		r, size := utf8.DecodeRune(t[e:])
		if !ideograph(r) {
			break
		}
		e += size
	}
	_, ok := companyAC.First(t[k:e])
	return ok
}

// wordsBeforeName are common words whose second character is a surname
// and which often stand right before a name: in 感谢李明同学 the name is
// 李明, not 谢李明.
var wordsBeforeName = wordSet("感谢 谢谢 多谢 鸣谢 致谢 答谢 联系 责任 主任 担任 信任 现任 前任 历史 课程 工程 过程 流程 日程 行程 全程 阶段 时候 问候 照顾 回顾 祝贺 庆贺 容易 交易 经常 正常 非常 通常 说明 声明 证明 表明 完成 组成 安全 同时 及时 当时 双方 对方 官方 相关 有关 其余 业余 支付 应付 资金 现金 奖金 方向 面向 健康 措施 实施 规范 示范 本周 每周 上周 下周 也许 或许 允许 中文 英文 语文 全文 图文 文章 中华 如何 为何 任何 提高 最高 明白 表白 邀请 申请 恭喜")

// wordAcross reports whether the rune before t[k] and the rune at t[k]
// form one of wordsBeforeName.
func wordAcross(t []byte, k int) bool {
	if k == 0 {
		return false
	}
	_, a := utf8.DecodeLastRune(t[:k])
	_, b := utf8.DecodeRune(t[k:])
	return wordsBeforeName[string(t[k-a:k+b])]
}

func runeCount(b []byte) int { return utf8.RuneCount(b) }

func endsWithAny(b []byte, words []string) bool {
	for _, w := range words {
		if len(b) >= len(w) && string(b[len(b)-len(w):]) == w {
			return true
		}
	}
	return false
}

// surnameAt returns the end of a surname at t[k], or k.
func surnameAt(t []byte, k int, ambiguousOK bool) int {
	r, size := utf8.DecodeRune(t[k:])
	if compoundSet.has(r) {
		for _, cs := range allCompounds {
			if bytes.HasPrefix(t[k:], []byte(cs)) {
				return k + len(cs)
			}
		}
	}
	if !surnameSet.has(r) || !ambiguousOK && ambiguousSet.has(r) {
		return k
	}
	return k + size
}

// nameAt reads a surname and 0–2 given-name characters at t[k] and returns
// the end, or k. Ambiguous surnames are accepted only when loose.
func (sc *scanner) nameAt(k int, loose bool) int {
	t := sc.p.text
	if k >= len(t) {
		return k
	}
	e := surnameAt(t, k, loose)
	if e == k || !loose && e-k == 3 && k+6 <= len(t) && surnameWords[string(t[k:k+6])] {
		return k
	}
	for g := 0; g < 2 && e < len(t); g++ {
		if g == 0 && loose && t[e] == ' ' && e+1 < len(t) {
			// "李 明": one space between surname and given name.
			if r, size := utf8.DecodeRune(t[e+1:]); ideograph(r) && !notGivenSet.has(r) && !sc.hitStartsAt(e+1) {
				e += 1 + size
				continue
			}
		}
		r, size := utf8.DecodeRune(t[e:])
		if !ideograph(r) || notGivenSet.has(r) || sc.hitStartsAt(e) {
			break
		}
		e += size
	}
	return e
}

// stopInside reports whether a character that ends names, or a lexicon
// word, starts in t[s:e].
func (sc *scanner) stopInside(s, e int) bool {
	t := sc.p.text
	for k := s; k < e; {
		r, size := utf8.DecodeRune(t[k:])
		if notGivenSet.has(r) || sc.hitStartsAt(k) {
			return true
		}
		k += size
	}
	return false
}

func (sc *scanner) hitStartsAt(pos int) bool {
	k := sort.Search(len(sc.hits), func(i int) bool { return sc.hits[i].End > int32(pos) })
	for ; k < len(sc.hits) && sc.hits[k].Start <= int32(pos)+9; k++ {
		if sc.hits[k].Start == int32(pos) {
			return true
		}
	}
	return false
}

// labelledName reads a name after the label ending at the separator t[p]
// (':' or '='), when the label names a person.
func (sc *scanner) labelledName(p int) {
	t := sc.p.text
	v := p + 1
	for n := 0; n < 3 && v < len(t) && t[v] == ' '; n++ {
		v++
	}
	if v < len(t) && (t[v] == '"' || t[v] == '\'') {
		v++
	}
	// Most separators (CSS, URLs, times) are not followed by a name:
	// look at the value before the label.
	if v >= len(t) || !isUpper(t[v]) && t[v] < 0xE4 {
		return
	}
	lb := labelAt(t, p, &sc.labels)
	if lb.mask&(bit(CNPersonName)|bit(PersonName)) == 0 {
		return
	}
	if t[v] >= 0xE4 && lb.weak && surnameAt(t, v, true) == v {
		return
	}
	if lb.weak && sc.personFieldsNear(v) {
		// A bare "name" beside phone, e-mail or ID fields names a person:
		// {"name":"江浩然","phone":…}.
		lb.weak = false
	}
	if t[v] >= 0x80 {
		sc.cnLabelledName(v, lb.weak)
		return
	}
	if isUpper(t[v]) {
		// After a bare "name" (JSON-LD products, shops) the name must have
		// two words and start with a common given name, as in a byline.
		min := 1
		if lb.weak {
			min = 2
		}
		if ns, e := sc.englishName(v, min, lb.weak); e > ns {
			sc.emitName(PersonName, ns, e, "person-name-label")
		}
	}
}

// personFieldsNear reports whether the value at t[v] belongs to a person:
// a schema.org Person just before it, or a context word of a phone
// number, e-mail address or resident ID within 80 runes after it.
func (sc *scanner) personFieldsNear(v int) bool {
	// schema.org: "author":{"@type":"Person","name":"…"}.
	if bytes.Contains(sc.p.text[max(0, v-48):v], []byte(`"Person"`)) {
		return true
	}
	return sc.contextWin(CNMobile, v, v, 0, 80) || sc.contextWin(Email, v, v, 0, 80) || sc.contextWin(CNResidentID, v, v, 0, 80)
}

// cnLabelledName reads a Chinese name at t[v], the value of a name label:
// any 2–4 ideographs starting with a surname, unless they name an
// organisation (companyWords: 华为技术有限公司, 张三丰酒店) or run on past
// four characters. Names in free text are found only next to a trigger:
// "张三丰酒店位于市中心" is a business and is left alone. After a bare
// "name" label (weak) the surname must not be
// ambiguous and the name at most three characters, or four with a
// compound surname.
func (sc *scanner) cnLabelledName(v int, weak bool) {
	t := sc.p.text
	e, n := v, 0
	for n < 13 && e < len(t) {
		r, size := utf8.DecodeRune(t[e:])
		if !ideograph(r) {
			break
		}
		e += size
		n++
	}
	se := surnameAt(t, v, !weak)
	if _, org := companyAC.First(t[v:e]); se == v && weak || org {
		return
	}
	if se == v {
		// A strong label (姓名, realName, 联系人) says the value is a
		// name even when its surname is one no list has: two or three
		// ideographs that are not a common word.
		if (n == 2 || n == 3) && !sc.stopInside(v, e) {
			sc.emitName(CNPersonName, v, e, "cn-name-label")
		}
		return
	}
	compound := se-v > 3
	if n >= 2 && n <= 4 && !(weak && n == 4 && !compound) && !sc.stopInside(se, e) {
		sc.emitName(CNPersonName, v, e, "cn-name-label")
		return
	}
	// "张三电话：…", "李总": the name runs into the next word.
	ne := sc.nameAt(v, !weak)
	if ne == v || ne >= len(t) {
		return
	}
	if r, _ := utf8.DecodeRune(t[ne:]); notGivenSet.has(r) || sc.hitStartsAt(ne) {
		sc.emitName(CNPersonName, v, ne, "cn-name-label")
	}
}
