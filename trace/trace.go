package trace

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/store"
)

// Run traces opts.Seeds forward through the chain r holds and returns
// where the value went. It reads r only (transactions, outputs, address
// histories for address seeds) and calls opts.Resolver for the addresses
// tainted value reaches. The result is deterministic: the same store,
// options and resolver give the same result, except Stats.MS.
//
// Errors: bad options wrap heistgraph.ErrInvalid; a seed that names
// nothing in the store wraps heistgraph.ErrNotFound; store and resolver
// errors are returned wrapped; a cancelled ctx ends the trace with an
// error wrapping ctx.Err().
func Run(ctx context.Context, r store.ChainReader, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	e := newEngine(r, opts)
	if err := e.seed(ctx); err != nil {
		return nil, err
	}
	if err := e.run(ctx); err != nil {
		return nil, err
	}
	if err := e.finish(ctx); err != nil {
		return nil, err
	}
	e.res.Params.FollowLinks, e.res.Params.FollowHypotheses = opts.FollowLinks, opts.FollowHypotheses
	if cr, ok := r.(CrossReader); ok && opts.FollowLinks {
		a, err := acrossOfResult(ctx, cr, &opts, e.res)
		if err != nil {
			return nil, err
		}
		e.res.Across, e.res.Params.AcrossChains = a, true
	}
	e.res.Stats.MS = time.Since(start).Milliseconds()
	return e.res, nil
}

// engine is one trace in progress (methods.md §1.2).
type engine struct {
	r       store.ChainReader
	o       Options
	rule    spreader
	through spreader // nil: CoinJoins stop the trace
	lines   bool     // the policy works on spans (FIFO/LIFO)

	sources []string
	seedAmt []int64
	nseeds  []int
	fees    []int64

	queue   workQueue
	pending map[heistgraph.Hash]*work
	last    pos // position of the last transaction processed

	entities map[string]entityAnswer
	edges    map[[2]heistgraph.Hash]*Edge
	sinks    []Sink
	sinkAt   map[sinkKey]int
	events   []Event
	steps    []peelCandidate

	f   flow
	res *Result

	// Reused and slab-allocated per visit: the hot path allocates little.
	bySrc    []srcAmount
	works    slab[work]
	arrivals slab[arrival]
	edgeSlab slab[Edge]

	// Kept by a Tracer only (nil in Run): the tainted outputs at rest
	// unspent, the sinks a later block took away, and the undo journal
	// of the block being advanced (tracer.go).
	resting  map[heistgraph.Outpoint]restingOut
	gone     map[int]bool
	journal  *[]func()
	stepOuts map[heistgraph.Outpoint][2]int // output of a peel step → step, output index
}

type entityAnswer struct {
	ref heistgraph.EntityRef
	ok  bool
}

// work is a transaction the trace will process: its record, the taint
// arriving on its inputs, and seed claims on its outputs.
type work struct {
	rec    heistgraph.TxRecord
	pos    pos
	inputs []*arrival // by vin; nil for an untainted input
	claims []claim
	index  int // in the heap
}

// arrival is taint arriving on one input: the output it comes from.
type arrival struct {
	t    taint
	hop  int
	time int64 // block time of the output
	pos  pos   // position of the output's transaction
	out  heistgraph.TxOut
	lab  *heistgraph.EntityRef
}

// claim is a seed on one output of a transaction.
type claim struct {
	vout   uint32
	src    int32
	amount int64
}

type sinkKey struct {
	kind  SinkKind
	txid  heistgraph.Hash
	vout  uint32
	input bool
	src   int32
}

func newEngine(r store.ChainReader, o Options) *engine {
	e := &engine{
		r:        r,
		o:        o,
		rule:     spreaderFor(o.Policy),
		lines:    o.Policy == FIFO || o.Policy == LIFO,
		pending:  map[heistgraph.Hash]*work{},
		entities: map[string]entityAnswer{},
		edges:    map[[2]heistgraph.Hash]*Edge{},
		sinkAt:   map[sinkKey]int{},
		res: &Result{
			Chain:     o.Chain,
			Policy:    o.Policy,
			Conserved: o.Policy.Conserving() && (o.ThroughCoinJoin == "" || o.ThroughCoinJoin.Conserving()),
			seedTxs:   map[heistgraph.Hash]bool{},
			txPos:     map[heistgraph.Hash]pos{},
			Params: Params{MaxHops: o.MaxHops, MinAmount: o.MinAmount, MinShare: o.MinShare, Until: o.Until,
				Budget: o.Budget, ThroughCoinJoin: o.ThroughCoinJoin, Resolver: o.Resolver != nil},
		},
	}
	if o.ThroughCoinJoin != "" {
		e.through = spreaderFor(o.ThroughCoinJoin)
	}
	e.f.maxIntervals = o.MaxIntervals
	return e
}

// seedOutput is one output a seed names, before sources are ordered.
type seedOutput struct {
	op     heistgraph.Outpoint
	rec    *heistgraph.TxRecord
	amount int64
	source string
	order  int // position of the seed on the command line
}

// seed resolves the seeds to outputs, orders the sources (by the chain
// position of their first output, then name) and queues the claims.
func (e *engine) seed(ctx context.Context) error {
	recs := map[heistgraph.Hash]*heistgraph.TxRecord{}
	getTx := func(txid heistgraph.Hash, what string) (*heistgraph.TxRecord, error) {
		if rec, ok := recs[txid]; ok {
			return rec, nil
		}
		rec, err := e.r.Tx(ctx, e.o.Chain, txid)
		if err != nil {
			return nil, fmt.Errorf("trace: seed %s: %w", what, err)
		}
		recs[txid] = &rec
		return &rec, nil
	}
	var outs []seedOutput
	for i, s := range e.o.Seeds {
		e.res.Seeds = append(e.res.Seeds, s.String())
		src := s.Source
		if src == "" {
			src = "seed"
		}
		switch s.Kind {
		case SeedOutput:
			rec, err := getTx(s.Outpoint.TxID, s.String())
			if err != nil {
				return err
			}
			if int(s.Outpoint.Vout) >= len(rec.Tx.Outputs) {
				return fmt.Errorf("trace: seed %s: the transaction has %d outputs: %w", s, len(rec.Tx.Outputs), heistgraph.ErrNotFound)
			}
			v := rec.Tx.Outputs[s.Outpoint.Vout].Value
			if v == 0 {
				return fmt.Errorf("trace: seed %s: the output holds no value: %w", s, heistgraph.ErrInvalid)
			}
			if s.Amount > v {
				return fmt.Errorf("trace: seed %s: amount %d exceeds the output's value %d: %w", s, s.Amount, v, heistgraph.ErrInvalid)
			}
			amt := s.Amount
			if amt == 0 {
				amt = v
			}
			outs = append(outs, seedOutput{op: s.Outpoint, rec: rec, amount: amt, source: src, order: i})
		case SeedTx:
			rec, err := getTx(s.TxID, s.String())
			if err != nil {
				return err
			}
			for n, o := range rec.Tx.Outputs {
				if o.Value > 0 {
					outs = append(outs, seedOutput{op: heistgraph.Outpoint{TxID: s.TxID, Vout: uint32(n)}, rec: rec, amount: o.Value, source: src, order: i})
				}
			}
		case SeedAddress:
			until := s.Until
			if e.o.Until > 0 && (until == 0 || e.o.Until < until) {
				until = e.o.Until
			}
			found := false
			for ev, err := range e.r.AddressHistory(ctx, e.o.Chain, s.Address, store.HistoryOptions{}) {
				if err != nil {
					return fmt.Errorf("trace: seed %s: %w", s, err)
				}
				found = true
				if ev.Kind != heistgraph.Received || ev.Amount == 0 || ev.Block.Time < s.From || (until > 0 && ev.Block.Time > until) {
					continue
				}
				rec, err := getTx(ev.Outpoint.TxID, s.String())
				if err != nil {
					return err
				}
				outs = append(outs, seedOutput{op: ev.Outpoint, rec: rec, amount: ev.Amount, source: src, order: i})
			}
			if !found {
				return fmt.Errorf("trace: seed address %s: %w", s.Address, heistgraph.ErrNotFound)
			}
		}
	}
	if len(outs) == 0 {
		return fmt.Errorf("trace: the seeds name no output with value (in the time window): %w", heistgraph.ErrNotFound)
	}

	// Order sources by their first output's place in the chain, then name.
	first := map[string]pos{}
	var names []string
	for _, so := range outs {
		p := pos{so.rec.Block.Height, so.rec.Index}
		if q, ok := first[so.source]; !ok {
			first[so.source] = p
			names = append(names, so.source)
		} else if p.cmp(q) < 0 {
			first[so.source] = p
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := first[a].cmp(first[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	idx := map[string]int32{}
	for i, n := range names {
		idx[n] = int32(i)
	}
	e.sources = names
	e.seedAmt = make([]int64, len(names))
	e.nseeds = make([]int, len(names))
	e.fees = make([]int64, len(names))

	// Queue the claims in chain order; a source names each output once.
	slices.SortStableFunc(outs, func(a, b seedOutput) int {
		if c := (pos{a.rec.Block.Height, a.rec.Index}).cmp(pos{b.rec.Block.Height, b.rec.Index}); c != 0 {
			return c
		}
		if c := cmp.Compare(a.op.Vout, b.op.Vout); c != 0 {
			return c
		}
		if c := cmp.Compare(idx[a.source], idx[b.source]); c != 0 {
			return c
		}
		return cmp.Compare(a.order, b.order)
	})
	type once struct {
		op  heistgraph.Outpoint
		src int32
	}
	seen := map[once]bool{}
	for _, so := range outs {
		src := idx[so.source]
		if seen[once{so.op, src}] {
			continue
		}
		seen[once{so.op, src}] = true
		e.seedAmt[src] += so.amount
		e.nseeds[src]++
		e.res.SeedAmountSat += so.amount
		e.res.seedTxs[so.op.TxID] = true
		w := e.workFor(so.rec)
		w.claims = append(w.claims, claim{vout: so.op.Vout, src: src, amount: so.amount})
	}
	return nil
}

// workFor returns the pending work of rec's transaction, queueing it.
func (e *engine) workFor(rec *heistgraph.TxRecord) *work {
	if w, ok := e.pending[rec.Tx.TxID]; ok {
		return w
	}
	w := e.works.alloc()
	w.rec, w.pos = *rec, pos{rec.Block.Height, rec.Index}
	e.pending[rec.Tx.TxID] = w
	heap.Push(&e.queue, w)
	return w
}

// run processes the queue in chain order until it is empty or the budget
// is used up.
func (e *engine) run(ctx context.Context) error {
	for e.queue.Len() > 0 {
		if e.res.Stats.TxsVisited >= e.o.Budget {
			e.res.Stats.Budget = true
			return e.drain()
		}
		if e.res.Stats.TxsVisited%256 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("trace: %w", err)
			}
		}
		w := heap.Pop(&e.queue).(*work)
		delete(e.pending, w.rec.Tx.TxID)
		e.res.Stats.TxsVisited++
		e.last = w.pos
		e.setPos(w.rec.Tx.TxID, w.pos)
		if err := e.process(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

// drain turns everything still queued into hop_limit sinks (reason
// "budget"): taint on its way into a transaction stays at the output it
// left, seed claims at their outputs.
func (e *engine) drain() error {
	for e.queue.Len() > 0 {
		w := heap.Pop(&e.queue).(*work)
		delete(e.pending, w.rec.Tx.TxID)
		for vin, a := range w.inputs {
			if a == nil {
				continue
			}
			op := w.rec.Tx.Inputs[vin].PrevOut
			e.sinkOut(SinkHopLimit, op, a.out, a.t, a.hop, a.time, a.pos, a.lab, "budget")
		}
		for _, c := range w.claims {
			o := w.rec.Tx.Outputs[c.vout]
			t := taint{segs: []seg{{src: c.src, hi: c.amount}}}
			e.setPos(w.rec.Tx.TxID, w.pos)
			e.sinkOut(SinkHopLimit, heistgraph.Outpoint{TxID: w.rec.Tx.TxID, Vout: c.vout}, o, t, 0, w.rec.Block.Time, w.pos, nil, "budget")
		}
	}
	return nil
}

// process handles one transaction: its tainted inputs go through the
// policy (or stop at a CoinJoin or at missing data), seed claims join the
// outputs, and each tainted output is stopped or queued at its spender.
func (e *engine) process(ctx context.Context, w *work) error {
	rec := &w.rec
	tx := &rec.Tx
	nin, nout := len(tx.Inputs), len(tx.Outputs)
	tainted := false
	hop := -1
	for _, a := range w.inputs {
		if a != nil {
			tainted = true
			if hop < 0 || a.hop+1 < hop {
				hop = a.hop + 1
			}
		}
	}
	e.f.reset(nin, nout, len(e.sources)) // outputs start untainted
	if tainted {
		rule := e.rule
		var v, wsum int64
		known := !tx.IsCoinbase()
		for i := range nin {
			if i >= len(rec.Prevouts) || rec.Prevouts[i] == nil {
				known = false
				break
			}
			v += rec.Prevouts[i].Value
		}
		for _, o := range tx.Outputs {
			wsum += o.Value
		}
		cj, isCJ := CoinJoinEvent{}, false
		if known {
			cj, isCJ = detectCoinJoin(tx, rec.Prevouts)
		}
		switch {
		case !known || v < wsum:
			// Missing spent outputs: V is unknown (methods.md §1.8); or
			// the store's values do not add up.
			for vin, a := range w.inputs {
				if a != nil {
					e.sinkIn(SinkUntraced, w, vin, a, "", "", "")
				}
			}
		case isCJ && e.through == nil:
			for vin, a := range w.inputs {
				if a != nil {
					cj.TaintedSat += a.t.total()
					e.sinkIn(SinkEntity, w, vin, a, "coinjoin/"+cj.Subtype, "mixer", "")
				}
			}
			e.event("coinjoin", w.pos, tx.TxID, &cj)
		default:
			if isCJ {
				rule = e.through
				for _, a := range w.inputs {
					if a != nil {
						cj.TaintedSat += a.t.total()
					}
				}
				cj.Through = true
				e.event("coinjoin", w.pos, tx.TxID, &cj)
			}
			for i := range nin {
				e.f.in[i] = rec.Prevouts[i].Value
				if a := w.inputs[i]; a != nil {
					e.f.inT[i] = &a.t
				}
			}
			for j, o := range tx.Outputs {
				e.f.out[j] = o.Value
			}
			e.f.fee = v - wsum
			rule.spread(&e.f)
			via := isCJ
			for _, a := range w.inputs {
				via = via || (a != nil && a.t.viaCJ)
			}
			for j := range e.f.outT {
				e.f.outT[j].viaCJ = via
			}
			for s, x := range e.f.feeT {
				e.fees[s] += x
			}
			if !e.o.NoEvents && !isCJ {
				if err := e.patterns(ctx, w); err != nil {
					return err
				}
			}
		}
	}
	hops := make([]int, nout)
	for j := range hops {
		hops[j] = hop
	}
	for _, c := range w.claims {
		e.addClaim(w, c)
		hops[c.vout] = 0
	}
	for j := range nout {
		t := e.f.outT[j]
		if len(t.segs) == 0 {
			continue
		}
		if hops[j] > e.res.Stats.MaxHop {
			e.res.Stats.MaxHop = hops[j]
		}
		if err := e.forward(ctx, w, uint32(j), t, hops[j]); err != nil {
			return err
		}
	}
	return nil
}

// addClaim adds a seed claim to an output's taint. Value already tainted
// there (by propagation, which is older, or by an earlier claim) keeps its
// source; the part of the claim that finds no room is an overlap sink of
// the claim's source, so every source still conserves.
func (e *engine) addClaim(w *work, c claim) {
	t := &e.f.outT[c.vout]
	o := w.rec.Tx.Outputs[c.vout]
	var added int64
	if e.lines {
		// Add [0, amount) minus the spans already there.
		var out []seg
		var p int64
		for _, s := range t.segs {
			if s.lo > p && p < c.amount {
				hi := min(s.lo, c.amount)
				out = append(out, seg{src: c.src, lo: p, hi: hi})
				added += hi - p
			}
			out = append(out, s)
			p = max(p, s.hi)
		}
		if p < c.amount {
			out = append(out, seg{src: c.src, lo: p, hi: c.amount})
			added += c.amount - p
		}
		// Merge touching spans of one source.
		t.segs = t.segs[:0]
		for _, s := range out {
			t.segs = appendSpan(t.segs, s)
		}
	} else {
		room := o.Value - t.total()
		added = min(room, c.amount)
		if added > 0 {
			i := slices.IndexFunc(t.segs, func(s seg) bool { return s.src >= c.src })
			switch {
			case i < 0:
				t.segs = append(t.segs, seg{src: c.src, hi: added})
			case t.segs[i].src == c.src:
				t.segs[i].hi += added
			default:
				t.segs = slices.Insert(t.segs, i, seg{src: c.src, hi: added})
			}
		}
	}
	if over := c.amount - added; over > 0 {
		op := heistgraph.Outpoint{TxID: w.rec.Tx.TxID, Vout: c.vout}
		e.sinkOut(SinkOverlap, op, o, taint{segs: []seg{{src: c.src, hi: over}}}, 0, w.rec.Block.Time, w.pos, nil, "")
	}
}

// forward applies the stop rules to one tainted output (methods.md §1.9:
// entity, threshold, unspent, hop limit, untraced; burned first) and
// queues what passes at its spender. Seeds (hop 0) pass the entity and
// threshold stops: an analyst who seeds there means to follow it.
func (e *engine) forward(ctx context.Context, w *work, vout uint32, t taint, hop int) error {
	rec := &w.rec
	o := rec.Tx.Outputs[vout]
	op := heistgraph.Outpoint{TxID: rec.Tx.TxID, Vout: vout}
	at := rec.Block.Time
	ref, labelled, err := e.resolve(ctx, o.Address)
	if err != nil {
		return err
	}
	var lab *heistgraph.EntityRef
	if labelled {
		lab = &ref
	}
	if isBurn(o) {
		e.sinkOut(SinkBurned, op, o, t, hop, at, w.pos, lab, "")
		return nil
	}
	if hop > 0 && labelled && e.o.stops(ref.Category) {
		e.sinkOut(SinkEntity, op, o, t, hop, at, w.pos, lab, "")
		if kind, ok := pattern.EntryKind(ref.Category); ok {
			e.event(kind, w.pos, op.TxID, &Entry{Vout: vout, Address: o.Address, Entity: ref.Name,
				Category: ref.Category, AmountSat: t.total(), Hops: hop})
		}
		return nil
	}
	total := t.total()
	if hop > 0 && (total < e.o.MinAmount || (e.o.Policy == Haircut && e.o.MinShare > 0 && float64(total) < e.o.MinShare*float64(o.Value))) {
		e.sinkOut(SinkThreshold, op, o, t, hop, at, w.pos, lab, "")
		return nil
	}
	var spender *heistgraph.Inpoint
	if int(vout) < len(rec.SpentBy) {
		spender = rec.SpentBy[vout]
	}
	if spender == nil {
		e.sinkOut(SinkUnspent, op, o, t, hop, at, w.pos, lab, "")
		e.rest(op, w, t, hop)
		return nil
	}
	if hop >= e.o.MaxHops && e.o.Until == 0 {
		e.sinkOut(SinkHopLimit, op, o, t, hop, at, w.pos, lab, "")
		return nil
	}
	next, ok := e.pending[spender.TxID]
	if !ok {
		srec, err := e.r.Tx(ctx, e.o.Chain, spender.TxID)
		switch {
		case errors.Is(err, heistgraph.ErrNotFound):
			kind := SinkUntraced
			if hop >= e.o.MaxHops {
				kind = SinkHopLimit
			}
			e.sinkOut(kind, op, o, t, hop, at, w.pos, lab, "")
			return nil
		case err != nil:
			return fmt.Errorf("trace: spender of %s: %w", op, err)
		}
		if e.o.Until > 0 && srec.Block.Time > e.o.Until {
			e.sinkOut(SinkUnspent, op, o, t, hop, at, w.pos, lab, "until")
			return nil
		}
		if hop >= e.o.MaxHops {
			e.sinkOut(SinkHopLimit, op, o, t, hop, at, w.pos, lab, "")
			return nil
		}
		if p := (pos{srec.Block.Height, srec.Index}); p.cmp(e.last) <= 0 || int(spender.Vin) >= len(srec.Tx.Inputs) {
			// The store places the spender before its parent: data we
			// cannot follow.
			e.sinkOut(SinkUntraced, op, o, t, hop, at, w.pos, lab, "")
			return nil
		}
		next = e.workFor(&srec)
	} else {
		if e.o.Until > 0 && next.rec.Block.Time > e.o.Until {
			e.sinkOut(SinkUnspent, op, o, t, hop, at, w.pos, lab, "until")
			return nil
		}
		if hop >= e.o.MaxHops {
			e.sinkOut(SinkHopLimit, op, o, t, hop, at, w.pos, lab, "")
			return nil
		}
	}
	if next.inputs == nil {
		next.inputs = make([]*arrival, len(next.rec.Tx.Inputs))
	}
	a := e.arrivals.alloc()
	*a = arrival{t: t, hop: hop, time: at, pos: w.pos, out: o, lab: lab}
	next.inputs[spender.Vin] = a
	k := [2]heistgraph.Hash{rec.Tx.TxID, spender.TxID}
	ed, ok := e.edges[k]
	if !ok {
		ed = e.edgeSlab.alloc()
		*ed = Edge{From: k[0], To: k[1], fromPos: w.pos, toPos: next.pos}
		e.edges[k] = ed
		e.undo(func() { delete(e.edges, k) })
	} else {
		e.undo(func() { ed.AmountSat -= total; ed.Outputs-- })
	}
	ed.AmountSat += total
	ed.Outputs++
	return nil
}

// resolve returns the entity of addr through the resolver, cached.
func (e *engine) resolve(ctx context.Context, addr string) (heistgraph.EntityRef, bool, error) {
	if e.o.Resolver == nil || addr == "" {
		return heistgraph.EntityRef{}, false, nil
	}
	if a, ok := e.entities[addr]; ok {
		return a.ref, a.ok, nil
	}
	ref, ok, err := e.o.Resolver.Resolve(ctx, e.o.Chain, addr)
	if err != nil {
		return heistgraph.EntityRef{}, false, fmt.Errorf("trace: resolve %s: %w", addr, err)
	}
	e.entities[addr] = entityAnswer{ref, ok}
	return ref, ok, nil
}

// isBurn reports whether o is provably unspendable: OP_RETURN.
func isBurn(o heistgraph.TxOut) bool {
	return o.Type == heistgraph.ScriptNullData || (len(o.Script) > 0 && o.Script[0] == 0x6a)
}

// sinkOut records taint t at rest in output op, one sink per source.
func (e *engine) sinkOut(kind SinkKind, op heistgraph.Outpoint, o heistgraph.TxOut, t taint, hop int, at int64, p pos, lab *heistgraph.EntityRef, reason string) {
	e.bySrc = t.appendBySource(e.bySrc)
	for _, sa := range e.bySrc {
		s := Sink{Kind: kind, Address: o.Address, TxID: op.TxID, Vout: op.Vout, AmountSat: sa.amount, Hops: hop,
			Source: e.sources[sa.src], Reason: reason, Compacted: t.compacted, ViaCoinJoin: t.viaCJ, Time: at, pos: p, Spans: e.spans(t, sa.src)}
		if lab != nil {
			s.Entity, s.Category = lab.Name, lab.Category
		}
		e.addSink(s, sinkKey{kind, op.TxID, op.Vout, false, sa.src})
	}
	e.setPos(op.TxID, p)
}

// sinkIn records the taint arriving on input vin of w's transaction at
// rest there (a CoinJoin, or a spender the trace cannot value).
func (e *engine) sinkIn(kind SinkKind, w *work, vin int, a *arrival, entity, category, reason string) {
	prev := w.rec.Tx.Inputs[vin].PrevOut
	e.bySrc = a.t.appendBySource(e.bySrc)
	for _, sa := range e.bySrc {
		s := Sink{Kind: kind, Address: a.out.Address, TxID: w.rec.Tx.TxID, Vout: uint32(vin), Input: prev.String(),
			Entity: entity, Category: category, AmountSat: sa.amount, Hops: a.hop, Source: e.sources[sa.src],
			Reason: reason, Compacted: a.t.compacted, ViaCoinJoin: a.t.viaCJ, Time: w.rec.Block.Time, pos: w.pos, Spans: e.spans(a.t, sa.src)}
		e.addSink(s, sinkKey{kind, w.rec.Tx.TxID, uint32(vin), true, sa.src})
	}
}

// spans returns the spans of source src in t for the interval policies.
func (e *engine) spans(t taint, src int32) [][2]int64 {
	if !e.lines {
		return nil
	}
	var out [][2]int64
	for _, s := range t.segs {
		if s.src == src {
			out = append(out, [2]int64{s.lo, s.hi})
		}
	}
	return out
}

func (e *engine) addSink(s Sink, k sinkKey) {
	if i, ok := e.sinkAt[k]; ok {
		amt, n := e.sinks[i].AmountSat, len(e.sinks[i].Spans)
		e.undo(func() { e.sinks[i].AmountSat, e.sinks[i].Spans = amt, e.sinks[i].Spans[:n] })
		e.sinks[i].AmountSat += s.AmountSat
		e.sinks[i].Spans = append(e.sinks[i].Spans, s.Spans...)
		return
	}
	i := len(e.sinks)
	e.sinkAt[k] = i
	e.sinks = append(e.sinks, s)
	e.undo(func() { delete(e.sinkAt, k); e.sinks = e.sinks[:i] })
}

func (e *engine) event(kind string, p pos, txid heistgraph.Hash, detail any) {
	e.events = append(e.events, Event{Kind: kind, TxID: txid, Detail: detail, pos: p})
}

// finish detects peel chains, orders everything and checks conservation.
func (e *engine) finish(ctx context.Context) error {
	if err := e.peelChains(ctx); err != nil {
		return err
	}
	res := e.res
	res.Sinks = e.sinks
	if len(e.gone) > 0 {
		res.Sinks = make([]Sink, 0, len(e.sinks)-len(e.gone))
		for i, s := range e.sinks {
			if !e.gone[i] {
				res.Sinks = append(res.Sinks, s)
			}
		}
	}
	if res.Sinks == nil {
		res.Sinks = []Sink{}
	}
	slices.SortStableFunc(res.Sinks, func(a, b Sink) int {
		if c := a.pos.cmp(b.pos); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Vout, b.Vout); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return cmp.Compare(a.Source, b.Source)
	})
	res.Edges = make([]Edge, 0, len(e.edges))
	for _, ed := range e.edges {
		res.Edges = append(res.Edges, *ed)
	}
	slices.SortFunc(res.Edges, func(a, b Edge) int {
		if c := a.fromPos.cmp(b.fromPos); c != 0 {
			return c
		}
		return a.toPos.cmp(b.toPos)
	})
	res.Events = e.events
	if res.Events == nil {
		res.Events = []Event{}
	}
	slices.SortStableFunc(res.Events, func(a, b Event) int {
		if c := a.pos.cmp(b.pos); c != 0 {
			return c
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	sinks := make([]int64, len(e.sources))
	idx := map[string]int{}
	for i, s := range e.sources {
		idx[s] = i
	}
	for _, s := range res.Sinks {
		sinks[idx[s.Source]] += s.AmountSat
	}
	for i, name := range e.sources {
		res.FeesSat += e.fees[i]
		res.Sources = append(res.Sources, SourceTotal{Source: name, Seeds: e.nseeds[i], SeedAmountSat: e.seedAmt[i],
			SinksSat: sinks[i], FeesSat: e.fees[i]})
		if res.Conserved && sinks[i]+e.fees[i] != e.seedAmt[i] {
			return fmt.Errorf("trace: internal error: source %s not conserved: sinks %d + fees %d != seeds %d",
				name, sinks[i], e.fees[i], e.seedAmt[i])
		}
	}
	for _, k := range sinkKinds {
		kt := KindTotal{Kind: k}
		for _, s := range res.Sinks {
			if s.Kind == k {
				kt.Sinks++
				kt.AmountSat += s.AmountSat
			}
		}
		if kt.Sinks > 0 {
			res.Totals = append(res.Totals, kt)
		}
	}
	if res.Totals == nil {
		res.Totals = []KindTotal{}
	}
	return nil
}

// slab hands out zeroed values of T from blocks of 256: one allocation
// for many small objects (a block lives while any of its values does).
type slab[T any] struct{ buf []T }

func (s *slab[T]) alloc() *T {
	if len(s.buf) == cap(s.buf) {
		s.buf = make([]T, 0, 256)
	}
	s.buf = s.buf[:len(s.buf)+1]
	return &s.buf[len(s.buf)-1]
}

// workQueue is a min-heap of work by chain position.
type workQueue []*work

func (q workQueue) Len() int           { return len(q) }
func (q workQueue) Less(i, j int) bool { return q[i].pos.cmp(q[j].pos) < 0 }
func (q workQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *workQueue) Push(x any) {
	w := x.(*work)
	w.index = len(*q)
	*q = append(*q, w)
}
func (q *workQueue) Pop() any {
	old := *q
	n := len(old)
	w := old[n-1]
	old[n-1] = nil
	*q = old[:n-1]
	return w
}
