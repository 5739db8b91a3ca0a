package trace

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// ErrRetrace says a Tracer cannot take the step asked of it: the trace
// must be run again from its seeds (Start).
var ErrRetrace = errors.New("trace: the incremental trace cannot take this step: trace again from the seeds")

// DefaultUndoDepth is how many blocks a Tracer can rewind: the deepest
// reorg ingest follows by default.
const DefaultUndoDepth = 1000

// Tracer is a trace kept current as blocks land (issue 16): it keeps the
// engine's state after the last block (the tainted outputs at rest
// unspent with their taint and hop, the sinks, edges, events) and, for a
// new block, runs the engine's per-transaction step only on the block's
// transactions that spend those outputs (and on their children in the
// block), in chain order. Its Result after Start and Advances equals
// Run's on the store at the same height, given the same entity answers:
// the resolver's answer for an address is asked once and kept, so a label
// or a cluster merge that changes an entity stop calls for a new Start.
//
// Rewind undoes the blocks above a fork exactly (a journal of each
// block's changes, kept for the last DefaultUndoDepth blocks).
//
// A Tracer is not safe for concurrent use.
type Tracer struct {
	e      *engine
	height int64
	marks  []mark
	log    []func()
	stale  bool
	depth  int // blocks of undo kept: DefaultUndoDepth
}

// mark is the state before one advanced block.
type mark struct {
	height int64
	undo   int // len(log) before the block
	last   pos
	stats  Stats
	fees   []int64
	events int
	steps  int
	peels  int // len(engine.peelTxs)
}

// restingOut is a tainted output at rest unspent: what forward needs to
// move its taint on when a block spends it.
type restingOut struct {
	n    int32 // its transaction
	vout uint32
	t    taint
	hop  int
}

// Start traces opts.Seeds as Run does, on r as it is at height (the tip
// the store holds), and keeps the state for Advance.
func Start(ctx context.Context, r store.ChainReader, opts Options, height int64) (*Tracer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	e := newEngine(r, opts)
	e.resting = map[heistgraph.Outpoint]restingOut{}
	e.gone = map[int]bool{}
	e.stepOuts = map[heistgraph.Outpoint][2]int{}
	e.sinkAt, e.edges = map[sinkKey]int{}, map[uint64]int32{}
	if err := e.seed(ctx); err != nil {
		return nil, err
	}
	if err := e.run(ctx); err != nil {
		return nil, err
	}
	if err := e.tx.graphErr(); err != nil {
		return nil, err
	}
	return &Tracer{e: e, height: height, stale: e.res.Stats.Budget, depth: DefaultUndoDepth}, nil
}

// Height is the last block the trace covers.
func (t *Tracer) Height() int64 { return t.height }

// Resting reports whether op holds taint at rest unspent.
func (t *Tracer) Resting(op heistgraph.Outpoint) bool {
	_, ok := t.e.resting[op]
	return ok
}

// Advance moves the trace over block b, the block after Height, which
// the store behind the Tracer now holds. It reports whether the result
// changed: b spent tainted value, or an output of a peel step the trace
// saw (which links peel chains). b must add no seed output (a seed
// transaction, a payment to a seed address in its window): the caller
// starts the trace again for such a block. It returns an error wrapping
// ErrRetrace when b does not follow Height or the trace's budget ran
// out (then the Tracer is spent: Start again).
func (t *Tracer) Advance(ctx context.Context, b *heistgraph.Block) (bool, error) {
	e := t.e
	if t.stale {
		return false, fmt.Errorf("block %d: the budget ran out: %w", b.Height, ErrRetrace)
	}
	if b.Height != t.height+1 {
		return false, fmt.Errorf("block %d after %d: %w", b.Height, t.height, ErrRetrace)
	}
	type spend struct {
		op heistgraph.Outpoint
		r  restingOut
		by heistgraph.Inpoint
	}
	m := mark{height: b.Height, undo: len(t.log), last: e.last, stats: e.res.Stats, fees: slices.Clone(e.fees),
		events: len(e.events), steps: e.steps.len(), peels: len(e.peelTxs)}
	t.marks = append(t.marks, m)
	t.height = b.Height
	t.trim()
	e.tx.forget()
	e.journal = &t.log
	defer func() { e.journal = nil }()
	var spent []spend
	changed := false
	for i := range b.Txs {
		tx := &b.Txs[i]
		for vin, in := range tx.Inputs {
			if in.Coinbase {
				continue
			}
			if r, ok := e.resting[in.PrevOut]; ok {
				spent = append(spent, spend{in.PrevOut, r, heistgraph.Inpoint{TxID: tx.TxID, Vin: uint32(vin)}})
			}
			if at, ok := e.stepOuts[in.PrevOut]; ok {
				// As the store now answers for the step's transaction.
				o := &e.peelTx(e.steps.at(at[0])).Outputs[at[1]]
				old := o.SpentBy
				o.SpentBy = tx.TxID
				e.undo(func() { o.SpentBy = old })
				changed = true
			}
		}
	}
	if len(spent) == 0 {
		return changed, nil
	}
	// Move the taint on as Run does when it processes the outputs'
	// transactions: in chain order, the spender now known.
	slices.SortFunc(spent, func(a, b spend) int {
		if c := e.tx.at(a.r.n).pos.cmp(e.tx.at(b.r.n).pos); c != 0 {
			return c
		}
		return cmp.Compare(a.r.vout, b.r.vout)
	})
	for _, s := range spent {
		e.unrest(s.op, s.r)
		e.undo(e.tx.setSpender(s.r.n, s.r.vout, s.by))
		if err := e.forward(ctx, s.r.n, s.r.vout, s.r.t, s.r.hop, -1); err != nil {
			t.stale = true
			return false, err
		}
	}
	if err := e.run(ctx); err != nil {
		t.stale = true
		return false, err
	}
	if err := e.tx.graphErr(); err != nil {
		t.stale = true
		return false, err
	}
	if e.res.Stats.Budget {
		t.stale = true
		return false, fmt.Errorf("block %d: the budget ran out: %w", b.Height, ErrRetrace)
	}
	return true, nil
}

// Rewind undoes the blocks above fork. It reports false when it cannot
// (a block above fork came before Start or is older than the undo depth,
// or an Advance failed): then Start again.
func (t *Tracer) Rewind(fork int64) bool {
	if t.stale {
		return false
	}
	if fork >= t.height {
		return true
	}
	if len(t.marks) == 0 || t.marks[0].height > fork+1 {
		return false
	}
	e := t.e
	for len(t.marks) > 0 && t.marks[len(t.marks)-1].height > fork {
		m := t.marks[len(t.marks)-1]
		t.marks = t.marks[:len(t.marks)-1]
		for i := len(t.log) - 1; i >= m.undo; i-- {
			t.log[i]()
			t.log[i] = nil
		}
		t.log = t.log[:m.undo]
		e.last, e.res.Stats, e.fees = m.last, m.stats, m.fees
		e.events = e.events[:m.events]
		e.steps.truncate(m.steps)
		e.peelTxs = e.peelTxs[:m.peels]
	}
	t.height = fork
	return true
}

// trim forgets the undo of blocks deeper than t.depth, once twice as
// many are kept.
func (t *Tracer) trim() {
	if len(t.marks) <= 2*t.depth {
		return
	}
	drop := len(t.marks) - t.depth
	cut := t.marks[drop].undo
	t.log = slices.Delete(t.log, 0, cut)
	t.marks = slices.Delete(t.marks, 0, drop)
	for i := range t.marks {
		t.marks[i].undo -= cut
	}
}

// Result returns the trace as it stands, as Run returns it.
func (t *Tracer) Result(ctx context.Context) (*Result, error) {
	start := time.Now()
	e := t.e
	saved, events := e.res, e.events
	r := *saved
	r.Sinks, r.Edges, r.Events, r.Sources, r.Totals = SinkList{}, EdgeList{}, nil, nil, nil
	e.res, e.events = &r, slices.Clone(events)
	err := e.finish(ctx)
	e.res, e.events = saved, events
	if err == nil {
		err = e.tx.graphErr()
	}
	if err != nil {
		return nil, err
	}
	if t := r.Sinks.tab; t != nil { // the engine changes its spans as later blocks add taint
		for i, sp := range t.spans {
			t.spans[i] = slices.Clone(sp)
		}
	}
	r.Stats.MS = time.Since(start).Milliseconds()
	return &r, nil
}

// undo journals f, which undoes a change, while a Tracer advances a block.
func (e *engine) undo(f func()) {
	if e.journal != nil {
		*e.journal = append(*e.journal, f)
	}
}

// setPos places tx n in the result.
func (e *engine) setPos(n int32) {
	if x := e.tx.at(n); !x.placed {
		x.placed = true
		if e.journal != nil { // a closure is allocated where it is made, journal or not
			e.undo(func() { e.tx.at(n).placed = false })
		}
	}
}

// rest remembers (for a Tracer) that output vout of tx n holds taint t at
// rest unspent.
func (e *engine) rest(n int32, vout uint32, t taint, hop int) {
	if e.resting == nil {
		return
	}
	op := heistgraph.Outpoint{TxID: e.tx.id(n), Vout: vout}
	t.segs = slices.Clone(t.segs) // flow.addSeg reuses its slab on the next visit
	e.resting[op] = restingOut{n: n, vout: vout, t: t, hop: hop}
	e.undo(func() { delete(e.resting, op) })
}

// stepped remembers (for a Tracer) the outputs of peel step i, whose
// spends a later block records.
func (e *engine) stepped(i int) {
	if e.stepOuts == nil {
		return
	}
	p := e.peelTx(e.steps.at(i))
	for j, o := range p.Outputs {
		op := heistgraph.Outpoint{TxID: p.TxID, Vout: o.Vout}
		e.stepOuts[op] = [2]int{i, j}
		e.undo(func() { delete(e.stepOuts, op) })
	}
}

// unrest takes op's taint off rest: its unspent sinks are gone.
func (e *engine) unrest(op heistgraph.Outpoint, r restingOut) {
	delete(e.resting, op)
	e.undo(func() { e.resting[op] = r })
	for _, sa := range r.t.bySource() {
		k := sinkKey{tx: r.n, vout: op.Vout, src: sa.src, kind: kindUnspent}
		i, ok := e.sinkAt[k]
		if !ok {
			continue
		}
		delete(e.sinkAt, k)
		e.gone[i] = true
		e.undo(func() { e.sinkAt[k] = i; delete(e.gone, i) })
	}
}
