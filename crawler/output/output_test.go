package output

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPutReadDelete(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			site := "a.example"
			if i%2 == 1 {
				site = "127.0.0.1:8080"
			}
			if _, err := s.Put(Record{URL: "http://" + site + "/p", Site: site, Time: time.Now(), Status: 200, HTML: strings.Repeat("x", i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sites", "127.0.0.1_8080", PagesFile)); err != nil {
		t.Fatalf("per-site file missing: %v", err)
	}
	n := 0
	err = ReadSite(ctx, dir, "a.example", func(r Record) error {
		n++
		if r.SHA256 != Digest([]byte(r.HTML)) {
			t.Errorf("digest mismatch for %q", r.URL)
		}
		return nil
	})
	if err != nil || n != 10 {
		t.Fatalf("ReadSite: n=%d err=%v, want 10 records", n, err)
	}
	d, err := s.DeleteSite(ctx, "127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	if d.Records != 10 || len(d.Digests) != 10 || d.Bytes == 0 {
		t.Fatalf("DeleteSite = %+v, want 10 records with digests and bytes", d)
	}
	if _, err := os.Stat(filepath.Join(dir, "sites", "127.0.0.1_8080")); !os.IsNotExist(err) {
		t.Fatalf("site directory still exists after deletion: %v", err)
	}
	sites, _ := Sites(dir)
	if len(sites) != 1 || sites[0] != "a.example" {
		t.Fatalf("Sites = %v, want [a.example]", sites)
	}
	// A page that was in flight during the deletion is not stored.
	if _, err := s.Put(Record{URL: "http://127.0.0.1:8080/q", Site: "127.0.0.1:8080", Status: 200}); !errors.Is(err, ErrSiteDeleted) {
		t.Fatalf("Put after DeleteSite = %v, want ErrSiteDeleted", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sites", "127.0.0.1_8080")); !os.IsNotExist(err) {
		t.Fatalf("site directory recreated after deletion: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadSiteErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "sites", "x.example")
	os.MkdirAll(p, 0o755)
	// A torn last line is skipped; a malformed middle line is an error naming the line.
	os.WriteFile(filepath.Join(p, PagesFile), []byte(`{"url":"a","site":"x.example","sha256":""}`+"\n"+`{"url":"b"`), 0o644)
	n := 0
	if err := ReadSite(ctx, dir, "x.example", func(Record) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("torn tail: n=%d err=%v", n, err)
	}
	os.WriteFile(filepath.Join(p, PagesFile), []byte("garbage\n"+`{"url":"a"}`+"\n"), 0o644)
	err := ReadSite(ctx, dir, "x.example", func(Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("malformed line: err=%v, want error naming line 1", err)
	}
	if err := ReadSite(ctx, dir, "missing.example", func(Record) error { return nil }); err != nil {
		t.Fatalf("missing site: %v", err)
	}
}

// A torn last record left by a crash or a full disk is cut on open, so that
// the next record does not run into it and every reader reads every line.
func TestOpenCutsTornRecord(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"http://example.com/a", "http://example.com/b"} {
		if _, err := s.Put(Record{URL: u, Site: "example.com", HTML: "<p>x</p>"}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	path := filepath.Join(dir, "sites", "example.com", PagesFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"url":"http://example.com/c","site":"exa`) // cut short
	f.Close()

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	reps := s.Repairs()
	if len(reps) != 1 || reps[0].Cut != int64(len(`{"url":"http://example.com/c","site":"exa`)) || len(reps[0].SHA256) != 64 {
		t.Fatalf("repairs %+v", reps)
	}
	if _, err := s.Put(Record{URL: "http://example.com/d", Site: "example.com", HTML: "<p>y</p>"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var urls []string
	if err := ReadSite(context.Background(), dir, "example.com", func(r Record) error {
		urls = append(urls, r.URL)
		return nil
	}); err != nil {
		t.Fatalf("reading after repair: %v", err)
	}
	if strings.Join(urls, " ") != "http://example.com/a http://example.com/b http://example.com/d" {
		t.Errorf("records %v", urls)
	}
	// A file that is all torn (a crash during the first write) is emptied.
	os.WriteFile(path, []byte(`{"url":`), 0o644)
	if s, err = Open(dir); err != nil || len(s.Repairs()) != 1 {
		t.Fatalf("open: %v %+v", err, s.Repairs())
	}
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Errorf("left %q", b)
	}
}
