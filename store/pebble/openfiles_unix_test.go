//go:build unix

package pebble

import (
	"runtime"
	"syscall"
	"testing"
)

// TestRaiseFileLimit: after maxOpenFiles the soft limit of open files is
// the hard one (or the system's bound below it), and the store's share is
// what openFilesFor gives of it, bounded by the block cache.
func TestRaiseFileLimit(t *testing.T) {
	var before syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &before); err != nil {
		t.Fatal(err)
	}
	n := maxOpenFiles(1 << 62) // a cache that bounds nothing
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	if l.Cur < before.Cur || l.Cur != l.Max && runtime.GOOS == "linux" {
		t.Errorf("soft limit %d before, %d after (hard %d)", before.Cur, l.Cur, l.Max)
	}
	if want := openFilesFor(min(uint64(l.Cur), 1<<20)); n != want {
		t.Errorf("maxOpenFiles() = %d at a limit of %d, want %d", n, l.Cur, want)
	}
	if got, want := maxOpenFiles(0), min(n, defaultOpenFiles); got != want {
		t.Errorf("maxOpenFiles(0) = %d at a limit of %d, want %d: the cache's bound", got, l.Cur, want)
	}
}
