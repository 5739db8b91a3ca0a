//go:build !unix

package txgraph

import (
	"errors"
	"os"
)

// canMapRW is false: a build keeps its arrays on the heap (newSpill).
const canMapRW = false

func mapRW(*os.File, int) ([]byte, error) { return nil, errors.New("no shared mappings") }

func munmap([]byte) {}
