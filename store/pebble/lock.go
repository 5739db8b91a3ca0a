package pebble

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// lockFS is the file system of a store: fs itself, except for locks. A
// read-only store on the operating system's disk takes a shared lock, so
// that read-only opens coexist and keep a writer out, and so that a store on
// a read-only file system, where no lock file can be created, can be read.
// POSIX locks do not exclude each other within one process (and closing
// any descriptor of the file drops them all), so the locks this process
// holds are also counted in held.
type lockFS struct {
	vfs.FS
	disk   bool // the operating system's disk (else locks are fs's own)
	shared bool // read-only open
}

// held counts the locks of this process by lock file: -1 for a writer's,
// n > 0 for n readers sharing one descriptor.
var held struct {
	sync.Mutex
	n  map[string]int
	fd map[string]io.Closer
}

var errHeldHere = errors.New("lock held by current process")

func (l lockFS) Lock(name string) (io.Closer, error) {
	if !l.disk {
		return l.FS.Lock(name)
	}
	if abs, err := filepath.Abs(name); err == nil {
		name = abs
	}
	held.Lock()
	defer held.Unlock()
	if held.n == nil {
		held.n, held.fd = map[string]int{}, map[string]io.Closer{}
	}
	switch n := held.n[name]; {
	case n < 0, n > 0 && !l.shared:
		return nil, errHeldHere
	case n > 0:
		held.n[name]++
		return heldLock{name}, nil
	}
	var c io.Closer
	var err error
	if l.shared {
		c, err = sharedLock(name)
	} else {
		c, err = l.FS.Lock(name)
	}
	if err != nil {
		return nil, err
	}
	held.fd[name] = c
	if l.shared {
		held.n[name] = 1
	} else {
		held.n[name] = -1
	}
	return heldLock{name}, nil
}

// heldLock is one holder's handle on a lock counted in held.
type heldLock struct{ name string }

func (h heldLock) Close() error {
	held.Lock()
	defer held.Unlock()
	switch n := held.n[h.name]; {
	case n > 1:
		held.n[h.name]--
		return nil
	case n == 0:
		return nil
	}
	delete(held.n, h.name)
	c := held.fd[h.name]
	delete(held.fd, h.name)
	return c.Close()
}
