// Package tsatest gives tests a real RFC 3161 time-stamping authority:
// OpenSSL's "openssl ts -reply", behind an HTTP server on 127.0.0.1, with
// a test CA and a TSA certificate (extended key usage timeStamping,
// critical) made for the test.
//
// When no openssl binary can be found, tests are skipped with a message
// saying how to get one, except when the CI environment variable is set:
// then they fail.
package tsatest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Options choose the keys of a TSA.
type Options struct {
	// ECDSA uses P-256 keys instead of RSA 2048.
	ECDSA bool
}

// TSA is a running time-stamping authority.
type TSA struct {
	// URL is where time-stamp queries are POSTed.
	URL string
	// CAFile is the test CA's certificate, PEM.
	CAFile string
	// CA is the test CA's certificate.
	CA *x509.Certificate
	// Roots holds CA.
	Roots *x509.CertPool
	// Requests counts the queries answered with a token.
	Requests atomic.Int64

	down atomic.Bool
	dir  string
	mu   sync.Mutex // openssl ts updates its serial file
}

// SetDown makes the TSA answer 503 (true) or work again (false).
func (s *TSA) SetDown(down bool) { s.down.Store(down) }

// Reply runs openssl ts -reply on a DER TimeStampReq and returns the DER
// TimeStampResp.
func (s *TSA) Reply(query []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := filepath.Join(s.dir, "query.tsq")
	r := filepath.Join(s.dir, "reply.tsr")
	if err := os.WriteFile(q, query, 0o600); err != nil {
		return nil, err
	}
	os.Remove(r)
	cmd := exec.Command("openssl", "ts", "-reply", "-config", filepath.Join(s.dir, "openssl.cnf"), "-queryfile", q, "-out", r)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("openssl ts -reply: %w: %s", err, out)
	}
	return os.ReadFile(r)
}

// OpenSSL returns the path of the openssl binary, or skips tb (fails it
// when CI is set) if there is none.
func OpenSSL(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		msg := "openssl not found: install it (Debian: apt-get install openssl) to run the RFC 3161 tests"
		if os.Getenv("CI") != "" {
			tb.Fatal(msg + " (CI is set, so this fails instead of skipping)")
		}
		tb.Skip(msg)
	}
	return p
}

// Start starts a TSA with a CA of its own; it stops when the test ends.
func Start(tb testing.TB, o Options) *TSA {
	tb.Helper()
	OpenSSL(tb)
	dir := tb.TempDir()
	s := &TSA{dir: dir}
	newKey := func() crypto.Signer {
		var k crypto.Signer
		var err error
		if o.ECDSA {
			k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		} else {
			k, err = rsa.GenerateKey(rand.Reader, 2048)
		}
		if err != nil {
			tb.Fatal(err)
		}
		return k
	}
	now := time.Now()
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "goodbot test TSA root " + filepath.Base(dir), Organization: []string{"goodbot tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		tb.Fatal(err)
	}
	if s.CA, err = x509.ParseCertificate(caDER); err != nil {
		tb.Fatal(err)
	}
	tsaKey := newKey()
	tsaTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "goodbot test TSA", Organization: []string{"goodbot tests"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		// crypto/x509 marks extended key usage critical only when asked:
		// it is set below as an explicit extension.
	}
	tsaTmpl.ExtraExtensions = []pkix.Extension{ekuTimeStamping}
	tsaDER, err := x509.CreateCertificate(rand.Reader, tsaTmpl, s.CA, tsaKey.Public(), caKey)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(tsaKey)
	if err != nil {
		tb.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			tb.Fatal(err)
		}
		return p
	}
	s.CAFile = write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	write("tsa.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tsaDER}))
	write("tsa.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	write("serial", []byte("01\n"))
	write("openssl.cnf", []byte(fmt.Sprintf(`[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = %s
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`, dir)))
	s.Roots = x509.NewCertPool()
	s.Roots.AddCert(s.CA)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			http.Error(w, "down for the test", http.StatusServiceUnavailable)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
			http.Error(w, "POST application/timestamp-query", http.StatusBadRequest)
			return
		}
		q, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := s.Reply(q)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.Requests.Add(1)
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	}))
	tb.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// ekuTimeStamping is the extended key usage extension id-kp-timeStamping,
// critical, as RFC 3161 section 2.3 requires: SEQUENCE { OID
// 1.3.6.1.5.5.7.3.8 }.
var ekuTimeStamping = pkix.Extension{
	Id:       []int{2, 5, 29, 37},
	Critical: true,
	Value:    []byte{0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08},
}
