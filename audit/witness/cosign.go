package witness

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrInconsistent is returned when a checkpoint is not an extension of the
// last one the witness cosigned for the same log: a fork, or a consistency
// proof that does not hold.
var ErrInconsistent = errors.New("witness: checkpoint is not consistent with the last one cosigned")

// A Cosigner cosigns checkpoints as a C2SP tlog-witness: an Ed25519
// cosignature/v1 (https://c2sp.org/tlog-cosignature), a signature over
//
//	"cosignature/v1\ntime <unix seconds>\n" || checkpoint body
//
// by the witness's own key, stating that as of that time this is the
// largest consistent tree it has seen of the log. It cosigns a checkpoint
// only when the checkpoint is signed by one of the log keys it was given
// and, if it cosigned one of the same log before, when an RFC 6962
// consistency proof shows the new tree extends the old (a checkpoint of the
// same size must have the same root; a smaller one is a rollback).
type Cosigner struct {
	signer    note.Signer
	vkey      string
	logKeys   note.Verifiers
	anyLogKey bool
}

// GenerateCosignerKey makes a witness key named name (a schema-less URL,
// e.g. "witness.example.org/goodbot"): skey is the private key for
// NewCosigner, vkey the cosignature/v1 verifier key (type 0x04) to publish.
func GenerateCosignerKey(name string) (skey, vkey string, err error) {
	skey, v1, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("witness: %w", err)
	}
	vkey, err = fnote.VKeyToCosignatureV1(v1)
	if err != nil {
		return "", "", fmt.Errorf("witness: %w", err)
	}
	return skey, vkey, nil
}

// NewCosigner returns a Cosigner signing with skey (from
// GenerateCosignerKey) that accepts checkpoints signed by one of logKeys
// (note verifier keys). With no logKeys it accepts any log's signature
// unchecked: use that only where the log and the witness are one party.
func NewCosigner(skey string, logKeys []string) (*Cosigner, error) {
	s, err := fnote.NewSignerForCosignatureV1(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("witness: cosigner key: %w", err)
	}
	c := &Cosigner{signer: s, anyLogKey: len(logKeys) == 0}
	// The verifier key for the signer's public key, as published.
	_, v1, _ := strings.Cut(strings.TrimSpace(skey), "PRIVATE+KEY+")
	name, rest, _ := strings.Cut(v1, "+")
	_, key64, _ := strings.Cut(rest, "+")
	pub, err := publicFromSeed(name, key64)
	if err != nil {
		return nil, err
	}
	if c.vkey, err = fnote.VKeyToCosignatureV1(pub); err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	if !c.anyLogKey {
		var vs []note.Verifier
		for _, k := range logKeys {
			v, err := note.NewVerifier(k)
			if err != nil {
				return nil, fmt.Errorf("witness: log key %q: %w", k, err)
			}
			vs = append(vs, v)
		}
		c.logKeys = note.VerifierList(vs...)
	}
	return c, nil
}

// VerifierKey returns the cosignature/v1 verifier key to publish.
func (c *Cosigner) VerifierKey() string { return c.vkey }

// Name returns the witness's name, the key name of its cosignatures.
func (c *Cosigner) Name() string { return c.signer.Name() }

// checkLogSignature checks the checkpoint's signature by the log's key.
func (c *Cosigner) checkLogSignature(checkpoint []byte) error {
	if !c.anyLogKey {
		if _, err := note.Open(checkpoint, c.logKeys); err != nil {
			return fmt.Errorf("witness: not cosigning a checkpoint not signed by the log's key: %w", err)
		}
	}
	return nil
}

// Cosign returns the checkpoint with the witness's cosignature line
// appended, after checking its signature by the log's key. It keeps no
// state and checks no consistency: the Redis witness does both before it
// cosigns; use Cosign alone only where the checkpoint is known to extend
// everything cosigned before.
func (c *Cosigner) Cosign(checkpoint []byte) ([]byte, error) {
	if err := c.checkLogSignature(checkpoint); err != nil {
		return nil, err
	}
	line, err := c.cosign(checkpoint)
	if err != nil {
		return nil, err
	}
	return append(bytes.Clone(checkpoint), line...), nil
}

// cosign returns the cosignature line for the checkpoint.
func (c *Cosigner) cosign(checkpoint []byte) (string, error) {
	body, _, ok := bytes.Cut(checkpoint, []byte("\n\n"))
	if !ok {
		return "", errors.New("witness: not a signed note")
	}
	signed, err := note.Sign(&note.Note{Text: string(body) + "\n"}, c.signer)
	if err != nil {
		return "", fmt.Errorf("witness: cosign: %w", err)
	}
	_, line, _ := bytes.Cut(signed, []byte("\n\n"))
	return string(line), nil
}

// cosignScript records a cosigned checkpoint if the last one cosigned for
// the log is still the one the consistency check was made against.
var cosignScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if cur ~= ARGV[2] then
  return redis.error_reply('RACE another checkpoint of this log was cosigned meanwhile')
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return redis.call('RPUSH', KEYS[2], ARGV[3])
`)

// AnchorConsistent implements audit.ConsistencyAnchor: it publishes the
// checkpoint as Anchor does and, with a Cosigner, cosigns it after
// checking it extends the last checkpoint cosigned for the log, with the
// consistency proof prove gives. The receipt then carries the
// cosignature line.
func (r Redis) AnchorConsistent(ctx context.Context, checkpoint []byte, prove func(oldSize int64) (tlog.TreeProof, error)) ([]byte, error) {
	var line string
	if r.Cosigner != nil {
		var err error
		if line, err = r.checkAndCosign(ctx, checkpoint, prove); err != nil {
			return nil, err
		}
	}
	return r.publish(ctx, checkpoint, line)
}

func (r Redis) checkAndCosign(ctx context.Context, checkpoint []byte, prove func(int64) (tlog.TreeProof, error)) (string, error) {
	origin, size, root, err := parse(checkpoint)
	if err != nil {
		return "", err
	}
	if err := r.Cosigner.checkLogSignature(checkpoint); err != nil {
		return "", err
	}
	p := r.prefix()
	prev, err := r.Cosigned(ctx, origin)
	if err != nil {
		return "", err
	}
	if prev != nil {
		_, psize, proot, err := parse(prev)
		if err != nil {
			return "", fmt.Errorf("witness: the last cosigned checkpoint of %s: %w", origin, err)
		}
		switch {
		case size < psize:
			return "", fmt.Errorf("%w: size %d is smaller than the cosigned size %d", ErrRollback, size, psize)
		case size == psize && root != proot:
			return "", fmt.Errorf("%w: size %d with another root than the one cosigned (a fork)", ErrInconsistent, size)
		case size > psize:
			if prove == nil {
				return "", fmt.Errorf("%w: no consistency proof from size %d", ErrInconsistent, psize)
			}
			proof, err := prove(psize)
			if err == nil {
				err = tlog.CheckTree(proof, size, root, psize, proot)
			}
			if err != nil {
				return "", fmt.Errorf("%w: from size %d to %d: %v", ErrInconsistent, psize, size, err)
			}
		}
	}
	line, err := r.Cosigner.cosign(checkpoint)
	if err != nil {
		return "", err
	}
	cosigned := string(checkpoint) + line
	err = cosignScript.Run(ctx, r.Client, []string{p + "cosigned", p + "cosig:" + origin}, origin, string(prev), cosigned).Err()
	if err != nil {
		if strings.Contains(err.Error(), "RACE") {
			return "", fmt.Errorf("%w: %v", ErrInconsistent, err)
		}
		return "", fmt.Errorf("witness: store cosignature: %w", err)
	}
	return line, nil
}

// Cosigned returns the latest checkpoint cosigned for origin, with the
// log's signature and the cosignature, or nil.
func (r Redis) Cosigned(ctx context.Context, origin string) ([]byte, error) {
	return r.hget(ctx, "cosigned", origin)
}

// AllCosigned returns every checkpoint cosigned for origin, oldest first.
func (r Redis) AllCosigned(ctx context.Context, origin string) ([][]byte, error) {
	return r.list(ctx, "cosig:"+origin)
}

// VerifyCosignature checks that the signed note msg carries a valid
// cosignature/v1 by the witness key vkey (type 0x04, as VerifierKey
// returns) and returns the time the witness signed.
func VerifyCosignature(msg []byte, vkey string) (time.Time, error) {
	v, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		return time.Time{}, fmt.Errorf("witness: witness key %q: %w", vkey, err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("witness: no valid cosignature by %s: %w", v.Name(), err)
	}
	t, err := fnote.CoSigV1Timestamp(n.Sigs[0])
	if err != nil {
		return time.Time{}, fmt.Errorf("witness: cosignature time: %w", err)
	}
	return t.UTC(), nil
}

// parse reads origin, size and root of a checkpoint (signatures are not
// checked here).
func parse(cp []byte) (string, int64, tlog.Hash, error) {
	var root tlog.Hash
	lines := strings.SplitN(string(cp), "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return "", 0, root, errors.New("witness: not a checkpoint")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return "", 0, root, fmt.Errorf("witness: checkpoint size %q", lines[1])
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != len(root) {
		return "", 0, root, fmt.Errorf("witness: checkpoint root %q", lines[2])
	}
	copy(root[:], h)
	return lines[0], size, root, nil
}

// publicFromSeed returns the Ed25519 note verifier key (type 0x01) of a
// signer key's base64 (0x01 || seed).
func publicFromSeed(name, key64 string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(b) != 1+ed25519.SeedSize || (b[0] != 0x01 && b[0] != 0x04) {
		return "", errors.New("witness: cosigner key: want an Ed25519 signer key")
	}
	pub := ed25519.NewKeyFromSeed(b[1:]).Public().(ed25519.PublicKey)
	v, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return "", fmt.Errorf("witness: %w", err)
	}
	return v, nil
}
