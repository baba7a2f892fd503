//go:build linux

package audit

import (
	"os"

	"golang.org/x/sys/unix"
)

// dataSync makes the data written to f durable, with the metadata needed to
// read it back (the file size), but not the modification time: with the
// segment's space already written (preallocated), it needs no journal
// commit.
func dataSync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = unix.Fdatasync(int(fd))
			if serr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}
