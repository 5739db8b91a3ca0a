//go:build invariants

package trace

import (
	"fmt"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
)

// check verifies, after every transfer and transaction, that per asset the
// taint held (balances and waiting inflows) plus the sinks and fees so far
// equals what the seeds and conversions brought in, exactly (conserving
// policies only). Built with -tags invariants.
func (e *acctEngine) check(where string) error {
	if e.o.Policy == Poison {
		return nil
	}
	held := map[heistgraph.Asset]*uint256.Int{}
	at := func(a heistgraph.Asset) *uint256.Int {
		if held[a] == nil {
			held[a] = new(uint256.Int)
		}
		return held[a]
	}
	for _, n := range e.nodes {
		for _, h := range n.hold {
			if h.p.amt.Lt(&h.p.tnt) {
				return fmt.Errorf("trace: invariant: %s at %v: %s holds %s of %s tainted", where, e.last, n.addr, h.p.tnt.Dec(), h.p.amt.Dec())
			}
			addSat(at(h.asset), &h.p.tnt)
			for i := h.qhead; i < len(h.queue); i++ {
				addSat(at(h.asset), &h.queue[i].tnt)
			}
		}
	}
	for a, t := range e.totals {
		out := at(a)
		addSat(out, &t.sinks)
		addSat(out, &t.fees)
		var in uint256.Int
		in = t.seed
		addSat(&in, &t.conv)
		if !out.Eq(&in) {
			return fmt.Errorf("trace: invariant: %s at %v: %s held + sinks + fees %s != seed + converted %s", where, e.last, a, out.Dec(), in.Dec())
		}
	}
	return nil
}
