package audit

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds a hand-written encoder for the events the crawler writes
// for every request: decisions, fetches and PII findings, and the log's own
// entries (Other). It produces exactly the bytes json.Marshal(e) gives for
// the same Event, so the log's format is unchanged: decodeEntry's canonical
// check, old logs, FORMAT.md and the bundle's verify.py hold as before. It
// is only faster: no reflection, and one buffer sized up front.
//
// The rules of encoding/json it follows:
//
//   - struct fields in declared order, under their tag names; omitempty
//     drops "", 0, false, nil pointers and empty slices and maps;
//   - a slice without omitempty is null when nil and [] when empty;
//   - map keys in increasing byte order;
//   - strings escaped as encoding/json does with HTML escaping on: `"` and
//     `\` with a backslash, \b \f \n \r \t by name, other bytes below 0x20
//     and < > & as \u00XX, U+2028 and U+2029 as \u2028 and \u2029, and each
//     byte of invalid UTF-8 as \ufffd;
//   - time.Time as its MarshalJSON gives it (RFC 3339 with nanoseconds,
//     trailing zeros trimmed, its own offset);
//   - time.Duration and the other integers in decimal.
//
// An event with any payload this file does not encode (config, robots,
// budget, complaint, ...), or with a time MarshalJSON refuses, is encoded by
// json.Marshal as a whole (see encodeEvent). TestEncoderKnowsEveryField
// fails when a field is added to an encoded struct, so that this file is
// updated with it; FuzzEncodeEvent compares it with json.Marshal.

// appendEvent appends the canonical JSON encoding of e to b. It reports
// false, with b in an unspecified state, when e holds a payload it does
// not encode or a value json.Marshal would refuse; the caller then uses
// json.Marshal.
func appendEvent(b []byte, e *Event) ([]byte, bool) {
	if e.Config != nil || e.Robots != nil || e.Budget != nil || e.Complaint != nil ||
		e.Deletion != nil || e.Repair != nil || e.State != nil || e.Run != nil || e.BotKey != nil {
		return b, false
	}
	b = append(b, `{"type":`...)
	b = appendString(b, string(e.Type))
	b = append(b, `,"time":`...)
	b, ok := appendTime(b, e.Time)
	if !ok {
		return b, false
	}
	if e.Site != "" {
		b = append(b, `,"site":`...)
		b = appendString(b, e.Site)
	}
	if e.Decision != nil {
		b = append(b, `,"decision":`...)
		b = appendDecision(b, e.Decision)
	}
	if e.Fetch != nil {
		b = append(b, `,"fetch":`...)
		if b, ok = appendFetch(b, e.Fetch); !ok {
			return b, false
		}
	}
	if e.PII != nil {
		b = append(b, `,"pii":`...)
		b = appendPII(b, e.PII)
	}
	if len(e.Other) > 0 {
		b = append(b, `,"other":`...)
		b = appendStringMap(b, e.Other)
	}
	return append(b, '}'), true
}

func appendDecision(b []byte, d *Decision) []byte {
	b = append(b, `{"request_id":`...)
	b = appendString(b, d.RequestID)
	b = append(b, `,"url":`...)
	b = appendString(b, d.URL)
	b = append(b, `,"method":`...)
	b = appendString(b, d.Method)
	b = append(b, `,"kind":`...)
	b = appendString(b, d.Kind)
	b = append(b, `,"depth":`...)
	b = strconv.AppendInt(b, int64(d.Depth), 10)
	b = append(b, `,"verdict":`...)
	b = appendString(b, string(d.Verdict))
	b = append(b, `,"reason":`...)
	b = appendString(b, d.Reason)
	b = append(b, `,"checks":`...)
	if d.Checks == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range d.Checks {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCheck(b, &d.Checks[i])
		}
		b = append(b, ']')
	}
	if d.RobotsRule != "" {
		b = append(b, `,"robots_rule":`...)
		b = appendString(b, d.RobotsRule)
	}
	if d.RobotsSHA256 != "" {
		b = append(b, `,"robots_sha256":`...)
		b = appendString(b, d.RobotsSHA256)
	}
	if d.Wait != 0 {
		b = append(b, `,"wait_ns":`...)
		b = strconv.AppendInt(b, int64(d.Wait), 10)
	}
	if d.Conditional != nil {
		b = append(b, `,"conditional":{`...)
		b = appendConditional(b, d.Conditional)
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendCheck(b []byte, c *Check) []byte {
	b = append(b, `{"gate":`...)
	b = appendString(b, c.Gate)
	b = append(b, `,"verdict":`...)
	b = appendString(b, string(c.Verdict))
	if c.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, c.Reason)
	}
	return append(b, '}')
}

// appendConditional appends c's fields without braces around them, as
// they are also promoted into Revisit, and without a comma after them.
func appendConditional(b []byte, c *Conditional) []byte {
	if c.IfNoneMatch != "" {
		b = append(b, `"if_none_match":`...)
		b = appendString(b, c.IfNoneMatch)
	}
	if c.IfModifiedSince != "" {
		if c.IfNoneMatch != "" {
			b = append(b, ',')
		}
		b = append(b, `"if_modified_since":`...)
		b = appendString(b, c.IfModifiedSince)
	}
	return b
}

func appendFetch(b []byte, f *Fetch) ([]byte, bool) {
	b = append(b, `{"request_id":`...)
	b = appendString(b, f.RequestID)
	b = append(b, `,"url":`...)
	b = appendString(b, f.URL)
	b = append(b, `,"method":`...)
	b = appendString(b, f.Method)
	b = append(b, `,"user_agent":`...)
	b = appendString(b, f.UserAgent)
	if f.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(f.Status), 10)
	}
	if f.ContentType != "" {
		b = append(b, `,"content_type":`...)
		b = appendString(b, f.ContentType)
	}
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, f.Bytes, 10)
	if f.BodySHA256 != "" {
		b = append(b, `,"body_sha256":`...)
		b = appendString(b, f.BodySHA256)
	}
	if f.StoredSHA256 != "" {
		b = append(b, `,"stored_sha256":`...)
		b = appendString(b, f.StoredSHA256)
	}
	if f.Charset != "" {
		b = append(b, `,"charset":`...)
		b = appendString(b, f.Charset)
	}
	b = append(b, `,"duration_ns":`...)
	b = strconv.AppendInt(b, int64(f.Duration), 10)
	if f.Proto != "" {
		b = append(b, `,"proto":`...)
		b = appendString(b, f.Proto)
	}
	if len(f.RequestHeader) > 0 {
		b = append(b, `,"request_header":`...)
		b = appendHeader(b, f.RequestHeader)
	}
	if len(f.ResponseHeader) > 0 {
		b = append(b, `,"response_header":`...)
		b = appendHeader(b, f.ResponseHeader)
	}
	b = append(b, `,"class":`...)
	b = appendString(b, f.Class)
	if f.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, f.Error)
	}
	if len(f.Signals) > 0 {
		b = append(b, `,"signals":[`...)
		for i := range f.Signals {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendSignal(b, &f.Signals[i])
		}
		b = append(b, ']')
	}
	if f.NotStored != "" {
		b = append(b, `,"not_stored":`...)
		b = appendString(b, f.NotStored)
	}
	if f.NoArchive {
		b = append(b, `,"noarchive":true`...)
	}
	if f.Revisit != nil {
		b = append(b, `,"revisit":`...)
		var ok bool
		if b, ok = appendRevisit(b, f.Revisit); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

func appendSignal(b []byte, s *Signal) []byte {
	b = append(b, `{"source":`...)
	b = appendString(b, s.Source)
	b = append(b, `,"rule":`...)
	b = appendString(b, s.Rule)
	b = append(b, `,"decision":`...)
	b = appendString(b, s.Decision)
	return append(b, '}')
}

func appendRevisit(b []byte, r *Revisit) ([]byte, bool) {
	b = append(b, '{')
	b = appendConditional(b, &r.Conditional)
	if r.Conditional != (Conditional{}) {
		b = append(b, ',')
	}
	b = append(b, `"refers_to_date":`...)
	b, ok := appendTime(b, r.RefersToDate)
	if !ok {
		return b, false
	}
	if r.RefersToSHA256 != "" {
		b = append(b, `,"refers_to_sha256":`...)
		b = appendString(b, r.RefersToSHA256)
	}
	if r.StoredSHA256 != "" {
		b = append(b, `,"stored_sha256":`...)
		b = appendString(b, r.StoredSHA256)
	}
	b = append(b, `,"spared":`...)
	b = strconv.AppendInt(b, r.Spared, 10)
	return append(b, '}'), true
}

func appendPII(b []byte, p *PII) []byte {
	b = append(b, `{"url":`...)
	b = appendString(b, p.URL)
	if p.SHA256 != "" {
		b = append(b, `,"sha256":`...)
		b = appendString(b, p.SHA256)
	}
	if len(p.Counts) > 0 {
		b = append(b, `,"counts":{`...)
		var arr [16]field[int]
		for i, f := range sortedFields(arr[:0], p.Counts) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f.key)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(f.value), 10)
		}
		b = append(b, '}')
	}
	if p.Dropped {
		b = append(b, `,"dropped":true`...)
	}
	if p.Unreadable {
		b = append(b, `,"unreadable":true`...)
	}
	if p.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, p.Reason)
	}
	return append(b, '}')
}

// appendHeader appends a header map: keys sorted, a nil value as null.
func appendHeader(b []byte, h map[string][]string) []byte {
	b = append(b, '{')
	var arr [32]field[[]string]
	for i, f := range sortedFields(arr[:0], h) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.key)
		b = append(b, ':')
		vs := f.value
		if vs == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, v := range vs {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendStringMap(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	var arr [16]field[string]
	for i, f := range sortedFields(arr[:0], m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.key)
		b = append(b, ':')
		b = appendString(b, f.value)
	}
	return append(b, '}')
}

// A field is one key and value of a map.
type field[V any] struct {
	key   string
	value V
}

// sortedFields appends m's fields to fs, sorted by key as encoding/json
// sorts them (by bytes), and returns the result.
func sortedFields[V any](fs []field[V], m map[string]V) []field[V] {
	for k, v := range m {
		fs = append(fs, field[V]{k, v})
	}
	slices.SortFunc(fs, func(a, b field[V]) int { return strings.Compare(a.key, b.key) })
	return fs
}

// appendTime appends t as time.Time's MarshalJSON does, and reports false
// where MarshalJSON fails: a year outside 0-9999 or a zone offset of 24
// hours or more.
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	b = append(b, '"')
	n0 := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	if b[n0+len("2006")] != '-' {
		return b, false
	}
	if b[len(b)-1] != 'Z' {
		// An offset of 24 hours or more: MarshalJSON checks the hour
		// digits the format wrote.
		c := b[len(b)-len("Z07:00")]
		h := b[len(b)-len("07:00"):]
		if '0' <= c && c <= '9' || 10*(h[0]-'0')+(h[1]-'0') >= 24 {
			return b, false
		}
	}
	return append(b, '"'), true
}

// hexDigits are the digits of encoding/json's \u escapes.
const hexDigits = "0123456789abcdef"

// plainByte[c] is set for the bytes encoding/json writes into a string as
// they are: ASCII, but not a control character, '"', '\\', '<', '>' or
// '&'. It is never written after it is built.
var plainByte = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it with HTML escaping on (json.Marshal's default).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainByte[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// eventSize estimates the length of e's encoding, so that the buffer is
// allocated once, without walking maps: the names and punctuation of the
// fields, the strings that vary most (URLs, reasons), unescaped, and a
// typical size for each map entry. A longer encoding only grows the
// buffer.
func eventSize(e *Event) int {
	n := 64 + len(e.Site)
	if d := e.Decision; d != nil {
		n += 160 + len(d.RequestID) + len(d.URL) + len(d.Reason) + len(d.RobotsRule) + len(d.RobotsSHA256)
		for i := range d.Checks {
			n += 40 + len(d.Checks[i].Gate) + len(d.Checks[i].Reason)
		}
		if c := d.Conditional; c != nil {
			n += 48 + len(c.IfNoneMatch) + len(c.IfModifiedSince)
		}
	}
	if f := e.Fetch; f != nil {
		n += 320 + len(f.RequestID) + len(f.URL) + len(f.UserAgent) + len(f.ContentType) + len(f.Error) + len(f.NotStored)
		// About the size of a header field as the crawler records it.
		n += 64 * (len(f.RequestHeader) + len(f.ResponseHeader))
		for i := range f.Signals {
			s := &f.Signals[i]
			n += 40 + len(s.Source) + len(s.Rule) + len(s.Decision)
		}
		if r := f.Revisit; r != nil {
			n += 256 + len(r.IfNoneMatch) + len(r.IfModifiedSince)
		}
	}
	if p := e.PII; p != nil {
		n += 160 + len(p.URL) + len(p.Reason) + 24*len(p.Counts)
	}
	return n + 64*len(e.Other)
}
