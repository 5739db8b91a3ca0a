//go:build unix

package testutil

import (
	"syscall"
	"testing"
	"time"
)

// CPUTime returns the CPU time the process has used (user and system, all
// threads, background work included): on a machine shared with other
// work, benchmark rates per CPU second are steadier than rates per wall
// second.
func CPUTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
