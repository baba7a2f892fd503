// Package lockfile takes an exclusive advisory lock on a file and says who
// holds it, so that a second process refused the lock can name the first.
package lockfile

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// ErrHeld is wrapped by the error of Acquire when another process holds the
// lock.
var ErrHeld = errors.New("held by another process")

// HeldError is returned by Acquire when another process holds the lock.
type HeldError struct {
	Path   string
	Holder string // what the holder wrote: pid, host, start time, purpose
}

func (e *HeldError) Error() string {
	h := e.Holder
	if h == "" {
		h = "a process that did not say who it is"
	}
	return fmt.Sprintf("%s is in use by %s", e.Path, h)
}

// Unwrap returns ErrHeld.
func (e *HeldError) Unwrap() error { return ErrHeld }

// Lock is a held lock. The lock goes with the process, so a crash never
// leaves a stale one.
type Lock struct {
	f *os.File
}

// Acquire takes the lock on path, creating the file, without waiting. On
// success it writes who (say, the command and its purpose) with the pid,
// host and time into the file, for the next process to read; when another
// process holds it, it returns a *HeldError naming that process.
func Acquire(path, who string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := tryLock(f); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, &HeldError{Path: path, Holder: strings.TrimSpace(string(b))}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	host, _ := os.Hostname()
	info := fmt.Sprintf("pid %d on %s since %s (%s)\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339), who)
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(info), 0)
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
