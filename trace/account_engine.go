package trace

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// RunAccounts traces opts.Seeds forward through the EVM chain r holds
// (methods.md §2) and returns where the value went.
//
// It walks, in ledger order (methods.md §0.2), the histories of the
// addresses that hold taint: one stream per address (store
// AccountHistory), merged by ledger position, a transaction at a time. An
// address joins when taint reaches it and leaves when it holds none. Each
// debit takes its taint by the policy on the (address, asset) balance
// (§2.2), except that outflows are first matched, FIFO, to inflows of the
// same asset earlier in the same transaction (§2.3, the tx-local rule; it
// needs no knowledge of which addresses are contracts: an externally owned
// account cannot pass value on inside a transaction, and a transaction's
// fee always draws on the sender's balance). Labelled addresses of a
// stopping category are entity sinks. WETH Deposit and Withdrawal convert
// 1:1 between native and WETH, and recognised Uniswap v2/v3 swaps at
// ⌊out × taint_in / in⌋ (§6.6, account_swap.go): the input asset's taint
// is a swap sink and continues in the output asset. A balance's opening
// value (what it held before taint arrived) is summed from its history
// only when a policy needs it (FIFO, LIFO, haircut) and only when taint
// stays past the transaction; debits beyond what the stored history
// explains take clean value first (a store that starts above block 0).
//
// The result is deterministic for a store, options and resolver, except
// Stats.MS. Errors: bad options wrap heistgraph.ErrInvalid; a seed the
// store lacks wraps heistgraph.ErrNotFound; a seed transaction that moved
// no value (of the asset asked) wraps heistgraph.ErrInvalid; store and
// resolver errors are returned wrapped; a cancelled ctx ends the trace
// with an error wrapping ctx.Err().
func RunAccounts(ctx context.Context, r store.AccountReader, opts AccountOptions) (*AccountResult, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	e := newAcctEngine(r, opts)
	defer e.close()
	if err := e.seed(ctx); err != nil {
		return nil, err
	}
	if err := e.run(ctx); err != nil {
		return nil, err
	}
	if err := e.finishMixers(ctx); err != nil { // account_mixer.go
		return nil, err
	}
	if err := e.finish(ctx); err != nil {
		return nil, err
	}
	if cr, ok := r.(CrossReader); ok && opts.FollowLinks {
		a, err := acrossOfAccounts(ctx, cr, &opts, e.res)
		if err != nil {
			return nil, err
		}
		e.res.Across, e.res.Params.AcrossChains = a, true
	}
	e.res.Stats.MS = time.Since(start).Milliseconds()
	return e.res, nil
}

// acctGroup is one transaction's place: block height and tx index (-1 for
// block-level credits).
type acctGroup struct {
	h  int64
	tx int32
}

func groupOf(ev *store.AccountEvent) acctGroup {
	return acctGroup{ev.Block.Height, ev.Transfer.TxIndex}
}

func posOf(ev *store.AccountEvent) acctPos { return acctPos{ev.Block.Height, ev.Seq} }

// acctNode is an address the trace follows: its balances with taint and
// its history stream, positioned at its next event (cur).
type acctNode struct {
	addr    heistgraph.EVMAddress
	hold    []*holding
	pull    func() (store.AccountEvent, error, bool) // its history stream
	stop    func()
	ahead   readAhead
	cur     store.AccountEvent
	idx     int // in the heap; -1 when its stream is not there
	touched bool
	claims  int         // transaction seed claims still to apply
	window  *seedWindow // an address seed
}

// holding is the balance of one asset at a followed address.
type holding struct {
	node    *acctNode
	asset   heistgraph.Asset
	p       parcel
	opened  bool    // the opening balance is in p
	openAt  acctPos // the opening balance sums the history before it
	queue   []parcel
	qhead   int
	touched bool
	lastTx  heistgraph.EVMHash // the last transaction that brought taint
	lastAt  acctPos
	lastT   int64
	plan    []tihoShare // TIHO: this transaction's debits, largest first
	planFor acctGroup
	inflows int // inflows queued so far
	planIn  int // inflows when the plan was made
}

// tihoShare is the taint a taint-first debit is given (methods.md §2.2:
// the largest debit of a transaction is served first).
type tihoShare struct {
	seq  int32
	amt  uint256.Int
	give uint256.Int
}

// seedWindow is an address seed: credits of asset within [from, until].
type seedWindow struct {
	asset       heistgraph.Asset
	from, until int64
}

// txClaim is a transaction seed's taint at one address.
type txClaim struct {
	node   *acctNode
	asset  heistgraph.Asset
	amount uint256.Int
	tx     heistgraph.EVMHash
	time   int64
}

type acctSinkKey struct {
	kind   SinkKind
	addr   heistgraph.EVMAddress
	asset  heistgraph.Asset
	tx     heistgraph.EVMHash
	reason string
}

type acctEdgeKey struct {
	from, to heistgraph.EVMAddress
	asset    heistgraph.Asset
}

type acctEntity struct {
	ref heistgraph.EntityRef
	ok  bool
}

// acctEngine is one account trace in progress.
type acctEngine struct {
	r    store.AccountReader
	o    AccountOptions
	rule acctRule

	nodes map[heistgraph.EVMAddress]*acctNode
	seen  map[heistgraph.EVMAddress]bool // every address ever followed
	heap  nodeHeap
	last  acctPos // the last transfer processed

	group   acctGroup // the transaction being processed
	inGroup bool
	buf     []store.AccountEvent // its transfers, by ledger position
	bi      int                  // the one being processed
	touched []*holding
	tnodes  []*acctNode
	claims  map[acctGroup][]txClaim

	moved, piece parcel     // scratch
	swap         *swapState // the swaps of the transaction (account_swap.go)

	internalKnown map[int64]bool // InternalKnown of the blocks unseenCall looked at

	entities map[heistgraph.EVMAddress]acctEntity
	decimals map[heistgraph.Asset]uint8
	minAmt   map[heistgraph.Asset]uint256.Int
	sinks    []AccountSink
	sinkAt   map[acctSinkKey]int
	edges    map[acctEdgeKey]*AccountEdge
	totals   map[heistgraph.Asset]*AssetTotal
	fees     uint256.Int
	cut      string // "budget" or "until" when the walk stopped early
	res      *AccountResult
	mx       *mixState // Tornado deposits and links (account_mixer.go)
}

func newAcctEngine(r store.AccountReader, o AccountOptions) *acctEngine {
	e := &acctEngine{
		r:        r,
		o:        o,
		rule:     acctRule{policy: o.Policy, lines: o.Policy == FIFO || o.Policy == LIFO, maxLots: o.MaxLots},
		nodes:    map[heistgraph.EVMAddress]*acctNode{},
		seen:     map[heistgraph.EVMAddress]bool{},
		last:     acctPos{-1, -1},
		claims:   map[acctGroup][]txClaim{},
		entities: map[heistgraph.EVMAddress]acctEntity{},
		decimals: map[heistgraph.Asset]uint8{},
		minAmt:   map[heistgraph.Asset]uint256.Int{},
		sinkAt:   map[acctSinkKey]int{},
		edges:    map[acctEdgeKey]*AccountEdge{},
		totals:   map[heistgraph.Asset]*AssetTotal{},
		res: &AccountResult{
			Chain: o.Chain, Policy: o.Policy, Conserved: o.Policy.Conserving(),
			Params: AccountParams{MaxHops: o.MaxHops, MinShare: o.MinShare, Until: o.Until, Budget: o.Budget, Resolver: o.Resolver != nil},
		},
	}
	if o.MinAmount != nil {
		e.res.Params.MinAmount = o.MinAmount.Dec()
	}
	return e
}

// close stops every open stream.
func (e *acctEngine) close() {
	for _, n := range e.nodes {
		if n.stop != nil {
			n.stop()
			n.stop = nil
		}
	}
}

// follow returns the node of addr, opening its stream after position from
// when it is new. Events of the transaction being processed go into buf.
func (e *acctEngine) follow(ctx context.Context, addr heistgraph.EVMAddress, from acctPos) (*acctNode, error) {
	if n, ok := e.nodes[addr]; ok {
		return n, nil
	}
	n := &acctNode{addr: addr, idx: -1, ahead: readAhead{streams: &e.heap}}
	e.nodes[addr] = n
	if !e.seen[addr] {
		e.seen[addr] = true
		e.res.Stats.Addresses++
	}
	n.pull, n.stop = iter.Pull2(e.r.AccountHistory(ctx, e.o.Chain, addr, store.AccountHistoryOptions{FromHeight: max(from.h, 0)}))
	for {
		ev, err, ok := n.next()
		if err != nil {
			return nil, fmt.Errorf("trace: %w", err)
		}
		if !ok {
			n.stop()
			n.stop = nil
			return n, nil
		}
		p := posOf(&ev)
		if !from.less(p) {
			continue
		}
		if e.inGroup && groupOf(&ev) == e.group {
			e.insert(ev)
			continue
		}
		n.cur = ev
		heap.Push(&e.heap, n)
		return n, nil
	}
}

// A followed address's stream reads one event at a time for its first
// readAheadAfter events, and while the walk merges fewer than
// readAheadStreams streams; then ahead of the walk in batches of up to
// maxReadAhead.
const (
	readAheadAfter   = 8
	readAheadStreams = 256
	maxReadAhead     = 16
)

// readAhead holds the events an address's stream read ahead of the walk.
// A walk over many streams takes one event of each in turn, and each step
// of a stream whose iterator went cold in between costs several times a
// step of a warm one; a stream read in batches stays warm for a batch.
// Batches start once the walk has taken readAheadAfter events from the
// stream and double, up to maxReadAhead, while it keeps taking, so that
// an address followed briefly reads nothing ahead; and only while the
// walk merges many streams (few stay warm without it, and what a stream
// read ahead when its address stops being followed is wasted).
type readAhead struct {
	streams *nodeHeap // the walk's open streams
	evs     []store.AccountEvent
	head    int
	taken   int
	batch   int
	err     error // the stream's error, after the events before it
	end     bool  // the stream ended after evs
}

// next returns n's next history event as its stream would (an error comes
// with ok true), reading ahead in batches.
func (n *acctNode) next() (store.AccountEvent, error, bool) {
	a := &n.ahead
	if a.head == len(a.evs) {
		if a.err != nil || a.end {
			err := a.err
			a.err, a.end = nil, true
			return store.AccountEvent{}, err, err != nil
		}
		a.evs, a.head = a.evs[:0], 0
		if a.taken < readAheadAfter || len(*a.streams) < readAheadStreams {
			a.batch = 1
		} else {
			a.batch = min(2*a.batch, maxReadAhead)
		}
		for range a.batch {
			ev, err, ok := n.pull()
			if err != nil {
				a.err = err
				break
			}
			if !ok {
				a.end = true
				break
			}
			a.evs = append(a.evs, ev)
		}
		if len(a.evs) == 0 {
			return n.next()
		}
	}
	a.head++
	a.taken++
	return a.evs[a.head-1], nil, true
}

// insert puts ev into the rest of buf by ledger position.
func (e *acctEngine) insert(ev store.AccountEvent) {
	j := len(e.buf)
	for j > e.bi+1 && e.buf[j-1].Seq > ev.Seq {
		j--
	}
	e.buf = slices.Insert(e.buf, j, ev)
}

// advance moves n's stream to its next event.
func (e *acctEngine) advance(n *acctNode) error {
	ev, err, ok := n.next()
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	if !ok {
		heap.Remove(&e.heap, n.idx)
		n.stop()
		n.stop = nil
		return nil
	}
	n.cur = ev
	heap.Fix(&e.heap, n.idx)
	return nil
}

// run walks the streams a transaction at a time until none is left, the
// budget is used or Until is passed.
func (e *acctEngine) run(ctx context.Context) error {
	for e.heap.Len() > 0 {
		top := e.heap[0]
		if e.o.Until > 0 && top.cur.Block.Time > e.o.Until {
			e.cut = "until"
			return nil
		}
		if e.res.Stats.TxsVisited >= e.o.Budget {
			e.cut = "budget"
			e.res.Stats.Budget = true
			return nil
		}
		if e.res.Stats.TxsVisited%256 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("trace: %w", err)
			}
		}
		e.res.Stats.TxsVisited++
		e.group = groupOf(&top.cur)
		e.buf = e.buf[:0]
		for e.heap.Len() > 0 && groupOf(&e.heap[0].cur) == e.group {
			n := e.heap[0]
			e.buf = append(e.buf, n.cur)
			if err := e.advance(n); err != nil {
				return err
			}
		}
		slices.SortStableFunc(e.buf, func(a, b store.AccountEvent) int { return cmp.Compare(a.Seq, b.Seq) })
		e.inGroup = true
		for e.bi = 0; e.bi < len(e.buf); e.bi++ {
			ev := e.buf[e.bi]
			p := posOf(&ev)
			if !e.last.less(p) {
				continue // the same transfer from another address's stream
			}
			e.last = p
			e.res.Stats.TransfersVisited++
			if err := e.apply(ctx, &ev); err != nil {
				return err
			}
			if err := e.check(ev.Transfer.Kind.String()); err != nil {
				return err
			}
		}
		e.inGroup = false
		if err := e.endGroup(ctx); err != nil {
			return err
		}
		if err := e.check("endgroup"); err != nil {
			return err
		}
	}
	return nil
}

// apply is one transfer.
func (e *acctEngine) apply(ctx context.Context, ev *store.AccountEvent) error {
	t := &ev.Transfer
	if t.From == t.To || t.Amount.IsZero() {
		return nil // self-transfers are ignored (methods.md §2.4)
	}
	if t.LogIndex >= 0 {
		if done, err := e.swapTurn(ctx, ev); done || err != nil {
			return err
		}
	}
	switch t.Kind {
	case heistgraph.TransferWETHDeposit:
		// The WETH contract turns the native value it received in this
		// transaction into WETH for To.
		w := heistgraph.EVMAddress(t.Asset)
		moved, err := e.debit(ctx, ev, w, heistgraph.NativeAsset, true)
		if err != nil {
			return err
		}
		if moved.tainted() {
			if err := e.convert(ctx, ev, w, heistgraph.NativeAsset, t.Asset, moved); err != nil {
				return err
			}
			e.edge(ev, w, t.To, t.Asset, &moved.tnt)
		}
		return e.credit(ctx, ev, w, t.To, t.Asset, moved, true)
	case heistgraph.TransferWETHWithdrawal:
		// From's WETH goes back to the contract as native value, which
		// it then sends on (an internal transfer of this transaction).
		moved, err := e.debit(ctx, ev, t.From, t.Asset, false)
		if err != nil {
			return err
		}
		w := heistgraph.EVMAddress(t.Asset)
		if moved.tainted() {
			e.edge(ev, t.From, w, t.Asset, &moved.tnt)
			if err := e.convert(ctx, ev, w, t.Asset, heistgraph.NativeAsset, moved); err != nil {
				return err
			}
		}
		return e.credit(ctx, ev, t.From, w, heistgraph.NativeAsset, moved, true)
	}
	var moved *parcel
	if t.Debits() {
		var err error
		if moved, err = e.debit(ctx, ev, t.From, t.Asset, false); err != nil {
			return err
		}
	} else {
		moved = &e.moved
		moved.reset()
		moved.amt = t.Amount
		if e.rule.lines {
			moved.lots = append(moved.lots, lot{n: t.Amount})
		}
	}
	switch {
	case t.Kind == heistgraph.TransferFee:
		if moved.tainted() {
			addSat(&e.fees, &moved.tnt)
			addSat(&e.total(t.Asset).fees, &moved.tnt)
		}
		return nil
	case !t.Credits():
		if moved.tainted() { // a token burn
			e.sink(SinkBurned, ev, t.To, t.Asset, &moved.tnt, moved.hop, nil, "")
		}
		return nil
	}
	return e.credit(ctx, ev, t.From, t.To, t.Asset, moved, false)
}

// convert records a conversion's input taint as a swap sink at the
// converting contract and the output asset's converted amount.
func (e *acctEngine) convert(ctx context.Context, ev *store.AccountEvent, at heistgraph.EVMAddress, from, to heistgraph.Asset, p *parcel) error {
	ent, err := e.resolve(ctx, at)
	if err != nil {
		return err
	}
	e.sink(SinkSwap, ev, at, from, &p.tnt, p.hop, ent, "")
	addSat(&e.total(to).conv, &p.tnt)
	return nil
}

// debit takes a transfer's amount out of from's balance of asset and
// returns what it carries (e.moved, valid until the next debit). An
// address the trace does not follow pays clean value. Outflows match the
// address's inflows earlier in the transaction first (§2.3), then draw on
// its balance by the policy; a fee always draws on the balance. With
// queueOnly (a WETH deposit) only this transaction's inflows count: what
// they do not cover is clean.
func (e *acctEngine) debit(ctx context.Context, ev *store.AccountEvent, from heistgraph.EVMAddress, asset heistgraph.Asset, queueOnly bool) (*parcel, error) {
	t := &ev.Transfer
	out := &e.moved
	out.reset()
	out.amt = t.Amount
	var h *holding
	if n := e.nodes[from]; n != nil {
		h = n.holding(asset)
	}
	if h == nil {
		if e.rule.lines {
			out.lots = append(out.lots, lot{n: t.Amount})
		}
		return out, nil
	}
	e.touch(h)
	out.amt.Clear()
	rem := t.Amount
	if t.Kind == heistgraph.TransferFee {
		if err := e.flush(ctx, h); err != nil {
			return nil, err
		}
	}
	var limit *uint256.Int
	if e.o.Policy == TIHO && t.Kind != heistgraph.TransferFee {
		limit = e.tihoLimit(h, ev)
	}
	for h.qhead < len(h.queue) && !rem.IsZero() {
		q := &h.queue[h.qhead]
		d := rem
		if q.amt.Lt(&d) {
			d = q.amt
		}
		e.rule.take(q, &d, &e.piece, limit)
		e.rule.add(out, &e.piece)
		if limit != nil {
			if limit.Lt(&e.piece.tnt) {
				limit.Clear()
			} else {
				limit.Sub(limit, &e.piece.tnt)
			}
		}
		rem.Sub(&rem, &d)
		if q.amt.IsZero() {
			h.qhead++
		}
	}
	if rem.IsZero() {
		return out, nil
	}
	if queueOnly {
		var clean parcel
		clean.amt = rem
		if e.rule.lines {
			clean.lots = []lot{{n: rem}}
		}
		e.rule.add(out, &clean)
		return out, nil
	}
	if err := e.open(ctx, h); err != nil {
		return nil, err
	}
	if h.p.amt.Lt(&rem) {
		var short uint256.Int
		short.Sub(&rem, &h.p.amt)
		e.rule.prependClean(&h.p, &short)
	}
	e.rule.take(&h.p, &rem, &e.piece, limit)
	e.piece.hop = h.p.hop + 1
	e.rule.add(out, &e.piece)
	if !out.tainted() {
		out.hop = 0
	}
	return out, nil
}

// tihoLimit returns the taint a taint-first debit may take (the caller
// counts it down as it takes): the debits of h's address and asset in this
// transaction (fees left out) are served largest first (ties in ledger
// order) from the taint h holds, in its balance and its inflows waiting in
// this transaction, when the first of them is made, and again, for the
// debits still to come, whenever an inflow has arrived since.
func (e *acctEngine) tihoLimit(h *holding, ev *store.AccountEvent) *uint256.Int {
	if h.planFor != e.group || h.plan == nil || h.planIn != h.inflows {
		h.plan = h.plan[:0]
		h.planFor, h.planIn = e.group, h.inflows
		last := int32(-1)
		for j := e.bi; j < len(e.buf); j++ {
			t := &e.buf[j].Transfer
			if e.buf[j].Seq == last || t.From != h.node.addr || t.Asset != h.asset || t.Kind == heistgraph.TransferFee ||
				t.From == t.To || !(t.Debits() || t.Kind == heistgraph.TransferWETHWithdrawal) {
				continue
			}
			last = e.buf[j].Seq
			h.plan = append(h.plan, tihoShare{seq: e.buf[j].Seq, amt: t.Amount})
		}
		slices.SortStableFunc(h.plan, func(a, b tihoShare) int { return b.amt.Cmp(&a.amt) })
		rem := h.p.tnt
		for i := h.qhead; i < len(h.queue); i++ {
			addSat(&rem, &h.queue[i].tnt)
		}
		for i := range h.plan {
			g := h.plan[i].amt
			if rem.Lt(&g) {
				g = rem
			}
			h.plan[i].give = g
			rem.Sub(&rem, &g)
		}
	}
	for i := range h.plan {
		if h.plan[i].seq == ev.Seq {
			return &h.plan[i].give
		}
	}
	return nil
}

// credit gives a transfer's parcel to to. Taint stops at a labelled
// address of a stopping category (entity), below the threshold, or at the
// hop limit; otherwise to is followed and the parcel waits in its queue of
// this transaction's inflows (§2.3). A clean parcel matters only to an
// address that holds taint of the asset. conv marks value inside a
// conversion (no stop applies there).
func (e *acctEngine) credit(ctx context.Context, ev *store.AccountEvent, from, to heistgraph.EVMAddress, asset heistgraph.Asset, p *parcel, conv bool) error {
	n := e.nodes[to]
	if n != nil && n.window != nil && n.window.asset == asset && ev.Block.Time >= n.window.from &&
		(n.window.until == 0 || ev.Block.Time <= n.window.until) && !conv {
		// An address seed's credit: tainted whole, at hop 0.
		var fresh uint256.Int
		fresh.Sub(&p.amt, &p.tnt)
		addSat(&e.total(asset).seed, &fresh)
		p.tnt, p.hop = p.amt, 0
		for i := range p.lots {
			p.lots[i].tainted = true
		}
		e.rule.merge(p)
	}
	if !p.tainted() {
		if n == nil {
			return nil
		}
		h := n.holding(asset)
		if h == nil {
			return nil
		}
		return e.queue(ctx, h, p, ev)
	}
	if p.hop > e.res.Stats.MaxHop {
		e.res.Stats.MaxHop = p.hop
	}
	if !conv {
		if done, err := e.swapIn(ctx, ev, from, to, asset, p); done || err != nil {
			return err
		}
		e.edge(ev, from, to, asset, &p.tnt)
		if p.hop > 0 {
			if stop, err := e.mixerCredit(ctx, ev, to, asset, p); stop || err != nil { // account_mixer.go
				return err
			}
			ent, err := e.resolve(ctx, to)
			if err != nil {
				return err
			}
			least, err := e.threshold(ctx, asset)
			if err != nil {
				return err
			}
			unseen, err := e.unseenCall(ctx, ev, to, asset)
			if err != nil {
				return err
			}
			stopsAt := ent != nil && e.o.stops(ent.Category) && !e.converterAhead(to)
			if stopsAt {
				passes, err := e.passesOn(ctx, ev, to, ent.Category) // account_dex.go
				if err != nil {
					return err
				}
				stopsAt = !passes
			}
			stop, reason := SinkKind(""), ""
			switch {
			case stopsAt:
				stop = SinkEntity
			case unseen:
				stop, reason = SinkUntraced, ReasonInternalUnknown
			case p.tnt.Lt(least):
				stop = SinkThreshold
			case p.hop >= e.o.MaxHops:
				stop = SinkHopLimit
			}
			if stop != "" {
				e.sink(stop, ev, to, asset, &p.tnt, p.hop, ent, reason)
				if stop == SinkEntity || n == nil {
					return nil
				}
				e.rule.clearTaint(p)
				if h := n.holding(asset); h != nil {
					return e.queue(ctx, h, p, ev)
				}
				return nil
			}
		}
	}
	n, err := e.follow(ctx, to, posOf(ev))
	if err != nil {
		return err
	}
	h := n.holding(asset)
	if h == nil {
		h = &holding{node: n, asset: asset, openAt: posOf(ev)}
		// Taint-first needs no opening balance: a debit takes taint
		// first, and one beyond the known balance clean value anyway.
		// Poison neither: every debit is tainted whole, and what rests
		// is the whole balance where the walk stops (restingPoison).
		h.opened = e.o.Policy == TIHO || e.o.Policy == Poison
		n.hold = append(n.hold, h)
	}
	h.lastTx, h.lastAt, h.lastT = ev.Transfer.TxHash, posOf(ev), ev.Block.Time
	return e.queue(ctx, h, p, ev)
}

// queue adds an inflow to h's queue of this transaction.
func (e *acctEngine) queue(ctx context.Context, h *holding, p *parcel, ev *store.AccountEvent) error {
	e.touch(h)
	if h.qhead == len(h.queue) {
		h.queue, h.qhead = h.queue[:0], 0
	}
	if len(h.queue) < cap(h.queue) {
		h.queue = h.queue[:len(h.queue)+1]
	} else {
		h.queue = append(h.queue, parcel{})
	}
	h.queue[len(h.queue)-1].set(p)
	h.inflows++
	if e.o.NoTxLocal {
		return e.flush(ctx, h)
	}
	return nil
}

// converterAhead reports whether to converts native value later in this
// transaction (a WETH deposit into it): then it is no stop.
func (e *acctEngine) converterAhead(to heistgraph.EVMAddress) bool {
	for j := e.bi + 1; j < len(e.buf); j++ {
		t := &e.buf[j].Transfer
		if t.Kind == heistgraph.TransferWETHDeposit && heistgraph.EVMAddress(t.Asset) == to {
			return true
		}
	}
	return false
}

func (n *acctNode) holding(asset heistgraph.Asset) *holding {
	for _, h := range n.hold {
		if h.asset == asset {
			return h
		}
	}
	return nil
}

func (e *acctEngine) touch(h *holding) {
	if !h.touched {
		h.touched = true
		e.touched = append(e.touched, h)
	}
	if !h.node.touched {
		h.node.touched = true
		e.tnodes = append(e.tnodes, h.node)
	}
}

// flush moves h's waiting inflows into its balance.
func (e *acctEngine) flush(ctx context.Context, h *holding) error {
	if h.qhead == len(h.queue) {
		return nil
	}
	if err := e.open(ctx, h); err != nil {
		return err
	}
	for i := h.qhead; i < len(h.queue); i++ {
		e.rule.add(&h.p, &h.queue[i])
	}
	h.queue, h.qhead = h.queue[:0], 0
	return nil
}

// open puts h's opening balance (its history's net before openAt, zero
// when negative: history the store lacks) at the start of its balance.
func (e *acctEngine) open(ctx context.Context, h *holding) error {
	if h.opened {
		return nil
	}
	return e.openBalance(ctx, h)
}

// openBalance is open's work, apart so that the common call (a balance
// opened already) allocates nothing: the history loop's captures are
// allocated on entry.
func (e *acctEngine) openBalance(ctx context.Context, h *holding) error {
	h.opened = true
	var recv, sent uint256.Int
	asset := h.asset
	for ev, err := range e.r.AccountHistory(ctx, e.o.Chain, h.node.addr, store.AccountHistoryOptions{ToHeight: h.openAt.h, Asset: &asset}) {
		if err != nil {
			return fmt.Errorf("trace: opening balance: %w", err)
		}
		if !posOf(&ev).less(h.openAt) {
			break
		}
		e.res.Stats.OpeningEvents++
		if ev.Credit && ev.Debit {
			continue
		}
		if ev.Credit {
			addSat(&recv, &ev.Transfer.Amount)
		}
		if ev.Debit {
			addSat(&sent, &ev.Transfer.Amount)
		}
	}
	if sent.Lt(&recv) {
		recv.Sub(&recv, &sent)
		e.rule.prependClean(&h.p, &recv)
	}
	return nil
}

// endGroup finishes a transaction: waiting inflows join their balances,
// transaction seeds claim their taint, balances below the threshold stop,
// and addresses left without taint are no longer followed.
func (e *acctEngine) endGroup(ctx context.Context) error {
	for _, h := range e.touched {
		if err := e.flush(ctx, h); err != nil {
			return err
		}
	}
	if cs, ok := e.claims[e.group]; ok {
		delete(e.claims, e.group)
		for _, c := range cs {
			c.node.claims--
			h := c.node.holding(c.asset)
			if h == nil {
				h = &holding{node: c.node, asset: c.asset, openAt: acctPos{e.group.h, e.last.seq + 1}}
				c.node.hold = append(c.node.hold, h)
			}
			e.touch(h)
			if err := e.open(ctx, h); err != nil {
				return err
			}
			var room uint256.Int
			room.Sub(&h.p.amt, &h.p.tnt)
			if room.Lt(&c.amount) {
				var short uint256.Int
				short.Sub(&c.amount, &room)
				e.rule.prependClean(&h.p, &short)
			}
			got := e.rule.taintNewest(&h.p, &c.amount)
			addSat(&e.total(c.asset).seed, &got)
			if len(e.buf) > 0 {
				h.lastTx, h.lastAt, h.lastT = e.buf[0].Transfer.TxHash, e.last, e.buf[0].Block.Time
			}
		}
	}
	for _, h := range e.touched {
		h.touched = false
		if !h.p.tainted() || h.p.hop == 0 || e.o.Policy == Poison {
			continue // poison: the balance is known only at the end
		}
		share := false
		if e.o.Policy == Haircut && e.o.MinShare > 0 {
			var lim uint256.Int
			f := uint64(e.o.MinShare * 1e9)
			if _, o := lim.MulDivOverflow(&h.p.amt, uint256.NewInt(f), uint256.NewInt(1e9)); !o {
				share = h.p.tnt.Lt(&lim)
			}
		}
		lim, err := e.threshold(ctx, h.asset)
		if err != nil {
			return err
		}
		if share || h.p.tnt.Lt(lim) {
			e.sinkAt0(SinkThreshold, h, "")
			e.rule.clearTaint(&h.p)
		}
	}
	e.touched = e.touched[:0]
	for _, n := range e.tnodes {
		n.touched = false
		if n.claims > 0 || (n.window != nil && n.idx >= 0 && (n.window.until == 0 || n.cur.Block.Time <= n.window.until)) {
			continue
		}
		if slices.ContainsFunc(n.hold, func(h *holding) bool { return h.p.tainted() }) {
			continue
		}
		if n.idx >= 0 {
			heap.Remove(&e.heap, n.idx)
		}
		if n.stop != nil {
			n.stop()
			n.stop = nil
		}
		delete(e.nodes, n.addr)
	}
	e.tnodes = e.tnodes[:0]
	return nil
}

// nodeHeap orders followed addresses by the ledger position of their next
// event.
type nodeHeap []*acctNode

func (q nodeHeap) Len() int { return len(q) }
func (q nodeHeap) Less(i, j int) bool {
	a, b := &q[i].cur, &q[j].cur
	return a.Block.Height < b.Block.Height || a.Block.Height == b.Block.Height && a.Seq < b.Seq
}
func (q nodeHeap) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].idx, q[j].idx = i, j
}
func (q *nodeHeap) Push(x any) {
	n := x.(*acctNode)
	n.idx = len(*q)
	*q = append(*q, n)
}
func (q *nodeHeap) Pop() any {
	old := *q
	k := len(old)
	n := old[k-1]
	old[k-1] = nil
	n.idx = -1
	*q = old[:k-1]
	return n
}
