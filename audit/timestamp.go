package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/goodbot/goodbot/audit/tsa"
)

// A Timestamper obtains a trusted time-stamp over data: tsa.Client, an
// RFC 3161 time-stamping authority, is one. The token must stamp the
// SHA-256 of data.
type Timestamper interface {
	Timestamp(ctx context.Context, data []byte) (token []byte, err error)
}

// DefaultTimestampTimeout bounds one call to Options.Timestamper.
const DefaultTimestampTimeout = 10 * time.Second

// timestampsFile holds the time-stamp tokens of the log's checkpoints.
// Each frame (as in the checkpoints file) is
//
//	<checkpoint size> " " <hex SHA-256 of the signed checkpoint note> "\n" <token, DER>
//
// The stamped bytes are the signed checkpoint note exactly as it is framed
// in the checkpoints file and recorded in the checkpoint entry (text,
// blank line, signature lines).
const timestampsFile = "checkpoints.tsr"

// Timestamp is a time-stamp token kept for a checkpoint.
type Timestamp struct {
	Size     int64    // the checkpoint's tree size
	NoteHash [32]byte // SHA-256 of the signed checkpoint note
	Token    []byte   // the RFC 3161 TimeStampToken, DER
	Offset   int64    // where its frame starts in checkpoints.tsr
}

func encodeTimestamp(ts Timestamp) []byte {
	p := strconv.AppendInt(nil, ts.Size, 10)
	p = append(p, ' ')
	p = hex.AppendEncode(p, ts.NoteHash[:])
	p = append(p, '\n')
	return append(p, ts.Token...)
}

func decodeTimestamp(p []byte) (Timestamp, error) {
	var ts Timestamp
	head, token, ok := bytes.Cut(p, []byte("\n"))
	if !ok {
		return ts, errors.New("no header line")
	}
	size, sum, ok := bytes.Cut(head, []byte(" "))
	var err error
	if ts.Size, err = strconv.ParseInt(string(size), 10, 64); !ok || err != nil || ts.Size < 0 {
		return ts, fmt.Errorf("bad size in header %q", head)
	}
	if n, err := hex.Decode(ts.NoteHash[:], sum); err != nil || n != len(ts.NoteHash) || len(sum) != 2*len(ts.NoteHash) {
		return ts, fmt.Errorf("bad hash in header %q", head)
	}
	ts.Token = token
	return ts, nil
}

// TimestampDamage describes bytes of checkpoints.tsr that are not a token
// frame.
type TimestampDamage struct {
	Offset, Bytes int64
	Problem       string
	Tail          bool // at the end of the file, as a crash leaves them
}

// ReadTimestamps reads the time-stamp tokens kept in the log directory,
// oldest first. Frames that are damaged are skipped and described; a log
// without a Timestamper has none.
func ReadTimestamps(dir string) ([]Timestamp, []TimestampDamage, error) {
	b, err := os.ReadFile(filepath.Join(dir, timestampsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("audit: %w", err)
	}
	var out []Timestamp
	var bad []TimestampDamage
	off := 0
	for off < len(b) {
		p, n, problem := readFrame(b[off:])
		var ts Timestamp
		if problem == "" {
			if ts, err = decodeTimestamp(p); err != nil {
				problem = err.Error()
			}
		}
		if problem != "" {
			skip, ok := validFrameAfter(b[off+1:], nil)
			if !ok {
				bad = append(bad, TimestampDamage{Offset: int64(off), Bytes: int64(len(b) - off), Problem: problem, Tail: true})
				break
			}
			bad = append(bad, TimestampDamage{Offset: int64(off), Bytes: int64(skip + 1), Problem: problem})
			off += skip + 1
			continue
		}
		ts.Offset = int64(off)
		out = append(out, ts)
		off += n
	}
	return out, bad, nil
}

// openTimestamps opens checkpoints.tsr for appending, after cutting a torn
// tail a crash left. Damage elsewhere is reported and left for Verify: the
// tokens are evidence beside the log, and never stop it.
func (l *Log) openTimestamps() error {
	_, bad, err := ReadTimestamps(l.dir)
	if err != nil {
		l.opts.Logger.Warn("audit: cannot read the time-stamp tokens", "file", timestampsFile, "err", err)
	}
	for _, d := range bad {
		if d.Tail {
			if err := truncateSync(filepath.Join(l.dir, timestampsFile), d.Offset); err != nil {
				return err
			}
			l.opts.Logger.Warn("audit: truncated a torn time-stamp token left by a crash", "offset", d.Offset, "bytes", d.Bytes, "problem", d.Problem)
		} else {
			l.opts.Logger.Warn("audit: damaged bytes in the time-stamp tokens file", "file", timestampsFile, "offset", d.Offset, "bytes", d.Bytes, "problem", d.Problem)
		}
	}
	l.tsf, err = os.OpenFile(filepath.Join(l.dir, timestampsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// timestamp asks the Timestamper for a token over the checkpoint and keeps
// it. A failure is returned for the caller to log and record; the
// checkpoint is durable already, and the next checkpoint, which covers
// this one's entries, is stamped in turn.
func (l *Log) timestamp(ctx context.Context, cp SignedCheckpoint) error {
	ctx, cancel := context.WithTimeout(ctx, l.opts.TimestampTimeout)
	defer cancel()
	token, err := l.opts.Timestamper.Timestamp(ctx, cp.Note)
	if err != nil {
		return err
	}
	ts := Timestamp{Size: cp.Size, NoteHash: sha256.Sum256(cp.Note), Token: token}
	if _, err := l.tsf.Write(appendFrame(nil, encodeTimestamp(ts))); err != nil {
		return fmt.Errorf("write %s: %w", timestampsFile, err)
	}
	if err := l.tsf.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", timestampsFile, err)
	}
	return nil
}

// TimestampSummary says what Verify found of the checkpoints' time-stamp
// tokens.
type TimestampSummary struct {
	// Tokens is how many tokens were checked; Checkpoints how many
	// distinct checkpoints they stamp.
	Tokens int
	// Trusted is whether the tokens' signers were checked against CA
	// roots (VerifyOptions.TSARoots). Without them, the tokens are only
	// checked for consistency: each stamps its checkpoint's hash and is
	// validly signed by the certificate it carries.
	Trusted bool
	// Latest is the token of the largest checkpoint stamped.
	LatestSize int64
	LatestTime time.Time
	LatestTSA  string // the signer certificate's subject
	// Damaged counts damaged frames skipped in checkpoints.tsr (a torn
	// tail that Open will cut is not counted).
	Damaged int
}

// String describes the tokens for goodbot audit verify.
func (t TimestampSummary) String() string {
	if t.Tokens == 0 {
		return "no time-stamp tokens"
	}
	s := fmt.Sprintf("%d time-stamp tokens, the latest for size %d at %s by %q", t.Tokens, t.LatestSize, t.LatestTime.Format(time.RFC3339), t.LatestTSA)
	if t.Trusted {
		s += ", verified against the TSA CA"
	} else {
		s += ", checked for consistency but NOT for trust (no TSA CA given: pass --tsa-ca)"
	}
	if t.Damaged > 0 {
		s += fmt.Sprintf("; WARNING: %d damaged frames in %s", t.Damaged, timestampsFile)
	}
	return s
}

// verifyTimestamps checks every kept token against the checkpoint it
// names: notes maps the SHA-256 of each verified checkpoint note to it;
// tokens of checkpoints in untrusted (signed by keys the verifier was not
// given) are skipped, as those checkpoints are.
func verifyTimestamps(dir string, notes map[[32]byte]SignedCheckpoint, untrusted map[[32]byte]bool, roots *x509.CertPool) (*TimestampSummary, error) {
	list, bad, err := ReadTimestamps(dir)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 && len(bad) == 0 {
		return nil, nil
	}
	sum := &TimestampSummary{Trusted: roots != nil}
	for _, d := range bad {
		if !d.Tail {
			sum.Damaged++
		}
	}
	for _, ts := range list {
		if untrusted[ts.NoteHash] {
			continue
		}
		where := fmt.Sprintf("%s: token at offset %d for the checkpoint at size %d", timestampsFile, ts.Offset, ts.Size)
		cp, ok := notes[ts.NoteHash]
		if !ok || cp.Size != ts.Size {
			return sum, fmt.Errorf("%w: %s: no verified checkpoint of that size has SHA-256 %x", ErrTimestamp, where, ts.NoteHash)
		}
		tok, err := tsa.Parse(ts.Token)
		if err != nil {
			return sum, fmt.Errorf("%w: %s: %w", ErrTimestamp, where, err)
		}
		if err := tok.Verify(ts.NoteHash[:], roots); err != nil {
			return sum, fmt.Errorf("%w: %s: %w", ErrTimestamp, where, err)
		}
		sum.Tokens++
		if ts.Size >= sum.LatestSize {
			sum.LatestSize, sum.LatestTime, sum.LatestTSA = ts.Size, tok.GenTime, tok.Signer.Subject.String()
		}
	}
	return sum, nil
}

// CheckpointTimestamp returns the kept token that stamps the signed
// checkpoint note, or nil if there is none.
func CheckpointTimestamp(dir string, note []byte) ([]byte, error) {
	list, _, err := ReadTimestamps(dir)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(note)
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].NoteHash == h {
			return list[i].Token, nil
		}
	}
	return nil, nil
}
