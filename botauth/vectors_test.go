package botauth

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The Ed25519 test key of RFC 9421 appendix B.1.4 ("test-key-ed25519"),
// as the RFC gives it: PKCS #8 PEM, and the public key as a JWK's x. Taken
// from the RFC's source, archive/draft-ietf-httpbis-message-signatures.md
// in github.com/httpwg/http-extensions at commit e9067eba ("Digest and
// Signatures published as RFCs").
const (
	rfcKeyPEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
`
	rfcPublicPEMBody = "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs="
	rfcKeyX          = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
	rfcKeyD          = "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU"
	// rfcKeyThumbprint is the keyid the Web Bot Auth draft's test vectors
	// give this key (draft-meunier-webbotauth-httpsig-protocol, "EdDSA
	// Using Curve edwards25519").
	rfcKeyThumbprint = "poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U"
)

func rfcKey(t *testing.T) *Key {
	t.Helper()
	k, err := ParseKey([]byte(rfcKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.RawURLEncoding.EncodeToString(k.priv.Seed()); got != rfcKeyD {
		t.Fatalf("seed %s, want the JWK's d %s", got, rfcKeyD)
	}
	if got := k.JWK().X; got != rfcKeyX {
		t.Fatalf("x = %s, want %s", got, rfcKeyX)
	}
	spki, _ := base64.StdEncoding.DecodeString(rfcPublicPEMBody)
	if !bytes.HasSuffix(spki, k.Public()) {
		t.Fatalf("public key %x is not the one in the RFC's PEM %x", []byte(k.Public()), spki)
	}
	return k
}

// unwrap undoes RFC 8792's single-backslash line wrapping: a '\' at the
// end of a line, the line break and the next line's leading spaces go.
func unwrap(s string) string {
	lines := strings.Split(s, "\n")
	var b strings.Builder
	cont := false
	for i, l := range lines {
		if cont {
			l = strings.TrimLeft(l, " ")
		}
		cont = strings.HasSuffix(l, `\`)
		if cont {
			b.WriteString(strings.TrimSuffix(l, `\`))
			continue
		}
		b.WriteString(l)
		if i < len(lines)-1 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// RFC 9421 appendix B.2.6, "Signing a Request Using ed25519": the signature
// base of test-request, and the signature the RFC gives, reproduced
// (Ed25519 is deterministic) and verified.
func TestRFC9421B26(t *testing.T) {
	k := rfcKey(t)
	req, err := http.NewRequest("POST", "http://example.com/foo?param=Value&Pet=dog", strings.NewReader(`{"hello": "world"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Date", "Tue, 20 Apr 2021 02:07:55 GMT")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:")
	req.Header.Set("Content-Length", "18")
	in := input{
		components: []component{{name: "date"}, {name: "@method"}, {name: "@path"}, {name: "@authority"}, {name: "content-type"}, {name: "content-length"}},
		params:     []param{{"created", int64(1618884473)}, {"keyid", "test-key-ed25519"}},
	}
	base, sigParams, err := in.base(requestMessage(req))
	if err != nil {
		t.Fatal(err)
	}
	wantBase := unwrap(`"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@authority": example.com
"content-type": application/json
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@authority" \
  "content-type" "content-length");created=1618884473\
  ;keyid="test-key-ed25519"`)
	if base != wantBase {
		t.Fatalf("signature base:\n%s\nwant:\n%s", base, wantBase)
	}
	wantInput := unwrap(`sig-b26=("date" "@method" "@path" "@authority" \
  "content-type" "content-length");created=1618884473\
  ;keyid="test-key-ed25519"`)
	if got := "sig-b26=" + sigParams; got != wantInput {
		t.Errorf("Signature-Input %s, want %s", got, wantInput)
	}
	wantSig := unwrap(`sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1\
  u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:`)
	sig, err := dictField("sig-b26", k.sign([]byte(base)))
	if err != nil {
		t.Fatal(err)
	}
	if sig != wantSig {
		t.Errorf("Signature %s, want %s", sig, wantSig)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.Trim(strings.TrimPrefix(wantSig, "sig-b26="), ":"))
	if !ed25519.Verify(k.Public(), []byte(wantBase), raw) {
		t.Error("the RFC's signature does not verify over the RFC's base")
	}
}

// The Web Bot Auth draft's Ed25519 vector ("Signature-Agent Included
// Present on the Request", dictionary form), over the RFC 9421 key: the
// base and the signature, reproduced, and the keyid, which is the key's
// JWK thumbprint.
func TestWebBotAuthDraftVector(t *testing.T) {
	k := rfcKey(t)
	if k.KeyID() != rfcKeyThumbprint {
		t.Fatalf("keyid %s, want %s", k.KeyID(), rfcKeyThumbprint)
	}
	req, _ := http.NewRequest("GET", "https://example.com/", nil)
	req.Header.Set("Signature-Agent", `agent2="https://signature-agent.test"`)
	in := input{
		components: []component{{name: "@authority"}, {name: "signature-agent", key: "agent2"}},
		params: []param{
			{"created", int64(1735689600)},
			{"keyid", rfcKeyThumbprint},
			{"alg", "ed25519"},
			{"expires", int64(4889289600)},
			{"nonce", "n9p433xm+NJ3ph3upfBIGmsuwHw387YV7Q/F+6BSpGCVjYCqQw6rznNA8PVVLySrAWsv0hQtFioQb6E1YsauiA=="},
			{"tag", "web-bot-auth"},
		},
	}
	base, sigParams, err := in.base(requestMessage(req))
	if err != nil {
		t.Fatal(err)
	}
	wantBase := unwrap(`"@authority": example.com
"signature-agent";key="agent2": "https://signature-agent.test"
"@signature-params": ("@authority" "signature-agent";key="agent2")\
 ;created=1735689600\
 ;keyid="poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U"\
 ;alg="ed25519"\
 ;expires=4889289600\
 ;nonce="n9p433xm+NJ3ph3upfBIGmsuwHw387YV7Q/F+6BSpGCVjYCqQw6rznNA8PVVLySrAWsv0hQtFioQb6E1YsauiA=="\
 ;tag="web-bot-auth"`)
	if base != wantBase {
		t.Fatalf("signature base:\n%s\nwant:\n%s", base, wantBase)
	}
	if !strings.HasSuffix(wantBase, `"@signature-params": `+sigParams) {
		t.Errorf("@signature-params %s is not the base's last line", sigParams)
	}
	sig, _ := dictField("sig2", k.sign([]byte(base)))
	if want := "sig2=:RdNFx5Bj6au3YgAMQL/RzmUlZE8QZLIaXGRpw985hWnwPfMxT228NMk6ehRS1PSl4e8PhbNZACSanGdhEwYCCg==:"; sig != want {
		t.Errorf("Signature %s, want %s", sig, want)
	}
}

// The draft's "Signed Directory Response" vector: the directory document,
// its Content-Digest, and the signature bound to the authority it was
// fetched from.
func TestSignedDirectoryVector(t *testing.T) {
	k := rfcKey(t)
	body, err := DirectoryBody([]*Key{k})
	if err != nil {
		t.Fatal(err)
	}
	wantBody := unwrap(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"poqkLGiymh_W0uP6PZFw-\
 dvez3QJT5SolqXBCW38r0U","x":"JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw\
 3c5D0bs","use":"sig"}]}`)
	if string(body) != wantBody {
		t.Fatalf("directory\n%s\nwant\n%s", body, wantBody)
	}
	h, err := DirectoryHeader([]*Key{k}, body, "signature-agent.test", time.Unix(1735689600, 0), time.Unix(4889289600, 0).Sub(time.Unix(1735689600, 0)))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"Content-Type":   DirectoryMediaType,
		"Content-Digest": "sha-256=:CADMT2aBdV/rqQr/NIru64ERQkCobVvllA4V0fLFDu0=:",
		"Signature-Input": unwrap(`binding=("@authority";req "content-digest")\
 ;created=1735689600\
 ;expires=4889289600\
 ;keyid="poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U"\
 ;tag="http-message-signatures-directory"`),
		"Signature": "binding=:l6P8R67tm3kujAxbHWio7ll01qrEZ0dKD/WWlGhNYEmTnFZM8Wt0VQ9zqGfvo7T/UMkBxsigzChM1Gpz7gOVBg==:",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %s\nwant %s", name, got, want)
		}
	}
}

// RFC 8037 appendix A.3: the thumbprint of the Ed25519 key of appendix A.1.
func TestThumbprintRFC8037(t *testing.T) {
	x, err := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if err != nil {
		t.Fatal(err)
	}
	if got := Thumbprint(x); got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Errorf("thumbprint %s", got)
	}
}
