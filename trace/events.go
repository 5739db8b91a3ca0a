package trace

import (
	"context"
	"fmt"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
)

// peelCandidate is a visited transaction with a peel step's shape: its
// PeelTx (in engine.peelTxs), or, in a Run, only its number (byNumber),
// for finish to build the PeelTx of those that may be in a chain
// (peelChains). A Run keeps one for most of its visits (two outputs):
// 24 bytes, where a PeelTx is 96 and is built for few.
type peelCandidate struct {
	pos   pos
	n     int32 // its tx number
	built int32 // its PeelTx's index in engine.peelTxs + 1; 0: not built, n is read by number
}

// byNumber reports whether c's PeelTx is not built yet.
func (c *peelCandidate) byNumber() bool { return c.built == 0 }

// tx returns c's PeelTx, which is built.
func (e *engine) peelTx(c *peelCandidate) *pattern.PeelTx { return &e.peelTxs[c.built-1] }

// build keeps p as c's PeelTx.
func (e *engine) build(c *peelCandidate, p pattern.PeelTx) {
	e.peelTxs = append(e.peelTxs, p)
	c.built = int32(len(e.peelTxs))
}

// consolidation is a consolidation event's detail and the Consolidation
// it points to, allocated together (engine.conss).
type consolidation struct {
	ev ConsolidationEvent
	c  pattern.Consolidation
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
// c counts its outputs.
func (e *engine) patterns(ctx context.Context, w *work, c outCounts) error {
	var tin int64
	n := 0
	for vin := range w.inputs {
		if a := e.arrival(w, vin); a != nil {
			t := e.taintOf(a)
			tin += t.total()
			n++
		}
	}
	x := e.tx.at(w.n)
	// Read by number when the graph answers for the tx and no output is
	// burned (no OP_RETURN: no Tx0).
	byNumbers := x.gnum != noNum && e.tx.g != nil && c.burnAny == 0
	if byNumbers && c.spend >= pattern.MinSplitOutputs && !e.maySplit(w.n) {
		// No output burned (no OP_RETURN: no Tx0), too many outputs for a
		// consolidation or a peel step, and amounts no split has.
		return nil
	}
	if byNumbers && c.spend < pattern.MinSplitOutputs {
		// No output burned (no OP_RETURN: no Tx0) and too few outputs for
		// a split: only a consolidation or a peel step may fire, and both
		// are read from numbers, without the record.
		if x.nin >= pattern.MinConsolidationInputs && c.spend == 1 {
			d := e.conss.alloc()
			d.c = e.consolidationFromNumbers(w.n)
			d.ev = ConsolidationEvent{Consolidation: &d.c, TaintedInputs: n, TaintedSat: tin}
			e.event("consolidation", w.pos, e.tx.id(w.n), &d.ev)
		}
		if e.stepOuts == nil {
			// A Run: the step is built at finish, if it may be in a
			// chain (most are not). peelFromNumbers' shape test.
			if x.nin > 0 && x.nin <= pattern.DefaultPeelOptions().MaxInputs && c.spend == 2 {
				e.steps.add(peelCandidate{pos: w.pos, n: w.n})
			}
			return nil
		}
		p, ok := e.peelFromNumbers(w.n, c)
		if !ok {
			return nil
		}
		return e.peelStep(ctx, w.n, w.pos, p)
	}
	rec := e.tx.record(w.n)
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
	return e.peelStep(ctx, w.n, w.pos, p)
}

// maySplit reports whether tx n, read by number, passes
// pattern.MaySplit.
func (e *engine) maySplit(n int32) bool {
	x := e.tx.at(n)
	e.vals = e.vals[:0]
	for j := range x.nout {
		if v, b := e.tx.valueBurn(n, j); v > 0 && !b {
			e.vals = append(e.vals, v)
		}
	}
	slices.Sort(e.vals)
	return pattern.MaySplit(e.vals)
}

// consolidationFromNumbers is pattern.DetectConsolidation for tx n, read
// by number, which has at least MinConsolidationInputs inputs, every
// spent output known, no output burned and one output with value. The
// graph's address ids stand one for each address, so the distinct input
// addresses are the distinct ids.
func (e *engine) consolidationFromNumbers(n int32) pattern.Consolidation {
	x := e.tx.at(n)
	c := pattern.Consolidation{Inputs: x.nin}
	for j := range x.nout {
		if v, a, _, _, _ := e.tx.g.NumberedOutput(x.gnum, j); v > 0 {
			c.Vout, c.Address, c.AmountSat = uint32(j), e.tx.address(addrOfID(a)), v
		}
	}
	ids := e.ids[:0]
	for i := range x.nin {
		if a := e.tx.prevAddr(n, i); a >= 0 {
			ids = append(ids, a)
		}
	}
	slices.Sort(ids)
	c.InputAddresses = len(slices.Compact(ids))
	e.ids = ids
	return c
}

// peelFromNumbers is pattern.PeelCandidate for tx n, read by number, with
// every spent output known (it is not a coinbase) and no output burned; c
// counts its outputs.
func (e *engine) peelFromNumbers(n int32, c outCounts) (pattern.PeelTx, bool) {
	x := e.tx.at(n)
	if x.nin == 0 || x.nin > pattern.DefaultPeelOptions().MaxInputs || c.spend != 2 {
		return pattern.PeelTx{}, false
	}
	p := pattern.PeelTx{TxID: e.tx.id(n), Time: x.time, Inputs: x.nin}
	for i := range x.nin {
		v, ok := e.tx.prevout(n, i)
		if !ok {
			return pattern.PeelTx{}, false
		}
		p.InputValue += v
	}
	fee, known := e.tx.g.NumberedFee(x.gnum)
	p.Outputs = e.peelOuts.alloc()[:0]
	var out int64
	for j := range x.nout {
		v, _, _, sp, _ := e.tx.g.NumberedOutput(x.gnum, j)
		out += v
		if v == 0 {
			continue
		}
		// No Address: peel chains do not read it, and peelStep finds
		// an output fresh by the reader's address id.
		o := pattern.PeelOutput{Vout: uint32(j), Value: v}
		if sp != noNum {
			o.SpentBy, _, _, _, _, _ = e.tx.num.NumberedTx(sp)
		}
		p.Outputs = append(p.Outputs, o)
	}
	if !known {
		fee = p.InputValue - out // the record's, from its spent outputs
	}
	p.Fee = fee
	return p, true
}

// peelStep keeps p, the peel step's candidate of tx n at position at,
// with what the engine knows of its input and outputs (stepInfo).
func (e *engine) peelStep(ctx context.Context, n int32, at pos, p pattern.PeelTx) error {
	if err := e.stepInfo(ctx, n, at.height, &p); err != nil {
		return err
	}
	c := peelCandidate{pos: at, n: n}
	e.build(&c, p)
	e.stepped(e.steps.add(c))
	return nil
}

// stepInfo fills in p, the peel step's candidate of tx n at the given
// height, what the engine knows of its input and outputs: whether a
// service pays, the entities of the outputs and whether their addresses
// are fresh.
func (e *engine) stepInfo(ctx context.Context, n int32, height int64, p *pattern.PeelTx) error {
	// A service paying one customer per transaction from a big coin looks
	// like a peel chain (methods.md §5.4); the victim is such a service.
	ans, err := e.resolve(ctx, e.tx.prevAddr(n, 0))
	if err != nil {
		return err
	}
	p.Service = ans.ok && (e.stopsLab(ans.lab) || ans.ref.Category == "victim")
	numbered := e.tx.at(n).gnum != noNum && e.tx.g != nil
	for i := range p.Outputs {
		o := &p.Outputs[i]
		_, addr, _ := e.tx.output(n, int(o.Vout))
		ans, err := e.resolve(ctx, addr)
		if err != nil {
			return err
		}
		if ans.ok && e.stopsLab(ans.lab) {
			o.Entity, o.Category = ans.ref.Name, ans.ref.Category
		}
		if numbered {
			// The graph's address id (an id stands for a non-empty
			// address): no lookup by string.
			o.Fresh = addr >= 0 && addr < strAddr0 && e.tx.g.NumberedFirstHeight(uint32(addr)) == height
			continue
		}
		fresh, err := e.fresh(ctx, o.Address, height)
		if err != nil {
			return err
		}
		o.Fresh = fresh
	}
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

// peelChains links the visited peel steps into peel-chain events. The
// steps a Run kept by number are built here, only those that may be in a
// chain (chainable): a chain of MinLength steps lies in a set of as many
// candidates linked by spends, so a candidate in a smaller set is in no
// chain, and leaving it out changes nothing of the others (no spend links
// them to it).
func (e *engine) peelChains(ctx context.Context) error {
	if e.steps.len() == 0 {
		return nil
	}
	keep := e.chainable()
	txs := make([]pattern.PeelTx, 0, e.steps.len())
	var at []pos // the steps' positions, by index in txs
	for i := range e.steps.len() {
		c := e.steps.at(i)
		if keep != nil && !keep[i] {
			continue
		}
		if c.byNumber() {
			p, ok := e.peelFromNumbers(c.n, outCounts{spend: 2})
			if !ok { // patterns kept only what passes
				continue
			}
			if err := e.stepInfo(ctx, c.n, c.pos.height, &p); err != nil {
				return err
			}
			e.build(c, p)
		}
		txs = append(txs, *e.peelTx(c))
		at = append(at, c.pos)
	}
	chains := pattern.PeelChains(txs, pattern.DefaultPeelOptions())
	if len(chains) == 0 {
		return nil
	}
	// The heads' positions, from the steps (a map of the heads only: they
	// are few).
	heads := make(map[heistgraph.Hash]pos, len(chains))
	for _, c := range chains {
		heads[c.Head] = pos{}
	}
	for i := range txs {
		if _, ok := heads[txs[i].TxID]; ok {
			heads[txs[i].TxID] = at[i]
		}
	}
	for _, c := range chains {
		c := c
		e.event("peel_chain", heads[c.Head], c.Head, &c)
	}
	return nil
}

// chainable returns, by index in steps, whether a step may be in a peel
// chain: whether the candidates linked to it by spends (an output of one
// spent by another), directly or through others, are MinLength or more.
// nil: every step may (no step is kept by number, nothing to save).
func (e *engine) chainable() []bool {
	ns := e.steps.len()
	lazy := false
	for i := range ns {
		lazy = lazy || e.steps.at(i).byNumber()
	}
	if !lazy {
		return nil
	}
	// stepOf: tx number → step index + 1.
	stepOf := make([]int32, e.tx.len())
	for i := range ns {
		stepOf[e.steps.at(i).n] = int32(i + 1)
	}
	parent := make([]int32, ns)
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(i int32) int32 {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	link := func(i int, m int32) {
		if m < 0 || stepOf[m] == 0 {
			return
		}
		a, b := find(int32(i)), find(stepOf[m]-1)
		parent[a] = b
	}
	for i := range ns {
		c := e.steps.at(i)
		if !c.byNumber() {
			for _, o := range e.peelTx(c).Outputs {
				if !o.SpentBy.IsZero() {
					link(i, e.tx.numberOf(o.SpentBy))
				}
			}
			continue
		}
		x := e.tx.at(c.n)
		for j := range x.nout {
			if v, _, _, sp, _ := e.tx.g.NumberedOutput(x.gnum, j); v > 0 && sp != noNum {
				link(i, e.tx.numberOfGraph(sp))
			}
		}
	}
	size := make([]int32, ns)
	for i := range ns {
		size[find(int32(i))]++
	}
	keep := make([]bool, ns)
	minLen := int32(pattern.DefaultPeelOptions().MinLength)
	for i := range ns {
		keep[i] = size[find(int32(i))] >= minLen
	}
	return keep
}
