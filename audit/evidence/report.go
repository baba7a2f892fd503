package evidence

import (
	"bytes"
	"fmt"
	"html/template"
	"sort"
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
}

type kv struct {
	K string
	V int
}

type budgetRow struct {
	Time, Change, Source, Reason string
	PerDay, Estimate             float64
	Interval                     time.Duration
}

type robotsRow struct {
	Time, URL, SHA256, Policy, Error string
	Status                           int
	HasCopy                          bool
	CrawlDelay                       time.Duration
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

func ts(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000 UTC") }

func renderReport(info Info, entries []audit.Entry, pages []page, cp audit.SignedCheckpoint, keys []string) ([]byte, error) {
	d := reportData{Info: info, Checkpoint: string(cp.Note), Keys: keys, Pages: pages, Unproven: len(info.Unproven)}
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
			d.Relaxations = append(d.Relaxations, e.Config.Relaxations...)
		case e.Fetch != nil:
			f := e.Fetch
			d.Fetches++
			d.Bytes += f.Bytes
			uas[f.UserAgent] = true
			st := f.Class
			if f.Status != 0 {
				st = fmt.Sprintf("%d %s", f.Status, f.Class)
			}
			statuses[st]++
			perHour[e.Time.UTC().Truncate(time.Hour)]++
		case e.Decision != nil:
			decisions[string(e.Decision.Verdict)]++
			if e.Decision.Verdict != audit.Allow {
				refusals[e.Decision.Reason]++
			}
		case e.Budget != nil:
			b := e.Budget
			d.Budgets = append(d.Budgets, budgetRow{ts(e.Time), b.Change, b.Source, b.Reason, b.BudgetPerDay, b.EstimatePerDay, b.Interval})
			budgets = append(budgets, budgetAt{e.Time, b.BudgetPerDay})
		case e.Robots != nil:
			r := e.Robots
			d.Robots = append(d.Robots, robotsRow{ts(e.Time), r.URL, r.SHA256, r.Policy, r.Error, r.Status, len(r.Body) > 0, r.CrawlDelay})
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
	d.Chart, d.ChartNote = chart(perHour, budgetFor)
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

var reportTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Crawl evidence: {{.Info.Site}}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}code,pre{font:13px ui-monospace,monospace;background:#f6f6f6}pre{padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.legend span{display:inline-block;width:1em;height:.6em;margin:0 .3em 0 1em}
</style></head><body>
<h1>Crawl evidence for {{.Info.Site}}</h1>
<p>Produced {{.Info.Created.Format "2006-01-02 15:04:05 UTC"}} by <code>goodbot audit export</code> from the operation log <code>{{.Info.Origin}}</code>.
This bundle holds {{.Info.Entries}} log entries about the site, {{.Info.Pages}} stored pages and {{.Info.Robots}} robots.txt copies.
{{.Info.Proven}} entries are proved to be part of the log signed at size {{.Info.CheckpointSize}}{{if .Unproven}}, and {{.Unproven}} entries newer than that checkpoint are not{{end}}; the {{.Info.Withheld}} other entries of the log (other sites, or pruned) are withheld, and their leaf hashes listed in <code>withheld.jsonl</code>.</p>

<h2>1. Summary of the crawl</h2>
<table>
<tr><th>Period</th><td>{{if .First}}{{.First}} to {{.Last}}{{else}}no dated entries{{end}}</td></tr>
<tr><th>Requests sent</th><td>{{.Fetches}} ({{.Bytes}} bytes received)</td></tr>
<tr><th>User-Agent</th><td>{{range .UserAgents}}<code>{{.}}</code><br>{{else}}none{{end}}</td></tr>
<tr><th>Software</th><td>{{range .Versions}}goodbot {{.}}<br>{{else}}not recorded{{end}}</td></tr>
<tr><th>Gate decisions</th><td>{{range .Decisions}}{{.K}}: {{.V}}<br>{{else}}none{{end}}</td></tr>
<tr><th>Answers</th><td>{{range .Statuses}}{{.K}}: {{.V}}<br>{{else}}none{{end}}</td></tr>
<tr><th>Personal data redacted</th><td>{{range .PII}}{{.K}}: {{.V}}<br>{{else}}none found{{end}}{{if .Dropped}}<br>{{.Dropped}} pages dropped entirely{{end}}</td></tr>
{{if .Relaxations}}<tr><th>Rules relaxed by the operator</th><td>{{range .Relaxations}}{{.}}<br>{{end}}</td></tr>{{end}}
</table>
{{if .Refusals}}<p>Requests not sent, by reason:</p><table><tr><th>Reason</th><th>Count</th></tr>{{range .Refusals}}<tr><td>{{.K}}</td><td>{{.V}}</td></tr>{{end}}</table>{{end}}

<h2>2. Requests per hour against the budget</h2>
<p class="legend"><span style="background:#4a7bb7"></span>requests sent in the hour <span style="background:#c0392b"></span>budget per hour (daily budget / 24)</p>
{{.Chart}}
<p>{{.ChartNote}}</p>
{{if .Budgets}}<table><tr><th>Time</th><th>Change</th><th>Estimated traffic/day</th><th>Source</th><th>Budget/day</th><th>Interval</th><th>Reason</th></tr>
{{range .Budgets}}<tr><td>{{.Time}}</td><td>{{.Change}}</td><td>{{printf "%.0f" .Estimate}}</td><td>{{.Source}}</td><td>{{printf "%.1f" .PerDay}}</td><td>{{.Interval}}</td><td>{{.Reason}}</td></tr>{{end}}</table>{{end}}

<h2>3. robots.txt versions</h2>
{{if .Robots}}<table><tr><th>Fetched</th><th>URL</th><th>Status</th><th>Policy</th><th>Crawl-delay</th><th>SHA-256 (copy in robots/)</th></tr>
{{range .Robots}}<tr><td>{{.Time}}</td><td>{{.URL}}</td><td>{{.Status}}</td><td>{{.Policy}}{{if .Error}} ({{.Error}}){{end}}</td><td>{{.CrawlDelay}}</td><td>{{if .HasCopy}}<a href="robots/{{.SHA256}}.txt"><code>{{.SHA256}}</code></a>{{else}}<code>{{.SHA256}}</code>{{end}}</td></tr>{{end}}</table>
{{else}}<p>No robots.txt fetch is recorded for this site.</p>{{end}}

<h2>4. Complaints and deletions</h2>
{{if .Complaints}}<table><tr><th>Time</th><th>Complaint</th><th>Action</th><th>Reason</th><th>Contact</th></tr>
{{range .Complaints}}<tr><td>{{.Time}}</td><td>{{.ID}}</td><td>{{.Action}}</td><td>{{.Reason}}</td><td>{{.Contact}}</td></tr>{{end}}</table>{{else}}<p>No complaint is recorded for this site.</p>{{end}}
{{if .Deletions}}<table><tr><th>Time</th><th>Complaint</th><th>Records deleted</th><th>Bytes</th><th>Digests recorded</th></tr>
{{range .Deletions}}<tr><td>{{.Time}}</td><td>{{.Complaint}}</td><td>{{.Records}}</td><td>{{.Bytes}}</td><td>{{.Digests}}</td></tr>{{end}}</table>{{else}}<p>No deletion is recorded for this site.</p>{{end}}

<h2>5. Stored pages</h2>
<p>{{len .Pages}} pages, after personal data was removed, are in <code>pages.warc.gz</code> (WARC 1.1, ISO 28500).</p>
{{if .Pages}}<table><tr><th>Fetched</th><th>URL</th><th>Status</th><th>Bytes</th><th>SHA-256</th></tr>
{{range .Pages}}<tr><td>{{.Time.Format "2006-01-02 15:04:05"}}</td><td>{{.URL}}</td><td>{{.Status}}</td><td>{{.Bytes}}</td><td><code>{{.SHA256}}</code></td></tr>{{end}}</table>{{end}}

<h2>6. How to verify this bundle</h2>
<ol>
<li>Check the files: <code>sha256sum -c MANIFEST.sha256</code> (every file is listed with its SHA-256).</li>
<li>Compare the public key below with the one the operator published or handed over earlier. The signatures only prove authorship if the key is the operator's. On the full log, pin it: <code>goodbot audit verify --key {{range $i, $k := .Keys}}{{if eq $i 0}}{{$k}}{{end}}{{end}} DIR</code> fails unless that key signed the log.</li>
<li>Run <code>goodbot audit verify-bundle DIR</code>: it checks the manifest, the checkpoint signature, the canonical form of every entry in <code>entries.jsonl</code>, each inclusion proof in <code>proofs.jsonl</code>, the robots.txt copies and every WARC record's digests.</li>
<li>Without goodbot: each entry's leaf hash is SHA-256 of the byte 0x00 followed by the entry's line (without the newline); combining it with the hashes of its proof (RFC 6962 / RFC 9162, node = SHA-256(0x01 ‖ left ‖ right)) must give the root in <code>checkpoint.txt</code>, a C2SP signed note verifiable with any Ed25519 implementation.</li>
<li>If anyone holds an earlier checkpoint of this log (a counterparty, a witness, a time-stamping authority), <code>goodbot audit verify --checkpoint FILE</code> on the full log proves that the log extends it.</li>
</ol>
<p>Signed checkpoint:</p><pre>{{.Checkpoint}}</pre>
<p>Public key(s):</p><pre>{{range .Keys}}{{.}}
{{end}}</pre>
</body></html>
`))
