package trace

import (
	"context"
	"fmt"

	"github.com/heistgraph/heistgraph/store"
)

// RunChecked is Run (without Across and Stats.MS) checking the engine's
// traversal as it goes (tests only): that it takes the transactions in
// chain order (until the budget's end drains the rest), each once; that every arrival it takes with a work is on
// the input of that transaction which spends the arrival's output; and,
// at the end, that it took every arrival forward queued once (none lost
// to a slot overwritten or left behind, none read twice). The first fault
// is the error.
func RunChecked(ctx context.Context, r store.ChainReader, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	e := newEngine(r, opts)
	var fault error
	var last pos
	visited := map[int32]bool{}
	taken := map[int32]bool{}
	e.onTake = func(w work) {
		if fault != nil {
			return
		}
		// A Run's drain takes the works left in the order they were made.
		if len(visited) > 0 && w.pos.cmp(last) <= 0 && !e.res.Stats.Budget {
			fault = fmt.Errorf("took %v after %v", w.pos, last)
			return
		}
		if visited[w.n] {
			fault = fmt.Errorf("took tx %d twice", w.n)
			return
		}
		visited[w.n], last = true, w.pos
		for vin, k := range w.inputs {
			if k == 0 {
				continue
			}
			if taken[k-1] {
				fault = fmt.Errorf("arrival %d taken twice", k-1)
				return
			}
			taken[k-1] = true
			a := e.arrivals.at(int(k - 1))
			o := e.tx.outInfo(a.from, int(a.vout))
			m, in, found, err := e.tx.spender(ctx, a.from, int(a.vout), &o)
			if err != nil || !found || m != w.n || int(in) != vin {
				fault = fmt.Errorf("arrival %d from tx %d:%d on tx %d input %d; its spender is tx %d input %d (found %v, %v)",
					k-1, a.from, a.vout, w.n, vin, m, in, found, err)
				return
			}
		}
	}
	if err := e.seed(ctx); err != nil {
		return nil, err
	}
	if err := e.run(ctx); err != nil {
		return nil, err
	}
	if fault != nil {
		return nil, fault
	}
	if len(taken) != e.arrivals.len() {
		return nil, fmt.Errorf("took %d of the %d arrivals queued", len(taken), e.arrivals.len())
	}
	if err := e.finish(ctx); err != nil {
		return nil, err
	}
	if err := across(ctx, r, &opts, e.res); err != nil {
		return nil, err
	}
	return e.res, nil
}
