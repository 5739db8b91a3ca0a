//go:build !unix

package testutil

import (
	"testing"
	"time"
)

// CPUTime is 0 where the process's CPU time is not read: no rate per CPU
// second is reported there.
func CPUTime(testing.TB) time.Duration { return 0 }
