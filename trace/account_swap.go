package trace

import (
	"context"
	"fmt"
	"math/big"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/store"
)

// This file converts taint through DEX swaps inside a transaction
// (methods.md §6.6). A recognised swap (pattern.Swaps: a Uniswap v2 or v3
// Swap log whose pool took one token and paid another, each by one
// Transfer matching its amounts exactly) takes the tainted part taint_A of
// the Transfer that paid the pool in_A of token A, and gives the Transfer
// that paid out_B of token B to the recipient ⌊out_B × taint_A / in_A⌋ of
// taint: the A taint is a swap sink at the pool, the B taint is converted
// (AssetTotal.Converted), so each asset still adds up exactly. Multi-hop
// routes chain the rule: a pool's output paid straight into the next pool
// is that pool's input. A pool without a recognised Swap log is an
// ordinary contract: the tx-local rule (§2.3) passes value through it.
//
// The pool's output Transfer may come before its input in the log (a v3
// pool pays out, then takes the input in its callback). Each asset is its
// own ledger (§0.2), so the input is applied first, when the output is
// reached, if it is among the transaction's transfers the walk holds
// (otherwise it comes from an address without taint and is clean).
//
// Known limit: when the walk reaches a pool's payer only after the
// pool's output (the payer's taint arrives inside the callback by a
// transfer of another asset: a nested swap), the output was already
// credited clean to a recipient that holds that asset and is credited
// again with its taint: the recipient's balance then counts the output
// twice (its taint exact, its share under haircut diluted).

// swapState is what the engine knows of the swaps of the transaction it is
// processing.
type swapState struct {
	group acctGroup
	pools map[heistgraph.EVMAddress][]pattern.Swap // checked addresses: their recognised swaps
	rec   *store.AccountTxRecord                   // the transaction, once a pool of it was found
	swaps []pattern.Swap
	base  int32          // ledger position of rec's first transfer
	done  map[int32]bool // log indexes of Transfers applied out of turn
}

// swapsAt returns the recognised swaps of pool in the transaction of ev
// (nil when none). It reads pool's kept logs of ev's block once per
// transaction, and the transaction's record only when one of them is a
// Swap log of this transaction.
func (e *acctEngine) swapsAt(ctx context.Context, ev *store.AccountEvent, pool heistgraph.EVMAddress) ([]pattern.Swap, error) {
	s := e.swap
	if s == nil || s.group != e.group {
		if s == nil {
			s = &swapState{}
			e.swap = s
		}
		clear(s.pools)
		clear(s.done)
		*s = swapState{group: e.group, pools: s.pools, done: s.done}
		if s.pools == nil {
			s.pools, s.done = map[heistgraph.EVMAddress][]pattern.Swap{}, map[int32]bool{}
		}
	}
	if got, ok := s.pools[pool]; ok {
		return got, nil
	}
	s.pools[pool] = nil
	found := false
	h := ev.Block.Height
	for l, err := range e.r.AccountLogs(ctx, e.o.Chain, pool, store.AccountHistoryOptions{FromHeight: h, ToHeight: h}) {
		if err != nil {
			return nil, fmt.Errorf("trace: logs of %s: %w", pool.Hex(), err)
		}
		if l.Block.Height == h && l.Log.TxIndex == e.group.tx && (l.Log.Topic0() == pattern.TopicSwapV2 || l.Log.Topic0() == pattern.TopicSwapV3) {
			found = true
			break
		}
	}
	if !found {
		return nil, nil
	}
	if s.rec == nil {
		rec, err := e.r.AccountTx(ctx, e.o.Chain, ev.Transfer.TxHash)
		if err != nil {
			return nil, fmt.Errorf("trace: swaps of tx %s: %w", ev.Transfer.TxHash, err)
		}
		s.rec = &rec
		s.base = -1
		for i := range rec.Transfers {
			if t := &rec.Transfers[i]; t.Kind == ev.Transfer.Kind && t.LogIndex == ev.Transfer.LogIndex && t.TracePath == ev.Transfer.TracePath {
				s.base = ev.Seq - int32(i)
				break
			}
		}
		if s.base < 0 {
			return nil, fmt.Errorf("trace: tx %s: transfer at log %d not in its record: %w", ev.Transfer.TxHash, ev.Transfer.LogIndex, heistgraph.ErrConflict)
		}
		s.swaps = pattern.Swaps(e.o.Chain, rec.Transfers, rec.Logs)
	}
	for _, sw := range s.swaps {
		if sw.Pool == pool {
			s.pools[pool] = append(s.pools[pool], sw)
		}
	}
	return s.pools[pool], nil
}

// swapTurn is called for each log-based transfer before it is applied. It
// reports whether the transfer was already applied out of turn (a swap's
// input pulled forward, or an output a conversion credited), and applies,
// before a pool's output, the input that pays for it when the walk holds
// that input later in the transaction, together with the walk's transfers
// of the input's asset before it (in order: what funds the input, such as
// a WETH Deposit in the pool's callback, comes first).
func (e *acctEngine) swapTurn(ctx context.Context, ev *store.AccountEvent) (bool, error) {
	t := &ev.Transfer
	if e.swap != nil && e.swap.group == e.group && e.swap.done[t.LogIndex] {
		return true, nil
	}
	if t.Kind != heistgraph.TransferERC20 || t.From.IsZero() || !e.paidLater(t.From) {
		return false, nil // no pool's output, or no input to pull forward
	}
	swaps, err := e.swapsAt(ctx, ev, t.From)
	if err != nil || len(swaps) == 0 {
		return false, err
	}
	for i := range swaps {
		sw := &swaps[i]
		if sw.OutLog != t.LogIndex || sw.InLog < t.LogIndex || e.swap.done[sw.InLog] {
			continue
		}
		var pull []store.AccountEvent // copies: applying them may insert into buf
		for j := e.bi + 1; j < len(e.buf); j++ {
			x := e.buf[j]
			li := x.Transfer.LogIndex
			if li < 0 || li > sw.InLog || x.Transfer.Asset != sw.AssetIn || e.swap.done[li] || !e.last.less(posOf(&x)) ||
				(len(pull) > 0 && pull[len(pull)-1].Transfer.LogIndex == li) {
				continue
			}
			pull = append(pull, x)
		}
		if len(pull) == 0 || pull[len(pull)-1].Transfer.LogIndex != sw.InLog {
			continue // the input is not the walk's: it is clean
		}
		for k := range pull {
			if err := e.apply(ctx, &pull[k]); err != nil {
				return false, err
			}
			e.swap.done[pull[k].Transfer.LogIndex] = true
		}
	}
	return e.swap.done[t.LogIndex], nil
}

// paidLater reports whether the walk holds an ERC-20 transfer to addr
// later in this transaction (so that addr's logs need reading only then).
func (e *acctEngine) paidLater(addr heistgraph.EVMAddress) bool {
	for j := e.bi + 1; j < len(e.buf); j++ {
		if t := &e.buf[j].Transfer; t.Kind == heistgraph.TransferERC20 && t.To == addr {
			return true
		}
	}
	return false
}

// swapIn converts a tainted parcel p of asset paid to to by ev when ev is
// the input of one of to's recognised swaps, and reports whether it did.
func (e *acctEngine) swapIn(ctx context.Context, ev *store.AccountEvent, from, to heistgraph.EVMAddress, asset heistgraph.Asset, p *parcel) (bool, error) {
	if ev.Transfer.Kind != heistgraph.TransferERC20 {
		return false, nil
	}
	swaps, err := e.swapsAt(ctx, ev, to)
	if err != nil {
		return false, err
	}
	var sw *pattern.Swap
	for i := range swaps {
		if swaps[i].InLog == ev.Transfer.LogIndex && swaps[i].AssetIn == asset {
			sw = &swaps[i]
		}
	}
	if sw == nil || !p.amt.Eq(&sw.AmountIn) {
		return false, nil
	}
	s := e.swap
	var out store.AccountEvent
	for i := range s.rec.Transfers {
		if t := &s.rec.Transfers[i]; t.Kind == heistgraph.TransferERC20 && t.LogIndex == sw.OutLog {
			out = store.AccountEvent{Block: ev.Block, Seq: s.base + int32(i), Transfer: *t, Debit: true}
		}
	}
	ent, err := e.resolve(ctx, to)
	if err != nil {
		return false, err
	}
	e.edge(ev, from, to, asset, &p.tnt)
	e.sink(SinkSwap, ev, to, asset, &p.tnt, p.hop, ent, "")
	q := e.rule.convertParcel(p, &sw.AmountIn, &sw.AmountOut)
	addSat(&e.total(sw.AssetOut).conv, &q.tnt)
	s.done[sw.OutLog] = true
	return true, e.credit(ctx, &out, to, sw.Recipient, sw.AssetOut, q, false)
}

// convertParcel returns the parcel a swap pays out (amount out) for p (in
// of the input asset): taint ⌊out × p.tnt / in⌋; under poison tainted
// whole when p is; for FIFO and LIFO p's lots in the same order, each
// boundary scaled by out/in (tainted ones rounded down, clean ones up, so
// that they sum to exactly the taint and the rest).
func (r *acctRule) convertParcel(p *parcel, in, out *uint256.Int) *parcel {
	q := &parcel{amt: *out, hop: p.hop}
	switch {
	case r.policy == Poison:
		if p.tainted() {
			q.tnt, q.mark = *out, true
		}
		return q
	case r.lines:
		// Boundaries in big integers: out × a cumulative amount may
		// exceed 256 bits for a token that logs absurd amounts.
		bin, bout := in.ToBig(), out.ToBig()
		var tCum, cCum, tPrev, cPrev, next, rem big.Int
		for _, l := range p.lots {
			cum, prev := &cCum, &cPrev
			if l.tainted {
				cum, prev = &tCum, &tPrev
			}
			cum.Add(cum, l.n.ToBig())
			next.QuoRem(next.Mul(bout, cum), bin, &rem)
			if !l.tainted && rem.Sign() != 0 {
				next.Add(&next, big.NewInt(1))
			}
			var n uint256.Int
			n.SetFromBig(rem.Sub(&next, prev))
			prev.Set(&next)
			q.pushLot(lot{n: n, tainted: l.tainted})
			if l.tainted {
				addSat(&q.tnt, &n)
			}
		}
		return q
	}
	q.tnt.MulDivOverflow(out, &p.tnt, in)
	return q
}
