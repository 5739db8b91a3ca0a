package cluster

import (
	"errors"
	"os"
	"syscall"
)

// fallocate is syscall.Fallocate; a variable for the tests, which fake a
// full disk.
var fallocate = syscall.Fallocate

// allocate extends f to off+n bytes with disk allocated for [off, off+n),
// so that writing the mapping's pages there cannot fail for want of room.
// Where the file system cannot allocate (EOPNOTSUPP), it checks that the
// disk has n bytes free and extends the file sparsely.
func allocate(f *os.File, off, n int64) error {
	err := fallocate(int(f.Fd()), 0, off, n)
	if !errors.Is(err, syscall.EOPNOTSUPP) {
		return err
	}
	var st syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &st); err == nil && int64(st.Bavail)*st.Bsize < n {
		return errNoSpace
	}
	return f.Truncate(off + n)
}

// freeBytes returns the bytes free to an unprivileged user on path's file
// system; -1 when it cannot be read.
func freeBytes(path string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * st.Bsize
}
