package corpus

import (
	"fmt"
	"strings"
)

// Real pages are mostly markup: navigation, product grids, inline scripts
// and styles. Text and data-carrying attributes were 24% of the HTML bytes
// in a measurement of real pages; boilerplate brings generated pages to a
// similar share and size, and adds numeric look-alikes in places the
// filter scans (links) and does not (data attributes, scripts).

var menu = []string{"工业自动化", "智能制造", "传感器", "工控机", "伺服电机", "变频器", "PLC控制器", "人机界面", "机器视觉", "工业机器人", "仪器仪表", "低压电器", "电线电缆", "五金工具", "安防监控", "办公用品"}
var products = []string{"无线蓝牙耳机 主动降噪 长续航", "不锈钢保温杯 500ml 大容量", "机械键盘 青轴 RGB背光", "儿童绘本套装 全12册", "智能手环 心率监测 防水", "便携式充电宝 20000毫安", "家用空气净化器 除甲醛", "电动牙刷 声波震动 软毛"}

const css = `<style>
.header{position:sticky;top:0;z-index:100;background:#fff;box-shadow:0 1px 4px rgba(0,0,0,.08)}
.menu{display:flex;flex-wrap:wrap;list-style:none;margin:0;padding:0 16px}.menu-item a{display:block;padding:12px 14px;color:#222;text-decoration:none;font-size:14px}
.menu-item a:hover{color:#e4393c}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:16px;padding:16px}
.product-card{border:1px solid #eee;border-radius:6px;padding:10px;transition:box-shadow .2s}.product-card:hover{box-shadow:0 4px 12px rgba(0,0,0,.12)}
.p-name{height:40px;overflow:hidden;line-height:20px;font-size:13px}.p-price{color:#e4393c;font-size:18px;font-weight:700}
@media (max-width:768px){.grid{grid-template-columns:repeat(2,1fr)}.menu-item a{padding:8px}}
</style>
`

func (w *builder) boiler(en bool) {
	w.raw(css)
	w.raw(`<header class="header"><ul class="menu" id="menu-main">`)
	for i := range 24 + w.r.IntN(24) {
		m := menu[w.r.IntN(len(menu))]
		if en {
			m = []string{"Products", "Solutions", "Support", "Downloads", "Partners", "Investors", "Press", "Events"}[w.r.IntN(8)]
		}
		w.rawf(`<li class="menu-item menu-item-type-taxonomy menu-item-object-category menu-item-%d"><a href="/category/%d/" title="%s">%s</a></li>`, 1000+i, 100+w.r.IntN(900), m, m)
	}
	w.raw("</ul></header>\n")
	w.raw(`<div class="grid">`)
	for range 8 + w.r.IntN(12) {
		sku := "100" + w.digits(9)
		name := products[w.r.IntN(len(products))]
		price := fmt.Sprintf("%d.%02d", 10+w.r.IntN(3000), w.r.IntN(100))
		w.rawf(`<div class="product-card" data-sku="%s" data-price="%s" data-spm="a2h0c.%d.%d"><a href="/`, sku, price, w.r.IntN(100000), w.r.IntN(1000))
		w.decoy("item/" + sku + ".html")
		w.rawf(`" target="_blank"><img src="https://img.example.cn/n1/s230x230_jfs/t1/%d/%d/%d/%d/%x.jpg" alt="%s" loading="lazy" width="230" height="230"></a>`,
			w.r.IntN(100000), w.r.IntN(30), w.r.IntN(100000), w.r.IntN(1000000), w.r.Uint64(), name)
		w.rawf(`<div class="p-name"><a href="/item/%s.html" title="%s"><em>%s</em></a></div><div class="p-price"><i>¥</i>`, sku, name, name)
		w.decoy(price)
		w.raw(`</div></div>`)
	}
	w.raw("</div>\n")
	var js strings.Builder
	js.WriteString(`<script>window.__INITIAL_STATE__={"page":{"id":`)
	fmt.Fprintf(&js, `%d,"ts":%d,"abtest":"%x","items":[`, w.r.IntN(1e6), 1700000000000+w.r.Int64N(1e10), w.r.Uint64())
	for i := range 20 {
		if i > 0 {
			js.WriteByte(',')
		}
		fmt.Fprintf(&js, `{"skuId":"%s","shopId":%d,"venderId":%d,"price":"%d.00","stock":%d,"cat":[%d,%d,%d]}`,
			"100"+w.digits(9), w.r.IntN(1e7), w.r.IntN(1e7), w.r.IntN(5000), w.r.IntN(999), w.r.IntN(9999), w.r.IntN(99999), w.r.IntN(99999))
	}
	js.WriteString(`]}};(function(){var s=document.createElement("script");s.async=true;s.src="https://hm.example.cn/hm.js?` + fmt.Sprintf("%x", w.r.Uint64()) + `";var x=document.getElementsByTagName("script")[0];x.parentNode.insertBefore(s,x)})();</script>` + "\n")
	w.raw(js.String())
}
