package crawler

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// scanLinksTokenizer is scanLinks as it was written on
// golang.org/x/net/html's Tokenizer, with its bounds as parameters: the
// oracle the hand-written scanner must agree with, byte for byte.
func scanLinksTokenizer(body []byte, meta func(name, content string), tokens, links int) (out []htmlLink, base string, hasBase bool) {
	z := html.NewTokenizer(bytes.NewReader(body))
	for range tokens {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if !hasAttr {
			continue
		}
		a := atom.Lookup(name)
		if a != atom.A && a != atom.Area && a != atom.Base && (a != atom.Meta || meta == nil) {
			continue
		}
		var href, rel, mname, content string
		var hasHref, hasRel, hasName, hasContent bool
		for more := true; more; {
			var k, v []byte
			k, v, more = z.TagAttr()
			switch string(k) {
			case "href":
				if !hasHref {
					href, hasHref = string(v), true
				}
			case "rel":
				if !hasRel {
					rel, hasRel = string(v), true
				}
			case "name":
				if !hasName {
					mname, hasName = strings.ToLower(strings.TrimSpace(string(v))), true
				}
			case "content":
				if !hasContent {
					content, hasContent = string(v), true
				}
			}
		}
		switch {
		case a == atom.Meta:
			meta(mname, content)
		case !hasHref:
		case a == atom.Base:
			if !hasBase {
				base, hasBase = href, true
			}
		case len(out) < links:
			out = append(out, htmlLink{href: href, rel: rel})
		}
	}
	return out, base, hasBase
}

// scanResult is everything a scan gives: links, base and meta calls.
type scanResult struct {
	links   []htmlLink
	base    string
	hasBase bool
	metas   []string
}

func (r scanResult) equal(o scanResult) bool {
	return slices.Equal(r.links, o.links) && r.base == o.base && r.hasBase == o.hasBase && slices.Equal(r.metas, o.metas)
}

func (r scanResult) String() string {
	return fmt.Sprintf("links %q base %q (%v) metas %q", r.links, r.base, r.hasBase, r.metas)
}

// scanBoth scans body with the oracle and with scanLinks' scanner, with
// the given bounds.
func scanBoth(body []byte, tokens, links int) (oracle, got scanResult) {
	oracle.links, oracle.base, oracle.hasBase = scanLinksTokenizer(body, func(n, c string) {
		oracle.metas = append(oracle.metas, n+"\x00"+c)
	}, tokens, links)
	s := linkScanner{b: body, tokens: tokens, maxLinks: links, meta: func(n, c string) {
		got.metas = append(got.metas, n+"\x00"+c)
	}}
	s.scan()
	got.links, got.base, got.hasBase = s.links(), s.base, s.hasBase
	return oracle, got
}

// checkScan fails t if scanLinks' scanner and the oracle disagree on
// body, at the real bounds, at small ones, and without a meta callback.
func checkScan(t *testing.T, body []byte, tokens, links int) {
	t.Helper()
	for _, bound := range [][2]int{{maxTokens, maxLinks}, {tokens, links}} {
		want, got := scanBoth(body, bound[0], bound[1])
		if !got.equal(want) {
			t.Fatalf("%q with at most %d tokens, %d links:\n got %v\nwant %v", body, bound[0], bound[1], got, want)
		}
	}
	wl, wb, wh := scanLinksTokenizer(body, nil, maxTokens, maxLinks)
	gl, gb, gh := scanLinks(body, nil)
	if !slices.Equal(gl, wl) || gb != wb || gh != wh {
		t.Fatalf("%q without meta: got %q %q %v, want %q %q %v", body, gl, gb, gh, wl, wb, wh)
	}
}

// scanCases are pages and fragments at the edges of the Tokenizer's
// states; FuzzScanLinks starts from them too.
var scanCases = []string{
	"",
	"plain text",
	`<a href="/x">x</a>`,
	`<A HREF="/X" REL=NoFollow>x</A><AREA Href=/y>`,
	`<a href="/first" href="/second" HREF="/third">`,
	`<a rel=a rel=b href=c>`,
	`<a href=/x/>`, `<a href=/x />`, `<a/href=/x>`, `<a href/>`, `<a href = "/sp" >`, `<a href= >`, `<a href=>`,
	`<a =href=/x href=/y>`, `<a = href=/x>`, `<meta =x>`, `<meta / >`, `<a / href=/x>`, `<a ==x href=/y>`, `<a href=="/x">`, `<a "href"=/x href=/y>`,
	`<a href='it"s'>`, `<a href="it's">`, `<a href=a"b'c>`, "<a href=\"a\r\nb\rc\">", "<a href=\"a\x00b\">", "<a\x00 href=/x>", "<a href\x00=/x href=/y>",
	`<a href="/x`, `<a href=/x`, `<a href`, `<a`, `<`, `</`, `<a `, `<a href=`, `<a href="`, `text<`, `text</`, `<!`, `<!-`, `<?`, `</x`,
	`<a href="&amp;&amp&lt;&gt;&quot;&apos;&nbsp;">`,
	`<a href="?a=1&amp;b=2&ampc=3&amp=4&amp;=5">`,
	`<a href="&ampx=1&copy=2&copy;&copy&notify=1&not;&notin;&notit;&fjlig;&AMP;&Amp;">`,
	`<a href="&#x2F;&#47;&#x2f&#47&#;&#x;&#xZ&#0;&#128;&#x80;&#x9F;&#xD800;&#x110000;&#99999999999;&#x10FFFF;">`,
	`<a href="&;&&&#&#x&a&ab;&;x&lt=&lt;=&ltx&gt1">`,
	"<a href='&amp\r\n&#13;'>",
	`<base href="/b1"><base href="/b2"><a href=x>`,
	`<base><base target=_blank><base href="">`,
	`<meta><meta name=robots content=noindex><meta NAME=" Robots " CONTENT="a&amp;b"><meta charset=utf-8><meta/x>`,
	`<meta name=a name=b content=c content=d>`,
	`<script>var s = "</script><a href=/after>";</script><a href=/real>`,
	`<script>document.write("<\/script><a href=/no>")</script><a href=/yes>`,
	`<script>if (a</b) {} "</scrip" + "t>" </ScRiPt><a href=/yes>`,
	`<script><!-- <a href=/no> --></script><a href=/yes>`,
	`<script><!--<script>a</script><a href=/no></script>--></script><a href=/yes>`,
	`<script><!--<script>a</script><a href=/still-script>`,
	`<script><!--<script>--><a href=/x></script><a href=/y>`,
	`<script><!--<SCRIPT/>-></script x><a href=/y>`,
	`<script><!--<scripty></script><a href=/y>`,
	`<script><!--</scriptx></script><a href=/y>`,
	`<script><!--<b></script><a href=/y>`,
	`<script><!-x</script><a href=/y>`,
	`<script><!--<1<script></script><a href=/yes></script><a href=/y>`,
	`<script><!-- -><script></script><a href=/no></script><a href=/y>`,
	`<script><!-- --><script></script><a href=/yes></script><a href=/y>`,
	`<script><!--<script>--!></script><a href=/no></script><a href=/y>`,
	`<script><!--<script>--><script></script><a href=/yes></script><a href=/y>`,
	`<script><!--->` + `</script><a href=/y>`,
	`<script><!--<script ---></script><a href=/y>`,
	`<script><!--<script><-</script></script><a href=/y>`,
	`<script><!--<script>-<</script></script><a href=/y>`,
	`<script/><a href=/in-script>`, `<script></script><a href=/y>`, `<title></title><a href=/y>`, `<plaintext>`, `<script>`, `<script>x`, `<script><!--`, `<script><!--<script`, `<script><!--<script>`, `<script></scrip`, `<script></script`,
	`<style>a{b:"</style"}</style><a href=/y>`, `<style></styles></style ><a href=/y>`,
	`<title><a href=/no></title><a href=/yes>`, `<TITLE>&amp;</title/><a href=/yes>`,
	`<textarea><a href=/no></textarea><a href=/yes>`,
	`<xmp><a href=/no></xmp><a href=/y>`, `<iframe><a href=/no></iframe><a href=/y>`, `<noembed><a href=/no></noembed><a href=/y>`,
	`<noframes><a href=/no></noframes><a href=/y>`, `<noscript><a href=/no></noscript><a href=/y>`,
	`<plaintext><a href=/no></plaintext><a href=/no>`,
	`<title x="</title>">a</title><a href=/y>`, `<title>a</title x=">"><a href=/y>`,
	`<!-- <a href=/no> --><a href=/y>`, `<!--><a href=/y>`, `<!---><a href=/y>`, `<!----><a href=/y>`, `<!-- --!><a href=/y>`,
	`<!-- -- ><a href=/no>--><a href=/y>`, `<!-- --!-><a href=/no>--><a href=/y>`, `<!-- --!!><a href=/no>--><a href=/y>`,
	`<!-- -!><a href=/no>--><a href=/y>`, `<!--!><a href=/no>--><a href=/y>`, `<!--->x<a href=/no>--><a href=/y>`, `<!---x-><a href=/no>--><a href=/y>`,
	`<!-- no end <a href=/no>`, `<!-- --!`,
	`<!doctype html><a href=/y>`, `<!DOCTYPE`, `<!DOC`, `<!DOCTYPE html`, `<!DOCTYPEhtml><a href=/y>`, `<!x><a href=/y>`, `<!><a href=/y>`, `<![CDATA[<a href=/no>]]><a href=/y>`,
	`<?xml version="1.0"?><a href=/y>`, `<?><a href=/y>`, `</><a href=/y>`, `</ x><a href=/y>`, `</3><a href=/y>`, `</a x=">"><a href=/y>`, `</a href=/no>`,
	`< a href=/no><1a href=/no><<a href=/y>`, `<a<b href=/no>`, `<a\x00 href=/no>`,
	"<a href=\"\xff\xfe\">", "<a href=/\xc3>", "\xff<a href=/y>",
	"<a\thref=/t\n\frel=x\r>",
	"<svg><a href=/in-svg></a><title><a href=/in-svg-title></title></svg>",
}

func TestScanLinksCases(t *testing.T) {
	for _, c := range scanCases {
		for n := 1; n < 12; n++ {
			checkScan(t, []byte(c), n, 1+n%3)
		}
	}
}

// TestScanLinksPages checks realistic pages, whole and cut at every byte
// near their tags and comments in their first 4 KB (the head of the news
// article, with its scripts).
func TestScanLinksPages(t *testing.T) {
	for name, page := range scanSeedPages(t) {
		t.Run(name, func(t *testing.T) {
			checkScan(t, page, 50, 10)
			for i := range min(len(page), 4000) {
				if page[i] == '<' || page[i] == '>' || page[i] == '-' {
					checkScan(t, page[:i], 7, 3)
					checkScan(t, page[:i+1], 300, 20)
				}
			}
		})
	}
}

// TestUnescapeAttr checks attrValue, quoted each way the page could
// write it, against the Tokenizer's TagAttr.
func TestUnescapeAttr(t *testing.T) {
	values := []string{
		"&amp;", "&amp", "&lt;", "&lt", "&gt;", "&gt", "&quot;", "&quot", "&apos;", "&nbsp;", "&nbsp",
		"&ampx=1", "&amp=1", "&amp;=1", "&ampx", "&amp;x", "&copy=2", "&copy;", "&copy", "&copyx", "&notify", "&not=", "&notin;", "&notit;",
		"&fjlig;", "&AMP;", "&Amp;", "&;", "&", "&&", "&#", "&#;", "&#x", "&#xg", "&#38;", "&#x26", "&#128;", "&#x9f;", "&#0;", "&#xd800;",
		"&#x110000;", "&#1114111;", "&#1114112;", "&#9999999999999;", "&#x2F;", "&#47", "a&b=c", "q?x=1&y=2&z", "&lang=en", "&para=1", "&sect;",
		"a\x00b", "a\r\nb", "a\rb\r", "\r&amp;\x00", "&am", "&a", "&ab;", "&xx;", "&zwj;", "&NotNestedGreaterGreater;",
	}
	for _, v := range values {
		for _, q := range []string{`"`, `'`, ""} {
			if q == "" && strings.ContainsAny(v, " \t\n\r\f>") {
				continue
			}
			tag := "<a v=" + q + v + q + ">"
			z := html.NewTokenizer(strings.NewReader(tag))
			z.Next()
			_, want, _ := z.TagAttr()
			var quote byte
			if q != "" {
				quote = q[0]
			}
			if got := attrValue([]byte(v), quote); got != string(want) {
				t.Errorf("%s: got %q, want %q", tag, got, want)
			}
		}
	}
	// commonEntity's references decode, as attribute values, to what it
	// says, before anything that does not continue their name.
	for _, ref := range []string{"&amp;", "&amp", "&lt;", "&lt", "&gt;", "&gt", "&quot;", "&quot", "&apos;", "&nbsp;", "&nbsp"} {
		r, ok := commonEntity([]byte(ref))
		for _, after := range []string{"", "/", "?", "&", "#", "-", "%20", "\u00e9"} {
			z := html.NewTokenizer(strings.NewReader(`<a v="` + ref + after + `">`))
			z.Next()
			if _, want, _ := z.TagAttr(); !ok || r+after != string(want) {
				t.Errorf("commonEntity(%q) = %q, %v; the Tokenizer reads %q as %q", ref, r, ok, ref+after, want)
			}
		}
	}
}

// FuzzScanLinks checks that for any page scanLinks gives what the
// Tokenizer-based scanner gives: the same links, base and meta calls, at
// the real bounds and at small ones (tokens, links).
//
//	go test -run '^$' -fuzz FuzzScanLinks -fuzztime 5m ./crawler/
func FuzzScanLinks(f *testing.F) {
	for _, c := range scanCases {
		f.Add([]byte(c), uint8(5), uint8(2))
	}
	for _, page := range scanSeedPages(f) {
		f.Add(page, uint8(40), uint8(3))
	}
	f.Fuzz(func(t *testing.T, body []byte, tokens, links uint8) {
		checkScan(t, body, int(tokens), int(links))
	})
}

// scanSeedPages returns realistic pages: this package's link test pages,
// the benchmark pages, and the HTML files the repository keeps.
func scanSeedPages(tb testing.TB) map[string][]byte {
	tb.Helper()
	pages := map[string][]byte{
		"news-article": newsArticle(),
		"crawl5000":    crawlBenchPage(7),
	}
	for name, p := range linkPages {
		pages["linkPages/"+name] = []byte(p)
	}
	files, err := filepath.Glob("../*/templates/*.html")
	if err != nil {
		tb.Fatal(err)
	}
	more, err := filepath.Glob("../*/*/testdata/*/*.html")
	if err != nil {
		tb.Fatal(err)
	}
	for _, name := range append(files, more...) {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		pages[name] = b
	}
	return pages
}

// crawlBenchPage is page i of BenchmarkCrawl5000's site (benchSite).
func crawlBenchPage(i int) []byte {
	var b bytes.Buffer
	filler := strings.Repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>", 40)
	fmt.Fprintf(&b, "<html><head><title>Page %d</title></head><body><h1>Page %d</h1>%s", i, i, filler)
	for _, j := range []int{2*i + 1, 2*i + 2, i + 1} {
		fmt.Fprintf(&b, `<a href="/p/%d">next</a> `, j)
	}
	b.WriteString("</body></html>")
	return b.Bytes()
}

// newsArticle is a news article as sites serve it (~50 KB): meta tags,
// head scripts with markup in strings and comments, inline JSON, styles,
// comments, a navigation of 100 links, the article with entities in its
// links, and a footer.
func newsArticle() []byte {
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html>
<html lang="en" class="no-js">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="index, follow, max-image-preview:large">
<meta property="og:title" content="City council approves the new tram line &amp; budget">
<meta name="description" content="The council voted 31 to 12 on Tuesday evening to fund the tram line&#x2026;">
<title>City council approves the new tram line &amp; budget | The Daily Example</title>
<link rel="canonical" href="https://news.example.org/2026/12/01/tram-line-approved">
<link rel="stylesheet" href="/static/css/main.3f9a1c.css">
<link rel="preload" href="/static/fonts/serif.woff2" as="font" type="font/woff2" crossorigin>
<style>
  body{font-family:Georgia,serif;margin:0} .nav a[href^="/section/"]{color:#222} /* <a href="/in-style"> */
  .article p:first-child::first-letter{font-size:3em} @media (max-width:600px){.nav{display:none}}
</style>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"City council approves the new tram line","datePublished":"2026-12-01T18:04:00Z","author":[{"@type":"Person","name":"A. Writer","url":"https://news.example.org/authors/a-writer"}],"publisher":{"@type":"Organization","name":"The Daily Example","logo":{"@type":"ImageObject","url":"https://news.example.org/logo.png"}}}</script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date()); gtag('config', 'G-XXXXXXX');
  var ad = '<div class="ad"><a href="/in-script">ad</a></div>';
  document.write('<script src="/static/js/ads.js"><\/script>');
  if (a < b && c > d) { console.log("</scr" + "ipt>"); }
</script>
<script><!--
  // an old-style hidden script
  var legacy = "<script>not really</script>";
--></script>
<!--[if lt IE 9]><script src="/static/js/html5shiv.js"></script><![endif]-->
</head>
<body class="article-page">
<!-- header -->
<header><a href="/" class="logo"><img src="/logo.svg" alt="The Daily Example"></a>
<form action="/search" method="get"><input type="search" name="q" placeholder="Search&hellip;"><button>Go</button></form></header>
<nav class="nav"><ul>
`)
	sections := []string{"world", "politics", "business", "tech", "science", "health", "sport", "culture", "travel", "opinion"}
	for i := range 100 {
		fmt.Fprintf(&b, "<li class=\"nav-item\"><a href=\"/section/%s/%d?ref=nav&amp;pos=%d\" data-track='nav-%d'>%s %d</a></li>\n", sections[i%10], i, i, i, strings.ToUpper(sections[i%10][:1])+sections[i%10][1:], i)
	}
	b.WriteString(`</ul></nav>
<main><article class="article">
<h1>City council approves the new tram line &amp; budget</h1>
<p class="byline">By <a href="/authors/a-writer" rel="author">A. Writer</a> &middot; <time datetime="2026-12-01T18:04:00Z">1 December 2026</time></p>
`)
	for i := 0; b.Len() < 44000; i++ {
		fmt.Fprintf(&b, `<p>The council's transport committee said the line, which will run %d km from the station to the university, would carry &ldquo;tens of thousands&rdquo; of passengers a day. Critics &mdash; including the <a href="https://other.example.net/opposition?id=%d&amp;lang=en">opposition group</a> &mdash; said the cost estimates were too low, and pointed to <a href=/reports/%d.pdf>last year's report</a>. <!-- editor: check figure --> Residents can <a href="mailto:letters@example.org?subject=Tram%%20line">write to us</a>.</p>
`, i+3, i, 2020+i)
		if i%4 == 3 {
			fmt.Fprintf(&b, `<figure><img src="/img/tram-%d.jpg" alt="A tram &quot;test run&quot;" loading=lazy><figcaption>Photo: <a href="/photographers/%d" rel="nofollow">Staff</a></figcaption></figure>
<script>window.__ads.push({slot:"mid-%d",html:"<a href='/in-script-ad'>x</a>"});</script>
`, i, i, i)
		}
	}
	b.WriteString(`</article>
<aside><h2>Most read</h2><ol>`)
	for i := range 10 {
		fmt.Fprintf(&b, `<li><a href="/2026/11/%02d/story-%d" title="Story %d">Story %d</a></li>`, i+1, i, i, i)
	}
	b.WriteString(`</ol></aside></main>
<footer><p>&copy; 2026 The Daily Example &middot; <a href="/privacy">Privacy</a> &middot; <a href="/terms">Terms</a> &middot; <a href="/contact">Contact</a></p>
<noscript><img src="/pixel.gif?noscript=1" alt=""></noscript></footer>
<script src="/static/js/main.8c2e1f.js" defer></script>
<script>
  (function(){var s=document.createElement('script');s.async=true;s.src='/static/js/comments.js';
  document.body.appendChild(s);})();
</script>
</body>
</html>
`)
	return b.Bytes()
}

// BenchmarkScanLinks compares scanLinks with the Tokenizer-based scanner
// it replaced, on a news article and on BenchmarkCrawl5000's page.
//
//	go test -run '^$' -bench ScanLinks -count 10 ./crawler/ | tee scan.txt
//	benchstat -col /impl scan.txt
func BenchmarkScanLinks(b *testing.B) {
	meta := func(name, content string) {}
	for _, page := range []struct {
		name string
		body []byte
	}{{"news", newsArticle()}, {"crawl5000", crawlBenchPage(7)}} {
		b.Run("page="+page.name+"/impl=tokenizer", func(b *testing.B) {
			b.SetBytes(int64(len(page.body)))
			b.ReportAllocs()
			for b.Loop() {
				scanLinksTokenizer(page.body, meta, maxTokens, maxLinks)
			}
		})
		b.Run("page="+page.name+"/impl=scanner", func(b *testing.B) {
			b.SetBytes(int64(len(page.body)))
			b.ReportAllocs()
			for b.Loop() {
				scanLinks(page.body, meta)
			}
		})
	}
}

// soupPieces are the bits of markup the Tokenizer's states turn on;
// TestScanLinksSoup strings them together at random.
var soupPieces = []string{
	"<", ">", "</", "/", "/>", "<!", "<!--", "-->", "--", "-", "!", "--!>", "<?", "=", " ", "\t", "\r\n", "\r", "\x00", `"`, "'", "x", "1",
	"a", "A", "<a", "<a ", "<area", "<base", "<meta", "href", "HREF", "rel", "name", "content", "=/p", `="/q"`, "='r'", "=s t",
	"script", "<script>", "</script>", "<SCRIPT", "</script", "<script/", "style", "<style>", "</style>", "<title>", "</title>",
	"<textarea>", "</textarea>", "<xmp>", "<plaintext>", "<noscript>", "</noscript ", "<iframe>", "</iframe>",
	"&", "&amp;", "&amp", "&ampx", "&lt", "&#", "&#x2F;", "&#128;", "&copy=", "&not", "&notin;", ";", "#",
	"<!DOCTYPE html>", "<!doctype", "\xff", "é", "<b>", "</b>", "<p/>",
}

// TestScanLinksSoup checks the scanner against the oracle on random
// strings of markup pieces, from a fixed seed.
func TestScanLinksSoup(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	var b strings.Builder
	for range n {
		b.Reset()
		for range 1 + rng.IntN(40) {
			b.WriteString(soupPieces[rng.IntN(len(soupPieces))])
		}
		checkScan(t, []byte(b.String()), 1+rng.IntN(30), 1+rng.IntN(5))
	}
}
