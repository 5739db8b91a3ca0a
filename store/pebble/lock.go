package pebble

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// InUseError is the error of Open when another process (or another open in
// this process) holds the store's directory.
type InUseError struct {
	Dir string
	// PID is the process holding the directory's lock, 0 when it cannot be
	// told (a file system without POSIX locks, another PID namespace).
	PID int
	Err error
}

func (e *InUseError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("the store in %s is in use by another heistgraph process (pid %d)", e.Dir, e.PID)
	}
	return fmt.Sprintf("the store in %s is in use by another process", e.Dir)
}

func (e *InUseError) Unwrap() error { return e.Err }

// inUse returns an *InUseError when err, Pebble's error opening dir, says
// that the directory's lock is held; nil otherwise.
func inUse(dir string, fs vfs.FS, err error) error {
	switch {
	case strings.Contains(err.Error(), "lock held by current process"):
		return &InUseError{Dir: dir, PID: os.Getpid(), Err: err}
	case fs == nil && (errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES)):
		// EACCES is also what a directory we may not write gives; only a
		// lock that is held makes this an InUseError.
		pid, held := lockHolder(filepath.Join(dir, "LOCK"))
		if !held {
			return nil
		}
		return &InUseError{Dir: dir, PID: pid, Err: err}
	}
	return nil
}

// lockFS is the file system of a store: fs itself, except that a
// read-only store on the operating system's disk takes a shared lock (so
// read-only opens coexist and keep a writer out, and a store on a read-only
// file system, where no lock file can be created, can be read).
type lockFS struct {
	vfs.FS
	shared bool // read-only open on the OS disk
}

func (l lockFS) Lock(name string) (io.Closer, error) {
	if !l.shared {
		return l.FS.Lock(name)
	}
	return sharedLock(name)
}
