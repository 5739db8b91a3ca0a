package trace

import (
	"context"

	"github.com/heistgraph/heistgraph/store"
)

// SinksBothWays traces opts over r as Run does and returns its result and
// its sinks written one by one straight from the engine's records, in the
// result's order: each string built for each sink, nothing shared between
// sinks (what finish wrote before results kept compact records), for tests.
func SinksBothWays(ctx context.Context, r store.ChainReader, opts Options) (*Result, []Sink, error) {
	e, err := ranEngine(ctx, r, opts)
	if err != nil {
		return nil, nil, err
	}
	if err := e.finish(ctx); err != nil {
		return nil, nil, err
	}
	plain := []Sink{} // as finish wrote them: "[]" when there are none
	for _, o := range e.sortSinks() {
		s := e.sinks.at(int(o.i))
		x := e.tx.at(s.tx)
		out := Sink{Kind: sinkKinds[s.kind], Address: e.tx.address(s.addr), TxID: e.tx.id(s.tx), Vout: s.vout, AmountSat: s.amount,
			Hops: int(s.hops), Source: e.sources[s.src], Reason: sinkReasons[s.reason], Compacted: s.compct,
			ViaCoinJoin: s.via, Time: x.time, pos: x.pos}
		if s.input {
			out.Input = e.tx.prevOutpoint(s.tx, int(s.vout)).String()
		}
		if s.lab >= 0 {
			out.Entity, out.Category = e.labs[s.lab].Name, e.labs[s.lab].Category
		}
		if s.spans >= 0 {
			out.Spans = e.spans[s.spans]
		}
		plain = append(plain, out)
	}
	return e.res, plain, nil
}
