package witness

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/internal/redistest"
	"golang.org/x/mod/sumdb/note"
)

// cosignedLog writes a log whose checkpoints the witness w cosigns, with
// n entries and a checkpoint every 10, and returns its directory and the
// receipts of its checkpoint entries.
func cosignedLog(t *testing.T, w Redis, dir, keyFile, origin string, n int, tag string) []Receipt {
	t.Helper()
	writeLog(t, w, dir, keyFile, origin, n, tag)
	ctx := context.Background()
	var out []Receipt
	_, err := audit.Verify(ctx, dir, audit.VerifyOptions{Visit: func(e *audit.Entry) error {
		if e.Event.Type != audit.TypeCheckpoint {
			return nil
		}
		if msg := e.Event.Other["anchor_error"]; msg != "" {
			out = append(out, Receipt{Kind: "error: " + msg})
			return nil
		}
		b, err := base64.StdEncoding.DecodeString(e.Event.Other["anchor_receipt"])
		if err != nil {
			return err
		}
		var r Receipt
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCosignatures: the Redis witness cosigns (C2SP cosignature/v1) each
// checkpoint of a log that extends the last one it cosigned, proved by a
// consistency proof; it refuses a fork signed by the same key, a rollback,
// growth without a proof, and a checkpoint not signed by the log's key.
func TestCosignatures(t *testing.T) {
	rc := redistest.Client(t, redistest.Addr(t))
	ctx := context.Background()
	root := t.TempDir()
	origin := "goodbot.test/cosigned"
	logSKey, logVKey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(root, "log.key")
	if err := os.WriteFile(keyFile, []byte(logSKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := GenerateCosignerKey("witness.goodbot.test/w1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCosigner(skey, []string{logVKey})
	if err != nil {
		t.Fatal(err)
	}
	if c.VerifierKey() != vkey || !strings.Contains(vkey, "witness.goodbot.test/w1+") {
		t.Fatalf("verifier key %q, generated %q", c.VerifierKey(), vkey)
	}
	w := Redis{Client: rc, Prefix: "{" + redistest.Namespace(t) + "}:", Cosigner: c}

	receipts := cosignedLog(t, w, filepath.Join(root, "a"), keyFile, origin, 30, "a")
	if len(receipts) != 3 {
		t.Fatalf("%d checkpoint entries, want 3", len(receipts))
	}
	for i, r := range receipts {
		if !strings.HasPrefix(r.Cosignature, "— witness.goodbot.test/w1 ") {
			t.Errorf("checkpoint %d: receipt %+v has no cosignature", i, r)
		}
	}
	all, err := w.AllCosigned(ctx, origin)
	if err != nil || len(all) != 4 { // three checkpoints and the one Close signs
		t.Fatalf("%d cosigned checkpoints (%v), want 4", len(all), err)
	}
	latest, err := w.Cosigned(ctx, origin)
	if err != nil {
		t.Fatal(err)
	}
	at, err := VerifyCosignature(latest, vkey)
	if err != nil {
		t.Fatalf("the latest cosigned checkpoint: %v", err)
	}
	if d := time.Since(at); d < -time.Minute || d > time.Hour {
		t.Errorf("cosignature time %v is not now", at)
	}
	if _, err := audit.OpenCheckpoint(latest, []string{logVKey}); err != nil {
		t.Errorf("the cosigned checkpoint lost the log's signature: %v", err)
	}
	_, otherV, _ := GenerateCosignerKey("witness.goodbot.test/w1")
	if _, err := VerifyCosignature(latest, otherV); err == nil {
		t.Error("a cosignature verified with another witness key")
	}
	// The cosignature covers the body: changing the root breaks it.
	forged := []byte(strings.Replace(string(latest), "\n\n", "\n", 1))
	if _, err := VerifyCosignature(forged, vkey); err == nil {
		t.Error("a mangled cosigned note verified")
	}

	// A fork: another log of the same origin and key, with other entries.
	fork := cosignedLog(t, w, filepath.Join(root, "fork"), keyFile, origin, 40, "fork")
	for i, r := range fork {
		if !strings.Contains(r.Kind, "not consistent") && !strings.Contains(r.Kind, "rolls the log back") {
			t.Errorf("fork checkpoint %d: %+v, want a refusal", i, r)
		}
	}
	if again, _ := w.Cosigned(ctx, origin); string(again) != string(latest) {
		t.Error("the witness moved to the fork's checkpoint")
	}

	// Growth without a proof (a plain Anchor call) is not cosigned.
	cosignedLog(t, Redis{Client: rc, Prefix: w.Prefix}, filepath.Join(root, "plain"), keyFile, origin+"-plain", 25, "p")
	plain, _ := w.All(ctx, origin+"-plain")
	if len(plain) < 2 {
		t.Fatalf("%d checkpoints published for the plain log, want 3", len(plain))
	}
	big := plain[len(plain)-1]
	// Cosign its first checkpoint, then try a larger one without a proof.
	pw := Redis{Client: rc, Prefix: w.Prefix + "plain:", Cosigner: c}
	if _, err := pw.Anchor(ctx, plain[0]); err != nil {
		t.Fatalf("first checkpoint of a log: %v", err)
	}
	if _, err := pw.Anchor(ctx, big); !errors.Is(err, ErrInconsistent) {
		t.Errorf("growth without a consistency proof: %v, want ErrInconsistent", err)
	}

	// A checkpoint signed by another key.
	otherS, _, _ := note.GenerateKey(rand.Reader, origin)
	s, _ := note.NewSigner(otherS)
	msg, _ := note.Sign(&note.Note{Text: origin + "\n1\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n"}, s)
	if _, err := w.Anchor(ctx, msg); err == nil || !strings.Contains(err.Error(), "not signed by the log's key") {
		t.Errorf("checkpoint by another key: %v", err)
	}
}
