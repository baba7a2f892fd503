package botauth

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// DirectoryTag is the tag parameter of a directory response's signature.
const DirectoryTag = "http-message-signatures-directory"

// DirectoryMaxAge is how long verifiers may cache a directory
// (Cache-Control max-age in DirectoryHeader).
const DirectoryMaxAge = 24 * time.Hour

// DefaultDirectoryValidity is how long a directory response's signatures
// are valid. The draft advises setting it well beyond how often the
// directory is republished; a published static copy is good for a month.
const DefaultDirectoryValidity = 30 * 24 * time.Hour

// Directory is a key directory: a JSON Web Key Set (RFC 7517 section 5).
type Directory struct {
	Keys []JWK `json:"keys"`
}

// DirectoryBody returns the directory document of keys, the key in use
// first: {"keys":[JWK...]}, without a trailing newline (the bytes its
// Content-Digest is of).
func DirectoryBody(keys []*Key) ([]byte, error) {
	d := Directory{Keys: make([]JWK, 0, len(keys))}
	for _, k := range keys {
		d.Keys = append(d.Keys, k.JWK())
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("botauth: directory: %w", err)
	}
	return b, nil
}

// DirectoryHeader returns the header fields of a directory response with
// body, served at authority (the host[:port] it is fetched from): its media
// type, caching, the body's Content-Digest (RFC 9530, sha-256), and, as the
// draft's appendix on domain binding recommends, one signature per key
// covering "@authority";req and content-digest, with created, expires,
// keyid and tag="http-message-signatures-directory". The signatures are
// labelled binding, binding2, ...
func DirectoryHeader(keys []*Key, body []byte, authorityHost string, created time.Time, validity time.Duration) (http.Header, error) {
	if validity <= 0 {
		validity = DefaultDirectoryValidity
	}
	host, err := httpguts.PunycodeHostPort(authorityHost)
	if err != nil || host == "" || strings.ContainsAny(host, "/?#@ ") {
		return nil, fmt.Errorf("botauth: directory authority %q is not a host[:port]", authorityHost)
	}
	h := http.Header{}
	h.Set("Content-Type", DirectoryMediaType)
	h.Set("Cache-Control", "max-age="+strconv.Itoa(int(DirectoryMaxAge/time.Second)))
	sum := sha256.Sum256(body)
	digest, err := dictField("sha-256", sum[:])
	if err != nil {
		return nil, err
	}
	h.Set("Content-Digest", digest)
	m := message{header: h, req: &message{authority: authority("https", host)}}
	var inputs, sigs []string
	for i, k := range keys {
		label := "binding"
		if i > 0 {
			label += strconv.Itoa(i + 1)
		}
		in := input{
			components: []component{{name: "@authority", req: true}, {name: "content-digest"}},
			params: []param{
				{"created", created.Unix()},
				{"expires", created.Add(validity).Unix()},
				{"keyid", k.KeyID()},
				{"tag", DirectoryTag},
			},
		}
		base, sigParams, err := in.base(m)
		if err != nil {
			return nil, err
		}
		sig, err := dictField(label, k.sign([]byte(base)))
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, label+"="+sigParams)
		sigs = append(sigs, sig)
	}
	h.Set(HeaderSignatureInput, strings.Join(inputs, ", "))
	h.Set(HeaderSignature, strings.Join(sigs, ", "))
	return h, nil
}

// DirectoryHandler serves the key directory at DirectoryPath: the keys
// that keys returns, in a response signed for the authority each request
// was sent to, with signatures valid for validity (<= 0:
// DefaultDirectoryValidity). It answers GET and HEAD.
func DirectoryHandler(keys func() ([]*Key, error), validity time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ks, err := keys()
		if err != nil {
			http.Error(w, "key directory unavailable", http.StatusInternalServerError)
			return
		}
		body, err := DirectoryBody(ks)
		if err != nil {
			http.Error(w, "key directory unavailable", http.StatusInternalServerError)
			return
		}
		h, err := DirectoryHeader(ks, body, r.Host, time.Now(), validity)
		if err != nil {
			http.Error(w, "bad Host", http.StatusBadRequest)
			return
		}
		for k, v := range h {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		w.Write(body)
	})
}
