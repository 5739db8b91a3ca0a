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
	e, err := ranEngine(ctx, r, opts)
	if err != nil {
		return nil, nil, false, err
	}
	rl, ok := e.writeRunEdges()
	e.edges = map[uint64]int32{} // as a Tracer's: writeEdges sorts them all
	sl := e.writeEdges()
	return rl.Slice(), sl.Slice(), ok, nil
}

// EdgesWritten traces opts over r as Run does, up to its result, and
// returns the edges as Run's list holds them and as Edge values written
// one by one from the engine's records in the list's order, for tests.
func EdgesWritten(ctx context.Context, r store.ChainReader, opts Options) (list EdgeList, want []Edge, err error) {
	e, err := ranEngine(ctx, r, opts)
	if err != nil {
		return EdgeList{}, nil, err
	}
	list = e.writeEdges()
	var eo []edgeOrder
	for i := range e.edgeBuf.len() {
		ed := e.edgeBuf.at(i)
		eo = append(eo, edgeOrder{from: e.tx.at(ed.from).pos, to: e.tx.at(ed.to).pos, i: int32(i)})
	}
	sortEdges(eo)
	want = []Edge{}
	for _, o := range eo {
		ed := e.edgeBuf.at(int(o.i))
		want = append(want, Edge{From: e.tx.id(ed.from), To: e.tx.id(ed.to), AmountSat: ed.amount, Outputs: ed.outputs})
	}
	return list, want, nil
}

// ranEngine validates opts and returns an engine that has traced them over
// r up to its result (seeded and run, not finished), for tests.
func ranEngine(ctx context.Context, r store.ChainReader, opts Options) (*engine, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	e := newEngine(r, opts)
	if err := e.seed(ctx); err != nil {
		return nil, err
	}
	if err := e.run(ctx); err != nil {
		return nil, err
	}
	return e, nil
}
