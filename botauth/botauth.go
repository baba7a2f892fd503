// Package botauth gives a crawler a verifiable identity: it signs outgoing
// HTTP requests with HTTP Message Signatures (RFC 9421) as the Web Bot Auth
// protocol profiles them (draft-meunier-webbotauth-httpsig-protocol, the
// working group's draft; read at commit a28dfe8 of
// github.com/thibmeu/http-message-signatures-directory), and builds the key
// directory a site operator fetches to verify them.
//
// A signed request carries three header fields:
//
//	Signature-Agent: sig1="https://example.org"
//	Signature-Input: sig1=("@authority" "signature-agent";key="sig1");created=1735689600;expires=1735689660;keyid="...";alg="ed25519";nonce="...";tag="web-bot-auth"
//	Signature: sig1=:...:
//
// Signature-Agent is an RFC 9651 Dictionary whose member, keyed by the
// signature's label, is a String holding the origin of the operator's key
// directory. The draft requires the dictionary form ("Signers MUST send the
// dictionary form"; the bare String of earlier drafts is legacy), which is
// also what goodbot's issue asks for, and requires a member of the default
// type, directory, to be an origin, not a URL with a path: the verifier
// fetches DirectoryPath at it. The signature covers @authority and that
// member ("signature-agent";key="sig1"), the components the draft
// requires, and nothing a redirect hop changes other than the authority
// that each hop's own signature names: every hop is signed afresh.
//
// keyid is the key's JWK SHA-256 thumbprint (RFC 7638 over the OKP JWK of
// RFC 8037), alg is "ed25519" and tag is "web-bot-auth". The signature is
// valid for a short time (DefaultValidity, 60 s), and carries a random
// nonce so that a site that wants to can refuse a replay within it.
//
// The signature base is built here, from RFC 9421 section 2; structured
// fields are serialized with github.com/dunglas/httpsfv.
package botauth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dunglas/httpsfv"
	"golang.org/x/net/http/httpguts"
)

// The protocol's names.
const (
	// Tag is the tag parameter of a Web Bot Auth request signature.
	Tag = "web-bot-auth"
	// Alg is the alg parameter: Ed25519 (RFC 9421 section 3.3.6).
	Alg = "ed25519"
	// Label is the label under which goodbot signs: the key of its
	// Signature, Signature-Input and Signature-Agent members.
	Label = "sig1"
	// DirectoryPath is the well-known path of a key directory.
	DirectoryPath = "/.well-known/http-message-signatures-directory"
	// DirectoryMediaType is the media type a key directory is served with.
	DirectoryMediaType = "application/http-message-signatures-directory+json"
	// DefaultValidity is how long a request signature is valid: long
	// enough for the request to arrive, short enough that a copied one is
	// soon useless.
	DefaultValidity = 60 * time.Second
)

// The header fields a signed request carries.
const (
	HeaderSignature      = "Signature"
	HeaderSignatureInput = "Signature-Input"
	HeaderSignatureAgent = "Signature-Agent"
)

// Signer signs requests with one key, for one key directory. It is safe for
// concurrent use.
type Signer struct {
	key      *Key
	origin   string // the directory's origin
	agent    string // the Signature-Agent field value
	validity time.Duration
	now      func() time.Time
}

// NewSigner returns a Signer that signs with k and names the key directory
// at directory (see AgentOrigin) in Signature-Agent. validity <= 0 means
// DefaultValidity.
func NewSigner(k *Key, directory string, validity time.Duration) (*Signer, error) {
	if k == nil {
		return nil, errors.New("botauth: no key")
	}
	origin, err := AgentOrigin(directory)
	if err != nil {
		return nil, err
	}
	d := httpsfv.NewDictionary()
	d.Add(Label, httpsfv.NewItem(origin))
	agent, err := httpsfv.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("botauth: Signature-Agent: %w", err)
	}
	if validity <= 0 {
		validity = DefaultValidity
	}
	return &Signer{key: k, origin: origin, agent: agent, validity: validity, now: time.Now}, nil
}

// Key returns the signing key.
func (s *Signer) Key() *Key { return s.key }

// Agent returns the origin of the key directory that Signature-Agent names.
func (s *Signer) Agent() string { return s.origin }

// AgentOrigin checks a key directory's location and returns the origin a
// Signature-Agent member names it by (RFC 6454 serialization: scheme, host
// in lower case, and the port unless it is 443). It takes the origin
// itself, with or without a trailing "/", or the directory's well-known
// URL. The draft requires https, and an origin for the directory type.
func AgentOrigin(directory string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(directory))
	if err != nil {
		return "", fmt.Errorf("botauth: key directory %q: %w", directory, err)
	}
	switch {
	case u.Scheme != "https":
		return "", fmt.Errorf("botauth: key directory %q: must be an https URL (a verifier fetches it over TLS)", directory)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("botauth: key directory %q has no host", directory)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("botauth: key directory %q: want an origin (https://host[:port]), without user, query or fragment", directory)
	case u.Path != "" && u.Path != "/" && u.Path != DirectoryPath:
		return "", fmt.Errorf("botauth: key directory %q: want the origin where %s is served, not another path", directory, DirectoryPath)
	}
	host, err := httpguts.PunycodeHostPort(u.Host)
	if err != nil {
		return "", fmt.Errorf("botauth: key directory %q: %w", directory, err)
	}
	return "https://" + authority("https", host), nil
}

// Sign signs req as Web Bot Auth asks: it sets Signature-Agent,
// Signature-Input and Signature, replacing any that req had. Call it last,
// once req's URL and Host are final: the signature covers the authority
// req is sent to.
func (s *Signer) Sign(req *http.Request) error {
	now := s.now()
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("botauth: nonce: %w", err)
	}
	for _, h := range []string{HeaderSignature, HeaderSignatureInput, HeaderSignatureAgent} {
		req.Header.Del(h)
	}
	req.Header.Set(HeaderSignatureAgent, s.agent)
	in := input{
		components: []component{{name: "@authority"}, {name: "signature-agent", key: Label}},
		params: []param{
			{"created", now.Unix()},
			{"expires", now.Add(s.validity).Unix()},
			{"keyid", s.key.KeyID()},
			{"alg", Alg},
			{"nonce", base64.StdEncoding.EncodeToString(nonce)},
			{"tag", Tag},
		},
	}
	base, sigParams, err := in.base(requestMessage(req))
	if err != nil {
		return err
	}
	sig, err := dictField(Label, s.key.sign([]byte(base)))
	if err != nil {
		return err
	}
	req.Header.Set(HeaderSignatureInput, Label+"="+sigParams)
	req.Header.Set(HeaderSignature, sig)
	return nil
}

// requestMessage returns what a request's components are read from, as the
// request will be written: net/http sends req.Host when set, else the URL's
// host, in punycode.
func requestMessage(req *http.Request) message {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if h, err := httpguts.PunycodeHostPort(host); err == nil {
		host = h
	}
	return message{method: req.Method, authority: authority(req.URL.Scheme, host), path: req.URL.EscapedPath(), header: req.Header}
}

// authority normalizes a host[:port] as RFC 9421 section 2.2.3 asks: lower
// case, and no port when it is the scheme's default.
func authority(scheme, hostport string) string {
	hostport = strings.ToLower(hostport)
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport // no port
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") || port == "" {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return hostport
}

// dictField serializes a Dictionary of one member whose value is v.
func dictField(key string, v any) (string, error) {
	d := httpsfv.NewDictionary()
	d.Add(key, httpsfv.NewItem(v))
	s, err := httpsfv.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("botauth: serialize %s: %w", key, err)
	}
	return s, nil
}
