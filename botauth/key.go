package botauth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// Key is an Ed25519 key that signs a bot's requests.
type Key struct {
	priv  ed25519.PrivateKey
	keyID string
	// Retired is when the key was replaced by a newer one; zero for the
	// key in use. A retired key stays in the directory for RetiredKeyGrace
	// after that, so that verifiers holding a cached directory move over.
	Retired time.Time
}

// RetiredKeyGrace is how long a replaced key stays in the key directory
// after a rotation: longer than verifiers are asked to cache the directory
// (DirectoryMaxAge), so that none drops the new key's predecessor before it
// has seen the new key.
const RetiredKeyGrace = 7 * 24 * time.Hour

// NewKey returns the Key for an Ed25519 private key.
func NewKey(priv ed25519.PrivateKey) (*Key, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("botauth: Ed25519 private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	// The public half is derived again rather than trusted: a private key
	// whose stored public half is wrong would sign what nobody verifies.
	k := &Key{priv: ed25519.NewKeyFromSeed(priv.Seed())}
	k.keyID = Thumbprint(k.Public())
	return k, nil
}

// GenerateKey returns a new random key.
func GenerateKey() (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("botauth: generate key: %w", err)
	}
	return NewKey(priv)
}

// Public returns the key's public half.
func (k *Key) Public() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// KeyID returns the key's keyid: its JWK SHA-256 thumbprint (Thumbprint).
func (k *Key) KeyID() string { return k.keyID }

// JWK returns the key's public JWK, with kid set to its thumbprint as the
// protocol draft asks of a directory.
func (k *Key) JWK() JWK {
	j := JWK{Kty: "OKP", Crv: "Ed25519", Kid: k.keyID, X: b64url(k.Public()), Use: "sig"}
	if !k.Retired.IsZero() {
		j.Exp = k.Retired.Add(RetiredKeyGrace).Unix()
	}
	return j
}

func (k *Key) sign(msg []byte) []byte { return ed25519.Sign(k.priv, msg) }

// JWK is a public JSON Web Key (RFC 7517) of type OKP (RFC 8037), as
// published in a key directory.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	Kid string `json:"kid,omitempty"`
	X   string `json:"x"`
	Use string `json:"use,omitempty"`
	// Exp, if set, is when the key leaves the directory (Unix time): a
	// retired key's last day.
	Exp int64 `json:"exp,omitempty"`
}

// Thumbprint returns the JWK SHA-256 thumbprint of an Ed25519 public key,
// base64url without padding: RFC 7638 section 3 over the required members
// of its OKP JWK (RFC 8037 appendix A.3), crv, kty and x, in that
// (lexicographic) order and without whitespace.
func Thumbprint(pub ed25519.PublicKey) string {
	// The members' values are fixed strings and base64url, which need no
	// JSON escaping, so the canonical form is written directly.
	canon := `{"crv":"Ed25519","kty":"OKP","x":"` + b64url(pub) + `"}`
	sum := sha256.Sum256([]byte(canon))
	return b64url(sum[:])
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// pemType is the PEM type of a PKCS #8 private key, as openssl writes it
// ("openssl genpkey -algorithm ed25519" makes a key goodbot reads).
const pemType = "PRIVATE KEY"

// retiredHeader is the PEM header that marks a retired key, with the time
// it was replaced (RFC 3339).
const retiredHeader = "Retired"

// MarshalKey returns k as a PKCS #8 PEM block.
func MarshalKey(k *Key) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("botauth: encode key: %w", err)
	}
	b := &pem.Block{Type: pemType, Bytes: der}
	if !k.Retired.IsZero() {
		b.Headers = map[string]string{retiredHeader: k.Retired.UTC().Format(time.RFC3339)}
	}
	return pem.EncodeToMemory(b), nil
}

// ParseKey reads a key written by MarshalKey, or any PKCS #8 PEM Ed25519
// private key.
func ParseKey(data []byte) (*Key, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != pemType {
		return nil, errors.New("botauth: not a PEM \"PRIVATE KEY\" block")
	}
	raw, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("botauth: parse key: %w", err)
	}
	priv, ok := raw.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("botauth: key is %T, want an Ed25519 key", raw)
	}
	k, err := NewKey(priv)
	if err != nil {
		return nil, err
	}
	if v, ok := b.Headers[retiredHeader]; ok {
		if k.Retired, err = time.Parse(time.RFC3339, v); err != nil {
			return nil, fmt.Errorf("botauth: key's %s header: %w", retiredHeader, err)
		}
	}
	return k, nil
}

// LoadKeyFile reads the key in path. It refuses a file that others than
// its owner may read, as ssh does: whoever reads it can sign as the bot.
func LoadKeyFile(path string) (*Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("botauth: key file: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("botauth: key file %s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("botauth: key file: %w", err)
	}
	k, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w (key file %s)", err, path)
	}
	return k, nil
}

// LoadOrCreateKeyFile reads the key in path, or, when there is no file,
// generates one and writes it there with mode 0600 (the directory is
// created with 0700). created reports which.
func LoadOrCreateKeyFile(path string) (k *Key, created bool, err error) {
	k, err = LoadKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	if k, err = GenerateKey(); err != nil {
		return nil, false, err
	}
	if err := writeKey(path, k, true); err != nil {
		return nil, false, err
	}
	return k, true, nil
}

// PreviousFile returns where the key that path's key replaced is kept.
func PreviousFile(path string) string { return path + ".previous" }

// RotateKeyFile replaces the key in path with a new one. The old key moves
// to PreviousFile(path), marked retired at now, and stays in the key
// directory for RetiredKeyGrace; a key retired earlier is dropped.
func RotateKeyFile(path string, now time.Time) (newKey, old *Key, err error) {
	if old, err = LoadKeyFile(path); err != nil {
		return nil, nil, err
	}
	if newKey, err = GenerateKey(); err != nil {
		return nil, nil, err
	}
	old.Retired = now.UTC().Truncate(time.Second)
	if err := writeKey(PreviousFile(path), old, false); err != nil {
		return nil, nil, err
	}
	if err := writeKey(path, newKey, false); err != nil {
		return nil, nil, err
	}
	return newKey, old, nil
}

// DirectoryKeys returns the keys a directory publishes for the key file
// path at now: the key in use and, within its grace period, the one it
// replaced.
func DirectoryKeys(path string, now time.Time) ([]*Key, error) {
	k, err := LoadKeyFile(path)
	if err != nil {
		return nil, err
	}
	keys := []*Key{k}
	prev, err := LoadKeyFile(PreviousFile(path))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	case now.Before(prev.Retired.Add(RetiredKeyGrace)):
		keys = append(keys, prev)
	}
	return keys, nil
}

// writeKey writes k to path durably, with mode 0600: a temporary file,
// fsync, rename, fsync of the directory. With excl, an existing path is an
// error.
func writeKey(path string, k *Key, excl bool) error {
	data, err := MarshalKey(k)
	if err != nil {
		return err
	}
	if excl {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("botauth: key file %s already exists", path)
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("botauth: key directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("botauth: write key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("botauth: write key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("botauth: write key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("botauth: write key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("botauth: write key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("botauth: write key: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("botauth: write key: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("botauth: fsync key directory %s: %w", dir, err)
	}
	return nil
}
