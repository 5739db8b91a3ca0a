package trace

import (
	"context"

	"github.com/heistgraph/heistgraph/store"
)

// Scratch holds the memory one trace left for the next (tests only): the
// zero value is none, as for a fresh process.
type Scratch struct{ s *scratch }

// RunReusing is Run (without Across) filling the memory k holds, which
// it then replaces with its own: a sequence of traces sharing k reuses
// memory as a warm process does, whatever other tests run in parallel.
func RunReusing(ctx context.Context, r store.ChainReader, opts Options, k *Scratch) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := k.s
	if s == nil {
		s = new(scratch)
	}
	res, s, err := runScratch(ctx, r, opts, s)
	k.s = s // nil after an error: the next trace starts fresh
	return res, err
}
