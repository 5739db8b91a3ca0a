//go:build unix

package cluster

import (
	"os"
	"syscall"
)

// spillBytes maps size bytes of a new file in dir, shared and writable.
// The file is sparse (disk is taken as pages are written out) and removed
// at once, so nothing is left behind when the process ends.
func spillBytes(dir string, size int64) ([]byte, error) {
	f, err := os.CreateTemp(dir, "cluster-*.spill")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return nil, err
	}
	if err := f.Truncate(size); err != nil {
		return nil, err
	}
	return syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
}

func unmapBytes(b []byte) error { return syscall.Munmap(b) }
