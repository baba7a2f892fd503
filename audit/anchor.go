package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// An Anchor hands a signed checkpoint to a party outside the log's control:
// an RFC 3161 time-stamping authority, a judicial evidence platform, a
// witness, a counterparty. What it returns (a time-stamp token, a
// transaction id, a file reference) is kept in the log's checkpoint entry,
// so the log itself shows where each checkpoint was anchored.
//
// Anchor is called by the log's writer after the checkpoint is durable; a
// slow Anchor delays the log, so implementations that reach a network
// should queue and return.
type Anchor interface {
	Anchor(ctx context.Context, checkpoint []byte) (receipt []byte, err error)
}

// A ConsistencyAnchor is an Anchor that checks each checkpoint against the
// last one it accepted from the same log, as a C2SP tlog-witness does. The
// log calls AnchorConsistent instead of Anchor, with prove, which returns
// the RFC 6962 consistency proof from a tree of oldSize leaves to the
// checkpoint's tree. prove is valid only during the call.
type ConsistencyAnchor interface {
	Anchor
	AnchorConsistent(ctx context.Context, checkpoint []byte, prove func(oldSize int64) (tlog.TreeProof, error)) (receipt []byte, err error)
}

// FileAnchor is an Anchor that copies each checkpoint into a directory,
// which should be on other storage than the log (another disk, a mounted
// share, a directory a witness process publishes). Its receipt is a small
// JSON object naming the file and its SHA-256.
type FileAnchor struct {
	Dir string
	Now func() time.Time // defaults to time.Now
}

// Anchor implements Anchor.
func (a FileAnchor) Anchor(ctx context.Context, checkpoint []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cp, err := parseUnverified(checkpoint)
	if err != nil {
		return nil, fmt.Errorf("audit: anchor: %w", err)
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, cp.Origin)
	name := fmt.Sprintf("%s-%020d.checkpoint", safe, cp.Size)
	path := filepath.Join(a.Dir, name)
	if err := writeFileSync(path, checkpoint, 0o644, false); err != nil {
		return nil, fmt.Errorf("audit: anchor to %s: %w", a.Dir, err)
	}
	sum := sha256.Sum256(checkpoint)
	return json.Marshal(struct {
		Kind   string    `json:"kind"`
		Path   string    `json:"path"`
		SHA256 string    `json:"sha256"`
		Time   time.Time `json:"time"`
	}{"file", path, hex.EncodeToString(sum[:]), now().UTC()})
}
