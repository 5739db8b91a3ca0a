//go:build !unix

package cluster

import (
	"fmt"

	"github.com/heistgraph/heistgraph"
)

// spillBytes fails: spilling needs mmap.
func spillBytes(string, int64) ([]byte, error) {
	return nil, fmt.Errorf("spilling needs a system with mmap: %w", heistgraph.ErrInvalid)
}

func unmapBytes([]byte) error { return nil }
