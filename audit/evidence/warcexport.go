package evidence

import (
	"bufio"
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/audit/warc"
	"github.com/goodbot/goodbot/crawler/output"
)

// page is what the report needs to know about a stored page.
type page struct {
	URL    string
	Time   time.Time
	Status int
	SHA256 string
	Bytes  int
}

// The archive written by writeWARC, per site, in the order of the log:
//
//   - warcinfo, first;
//   - for each request sent (a fetch entry): a request record with the
//     header fields as the HTTP client wrote them, and a response record
//     with the status line and header fields as received. The body as
//     received is in the response record only when it is byte for byte
//     what goodbot stored (a robots.txt, or a UTF-8 page the filter left
//     alone): it passed the filter unchanged. Otherwise the block ends
//     after the header fields, WARC-Truncated says the payload is not
//     there, and WARC-Payload-Digest is still the SHA-256 of the body as
//     received (WARC 1.1 section 5.9: the digest of the payload "referred
//     to or contained by" the record). A 304 answer to a conditional
//     revisit is a revisit record (profile server-not-modified) with
//     WARC-Refers-To-Target-URI and WARC-Refers-To-Date naming the
//     earlier response its log entry refers to, WARC-Refers-To that
//     response's record when the file has it, and WARC-Payload-Digest
//     that response's; a 304 that refers to nothing known is a response
//     record. A request that got no answer is a metadata record with the
//     error;
//   - for each stored page that is not in its response record: a
//     conversion record (WARC 1.1 section 6.8) holding the page as stored,
//     redacted and in UTF-8, with WARC-Refers-To the response record. A
//     page that asked for noarchive has neither: its response record is
//     truncated, and its metadata record says it was stored without an
//     archive copy;
//   - metadata records (application/warc-fields) that WARC-Refers-To the
//     record they describe: for each answer, how goodbot read it; for each
//     stored page, what the filter replaced, counted by type ("nothing
//     found" when it found nothing); for each robots.txt, the policy
//     derived; for each request refused or deferred before it was sent,
//     the gate's decision and reason.
//
// Every value written comes from the operation log (whose content passed
// the personal-data filter when it was recorded) or from the stored pages
// (which passed it before storage).
type warcExport struct {
	w       *warc.Writer
	infoID  string
	pages   map[string]output.Record // stored pages by SHA-256
	order   []string                 // their digests, in storage order
	written map[string]bool          // stored pages written
	// writtenAs names the record holding each stored page written.
	writtenAs map[string]string
	robots    map[string][]byte // robots.txt bodies as fetched, by SHA-256
	pii       map[string]map[string]int
	dropped   map[string]string
	last      map[string]lastResponse // the last response record for each URL
	byDate    map[string]lastResponse // response records by URL and date
	out       []page
}

type lastResponse struct {
	id     string
	date   time.Time
	sha256 string // the body's digest, hex
}

// refersTo returns the earlier response a 304 answer repeats: the one its
// revisit entry names (its record id when this file has it), or, for a
// log without revisit entries, the last response for the URL in this
// file. A 304 that refers to nothing is not a revisit.
func (x *warcExport) refersTo(f *audit.Fetch) (lastResponse, bool) {
	if f.Status != http.StatusNotModified {
		return lastResponse{}, false
	}
	if rv := f.Revisit; rv != nil && !rv.RefersToDate.IsZero() {
		if r, ok := x.byDate[f.URL+" "+warc.FormatDate(rv.RefersToDate)]; ok {
			return r, true
		}
		return lastResponse{date: rv.RefersToDate, sha256: rv.RefersToSHA256}, true
	}
	r, ok := x.last[f.URL]
	return r, ok
}

// writeWARC writes the site's archive to path (see warcExport).
func writeWARC(ctx context.Context, path, key, out string, entries []audit.Entry, created time.Time) ([]page, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	x := &warcExport{w: warc.NewWriter(bw), pages: map[string]output.Record{}, written: map[string]bool{}, writtenAs: map[string]string{},
		robots: map[string][]byte{}, pii: map[string]map[string]int{}, dropped: map[string]string{}, last: map[string]lastResponse{}, byDate: map[string]lastResponse{}}

	if out != "" {
		err := output.ReadSite(ctx, out, key, func(r output.Record) error {
			d := output.Digest([]byte(r.HTML))
			if r.SHA256 != "" && r.SHA256 != d {
				return fmt.Errorf("evidence: stored page %s: its sha256 %s does not match its content", r.URL, r.SHA256)
			}
			if strings.ContainsAny(r.URL, " \r\n") || strings.ContainsAny(r.ContentType, "\r\n") {
				return fmt.Errorf("evidence: stored page with unusable URL or content type: %q", r.URL)
			}
			if _, ok := x.pages[d]; !ok {
				x.order = append(x.order, d)
			}
			x.pages[d] = r
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("evidence: stored pages: %w", err)
		}
	}
	for _, e := range entries {
		if r := e.Event.Robots; r != nil && len(r.Body) > 0 && !r.Redacted && r.SHA256 == digest(r.Body) {
			x.robots[r.SHA256] = r.Body
		}
		if p := e.Event.PII; p != nil {
			if x.pii[p.URL] == nil {
				x.pii[p.URL] = map[string]int{}
			}
			for k, n := range p.Counts {
				x.pii[p.URL][k] += n
			}
			if p.Dropped {
				x.dropped[p.URL] = p.Reason
			}
		}
	}

	if err := x.warcinfo(key, entries, created); err != nil {
		return nil, err
	}
	for i := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := &entries[i]
		var err error
		switch ev := &e.Event; {
		case ev.Fetch != nil:
			err = x.fetch(e)
		case ev.Decision != nil && ev.Decision.Verdict != audit.Allow:
			err = x.decision(e)
		case ev.Robots != nil:
			err = x.robotsPolicy(e)
		}
		if err != nil {
			return nil, err
		}
	}
	// Stored pages no fetch entry of the bundle accounts for (a log
	// written before fetch entries carried the stored digest).
	for _, d := range x.order {
		if !x.written[d] && !x.pages[d].NoArchive {
			if _, err := x.conversion(x.pages[d], "", time.Time{}); err != nil {
				return nil, err
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return x.out, nil
}

func (x *warcExport) warcinfo(key string, entries []audit.Entry, created time.Time) error {
	var version, ua, operator string
	for _, e := range entries {
		if c := e.Event.Config; c != nil {
			version, ua, operator = c.Version, c.UserAgent, operatorOf(c)
		}
	}
	software := "goodbot"
	if version != "" {
		software += "/" + version
	}
	fs := fields{}
	fs.add("software", software)
	fs.add("format", "WARC File Format 1.1")
	fs.add("conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/")
	fs.add("description", "requests and answers of goodbot for "+key+", exported from its operation log; bodies are kept only as stored, after personal-data redaction and conversion to UTF-8 (conversion records); a body as received is in a response record only when it is byte for byte what was stored")
	fs.add("robots", "obey (RFC 9309); each robots.txt and the rule applied to each request are in the operation log and in metadata records")
	if ua != "" {
		fs.add("http-header-user-agent", ua)
	}
	if operator != "" {
		fs.add("operator", operator)
	}
	id, err := x.w.Write(warc.TypeWarcinfo, created, []warc.Header{
		{Name: "WARC-Filename", Value: FileWARC},
		{Name: "Content-Type", Value: "application/warc-fields"},
	}, fs.bytes())
	x.infoID = id
	return err
}

// fetch writes a request that was sent, its answer, and what became of it.
func (x *warcExport) fetch(e *audit.Entry) error {
	f := e.Event.Fetch
	at := e.Event.Time
	if !usableURL(f.URL) {
		return nil // not a URL a WARC record can name (a filter artefact); the log keeps it
	}
	reqID, err := x.w.Write(warc.TypeRequest, at, []warc.Header{
		{Name: "WARC-Target-URI", Value: f.URL},
		{Name: "WARC-Warcinfo-ID", Value: x.infoID},
		{Name: "Content-Type", Value: warc.ContentTypeHTTPRequest},
	}, requestBlock(f))
	if err != nil {
		return err
	}
	meta := fields{}
	meta.add("log-entry", strconv.FormatInt(e.Seq, 10))
	meta.add("request-id", f.RequestID)
	if f.RequestHeader == nil {
		meta.add("request-header", "not recorded by the goodbot that wrote this log; the block holds Host and the User-Agent it recorded")
	}
	meta.add("goodbot-class", f.Class)
	meta.add("duration", f.Duration.String())
	if f.Error != "" {
		meta.add("error", f.Error)
	}
	if f.Status == 0 {
		// No answer: nothing to put in a response record.
		meta.add("outcome", "no answer")
		_, err := x.w.Write(warc.TypeMetadata, at, []warc.Header{
			{Name: "WARC-Target-URI", Value: f.URL},
			{Name: "WARC-Refers-To", Value: reqID},
			{Name: "WARC-Warcinfo-ID", Value: x.infoID},
			{Name: "Content-Type", Value: "application/warc-fields"},
		}, meta.bytes())
		return err
	}

	// The body as received goes in only when it is what was stored (or
	// the robots.txt copy the log holds).
	var body []byte
	full := false
	if b, ok := x.robots[f.BodySHA256]; ok && f.BodySHA256 != "" {
		body, full = b, true
	} else if p, ok := x.pages[f.BodySHA256]; ok && f.BodySHA256 != "" && f.StoredSHA256 == f.BodySHA256 && !p.NoArchive && !f.NoArchive && !x.written[f.StoredSHA256] {
		body, full = []byte(p.HTML), true
	}
	headers := []warc.Header{
		{Name: "WARC-Target-URI", Value: f.URL},
		{Name: "WARC-Concurrent-To", Value: reqID},
		{Name: "WARC-Warcinfo-ID", Value: x.infoID},
		{Name: "Content-Type", Value: warc.ContentTypeHTTPResponse},
	}
	typ := warc.TypeResponse
	payloadSHA := f.BodySHA256
	if ref, ok := x.refersTo(f); ok {
		// A 304: a revisit record (profile server-not-modified) that
		// names the earlier response it repeats, and carries that
		// response's payload digest.
		typ = warc.TypeRevisit
		headers = append(headers, warc.Header{Name: "WARC-Profile", Value: warc.ProfileNotModified})
		if ref.id != "" {
			headers = append(headers, warc.Header{Name: "WARC-Refers-To", Value: ref.id})
		}
		headers = append(headers,
			warc.Header{Name: "WARC-Refers-To-Target-URI", Value: f.URL},
			warc.Header{Name: "WARC-Refers-To-Date", Value: warc.FormatDate(ref.date)})
		payloadSHA = ref.sha256
		if rv := f.Revisit; rv != nil {
			meta.add("revisit", fmt.Sprintf("not modified since the fetch of %s; %d bytes spared", warc.FormatDate(rv.RefersToDate), rv.Spared))
			if rv.IfNoneMatch != "" {
				meta.add("if-none-match", rv.IfNoneMatch)
			}
			if rv.IfModifiedSince != "" {
				meta.add("if-modified-since", rv.IfModifiedSince)
			}
			if ref.id == "" {
				meta.add("refers-to", "the earlier response is not in this file (an earlier bundle has it)")
			}
		}
		body, full = nil, false
	}
	if payloadSHA != "" {
		pd, err := warc.DigestHex(payloadSHA)
		if err != nil {
			return fmt.Errorf("evidence: entry %d: %w", e.Seq, err)
		}
		headers = append(headers, warc.Header{Name: "WARC-Payload-Digest", Value: pd})
	}
	if typ == warc.TypeResponse && !full && f.Bytes > 0 {
		headers = append(headers, warc.Header{Name: "WARC-Truncated", Value: "unspecified"})
		meta.add("payload", fmt.Sprintf("omitted: the %d bytes received are not kept (they may hold personal data); WARC-Payload-Digest is their SHA-256", f.Bytes))
	}
	respID, err := x.w.Write(typ, at, headers, responseBlock(f, body))
	if err != nil {
		return err
	}
	if typ == warc.TypeResponse && f.Status != http.StatusNotModified {
		x.last[f.URL] = lastResponse{id: respID, date: at, sha256: f.BodySHA256}
		x.byDate[f.URL+" "+warc.FormatDate(at)] = x.last[f.URL]
	}
	if f.Charset != "" {
		meta.add("charset-received", f.Charset)
	}

	for _, sg := range f.Signals {
		meta.add("robots-rule", sg.Source+": "+sg.Rule+" -> "+sg.Decision)
	}
	stored := f.StoredSHA256
	if p, ok := x.pages[stored]; ok && stored != "" && (p.NoArchive || f.NoArchive) {
		// The page asked for no archive copy: it is in pages.jsonl, and
		// not in this file.
		x.written[stored] = true
		meta.add("stored", "yes, without an archive copy: the page asked for noarchive, so this file holds no body of it (stored sha256 "+stored+")")
	} else if p, ok := x.pages[stored]; ok && stored != "" && !x.written[stored] {
		pageID := respID
		if !full || f.BodySHA256 != stored {
			if pageID, err = x.conversion(p, respID, at); err != nil {
				return err
			}
		} else {
			x.written[stored] = true
			x.writtenAs[stored] = pageID
			x.out = append(x.out, page{URL: p.URL, Time: p.Time, Status: p.Status, SHA256: stored, Bytes: len(p.HTML)})
			if err := x.redactionMeta(p, pageID); err != nil {
				return err
			}
		}
		meta.add("stored-as", pageID)
	} else if id, ok := x.writtenAs[stored]; ok && stored != "" {
		// Stored again as it was: the file holds it once.
		meta.add("stored", "yes, the same as stored before (stored sha256 "+stored+")")
		meta.add("stored-as", id)
	} else if why, ok := x.dropped[f.URL]; ok {
		meta.add("stored", "no: dropped by the personal-data filter: "+why)
	} else if f.NotStored != "" {
		meta.add("stored", "no: "+f.NotStored)
	}
	_, err = x.w.Write(warc.TypeMetadata, at, []warc.Header{
		{Name: "WARC-Target-URI", Value: f.URL},
		{Name: "WARC-Refers-To", Value: respID},
		{Name: "WARC-Warcinfo-ID", Value: x.infoID},
		{Name: "Content-Type", Value: "application/warc-fields"},
	}, meta.bytes())
	return err
}

// conversion writes a stored page as a conversion record (referring to its
// response record, when there is one) and its redaction metadata.
func (x *warcExport) conversion(p output.Record, respID string, at time.Time) (string, error) {
	html := []byte(p.HTML)
	d := digest(html)
	headers := []warc.Header{
		{Name: "WARC-Target-URI", Value: p.URL},
		{Name: "WARC-Warcinfo-ID", Value: x.infoID},
	}
	if respID != "" {
		headers = append(headers, warc.Header{Name: "WARC-Refers-To", Value: respID})
	}
	headers = append(headers,
		warc.Header{Name: "WARC-Payload-Digest", Value: warc.Digest(html)},
		warc.Header{Name: "Content-Type", Value: utf8Type(p.ContentType)})
	date := p.Time
	if date.IsZero() {
		date = at
	}
	id, err := x.w.Write(warc.TypeConversion, date, headers, html)
	if err != nil {
		return "", err
	}
	x.written[d] = true
	x.writtenAs[d] = id
	x.out = append(x.out, page{URL: p.URL, Time: p.Time, Status: p.Status, SHA256: d, Bytes: len(html)})
	return id, x.redactionMeta(p, id)
}

// redactionMeta says what was done to a stored page: what the filter
// replaced, by type, and how it was stored.
func (x *warcExport) redactionMeta(p output.Record, id string) error {
	m := fields{}
	m.add("http-status", strconv.Itoa(p.Status))
	m.add("stored-sha256", digest([]byte(p.HTML)))
	if p.Charset != "" {
		m.add("charset-received", p.Charset)
	}
	m.add("charset-stored", "utf-8")
	if p.Stored != "" {
		m.add("stored-form", p.Stored)
	}
	counts := x.pii[p.URL]
	if len(counts) == 0 {
		m.add("redacted", "nothing: the personal-data filter found nothing to replace")
	} else {
		kinds := make([]string, 0, len(counts))
		for k := range counts {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			m.add("redacted", fmt.Sprintf("%s: %d", k, counts[k]))
		}
	}
	_, err := x.w.Write(warc.TypeMetadata, p.Time, []warc.Header{
		{Name: "WARC-Target-URI", Value: p.URL},
		{Name: "WARC-Refers-To", Value: id},
		{Name: "WARC-Warcinfo-ID", Value: x.infoID},
		{Name: "Content-Type", Value: "application/warc-fields"},
	}, m.bytes())
	return err
}

// decision writes a request goodbot refused or deferred before sending it.
func (x *warcExport) decision(e *audit.Entry) error {
	d := e.Event.Decision
	if !usableURL(d.URL) {
		return nil
	}
	m := fields{}
	m.add("log-entry", strconv.FormatInt(e.Seq, 10))
	m.add("request-id", d.RequestID)
	m.add("goodbot-decision", string(d.Verdict)+": "+d.Method+" not sent")
	m.add("reason", d.Reason)
	for _, c := range d.Checks {
		if c.Verdict != audit.Allow {
			m.add("gate", c.Gate+" "+string(c.Verdict)+": "+c.Reason)
		}
	}
	if d.RobotsRule != "" {
		m.add("robots-rule", d.RobotsRule)
	}
	if d.RobotsSHA256 != "" {
		m.add("robots-sha256", d.RobotsSHA256)
	}
	_, err := x.w.Write(warc.TypeMetadata, e.Event.Time, []warc.Header{
		{Name: "WARC-Target-URI", Value: d.URL},
		{Name: "WARC-Warcinfo-ID", Value: x.infoID},
		{Name: "Content-Type", Value: "application/warc-fields"},
	}, m.bytes())
	return err
}

// robotsPolicy writes what goodbot made of a robots.txt.
func (x *warcExport) robotsPolicy(e *audit.Entry) error {
	r := e.Event.Robots
	if !usableURL(r.URL) {
		return nil
	}
	m := fields{}
	m.add("log-entry", strconv.FormatInt(e.Seq, 10))
	if r.Status != 0 {
		m.add("http-status", strconv.Itoa(r.Status))
	}
	if r.SHA256 != "" {
		m.add("robots-sha256", r.SHA256)
	}
	m.add("robots-policy", r.Policy)
	if r.CrawlDelay > 0 {
		m.add("crawl-delay", r.CrawlDelay.String())
	}
	if !r.Expires.IsZero() {
		m.add("expires", warc.FormatDate(r.Expires))
	}
	if r.Redacted {
		m.add("redacted", "the copy in the log had personal data replaced; robots-sha256 is of the file as fetched")
	}
	if r.Error != "" {
		m.add("error", r.Error)
	}
	headers := []warc.Header{
		{Name: "WARC-Target-URI", Value: r.URL},
		{Name: "WARC-Warcinfo-ID", Value: x.infoID},
		{Name: "Content-Type", Value: "application/warc-fields"},
	}
	if prev, ok := x.last[r.URL]; ok {
		headers = slices.Insert(headers, 1, warc.Header{Name: "WARC-Refers-To", Value: prev.id})
	}
	_, err := x.w.Write(warc.TypeMetadata, e.Event.Time, headers, m.bytes())
	return err
}

// requestBlock renders the HTTP request as the client wrote it: the
// request line and the header fields recorded, in name order (HTTP
// leaves the order of different fields without meaning).
func requestBlock(f *audit.Fetch) []byte {
	target := "/"
	host := ""
	if u, err := url.Parse(f.URL); err == nil {
		target, host = u.RequestURI(), u.Host
	}
	method := f.Method
	if method == "" {
		method = http.MethodGet
	}
	h := f.RequestHeader
	if h == nil {
		h = map[string][]string{"Host": {host}, "User-Agent": {f.UserAgent}}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, target)
	writeHeader(&b, h)
	b.WriteString("\r\n")
	return []byte(b.String())
}

// responseBlock renders the status line and header fields of an answer,
// and body, which is nil when the body is not kept.
func responseBlock(f *audit.Fetch, body []byte) []byte {
	proto := f.Proto
	if proto == "" || strings.ContainsAny(proto, " \r\n") {
		proto = "HTTP/1.1"
	}
	h := f.ResponseHeader
	if h == nil && f.ContentType != "" {
		h = map[string][]string{"Content-Type": {f.ContentType}}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %s\r\n", proto, f.Status, http.StatusText(f.Status))
	writeHeader(&b, h)
	b.WriteString("\r\n")
	b.Write(body)
	return []byte(b.String())
}

func writeHeader(b *strings.Builder, h map[string][]string) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "" || strings.ContainsAny(k, ":\r\n \t") {
			continue
		}
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s: %s\r\n", k, oneLine(v))
		}
	}
}

// utf8Type returns the content type of a stored page, labelled as what it
// is: UTF-8 (pages are decoded to UTF-8 before they are scanned and stored).
func utf8Type(ct string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		mt, params = "text/html", map[string]string{}
	}
	params["charset"] = "utf-8"
	return mime.FormatMediaType(mt, params)
}

// usableURL reports whether u can be a WARC-Target-URI.
func usableURL(u string) bool {
	return u != "" && !strings.ContainsAny(u, " \r\n\t")
}

func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// fields builds an application/warc-fields block.
type fields []string

func (f *fields) add(name, value string) { *f = append(*f, name+": "+oneLine(value)) }

func (f fields) bytes() []byte { return []byte(strings.Join(f, "\r\n") + "\r\n") }
