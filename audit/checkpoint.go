package audit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// SignedCheckpoint is a C2SP tlog-checkpoint: the log's origin, its size and
// the RFC 6962 root hash of its first Size entries, signed as a C2SP signed
// note with Ed25519.
type SignedCheckpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	// Note is the signed note, text and signatures, as it is handed to a
	// counterparty or a witness.
	Note []byte
}

// checkpointText returns the checkpoint body: "origin\nsize\nbase64(root)\n".
func checkpointText(origin string, size int64, root tlog.Hash) string {
	return origin + "\n" + strconv.FormatInt(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"
}

// parseCheckpointText parses a checkpoint body. Extension lines after the
// root are allowed by C2SP and ignored.
func parseCheckpointText(text string) (origin string, size int64, root tlog.Hash, err error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return "", 0, root, errors.New("checkpoint: want origin, size and root lines")
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return "", 0, root, fmt.Errorf("checkpoint: bad size %q", lines[1])
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != len(root) {
		return "", 0, root, fmt.Errorf("checkpoint: bad root hash %q", lines[2])
	}
	copy(root[:], h)
	return lines[0], size, root, nil
}

// signCheckpoint signs the checkpoint of a tree of the given size and root.
func signCheckpoint(s note.Signer, origin string, size int64, root tlog.Hash) (SignedCheckpoint, error) {
	msg, err := note.Sign(&note.Note{Text: checkpointText(origin, size, root)}, s)
	if err != nil {
		return SignedCheckpoint{}, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	return SignedCheckpoint{Origin: origin, Size: size, Root: root, Note: msg}, nil
}

// OpenCheckpoint checks the signatures on a signed checkpoint against the
// given verifier keys (note verifier keys, as in "name+hash+base64") and
// parses it. At least one signature must be by one of the keys.
func OpenCheckpoint(msg []byte, vkeys []string) (SignedCheckpoint, error) {
	vs, err := verifiers(vkeys)
	if err != nil {
		return SignedCheckpoint{}, err
	}
	n, err := note.Open(msg, vs)
	if err != nil {
		return SignedCheckpoint{}, fmt.Errorf("checkpoint: %w: %w", ErrBadSignature, err)
	}
	origin, size, root, err := parseCheckpointText(n.Text)
	if err != nil {
		return SignedCheckpoint{}, err
	}
	return SignedCheckpoint{Origin: origin, Size: size, Root: root, Note: msg}, nil
}

// parseUnverified reads a checkpoint's text without checking signatures. The
// log uses it on Open for its own checkpoints file; Verify always checks.
func parseUnverified(msg []byte) (SignedCheckpoint, error) {
	i := bytes.Index(msg, []byte("\n\n"))
	if i < 0 {
		return SignedCheckpoint{}, errors.New("checkpoint: not a signed note")
	}
	origin, size, root, err := parseCheckpointText(string(msg[:i+1]))
	if err != nil {
		return SignedCheckpoint{}, err
	}
	return SignedCheckpoint{Origin: origin, Size: size, Root: root, Note: msg}, nil
}

func verifiers(vkeys []string) (note.Verifiers, error) {
	var list []note.Verifier
	seen := map[string]bool{}
	for _, k := range vkeys {
		if seen[k] {
			continue
		}
		seen[k] = true
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("verifier key %q: %w", k, err)
		}
		list = append(list, v)
	}
	return note.VerifierList(list...), nil
}
