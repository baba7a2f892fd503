package audit

import (
	"errors"
	"fmt"
)

// The problems Verify and Open report. Errors returned by them wrap one of
// these, so callers can test with errors.Is.
var (
	ErrBadCRC         = errors.New("bad CRC")                      // a frame's checksum does not match its bytes
	ErrBadFrame       = errors.New("bad frame")                    // a frame's length is impossible
	ErrBadEntry       = errors.New("bad entry")                    // the entry does not parse, or is not canonical
	ErrBrokenChain    = errors.New("broken chain")                 // prev does not match the previous entry
	ErrReordered      = errors.New("reordered")                    // an entry appears out of sequence
	ErrDuplicated     = errors.New("duplicated")                   // an entry appears twice
	ErrMissing        = errors.New("missing")                      // entries are absent
	ErrTruncated      = errors.New("truncated")                    // the log is shorter than a checkpoint says
	ErrInconsistent   = errors.New("inconsistent with checkpoint") // the tree does not match a signed root
	ErrBadSignature   = errors.New("bad signature")                // a checkpoint or key rotation is not signed by a trusted key
	ErrDamageBelowCkp = errors.New("damage below the last checkpoint")
	ErrNotLog         = errors.New("not an operation log") // the directory holds no log files at all
	ErrNoEntries      = errors.New("no entries")           // the log's segments hold no entry
	ErrNoKey          = errors.New("no key")               // nothing says which key signs the log
	ErrTimestamp      = errors.New("bad time-stamp token") // a checkpoint's RFC 3161 token does not stamp it, or does not verify
)

// ErrInUse is wrapped by the error Open returns when another writer, in
// this process or another, holds the log directory.
var ErrInUse = errors.New("log is in use by another writer")

// An EntryError names the entry where a problem was found.
type EntryError struct {
	Seq     int64  // the entry's sequence number (its index in the log)
	Segment string // the segment file, if the problem is in one
	Offset  int64  // the byte offset of the entry's frame in Segment
	Err     error  // one of the Err* values above, possibly wrapped with detail
}

// Error names the entry, its place and the problem.
func (e *EntryError) Error() string {
	if e.Segment != "" {
		return fmt.Sprintf("entry %d (%s at offset %d): %v", e.Seq, e.Segment, e.Offset, e.Err)
	}
	return fmt.Sprintf("entry %d: %v", e.Seq, e.Err)
}

// Unwrap returns the problem, so errors.Is matches the Err* values.
func (e *EntryError) Unwrap() error { return e.Err }
