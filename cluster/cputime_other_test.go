//go:build !unix

package cluster

import (
	"testing"
	"time"
)

// cpuTime is 0 where the process's CPU time is not read: no rate per CPU
// second is reported.
func cpuTime(*testing.B) time.Duration { return 0 }
