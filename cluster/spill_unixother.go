//go:build unix && !linux

package cluster

import "os"

// allocate extends f to off+n bytes, sparsely: a full disk is not checked
// here (Linux allocates, spill_linux.go).
func allocate(f *os.File, off, n int64) error { return f.Truncate(off + n) }

// freeBytes is not read here.
func freeBytes(string) int64 { return -1 }
