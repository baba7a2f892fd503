package tsa

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
)

// maxResponse bounds the size of a TSA's answer.
const maxResponse = 1 << 20

type timeStampReq struct {
	Version        int
	MessageImprint messageImprint
	ReqPolicy      asn1.ObjectIdentifier `asn1:"optional"`
	Nonce          *big.Int              `asn1:"optional"`
	CertReq        bool                  `asn1:"optional,default:false"`
}

type pkiStatusInfo struct {
	Status       int
	StatusString []asn1.RawValue `asn1:"optional"`
	FailInfo     asn1.BitString  `asn1:"optional"`
}

type timeStampResp struct {
	Status pkiStatusInfo
	Token  asn1.RawValue `asn1:"optional"`
}

// Request returns a DER TimeStampReq for the SHA-256 digest, with the
// nonce and certReq true, so that the token carries the TSA's certificate.
func Request(digest []byte, nonce *big.Int) ([]byte, error) {
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("tsa: digest is %d bytes, want a SHA-256 digest", len(digest))
	}
	return asn1.Marshal(timeStampReq{
		Version: 1,
		MessageImprint: messageImprint{
			HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue},
			HashedMessage: digest,
		},
		Nonce:   nonce,
		CertReq: true,
	})
}

// failInfo names the PKIFailureInfo bits of RFC 3161 section 2.4.2.
var failInfo = map[int]string{0: "badAlg", 2: "badRequest", 5: "badDataFormat", 14: "timeNotAvailable", 15: "unacceptedPolicy", 16: "unacceptedExtension", 17: "addInfoNotAvailable", 25: "systemFailure"}

// ParseResponse parses a DER TimeStampResp, checks that the request was
// granted, and parses and checks its token (see Parse).
func ParseResponse(der []byte) (*Token, error) {
	var resp timeStampResp
	if err := unmarshalAll(der, &resp, "", "response"); err != nil {
		return nil, err
	}
	if s := resp.Status.Status; s != 0 && s != 1 { // granted, grantedWithMods
		var why []string
		for _, r := range resp.Status.StatusString {
			var s string
			if _, err := asn1.UnmarshalWithParams(r.FullBytes, &s, "utf8"); err == nil {
				why = append(why, s)
			}
		}
		for bit, name := range failInfo {
			if resp.Status.FailInfo.At(bit) == 1 {
				why = append(why, name)
			}
		}
		return nil, fmt.Errorf("tsa: request refused, status %d %s", s, strings.Join(why, "; "))
	}
	if len(resp.Token.FullBytes) == 0 {
		return nil, fmt.Errorf("tsa: response granted without a token")
	}
	return Parse(resp.Token.FullBytes)
}

// Client requests time-stamp tokens from a TSA over HTTP (RFC 3161
// section 3.4).
type Client struct {
	// URL is where requests are POSTed.
	URL string
	// HTTPClient sends them; default http.DefaultClient. Bound each call
	// with the context.
	HTTPClient *http.Client
	// Roots, if set, are the CA certificates the TSA's certificate must
	// chain to; a token that does not is refused when it is issued.
	Roots *x509.CertPool
}

// Timestamp requests a token stamping SHA-256(data) and returns it, DER,
// after checking that it stamps that hash, carries the request's nonce and
// is validly signed (and chains to c.Roots, if set).
func (c *Client) Timestamp(ctx context.Context, data []byte) ([]byte, error) {
	tok, err := c.Request(ctx, data)
	if err != nil {
		return nil, err
	}
	return tok.Raw, nil
}

// Request is Timestamp returning the parsed token.
func (c *Client) Request(ctx context.Context, data []byte) (*Token, error) {
	digest := sha256.Sum256(data)
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, fmt.Errorf("tsa: nonce: %w", err)
	}
	req, err := Request(digest[:], nonce)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("tsa: %w", err)
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	hr.Header.Set("Accept", "application/timestamp-reply")
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("tsa: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("tsa: read response from %s: %w", c.URL, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tsa: %s answered %s", c.URL, res.Status)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("tsa: %s: response larger than %d bytes", c.URL, maxResponse)
	}
	tok, err := ParseResponse(body)
	if err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, c.URL)
	}
	if tok.Nonce == nil || tok.Nonce.Cmp(nonce) != 0 {
		return nil, fmt.Errorf("tsa: %s: token nonce %v does not match the request's %v", c.URL, tok.Nonce, nonce)
	}
	if err := tok.Verify(digest[:], c.Roots); err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, c.URL)
	}
	return tok, nil
}

// LoadRoots reads PEM CA certificates from a file, for Client.Roots and
// Token.Verify.
func LoadRoots(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tsa: CA certificates: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("tsa: %s holds no PEM certificate", file)
	}
	return pool, nil
}
