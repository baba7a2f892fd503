package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// escapes holds a string with every case of encoding/json's escaping:
// quote and backslash, the named and the \u00XX control characters, DEL
// (not escaped), the HTML characters, U+2028 and U+2029, valid multi-byte
// UTF-8, and invalid UTF-8 (a lone continuation byte, a truncated
// sequence, an overlong encoding and a surrogate).
const escapes = "a\"b\\c/\b\f\n\r\t\x00\x01\x1f\x7f<script>&amp;\u2028\u2029µ漢字😀\x80\xe6\xbc\xc0\xaf\xed\xa0\x80end\xe2\x80"

// realTime is a time as the log records it: UTC, with nanoseconds.
var realTime = time.Date(2026, 12, 2, 15, 29, 38, 350472706, time.UTC)

// allowDecision is a page decision as the crawler records it.
func allowDecision() *Decision {
	return &Decision{
		RequestID: "2", URL: "http://127.0.0.1:35309/p/1", Method: "GET", Kind: "page", Depth: 1,
		Verdict: Allow, Reason: "all checks passed",
		Checks: []Check{
			{Gate: "stoplist", Verdict: Allow}, {Gate: "scope", Verdict: Allow}, {Gate: "signal", Verdict: Allow},
			{Gate: "robots", Verdict: Allow, Reason: "no robots.txt rule matches: allowed"},
			{Gate: "limiter", Verdict: Allow, Reason: "granted after 0s at interval 1µs"},
		},
		RobotsSHA256: "efc4db5408347a17597d7618522f084512d5d8d9ff46135129e293e4dee3355a",
		Wait:         2000,
	}
}

// okFetch is a page fetch as the crawler records it.
func okFetch() *Fetch {
	ua := "goodbot/0.1.0 (+mailto:bench@example.org)"
	return &Fetch{
		RequestID: "1", URL: "http://127.0.0.1:35309/p/0", Method: "GET", UserAgent: ua,
		Status: 200, ContentType: "text/html; charset=utf-8", Bytes: 2667,
		BodySHA256: "7b05e299846b073a9d1a1e88331df8d3b459a78efc240b4466a85cb74b3640a5",
		Charset:    "utf-8 (header)", Duration: 142747, Proto: "HTTP/1.1",
		RequestHeader: map[string][]string{
			"Accept": {"*/*"}, "Accept-Encoding": {"gzip"}, "From": {"bench@example.org"},
			"Host": {"127.0.0.1:35309"}, "User-Agent": {ua},
		},
		ResponseHeader: map[string][]string{
			"Content-Type": {"text/html; charset=utf-8"}, "Date": {"Wed, 02 Dec 2026 15:29:38 GMT"},
		},
		Class: "ok",
	}
}

func encodeCases() []struct {
	name string
	e    Event
} {
	site := "127.0.0.1:35309"
	refused := &Decision{
		URL: "http://example.com/private/x?token=[redacted]", Method: "POST", Kind: "seed",
		Verdict: Refuse, Reason: "scope: POST requests are not sent",
		Checks: []Check{{Gate: "scope", Verdict: Refuse, Reason: "POST requests are not sent"}},
	}
	robotsRule := allowDecision()
	robotsRule.RobotsRule, robotsRule.Wait = "allow: /public/", 0
	conditional := allowDecision()
	conditional.Conditional = &Conditional{IfNoneMatch: `W/"abc", "def"`, IfModifiedSince: "Wed, 02 Dec 2026 15:29:38 GMT"}
	etagOnly := allowDecision()
	etagOnly.Conditional = &Conditional{IfNoneMatch: `"x"`}
	dateOnly := allowDecision()
	dateOnly.Conditional = &Conditional{IfModifiedSince: "Wed, 02 Dec 2026 15:29:38 GMT"}
	emptyCond := allowDecision()
	emptyCond.Conditional = &Conditional{}
	emptyChecks := allowDecision()
	emptyChecks.Checks = []Check{}
	zero := &Decision{}
	escaped := &Decision{RequestID: escapes, URL: escapes, Method: escapes, Kind: escapes, Depth: -7, Verdict: Verdict(escapes), Reason: escapes,
		Checks: []Check{{Gate: escapes, Verdict: Verdict(escapes), Reason: escapes}}, RobotsRule: escapes, RobotsSHA256: escapes,
		Wait: -1, Conditional: &Conditional{IfNoneMatch: escapes, IfModifiedSince: escapes}}

	network := &Fetch{RequestID: "9", URL: "http://example.com/", Method: "GET", UserAgent: "goodbot", Duration: 30 * time.Second,
		Class: "network", Error: `Get "http://example.com/": dial tcp: lookup example.com: no such host`}
	signals := okFetch()
	signals.StoredSHA256 = ""
	signals.NotStored = "the page asked not to be stored (noindex)"
	signals.Signals = []Signal{
		{Source: "meta robots", Rule: "noindex, nofollow", Decision: "not stored"},
		{Source: "X-Robots-Tag", Rule: "noarchive", Decision: "stored without an archive copy"},
	}
	signals.NoArchive = true
	stored := okFetch()
	stored.StoredSHA256 = "02052d41511618a184b11afa23ba2f42b29f2721e156306e8d529c553290acc4"
	revisit := okFetch()
	revisit.Status, revisit.Bytes, revisit.Class = 304, 0, "not-modified"
	revisit.Revisit = &Revisit{
		Conditional:    Conditional{IfNoneMatch: `"v1"`, IfModifiedSince: "Tue, 01 Dec 2026 10:00:00 GMT"},
		RefersToDate:   time.Date(2026, 12, 1, 10, 0, 0, 120000000, time.UTC),
		RefersToSHA256: "c110b74063b70d7f49eb3f544229dcefe7cbb6dff585bb2f3318d5fd07610482",
		StoredSHA256:   "fc5039cafcb76b844f98c14e902108e7ea53c78d35fd203289de7a7d369e7c50",
		Spared:         2669,
	}
	revisitBare := okFetch()
	// An earlier fetch's time in a zone of its own, as the crawl state
	// may hand it back, and no validators.
	revisitBare.Revisit = &Revisit{RefersToDate: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CST", 8*3600))}
	revisitNeg := okFetch()
	revisitNeg.Revisit = &Revisit{Conditional: Conditional{IfModifiedSince: "x"}, RefersToDate: time.Date(1999, 1, 2, 3, 4, 5, 6, time.FixedZone("", -(9*3600+30*60)))}
	revisitETag := okFetch()
	revisitETag.Revisit = &Revisit{Conditional: Conditional{IfNoneMatch: "y"}}
	headers := okFetch()
	headers.RequestHeader = map[string][]string{"Z": nil, "a": {}, "B": {"1", "2"}, escapes: {escapes}, "": {""}, "Ä": {"é"}}
	headers.ResponseHeader = map[string][]string{}
	escapedFetch := &Fetch{RequestID: escapes, URL: escapes, Method: escapes, UserAgent: escapes, Status: -1, ContentType: escapes,
		Bytes: -1 << 63, BodySHA256: escapes, StoredSHA256: escapes, Charset: escapes, Duration: 1<<63 - 1, Proto: escapes,
		Class: escapes, Error: escapes, Signals: []Signal{{Source: escapes, Rule: escapes, Decision: escapes}}, NotStored: escapes}
	emptySignals := okFetch()
	emptySignals.Signals = []Signal{}

	pii := &PII{URL: "http://example.com/contact", Counts: map[string]int{"phone": 2, "email": 3, "id_card": 1, "Bank": 0}}
	dropped := &PII{URL: "http://example.com/list", SHA256: "7b05e299846b073a9d1a1e88331df8d3b459a78efc240b4466a85cb74b3640a5",
		Counts: map[string]int{"id_card": 40}, Dropped: true, Reason: "too much personal data: 40 ID card numbers"}
	unreadable := &PII{URL: "http://example.com/x.bin", Dropped: true, Unreadable: true, Reason: "type application/octet-stream cannot be scanned"}
	escapedPII := &PII{URL: escapes, SHA256: escapes, Counts: map[string]int{escapes: -5, "": 1 << 40}, Reason: escapes}

	return []struct {
		name string
		e    Event
	}{
		{"decision allow", Event{Type: TypeDecision, Time: realTime, Site: site, Decision: allowDecision()}},
		{"decision refused", Event{Type: TypeDecision, Time: realTime, Site: "example.com", Decision: refused}},
		{"decision robots rule", Event{Type: TypeDecision, Time: realTime, Site: site, Decision: robotsRule}},
		{"decision conditional", Event{Type: TypeDecision, Time: realTime, Site: site, Decision: conditional}},
		{"decision etag only", Event{Type: TypeDecision, Time: realTime, Site: site, Decision: etagOnly}},
		{"decision date only", Event{Type: TypeDecision, Time: realTime, Site: site, Decision: dateOnly}},
		{"decision empty conditional", Event{Type: TypeDecision, Time: realTime, Site: site, Decision: emptyCond}},
		{"decision empty checks", Event{Type: TypeDecision, Time: realTime, Site: site, Decision: emptyChecks}},
		{"decision zero", Event{Type: TypeDecision, Decision: zero}},
		{"decision escapes", Event{Type: Type(escapes), Time: realTime, Site: escapes, Decision: escaped}},
		{"fetch ok", Event{Type: TypeFetch, Time: realTime, Site: site, Fetch: okFetch()}},
		{"fetch stored", Event{Type: TypeFetch, Time: realTime, Site: site, Fetch: stored}},
		{"fetch network error", Event{Type: TypeFetch, Time: realTime, Site: "example.com", Fetch: network}},
		{"fetch signals", Event{Type: TypeFetch, Time: realTime, Site: site, Fetch: signals}},
		{"fetch empty signals", Event{Type: TypeFetch, Time: realTime, Site: site, Fetch: emptySignals}},
		{"fetch revisit", Event{Type: TypeFetch, Time: realTime, Site: site, Fetch: revisit}},
		{"fetch revisit zone", Event{Type: TypeFetch, Time: realTime, Site: site, Fetch: revisitBare}},
		{"fetch revisit negative zone", Event{Type: TypeFetch, Time: realTime, Site: site, Fetch: revisitNeg}},
		{"fetch revisit etag, zero time", Event{Type: TypeFetch, Time: realTime, Site: site, Fetch: revisitETag}},
		{"fetch headers", Event{Type: TypeFetch, Time: realTime, Site: site, Fetch: headers}},
		{"fetch zero", Event{Type: TypeFetch, Fetch: &Fetch{}}},
		{"fetch escapes", Event{Type: TypeFetch, Time: realTime, Site: escapes, Fetch: escapedFetch}},
		{"pii counts", Event{Type: TypePII, Time: realTime, Site: "example.com", PII: pii}},
		{"pii dropped", Event{Type: TypePII, Time: realTime, Site: "example.com", PII: dropped}},
		{"pii unreadable", Event{Type: TypePII, Time: realTime, Site: "example.com", PII: unreadable}},
		{"pii empty counts", Event{Type: TypePII, Time: realTime, PII: &PII{URL: "u", Counts: map[string]int{}}}},
		{"pii escapes", Event{Type: TypePII, Time: realTime, PII: escapedPII}},
		{"checkpoint", Event{Type: TypeCheckpoint, Time: realTime, Other: map[string]string{
			"note": "goodbot.test/unit\n12\nAAAA=\n\n— goodbot.test/unit abcd\n", "size": "12", "root": "AAAA+/=",
		}}},
		{"other escapes", Event{Type: TypeKey, Time: realTime, Other: map[string]string{escapes: escapes, "": "", "b": "a"}}},
		{"empty other", Event{Type: TypeRun, Time: realTime, Other: map[string]string{}}},
		{"envelope only", Event{Type: TypeDecision}},
		{"no type", Event{}},
		{"several payloads", Event{Type: TypeFetch, Time: realTime, Decision: allowDecision(), Fetch: okFetch(), PII: pii, Other: map[string]string{"k": "v"}}},
		{"time with zone", Event{Type: TypeFetch, Time: time.Date(2026, 6, 1, 0, 0, 0, 100, time.FixedZone("X", 5*3600+45*60)), Fetch: network}},
		{"time in local zone", Event{Type: TypeFetch, Time: realTime.Local(), Fetch: network}},
		{"time year 0", Event{Type: TypeFetch, Time: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), Fetch: network}},
		{"time year 9999", Event{Type: TypeFetch, Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), Fetch: network}},
		{"time zone 23:59", Event{Type: TypeFetch, Time: realTime.In(time.FixedZone("", -(23*3600 + 59*60 + 59))), Fetch: network}},
		// Handed to json.Marshal, as the appender does not encode them.
		{"config", Event{Type: TypeConfig, Time: realTime, Config: &Config{Version: "0.1.0", Settings: map[string]string{"a": "b"}}}},
		{"budget", Event{Type: TypeBudget, Time: realTime, Site: site, Budget: &Budget{EstimatePerDay: 1e21, Share: 0.1, BudgetPerDay: 1e-7}}},
		{"run", Event{Type: TypeRun, Time: realTime, Run: &Run{Reason: "done", Pages: 3}}},
		{"robots", Event{Type: TypeRobots, Time: realTime, Robots: &Robots{URL: "u", Body: []byte("x")}}},
		{"fetch and budget", Event{Type: TypeFetch, Time: realTime, Fetch: okFetch(), Budget: &Budget{}}},
	}
}

// TestEncodeEvent: encodeEvent gives json.Marshal's bytes for events as the
// crawler writes them, and for every optional field set and unset.
func TestEncodeEvent(t *testing.T) {
	for _, tc := range encodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(&tc.e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := encodeEvent(&tc.e)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encodeEvent\n%s\njson.Marshal\n%s", got, want)
			}
			if _, ok := appendEvent(nil, &tc.e); ok != handEncoded(&tc.e) {
				t.Errorf("appendEvent ok = %v, want %v", ok, !ok)
			}
		})
	}
}

// handEncoded reports whether appendEvent should encode e itself.
func handEncoded(e *Event) bool {
	return e.Config == nil && e.Robots == nil && e.Budget == nil && e.Complaint == nil && e.Deletion == nil &&
		e.Repair == nil && e.State == nil && e.Run == nil && e.BotKey == nil
}

// TestEncodeEventBadTime: times json.Marshal refuses fail alike.
func TestEncodeEventBadTime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		realTime.In(time.FixedZone("", 24*3600)),
		realTime.In(time.FixedZone("", -100*3600)),
	} {
		for _, e := range []Event{
			{Type: TypeFetch, Time: tm, Fetch: okFetch()},
			{Type: TypeFetch, Time: realTime, Fetch: &Fetch{Revisit: &Revisit{RefersToDate: tm}}},
		} {
			if _, err := json.Marshal(&e); err == nil {
				t.Fatalf("json.Marshal accepts %v", tm)
			}
			if _, ok := appendEvent(nil, &e); ok {
				t.Errorf("appendEvent accepts %v", tm)
			}
			if _, err := encodeEvent(&e); err == nil {
				t.Errorf("encodeEvent accepts %v", tm)
			}
		}
	}
}

// encodedFields lists the fields of every struct appendEvent encodes, as
// name, type and tag. When a field is added, changed or removed, update
// the appender in encode.go, then this list.
var encodedFields = map[reflect.Type][]string{
	reflect.TypeFor[Event](): {
		`Type audit.Type json:"type"`,
		`Time time.Time json:"time"`,
		`Site string json:"site,omitempty"`,
		`Config *audit.Config json:"config,omitempty"`,
		`Decision *audit.Decision json:"decision,omitempty"`,
		`Fetch *audit.Fetch json:"fetch,omitempty"`,
		`Robots *audit.Robots json:"robots,omitempty"`,
		`Budget *audit.Budget json:"budget,omitempty"`,
		`PII *audit.PII json:"pii,omitempty"`,
		`Complaint *audit.Complaint json:"complaint,omitempty"`,
		`Deletion *audit.Deletion json:"deletion,omitempty"`,
		`Repair *audit.Repair json:"repair,omitempty"`,
		`State *audit.State json:"state,omitempty"`,
		`Run *audit.Run json:"run,omitempty"`,
		`BotKey *audit.BotKey json:"botkey,omitempty"`,
		`Other map[string]string json:"other,omitempty"`,
	},
	reflect.TypeFor[Decision](): {
		`RequestID string json:"request_id"`,
		`URL string json:"url"`,
		`Method string json:"method"`,
		`Kind string json:"kind"`,
		`Depth int json:"depth"`,
		`Verdict audit.Verdict json:"verdict"`,
		`Reason string json:"reason"`,
		`Checks []audit.Check json:"checks"`,
		`RobotsRule string json:"robots_rule,omitempty"`,
		`RobotsSHA256 string json:"robots_sha256,omitempty"`,
		`Wait time.Duration json:"wait_ns,omitempty"`,
		`Conditional *audit.Conditional json:"conditional,omitempty"`,
	},
	reflect.TypeFor[Check](): {
		`Gate string json:"gate"`,
		`Verdict audit.Verdict json:"verdict"`,
		`Reason string json:"reason,omitempty"`,
	},
	reflect.TypeFor[Conditional](): {
		`IfNoneMatch string json:"if_none_match,omitempty"`,
		`IfModifiedSince string json:"if_modified_since,omitempty"`,
	},
	reflect.TypeFor[Fetch](): {
		`RequestID string json:"request_id"`,
		`URL string json:"url"`,
		`Method string json:"method"`,
		`UserAgent string json:"user_agent"`,
		`Status int json:"status,omitempty"`,
		`ContentType string json:"content_type,omitempty"`,
		`Bytes int64 json:"bytes"`,
		`BodySHA256 string json:"body_sha256,omitempty"`,
		`StoredSHA256 string json:"stored_sha256,omitempty"`,
		`Charset string json:"charset,omitempty"`,
		`Duration time.Duration json:"duration_ns"`,
		`Proto string json:"proto,omitempty"`,
		`RequestHeader map[string][]string json:"request_header,omitempty"`,
		`ResponseHeader map[string][]string json:"response_header,omitempty"`,
		`Class string json:"class"`,
		`Error string json:"error,omitempty"`,
		`Signals []audit.Signal json:"signals,omitempty"`,
		`NotStored string json:"not_stored,omitempty"`,
		`NoArchive bool json:"noarchive,omitempty"`,
		`Revisit *audit.Revisit json:"revisit,omitempty"`,
	},
	reflect.TypeFor[Signal](): {
		`Source string json:"source"`,
		`Rule string json:"rule"`,
		`Decision string json:"decision"`,
	},
	reflect.TypeFor[Revisit](): {
		`Conditional audit.Conditional (embedded)`,
		`RefersToDate time.Time json:"refers_to_date"`,
		`RefersToSHA256 string json:"refers_to_sha256,omitempty"`,
		`StoredSHA256 string json:"stored_sha256,omitempty"`,
		`Spared int64 json:"spared"`,
	},
	reflect.TypeFor[PII](): {
		`URL string json:"url"`,
		`SHA256 string json:"sha256,omitempty"`,
		`Counts map[string]int json:"counts,omitempty"`,
		`Dropped bool json:"dropped,omitempty"`,
		`Unreadable bool json:"unreadable,omitempty"`,
		`Reason string json:"reason,omitempty"`,
	},
}

// TestEncoderKnowsEveryField fails when a struct the appender encodes
// gains, loses or changes a field, or a type in it gains a JSON or text
// marshaler, so that encode.go cannot silently fall out of step with
// json.Marshal.
func TestEncoderKnowsEveryField(t *testing.T) {
	marshalers := []reflect.Type{reflect.TypeFor[json.Marshaler](), reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()}
	for typ, want := range encodedFields {
		var got []string
		for f := range typ.Fields() {
			s := fmt.Sprintf("%s %s json:%q", f.Name, f.Type, f.Tag.Get("json"))
			if f.Anonymous {
				s = fmt.Sprintf("%s %s (embedded)", f.Name, f.Type)
			}
			if f.Tag != "" && f.Tag != reflect.StructTag(`json:"`+f.Tag.Get("json")+`"`) {
				s += " other tags: " + string(f.Tag)
			}
			got = append(got, s)
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft == reflect.TypeFor[time.Time]() {
				continue // encoded as its MarshalJSON does
			}
			for _, m := range marshalers {
				if ft.Implements(m) || reflect.PointerTo(ft).Implements(m) {
					t.Errorf("%s.%s: %s implements %s, which encode.go does not call", typ.Name(), f.Name, ft, m)
				}
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("the fields of %s changed: update encode.go (or make appendEvent fall back for it), then encodedFields.\nhave:\n\t%s\nlisted:\n\t%s",
				typ.Name(), strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
		}
		if typ.Implements(marshalers[0]) || reflect.PointerTo(typ).Implements(marshalers[0]) ||
			typ.Implements(marshalers[1]) || reflect.PointerTo(typ).Implements(marshalers[1]) {
			t.Errorf("%s has a marshaler, which encode.go does not call", typ.Name())
		}
	}
}

// TestEncodeEventFilled sets every field of the event, and of each payload
// alone, to values that are not empty (found by reflection, so a field
// added later is set too) and compares encodeEvent with json.Marshal.
func TestEncodeEventFilled(t *testing.T) {
	for _, s := range []string{"v", escapes} {
		var all Event
		fill(reflect.ValueOf(&all).Elem(), s)
		ev := reflect.TypeFor[Event]()
		for i := range ev.NumField() {
			e := Event{Type: all.Type, Time: all.Time, Site: all.Site}
			f := reflect.ValueOf(&e).Elem().Field(i)
			f.Set(reflect.ValueOf(all).Field(i))
			compareEncodings(t, ev.Field(i).Name, &e)
		}
		compareEncodings(t, "every payload", &all)
		hot := Event{Type: all.Type, Time: all.Time, Site: all.Site, Decision: all.Decision, Fetch: all.Fetch, PII: all.PII, Other: all.Other}
		if _, ok := appendEvent(nil, &hot); !ok {
			t.Errorf("appendEvent does not encode an event with the hot payloads")
		}
		compareEncodings(t, "hot payloads", &hot)
	}
}

func compareEncodings(t *testing.T, name string, e *Event) {
	t.Helper()
	want, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := encodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: encodeEvent\n%s\njson.Marshal\n%s", name, got, want)
	}
}

// fill sets v and everything in it to values that are not empty: s for
// strings, 7 for numbers, true, a time, one element per slice and map.
func fill(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(7.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), s)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, s)
		fill(e, s)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(realTime))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), s)
			}
		}
	default:
		panic("fill: no value for " + v.Type().String())
	}
}

// FuzzEncodeEvent: for events built from fuzzed strings and numbers in
// every hot field, encodeEvent gives json.Marshal's bytes, and fails when
// json.Marshal does. mask chooses which optional fields are set.
func FuzzEncodeEvent(f *testing.F) {
	f.Add(uint64(0), "", "", "", "", int64(0), int64(0), int32(0))
	f.Add(^uint64(0), "http://127.0.0.1:35309/p/1", "all checks passed", "granted after 0s at interval 1µs", "text/html; charset=utf-8", realTime.Unix(), int64(realTime.Nanosecond()), int32(0))
	f.Add(uint64(0x5555555555555555), escapes, "<&>", "\u2028\u2029", "\xff\xfe", int64(-62135596800), int64(1), int32(-3600*23-59*60))
	f.Add(uint64(0xaaaaaaaaaaaaaaaa), "a\x00b", `"\`, "\xed\xa0\x80", "😀", int64(253402300800), int64(999999999), int32(24*3600))
	f.Fuzz(func(t *testing.T, mask uint64, a, b, c, d string, sec, n int64, offset int32) {
		e := fuzzEvent(mask, [4]string{a, b, c, d}, sec, n, offset)
		want, werr := json.Marshal(&e)
		got, gerr := encodeEvent(&e)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("json.Marshal error %v, encodeEvent error %v", werr, gerr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("encodeEvent\n%s\njson.Marshal\n%s", got, want)
		}
		if _, ok := appendEvent(nil, &e); ok && werr != nil {
			t.Fatalf("appendEvent encodes what json.Marshal refuses: %v", werr)
		}
	})
}

// fuzzEvent builds an event with the hot payloads from fuzzed values: bit
// i of mask says whether the i-th optional field is set, and the strings
// are spread over the fields in turn.
func fuzzEvent(mask uint64, strs [4]string, sec, n int64, offset int32) Event {
	bit := 0
	on := func() bool {
		v := mask>>(bit%64)&1 == 1
		bit++
		return v
	}
	k := 0
	str := func() string {
		k++
		if on() {
			return strs[k%4]
		}
		return ""
	}
	num := func() int64 {
		k++
		if !on() {
			return 0
		}
		if k%2 == 0 {
			return n
		}
		return sec
	}
	tm := func() time.Time {
		if !on() {
			return time.Time{}
		}
		t := time.Unix(sec, n)
		if on() {
			t = t.In(time.FixedZone(str(), int(offset)))
		}
		return t
	}
	header := func() map[string][]string {
		if !on() {
			return nil
		}
		h := map[string][]string{}
		for range 1 + bit%3 {
			var vs []string
			if on() {
				vs = []string{}
			}
			if on() {
				vs = append(vs, str(), str())
			}
			h[str()] = vs
		}
		return h
	}

	e := Event{Type: Type(str()), Time: tm(), Site: str()}
	if on() {
		dc := &Decision{RequestID: str(), URL: str(), Method: str(), Kind: str(), Depth: int(num()),
			Verdict: Verdict(str()), Reason: str(), RobotsRule: str(), RobotsSHA256: str(), Wait: time.Duration(num())}
		if on() {
			dc.Checks = []Check{}
		}
		for on() && len(dc.Checks) < 3 {
			dc.Checks = append(dc.Checks, Check{Gate: str(), Verdict: Verdict(str()), Reason: str()})
		}
		if on() {
			dc.Conditional = &Conditional{IfNoneMatch: str(), IfModifiedSince: str()}
		}
		e.Decision = dc
	}
	if on() {
		fe := &Fetch{RequestID: str(), URL: str(), Method: str(), UserAgent: str(), Status: int(num()), ContentType: str(),
			Bytes: num(), BodySHA256: str(), StoredSHA256: str(), Charset: str(), Duration: time.Duration(num()), Proto: str(),
			RequestHeader: header(), ResponseHeader: header(), Class: str(), Error: str(), NotStored: str(), NoArchive: on()}
		if on() {
			fe.Signals = []Signal{}
		}
		for on() && len(fe.Signals) < 3 {
			fe.Signals = append(fe.Signals, Signal{Source: str(), Rule: str(), Decision: str()})
		}
		if on() {
			fe.Revisit = &Revisit{Conditional: Conditional{IfNoneMatch: str(), IfModifiedSince: str()},
				RefersToDate: tm(), RefersToSHA256: str(), StoredSHA256: str(), Spared: num()}
		}
		e.Fetch = fe
	}
	if on() {
		p := &PII{URL: str(), SHA256: str(), Dropped: on(), Unreadable: on(), Reason: str()}
		if on() {
			p.Counts = map[string]int{}
			for range bit % 4 {
				p.Counts[str()] = int(num())
			}
		}
		e.PII = p
	}
	if on() {
		e.Other = map[string]string{}
		for range bit % 4 {
			e.Other[str()] = str()
		}
	}
	return e
}

// BenchmarkEncodeEvent compares encodeEvent with json.Marshal on a page
// decision and a page fetch as the crawler writes them.
//
//	go test -run '^$' -bench EncodeEvent -benchmem -count 6 ./audit/ | tee enc.txt
//	benchstat -col /enc enc.txt
func BenchmarkEncodeEvent(b *testing.B) {
	for _, ev := range []struct {
		name string
		e    Event
	}{
		{"decision", Event{Type: TypeDecision, Time: realTime, Site: "127.0.0.1:35309", Decision: allowDecision()}},
		{"fetch", Event{Type: TypeFetch, Time: realTime, Site: "127.0.0.1:35309", Fetch: okFetch()}},
	} {
		for _, enc := range []struct {
			name string
			f    func(*Event) ([]byte, error)
		}{
			{"json", func(e *Event) ([]byte, error) { return json.Marshal(e) }},
			{"append", encodeEvent},
		} {
			b.Run(ev.name+"/enc="+enc.name, func(b *testing.B) {
				b.ReportAllocs()
				var n int
				for b.Loop() {
					out, err := enc.f(&ev.e)
					if err != nil {
						b.Fatal(err)
					}
					n = len(out)
				}
				b.SetBytes(int64(n))
			})
		}
	}
}

// TestEncodeStoredEntries: the entries of a bundle written before the
// appender existed (by json.Marshal, in a real loopback crawl) parse as
// canonical, each re-encoded to its stored bytes.
func TestEncodeStoredEntries(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("evidence", "testdata", "format1-bundle", "entries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range bytes.Lines(b) {
		raw := bytes.TrimSuffix(line, []byte("\n"))
		e, err := ParseEntry(raw)
		if err != nil {
			t.Fatalf("entry %d: %v\n%s", n, err, raw)
		}
		if e.Event.Decision != nil || e.Event.Fetch != nil {
			if _, ok := appendEvent(nil, &e.Event); !ok {
				t.Errorf("entry %d: appendEvent does not encode it", n)
			}
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d entries", n)
	}
}
