package pii

import (
	"strings"
	"unicode/utf8"
)

// surnames holds single-character Chinese surnames: the roughly 500 most
// frequent (together well over 99% of the population) and rarer ones met
// in contact data (仇 寇 亓 訾 佘 邝 缪 谯 禤 阚 鲜 笪 暴 揭). Those that are
// also common words are in ambiguousSurnames as well.
const surnames = "" +
	"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱丘江尹薛阎闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由洪赖邴訾谯禤笪暴寿郦钮濮郗滑汲糜松弓牧隗山宓仰秋钭韶蓟怀鄂咸籍苍双莘贡逄扶堵宰郤璩郏充习宦庾暨弘禄殳沃蔚越夔厍融巢蒯竺益桓汝钦缑郈琴归墨仉郄荀羿员渠靖贲郇矫佴岐雒睢綦操闪"

// ambiguousSurnames are surnames that are also common words or word
// starts; they count only in strong contexts: right before 先生/女士/小姐,
// after a trigger and a separator, or after a field label.
const ambiguousSurnames = "文方高于向成全时明华安常温康关车白石金江龙乐平国海云花强丰元富信利宁计相门来都普那双南原师商和应单包解路尚谷管席宫官古司边查展衣玉银山满楼盘区位党项费房连冷伍盛苗甘祝舒纪童凌毕季霍涂曲游蓝简卫米宗巫沙荣郎丛仲池麻封谈惠荆冀燕楚劳皮练廉井祖漆巴支卿索宣晋初容敬鹿薄母修印隆战危公居干但束智幸奉植衡由寿松弓牧仰秋怀贡扶宰充弘禄越融巢益归墨"

// surnameWords are common two-character words that start with an
// unambiguous surname: 记者周末走访 and 许多同学 name no one. They end a
// name reading that is not loose.
var surnameWords = wordSet("周末 周年 周边 周期 周围 周一 周二 周三 周四 周五 周六 周日 周岁 周到 周转 王国 王者 王牌 王朝 黄金 黄色 黄昏 马上 马路 张贴 张开 程序 程度 陈述 陈列 陈旧 杨柳 胡同 胡乱 林业 罗列 郑重 谢谢 宋体 唐朝 许多 许可 许久 韩国 韩元 曾经 田野 田地 董事 潘多 余额 余下 杜绝 叶子 苏醒 任何 任务 任意 任职 任课 任教 钟表 钟头 陆续 陆地 范围 范畴 夏天 夏季 付款 付费 付出 熊猫 孟子 段落 雷达 黎明 史上 陶瓷 贺卡 顾客 顾问 毛病 毛巾 毛利 万元 万一 万分 钱包 严重 严格 严禁 武器 武汉 戴上 孔子 易于 牛奶 洪水 齐全 庞大 颜色 骆驼 欧洲 欧元 章节 柳树 申请 申报 左右 左边 柴油 岳父 岳母 耿直 姜汤 梅花 辛苦 鲍鱼 屈服 艾滋 尤其 阳光 穆斯 农业 农村 卓越 吉祥 芦苇 麦克 景色 景点 柏油 桂花 仇恨 桑拿 甄别 巩固 迟到 鞠躬 郁闷 班级 储存 栗子 闻名 厉害 伊斯 权利 帅哥 屠宰 豆腐 朴素 盖章 戈壁 辜负 羊肉 阿姨 乌鲁 杭州 况且 宿舍 鲜花 诸位 哈哈 湛江 宾馆 勾选 茅台 呼吁 揭示 檀香 阴天 洪流 咸鱼 习惯 蔚蓝 操作 闪电 符合 焦点 蒙古 蒲公 帅气 浦东 闭幕 籍贯 苍蝇 堵车 员工 渠道")

// compoundSurnames are the common two-character surnames.
var compoundSurnames = []string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "闾丘", "澹台", "端木", "呼延", "南宫", "西门", "万俟", "百里", "独孤", "第五", "太史", "申屠", "公羊", "赫连", "拓跋", "司空", "东郭", "鲜于", "宗政", "濮阳", "单于", "淳于", "公冶", "仲孙", "左丘", "谷梁", "乐正", "壤驷", "漆雕", "巫马", "亓官", "羊舌", "微生", "梁丘", "东门", "段干", "公西", "子车", "颛孙", "司寇", "完颜", "耶律", "爱新觉罗", "叶赫那拉"}

// notGiven are characters that end a name: they start the next word in
// contact lines far more often than they end a given name.
const notGiven = "电手联地邮先女的总工经董老在是和与及等公司有限为于了请您我你他她们座传号码住址姓名话机箱址备注性别职务部门年月日时分"

func runeIn(r rune, set string) bool { return strings.ContainsRune(set, r) }

// ideoSet is a set of ideographs (U+4E00–U+9FFF) as a bitmap.
type ideoSet [(0x9FFF - 0x4E00 + 64) / 64]uint64

func newIdeoSet(chars ...string) *ideoSet {
	var s ideoSet
	for _, cs := range chars {
		for _, r := range cs {
			if ideograph(r) {
				s[(r-0x4E00)/64] |= 1 << ((r - 0x4E00) % 64)
			}
		}
	}
	return &s
}

func (s *ideoSet) has(r rune) bool {
	return ideograph(r) && s[(r-0x4E00)/64]&(1<<((r-0x4E00)%64)) != 0
}

// traditionalSurnames are the traditional-script forms of surnames whose
// simplified form differs (罗 羅, 吴 吳, 杨 楊): Hong Kong, Macau and
// Taiwan pages write them so. Those whose simplified form is ambiguous are
// in traditionalAmbiguous too.
const traditionalSurnames = "張劉陳楊黃趙吳孫馬鄭謝許韓馮鄧蕭葉蔣蘇呂盧鍾譚陸賈韋鄒閻薛龍賀顧龔萬錢嚴湯溫齊龐顏駱歐聶魯關車時華羅鄔區廣盤駱鮑饒曉滕鄺勞黎閔寧談畢邊單賴聞彭濮壽蘆鄢嶽魏熊趙鄺樂淩淩凌聶祿綦藍闞遊"

const traditionalAmbiguous = "溫關車時華廣盤寧邊單樂"

// traditionalCompounds are compound surnames in traditional script.
var traditionalCompounds = []string{"歐陽", "司馬", "諸葛", "東方", "尉遲", "公孫", "長孫", "軒轅", "鍾離", "閭丘", "澹臺", "南宮", "萬俟", "獨孤"}

// allCompounds are the compound surnames in both scripts.
var allCompounds = append(append([]string(nil), compoundSurnames...), traditionalCompounds...)

// baijiaxing is every single-character surname of the Hundred Family
// Surnames (百家姓) and rarer ones met in contact data (禚 亓 谯 禤 笪 冼
// 粟 麦 佟). Those not among the frequent ones above count only in strong
// contexts, as ambiguous ones do: many are common words (水 云 花 和).
const baijiaxing = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛奚范彭郎鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐于时傅皮卞齐康伍余元卜顾孟平黄和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危江童颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍虞万支柯昝管卢莫经房裘缪干解应宗丁宣贲邓郁单杭洪包诸左石崔吉钮龚程嵇邢滑裴陆荣翁荀羊於惠甄曲家封芮羿储靳汲邴糜松井段富巫乌焦巴弓牧隗山谷车侯宓蓬全郗班仰秋仲伊宫宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙池乔阴胥能苍双闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍卻璩桑桂濮牛寿通边扈燕冀郏浦尚农温别庄晏柴瞿阎充慕连茹习宦艾鱼容向古易慎戈廖庾终暨居衡步都耿满弘匡国文寇广禄阙东欧殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚那简饶空曾毋沙乜养鞠须丰巢关蒯相查后荆红游竺权逯盖益桓公仉督岳帅缑亢况郈有琴归海晋楚闫法汝鄢涂钦商牟佘佴伯赏墨哈谯笪年爱阳佟言福禚亓禤冼粟麦练植揭覃付肖丘区"

var (
	surnameSet   = newIdeoSet(surnames, traditionalSurnames, baijiaxing)
	ambiguousSet = func() *ideoSet {
		s := newIdeoSet(ambiguousSurnames, traditionalAmbiguous)
		known := newIdeoSet(surnames, traditionalSurnames)
		for _, r := range baijiaxing {
			if !known.has(r) {
				s[(r-0x4E00)/64] |= 1 << ((r - 0x4E00) % 64)
			}
		}
		return s
	}()
	notGivenSet = newIdeoSet(notGiven)
	compoundSet = func() *ideoSet {
		var firsts []string
		for _, cs := range allCompounds {
			r, _ := utf8.DecodeRuneInString(cs)
			firsts = append(firsts, string(r))
		}
		return newIdeoSet(firsts...)
	}()
)
