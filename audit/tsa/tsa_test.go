package tsa_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit/tsa"
	"github.com/goodbot/goodbot/internal/tsatest"
)

func TestOpenSSLTokens(t *testing.T) {
	for _, o := range []tsatest.Options{{}, {ECDSA: true}} {
		name := "rsa"
		if o.ECDSA {
			name = "ecdsa"
		}
		t.Run(name, func(t *testing.T) {
			s := tsatest.Start(t, o)
			other := tsatest.Start(t, o)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			data := []byte("goodbot\n42\nroot\n\n— sig\n")
			c := &tsa.Client{URL: s.URL, Roots: s.Roots}
			tok, err := c.Request(ctx, data)
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(tok.GenTime); d < -time.Minute || d > time.Minute {
				t.Errorf("token time %v is not now", tok.GenTime)
			}
			if tok.Signer.Subject.CommonName != "goodbot test TSA" || len(tok.Certificates) != 2 {
				t.Errorf("signer %v, %d certificates; want the test TSA and its CA", tok.Signer.Subject, len(tok.Certificates))
			}
			// Parse again from the bytes, as a verifier does.
			back, err := tsa.Parse(tok.Raw)
			if err != nil {
				t.Fatal(err)
			}
			if err := back.VerifyData(data, s.Roots); err != nil {
				t.Errorf("token does not verify: %v", err)
			}
			if err := back.VerifyData(append(data, 'x'), s.Roots); !errors.Is(err, tsa.ErrImprint) {
				t.Errorf("token for another hash: err %v, want ErrImprint", err)
			}
			if err := back.VerifyData(data, other.Roots); !errors.Is(err, tsa.ErrUntrusted) {
				t.Errorf("token checked against another CA: err %v, want ErrUntrusted", err)
			}
			if err := back.VerifyData(data, nil); err != nil {
				t.Errorf("imprint-only check: %v", err)
			}
			// A client that trusts another CA refuses the token at once.
			if _, err := (&tsa.Client{URL: s.URL, Roots: other.Roots}).Request(ctx, data); !errors.Is(err, tsa.ErrUntrusted) {
				t.Errorf("client with another CA: err %v, want ErrUntrusted", err)
			}
		})
	}
}

// TestTamperedToken flips each byte of a token's signed content and
// signature in turn: none may parse and verify.
func TestTamperedToken(t *testing.T) {
	for _, o := range []tsatest.Options{{}, {ECDSA: true}} {
		t.Run(map[bool]string{false: "rsa", true: "ecdsa"}[o.ECDSA], func(t *testing.T) { testTamperedToken(t, o) })
	}
}

func testTamperedToken(t *testing.T, o tsatest.Options) {
	s := tsatest.Start(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data := []byte("checkpoint")
	tok, err := (&tsa.Client{URL: s.URL, Roots: s.Roots}).Request(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	// The CA's certificate travels in the token too, but a verifier
	// takes the CA from its own roots: flips in that copy do not matter.
	ca := tok.Certificates[1].Raw
	caAt := bytes.Index(tok.Raw, ca)
	if caAt < 0 {
		t.Fatal("CA certificate not found in the token")
	}
	for i := range tok.Raw {
		if i >= caAt && i < caAt+len(ca) {
			continue
		}
		b := bytes.Clone(tok.Raw)
		b[i] ^= 0x01
		p, err := tsa.Parse(b)
		if err != nil {
			continue
		}
		if err := p.VerifyData(data, s.Roots); err == nil {
			t.Errorf("a token with bit 0 of byte %d flipped verifies", i)
		}
	}
}

func TestRefusedAndDown(t *testing.T) {
	s := tsatest.Start(t, tsatest.Options{ECDSA: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.SetDown(true)
	if _, err := (&tsa.Client{URL: s.URL}).Timestamp(ctx, []byte("x")); err == nil {
		t.Fatal("a TSA that answers 503 gave a token")
	}
	s.SetDown(false)
	// A query for an algorithm the TSA does not accept (openssl is
	// configured for SHA-2 only) is refused with a status, not a token.
	q, err := tsa.Request(make([]byte, sha256.Size), big.NewInt(7))
	if err != nil {
		t.Fatal(err)
	}
	// Replace SHA-256's OID's last arc (1) by 4 (SHA-224), not accepted.
	for i := 0; i+9 < len(q); i++ {
		if string(q[i:i+9]) == "\x60\x86\x48\x01\x65\x03\x04\x02\x01" {
			q[i+8] = 0x04
		}
	}
	resp, err := s.Reply(q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tsa.ParseResponse(resp); err == nil {
		t.Fatal("a refused response parsed as a token")
	} else {
		t.Log(err)
	}
}

func TestSeedCorpus(t *testing.T) {
	// The fuzz corpus holds a real OpenSSL token; it must parse.
	b, err := os.ReadFile(filepath.Join("testdata", "token.der"))
	if err != nil {
		t.Skip("no testdata/token.der")
	}
	if _, err := tsa.Parse(b); err != nil {
		t.Fatal(err)
	}
}

// TestDumpToken writes a fresh OpenSSL token to the file TSA_DUMP names;
// it made testdata/token.der, the fuzz seed.
func TestDumpToken(t *testing.T) {
	out := os.Getenv("TSA_DUMP")
	if out == "" {
		t.Skip("set TSA_DUMP=FILE to write a token")
	}
	s := tsatest.Start(t, tsatest.Options{ECDSA: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := (&tsa.Client{URL: s.URL}).Request(ctx, []byte("checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, tok.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// FuzzParse feeds Parse and ParseResponse arbitrary bytes, seeded with a
// real OpenSSL token: they must not panic, and a token that parses must
// have a signer and a hash of the size its algorithm gives.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "token.der")); err == nil {
		f.Add(b)
		// The same token wrapped in a granted TimeStampResp.
		f.Add(append([]byte{0x30, 0x82, byte((len(b) + 5) >> 8), byte(len(b) + 5), 0x30, 0x03, 0x02, 0x01, 0x00}, b...))
	}
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func([]byte) (*tsa.Token, error){tsa.Parse, tsa.ParseResponse} {
			tok, err := parse(b)
			if err != nil {
				continue
			}
			if tok.Signer == nil || len(tok.HashedMessage) != tok.HashAlgorithm.Size() {
				t.Fatalf("parsed token without signer or with a bad hash: %+v", tok)
			}
			_ = tok.Verify(tok.HashedMessage, nil)
		}
	})
}

// BenchmarkParse measures Parse (signature check included) on a real
// OpenSSL token (ECDSA P-256).
func BenchmarkParse(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "token.der"))
	if err != nil {
		b.Skip("no testdata/token.der")
	}
	for b.Loop() {
		if _, err := tsa.Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}
