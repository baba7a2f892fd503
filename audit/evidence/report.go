package evidence

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goodbot/goodbot/audit"
)

// The report is one HTML file with inline CSS and an inline SVG chart: it
// opens in any browser, offline, and runs no script.

type reportData struct {
	Info        Info
	Checkpoint  string
	Keys        []string
	First, Last string
	UserAgents  []string
	Versions    []string
	Fetches     int
	Bytes       int64
	// Revisits counts conditional revisits answered 304, and Spared the
	// body bytes they spared the site.
	Revisits    int
	Spared      int64
	Statuses    []kv
	Decisions   []kv
	Refusals    []kv
	PII         []kv
	Dropped     int
	Chart       template.HTML
	ChartNote   string
	Budgets     []budgetRow
	Robots      []robotsRow
	Complaints  []complaintRow
	Deletions   []deletionRow
	Pages       []page
	Unproven    int
	Relaxations []string

	// The exhibit: who, why, the load against the lines that matter,
	// every request, the complaint timeline.
	Operator, Job, Purpose string
	// Declared lists the purposes the crawl's runs declared (the config
	// entries' "purpose" setting), which decided what was stored.
	Declared     []string
	Load         loadFacts
	Requests     [][]requestRow // pages of the appendix
	RequestCount int
	Timeline     []timelineRow
	LastRequest  string
	Root         string
	FirstKey     string
}

// loadFacts backs the load sentence.
type loadFacts struct {
	Peak                        int
	PeakHour                    string
	EstimatePerHour             float64
	Source                      string
	PeakPct, LimitPct, Art16Pct float64
	Known                       bool
}

// requestRow is one line of the per-request appendix.
type requestRow struct {
	Time, URL, Verdict, Reason, Status, Next string
}

// timelineRow is one line of the complaint timeline.
type timelineRow struct {
	ID, Received, Applied, LastSent, Statement, StatementZH string
	After                                                   int
}

// rowsPerPage is how many requests the appendix prints on one A4 page.
const rowsPerPage = 28

type kv struct {
	K string
	V int
}

type budgetRow struct {
	Time, Change, Source, Reason string
	PerDay, Estimate             float64
	Low, High                    float64 // the estimate's range; zero in older logs
	Interval                     time.Duration
}

type robotsRow struct {
	Time, URL, SHA256, Policy, Error, Body string
	Status                                 int
	HasCopy                                bool
	CrawlDelay                             time.Duration
}

type complaintRow struct{ Time, ID, Action, Reason, Contact string }

type deletionRow struct {
	Time, Complaint string
	Records         int
	Bytes           int64
	Digests         int
}

func sortedKV(m map[string]int) []kv {
	var out []kv
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].V > out[j].V || out[i].V == out[j].V && out[i].K < out[j].K })
	return out
}

// contactOf returns the operator's contact: the settings' contact, or the
// one goodbot's User-Agent carries ("goodbot/1 (+mailto:ops@example.org)").
func contactOf(c *audit.Config) string {
	if v := operatorOf(c); v != "see the User-Agent" {
		return v
	}
	if _, rest, ok := strings.Cut(c.UserAgent, "(+"); ok {
		if v, _, ok := strings.Cut(rest, ")"); ok {
			return v
		}
	}
	return c.UserAgent
}

// nextStep says, in both languages, what became of a request that was sent.
func nextStep(f *audit.Fetch) string {
	switch f.Class {
	case "ok":
		if f.StoredSHA256 != "" {
			return "answered; page stored (redacted) / 已应答；页面已存储（已脱敏）"
		}
		return "answered; nothing stored / 已应答；未存储"
	case "redirect":
		return "redirected; the target is checked as a new request / 重定向；目标作为新请求审查"
	case "refused":
		return "the site refused access; not stored / 网站拒绝访问；未存储"
	case "hold":
		return "the site asked to wait; goodbot holds its requests / 网站要求等待；goodbot 暂停请求"
	case "network":
		return "no answer (" + f.Error + ") / 无应答"
	}
	if f.Error != "" {
		return f.Class + ": " + f.Error
	}
	return f.Class + "; not stored / 未存储"
}

// loadOf computes the figures of the load sentence: the busiest hour
// against the site's estimated hourly traffic, goodbot's limit and the
// one-third line.
func loadOf(perHour map[time.Time]int, est budgetRow, limitPct float64) loadFacts {
	l := loadFacts{Art16Pct: 100.0 / 3, LimitPct: limitPct, Source: est.Source}
	var peakAt time.Time
	for h, n := range perHour {
		if n > l.Peak || n == l.Peak && h.Before(peakAt) {
			l.Peak, peakAt = n, h
		}
	}
	if !peakAt.IsZero() {
		l.PeakHour = peakAt.Format("2006-01-02 15:00 UTC")
	}
	if est.Estimate > 0 {
		l.EstimatePerHour = est.Estimate / 24
		l.PeakPct = float64(l.Peak) / l.EstimatePerHour * 100
		l.Known = true
	}
	return l
}

// pct formats a percentage so that a small one is not shown as 0: two
// significant digits below 1%, without an exponent.
func pct(v float64) string {
	if v <= 0 || v >= 1 {
		return fmt.Sprintf("%.1f%%", v)
	}
	return fmt.Sprintf("%.*f%%", min(int(-math.Floor(math.Log10(v)))+1, 12), v)
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000 UTC") }

func renderReport(info Info, entries []audit.Entry, pages []page, cp audit.SignedCheckpoint, keys []string) ([]byte, error) {
	d := reportData{Info: info, Checkpoint: string(cp.Note), Keys: keys, Pages: pages, Unproven: len(info.Unproven), Root: info.Root, Purpose: info.Purpose}
	if len(keys) > 0 {
		d.FirstKey = keys[0]
	}
	var rows []requestRow
	byID := map[string]int{} // request id -> row, for the fetch that follows its decision
	type complaintAt struct{ received, applied time.Time }
	complaints := map[string]*complaintAt{}
	var complaintOrder []string
	var lastSent time.Time
	var estimate budgetRow
	statuses, decisions, refusals, pii := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	uas, versions := map[string]bool{}, map[string]bool{}
	perHour := map[time.Time]int{}
	type budgetAt struct {
		t      time.Time
		perDay float64
	}
	var budgets []budgetAt
	var first, last time.Time
	for i := range entries {
		e := &entries[i].Event
		if e.Site != "" {
			if first.IsZero() || e.Time.Before(first) {
				first = e.Time
			}
			if e.Time.After(last) {
				last = e.Time
			}
		}
		switch {
		case e.Config != nil:
			versions[e.Config.Version] = true
			if d.Job == "" {
				d.Job = e.Config.Job
			}
			if d.Operator == "" {
				d.Operator = contactOf(e.Config)
			}
			d.Relaxations = append(d.Relaxations, e.Config.Relaxations...)
			if p := e.Config.Settings["purpose"]; p != "" && !slices.Contains(d.Declared, p) {
				d.Declared = append(d.Declared, p)
			}
		case e.Fetch != nil:
			f := e.Fetch
			d.Fetches++
			d.Bytes += f.Bytes
			if f.Revisit != nil {
				d.Revisits++
				d.Spared += f.Revisit.Spared
			}
			uas[f.UserAgent] = true
			st := f.Class
			if f.Status != 0 {
				st = fmt.Sprintf("%d %s", f.Status, f.Class)
			}
			statuses[st]++
			perHour[e.Time.UTC().Truncate(time.Hour)]++
			if e.Time.After(lastSent) {
				lastSent = e.Time
			}
			i, ok := byID[f.RequestID]
			if !ok || f.RequestID == "" {
				rows = append(rows, requestRow{Time: ts(e.Time), URL: f.URL, Verdict: "allow"})
				i = len(rows) - 1
			}
			if f.Status != 0 {
				rows[i].Status = fmt.Sprint(f.Status)
			}
			rows[i].Next = nextStep(f)
		case e.Decision != nil:
			x := e.Decision
			rows = append(rows, requestRow{Time: ts(e.Time), URL: x.URL, Verdict: string(x.Verdict), Reason: x.Reason})
			switch x.Verdict {
			case audit.Allow:
				rows[len(rows)-1].Next = "sent, no answer recorded / 已发送，无应答记录"
				if x.RequestID != "" {
					byID[x.RequestID] = len(rows) - 1
				}
			case audit.Defer:
				rows[len(rows)-1].Next = "not sent now (deferred) / 暂不发送（推迟）"
			default:
				rows[len(rows)-1].Next = "not sent / 未发送"
			}
			decisions[string(e.Decision.Verdict)]++
			if e.Decision.Verdict != audit.Allow {
				refusals[e.Decision.Reason]++
			}
		case e.Budget != nil:
			b := e.Budget
			d.Budgets = append(d.Budgets, budgetRow{ts(e.Time), b.Change, b.Source, b.Reason, b.BudgetPerDay, b.EstimatePerDay, b.EstimateLow, b.EstimateHigh, b.Interval})
			budgets = append(budgets, budgetAt{e.Time, b.BudgetPerDay})
			if b.EstimatePerDay > 0 {
				estimate = budgetRow{Source: b.Source, PerDay: b.BudgetPerDay, Estimate: b.EstimatePerDay}
				d.Load.LimitPct = b.Share * 100
			}
		case e.Robots != nil:
			r := e.Robots
			d.Robots = append(d.Robots, robotsRow{ts(e.Time), r.URL, r.SHA256, r.Policy, r.Error, string(r.Body), r.Status, len(r.Body) > 0, r.CrawlDelay})
		case e.PII != nil:
			for k, v := range e.PII.Counts {
				pii[k] += v
			}
			if e.PII.Dropped {
				d.Dropped++
			}
		case e.Complaint != nil:
			c := e.Complaint
			d.Complaints = append(d.Complaints, complaintRow{ts(e.Time), c.ID, c.Action, c.Reason, c.Contact})
			at := complaints[c.ID]
			if at == nil {
				at = &complaintAt{}
				complaints[c.ID] = at
				complaintOrder = append(complaintOrder, c.ID)
			}
			switch c.Action {
			case "added":
				at.received = e.Time
			case "applied", "stopped": // "stopped": an unconfirmed complaint stops before it deletes
				if at.applied.IsZero() {
					at.applied = e.Time
				}
			}
		case e.Deletion != nil:
			x := e.Deletion
			d.Deletions = append(d.Deletions, deletionRow{ts(e.Time), x.ComplaintID, x.Records, x.Bytes, len(x.Digests)})
		}
	}
	if !first.IsZero() {
		d.First, d.Last = ts(first), ts(last)
	}
	for k := range uas {
		d.UserAgents = append(d.UserAgents, k)
	}
	for k := range versions {
		d.Versions = append(d.Versions, k)
	}
	sort.Strings(d.UserAgents)
	sort.Strings(d.Versions)
	d.Statuses, d.Decisions, d.Refusals, d.PII = sortedKV(statuses), sortedKV(decisions), sortedKV(refusals), sortedKV(pii)
	budgetFor := func(t time.Time) float64 {
		v := 0.0
		for _, b := range budgets {
			if !b.t.After(t.Add(time.Hour)) {
				v = b.perDay
			}
		}
		return v
	}
	d.RequestCount = len(rows)
	for len(rows) > 0 {
		n := min(rowsPerPage, len(rows))
		d.Requests = append(d.Requests, rows[:n])
		rows = rows[n:]
	}
	if !lastSent.IsZero() {
		d.LastRequest = ts(lastSent)
	}
	for _, id := range complaintOrder {
		at := complaints[id]
		r := timelineRow{ID: id, Received: "not recorded in the log / 日志未记录", Applied: "not applied / 未执行", LastSent: d.LastRequest}
		if !at.received.IsZero() {
			r.Received = ts(at.received)
		}
		if !at.applied.IsZero() {
			r.Applied = ts(at.applied)
			for i := range entries {
				e := &entries[i].Event
				if e.Fetch != nil && e.Time.After(at.applied) {
					r.After++
				}
			}
			if r.After == 0 {
				r.Statement = "Nothing was sent to the site after the complaint was applied; the last request was sent at " + d.LastRequest + "."
				r.StatementZH = "投诉执行后未再向该网站发送任何请求；最后一次请求发送于 " + d.LastRequest + "。"
				if lastSent.IsZero() {
					r.Statement, r.StatementZH = "No request was ever sent to the site.", "从未向该网站发送请求。"
				}
			} else {
				r.Statement = fmt.Sprintf("%d requests were sent after the complaint was applied; the last at %s.", r.After, d.LastRequest)
				r.StatementZH = fmt.Sprintf("投诉执行后仍发送了 %d 个请求；最后一次于 %s。", r.After, d.LastRequest)
			}
		}
		d.Timeline = append(d.Timeline, r)
	}
	d.Load = loadOf(perHour, estimate, d.Load.LimitPct)
	if d.Load.Known {
		d.Chart, d.ChartNote = loadChart(perHour, d.Load)
	} else {
		d.Chart, d.ChartNote = chart(perHour, budgetFor)
	}
	var buf bytes.Buffer
	if err := reportTmpl.Execute(&buf, d); err != nil {
		return nil, fmt.Errorf("evidence: report: %w", err)
	}
	return buf.Bytes(), nil
}

// chart draws requests per hour as bars and the hourly budget (the daily
// budget / 24) as a line, as inline SVG.
func chart(perHour map[time.Time]int, budgetFor func(time.Time) float64) (template.HTML, string) {
	if len(perHour) == 0 {
		return "", "No requests were sent to this site."
	}
	var hours []time.Time
	for h := range perHour {
		hours = append(hours, h)
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i].Before(hours[j]) })
	start, end := hours[0], hours[len(hours)-1]
	n := int(end.Sub(start)/time.Hour) + 1
	note := ""
	const maxBars = 24 * 14
	if n > maxBars {
		start = end.Add(-time.Duration(maxBars-1) * time.Hour)
		n = maxBars
		note = "Only the last 14 days are drawn; the tables and entries cover the whole period."
	}
	maxV := 1.0
	vals := make([]int, n)
	limits := make([]float64, n)
	for i := range n {
		t := start.Add(time.Duration(i) * time.Hour)
		vals[i] = perHour[t]
		limits[i] = budgetFor(t) / 24
		maxV = max(maxV, float64(vals[i]), limits[i])
	}
	const W, H, left, bottom = 900.0, 260.0, 50.0, 30.0
	bw := (W - left) / float64(n)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="requests per hour against the budget">`, W, H)
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#333"/>`, left, H-bottom, W, H-bottom)
	fmt.Fprintf(&b, `<text x="4" y="14" font-size="11">%.0f/h</text><text x="4" y="%g" font-size="11">0</text>`, maxV, H-bottom)
	y := func(v float64) float64 { return (H - bottom) - v/maxV*(H-bottom-10) }
	for i, v := range vals {
		fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="#4a7bb7"><title>%s: %d requests</title></rect>`,
			left+float64(i)*bw, y(float64(v)), max(bw-1, 0.5), (H-bottom)-y(float64(v)), start.Add(time.Duration(i)*time.Hour).Format("2006-01-02 15:00 UTC"), v)
	}
	var pts bytes.Buffer
	for i, l := range limits {
		fmt.Fprintf(&pts, "%.2f,%.2f %.2f,%.2f ", left+float64(i)*bw, y(l), left+float64(i+1)*bw, y(l))
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#c0392b" stroke-width="2"/>`, pts.String())
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="11">%s</text><text x="%g" y="%g" font-size="11" text-anchor="end">%s</text>`,
		left, H-10, start.Format("2006-01-02 15:00"), W, H-10, end.Format("2006-01-02 15:00 UTC"))
	b.WriteString(`</svg>`)
	return template.HTML(b.String()), note
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{"pct": pct, "inc": func(i int) int { return i + 1 }}).Parse(`<!DOCTYPE html>
<html lang="zh-Hans"><head><meta charset="utf-8">
<title>Crawl evidence 爬取证据: {{.Info.Site}}</title>
<style>
body{font:14px/1.45 "Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc;break-after:avoid}
.zh{color:#333}
table{border-collapse:collapse;margin:.5em 0;width:100%}td,th{border:1px solid #ccc;padding:.2em .4em;text-align:left;vertical-align:top}
th{background:#f3f3f3}thead{display:table-header-group}tr,tbody.keep{break-inside:avoid}
code,pre,.hash{font:12px ui-monospace,"Noto Sans Mono CJK SC",monospace;overflow-wrap:anywhere;word-break:break-all}
pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap}
.load{font-size:1.05em;border:2px solid #4a7bb7;padding:.6em;margin:.6em 0}
.small td{font-size:11px}
.appendix{break-before:page}
.legend span{display:inline-block;width:1em;height:.6em;margin:0 .3em 0 1em}
@page{size:A4;margin:16mm 14mm 20mm 14mm;
@bottom-left{content:"{{.Info.ID}} · root {{.Root}}";font:7pt monospace;color:#444}
@bottom-right{content:"page 第 " counter(page) " / " counter(pages) " 页";font:8pt sans-serif}}
@media print{body{max-width:none;margin:0;padding:0;font-size:11px}.appendix-page{break-before:page}a{color:inherit;text-decoration:none}}
</style></head><body>
<h1>Crawl evidence for {{.Info.Site}}<br><span class="zh">{{.Info.Site}} 爬取证据</span></h1>
<table>
<tr><th>Bundle 证据包</th><td><code>{{.Info.ID}}</code></td></tr>
<tr><th>Root hash 根哈希 (SHA-256)</th><td><code class="hash">{{.Root}}</code></td></tr>
<tr><th>Produced 生成时间</th><td>{{.Info.Created.Format "2006-01-02 15:04:05 UTC"}}, <code>goodbot audit export</code></td></tr>
<tr><th>Operation log 操作日志</th><td><code>{{.Info.Origin}}</code>, signed at size 签名时条目数 {{.Info.CheckpointSize}}</td></tr>
</table>
<p>This bundle holds {{.Info.Entries}} log entries about the site, {{.Info.Pages}} stored pages and {{.Info.Robots}} robots.txt copies.
{{.Info.Proven}} entries are proved to be part of the log signed at size {{.Info.CheckpointSize}}{{if .Unproven}}, and {{.Unproven}} entries newer than that checkpoint are not{{end}}; the {{.Info.Withheld}} other entries of the log (other sites, or pruned) are withheld, and their leaf hashes listed in <code>withheld.jsonl</code>.</p>
<p class="zh">本证据包含有关该网站的 {{.Info.Entries}} 条日志条目、{{.Info.Pages}} 个已存储页面和 {{.Info.Robots}} 份 robots.txt 副本。其中 {{.Info.Proven}} 条已证明属于在第 {{.Info.CheckpointSize}} 条处签名的日志{{if .Unproven}}，另有 {{.Unproven}} 条晚于该检查点、未被证明{{end}}；日志中其余 {{.Info.Withheld}} 条（其他网站或已清理的条目）未包含在内，其叶哈希列于 <code>withheld.jsonl</code>。</p>

<h2>1. Operator and purpose 运营者与目的</h2>
<table>
<tr><th>Operator (contact) 运营者（联系方式）</th><td>{{if .Operator}}<code>{{.Operator}}</code>{{else}}not recorded 未记录{{end}}</td></tr>
<tr><th>User-Agent</th><td>{{range .UserAgents}}<code>{{.}}</code><br>{{else}}none 无{{end}}</td></tr>
<tr><th>Job 任务</th><td>{{if .Job}}{{.Job}}{{else}}not named 未命名{{end}}</td></tr>
<tr><th>Purpose 目的</th><td>{{if .Purpose}}{{.Purpose}} <small>(stated by the operator at export 导出时由运营者声明)</small>{{else}}not stated 未声明{{end}}</td></tr>
<tr><th>Declared purpose of the crawl 爬取声明的用途</th><td>{{range .Declared}}<code>{{.}}</code><br>{{else}}not recorded 未记录{{end}} <small>(recorded in the log at each run's start; pages whose usage preferences reserved it were fetched but not stored 每次运行开始时记入日志；使用偏好保留该用途的页面已抓取但未存储)</small></td></tr>
<tr><th>Software 软件</th><td>{{range .Versions}}goodbot {{.}}<br>{{else}}not recorded 未记录{{end}}</td></tr>
{{if .Relaxations}}<tr><th>Rules relaxed by the operator 运营者放宽的规则</th><td>{{range .Relaxations}}{{.}}<br>{{end}}</td></tr>{{end}}
</table>

<h2>2. Summary of the crawl 爬取概况</h2>
<table>
<tr><th>Period 期间</th><td>{{if .First}}{{.First}} – {{.Last}}{{else}}no dated entries 无{{end}}</td></tr>
<tr><th>Requests sent 已发送请求</th><td>{{.Fetches}} ({{.Bytes}} bytes received 字节)</td></tr>
{{if .Revisits}}<tr><th>Conditional revisits 条件请求复访</th><td>{{.Revisits}} pages unchanged (304 Not Modified), {{.Spared}} bytes the site was spared sending 未变更页面，网站少发送的字节</td></tr>
{{end}}<tr><th>Gate decisions 审查决定</th><td>{{range .Decisions}}{{.K}}: {{.V}}<br>{{else}}none 无{{end}}</td></tr>
<tr><th>Answers 应答</th><td>{{range .Statuses}}{{.K}}: {{.V}}<br>{{else}}none 无{{end}}</td></tr>
<tr><th>Personal data redacted 已脱敏个人信息</th><td>{{range .PII}}{{.K}}: {{.V}}<br>{{else}}none found 未发现{{end}}{{if .Dropped}}<br>{{.Dropped}} pages dropped entirely 页面被整体丢弃{{end}}</td></tr>
</table>
{{if .Refusals}}<p>Requests not sent, by reason 未发送的请求（按原因）:</p><table><thead><tr><th>Reason 原因</th><th>Count 数量</th></tr></thead>{{range .Refusals}}<tr><td>{{.K}}</td><td>{{.V}}</td></tr>{{end}}</table>{{end}}

<h2>3. Load on the site 对网站的负载</h2>
{{with .Load}}{{if .Known}}<p class="load">Peak {{.Peak}} requests/hour ({{.PeakHour}}) = {{pct .PeakPct}} of the site's estimated traffic ({{printf "%.0f" .EstimatePerHour}} requests/hour; source: {{.Source}}); goodbot's limit {{pct .LimitPct}}; the Art. 16 line {{pct .Art16Pct}}.<br>
<span class="zh">峰值每小时 {{.Peak}} 个请求（{{.PeakHour}}）= 该网站估计流量（每小时 {{printf "%.0f" .EstimatePerHour}} 个请求；来源：{{.Source}}）的 {{pct .PeakPct}}；goodbot 的限额为 {{pct .LimitPct}}；第十六条界线为 {{pct .Art16Pct}}。</span></p>
{{else}}<p class="load">Peak {{.Peak}} requests/hour{{if .PeakHour}} ({{.PeakHour}}){{end}}. No traffic estimate of the site is recorded, so no share can be given. 峰值每小时 {{.Peak}} 个请求；日志未记录该网站的流量估计，无法给出比例。</p>{{end}}{{end}}
<p class="legend"><span style="background:#4a7bb7"></span>requests in the hour, as a share of the site's hourly traffic 每小时请求占网站每小时流量的比例 <span style="background:#c0392b"></span>goodbot's limit 限额 <span style="background:#7d3c98"></span>one third 三分之一</p>
{{.Chart}}
<p>{{.ChartNote}}</p>
{{if .Budgets}}<table class="small"><thead><tr><th>Time 时间</th><th>Change 变更</th><th>Estimated traffic/day 估计日流量</th><th>Source 来源</th><th>Budget/day 日预算</th><th>Interval 间隔</th><th>Reason 原因</th></tr></thead>
{{range .Budgets}}<tr><td>{{.Time}}</td><td>{{.Change}}</td><td>{{printf "%.0f" .Estimate}}{{if and .Low (ne .Low .High)}} (range {{printf "%.1f" .Low}} to {{printf "%.0f" .High}}; the budget uses the low end 预算按下限计算){{end}}</td><td>{{.Source}}</td><td>{{printf "%.1f" .PerDay}}</td><td>{{.Interval}}</td><td>{{.Reason}}</td></tr>{{end}}</table>{{end}}

<h2>4. robots.txt</h2>
{{range .Robots}}<p>Fetched 获取于 {{.Time}}: <code>{{.URL}}</code>, status 状态 {{.Status}}, policy 策略 {{.Policy}}{{if .Error}} ({{.Error}}){{end}}{{if .CrawlDelay}}, Crawl-delay {{.CrawlDelay}}{{end}}; SHA-256 <code class="hash">{{.SHA256}}</code>{{if .HasCopy}}, copy 副本 <a href="robots/{{.SHA256}}.txt">robots/…</a>{{end}}</p>
{{if .Body}}<pre>{{.Body}}</pre>{{end}}{{else}}<p>No robots.txt fetch is recorded for this site. 未记录该网站的 robots.txt 获取。</p>{{end}}

<h2>5. Complaints and deletions 投诉与删除</h2>
{{if .Timeline}}<table><thead><tr><th>Complaint 投诉</th><th>Received 收到</th><th>Applied 执行</th><th>Last request to the site 最后一次请求</th></tr></thead>
{{range .Timeline}}<tr><td>{{.ID}}</td><td>{{.Received}}</td><td>{{.Applied}}</td><td>{{.LastSent}}</td></tr>
<tr><td colspan="4"><b>{{.Statement}}</b><br><b class="zh">{{.StatementZH}}</b></td></tr>{{end}}</table>{{end}}
{{if .Complaints}}<table class="small"><thead><tr><th>Time 时间</th><th>Complaint 投诉</th><th>Action 动作</th><th>Reason 原因</th><th>Contact 联系人</th></tr></thead>
{{range .Complaints}}<tr><td>{{.Time}}</td><td>{{.ID}}</td><td>{{.Action}}</td><td>{{.Reason}}</td><td>{{.Contact}}</td></tr>{{end}}</table>{{else}}<p>No complaint is recorded for this site. 未记录该网站的投诉。</p>{{end}}
{{if .Deletions}}<table class="small"><thead><tr><th>Time 时间</th><th>Complaint 投诉</th><th>Records deleted 删除记录</th><th>Bytes 字节</th><th>Digests recorded 记录的摘要</th></tr></thead>
{{range .Deletions}}<tr><td>{{.Time}}</td><td>{{.Complaint}}</td><td>{{.Records}}</td><td>{{.Bytes}}</td><td>{{.Digests}}</td></tr>{{end}}</table>{{else}}<p>No deletion is recorded for this site. 未记录删除。</p>{{end}}

<h2>6. Stored pages 已存储页面</h2>
<p>{{len .Pages}} pages, after personal data was removed, are in <code>pages.warc.gz</code> (WARC 1.1, ISO 28500). 共 {{len .Pages}} 个页面（已去除个人信息）存于 <code>pages.warc.gz</code>。</p>
{{if .Pages}}<table class="small"><thead><tr><th>Fetched 获取</th><th>URL</th><th>Status 状态</th><th>Bytes 字节</th></tr></thead>
{{range .Pages}}<tbody class="keep"><tr><td>{{.Time.Format "2006-01-02 15:04:05"}}</td><td><code>{{.URL}}</code></td><td>{{.Status}}</td><td>{{.Bytes}}</td></tr>
<tr><td colspan="4">SHA-256 <code class="hash">{{.SHA256}}</code></td></tr></tbody>{{end}}</table>{{end}}

<h2>7. How to verify this bundle 如何验证本证据包</h2>
<ol>
<li>Compare the public key below with the one the operator published or handed over earlier: the signatures prove authorship only if the key is the operator's. 将下方公钥与运营者此前公布或提交的公钥比对：只有该公钥属于运营者，签名才能证明来源。</li>
<li>Without goodbot, with Python 3 (standard library only) 无需 goodbot，仅用 Python 3 标准库:<pre>python3 verify.py --key {{.FirstKey}} .</pre>It checks the signed manifest and every file's SHA-256, the checkpoint's Ed25519 signature, every entry's leaf hash, the withheld leaves, the whole tree's root and every inclusion proof. 它检查签名的清单与每个文件的 SHA-256、检查点的 Ed25519 签名、每个条目的叶哈希、未包含条目的叶哈希、整棵树的根哈希及每个包含证明。<code>FORMAT.md</code> specifies every file, field and hash, for a verifier written from it. <code>FORMAT.md</code> 规定了每个文件、字段和哈希。</li>
<li>The files alone 仅检查文件: <code>sha256sum -c MANIFEST.sha256</code></li>
<li>With goodbot 使用 goodbot: <code>goodbot audit verify-bundle .</code> (also checks every WARC record 并检查每个 WARC 记录); on the full log 对完整日志: <code>goodbot audit verify --key {{.FirstKey}} DIR</code></li>
<li>If anyone holds an earlier checkpoint of this log (a counterparty, a witness, a time-stamping authority) 如有第三方持有该日志较早的检查点: <code>python3 verify.py --key … --checkpoint FILE .</code></li>
</ol>
<p>Signed checkpoint 签名检查点:</p><pre>{{.Checkpoint}}</pre>
<p>Public key(s) 公钥:</p><pre>{{range .Keys}}{{.}}
{{end}}</pre>

<div class="appendix"><h2>Appendix: every request 附录：全部请求</h2>
<p>{{.RequestCount}} requests considered, in the order of the log; URLs as recorded, with personal data replaced. 共 {{.RequestCount}} 个请求，按日志顺序列出；URL 按记录显示，个人信息已替换。</p>
{{range $i, $page := .Requests}}<table class="small{{if $i}} appendix-page{{end}}"><thead><tr><th>#</th><th>Time 时间</th><th>URL (redacted 已脱敏)</th><th>Decision 决定</th><th>Reason 原因</th><th>Status 状态</th><th>What happened next 后续</th></tr></thead>
{{range $j, $r := $page}}<tr><td>{{inc $j}}</td><td>{{$r.Time}}</td><td><code>{{$r.URL}}</code></td><td>{{$r.Verdict}}</td><td>{{$r.Reason}}</td><td>{{$r.Status}}</td><td>{{$r.Next}}</td></tr>{{end}}</table>{{end}}
</div>
</body></html>
`))

// loadChart draws each hour's requests as a share of the site's estimated
// hourly traffic, on a log scale from below the smallest bar to 100%, with
// goodbot's limit and the one-third line across it, so that all three are
// visible however far apart they are.
func loadChart(perHour map[time.Time]int, l loadFacts) (template.HTML, string) {
	var hours []time.Time
	for h := range perHour {
		hours = append(hours, h)
	}
	if len(hours) == 0 {
		return "", "No requests were sent to this site. 未向该网站发送请求。"
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i].Before(hours[j]) })
	start, end := hours[0], hours[len(hours)-1]
	n := int(end.Sub(start)/time.Hour) + 1
	note := "Log scale. 对数刻度。"
	const maxBars = 24 * 14
	if n > maxBars {
		start = end.Add(-time.Duration(maxBars-1) * time.Hour)
		n = maxBars
		note += " Only the last 14 days are drawn. 仅绘制最近 14 天。"
	}
	minPct := l.Art16Pct
	if l.LimitPct > 0 {
		minPct = min(minPct, l.LimitPct)
	}
	for _, c := range perHour {
		if c > 0 {
			minPct = min(minPct, float64(c)/l.EstimatePerHour*100)
		}
	}
	lo := math.Pow(10, math.Floor(math.Log10(minPct)))
	const hi = 100.0
	const W, H, left, top, bottom = 900.0, 280.0, 70.0, 10.0, 30.0
	y := func(p float64) float64 {
		p = max(p, lo)
		return top + (H-top-bottom)*(math.Log10(hi)-math.Log10(p))/(math.Log10(hi)-math.Log10(lo))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="requests per hour as a share of the site's traffic">`, W, H)
	for p, i := lo, 0; p <= hi*1.0001 && i < 400; p, i = p*10, i+1 {
		fmt.Fprintf(&b, `<line x1="%g" y1="%.2f" x2="%g" y2="%.2f" stroke="#ddd"/><text x="%g" y="%.2f" font-size="11" text-anchor="end">%s</text>`, left, y(p), W, y(p), left-4, y(p)+4, pct(p))
	}
	bw := (W - left) / float64(n)
	for i := range n {
		t := start.Add(time.Duration(i) * time.Hour)
		c := perHour[t]
		if c == 0 {
			continue
		}
		p := float64(c) / l.EstimatePerHour * 100
		fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="#4a7bb7"><title>%s: %d requests, %s</title></rect>`,
			left+float64(i)*bw, y(p), max(bw-1, 0.5), y(lo)-y(p), t.Format("2006-01-02 15:00 UTC"), c, pct(p))
	}
	line := func(p float64, color, label string) {
		fmt.Fprintf(&b, `<line x1="%g" y1="%.2f" x2="%g" y2="%.2f" stroke="%s" stroke-width="2"/><text x="%g" y="%.2f" font-size="11" fill="%s" text-anchor="end">%s</text>`,
			left, y(p), W, y(p), color, W-4, y(p)-4, color, label)
	}
	if l.LimitPct > 0 {
		line(l.LimitPct, "#c0392b", "goodbot limit / 限额 "+pct(l.LimitPct))
	}
	line(l.Art16Pct, "#7d3c98", "Art. 16 line / 第十六条 "+pct(l.Art16Pct))
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="11">%s</text><text x="%g" y="%g" font-size="11" text-anchor="end">%s</text>`,
		left, H-8, start.Format("2006-01-02 15:00"), W, H-8, end.Format("2006-01-02 15:00 UTC"))
	b.WriteString(`</svg>`)
	return template.HTML(b.String()), note
}
