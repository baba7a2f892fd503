package job

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/internal/redistest"
)

const proofDigest = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

// An unconfirmed complaint reaches a worker once to stop; confirmed, it
// reaches it again to delete; WaitAcks counts a stop-only ack as done only
// while the complaint is unconfirmed.
func TestComplaintsConfirm(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	ctx := ctxT(t)
	admin, err := NewComplaints(redistest.Client(t, addr), job, ComplaintsOptions{Resync: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := NewRegistry(redistest.Client(t, addr), job, RegistryOptions{})
	if err := reg.Join(ctx, WorkerInfo{ID: "w1", Host: "h", PID: 1, Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ch, err := admin.Subscribe(ctx, "w1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Add(ctx, Complaint{Site: "x.test", Reason: "r", ProofSHA256: "zz"}); err == nil {
		t.Error("a bad proof digest was accepted")
	}
	id, err := admin.Add(ctx, Complaint{Site: "x.test", Reason: "form", Unconfirmed: true, Receipt: "r1", ProofSHA256: proofDigest,
		ReplyTo: "a@x.test", Message: "stop"})
	if err != nil {
		t.Fatal(err)
	}
	recv := func(what string) Complaint {
		t.Helper()
		select {
		case c := <-ch:
			return c
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: nothing delivered", what)
		}
		return Complaint{}
	}
	c := recv("unconfirmed")
	if c.ID != id || !c.Unconfirmed || c.Receipt != "r1" || c.ReplyTo != "a@x.test" || c.ProofSHA256 != proofDigest {
		t.Fatalf("delivered %+v", c)
	}
	if err := admin.AckStop(ctx, id, "w1", audit.Deletion{}, true); err != nil {
		t.Fatal(err)
	}
	if rep, err := admin.WaitAcks(ctx, id, time.Second); err != nil || len(rep.Missing) != 0 {
		t.Fatalf("WaitAcks on the unconfirmed complaint: %+v %v", rep, err)
	}
	// Not delivered again while unconfirmed (a resync passes meanwhile).
	select {
	case c := <-ch:
		t.Fatalf("delivered again before confirmation: %+v", c)
	case <-time.After(600 * time.Millisecond):
	}
	if err := admin.Confirm(ctx, id, "guess"); err == nil {
		t.Error("Confirm with an unknown method: no error")
	}
	if err := admin.Confirm(ctx, id, ConfirmedByProof); err != nil {
		t.Fatal(err)
	}
	if err := admin.Confirm(ctx, id, ConfirmedByProof); !errors.Is(err, ErrConfirmed) {
		t.Errorf("second Confirm = %v, want ErrConfirmed", err)
	}
	if err := admin.Confirm(ctx, "nope", ConfirmedByProof); !errors.Is(err, ErrNoComplaint) {
		t.Errorf("Confirm of an unknown complaint = %v", err)
	}
	c = recv("confirmed")
	if c.ID != id || c.Unconfirmed || c.ConfirmedBy != ConfirmedByProof || c.ConfirmedAt.IsZero() {
		t.Fatalf("delivered after Confirm: %+v", c)
	}
	// The stop-only ack no longer covers it.
	if rep, err := admin.WaitAcks(ctx, id, 200*time.Millisecond); err != nil || len(rep.Missing) != 1 {
		t.Fatalf("WaitAcks after Confirm with a stop-only ack: %+v %v", rep, err)
	}
	if err := admin.Ack(ctx, id, "w1", audit.Deletion{Records: 2}); err != nil {
		t.Fatal(err)
	}
	if rep, err := admin.WaitAcks(ctx, id, time.Second); err != nil || len(rep.Missing) != 0 || rep.Acked[0].StopOnly || rep.Acked[0].Deletion.Records != 2 {
		t.Fatalf("WaitAcks after the deleting ack: %+v %v", rep, err)
	}

	// Resolve confirms an unconfirmed complaint, by the operator.
	id2, err := admin.Add(ctx, Complaint{Site: "y.test", Reason: "form", Unconfirmed: true})
	if err != nil {
		t.Fatal(err)
	}
	recv("second unconfirmed")
	if err := admin.Resolve(ctx, id2); err != nil {
		t.Fatal(err)
	}
	c = recv("resolved")
	if c.ID != id2 || c.Unconfirmed || !c.Resolved || c.ConfirmedBy != ConfirmedByOperator {
		t.Fatalf("delivered after Resolve: %+v", c)
	}
}

// The file board confirms the same way; its state survives re-reading.
func TestFileComplaintsConfirm(t *testing.T) {
	ctx := context.Background()
	fc, err := OpenFileComplaints(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id, err := fc.Add(ctx, Complaint{Site: "x.test", Reason: "form", Unconfirmed: true, Receipt: "r", ProofSHA256: proofDigest})
	if err != nil {
		t.Fatal(err)
	}
	if err := fc.AckStop(ctx, id, "w", audit.Deletion{}, true); err != nil {
		t.Fatal(err)
	}
	cs, _ := fc.List(ctx)
	acks, _ := fc.Acks(ctx, id)
	if !cs[0].Unconfirmed || len(acks) != 1 || !acks[0].StopOnly || !acks[0].Covers(cs[0]) {
		t.Fatalf("before Confirm: %+v %+v", cs[0], acks)
	}
	if err := fc.Confirm(ctx, id, ConfirmedByProof); err != nil {
		t.Fatal(err)
	}
	if err := fc.Confirm(ctx, id, ConfirmedByProof); !errors.Is(err, ErrConfirmed) {
		t.Errorf("second Confirm = %v", err)
	}
	cs, _ = fc.List(ctx)
	if cs[0].Unconfirmed || cs[0].ConfirmedBy != ConfirmedByProof || acks[0].Covers(cs[0]) {
		t.Fatalf("after Confirm: %+v", cs[0])
	}
	id2, _ := fc.Add(ctx, Complaint{Site: "y.test", Reason: "form", Unconfirmed: true})
	if err := fc.Resolve(ctx, id2); err != nil {
		t.Fatal(err)
	}
	cs, _ = fc.List(ctx)
	if cs[1].Unconfirmed || !cs[1].Resolved || cs[1].ConfirmedBy != ConfirmedByOperator {
		t.Fatalf("after Resolve: %+v", cs[1])
	}
	if why, stopped, err := fc.Stopped(ctx, "y.test"); !stopped || err != nil {
		t.Fatalf("a resolved complaint's site is not stopped: %q %v", why, err)
	}
}
