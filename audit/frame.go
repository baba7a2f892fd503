package audit

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"unicode/utf8"
)

// Frames. Every record in a segment or in the checkpoints file is framed as
//
//	length  uint32, little-endian: number of payload bytes
//	crc     uint32, little-endian: CRC-32C (Castagnoli) of the payload
//	payload length bytes
//
// A frame is valid only when minPayload <= length <= maxPayload, so a
// zero-filled tail (length 0, CRC 0) never reads as a frame.
const (
	frameHeader = 8
	minPayload  = 16
	maxPayload  = 16 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends payload, framed, to buf.
func appendFrame(buf, payload []byte) []byte {
	var h [frameHeader]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(h[4:8], crc32.Checksum(payload, crcTable))
	buf = append(buf, h[:]...)
	return append(buf, payload...)
}

// frameProblem says why the bytes at the start of b are not a valid frame,
// or "" when they are; n is the frame's total length.
func readFrame(b []byte) (payload []byte, n int, problem string) {
	if len(b) < frameHeader {
		return nil, 0, "short frame header"
	}
	l := binary.LittleEndian.Uint32(b[0:4])
	if l < minPayload || l > maxPayload {
		return nil, 0, "bad frame length"
	}
	if uint64(len(b)-frameHeader) < uint64(l) {
		return nil, 0, "frame runs past end of file"
	}
	p := b[frameHeader : frameHeader+int(l)]
	if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(b[4:8]) {
		return nil, 0, "bad CRC"
	}
	return p, frameHeader + int(l), ""
}

// validFrameAfter reports whether a valid frame whose payload looks like an
// entry starts anywhere in b. It tells a torn tail (nothing valid follows
// the damage) from damage in the middle of a segment.
func validFrameAfter(b []byte, prefix []byte) (int, bool) {
	for i := 0; i+frameHeader+minPayload <= len(b); i++ {
		l := binary.LittleEndian.Uint32(b[i : i+4])
		if l < minPayload || l > maxPayload || uint64(len(b)-i-frameHeader) < uint64(l) {
			continue
		}
		p := b[i+frameHeader : i+frameHeader+int(l)]
		if len(prefix) > 0 && (len(p) < len(prefix) || string(p[:len(prefix)]) != string(prefix)) {
			continue
		}
		if _, _, problem := readFrame(b[i:]); problem == "" {
			return i, true
		}
	}
	return 0, false
}

// crashTorn reports whether b, bytes that do not start with a valid frame
// and are followed by none, can be what a crash leaves of a text record
// being appended (a signed checkpoint): zeros, part of a frame header, or
// a plausible header followed by fewer bytes than it announces (or by
// bytes the file system had not written yet, read back as zeros) that are
// text so far. Anything else, such as random bytes, is damage.
func crashTorn(b []byte) bool {
	rest := bytes.TrimRight(b, "\x00")
	if len(rest) == 0 || len(b) < frameHeader {
		return true
	}
	l := binary.LittleEndian.Uint32(b[0:4])
	if l < minPayload || l > maxPayload {
		return false
	}
	p := b[frameHeader:min(len(b), frameHeader+int(l))]
	p = bytes.TrimRight(p, "\x00")
	if !utf8.Valid(p) {
		return false
	}
	for _, c := range p {
		if c < ' ' && c != '\n' {
			return false
		}
	}
	return true
}
