// Package output stores crawled pages on local disk, one directory per site,
// so that everything collected from one site can be listed, exported or
// deleted completely.
//
// The layout under the output directory OUT is
//
//	OUT/sites/<dir>/pages.jsonl
//
// where <dir> is the site key (see internal/site) with "[" and "]" removed and
// ":" replaced by "_", e.g. "example.com" or "127.0.0.1_8080". Each line of
// pages.jsonl is one Record encoded as JSON.
package output

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/goodbot/goodbot/crawler/usage"
)

// PagesFile is the name of the per-site file of records.
const PagesFile = "pages.jsonl"

// Record is one stored page. Its URL and content have already passed the
// personal-data filter.
type Record struct {
	URL         string    `json:"url"`
	Site        string    `json:"site"`
	Time        time.Time `json:"time"`
	Status      int       `json:"status"`
	ContentType string    `json:"content_type,omitempty"` // of HTML as stored: always UTF-8
	// Charset is the encoding the page was sent in ("gbk"), before it was
	// decoded to UTF-8 for scanning and storage.
	Charset string `json:"charset,omitempty"`
	// Stored says what of the page HTML holds: "clean" (no scripts,
	// styles, comments or event handlers) or "full".
	Stored string `json:"stored,omitempty"`
	Title  string `json:"title,omitempty"`
	Text   string `json:"text,omitempty"`
	HTML   string `json:"html,omitempty"`
	// SHA256 is the hex SHA-256 of the HTML field's bytes.
	SHA256 string `json:"sha256"`
	// NoArchive is set when the page asked for no archive copy
	// (noarchive): exports, such as an evidence bundle's WARC file, hold
	// no body of it.
	NoArchive bool `json:"noarchive,omitempty"`
	// Purpose is the crawl's declared purpose ("search", "ai-train",
	// "unspecified", ...; see package usage).
	Purpose string `json:"purpose,omitempty"`
	// Usage lists the usage preferences in force for the page when it
	// was fetched (Content-Usage, Content-Signal, TDMRep), each with its
	// source and the statement as read: none of them reserved Purpose,
	// and a later use of the page for another purpose must check them.
	Usage []usage.Pref `json:"usage,omitempty"`
}

// Digest returns the hex SHA-256 of b, the form Record.SHA256 takes.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// SiteDir returns the directory name used for a site key.
func SiteDir(siteKey string) string {
	return strings.NewReplacer("[", "", "]", "", ":", "_").Replace(siteKey)
}

// Store appends records to per-site files under one output directory. It is
// safe for concurrent use. Each Put is written with one write call and
// flushed to the operating system before Put returns; Sync forces it to disk.
type Store struct {
	root string

	mu      sync.Mutex
	files   map[string]*os.File // by site key
	sizes   map[string]int64    // bytes of whole records in each open file
	deleted map[string]bool     // sites deleted in this Store's life
	repairs []Repair
}

// Repair records a torn last record that Open cut from a pages file: a
// write that a crash or a full disk stopped half way.
type Repair struct {
	File string // path of the pages file
	// Cut is how many bytes were removed, SHA256 their digest (hex).
	Cut    int64
	SHA256 string
}

// ErrSiteDeleted is returned by Put for a site whose data was deleted: a
// page that was in flight when the deletion happened is not stored.
var ErrSiteDeleted = errors.New("output: the site's data was deleted on request; nothing more is stored for it")

// Open opens (creating if needed) the output directory dir.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("output: empty directory name")
	}
	if err := os.MkdirAll(filepath.Join(dir, "sites"), 0o755); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	st := &Store{root: dir, files: make(map[string]*os.File), sizes: make(map[string]int64), deleted: make(map[string]bool)}
	sites, err := Sites(dir)
	if err != nil {
		return nil, err
	}
	for _, d := range sites {
		path := filepath.Join(dir, "sites", d, PagesFile)
		rep, err := repairTail(path)
		if err != nil {
			return nil, err
		}
		if rep.Cut > 0 {
			st.repairs = append(st.repairs, rep)
		}
	}
	return st, nil
}

// Repairs returns the torn records Open cut, for the caller to record.
func (s *Store) Repairs() []Repair {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Repair(nil), s.repairs...)
}

// repairTail cuts a torn last record from the pages file at path: bytes
// after the last newline, which no reader can use and which the next record
// appended would turn into a malformed line.
func repairTail(path string) (Repair, error) {
	rep := Repair{File: path}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return rep, nil
	}
	if err != nil {
		return rep, fmt.Errorf("output: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return rep, fmt.Errorf("output: %w", err)
	}
	size := info.Size()
	// Find the last newline, reading backwards in blocks.
	keep := int64(0)
	buf := make([]byte, 64<<10)
	for end := size; end > 0 && keep == 0; {
		start := max(0, end-int64(len(buf)))
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil {
			return rep, fmt.Errorf("output: %s: %w", path, err)
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			keep = start + int64(i) + 1
		}
		end = start
		if end == 0 {
			break
		}
	}
	if keep == size {
		return rep, nil
	}
	torn := make([]byte, size-keep)
	if _, err := f.ReadAt(torn, keep); err != nil {
		return rep, fmt.Errorf("output: %s: %w", path, err)
	}
	if err := f.Truncate(keep); err != nil {
		return rep, fmt.Errorf("output: cutting a torn record from %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return rep, fmt.Errorf("output: %w", err)
	}
	rep.Cut, rep.SHA256 = int64(len(torn)), Digest(torn)
	return rep, nil
}

// Dir returns the output directory.
func (s *Store) Dir() string { return s.root }

// Put stores r, filling in r.SHA256 from r.HTML, and returns the digest.
func (s *Store) Put(r Record) (string, error) {
	if r.Site == "" {
		return "", fmt.Errorf("output: record for %q has no site", r.URL)
	}
	r.SHA256 = Digest([]byte(r.HTML))
	r.Time = r.Time.UTC()
	line, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("output: encode %q: %w", r.URL, err)
	}
	line = append(line, '\n')

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleted[r.Site] {
		return "", fmt.Errorf("%w: %s", ErrSiteDeleted, r.Site)
	}
	f, err := s.fileLocked(r.Site)
	if err != nil {
		return "", err
	}
	if n, err := f.Write(line); err != nil {
		if n > 0 {
			// A full disk: take back the part written, so that no torn
			// record is left for the next one to run into.
			f.Truncate(s.sizes[r.Site])
		}
		return "", fmt.Errorf("output: write %s: %w", f.Name(), err)
	}
	s.sizes[r.Site] += int64(len(line))
	return r.SHA256, nil
}

func (s *Store) fileLocked(siteKey string) (*os.File, error) {
	if f, ok := s.files[siteKey]; ok {
		return f, nil
	}
	dir := filepath.Join(s.root, "sites", SiteDir(siteKey))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, PagesFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("output: %w", err)
	}
	s.files[siteKey] = f
	s.sizes[siteKey] = info.Size()
	return f, nil
}

// Sync flushes every open file to disk.
func (s *Store) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, f := range s.files {
		if err := f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("output: sync %s: %w", f.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Close syncs and closes every open file.
func (s *Store) Close() error {
	err := s.Sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, f := range s.files {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("output: close %s: %w", f.Name(), cerr)
		}
		delete(s.files, k)
	}
	return err
}

// Deleted describes what DeleteSite removed.
type Deleted struct {
	Records int
	Bytes   int64
	Digests []string // Record.SHA256 of every deleted record
}

// DeleteSite removes everything stored for siteKey: the site's directory and
// all files in it. The bytes are gone, not hidden. It returns what was
// deleted, read before deletion, so that it can be recorded by digest.
// Deleting a site with nothing stored is not an error. From then on, Put
// refuses records of the site with ErrSiteDeleted.
func (s *Store) DeleteSite(ctx context.Context, siteKey string) (Deleted, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted[siteKey] = true
	if f, ok := s.files[siteKey]; ok {
		f.Close()
		delete(s.files, siteKey)
		delete(s.sizes, siteKey)
	}
	return DeleteSite(ctx, s.root, siteKey)
}

// DeleteSite removes everything stored for siteKey under the output
// directory root. See Store.DeleteSite; use that when a Store is open.
func DeleteSite(ctx context.Context, root, siteKey string) (Deleted, error) {
	var d Deleted
	dir := filepath.Join(root, "sites", SiteDir(siteKey))
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		d.Bytes += info.Size()
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("output: delete %s: %w", siteKey, err)
	}
	err = ReadSite(ctx, root, siteKey, func(r Record) error {
		d.Records++
		d.Digests = append(d.Digests, r.SHA256)
		return nil
	})
	if err != nil {
		// A damaged file is still deleted; the count is what could be read.
		err = fmt.Errorf("output: reading %s before deletion: %w", siteKey, err)
	}
	if rerr := os.RemoveAll(dir); rerr != nil {
		return d, fmt.Errorf("output: delete %s: %w", siteKey, rerr)
	}
	return d, err
}

// ReadSite calls fn for every record stored for siteKey under root, in the
// order they were written. A missing site has no records. A malformed line is
// an error naming the file and line; a final line cut short by a crash is
// skipped.
func ReadSite(ctx context.Context, root, siteKey string, fn func(Record) error) error {
	path := filepath.Join(root, "sites", SiteDir(siteKey), PagesFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	defer f.Close()
	return readRecords(ctx, f, path, fn)
}

func readRecords(ctx context.Context, r io.Reader, name string, fn func(Record) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(bytes.TrimSpace(b)) == 0 {
				return nil
			}
			// An unterminated last line is a write cut short by a crash.
			return nil
		}
		if err != nil {
			return fmt.Errorf("output: %s: %w", name, err)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("output: %s line %d: %w", name, line, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// Sites lists the site directories under root, as directory names (see
// SiteDir). Records carry the exact site key.
func Sites(root string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(root, "sites"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
