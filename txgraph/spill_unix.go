//go:build unix

package txgraph

import (
	"os"
	"syscall"
)

const canMapRW = true

// mapRW maps the first n bytes of f read-write, shared with the file.
func mapRW(f *os.File, n int) ([]byte, error) {
	return syscall.Mmap(int(f.Fd()), 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
}

func munmap(b []byte) { syscall.Munmap(b) }
