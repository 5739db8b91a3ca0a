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
