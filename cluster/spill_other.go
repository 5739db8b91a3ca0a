//go:build !unix

package cluster

import (
	"errors"
	"fmt"
	"os"

	"github.com/heistgraph/heistgraph"
)

// spillBytes fails: spilling needs mmap.
func spillBytes(string, int64) ([]byte, *os.File, error) {
	return nil, nil, fmt.Errorf("spilling needs a system with mmap: %w", heistgraph.ErrInvalid)
}

func unmapBytes([]byte) error { return nil }

func allocate(*os.File, int64, int64) error { return nil }

func freeBytes(string) int64 { return -1 }

var errNoSpace = errors.New("no space left on device")
