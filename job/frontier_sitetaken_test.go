package job

import (
	"context"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/internal/redistest"
)

func TestSiteTakenIsJobWide(t *testing.T) {
	ctx := context.Background()
	addr := redistest.Addr(t)
	name := redistest.Namespace(t)
	a, err := NewFrontier(redistest.Client(t, addr), name, FrontierOptions{PerSite: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewFrontier(redistest.Client(t, addr), name, FrontierOptions{PerSite: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var _ frontier.SiteCounter = a
	for _, u := range []string{"http://s.example/1", "http://s.example/2", "http://s.example/3"} {
		if _, err := a.Add(ctx, frontier.Item{URL: u, Site: "s.example"}); err != nil {
			t.Fatal(err)
		}
	}
	l1, err := a.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := b.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := b.SiteTaken(ctx, "s.example"); err != nil || n != 2 {
		t.Fatalf("SiteTaken with two leases out = %d, %v; want 2", n, err)
	}
	a.Complete(ctx, l1, true)
	b.Complete(ctx, l2, false) // not counted: e.g. refused by robots.txt
	if n, err := a.SiteTaken(ctx, "s.example"); err != nil || n != 1 {
		t.Fatalf("SiteTaken after one counted and one uncounted completion = %d, %v; want 1", n, err)
	}
	if n, err := a.SiteTaken(ctx, "other.example"); err != nil || n != 0 {
		t.Fatalf("SiteTaken of an unknown site = %d, %v", n, err)
	}
}

func TestWorkersMustAgreeOnOptions(t *testing.T) {
	addr := redistest.Addr(t)
	name := redistest.Namespace(t)
	a, err := NewFrontier(redistest.Client(t, addr), name, FrontierOptions{PerSite: 2, MaxPages: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := NewFrontier(redistest.Client(t, addr), name, FrontierOptions{PerSite: 4, MaxPages: 100}); err == nil || !strings.Contains(err.Error(), "--parallel") {
		t.Fatalf("a worker with another PerSite joined: %v", err)
	}
	b, err := NewFrontier(redistest.Client(t, addr), name, FrontierOptions{PerSite: 2, MaxPages: 100})
	if err != nil {
		t.Fatalf("a worker with the same options was refused: %v", err)
	}
	b.Close()
}
