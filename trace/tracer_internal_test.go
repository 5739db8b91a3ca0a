package trace

import (
	"context"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// SetUndoDepth sets how many blocks t can rewind, for tests.
func SetUndoDepth(t *Tracer, n int) { t.depth = n }

// Prefilters reports, for txid as r holds it, whether the trace would look
// for a CoinJoin (mayCoinJoin) and for the other patterns (mayPattern),
// for tests.
func Prefilters(ctx context.Context, r store.ChainReader, chain heistgraph.Chain, txid heistgraph.Hash) (coinjoin, patterns bool, err error) {
	e := newEngine(r, Options{Chain: chain})
	n, err := e.tx.byTxID(ctx, txid)
	if err != nil {
		return false, false, err
	}
	x := e.tx.at(n)
	e.f.reset(x.nin, x.nout, 1)
	for j := range x.nout {
		e.f.out[j] = e.tx.value(n, j)
	}
	return e.mayCoinJoin(n), e.mayPattern(n), nil
}

// EdgesBothWays traces opts over r as Run does, up to its result, and
// returns the edges as Run writes them (run by run, writeRunEdges; ok
// false when it declines) and as the general sort writes them, for tests.
func EdgesBothWays(ctx context.Context, r store.ChainReader, opts Options) (run, sorted []Edge, ok bool, err error) {
	if err := opts.Validate(); err != nil {
		return nil, nil, false, err
	}
	e := newEngine(r, opts)
	if err := e.seed(ctx); err != nil {
		return nil, nil, false, err
	}
	if err := e.run(ctx); err != nil {
		return nil, nil, false, err
	}
	run, ok = e.writeRunEdges()
	e.edges = map[uint64]int32{} // as a Tracer's: writeEdges sorts them all
	return run, e.writeEdges(), ok, nil
}
