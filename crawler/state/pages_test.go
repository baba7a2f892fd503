package state

import (
	"context"
	"strings"
	"testing"
	"time"
)

func pages(t *testing.T, f *Frontier) map[string]Page {
	t.Helper()
	out := map[string]Page{}
	if err := f.Pages(context.Background(), func(p Page) error { out[p.URL] = p; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// The pages' validators outlive Fresh, which discards the frontier; a URL
// that is not clean is never written; DropSite (a complaint) deletes the
// site's pages, and no later PutPage brings them back.
func TestPagesKeptAcrossFresh(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clean := func(u string) bool { return !strings.Contains(u, "@") }
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := open(t, dir, Options{})
	f, _, err := s.Frontier(FrontierOptions{Clean: clean})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Page{
		{URL: "http://a/1", Site: "a", ETag: `"x1"`, Fetched: at, Bytes: 100},
		{URL: "http://a/2", Site: "a", LastModified: "Sun, 01 Nov 2026 08:00:00 GMT", Fetched: at, Bytes: 200},
		{URL: "http://b/1", Site: "b", ETag: `W/"y"`, Fetched: at, Bytes: 300},
	} {
		if ok, err := f.PutPage(p); !ok || err != nil {
			t.Fatalf("PutPage %s: %v %v", p.URL, ok, err)
		}
	}
	if ok, err := f.PutPage(Page{URL: "http://a/me@example.cn", Site: "a", ETag: `"z"`}); ok || err != nil {
		t.Fatalf("PutPage of an unclean URL: %v %v, want false, nil", ok, err)
	}
	if _, err := f.PutPage(Page{Site: "a"}); err == nil {
		t.Fatal("PutPage without URL: no error")
	}
	if _, err := f.Add(ctx, item("a", 9)); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, dir, Options{Fresh: true})
	if d := s.Discarded(); d == nil || d.Kept != 3 || d.Queued != 1 {
		t.Fatalf("Discarded %+v, want 3 pages kept, 1 queued discarded", d)
	}
	f, rec, err := s.Frontier(FrontierOptions{Clean: clean})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Queued != 0 || rec.Seen != 0 {
		t.Fatalf("fresh state recovered %+v", rec)
	}
	got := pages(t, f)
	if len(got) != 3 || got["http://a/1"].ETag != `"x1"` || !got["http://a/1"].Fetched.Equal(at) || got["http://b/1"].Bytes != 300 {
		t.Fatalf("pages after Fresh: %+v", got)
	}
	if p, ok, err := f.Page("a", "http://a/2"); !ok || err != nil || !p.HasValidators() || p.Known() != at {
		t.Fatalf("Page: %+v %v %v", p, ok, err)
	}
	later := at.Add(time.Hour)
	p := got["http://a/2"]
	p.Checked = later
	f.PutPage(p)
	if p, _, _ := f.Page("a", "http://a/2"); !p.Known().Equal(later) {
		t.Errorf("Known after a 304: %v, want %v", p.Known(), later)
	}

	if _, err := f.DropSite(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.PutPage(Page{URL: "http://a/3", Site: "a", ETag: `"n"`}); ok {
		t.Error("PutPage kept a page of a dropped site")
	}
	if got := pages(t, f); len(got) != 1 || got["http://b/1"].URL == "" {
		t.Fatalf("pages after DropSite(a): %+v", got)
	}
	s.Close()
}
