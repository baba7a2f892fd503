package job

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/goodbot/goodbot/audit"
)

func TestFileComplaints(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	fc, err := OpenFileComplaints(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileComplaints(filepath.Join(dir, "missing")); err == nil {
		t.Error("OpenFileComplaints of a missing directory: no error")
	}
	if _, stopped, err := fc.Stopped(ctx, "a.test"); err != nil || stopped {
		t.Fatalf("Stopped with no file = %v, %v", stopped, err)
	}
	if _, err := fc.Add(ctx, Complaint{Site: "a.test/x", Reason: "r"}); err == nil {
		t.Error("Add with a bad site: no error")
	}
	// Concurrent adds (as from two processes) get distinct ids.
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other, _ := OpenFileComplaints(dir) // a separate handle, as another process would have
			var err error
			ids[i], err = other.Add(ctx, Complaint{Site: "A.test", Reason: "stop please", EvidenceSHA256: evidence})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("id %s given twice", id)
		}
		seen[id] = true
	}
	if r, stopped, err := fc.Stopped(ctx, "a.test"); err != nil || !stopped || !strings.Contains(r, "stop please") {
		t.Errorf("Stopped = %q %v, %v", r, stopped, err)
	}
	if err := fc.Resolve(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if err := fc.Resolve(ctx, "1"); err == nil {
		t.Error("second Resolve: no error")
	}
	if err := fc.Resolve(ctx, "77"); !errors.Is(err, ErrNoComplaint) {
		t.Errorf("Resolve(77) = %v", err)
	}
	if err := fc.Ack(ctx, "2", "local", audit.Deletion{Records: 2, Bytes: 10}); err != nil {
		t.Fatal(err)
	}
	acks, err := fc.Acks(ctx, "2")
	if err != nil || len(acks) != 1 || acks[0].Worker != "local" || acks[0].Deletion.Records != 2 || acks[0].Deletion.ComplaintID != "2" {
		t.Errorf("Acks = %+v, %v", acks, err)
	}
	// A torn last line is ignored, and overwritten by the next append.
	f, _ := os.OpenFile(filepath.Join(dir, ComplaintsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"op":"add","compl`)
	f.Close()
	list, err := fc.List(ctx)
	if err != nil || len(list) != 8 || list[0].ID != "1" || !list[0].Resolved || list[1].Resolved || list[7].ID != "8" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	id, err := fc.Add(ctx, Complaint{Site: "b.test", Reason: "again"})
	if err != nil || id != "9" {
		t.Fatalf("Add after a torn tail = %q, %v", id, err)
	}
	if list, err := fc.List(ctx); err != nil || len(list) != 9 {
		t.Errorf("List = %d entries, %v", len(list), err)
	}
	if _, stopped, _ := fc.Stopped(ctx, "b.test"); !stopped {
		t.Error("b.test not stopped after its complaint")
	}
}

func FuzzParseBoard(f *testing.F) {
	for _, s := range []string{
		"",
		`{"op":"add","complaint":{"id":"1","site":"a.test","reason":"r","at":"2026-11-23T15:00:00Z"}}` + "\n",
		`{"op":"add","complaint":{"id":"1","site":"a.test","reason":"r"}}` + "\n" + `{"op":"resolve","id":"1","at":"2026-11-23T15:00:00Z"}` + "\n",
		`{"op":"add","complaint":{"id":"1","site":"a.test","reason":"r"}}` + "\n" + `{"op":"ack","id":"1","ack":{"worker":"w","deletion":{"records":1,"bytes":2}}}` + "\n",
		`{"op":"resolve","id":"9"}` + "\n",
		"{\"op\":\"add\"\n",
		"\n\n{\"op\":\"x\"}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parseBoard(data)
		if err != nil {
			return
		}
		for id, c := range b.complaints {
			if c.ID != id || c.Site == "" {
				t.Fatalf("complaint %q = %+v", id, c)
			}
		}
		for id, acks := range b.acks {
			if b.complaints[id] == nil {
				t.Fatalf("acks of unknown complaint %q", id)
			}
			for w, a := range acks {
				if a.Worker != w || w == "" {
					t.Fatalf("ack %q = %+v", w, a)
				}
			}
		}
	})
}

func FuzzDecodeStop(f *testing.F) {
	for _, s := range []string{"", "plain reason", `{"reason":"r","complaint":"3","at":"2026-11-23T15:00:00Z"}`, `{"reason":""}`, `{"reason":5}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		e := decodeStop(raw)
		if e.Reason == "" && raw != "" {
			t.Fatalf("decodeStop(%q) lost the reason: %+v", raw, e)
		}
	})
}
