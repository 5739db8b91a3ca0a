package trace

import (
	"context"
	"fmt"
	"math/big"
	"slices"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/mixer"
	"github.com/heistgraph/heistgraph/store"
)

// This file makes a Tornado Cash deposit an entity sink (methods.md §4.8)
// and, on request, follows its links (§4.9) beside the confirmed trace:
// strong (T1) links in AccountResult.Inferred, probable ones (T2–T4) in
// AccountResult.Hypotheses, each part with its own sinks (§0.3), so the
// confirmed trace stays conserved and nothing is counted twice.

// SinkRelayer is the part of a followed withdrawal that paid its relayer's
// fee: it rests with the relayer (a service), not followed further.
const SinkRelayer SinkKind = "relayer"

// MixerDeposit is a Tornado deposit a mixer sink's taint went into: the
// pool, the event, the depositor (the transaction's sender), the pool's
// anonymity set once the deposit is in (the deposits up to and including
// it minus the withdrawals before it; exact when the store holds the
// pool's whole history) and the sink's taint apportioned to it (by
// denomination over the transaction's deposits).
type MixerDeposit struct {
	Pool           heistgraph.EVMAddress `json:"pool"`
	PoolName       string                `json:"pool_name,omitempty"`
	Denomination   string                `json:"denomination,omitempty"`
	Commitment     heistgraph.EVMHash    `json:"commitment"`
	LeafIndex      uint32                `json:"leaf_index"`
	LogIndex       int32                 `json:"log_index"`
	Timestamp      uint64                `json:"timestamp"`
	Depositor      heistgraph.EVMAddress `json:"depositor"`
	AnonymitySet   int                   `json:"anonymity_set"`
	AnonymityExact bool                  `json:"anonymity_set_exact"`
	Amount         string                `json:"amount"`
}

// Via is the link a sink of the inferred or hypotheses part was reached
// through (design.md: {method, src, dst, confidence, inferred}): Src the
// deposit transaction, Dst the withdrawal transaction.
type Via struct {
	Method     string                `json:"method"`
	Src        heistgraph.EVMHash    `json:"src"`
	Dst        heistgraph.EVMHash    `json:"dst"`
	Confidence heistgraph.Confidence `json:"confidence"`
	Inferred   bool                  `json:"inferred"`
	Heuristics []string              `json:"heuristics"`
}

// LinkedTrace is the part of a trace reached through links (methods.md
// §0.3): the links followed, and the trace of each from its withdrawal,
// with sinks (each with its Via; hops count on from the deposit's sink),
// edges, fees and per-asset totals of its own. For a conserving policy,
// per asset Seed + Converted == Sinks + Fees, the seed being the taint the
// followed deposits held.
type LinkedTrace struct {
	Links  []mixer.Link  `json:"links"`
	Sinks  []AccountSink `json:"sinks"`
	Edges  []AccountEdge `json:"edges"`
	Fees   string        `json:"fees"`
	Assets []AssetTotal  `json:"assets"`

	fees   uint256.Int
	totals map[heistgraph.Asset]*AssetTotal
}

// mixHit is the taint a transaction put into Tornado deposits.
type mixHit struct {
	tx    heistgraph.EVMHash
	sink  acctSinkKey // its entity sink
	hop   int
	taint uint256.Int
	deps  []mixer.Deposit
}

// mixState is an engine's Tornado bookkeeping.
type mixState struct {
	table  *mixer.Table
	linker *mixer.Linker
	hits   []*mixHit
	byTx   map[heistgraph.EVMHash]*mixHit
}

func (e *acctEngine) mix() *mixState {
	if e.mx == nil {
		t := e.o.Mixers
		if t == nil {
			t = mixer.Builtin(e.o.Chain)
		}
		e.mx = &mixState{table: t, byTx: map[heistgraph.EVMHash]*mixHit{}}
		e.mx.linker = mixer.NewLinker(e.r, t, mixer.Options{Hypotheses: e.o.FollowHypotheses, Service: e.isService})
	}
	return e.mx
}

// isService reports whether a is labelled (T3 never links through one).
func (e *acctEngine) isService(ctx context.Context, a heistgraph.EVMAddress) (bool, error) {
	ent, err := e.resolve(ctx, a)
	return ent != nil, err
}

// mixerCredit stops taint credited to a Tornado pool or entry point (the
// table's, or a contract labelled mixer that logs deposits in this
// transaction) as an entity sink listing the transaction's deposits. It
// reports whether it did.
func (e *acctEngine) mixerCredit(ctx context.Context, ev *store.AccountEvent, to heistgraph.EVMAddress, asset heistgraph.Asset, p *parcel) (bool, error) {
	if !e.o.stops(mixer.Category) {
		return false, nil
	}
	m := e.mix()
	ent, err := e.resolve(ctx, to)
	if err != nil {
		return false, err
	}
	if m.table.Known(to) {
		name := mixer.Entity
		if ent != nil {
			name = ent.Name
		}
		ent = &heistgraph.EntityRef{Name: name, Category: mixer.Category}
	} else {
		if ent == nil || ent.Category != mixer.Category {
			return false, nil
		}
		learnt, err := e.learnPool(ctx, ev.Transfer.TxHash, to, ent.Name)
		if err != nil || !learnt {
			return false, err
		}
	}
	h, ok := m.byTx[ev.Transfer.TxHash]
	if !ok {
		ds, _, err := m.linker.TxEvents(ctx, ev.Transfer.TxHash)
		if err != nil {
			return false, fmt.Errorf("trace: %w", err)
		}
		h = &mixHit{tx: ev.Transfer.TxHash, hop: p.hop, sink: acctSinkKey{SinkEntity, to, asset, ev.Transfer.TxHash, ""}}
		for _, d := range ds {
			if pl, _ := m.table.Pool(d.Pool); pl.Asset == asset {
				h.deps = append(h.deps, d)
			}
		}
		m.byTx[h.tx] = h
		m.hits = append(m.hits, h)
	}
	addSat(&h.taint, &p.tnt)
	h.hop = min(h.hop, p.hop)
	e.sink(SinkEntity, ev, to, asset, &p.tnt, p.hop, ent, "")
	return true, nil
}

// learnPool adds a contract labelled mixer to the table as a pool when it
// logged a well-formed Tornado event in transaction tx (mixer.Table.Learn).
func (e *acctEngine) learnPool(ctx context.Context, tx heistgraph.EVMHash, at heistgraph.EVMAddress, name string) (bool, error) {
	rec, err := e.r.AccountTx(ctx, e.o.Chain, tx)
	if err != nil {
		return false, fmt.Errorf("trace: %w", err)
	}
	return e.mix().table.Learn(&rec, at, name), nil
}

// apportion256 splits d over weights w by largest remainder (methods.md
// §0.1, as Apportion, in big integers): shares sum to d, ties to the lower
// index; a zero total gives everything to index 0.
func apportion256(d *uint256.Int, w []uint256.Int) []uint256.Int {
	q := make([]uint256.Int, len(w))
	if len(w) == 0 {
		return q
	}
	total := new(big.Int)
	for i := range w {
		total.Add(total, w[i].ToBig())
	}
	if total.Sign() == 0 {
		q[0] = *d
		return q
	}
	dd := d.ToBig()
	rem := make([]*big.Int, len(w))
	given := new(big.Int)
	for j := range w {
		share, r := new(big.Int).QuoRem(new(big.Int).Mul(dd, w[j].ToBig()), total, new(big.Int))
		q[j].SetFromBig(share) // share ≤ d: fits
		rem[j] = r
		given.Add(given, share)
	}
	left := new(big.Int).Sub(dd, given).Int64() // fewer than len(w)
	idx := make([]int, len(w))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return rem[b].Cmp(rem[a]) })
	one := uint256.NewInt(1)
	for i := range left {
		q[idx[i]].Add(&q[idx[i]], one)
	}
	return q
}

// finishMixers lists each mixer sink's deposits with their anonymity sets
// and share of the taint, finds their links (T1; T2–T4 when hypotheses are
// followed) and traces the links asked for from their withdrawals.
func (e *acctEngine) finishMixers(ctx context.Context) error {
	e.res.Params.FollowLinks, e.res.Params.FollowHypotheses = e.o.FollowLinks, e.o.FollowHypotheses
	if e.mx == nil || len(e.mx.hits) == 0 {
		return nil
	}
	m := e.mx
	type follow struct {
		link  mixer.Link
		taint uint256.Int
		hop   int
	}
	var strong, probable []follow
	for _, h := range m.hits {
		w := make([]uint256.Int, len(h.deps))
		for i, d := range h.deps {
			p, _ := m.table.Pool(d.Pool)
			w[i] = p.Denomination
			if w[i].IsZero() {
				w[i].SetOne()
			}
		}
		shares := apportion256(&h.taint, w)
		var views []MixerDeposit
		for i, d := range h.deps {
			x, err := m.linker.Index(ctx, d.Pool)
			if err != nil {
				return fmt.Errorf("trace: %w", err)
			}
			p, _ := m.table.Pool(d.Pool)
			v := MixerDeposit{Pool: d.Pool, PoolName: p.Name, Commitment: d.Commitment, LeafIndex: d.LeafIndex, LogIndex: d.LogIndex,
				Timestamp: d.Timestamp, Depositor: d.Depositor, AnonymitySet: x.AfterDeposit(&d), AnonymityExact: x.Exact, Amount: shares[i].Dec()}
			if !p.Denomination.IsZero() {
				v.Denomination = p.Denomination.Dec()
			}
			views = append(views, v)
			links, err := m.linker.Links(ctx, d)
			if err != nil {
				return fmt.Errorf("trace: %w", err)
			}
			e.res.Links = append(e.res.Links, links...)
			for _, l := range links {
				f := follow{link: l, taint: shares[i], hop: h.hop}
				switch {
				case l.Confidence == mixer.Strong && e.o.FollowLinks:
					strong = append(strong, f)
				case l.Confidence == mixer.Probable && e.o.FollowHypotheses:
					probable = append(probable, f)
				}
			}
		}
		if i, ok := e.sinkAt[h.sink]; ok && e.sinks[i].Mixer == nil {
			e.sinks[i].Mixer = views
		}
	}
	for _, part := range []struct {
		fs       []follow
		inferred bool
		dst      **LinkedTrace
	}{{strong, true, &e.res.Inferred}, {probable, false, &e.res.Hypotheses}} {
		if len(part.fs) == 0 {
			continue
		}
		lt := &LinkedTrace{totals: map[heistgraph.Asset]*AssetTotal{}}
		for _, f := range part.fs {
			if err := e.followLink(ctx, lt, f.link, &f.taint, f.hop, part.inferred); err != nil {
				return err
			}
		}
		lt.done()
		*part.dst = lt
	}
	return nil
}

// followLink traces a link from its withdrawal: the recipient gets the
// deposit's taint less the relayer's share (fee over denomination), the
// relayer its share as a relayer sink; the recipient's part is traced on
// with the same policy and stops (links are not followed again).
func (e *acctEngine) followLink(ctx context.Context, lt *LinkedTrace, l mixer.Link, taint *uint256.Int, hop int, inferred bool) error {
	lt.Links = append(lt.Links, l)
	m := e.mx
	p, _ := m.table.Pool(l.Pool)
	denom := p.Denomination
	if denom.IsZero() {
		paid, _, err := m.linker.Payout(ctx, &l.Withdrawal)
		if err != nil {
			return fmt.Errorf("trace: %w", err)
		}
		denom = paid
	}
	fee := l.Withdrawal.FeeValue()
	var toRecipient uint256.Int
	if denom.Lt(&fee) {
		fee = denom
	}
	toRecipient.Sub(&denom, &fee)
	split := apportion256(taint, []uint256.Int{toRecipient, fee})
	if l.Withdrawal.Relayer == l.Withdrawal.To || l.Withdrawal.Relayer.IsZero() {
		split[0].Add(&split[0], &split[1])
		split[1].Clear()
	}
	rec, err := e.r.AccountTx(ctx, e.o.Chain, l.WithdrawalTx)
	if err != nil {
		return fmt.Errorf("trace: withdrawal %s: %w", l.WithdrawalTx, err)
	}
	// Links are not followed again; hops and the budget count on from the
	// confirmed trace.
	o := e.o
	o.FollowLinks, o.FollowHypotheses = false, false
	o.MaxHops = max(e.o.MaxHops-hop-1, 1)
	o.Budget = max(e.o.Budget-e.res.Stats.TxsVisited, 1)
	sub := newAcctEngine(e.r, o)
	defer sub.close()
	sub.entities, sub.decimals = e.entities, e.decimals // the same answers; shared caches
	sub.mx = &mixState{table: m.table, linker: m.linker, byTx: map[heistgraph.EVMHash]*mixHit{}}
	asset := p.Asset
	if !split[1].IsZero() {
		addSat(&sub.total(asset).seed, &split[1])
		sub.addSink(AccountSink{Kind: SinkRelayer, Address: l.Withdrawal.Relayer, TxID: l.WithdrawalTx, Asset: asset,
			Time: rec.Block.Time, amt: split[1], at: acctPos{rec.Block.Height, -1}}, nil)
	}
	if !split[0].IsZero() {
		n, err := sub.follow(ctx, l.Withdrawal.To, acctPos{rec.Block.Height, -1})
		if err != nil {
			return err
		}
		n.claims++
		g := acctGroup{rec.Block.Height, rec.Tx.Index}
		sub.claims[g] = append(sub.claims[g], txClaim{node: n, asset: asset, amount: split[0], tx: l.WithdrawalTx, time: rec.Block.Time})
		if err := sub.run(ctx); err != nil {
			return err
		}
		if err := sub.finishMixers(ctx); err != nil {
			return err
		}
	}
	if err := sub.finish(ctx); err != nil {
		return err
	}
	via := &Via{Method: "tornado", Src: l.DepositTx, Dst: l.WithdrawalTx, Confidence: l.Confidence, Inferred: true, Heuristics: l.Heuristics}
	for _, s := range sub.res.Sinks {
		s.Via = via
		s.Hops += hop + 1
		lt.Sinks = append(lt.Sinks, s)
	}
	lt.Edges = append(lt.Edges, sub.res.Edges...)
	addSat(&lt.fees, &sub.fees)
	for a, t := range sub.totals {
		u, ok := lt.totals[a]
		if !ok {
			u = &AssetTotal{Asset: a, Decimals: t.Decimals}
			lt.totals[a] = u
		}
		addSat(&u.seed, &t.seed)
		addSat(&u.conv, &t.conv)
		addSat(&u.sinks, &t.sinks)
		addSat(&u.fees, &t.fees)
	}
	e.res.Stats.TxsVisited += sub.res.Stats.TxsVisited
	e.res.Stats.TransfersVisited += sub.res.Stats.TransfersVisited
	return nil
}

// done fills the part's JSON fields.
func (lt *LinkedTrace) done() {
	lt.Fees = lt.fees.Dec()
	for _, t := range lt.totals {
		t.Seed, t.Converted, t.Sinks, t.Fees = t.seed.Dec(), t.conv.Dec(), t.sinks.Dec(), t.fees.Dec()
		lt.Assets = append(lt.Assets, *t)
	}
	slices.SortFunc(lt.Assets, func(a, b AssetTotal) int { return slices.Compare(a.Asset[:], b.Asset[:]) })
	if lt.Sinks == nil {
		lt.Sinks = []AccountSink{}
	}
	if lt.Edges == nil {
		lt.Edges = []AccountEdge{}
	}
}
