// Package tsa is an RFC 3161 time-stamp client and token verifier.
//
// A time-stamp token is a CMS SignedData (RFC 5652) whose content is a
// TSTInfo: the hash of the stamped data, the time, a serial number and the
// nonce of the request, signed by a time-stamping authority (TSA) whose
// certificate carries the critical extended key usage id-kp-timeStamping.
// Parse checks what a token says about itself (the signed attributes, the
// signature with the signer's certificate, the key usage); Token.Verify
// checks that it stamps a given hash and that the signer's certificate
// chains to trusted roots.
//
// Supported signatures: RSA PKCS #1 v1.5, RSA-PSS, ECDSA and Ed25519, with
// SHA-256, SHA-384 or SHA-512 (crypto/x509 refuses SHA-1 signatures).
package tsa

import (
	_ "crypto/sha512"

	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"
)

// Object identifiers used in tokens.
var (
	oidSignedData      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidTSTInfo         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidContentType     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningCert     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidSigningCertV2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidExtKeyUsage     = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidSHA1            = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidRSA             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAPSS          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519         = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// ErrImprint is returned by Token.Verify when the token stamps another hash.
var ErrImprint = errors.New("tsa: token stamps another hash")

// ErrUntrusted is returned by Token.Verify when the signer's certificate
// does not chain to the given roots.
var ErrUntrusted = errors.New("tsa: signer certificate does not chain to the trusted roots")

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"tag:0"`
}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

type messageImprint struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	HashedMessage []byte
}

type accuracy struct {
	Seconds int `asn1:"optional"`
	Millis  int `asn1:"optional,tag:0"`
	Micros  int `asn1:"optional,tag:1"`
}

type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint messageImprint
	SerialNumber   *big.Int
	GenTime        time.Time     `asn1:"generalized"`
	Accuracy       accuracy      `asn1:"optional"`
	Ordering       bool          `asn1:"optional,default:false"`
	Nonce          *big.Int      `asn1:"optional"`
	TSA            asn1.RawValue `asn1:"optional,explicit,tag:0"`
	Extensions     asn1.RawValue `asn1:"optional,tag:1"`
}

type essCertIDv2 struct {
	HashAlgorithm pkix.AlgorithmIdentifier `asn1:"optional"`
	CertHash      []byte
	IssuerSerial  asn1.RawValue `asn1:"optional"`
}

type essCertID struct {
	CertHash     []byte
	IssuerSerial asn1.RawValue `asn1:"optional"`
}

// Token is a parsed RFC 3161 time-stamp token whose signature Parse has
// checked with the signer certificate it carries.
type Token struct {
	// Raw is the token, DER (a CMS ContentInfo).
	Raw []byte
	// GenTime is the time the TSA says it stamped the hash.
	GenTime time.Time
	// Accuracy is the TSA's stated accuracy of GenTime (zero if absent).
	Accuracy time.Duration
	// SerialNumber is the TSA's serial number of the token.
	SerialNumber *big.Int
	// Policy is the TSA policy the token was issued under.
	Policy asn1.ObjectIdentifier
	// HashAlgorithm and HashedMessage are the stamped hash.
	HashAlgorithm crypto.Hash
	HashedMessage []byte
	// Nonce is the nonce of the request, or nil.
	Nonce *big.Int
	// Certificates are the certificates in the token, the signer's first.
	Certificates []*x509.Certificate
	// Signer is the TSA's certificate that signed the token.
	Signer *x509.Certificate
}

// hashAlg returns the hash an AlgorithmIdentifier names; its parameters
// must be absent or NULL (RFC 5754 section 2).
func hashAlg(a pkix.AlgorithmIdentifier) (crypto.Hash, error) {
	if len(a.Parameters.FullBytes) > 0 && !bytes.Equal(a.Parameters.FullBytes, asn1.NullBytes) {
		return 0, fmt.Errorf("tsa: hash algorithm %v has parameters", a.Algorithm)
	}
	return hashOf(a.Algorithm)
}

func hashOf(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	switch {
	case oid.Equal(oidSHA256):
		return crypto.SHA256, nil
	case oid.Equal(oidSHA384):
		return crypto.SHA384, nil
	case oid.Equal(oidSHA512):
		return crypto.SHA512, nil
	case oid.Equal(oidSHA1):
		return crypto.SHA1, nil
	}
	return 0, fmt.Errorf("tsa: unsupported hash algorithm %v", oid)
}

// signatureAlgorithm maps a CMS signer's digest and signature algorithms
// to the crypto/x509 algorithm that checks the signature.
func signatureAlgorithm(digest crypto.Hash, sig asn1.ObjectIdentifier) (x509.SignatureAlgorithm, error) {
	byHash := func(s256, s384, s512 x509.SignatureAlgorithm) (x509.SignatureAlgorithm, error) {
		switch digest {
		case crypto.SHA256:
			return s256, nil
		case crypto.SHA384:
			return s384, nil
		case crypto.SHA512:
			return s512, nil
		}
		return 0, fmt.Errorf("tsa: unsupported digest %v for signature %v", digest, sig)
	}
	// An algorithm that names its hash must name the signer's digest.
	named := map[string]crypto.Hash{
		oidSHA256WithRSA.String(): crypto.SHA256, oidSHA384WithRSA.String(): crypto.SHA384, oidSHA512WithRSA.String(): crypto.SHA512,
		oidECDSAWithSHA256.String(): crypto.SHA256, oidECDSAWithSHA384.String(): crypto.SHA384, oidECDSAWithSHA512.String(): crypto.SHA512,
	}
	if h, ok := named[sig.String()]; ok && h != digest {
		return 0, fmt.Errorf("tsa: signature algorithm %v does not match the digest algorithm %v", sig, digest)
	}
	switch {
	case sig.Equal(oidRSA), sig.Equal(oidSHA256WithRSA), sig.Equal(oidSHA384WithRSA), sig.Equal(oidSHA512WithRSA):
		return byHash(x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA)
	case sig.Equal(oidRSAPSS):
		return byHash(x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS)
	case sig.Equal(oidECPublicKey), sig.Equal(oidECDSAWithSHA256), sig.Equal(oidECDSAWithSHA384), sig.Equal(oidECDSAWithSHA512):
		return byHash(x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512)
	case sig.Equal(oidEd25519):
		return x509.PureEd25519, nil
	}
	return 0, fmt.Errorf("tsa: unsupported signature algorithm %v", sig)
}

// wantTag checks that v is a context-specific [tag], constructed or not.
func wantTag(v asn1.RawValue, tag int, constructed bool, what string) error {
	if v.Class != asn1.ClassContextSpecific || v.Tag != tag || v.IsCompound != constructed {
		return fmt.Errorf("tsa: %s: want a [%d] element", what, tag)
	}
	return nil
}

// unmarshalAll is asn1.Unmarshal that refuses trailing bytes.
func unmarshalAll(b []byte, v any, params, what string) error {
	rest, err := asn1.UnmarshalWithParams(b, v, params)
	if err != nil {
		return fmt.Errorf("tsa: %s: %w", what, err)
	}
	if len(rest) > 0 {
		return fmt.Errorf("tsa: %s: %d trailing bytes", what, len(rest))
	}
	return nil
}

// Parse parses a time-stamp token (DER) and checks it is internally
// sound: the content is a TSTInfo, there is exactly one signer, its signed
// attributes name that content type and carry the content's digest, its
// signature verifies with the signer certificate the token carries, and
// that certificate has the critical extended key usage timeStamping and no
// other. Parse does not say whom to trust: see Token.Verify.
func Parse(der []byte) (*Token, error) {
	var ci contentInfo
	if err := unmarshalAll(der, &ci, "", "token"); err != nil {
		return nil, err
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("tsa: token content type %v is not signed data", ci.ContentType)
	}
	var sd signedData
	if err := unmarshalAll(ci.Content.Bytes, &sd, "", "signed data"); err != nil {
		return nil, err
	}
	if sd.Version != 3 {
		return nil, fmt.Errorf("tsa: signed data version %d, want 3", sd.Version)
	}
	if !sd.EncapContentInfo.EContentType.Equal(oidTSTInfo) {
		return nil, fmt.Errorf("tsa: signed content type %v is not TSTInfo", sd.EncapContentInfo.EContentType)
	}
	if err := wantTag(sd.EncapContentInfo.EContent, 0, true, "eContent"); err != nil {
		return nil, err
	}
	var econtent []byte
	if err := unmarshalAll(sd.EncapContentInfo.EContent.Bytes, &econtent, "", "eContent"); err != nil {
		return nil, err
	}
	var info tstInfo
	if err := unmarshalAll(econtent, &info, "", "TSTInfo"); err != nil {
		return nil, err
	}
	if info.Version != 1 {
		return nil, fmt.Errorf("tsa: TSTInfo version %d, want 1", info.Version)
	}
	h, err := hashAlg(info.MessageImprint.HashAlgorithm)
	if err != nil {
		return nil, err
	}
	if len(info.MessageImprint.HashedMessage) != h.Size() {
		return nil, fmt.Errorf("tsa: message imprint is %d bytes, %v hashes have %d", len(info.MessageImprint.HashedMessage), h, h.Size())
	}
	t := &Token{
		Raw:           der,
		GenTime:       info.GenTime.UTC(),
		Accuracy:      time.Duration(info.Accuracy.Seconds)*time.Second + time.Duration(info.Accuracy.Millis)*time.Millisecond + time.Duration(info.Accuracy.Micros)*time.Microsecond,
		SerialNumber:  info.SerialNumber,
		Policy:        info.Policy,
		HashAlgorithm: h,
		HashedMessage: info.MessageImprint.HashedMessage,
		Nonce:         info.Nonce,
	}
	if len(sd.Certificates.FullBytes) > 0 {
		if err := wantTag(sd.Certificates, 0, true, "certificates"); err != nil {
			return nil, err
		}
		if t.Certificates, err = x509.ParseCertificates(sd.Certificates.Bytes); err != nil {
			return nil, fmt.Errorf("tsa: certificates: %w", err)
		}
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("tsa: token has %d signers, want 1", len(sd.SignerInfos))
	}
	for _, a := range sd.DigestAlgorithms {
		if _, err := hashAlg(a); err != nil {
			return nil, err
		}
	}
	si := sd.SignerInfos[0]
	if !slices.ContainsFunc(sd.DigestAlgorithms, func(a pkix.AlgorithmIdentifier) bool { return a.Algorithm.Equal(si.DigestAlgorithm.Algorithm) }) {
		return nil, fmt.Errorf("tsa: signer's digest algorithm %v is not among the signed data's", si.DigestAlgorithm.Algorithm)
	}
	if t.Signer, err = findSigner(si, t.Certificates); err != nil {
		return nil, err
	}
	if err := checkSignedAttrs(si, econtent, t.Signer); err != nil {
		return nil, err
	}
	if err := checkTimeStampingEKU(t.Signer); err != nil {
		return nil, err
	}
	// The signer first, then the others in the order the TSA sent them.
	certs := []*x509.Certificate{t.Signer}
	for _, c := range t.Certificates {
		if c != t.Signer {
			certs = append(certs, c)
		}
	}
	t.Certificates = certs
	return t, nil
}

// findSigner returns the certificate the signer identifier names.
func findSigner(si signerInfo, certs []*x509.Certificate) (*x509.Certificate, error) {
	switch {
	case si.SID.Class == asn1.ClassUniversal && si.SID.Tag == asn1.TagSequence:
		var ias issuerAndSerial
		if err := unmarshalAll(si.SID.FullBytes, &ias, "", "signer identifier"); err != nil {
			return nil, err
		}
		for _, c := range certs {
			if c.SerialNumber.Cmp(ias.Serial) == 0 && bytes.Equal(c.RawIssuer, ias.Issuer.FullBytes) {
				return c, nil
			}
		}
		return nil, fmt.Errorf("tsa: the token does not carry the signer's certificate (serial %v); request tokens with certReq", ias.Serial)
	case si.SID.Class == asn1.ClassContextSpecific && si.SID.Tag == 0:
		for _, c := range certs {
			if len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, si.SID.Bytes) {
				return c, nil
			}
		}
		return nil, fmt.Errorf("tsa: the token does not carry the signer's certificate (key id %x); request tokens with certReq", si.SID.Bytes)
	}
	return nil, errors.New("tsa: bad signer identifier")
}

// checkSignedAttrs checks the signer's signed attributes and its signature
// over them.
func checkSignedAttrs(si signerInfo, econtent []byte, signer *x509.Certificate) error {
	if len(si.SignedAttrs.FullBytes) == 0 {
		return errors.New("tsa: the signer has no signed attributes (RFC 3161 requires them)")
	}
	if err := wantTag(si.SignedAttrs, 0, true, "signed attributes"); err != nil {
		return err
	}
	if si.Version != 1 && si.Version != 3 {
		return fmt.Errorf("tsa: signer info version %d", si.Version)
	}
	// The signature is over the attributes' DER with the SET OF tag, not
	// the [0] IMPLICIT tag they carry in SignerInfo (RFC 5652 section 5.4).
	signed := bytes.Clone(si.SignedAttrs.FullBytes)
	signed[0] = 0x31
	var attrs []attribute
	if err := unmarshalAll(signed, &attrs, "set", "signed attributes"); err != nil {
		return err
	}
	digest, err := hashAlg(si.DigestAlgorithm)
	if err != nil {
		return err
	}
	var haveType, haveDigest, haveCert bool
	seen := map[string]bool{}
	for _, a := range attrs {
		if seen[a.Type.String()] {
			return fmt.Errorf("tsa: signed attribute %v appears twice", a.Type)
		}
		seen[a.Type.String()] = true
		switch {
		case a.Type.Equal(oidContentType):
			var ct asn1.ObjectIdentifier
			if err := unmarshalAll(a.Values.Bytes, &ct, "", "content-type attribute"); err != nil {
				return err
			}
			if !ct.Equal(oidTSTInfo) {
				return fmt.Errorf("tsa: content-type attribute %v is not TSTInfo", ct)
			}
			haveType = true
		case a.Type.Equal(oidMessageDigest):
			var md []byte
			if err := unmarshalAll(a.Values.Bytes, &md, "", "message-digest attribute"); err != nil {
				return err
			}
			hh := digest.New()
			hh.Write(econtent)
			if !bytes.Equal(md, hh.Sum(nil)) {
				return errors.New("tsa: message-digest attribute does not match the TSTInfo")
			}
			haveDigest = true
		case a.Type.Equal(oidSigningCertV2), a.Type.Equal(oidSigningCert):
			if err := checkSigningCert(a, signer); err != nil {
				return err
			}
			haveCert = true
		}
	}
	if !haveType || !haveDigest {
		return errors.New("tsa: signed attributes lack content-type or message-digest")
	}
	if !haveCert {
		return errors.New("tsa: signed attributes lack signing-certificate (RFC 3161 section 2.4.1)")
	}
	alg, err := signatureAlgorithm(digest, si.SignatureAlgorithm.Algorithm)
	if err != nil {
		return err
	}
	if p := si.SignatureAlgorithm.Parameters.FullBytes; !si.SignatureAlgorithm.Algorithm.Equal(oidRSAPSS) && len(p) > 0 && !bytes.Equal(p, asn1.NullBytes) {
		return fmt.Errorf("tsa: signature algorithm %v has parameters", si.SignatureAlgorithm.Algorithm)
	}
	if err := signer.CheckSignature(alg, signed, si.Signature); err != nil {
		return fmt.Errorf("tsa: token signature: %w", err)
	}
	return nil
}

// checkSigningCert checks that the ESS signing-certificate attribute
// (RFC 2634 / RFC 5035) names the signer's certificate first.
func checkSigningCert(a attribute, signer *x509.Certificate) error {
	var outer struct {
		Certs []asn1.RawValue
		Rest  asn1.RawValue `asn1:"optional"`
	}
	if err := unmarshalAll(a.Values.Bytes, &outer, "", "signing-certificate attribute"); err != nil {
		return err
	}
	if len(outer.Certs) == 0 {
		return errors.New("tsa: signing-certificate attribute names no certificate")
	}
	var h crypto.Hash
	var sum []byte
	if a.Type.Equal(oidSigningCertV2) {
		var id essCertIDv2
		if err := unmarshalAll(outer.Certs[0].FullBytes, &id, "", "ESSCertIDv2"); err != nil {
			return err
		}
		h = crypto.SHA256
		if len(id.HashAlgorithm.Algorithm) > 0 {
			var err error
			if h, err = hashAlg(id.HashAlgorithm); err != nil {
				return err
			}
		}
		sum = id.CertHash
	} else {
		var id essCertID
		if err := unmarshalAll(outer.Certs[0].FullBytes, &id, "", "ESSCertID"); err != nil {
			return err
		}
		h, sum = crypto.SHA1, id.CertHash
	}
	hh := h.New()
	hh.Write(signer.Raw)
	if !bytes.Equal(hh.Sum(nil), sum) {
		return errors.New("tsa: signing-certificate attribute names another certificate than the signer's")
	}
	return nil
}

// checkTimeStampingEKU checks RFC 3161 section 2.3: the TSA's certificate
// has exactly one extended key usage, id-kp-timeStamping, marked critical.
func checkTimeStampingEKU(c *x509.Certificate) error {
	n := 0
	for _, e := range c.Extensions {
		if e.Id.Equal(oidExtKeyUsage) {
			n++
			if !e.Critical {
				return fmt.Errorf("tsa: signer certificate %q: extended key usage is not critical", c.Subject)
			}
		}
	}
	if n != 1 || len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(c.UnknownExtKeyUsage) > 0 {
		return fmt.Errorf("tsa: signer certificate %q: extended key usage must be timeStamping only", c.Subject)
	}
	return nil
}

// Verify checks that the token stamps digest, the hash of the stamped
// data by t.HashAlgorithm, and, with roots set, that the signer's
// certificate chains to roots for time stamping at the token's time, with
// the token's other certificates as intermediates. With roots nil only the
// hash is checked (Parse has checked the signature).
func (t *Token) Verify(digest []byte, roots *x509.CertPool) error {
	if !bytes.Equal(digest, t.HashedMessage) {
		return fmt.Errorf("%w: it stamps %x, want %x", ErrImprint, t.HashedMessage, digest)
	}
	if roots == nil {
		return nil
	}
	inter := x509.NewCertPool()
	for _, c := range t.Certificates[1:] {
		inter.AddCert(c)
	}
	_, err := t.Signer.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   t.GenTime,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUntrusted, err)
	}
	return nil
}

// VerifyData is Verify with the hash of data.
func (t *Token) VerifyData(data []byte, roots *x509.CertPool) error {
	if !t.HashAlgorithm.Available() {
		return fmt.Errorf("tsa: hash %v not available", t.HashAlgorithm)
	}
	h := t.HashAlgorithm.New()
	h.Write(data)
	return t.Verify(h.Sum(nil), roots)
}
