package trace

import (
	"context"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
)

// peelCandidate is a visited transaction with a peel step's shape.
type peelCandidate struct {
	tx  pattern.PeelTx
	pos pos
}

// ConsolidationEvent is a consolidation the tainted value went through,
// with the tainted amount that entered it.
type ConsolidationEvent struct {
	*pattern.Consolidation
	TaintedInputs int   `json:"tainted_inputs"`
	TaintedSat    int64 `json:"tainted_sat"`
}

// SplitEvent is a split into many equal amounts the tainted value went
// through, with the tainted amount that entered it.
type SplitEvent struct {
	*pattern.Split
	TaintedSat int64 `json:"tainted_sat"`
}

// patterns runs the per-transaction detectors on a transaction the policy
// spread taint through, and keeps peel-step candidates for peelChains.
func (e *engine) patterns(ctx context.Context, w *work) error {
	rec := e.tx.record(w.n)
	var tin int64
	n := 0
	for _, a := range w.inputs {
		if a != nil {
			tin += a.t.total()
			n++
		}
	}
	if c, ok := pattern.DetectConsolidation(&rec.Tx, rec.Prevouts); ok {
		e.event("consolidation", w.pos, rec.Tx.TxID, &ConsolidationEvent{Consolidation: &c, TaintedInputs: n, TaintedSat: tin})
	}
	if t0, ok := pattern.DetectTx0(&rec.Tx); ok {
		e.event("whirlpool_tx0", w.pos, rec.Tx.TxID, &Tx0Event{Pool: t0.Pool, Premix: t0.Premix, Premixes: len(t0.Premixes),
			HasChange: t0.Change >= 0, TaintedSat: tin})
	} else if s, ok := pattern.DetectSplit(&rec.Tx, rec.Prevouts); ok {
		e.event("split", w.pos, rec.Tx.TxID, &SplitEvent{Split: &s, TaintedSat: tin})
	}
	p, ok := pattern.PeelCandidate(rec, pattern.DefaultPeelOptions())
	if !ok {
		return nil
	}
	// A service paying one customer per transaction from a big coin looks
	// like a peel chain (methods.md §5.4); the victim is such a service.
	ans, err := e.resolve(ctx, e.tx.prevAddr(w.n, 0))
	if err != nil {
		return err
	}
	p.Service = ans.ok && (e.o.stops(ans.ref.Category) || ans.ref.Category == "victim")
	for i := range p.Outputs {
		o := &p.Outputs[i]
		_, addr, _ := e.tx.output(w.n, int(o.Vout))
		ans, err := e.resolve(ctx, addr)
		if err != nil {
			return err
		}
		if ans.ok && e.o.stops(ans.ref.Category) {
			o.Entity, o.Category = ans.ref.Name, ans.ref.Category
		}
		fresh, err := e.fresh(ctx, o.Address, rec.Block.Height)
		if err != nil {
			return err
		}
		o.Fresh = fresh
	}
	e.steps = append(e.steps, peelCandidate{tx: p, pos: w.pos})
	e.stepped(len(e.steps) - 1)
	return nil
}

// FirstHeights is an optional role of the reader a trace reads (the
// transaction graph's reader has it): the height an address was first
// paid at, AddressSummary.FirstHeight without the rest of the summary.
// ok is false when the reader does not know addr; the trace then asks
// Address.
type FirstHeights interface {
	FirstHeight(ctx context.Context, chain heistgraph.Chain, addr string) (height int64, ok bool, err error)
}

// fresh reports whether addr was first seen at height.
func (e *engine) fresh(ctx context.Context, addr string, height int64) (bool, error) {
	if addr == "" {
		return false, nil
	}
	if fh, ok := e.r.(FirstHeights); ok {
		h, ok, err := fh.FirstHeight(ctx, e.o.Chain, addr)
		if err != nil {
			return false, fmt.Errorf("trace: address %s: %w", addr, err)
		}
		if ok {
			return h == height, nil
		}
	}
	s, err := e.r.Address(ctx, e.o.Chain, addr)
	if err != nil {
		return false, fmt.Errorf("trace: address %s: %w", addr, err)
	}
	return s.FirstHeight == height, nil
}

// peelChains links the visited peel steps into peel-chain events.
func (e *engine) peelChains(context.Context) error {
	if len(e.steps) == 0 {
		return nil
	}
	txs := make([]pattern.PeelTx, len(e.steps))
	at := make(map[heistgraph.Hash]pos, len(e.steps))
	for i, c := range e.steps {
		txs[i] = c.tx
		at[c.tx.TxID] = c.pos
	}
	for _, c := range pattern.PeelChains(txs, pattern.DefaultPeelOptions()) {
		c := c
		e.event("peel_chain", at[c.Head], c.Head, &c)
	}
	return nil
}
