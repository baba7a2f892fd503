package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"
)

// An entry is the unit of the log, and the exact bytes that are hashed:
//
//	{"seq":N,"prev":"<hex leaf hash of entry N-1>","event":<Event JSON>}
//
// The event is Event's JSON encoding (encoding/json, fields in declared
// order, maps sorted, times in UTC RFC 3339 with nanoseconds). The entry's
// leaf hash is the RFC 6962 leaf hash SHA-256(0x00 || entry); the next entry
// carries it as "prev", so the hash chain and the Merkle tree hash the same
// bytes. Entry 0 has a prev of 64 zeros.

// entryPrefix starts every entry; it helps tell a torn tail from damage.
var entryPrefix = []byte(`{"seq":`)

// appendEntry appends the canonical encoding of an entry to buf.
func appendEntry(buf []byte, seq int64, prev tlog.Hash, event []byte) []byte {
	buf = append(buf, entryPrefix...)
	buf = strconv.AppendInt(buf, seq, 10)
	buf = append(buf, `,"prev":"`...)
	buf = hex.AppendEncode(buf, prev[:])
	buf = append(buf, `","event":`...)
	buf = append(buf, event...)
	return append(buf, '}')
}

// encodeEvent returns the canonical JSON encoding of e: json.Marshal's,
// by appendEvent for the events it encodes, and by json.Marshal for the
// others.
func encodeEvent(e *Event) ([]byte, error) {
	if b, ok := appendEvent(make([]byte, 0, eventSize(e)), e); ok {
		return b, nil
	}
	return marshalEvent(*e)
}

// marshalEvent encodes e with json.Marshal. It takes a copy so that only
// this path moves an Event to the heap: encodeEvent's callers keep theirs
// on the stack.
func marshalEvent(e Event) ([]byte, error) {
	b, err := json.Marshal(&e)
	if err != nil {
		return nil, fmt.Errorf("audit: encode %s event: %w", e.Type, err)
	}
	return b, nil
}

// Entry is one decoded entry of the log.
type Entry struct {
	Seq   int64
	Prev  tlog.Hash
	Event Event
	// Raw holds the entry's bytes exactly as stored and hashed.
	Raw []byte
}

// LeafHash returns the entry's RFC 6962 leaf hash.
func (e *Entry) LeafHash() tlog.Hash { return tlog.RecordHash(e.Raw) }

// decodeEntry parses raw and checks that it is canonical: re-encoding the
// decoded entry gives the same bytes. Any byte changed by hand either breaks
// the JSON or the canonical form (or, if it survives both, the hash chain).
func decodeEntry(raw []byte) (Entry, error) {
	// The envelope is fixed, so it is parsed by hand; the event is JSON.
	rest, ok := bytes.CutPrefix(raw, entryPrefix)
	if !ok {
		return Entry{}, errors.New("not an entry: no seq")
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	seq, err := strconv.ParseInt(string(rest[:i]), 10, 64)
	if err != nil {
		return Entry{}, fmt.Errorf("not an entry: bad seq: %w", err)
	}
	rest, ok = bytes.CutPrefix(rest[i:], []byte(`,"prev":"`))
	var prev tlog.Hash
	if !ok || len(rest) < 2*len(prev) {
		return Entry{}, errors.New("not an entry: no prev hash")
	}
	if _, err := hex.Decode(prev[:], rest[:2*len(prev)]); err != nil {
		return Entry{}, fmt.Errorf("not an entry: bad prev hash: %w", err)
	}
	rest, ok = bytes.CutPrefix(rest[2*len(prev):], []byte(`","event":`))
	if !ok || len(rest) < 2 || rest[len(rest)-1] != '}' {
		return Entry{}, errors.New("not an entry: no event")
	}
	event := rest[:len(rest)-1]
	e := Entry{Seq: seq, Prev: prev, Raw: raw}
	// Unknown fields are dropped by Unmarshal, so the comparison below
	// catches them.
	if err := json.Unmarshal(event, &e.Event); err != nil {
		return Entry{}, fmt.Errorf("bad event: %w", err)
	}
	ev, err := encodeEvent(&e.Event)
	if err != nil {
		return Entry{}, err
	}
	if !bytes.Equal(ev, event) || !bytes.Equal(appendEntry(nil, seq, prev, ev), raw) {
		return Entry{}, fmt.Errorf("entry is not in canonical form")
	}
	return e, nil
}

// ParseEntry decodes one entry as stored in a segment or an evidence bundle
// and checks that it is in canonical form, so that its leaf hash
// (SHA-256 of 0x00 followed by raw) is the one the log's tree holds.
func ParseEntry(raw []byte) (Entry, error) { return decodeEntry(raw) }
