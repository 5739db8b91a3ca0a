//go:build unix

package pebble

import "syscall"

// raiseFileLimit raises the process's soft limit of open files to its hard
// limit and returns the soft limit then (0 when it cannot be read). A
// failed raise keeps the soft limit as it was (macOS refuses a soft limit
// above its own bound).
func raiseFileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	if l.Cur < l.Max {
		r := syscall.Rlimit{Cur: l.Max, Max: l.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err == nil {
			l.Cur = l.Max
		}
	}
	// An unlimited soft limit counts as the most Linux lets a process
	// open by default (fs.nr_open).
	return min(uint64(l.Cur), 1<<20)
}
