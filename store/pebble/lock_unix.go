//go:build unix

package pebble

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// sharedLock takes a shared (read) POSIX lock on the lock file name. A
// missing lock file (a store on a read-only file system that was copied
// without it) means no writer can hold it: the lock is then a no-op.
func sharedLock(name string) (io.Closer, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return io.NopCloser(nil), nil
	}
	if err != nil {
		return nil, err
	}
	lk := syscall.Flock_t{Type: syscall.F_RDLCK, Whence: io.SeekStart}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// lockHolder returns the process that holds a POSIX lock on the file name,
// and false when no process holds one.
func lockHolder(name string) (int, bool) {
	f, err := os.Open(name)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil || lk.Type == syscall.F_UNLCK {
		return 0, false
	}
	return int(lk.Pid), true
}
