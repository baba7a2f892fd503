package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Key entries. The log records every signing key as a TypeKey event whose
// Other payload holds:
//
//	action       "created" or "rotated"
//	vkey         the new verifier (public) key, note format
//	previous     for "rotated": the verifier key it replaces
//	endorsement  for "rotated": a signed note by the previous key whose text
//	             is keyRotationText(origin, vkey)
//
// A verifier trusts the first key (or keys given to it out of band) and
// every key endorsed by an already trusted one.

func keyRotationText(origin, vkey string) string {
	return "goodbot audit key rotation\n" + origin + "\n" + vkey + "\n"
}

// loadKey reads a note signer key (PRIVATE+KEY+name+hash+key) from path.
func loadKey(path string) (note.Signer, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("audit: read key file: %w", err)
	}
	skey := strings.TrimSpace(string(b))
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, "", fmt.Errorf("audit: key file %s: %w", path, err)
	}
	vkey, err := verifierKeyFor(skey)
	if err != nil {
		return nil, "", fmt.Errorf("audit: key file %s: %w", path, err)
	}
	return s, vkey, nil
}

// verifierKeyFor derives the verifier key from a signer key
// (PRIVATE+KEY+name+hash+base64(0x01 || Ed25519 seed)).
func verifierKeyFor(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return "", errors.New("malformed signer key")
	}
	k, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(k) != 1+ed25519.SeedSize || k[0] != 1 {
		return "", errors.New("signer key is not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(k[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}

// generateKey writes a new Ed25519 signer key for origin to path, which must
// not exist, and returns the key pair.
func generateKey(path, name string) (note.Signer, string, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return nil, "", fmt.Errorf("audit: generate key: %w", err)
	}
	if err := writeFileSync(path, []byte(skey+"\n"), 0o600, true); err != nil {
		return nil, "", fmt.Errorf("audit: write key file: %w", err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, "", fmt.Errorf("audit: generated key: %w", err)
	}
	return s, vkey, nil
}

// writeFileSync writes data to path durably: a temporary file, fsync,
// rename, fsync of the directory. With excl, an existing path is an error.
func writeFileSync(path string, data []byte, perm fs.FileMode, excl bool) error {
	if excl {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s already exists", path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// insideDir reports whether path is dir or inside it.
func insideDir(path, dir string) (bool, error) {
	ap, err := filepath.Abs(path)
	if err != nil {
		return false, err
	}
	ad, err := filepath.Abs(dir)
	if err != nil {
		return false, err
	}
	rel, err := filepath.Rel(ad, ap)
	if err != nil {
		return false, nil
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))), nil
}

// LogOrigin returns the origin of the log in dir, as its latest checkpoint
// or, before the first one, its first key names it; "" when dir holds no
// log. It does not verify the log: it tells which name to open it with.
func LogOrigin(dir string) (string, error) {
	cps, _, err := readCheckpoints(dir)
	if err != nil {
		return "", err
	}
	if len(cps) > 0 {
		return cps[len(cps)-1].Origin, nil
	}
	if ks := readKeysFile(dir); len(ks) > 0 {
		return KeyName(ks[0]), nil
	}
	return "", nil
}

// KeyName returns the name of a note key, signer ("PRIVATE+KEY+name+...")
// or verifier ("name+hash+key"): the log origin it was made for.
func KeyName(key string) string {
	key = strings.TrimSpace(key)
	if rest, ok := strings.CutPrefix(key, "PRIVATE+KEY+"); ok {
		key = rest
	}
	name, _, _ := strings.Cut(key, "+")
	return name
}
