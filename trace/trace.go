package trace

import (
	"cmp"
	"context"
	"fmt"
	"math/bits"
	"slices"
	"time"
	"unsafe"

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
// error wrapping ctx.Err(); damage met in a transaction graph the reader
// reads (txgraph.Reader) wraps txgraph.ErrFormat.
func Run(ctx context.Context, r store.ChainReader, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	res, s, err := runScratch(ctx, r, opts, scratchPool.Get().(*scratch))
	if err != nil {
		return nil, err
	}
	scratchPool.Put(s)
	if err := across(ctx, r, &opts, res); err != nil {
		return nil, err
	}
	res.Stats.MS = time.Since(start).Milliseconds()
	return res, nil
}

// runScratch is Run's trace, without Across and Stats.MS, filling the
// memory of s (which it takes) before it allocates; it returns the memory
// for the next trace (a scratch only when it succeeds).
func runScratch(ctx context.Context, r store.ChainReader, opts Options, s *scratch) (*Result, *scratch, error) {
	e := newEngine(r, opts)
	e.useScratch(s)
	if err := e.seed(ctx); err != nil {
		return nil, nil, err
	}
	if err := e.run(ctx); err != nil {
		return nil, nil, err
	}
	if err := e.finish(ctx); err != nil {
		return nil, nil, err
	}
	if err := e.tx.graphErr(); err != nil {
		return nil, nil, err
	}
	return e.res, e.freeScratch(), nil
}

// across adds to res the trace beyond the links its bridge sinks crossed
// (Options.FollowLinks), when r holds links.
func across(ctx context.Context, r store.ChainReader, opts *Options, res *Result) error {
	res.Params.FollowLinks, res.Params.FollowHypotheses = opts.FollowLinks, opts.FollowHypotheses
	if cr, ok := r.(CrossReader); ok && opts.FollowLinks {
		a, err := acrossOfResult(ctx, cr, opts, res)
		if err != nil {
			return err
		}
		res.Across, res.Params.AcrossChains = a, true
	}
	return nil
}

// engine is one trace in progress (methods.md §1.2). It keys everything
// by the numbers its txTable gives the transactions and addresses it
// reads: the queue, the pending set, positions, edges, arrivals (by the
// input they arrive on) and sinks, which stay compact until finish
// writes the result.
type engine struct {
	r       store.ChainReader
	o       Options
	rule    spreader
	through spreader // nil: CoinJoins stop the trace
	lines   bool     // the policy works on spans (FIFO/LIFO)
	// minShare is Options.MinShare for haircut (the only policy it
	// stops), 0 for the others: forward's threshold without comparing
	// the policy's name per output.
	minShare float64

	sources []string
	seedAmt []int64
	nseeds  []int
	fees    []int64

	tx *txTable
	// The labs index of an address's entity, -1 for none: by the
	// reader's address id (ids), or by addrRef (addresses read as
	// strings).
	entities    denseIndex
	strEntities map[addrRef]int32
	screen      ResolverScreen // the resolver's, when it has the role and the reader numbers addresses
	byID        ResolverByID   // the screen's, when it has the role
	queue       workQueue
	// pending is, by tx number, the index + 1 of its work in works; 0:
	// not queued. It and the queue hold no pointers: the collector does
	// not walk them (pending is as long as the transactions the trace
	// read).
	pending []int32
	last    pos // position of the last transaction processed
	// onTake, when set (tests only), sees each work run takes from the
	// queue (a copy: a pointer would move works to the heap).
	onTake func(w work)

	// A Tracer finds sinks and edges again in later blocks, by their
	// keys (sinkAt, edges). Run adds each sink once (a place, kind and
	// source is sunk at most once: every transaction is processed once
	// and every output has one spender), and adds the edges from a
	// transaction while it processes it: it finds the edge to a spender
	// from the last edge into it (edgeTo, by tx number), with no map.
	edges  map[uint64]int32 // from<<32 | to → index in edgeBuf; Tracer only
	edgeTo []int32          // by tx number: the last edge into it + 1, 0 none; Run only
	// edgesFrom is the index in edgeBuf of the first edge added while
	// the transaction being processed is (Run: every edge from it).
	edgesFrom int
	edgeBuf   chunks[edge]
	sinks     chunks[sink]
	sinkAt    map[sinkKey]int // Tracer only
	// sinksUnordered is set when a Run adds a sink that comes before the
	// one it added last (lastSink, of tx lastSinkTx) in the result's
	// order (checkSinkOrder); kindRank and srcRank rank sink kinds and
	// sources as their names sort (sinkRanks).
	sinksUnordered bool
	// sinksOrdered is how many sinks a Run added before the first out of
	// order: sortSinks sorts only the rest and merges the two. The rest
	// is in order too until tailUnordered (a sink before the last
	// again): finish then merges the two as it reads them.
	sinksOrdered  int
	tailUnordered bool
	lastSink      sinkOrder
	lastSinkTx    int32
	kindRank      []uint8
	srcRank       []int32
	sunk          sinkCheck    // -tags invariants: Run's sinks so far (sinkcheck.go)
	spans         [][][2]int64 // FIFO/LIFO: the spans of sink i's spans index
	// labs are the entities the trace met, each name and category once
	// (nothing else of an EntityRef is kept: the result names entities
	// by them): an address's answer is an index here, and so is a sink's
	// entity.
	labs   []heistgraph.EntityRef
	labIdx map[entityName]int32 // labs index of a name and category
	// labStop is, by labs index, whether the entity stops the trace
	// (Options.stops, which folds the category's case): 0 not asked
	// yet, 1 no, 2 yes.
	labStop []uint8
	cjLabs  map[string]int32 // labs index of a CoinJoin subtype (cjLabel)
	events  []Event
	steps   chunks[peelCandidate]
	// peelTxs are the steps' PeelTxs that are built (peelCandidate.built).
	peelTxs  []pattern.PeelTx
	order    []sinkOrder // sortSinks' (scratch)
	orderTmp []sinkOrder // mergeTail's room (sortSinks)
	// edgeIDs is, by tx number, the index + 1 of its txid in the edge
	// table finish writes (edgeTableBuilder; scratch).
	edgeIDs []int32
	edgeOf  []int32 // edgeTableBuilder.of (scratch)

	f   flow
	res *Result

	// Reused and slab-allocated per visit: the hot path allocates little.
	bySrc    []srcAmount
	works    chunks[work]
	peelOuts slab[[2]pattern.PeelOutput] // the outputs of peel steps read by number
	conss    slab[consolidation]         // consolidation events' details
	// Arrivals and their segments hold no pointers and live in pages
	// that never move, so that the collector has nothing in them to scan
	// (the trace's taint in flight is most of what is live): a work's
	// inputs are indexes into arrivals, an arrival's segments a place in
	// segs.
	arrivals chunks[arrival]
	segs     segPool
	slots    []int32 // where works' inputs are cut from (inputSlots)
	inT      []taint // the taint of the inputs of the transaction processed
	vals     []int64
	ids      []addrRef
	hops     []int
	outs     []outInfo // the outputs of tx outsOf, read once for its visit
	outsOf   int32     // -1: none
	warmed   uint64    // what warmOutputs read (kept, so that its reads are made)

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
	lab int32 // index in engine.labs; -1 when not ok
}

// work is a transaction the trace will process: its number, the taint
// arriving on its inputs, and seed claims on its outputs.
type work struct {
	n      int32
	pos    pos
	inputs []int32 // by vin: index in engine.arrivals + 1; 0 for an untainted input
	claims []claim
}

// arrival is taint arriving on one input: the output it comes from. Its
// taint is segs, compacted and viaCJ (engine.taintOf): a taint of one
// segment (most: one source, or one span) is held in one, so that a
// visit reads it with the arrival; more are in engine.segs.
type arrival struct {
	one       seg    // the segment when segs.n is 1
	segs      segRef // in engine.segs when segs.n > 1
	hop       int32
	from      int32 // the output's transaction
	vout      uint32
	lab       int32 // the output's entity (engine.labs), -1 none
	compacted bool
	viaCJ     bool
}

// arrival returns the arrival on input vin of w, nil for none.
func (e *engine) arrival(w *work, vin int) *arrival {
	if k := w.inputs[vin]; k != 0 {
		return e.arrivals.at(int(k - 1))
	}
	return nil
}

// taintOf returns a's taint; its segments are the pool's (read them, or
// change them in place: they are a's alone).
func (e *engine) taintOf(a *arrival) taint {
	t := taint{compacted: a.compacted, viaCJ: a.viaCJ}
	if a.segs.n == 1 {
		// Arrivals live in pages that never move (chunks): the slice
		// stays valid as the pool's would.
		t.segs = unsafe.Slice(&a.one, 1)
	} else {
		t.segs = e.segs.get(a.segs)
	}
	return t
}

// newArrival returns an arrival of the taint t (its segments copied).
func (e *engine) newArrival(t *taint) arrival {
	if len(t.segs) == 1 {
		return arrival{one: t.segs[0], segs: segRef{n: 1}, compacted: t.compacted, viaCJ: t.viaCJ}
	}
	return arrival{segs: e.segs.put(t.segs), compacted: t.compacted, viaCJ: t.viaCJ}
}

// claim is a seed on one output of a transaction.
type claim struct {
	vout   uint32
	src    int32
	amount int64
}

// sink is a Sink as the engine keeps it until finish: numbers for the
// transaction, address and entity, indexes for kind and reason.
type sink struct {
	amount int64
	tx     int32 // TxID, Time and position come from it
	vout   uint32
	src    int32
	hops   int32
	addr   addrRef
	lab    int32 // -1: none
	spans  int32 // index in engine.spans, -1: none
	kind   uint8 // index in sinkKinds
	reason uint8 // index in sinkReasons
	input  bool
	compct bool
	via    bool
}

// sinkReasons are the values of Sink.Reason.
var sinkReasons = []string{"", "budget", "until"}

const (
	reasonNone uint8 = iota
	reasonBudget
	reasonUntil
)

type sinkKey struct {
	tx    int32
	vout  uint32
	src   int32
	kind  uint8
	input bool
}

// edge is an Edge as the engine keeps it until finish.
type edge struct {
	from, to int32
	amount   int64
	outputs  int
}

func newEngine(r store.ChainReader, o Options) *engine {
	e := &engine{
		r:           r,
		o:           o,
		rule:        spreaderFor(o.Policy),
		lines:       o.Policy == FIFO || o.Policy == LIFO,
		tx:          newTxTable(r, o.Chain),
		strEntities: map[addrRef]int32{},
		labIdx:      map[entityName]int32{},
		outsOf:      -1,
		res: &Result{
			Chain:     o.Chain,
			Policy:    o.Policy,
			Conserved: o.Policy.Conserving() && (o.ThroughCoinJoin == "" || o.ThroughCoinJoin.Conserving()),
			seedTxs:   map[heistgraph.Hash]bool{},
			Params: Params{MaxHops: o.MaxHops, MinAmount: o.MinAmount, MinShare: o.MinShare, Until: o.Until,
				Budget: o.Budget, ThroughCoinJoin: o.ThroughCoinJoin, Resolver: o.Resolver != nil},
		},
	}
	if o.ThroughCoinJoin != "" {
		e.through = spreaderFor(o.ThroughCoinJoin)
	}
	if sc, ok := o.Resolver.(ResolverScreen); ok && e.tx.num != nil {
		e.screen = sc
		e.byID, _ = sc.(ResolverByID)
	}
	e.f.maxIntervals = o.MaxIntervals
	if o.Policy == Haircut {
		e.minShare = o.MinShare
	}
	return e
}

// seedOutput is one output a seed names, before sources are ordered.
type seedOutput struct {
	op     heistgraph.Outpoint
	n      int32 // its transaction
	amount int64
	source string
	order  int // position of the seed on the command line
}

// seed resolves the seeds to outputs, orders the sources (by the chain
// position of their first output, then name) and queues the claims.
func (e *engine) seed(ctx context.Context) error {
	getTx := func(txid heistgraph.Hash, what string) (int32, error) {
		n, err := e.tx.byTxID(ctx, txid)
		if err != nil {
			return 0, fmt.Errorf("trace: seed %s: %w", what, err)
		}
		return n, nil
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
			n, err := getTx(s.Outpoint.TxID, s.String())
			if err != nil {
				return err
			}
			if nout := e.tx.at(n).nout; int(s.Outpoint.Vout) >= nout {
				return fmt.Errorf("trace: seed %s: the transaction has %d outputs: %w", s, nout, heistgraph.ErrNotFound)
			}
			v := e.tx.value(n, int(s.Outpoint.Vout))
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
			outs = append(outs, seedOutput{op: s.Outpoint, n: n, amount: amt, source: src, order: i})
		case SeedTx:
			n, err := getTx(s.TxID, s.String())
			if err != nil {
				return err
			}
			for j := range e.tx.at(n).nout {
				if v := e.tx.value(n, j); v > 0 {
					outs = append(outs, seedOutput{op: heistgraph.Outpoint{TxID: s.TxID, Vout: uint32(j)}, n: n, amount: v, source: src, order: i})
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
				n, err := getTx(ev.Outpoint.TxID, s.String())
				if err != nil {
					return err
				}
				outs = append(outs, seedOutput{op: ev.Outpoint, n: n, amount: ev.Amount, source: src, order: i})
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
		p := e.tx.at(so.n).pos
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
		if c := e.tx.at(a.n).pos.cmp(e.tx.at(b.n).pos); c != 0 {
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
		w := e.workFor(so.n)
		w.claims = append(w.claims, claim{vout: so.op.Vout, src: src, amount: so.amount})
	}
	return nil
}

// workFor returns the pending work of tx n, queueing it.
func (e *engine) workFor(n int32) *work {
	if int(n) < len(e.pending) {
		if k := e.pending[n]; k != 0 {
			return e.works.at(int(k - 1))
		}
	} else {
		e.pending = append(e.pending, make([]int32, int(n)+1-len(e.pending))...)
	}
	k := e.works.add(work{n: n, pos: e.tx.at(n).pos})
	e.pending[n] = int32(k + 1)
	w := e.works.at(k)
	e.queue.push(w.pos, int32(k))
	return w
}

// queued returns the pending work of tx n, or nil.
func (e *engine) queued(n int32) *work {
	if int(n) < len(e.pending) {
		if k := e.pending[n]; k != 0 {
			return e.works.at(int(k - 1))
		}
	}
	return nil
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
			if err := e.tx.graphErr(); err != nil {
				return err
			}
		}
		w := e.works.at(int(e.queue.pop(&e.works)))
		e.pending[w.n] = 0
		if e.onTake != nil {
			e.onTake(*w)
		}
		e.res.Stats.TxsVisited++
		e.last = w.pos
		e.setPos(w.n)
		e.edgesFrom = e.edgeBuf.len()
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
	if e.sinkAt == nil {
		e.drainRun()
		return nil
	}
	for e.queue.Len() > 0 {
		w := e.works.at(int(e.queue.pop(&e.works)))
		e.pending[w.n] = 0
		if e.onTake != nil {
			e.onTake(*w)
		}
		for vin := range w.inputs {
			a := e.arrival(w, vin)
			if a == nil {
				continue
			}
			_, addr, _ := e.tx.output(a.from, int(a.vout))
			e.sinkOut(kindHopLimit, a.from, a.vout, addr, e.taintOf(a), int(a.hop), a.lab, reasonBudget)
		}
		for _, c := range w.claims {
			_, addr, _ := e.tx.output(w.n, int(c.vout))
			t := taint{segs: []seg{{src: c.src, hi: c.amount}}}
			e.setPos(w.n)
			e.sinkOut(kindHopLimit, w.n, c.vout, addr, t, 0, -1, reasonBudget)
		}
	}
	return nil
}

// drainRun is a Run's drain, made in the order of the sinks it adds
// rather than the queue's: a Run adds its arrivals as it forwards
// outputs, visits in chain order and a visit's outputs in order, so the
// arrivals still queued, read in the order they were added, sink taint
// at their outputs in the result's order (finish then merges them with
// the sinks before, sortSinks, rather than sorting them), and read the
// arrivals, works and the graph's outputs in the order they lie, not at
// random. The works still queued are read in the order they were made
// (each once: onTake sees them so), the queue is emptied and every
// pending entry cleared, as taking them one by one leaves them.
func (e *engine) drainRun() {
	queued := make([]uint64, (e.arrivals.len()+63)/64) // arrivals on a work still queued
	for k := range e.works.len() {
		w := e.works.at(k)
		if e.pending[w.n] != int32(k+1) { // taken
			continue
		}
		if e.onTake != nil {
			e.onTake(*w)
		}
		for _, i := range w.inputs {
			if i != 0 {
				queued[(i-1)/64] |= 1 << ((i - 1) % 64)
			}
		}
	}
	for k := range e.arrivals.len() {
		if queued[k/64]&(1<<(k%64)) == 0 {
			continue
		}
		a := e.arrivals.at(k)
		_, addr, _ := e.tx.output(a.from, int(a.vout))
		e.sinkOut(kindHopLimit, a.from, a.vout, addr, e.taintOf(a), int(a.hop), a.lab, reasonBudget)
	}
	for k := range e.works.len() {
		w := e.works.at(k)
		if e.pending[w.n] != int32(k+1) {
			continue
		}
		e.pending[w.n] = 0
		for _, c := range w.claims {
			_, addr, _ := e.tx.output(w.n, int(c.vout))
			t := taint{segs: []seg{{src: c.src, hi: c.amount}}}
			e.setPos(w.n)
			e.sinkOut(kindHopLimit, w.n, c.vout, addr, t, 0, -1, reasonBudget)
		}
	}
	e.queue.reset()
}

// process handles one transaction: its tainted inputs go through the
// policy (or stop at a CoinJoin or at missing data), seed claims join the
// outputs, and each tainted output is stopped or queued at its spender.
func (e *engine) process(ctx context.Context, w *work) error {
	x := e.tx.at(w.n)
	nin, nout := x.nin, x.nout
	tainted := false
	hop := -1
	for vin := range w.inputs {
		if a := e.arrival(w, vin); a != nil {
			tainted = true
			if hop < 0 || int(a.hop)+1 < hop {
				hop = int(a.hop) + 1
			}
		}
	}
	e.f.reset(nin, nout, len(e.sources)) // outputs start untainted
	e.outsOf = -1
	if x.gnum != noNum {
		e.outs, e.outsOf = e.tx.numberedOutputs(w.n, e.outs), w.n
	}
	defer func() { e.outsOf = -1 }()
	if tainted {
		rule := e.rule
		var v, wsum int64
		var known bool
		v, known = e.tx.prevouts(w.n, e.f.in)
		e.vals = e.vals[:0]
		for j := range nout {
			if w.n == e.outsOf {
				e.f.out[j] = e.outs[j].value
			} else {
				e.f.out[j] = e.tx.value(w.n, j)
			}
			wsum += e.f.out[j]
		}
		cj, isCJ := CoinJoinEvent{}, false
		if known && e.mayCoinJoin(w.n) {
			cj, isCJ = e.tx.coinJoin(w.n)
		}
		switch {
		case !known || v < wsum:
			// Missing spent outputs: V is unknown (methods.md §1.8); or
			// the store's values do not add up.
			for vin := range w.inputs {
				if a := e.arrival(w, vin); a != nil {
					e.sinkIn(kindUntraced, w, vin, a, -1, reasonNone)
				}
			}
		case isCJ && e.through == nil:
			for vin := range w.inputs {
				if a := e.arrival(w, vin); a != nil {
					t := e.taintOf(a)
					cj.TaintedSat += t.total()
					e.sinkIn(kindEntity, w, vin, a, e.cjLabel(cj.Subtype), reasonNone)
				}
			}
			ev := cj // a copy: cj stays on the stack on the visits that are no CoinJoin
			e.event("coinjoin", w.pos, e.tx.id(w.n), &ev)
		default:
			if isCJ {
				rule = e.through
				for vin := range w.inputs {
					if a := e.arrival(w, vin); a != nil {
						t := e.taintOf(a)
						cj.TaintedSat += t.total()
					}
				}
				cj.Through = true
				ev := cj // a copy: cj stays on the stack on the visits that are no CoinJoin
				e.event("coinjoin", w.pos, e.tx.id(w.n), &ev)
			}
			e.inT = slices.Grow(e.inT[:0], nin)[:nin] // not moved below: f.inT points into it
			via := isCJ
			for i := range nin {
				if a := e.arrival(w, i); a != nil {
					e.inT[i] = e.taintOf(a)
					e.f.inT[i] = &e.inT[i]
					via = via || a.viaCJ
				}
			}
			e.f.fee = v - wsum
			rule.spread(&e.f)
			if via { // reset left every output's false
				for j := range e.f.outT {
					e.f.outT[j].viaCJ = true
				}
			}
			for s, x := range e.f.feeT {
				e.fees[s] += x
			}
			if !e.o.NoEvents && !isCJ {
				if c := e.countOutputs(w.n); c.mayPattern(nin) {
					if err := e.patterns(ctx, w, c); err != nil {
						return err
					}
				}
			}
		}
		e.tx.dropRecord(w.n)
	}
	// An output's hop is hop, and 0 where a seed claims it (hops, only
	// for a transaction with claims).
	var hops []int
	if len(w.claims) > 0 {
		hops = e.hops[:0]
		for range nout {
			hops = append(hops, hop)
		}
		e.hops = hops
		for _, c := range w.claims {
			e.addClaim(w, c)
			hops[c.vout] = 0
		}
	}
	if w.n == e.outsOf {
		e.warmOutputs()
	}
	for j := range nout {
		t := e.f.outT[j]
		if len(t.segs) == 0 {
			continue
		}
		h := hop
		if hops != nil {
			h = hops[j]
		}
		if h > e.res.Stats.MaxHop {
			e.res.Stats.MaxHop = h
		}
		total := int64(-1)
		if e.f.totKnown && hops == nil { // no seed claim changed it
			total = e.f.tot[j]
		}
		if err := e.forward(ctx, w.n, uint32(j), t, h, total); err != nil {
			return err
		}
	}
	return nil
}

// warmOutputs reads ahead what forward reads of each tainted output of
// the visit (e.outs): its address's entity and its spender's entry, or
// the spender's columns in the graph. Each is a read at random in a large
// table (a cache and TLB miss each on a large chain); read here in one
// short loop they overlap, where forward, long between one output and
// the next, takes them one after another.
func (e *engine) warmOutputs() {
	var s uint64
	for j := range e.f.outT {
		if len(e.f.outT[j].segs) == 0 {
			continue
		}
		o := &e.outs[j]
		if o.addr >= 0 && o.addr < strAddr0 {
			v, _ := e.entities.get(uint32(o.addr))
			s += uint64(v)
		}
		if o.sp != noNum {
			if m, ok := e.tx.byNum.get(o.sp); ok {
				s += uint64(e.tx.at(m).nin)
			} else {
				s += e.tx.g.Warm(o.sp)
			}
		}
	}
	e.warmed += s
}

// mayCoinJoin reports whether tx n may be a CoinJoin, from its counts and
// values only (pattern.MayCoinJoin), so that the record is built only for
// those that may.
func (e *engine) mayCoinJoin(n int32) bool {
	x := e.tx.at(n)
	if x.nin < 2 || x.nout < 3 {
		// Two outputs hold no value three times, nor three values
		// twice: pattern.MayCoinJoin says no, without the sort.
		return false
	}
	e.vals = append(e.vals[:0], e.f.out[:x.nout]...)
	slices.Sort(e.vals)
	return pattern.MayCoinJoin(x.nin, e.vals)
}

// outCounts counts a transaction's outputs as mayPattern and patterns
// see them: with value and not burned (spend), burned with value (burn),
// burned of any value (burnAny).
type outCounts struct{ spend, burn, burnAny int }

// countOutputs counts tx n's outputs.
func (e *engine) countOutputs(n int32) outCounts {
	x := e.tx.at(n)
	var c outCounts
	for j := range x.nout {
		var v int64
		var b bool
		if n == e.outsOf {
			v, b = e.outs[j].value, e.outs[j].burn
		} else {
			v, b = e.tx.valueBurn(n, j)
		}
		switch {
		case b:
			c.burnAny++
			if v > 0 {
				c.burn++
			}
		case v > 0:
			c.spend++
		}
	}
	return c
}

// mayPattern reports whether tx n may have the shape of one of the
// patterns detectors (a consolidation, a Whirlpool Tx0, a split, a peel
// step), from its counts and values only: each detector's first test,
// loosened where a count needs the script type (an output the trace
// counts as burned may or may not be OP_RETURN).
func (e *engine) mayPattern(n int32) bool { return e.countOutputs(n).mayPattern(e.tx.at(n).nin) }

// mayPattern is engine.mayPattern for a transaction of nin inputs whose
// outputs count c.
func (c outCounts) mayPattern(nin int) bool {
	between := func(k int) bool { return c.spend <= k && k <= c.spend+c.burn }
	return (nin >= pattern.MinConsolidationInputs && between(1)) ||
		c.burnAny >= 1 ||
		c.spend+c.burn >= pattern.MinSplitOutputs ||
		(nin <= pattern.DefaultPeelOptions().MaxInputs && between(2))
}

// addClaim adds a seed claim to an output's taint. Value already tainted
// there (by propagation, which is older, or by an earlier claim) keeps its
// source; the part of the claim that finds no room is an overlap sink of
// the claim's source, so every source still conserves.
func (e *engine) addClaim(w *work, c claim) {
	t := &e.f.outT[c.vout]
	value, addr, _ := e.tx.output(w.n, int(c.vout))
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
		room := value - t.total()
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
		e.sinkOut(kindOverlap, w.n, c.vout, addr, taint{segs: []seg{{src: c.src, hi: over}}}, 0, -1, reasonNone)
	}
}

// forward applies the stop rules to one tainted output, output vout of tx
// n (methods.md §1.9: entity, threshold, unspent, hop limit, untraced;
// burned first) and queues what passes at its spender. Seeds (hop 0) pass
// the entity and threshold stops: an analyst who seeds there means to
// follow it. total is t's total when the caller knows it (flow.tot), −1
// when not.
func (e *engine) forward(ctx context.Context, n int32, vout uint32, t taint, hop int, total int64) error {
	x := e.tx.at(n)
	var o outInfo
	if n == e.outsOf {
		o = e.outs[vout]
	} else {
		o = e.tx.outInfo(n, int(vout))
	}
	value, addr, burn := o.value, o.addr, o.burn
	lab := int32(-1)
	if e.o.Resolver != nil { // labOf's first test, without its call
		var err error
		if lab, err = e.labOf(ctx, addr); err != nil {
			return err
		}
	}
	if burn {
		e.sinkOut(kindBurned, n, vout, addr, t, hop, lab, reasonNone)
		return nil
	}
	if hop > 0 && lab >= 0 && e.stopsLab(lab) {
		e.sinkOut(kindEntity, n, vout, addr, t, hop, lab, reasonNone)
		ref := e.labs[lab]
		if kind, ok := pattern.EntryKind(ref.Category); ok {
			e.event(kind, x.pos, e.tx.id(n), &Entry{Vout: vout, Address: e.tx.address(addr), Entity: ref.Name,
				Category: ref.Category, AmountSat: t.total(), Hops: hop})
		}
		return nil
	}
	if total < 0 {
		total = t.total()
	}
	if hop > 0 && (total < e.o.MinAmount || (e.minShare > 0 && float64(total) < e.minShare*float64(value))) {
		e.sinkOut(kindThreshold, n, vout, addr, t, hop, lab, reasonNone)
		return nil
	}
	if !o.spent {
		e.sinkOut(kindUnspent, n, vout, addr, t, hop, lab, reasonNone)
		e.rest(n, vout, t, hop)
		return nil
	}
	if hop >= e.o.MaxHops && e.o.Until == 0 {
		e.sinkOut(kindHopLimit, n, vout, addr, t, hop, lab, reasonNone)
		return nil
	}
	next, vin, found, err := e.tx.spender(ctx, n, int(vout), &o)
	switch {
	case err != nil:
		return fmt.Errorf("trace: spender of %s: %w", heistgraph.Outpoint{TxID: e.tx.id(n), Vout: vout}, err)
	case !found:
		kind := kindUntraced
		if hop >= e.o.MaxHops {
			kind = kindHopLimit
		}
		e.sinkOut(kind, n, vout, addr, t, hop, lab, reasonNone)
		return nil
	}
	y := e.tx.at(next)
	if e.o.Until > 0 && y.time > e.o.Until {
		e.sinkOut(kindUnspent, n, vout, addr, t, hop, lab, reasonUntil)
		return nil
	}
	if hop >= e.o.MaxHops {
		e.sinkOut(kindHopLimit, n, vout, addr, t, hop, lab, reasonNone)
		return nil
	}
	w := e.queued(next)
	if w == nil {
		if y.pos.cmp(e.last) <= 0 || int(vin) >= y.nin {
			// The store places the spender before its parent: data we
			// cannot follow.
			e.sinkOut(kindUntraced, n, vout, addr, t, hop, lab, reasonNone)
			return nil
		}
		w = e.workFor(next)
	}
	if w.inputs == nil {
		w.inputs = e.inputSlots(y.nin)
	}
	a := e.newArrival(&t)
	a.hop, a.from, a.vout, a.lab = int32(hop), n, vout, lab
	k := e.arrivals.add(a)
	w.inputs[vin] = int32(k + 1)
	i, ok := e.edgeFrom(n, next)
	if !ok {
		i = int32(e.edgeBuf.add(edge{from: n, to: next}))
		if e.edges == nil {
			e.edgeTo[next] = i + 1
		} else {
			k := uint64(uint32(n))<<32 | uint64(uint32(next))
			e.edges[k] = i
			if e.journal != nil { // a closure made outside the test is allocated, journal or not
				i := i
				e.undo(func() { delete(e.edges, k); *e.edgeBuf.at(int(i)) = edge{} })
			}
		}
	} else if e.journal != nil {
		i := i
		e.undo(func() { ed := e.edgeBuf.at(int(i)); ed.amount -= total; ed.outputs-- })
	}
	ed := e.edgeBuf.at(int(i))
	ed.amount += total
	ed.outputs++
	return nil
}

// inputSlots returns n empty arrival slots, cut from a block shared by
// many works (one allocation for many visits).
func (e *engine) inputSlots(n int) []int32 {
	if len(e.slots)+n > cap(e.slots) {
		e.slots = make([]int32, 0, max(1024, n))
	}
	k := len(e.slots)
	e.slots = e.slots[:k+n]
	return e.slots[k : k+n : k+n]
}

// edgeFrom returns the index in edgeBuf of the edge from tx n to tx next;
// false when there is none yet.
func (e *engine) edgeFrom(n, next int32) (int32, bool) {
	if e.edges != nil {
		i, ok := e.edges[uint64(uint32(n))<<32|uint64(uint32(next))]
		return i, ok
	}
	if int(next) >= len(e.edgeTo) {
		e.edgeTo = append(e.edgeTo, make([]int32, e.tx.len()+1-len(e.edgeTo))...)
	}
	// Run adds the edges from n while it processes n: the last edge into
	// next is from n if any is, and then it was added during this visit
	// (at edgesFrom or after: an edge before is read no more, a random
	// read). An entry a trace before this one left (scratch) names no
	// edge of this one, or one of a different pair, until this one sets
	// it; so does one of this trace that a later edge into next replaced.
	if i := e.edgeTo[next] - 1; int(i) >= e.edgesFrom && int(i) < e.edgeBuf.len() {
		if ed := e.edgeBuf.at(int(i)); ed.from == n && ed.to == next {
			return i, true
		}
	}
	return 0, false
}

// labOf returns the labs index of address a's entity, -1 for none
// (resolve's lab): an answer already asked is read without resolve's
// call.
func (e *engine) labOf(ctx context.Context, a addrRef) (int32, error) {
	if e.o.Resolver == nil || a < 0 {
		return -1, nil
	}
	if lab, ok := e.entityOf(a); ok {
		return lab, nil
	}
	return e.ask(ctx, a)
}

// resolve returns the entity of address a through the resolver, asked
// once per address.
func (e *engine) resolve(ctx context.Context, a addrRef) (entityAnswer, error) {
	lab, err := e.labOf(ctx, a)
	if err != nil || lab < 0 {
		return entityAnswer{lab: -1}, err
	}
	return entityAnswer{ref: e.labs[lab], ok: true, lab: lab}, nil
}

// ask asks the resolver (its screen first) for address a's entity, not
// asked yet, keeps the answer and returns it as labOf does.
func (e *engine) ask(ctx context.Context, a addrRef) (int32, error) {
	if e.screen != nil && a < strAddr0 && !e.screen.MayResolve(e.o.Chain, uint32(a)) {
		e.entities.set(uint32(a), -1)
		return -1, nil
	}
	addr := e.tx.address(a)
	var ref heistgraph.EntityRef
	var ok bool
	var err error
	if e.byID != nil && a < strAddr0 {
		ref, ok, err = e.byID.ResolveID(ctx, e.o.Chain, uint32(a), addr)
	} else {
		ref, ok, err = e.o.Resolver.Resolve(ctx, e.o.Chain, addr)
	}
	if err != nil {
		return -1, fmt.Errorf("trace: resolve %s: %w", addr, err)
	}
	lab := int32(-1)
	if ok {
		lab = e.label(ref.Name, ref.Category)
	}
	if a < strAddr0 {
		e.entities.set(uint32(a), lab)
	} else {
		e.strEntities[a] = lab
	}
	return lab, nil
}

// entityOf returns the labs index of address a's entity (-1 for none);
// false when the resolver was not asked yet.
func (e *engine) entityOf(a addrRef) (int32, bool) {
	if a < strAddr0 {
		return e.entities.get(uint32(a))
	}
	lab, ok := e.strEntities[a]
	return lab, ok
}

// stopsLab reports whether the entity labs[lab] stops the trace
// (Options.stops), asking the options once per entity.
func (e *engine) stopsLab(lab int32) bool {
	if int(lab) >= len(e.labStop) {
		e.labStop = append(e.labStop, make([]uint8, len(e.labs)-len(e.labStop))...)
	}
	if v := e.labStop[lab]; v != 0 {
		return v == 2
	}
	stop := e.o.stops(e.labs[lab].Category)
	e.labStop[lab] = 1
	if stop {
		e.labStop[lab] = 2
	}
	return stop
}

// entityName is an entity as the result names it.
type entityName struct{ name, category string }

// label returns the labs index of the entity of that name and category,
// adding it the first time.
func (e *engine) label(name, category string) int32 {
	k := entityName{name, category}
	if i, ok := e.labIdx[k]; ok {
		return i
	}
	i := int32(len(e.labs))
	e.labs = append(e.labs, heistgraph.EntityRef{Name: name, Category: category})
	e.labIdx[k] = i
	return i
}

// cjLabel returns the labs index of a CoinJoin of subtype sub, its
// name made once.
func (e *engine) cjLabel(sub string) int32 {
	if i, ok := e.cjLabs[sub]; ok {
		return i
	}
	if e.cjLabs == nil {
		e.cjLabs = map[string]int32{}
	}
	i := e.label("coinjoin/"+sub, "mixer")
	e.cjLabs[sub] = i
	return i
}

// isBurn reports whether o is provably unspendable: OP_RETURN.
func isBurn(o heistgraph.TxOut) bool {
	return o.Type == heistgraph.ScriptNullData || (len(o.Script) > 0 && o.Script[0] == 0x6a)
}

// sinkOut records taint t at rest in output vout of tx n (address addr),
// one sink per source; kind is an index in sinkKinds.
func (e *engine) sinkOut(kind uint8, n int32, vout uint32, addr addrRef, t taint, hop int, lab int32, reason uint8) {
	s := sink{kind: kind, tx: n, vout: vout, addr: addr, hops: int32(hop), reason: reason, compct: t.compacted,
		via: t.viaCJ, lab: lab, spans: -1}
	e.addSinks(&s, &t)
	e.setPos(n)
}

// sinkIn records the taint arriving on input vin of w's transaction at
// rest there (a CoinJoin, or a spender the trace cannot value).
func (e *engine) sinkIn(kind uint8, w *work, vin int, a *arrival, lab int32, reason uint8) {
	_, addr, _ := e.tx.output(a.from, int(a.vout))
	t := e.taintOf(a)
	s := sink{kind: kind, tx: w.n, vout: uint32(vin), input: true, addr: addr, lab: lab, hops: a.hop,
		reason: reason, compct: t.compacted, via: t.viaCJ, spans: -1}
	e.addSinks(&s, &t)
}

// addSinks adds s once for each source of t with its amount of it
// (taint.appendBySource): s's source and amount are set for each.
func (e *engine) addSinks(s *sink, t *taint) {
	if len(t.segs) == 1 { // most: one source, or one span
		s.src, s.amount = t.segs[0].src, t.segs[0].hi-t.segs[0].lo
		e.addSink(s, t)
		return
	}
	e.bySrc = t.appendBySource(e.bySrc)
	for _, sa := range e.bySrc {
		s.src, s.amount = sa.src, sa.amount
		e.addSink(s, t)
	}
}

// appendSpans appends the spans of source src in t to out (interval
// policies only).
func appendSpans(out [][2]int64, t *taint, src int32) [][2]int64 {
	for _, s := range t.segs {
		if s.src == src {
			out = append(out, [2]int64{s.lo, s.hi})
		}
	}
	return out
}

// addSink adds s (a copy), with its source's spans of t, or adds it to
// the sink of the same place, kind and source.
func (e *engine) addSink(s *sink, t *taint) {
	if e.sinkAt == nil {
		// Run: each place, kind and source is sunk once (engine.sinkAt).
		e.sunk.add(*s)
		e.checkSinkOrder(s)
		if e.lines {
			s.spans = int32(len(e.spans))
			e.spans = append(e.spans, appendSpans(nil, t, s.src))
		}
		e.sinks.add(*s)
		return
	}
	k := sinkKey{tx: s.tx, vout: s.vout, src: s.src, kind: s.kind, input: s.input}
	if i, ok := e.sinkAt[k]; ok {
		si := e.sinks.at(i)
		amt := si.amount
		si.amount += s.amount
		if sp := si.spans; sp >= 0 {
			n := len(e.spans[sp])
			e.spans[sp] = appendSpans(e.spans[sp], t, s.src)
			if e.journal != nil {
				e.undo(func() { e.sinks.at(i).amount, e.spans[sp] = amt, e.spans[sp][:n] })
			}
		} else if e.journal != nil {
			e.undo(func() { e.sinks.at(i).amount = amt })
		}
		return
	}
	if e.lines {
		s.spans = int32(len(e.spans))
		e.spans = append(e.spans, appendSpans(nil, t, s.src))
	}
	i := e.sinks.add(*s)
	e.sinkAt[k] = i
	if e.journal != nil {
		e.undo(func() { delete(e.sinkAt, k); e.sinks.truncate(i) })
	}
}

func (e *engine) event(kind string, p pos, txid heistgraph.Hash, detail any) {
	e.events = appendDoubling(e.events, Event{Kind: kind, TxID: txid, Detail: detail, pos: p})
}

// sinkOrder is a sink's place in Result.Sinks as sortSinks orders them:
// its transaction's position, output index, kind and source (ranked as
// their names sort), then the order the engine added it in.
type sinkOrder struct {
	pos  pos
	vout uint32
	kind uint8
	src  int32
	i    int32 // index in engine.sinks
}

// sortSinks returns the engine's sinks that are not gone in the order of
// Result.Sinks: by position, output index, kind name and source name,
// ties in the order they were added (what a stable sort of the written
// sinks gives), sorting compact records rather than Sinks.
func (e *engine) sortSinks() []sinkOrder {
	kindRank, srcRank := e.sinkRanks()
	order := slices.Grow(e.order[:0], e.sinks.len()-len(e.gone))
	lastTx, at := int32(-1), pos{}
	for i := range e.sinks.len() {
		if len(e.gone) > 0 && e.gone[i] {
			continue
		}
		s := e.sinks.at(i)
		if s.tx != lastTx { // a visit adds its sinks together: one read a run
			lastTx, at = s.tx, e.tx.at(s.tx).pos
		}
		order = append(order, sinkOrder{pos: at, vout: s.vout, kind: kindRank[s.kind], src: srcRank[s.src], i: int32(i)})
	}
	ordered := 0
	if e.sinkAt == nil && len(e.gone) == 0 {
		ordered = e.sinksOrdered // a Run's: order's indexes are the sinks'
	}
	slices.SortFunc(order[ordered:], sinkOrder.cmp)
	e.orderTmp = mergeTail(order, ordered, e.orderTmp)
	e.order = order
	return order
}

// mergeSinks calls add with each sink of a Run whose sinks before
// sinksOrdered and from there on are each in the result's order, in that
// order: a merge of the two, comparing as sortSinks does.
func (e *engine) mergeSinks(add func(*sink)) {
	at := func(i int) sinkOrder {
		s := e.sinks.at(i)
		return sinkOrder{pos: e.tx.at(s.tx).pos, vout: s.vout, kind: e.kindRank[s.kind], src: e.srcRank[s.src], i: int32(i)}
	}
	i, j, n := 0, e.sinksOrdered, e.sinks.len()
	a, b := at(i), at(j)
	for i < e.sinksOrdered || j < n {
		if j == n || i < e.sinksOrdered && a.cmp(b) < 0 {
			add(e.sinks.at(i))
			if i++; i < e.sinksOrdered {
				a = at(i)
			}
		} else {
			add(e.sinks.at(j))
			if j++; j < n {
				b = at(j)
			}
		}
	}
}

// mergeTail merges order[:k] and order[k:], each sorted (sinkOrder.cmp,
// which no two of them tie on), into order, with tmp as room for the
// tail; it returns tmp, grown, for the next call. A Run adds its sinks in
// the result's order but for a tail (the budget's end sinks the taint
// still queued at the outputs it left, at earlier transactions): one
// sort of the tail and a merge cost a pass, where a sort of the whole
// compares every sink again.
func mergeTail(order []sinkOrder, k int, tmp []sinkOrder) []sinkOrder {
	if k == 0 || k == len(order) || order[k-1].cmp(order[k]) < 0 {
		return tmp
	}
	tmp = append(tmp[:0], order[k:]...)
	i, j := k-1, len(tmp)-1
	for w := len(order) - 1; j >= 0; w-- {
		if i >= 0 && order[i].cmp(tmp[j]) > 0 {
			order[w] = order[i]
			i--
		} else {
			order[w] = tmp[j]
			j--
		}
	}
	return tmp
}

// sinkRanks returns the rank of each sink kind and of each source as
// their names sort.
func (e *engine) sinkRanks() (kindRank []uint8, srcRank []int32) {
	kindRank = make([]uint8, len(sinkKinds))
	byName := slices.Clone(sinkKinds)
	slices.Sort(byName)
	for i, k := range sinkKinds {
		kindRank[i] = uint8(slices.Index(byName, k))
	}
	srcRank = make([]int32, len(e.sources))
	names := make([]int32, len(e.sources))
	for i := range names {
		names[i] = int32(i)
	}
	slices.SortFunc(names, func(a, b int32) int { return cmp.Compare(e.sources[a], e.sources[b]) })
	for r, i := range names {
		srcRank[i] = int32(r)
	}
	return kindRank, srcRank
}

// checkSinkOrder notes whether s, the next sink a Run adds, comes after
// the one before in the result's order (sinkOrder.cmp), comparing it
// while both are at hand rather than in a pass over all the sinks at
// finish. A Run adds its sinks in that order (a visit's outputs in
// order, visits in chain order) but where it sinks taint at an earlier
// transaction (at its inputs, or at the end of the budget) and where a
// transaction's sources' names sort otherwise than the sources.
func (e *engine) checkSinkOrder(s *sink) {
	if e.tailUnordered {
		return
	}
	if e.srcRank == nil {
		e.kindRank, e.srcRank = e.sinkRanks()
	}
	last := &e.lastSink
	kind, src := e.kindRank[s.kind], e.srcRank[s.src]
	if s.tx == e.lastSinkTx && e.sinks.len() > 0 {
		// The same transaction, the same position: the rest decides (a
		// later sink's index is larger, so equal fields are in order).
		if c := cmp.Compare(last.vout, s.vout); c > 0 ||
			c == 0 && (last.kind > kind || last.kind == kind && last.src > src) {
			e.sinkOutOfOrder()
		}
		last.vout, last.kind, last.src = s.vout, kind, src
		return
	}
	o := sinkOrder{pos: e.tx.at(s.tx).pos, vout: s.vout, kind: kind, src: src, i: int32(e.sinks.len())}
	if o.i > 0 && last.cmp(o) > 0 {
		e.sinkOutOfOrder()
	}
	e.lastSinkTx, *last = s.tx, o
}

// sinkOutOfOrder notes that the sink a Run adds next comes before the one
// it added last: the first time, the sinks before it are in order
// (sinksOrdered); the second, so are not those after.
func (e *engine) sinkOutOfOrder() {
	if e.sinksUnordered {
		e.tailUnordered = true
		return
	}
	e.sinksUnordered, e.sinksOrdered = true, e.sinks.len()
}

// cmp orders sinks as Result.Sinks does. It returns at the first field
// that differs (cmp.Or would compare every field every time): the sort
// calls it about twice a sink.
func (a sinkOrder) cmp(b sinkOrder) int {
	if c := a.pos.cmp(b.pos); c != 0 {
		return c
	}
	switch {
	case a.vout != b.vout:
		return cmp.Compare(a.vout, b.vout)
	case a.kind != b.kind:
		return cmp.Compare(a.kind, b.kind)
	case a.src != b.src:
		return cmp.Compare(a.src, b.src)
	}
	return cmp.Compare(a.i, b.i)
}

// edgeOrder is an edge's place in Result.Edges: the positions of its
// ends.
type edgeOrder struct {
	from, to pos
	i        int32 // index in engine.edgeBuf
}

func (a edgeOrder) cmp(b edgeOrder) int {
	if c := a.from.cmp(b.from); c != 0 {
		return c
	}
	return a.to.cmp(b.to)
}

// sortEdges sorts eo by from, then to (pairs are distinct). Run adds a
// transaction's edges while it processes it, in chain order, so eo comes
// sorted by from: then only each run of one from is sorted.
func sortEdges(eo []edgeOrder) {
	if !slices.IsSortedFunc(eo, func(a, b edgeOrder) int { return a.from.cmp(b.from) }) {
		slices.SortFunc(eo, edgeOrder.cmp)
		return
	}
	for i := 0; i < len(eo); {
		j := i + 1
		for j < len(eo) && eo[j].from == eo[i].from {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(eo[i:j], edgeOrder.cmp)
		}
		i = j
	}
}

// writeEdges returns the engine's edges as Result.Edges orders them.
func (e *engine) writeEdges() EdgeList {
	if out, ok := e.writeRunEdges(); ok {
		return out
	}
	eo := make([]edgeOrder, 0, e.edgeBuf.len())
	for i := range e.edgeBuf.len() {
		// An edge a Tracer's undo took away is zero: every edge carries
		// an output.
		if ed := e.edgeBuf.at(i); ed.outputs > 0 {
			eo = append(eo, edgeOrder{from: e.tx.at(ed.from).pos, to: e.tx.at(ed.to).pos, i: int32(i)})
		}
	}
	sortEdges(eo)
	b := newEdgeTableBuilder(e, len(eo))
	for _, o := range eo {
		b.add(e.edgeBuf.at(int(o.i)))
	}
	return b.list()
}

// writeRunEdges is writeEdges for Run, which adds the edges from a
// transaction together while it processes it, the transactions in chain
// order: edgeBuf is then runs of one from, in the order of their from,
// and only a run of several edges is sorted (by the position of their
// to), reading a transaction's position only there. False when edgeBuf
// is not so (a Tracer's).
func (e *engine) writeRunEdges() (EdgeList, bool) {
	n := e.edgeBuf.len()
	if e.edges != nil {
		return EdgeList{}, false
	}
	b := newEdgeTableBuilder(e, n)
	var run []edgeOrder
	var last pos
	for i := 0; i < n; {
		from := e.edgeBuf.at(i).from
		j := i + 1
		for j < n && e.edgeBuf.at(j).from == from {
			j++
		}
		x := e.tx.at(from)
		if i > 0 && x.pos.cmp(last) <= 0 {
			return EdgeList{}, false
		}
		last = x.pos
		run = run[:0]
		for k := i; k < j; k++ {
			o := edgeOrder{i: int32(k)}
			if j-i > 1 {
				o.to = e.tx.at(e.edgeBuf.at(k).to).pos
			}
			run = append(run, o)
		}
		sortTo(run)
		for _, o := range run {
			ed := e.edgeBuf.at(int(o.i))
			if ed.outputs == 0 {
				return EdgeList{}, false
			}
			b.add(ed)
		}
		i = j
	}
	return b.list(), true
}

// sortTo sorts a run of edges from one transaction by the position of
// their spenders: a run of a few (most) by insertion, comparing
// positions directly rather than through the sort's function value.
func sortTo(run []edgeOrder) {
	if len(run) > 12 {
		slices.SortFunc(run, func(a, b edgeOrder) int { return a.to.cmp(b.to) })
		return
	}
	for i := 1; i < len(run); i++ {
		for j := i; j > 0 && run[j].to.cmp(run[j-1].to) < 0; j-- {
			run[j], run[j-1] = run[j-1], run[j]
		}
	}
}

// finish detects peel chains, orders everything and checks conservation.
func (e *engine) finish(ctx context.Context) error {
	if err := e.peelChains(ctx); err != nil {
		return err
	}
	res := e.res
	sinks := make([]int64, len(e.sources))
	kinds := make([]KindTotal, len(sinkKinds))
	var tb *sinkTableBuilder
	add := func(s *sink) {
		tb.add(s)
		sinks[s.src] += s.amount
		kinds[s.kind].Sinks++
		kinds[s.kind].AmountSat += s.amount
	}
	if !e.sinksUnordered && e.sinkAt == nil && len(e.gone) == 0 {
		// A Run that added its sinks in the result's order (addSink):
		// read as they are, without writing, sorting and reading an
		// order of them (three passes over a list as long as the result).
		tb = newSinkTableBuilder(e, e.sinks.len())
		for i := range e.sinks.len() {
			add(e.sinks.at(i))
		}
	} else if !e.tailUnordered && e.sinkAt == nil && len(e.gone) == 0 {
		// A Run whose sinks are two runs in the result's order (those
		// the budget's end adds, drainRun, after those before): merged
		// as they are read.
		tb = newSinkTableBuilder(e, e.sinks.len())
		e.mergeSinks(add)
	} else {
		order := e.sortSinks()
		tb = newSinkTableBuilder(e, len(order))
		for _, o := range order {
			add(e.sinks.at(int(o.i)))
		}
	}
	res.Sinks = SinkList{tab: tb.t}
	res.Edges = e.writeEdges()
	res.places = make([]txPlace, 0, e.tx.len())
	for i := range e.tx.len() {
		if x := e.tx.at(int32(i)); x.placed {
			res.places = append(res.places, txPlace{e.tx.id(int32(i)), x.pos})
		}
	}
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
	for i, name := range e.sources {
		res.FeesSat += e.fees[i]
		res.Sources = append(res.Sources, SourceTotal{Source: name, Seeds: e.nseeds[i], SeedAmountSat: e.seedAmt[i],
			SinksSat: sinks[i], FeesSat: e.fees[i]})
		if res.Conserved && sinks[i]+e.fees[i] != e.seedAmt[i] {
			return fmt.Errorf("trace: internal error: source %s not conserved: sinks %d + fees %d != seeds %d",
				name, sinks[i], e.fees[i], e.seedAmt[i])
		}
	}
	for i, k := range sinkKinds {
		if kt := kinds[i]; kt.Sinks > 0 {
			kt.Kind = k
			res.Totals = append(res.Totals, kt)
		}
	}
	if res.Totals == nil {
		res.Totals = []KindTotal{}
	}
	return nil
}

// appendDoubling appends v to s, doubling the capacity when s is full:
// the engine's long slices (sinks, edges, transactions) grow to hundreds
// of thousands of entries, where append grows by a quarter (five times
// the final size allocated and four times copied, against two and one).
func appendDoubling[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		n := make([]T, len(s), max(2*cap(s), 64))
		copy(n, s)
		s = n
	}
	return append(s, v)
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

// workQueue holds works by chain position (positions are distinct: a
// transaction is queued once) and gives the lowest first. It is a radix
// heap of the positions packed in one word (queueKey): the trace takes
// its works in chain order and queues only spenders after the work it
// took last, so every key queued is at least the last one taken (last),
// and an entry waits in the bucket of the highest bit in which its key
// differs from last. A pop takes the lowest key of the least bucket that
// holds any and moves that bucket's others to lower ones: an entry moves
// a few times (a key's height, then its index), a word each, where a
// binary heap's pop walked its levels comparing. A key below last (which
// the trace does not queue) moves every entry to the buckets of the new
// least key, so that the order holds whatever is queued.
type workQueue struct {
	last    uint64 // no key queued is below it
	n       int
	full    uint64 // bit i: buckets[i] holds entries
	buckets [65][]queueEntry
}

type queueEntry struct {
	key uint64 // queueKey of the work's position
	w   int32  // the work's index in engine.works
}

// queueKey packs p into a word that orders as p does where p's height
// is below 2^40−1 and its index below 2^24 (every chain's). Outside that
// the key is the nearest one that keeps the order (an index clamped
// within its height, a height below 0 or above the range to the least
// or the greatest word), so that keys that differ order their positions
// and equal keys compare their positions (less).
func queueKey(p pos) uint64 {
	switch {
	case p.height < 0:
		return 0
	case p.height >= 1<<40-1:
		return ^uint64(0)
	}
	return uint64(p.height)<<24 | uint64(min(max(p.index, 0), 1<<24-1))
}

// less orders a before b: by key, then by position (of the works in
// works) where keys tie.
func (a queueEntry) less(b queueEntry, works *chunks[work]) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	return works.at(int(a.w)).pos.cmp(works.at(int(b.w)).pos) < 0
}

func (q *workQueue) Len() int { return q.n }

// bucket is the bucket of a key: 0 for last's, else 1 + the highest bit
// in which it differs from last.
func (q *workQueue) bucket(key uint64) int { return bits.Len64(key ^ q.last) }

// put adds x to its bucket.
func (q *workQueue) put(x queueEntry) {
	b := q.bucket(x.key)
	q.buckets[b] = append(q.buckets[b], x)
	q.full |= 1 << b
}

// push adds the work of index w at position p.
func (q *workQueue) push(p pos, w int32) {
	x := queueEntry{queueKey(p), w}
	if x.key < q.last {
		if q.n > 0 {
			q.rebase(x.key)
		} else {
			q.last = x.key
		}
	}
	q.put(x)
	q.n++
}

// rebase lowers last to key, moving every entry to its bucket for it.
func (q *workQueue) rebase(key uint64) {
	var all []queueEntry
	for b := range q.buckets {
		all = append(all, q.buckets[b]...)
		q.buckets[b] = q.buckets[b][:0]
	}
	q.last, q.full = key, 0
	for _, x := range all {
		q.put(x)
	}
}

// pop removes and returns the index of the work of the lowest position
// (works holds the works queued).
func (q *workQueue) pop(works *chunks[work]) int32 {
	if q.full&1 == 0 {
		// Make the least key of the least bucket last and spread that
		// bucket over the lower ones (each entry differs from the new
		// last in a lower bit than it did from the old).
		b := bits.TrailingZeros64(q.full)
		src := q.buckets[b]
		least := src[0].key
		for _, x := range src[1:] {
			least = min(least, x.key)
		}
		q.last = least
		q.buckets[b] = src[:0]
		q.full &^= 1 << b
		for _, x := range src {
			q.put(x)
		}
	}
	// Bucket 0 holds last's key: one entry, or (a key clamped) several
	// that order by position.
	h := q.buckets[0]
	k := 0
	for i := 1; i < len(h); i++ {
		if h[i].less(h[k], works) {
			k = i
		}
	}
	top := h[k].w
	h[k] = h[len(h)-1]
	q.buckets[0] = h[:len(h)-1]
	if len(h) == 1 {
		q.full &^= 1
	}
	q.n--
	return top
}

// reset empties q, keeping its buckets' memory.
func (q *workQueue) reset() {
	for b := range q.buckets {
		q.buckets[b] = q.buckets[b][:0]
	}
	q.last, q.n, q.full = 0, 0, 0
}
