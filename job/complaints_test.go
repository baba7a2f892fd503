package job

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/internal/redistest"
)

const evidence = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestComplaintsFlow(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	ctx := ctxT(t)
	admin, err := NewComplaints(redistest.Client(t, addr), job, ComplaintsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := NewRegistry(redistest.Client(t, addr), job, RegistryOptions{})
	stops := newTestStopList(t, redistest.Client(t, addr), job)

	// Bad input is refused.
	for _, c := range []Complaint{
		{Site: "http://x.test/", Reason: "r"},
		{Site: "x.test", Reason: " "},
		{Site: "x.test", Reason: "r", EvidenceSHA256: "abc"},
	} {
		if _, err := admin.Add(ctx, c); err == nil {
			t.Errorf("Add(%+v): no error", c)
		}
	}

	// Three live workers; w1 and w2 subscribe now, w3 never acks.
	subs := map[string]<-chan Complaint{}
	for _, w := range []string{"w1", "w2", "w3"} {
		if err := reg.Join(ctx, WorkerInfo{ID: w, Host: "h", PID: 1, Started: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []string{"w1", "w2"} {
		ch, err := admin.Subscribe(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		subs[w] = ch
	}
	id, err := admin.Add(ctx, Complaint{Site: "Shop.Test:8080", Reason: "too many requests", Contact: "ops@shop.test", EvidenceSHA256: evidence})
	if err != nil {
		t.Fatal(err)
	}
	// The site is on the stop list, under its canonical key, within 1s.
	time.Sleep(time.Second + 10*time.Millisecond)
	if r, stopped, err := stops.Stopped(ctx, "shop.test:8080"); err != nil || !stopped || !strings.Contains(r, "complaint "+id) {
		t.Errorf("Stopped = %q %v, %v", r, stopped, err)
	}
	for w, ch := range subs {
		select {
		case c := <-ch:
			if c.ID != id || c.Site != "shop.test:8080" || c.EvidenceSHA256 != evidence || c.At.IsZero() {
				t.Errorf("%s received %+v", w, c)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s received nothing", w)
		}
	}
	del := audit.Deletion{Records: 3, Bytes: 1200, Digests: []string{evidence}}
	for _, w := range []string{"w1", "w2"} {
		if err := admin.Ack(ctx, id, w, del); err != nil {
			t.Fatal(err)
		}
	}
	if err := admin.Ack(ctx, "999", "w1", del); !errors.Is(err, ErrNoComplaint) {
		t.Errorf("Ack of an unknown complaint = %v", err)
	}
	rep, err := admin.WaitAcks(ctx, id, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Acked) != 2 || rep.Acked[0].Worker != "w1" || rep.Acked[1].Deletion.Records != 3 || rep.Acked[1].Deletion.ComplaintID != id {
		t.Errorf("Acked = %+v", rep.Acked)
	}
	if len(rep.Missing) != 1 || rep.Missing[0] != "w3" {
		t.Errorf("Missing = %v, want [w3]", rep.Missing)
	}
	// w3 leaves: nobody is missing any more.
	if err := reg.Leave(ctx, "w3"); err != nil {
		t.Fatal(err)
	}
	if rep, err := admin.WaitAcks(ctx, id, 5*time.Second); err != nil || len(rep.Missing) != 0 {
		t.Errorf("WaitAcks after w3 left = %+v, %v", rep, err)
	}

	// A worker that was offline gets the complaint when it subscribes; one
	// that acked does not get it again.
	sctx, cancel := context.WithCancel(ctx)
	late, err := admin.Subscribe(sctx, "w4")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-late:
		if c.ID != id {
			t.Errorf("w4 received %+v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("offline worker did not receive the complaint on subscribe")
	}
	cancel()
	for range late { // closed when ctx ends
	}
	again, err := admin.Subscribe(ctx, "w1")
	if err != nil {
		t.Fatal(err)
	}
	id2, err := admin.Add(ctx, Complaint{Site: "other.test", Reason: "second"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-again:
		if c.ID != id2 {
			t.Errorf("w1 got %s again after acking it (want only %s)", c.ID, id2)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("w1 received nothing")
	}

	if err := admin.Resolve(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := admin.Resolve(ctx, id); err == nil {
		t.Error("second Resolve: no error")
	}
	if err := admin.Resolve(ctx, "nope"); !errors.Is(err, ErrNoComplaint) {
		t.Errorf("Resolve(nope) = %v", err)
	}
	list, err := admin.List(ctx)
	if err != nil || len(list) != 2 || list[0].ID != id || !list[0].Resolved || list[0].ResolvedAt.IsZero() || list[1].Resolved {
		t.Errorf("List = %+v, %v", list, err)
	}
	if list[0].Contact != "ops@shop.test" || list[0].EvidenceSHA256 != evidence {
		t.Errorf("Resolve lost fields: %+v", list[0])
	}
}

func TestRegistryStatus(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	ctx := ctxT(t)
	c := redistest.Client(t, addr)
	reg, err := NewRegistry(c, job, RegistryOptions{DeadAfter: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f := newTestFrontier(t, c, job, FrontierOptions{PerSite: 1})
	for i := range 3 {
		f.Add(ctx, item("a.test", i))
	}
	f.Add(ctx, item("b.test", 0))
	l, _ := f.Next(ctx)
	f.Complete(ctx, l, true)
	f.Next(ctx)

	start := time.Now().UTC()
	for _, w := range []string{"alive", "dead"} {
		if err := reg.Join(ctx, WorkerInfo{ID: w, Host: "host-" + w, PID: 42, Started: start}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(600 * time.Millisecond)
	p := Progress{Counts: Counts{Pages: 1, Sent: 2, Refused: 1}, Sites: map[string]Counts{"a.test": {Pages: 1, Sent: 2, Refused: 1}}}
	if err := reg.Heartbeat(ctx, "alive", p); err != nil {
		t.Fatal(err)
	}
	// Beat sends heartbeats until its context ends.
	bctx, cancel := context.WithCancel(ctx)
	beats := 0
	done := make(chan error)
	go func() {
		done <- reg.Beat(bctx, "beater", 10*time.Millisecond, func() Progress {
			beats++
			if beats == 3 {
				cancel()
			}
			return Progress{Counts: Counts{Sent: int64(beats)}}
		})
	}()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Beat = %v, want context.Canceled", err)
	}
	if err := reg.Leave(ctx, "beater"); err != nil {
		t.Fatal(err)
	}
	if err := reg.PublishCheckpoint(ctx, "alive", []byte("origin\n5\nroot\n")); err != nil {
		t.Fatal(err)
	}
	cps, err := reg.Checkpoints(ctx)
	if err != nil || string(cps["alive"]) != "origin\n5\nroot\n" || len(cps) != 1 {
		t.Errorf("Checkpoints = %q, %v", cps, err)
	}
	st, err := reg.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Workers) != 3 || st.Workers[1].ID != "beater" || !st.Workers[1].Left || st.Workers[1].Alive || st.Workers[1].Progress.Sent < 2 {
		t.Errorf("beater = %+v", st.Workers[1])
	}
	st.Workers = slices.Delete(st.Workers, 1, 2)
	if len(st.Workers) != 2 || !st.Workers[0].Alive || st.Workers[0].ID != "alive" || st.Workers[1].Alive ||
		st.Workers[0].Host != "host-alive" || st.Workers[0].PID != 42 || st.Workers[0].Progress.Sent != 2 {
		t.Errorf("Workers = %+v", st.Workers)
	}
	if st.Frontier.Queued != 2 || st.Frontier.InFlight != 1 || st.Frontier.Pages != 1 || st.Frontier.Seen != 4 {
		t.Errorf("Frontier = %+v", st.Frontier)
	}
	if len(st.Sites) != 2 {
		t.Fatalf("Sites = %+v", st.Sites)
	}
	byName := map[string]SiteStatus{}
	for _, s := range st.Sites {
		byName[s.Site] = s
	}
	// Round-robin leased a.test/p0 (completed), then b.test/p0 (out).
	if a := byName["a.test"]; a.Queued != 2 || a.Pages != 1 || a.Leased != 0 || a.Workers.Sent != 2 {
		t.Errorf("a.test = %+v", a)
	}
	if b := byName["b.test"]; b.Queued != 0 || b.Leased != 1 {
		t.Errorf("b.test = %+v", b)
	}
}
