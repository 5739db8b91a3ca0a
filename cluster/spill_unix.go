//go:build unix

package cluster

import (
	"os"
	"syscall"
)

// spillBytes maps size bytes of a new, empty file in dir, shared and
// writable, and returns the file, to be extended with allocate before a
// page of the mapping past its end is touched. The file is removed at
// once, so nothing is left behind when the process ends.
func spillBytes(dir string, size int64) ([]byte, *os.File, error) {
	f, err := os.CreateTemp(dir, "cluster-*.spill")
	if err != nil {
		return nil, nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, nil, err
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return b, f, nil
}

func unmapBytes(b []byte) error { return syscall.Munmap(b) }

// errNoSpace is the error of a file system with no room left.
const errNoSpace = syscall.ENOSPC
