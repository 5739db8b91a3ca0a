package trace

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// This file records where an account trace's taint stops (sinks, edges,
// per-asset totals) and finishes the result.

// threshold returns the smallest taint followed in asset: MinAmount, or
// 10^(decimals−6) base units.
func (e *acctEngine) threshold(ctx context.Context, asset heistgraph.Asset) (*uint256.Int, error) {
	if e.o.MinAmount != nil {
		return e.o.MinAmount, nil
	}
	if v, ok := e.minAmt[asset]; ok {
		return &v, nil
	}
	d, err := e.decimalsOf(ctx, asset)
	if err != nil {
		return nil, err
	}
	var v uint256.Int
	v.SetOne()
	if d > 6 {
		v.Exp(uint256.NewInt(10), uint256.NewInt(uint64(d-6)))
	}
	e.minAmt[asset] = v
	return &v, nil
}

// decimalsOf returns an asset's decimals: the chain's for native, the
// stored token metadata's (0 when unknown) for a token.
func (e *acctEngine) decimalsOf(ctx context.Context, asset heistgraph.Asset) (uint8, error) {
	if d, ok := e.decimals[asset]; ok {
		return d, nil
	}
	var d uint8
	if asset.IsNative() {
		info, _ := heistgraph.LookupChain(e.o.Chain)
		d = info.Decimals
	} else {
		t, err := e.r.Token(ctx, e.o.Chain, heistgraph.EVMAddress(asset))
		switch {
		case err == nil && t.Known:
			d = t.Decimals
		case err != nil && !errors.Is(err, heistgraph.ErrNotFound):
			return 0, fmt.Errorf("trace: %w", err)
		}
	}
	e.decimals[asset] = d
	return d, nil
}

// resolve returns the entity of addr (nil when none), cached.
func (e *acctEngine) resolve(ctx context.Context, addr heistgraph.EVMAddress) (*heistgraph.EntityRef, error) {
	if e.o.Resolver == nil {
		return nil, nil
	}
	a, ok := e.entities[addr]
	if !ok {
		ref, found, err := e.o.Resolver.Resolve(ctx, e.o.Chain, addr.Lower())
		if err != nil {
			return nil, fmt.Errorf("trace: resolve %s: %w", addr.Hex(), err)
		}
		a = acctEntity{ref, found}
		e.entities[addr] = a
	}
	if !a.ok {
		return nil, nil
	}
	return &a.ref, nil
}

// entityOf returns the cached entity of addr, if it was resolved.
func (e *acctEngine) entityOf(addr heistgraph.EVMAddress) *heistgraph.EntityRef {
	if a, ok := e.entities[addr]; ok && a.ok {
		return &a.ref
	}
	return nil
}

func (e *acctEngine) total(asset heistgraph.Asset) *AssetTotal {
	t, ok := e.totals[asset]
	if !ok {
		t = &AssetTotal{Asset: asset}
		e.totals[asset] = t
	}
	return t
}

// edge adds tainted value moving from → to.
func (e *acctEngine) edge(ev *store.AccountEvent, from, to heistgraph.EVMAddress, asset heistgraph.Asset, amt *uint256.Int) {
	k := acctEdgeKey{from, to, asset}
	ed, ok := e.edges[k]
	if !ok {
		ed = &AccountEdge{From: from, To: to, Asset: asset, Chain: e.o.Chain, first: posOf(ev)}
		e.edges[k] = ed
		e.edgeList = append(e.edgeList, ed)
	}
	addSat(&ed.amt, amt)
	ed.Transfers++
}

// sink records taint at rest at addr, brought by ev's transaction.
func (e *acctEngine) sink(kind SinkKind, ev *store.AccountEvent, addr heistgraph.EVMAddress, asset heistgraph.Asset, amt *uint256.Int, hop int, ent *heistgraph.EntityRef, reason string) {
	e.addSink(AccountSink{Kind: kind, Address: addr, TxID: ev.Transfer.TxHash, Asset: asset, Hops: hop, Reason: reason,
		Time: ev.Block.Time, amt: *amt, at: posOf(ev)}, ent)
}

// sinkAt0 records the taint h holds as a sink.
func (e *acctEngine) sinkAt0(kind SinkKind, h *holding, reason string) {
	if h.p.tnt.IsZero() {
		return // a poisoned balance that is empty now
	}
	e.addSink(AccountSink{Kind: kind, Address: h.node.addr, TxID: h.lastTx, Asset: h.asset, Hops: h.p.hop, Reason: reason,
		Time: h.lastT, amt: h.p.tnt, at: h.lastAt}, e.entityOf(h.node.addr))
}

func (e *acctEngine) addSink(s AccountSink, ent *heistgraph.EntityRef) {
	if ent != nil {
		s.Entity, s.Category = ent.Name, ent.Category
	}
	s.Chain = e.o.Chain
	addSat(&e.total(s.Asset).sinks, &s.amt)
	k := acctSinkKey{s.Kind, s.Address, s.Asset, s.TxID, s.Reason}
	if i, ok := e.sinkAt[k]; ok {
		addSat(&e.sinks[i].amt, &s.amt)
		e.sinks[i].Hops = min(e.sinks[i].Hops, s.Hops)
		return
	}
	e.sinkAt[k] = len(e.sinks)
	e.sinks = append(e.sinks, s)
}

// finish turns the taint still held into sinks (unspent; hop_limit with
// reason budget, or unspent with reason until, where the walk stopped
// early), orders the result and checks conservation per asset.
func (e *acctEngine) finish(ctx context.Context) error {
	addrs := make([]heistgraph.EVMAddress, 0, len(e.nodes))
	for a := range e.nodes {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, func(a, b heistgraph.EVMAddress) int { return slices.Compare(a[:], b[:]) })
	for _, a := range addrs {
		n := e.nodes[a]
		if e.o.Policy == Poison {
			if err := e.restingPoison(ctx, n); err != nil {
				return err
			}
		}
		for _, h := range n.hold {
			if err := e.flush(ctx, h); err != nil {
				return err
			}
			if !h.p.tainted() {
				continue
			}
			kind, reason := SinkUnspent, ""
			if n.idx >= 0 {
				switch e.cut {
				case "budget":
					kind, reason = SinkHopLimit, "budget"
				case "until":
					reason = "until"
				}
			}
			e.sinkAt0(kind, h, reason)
		}
	}
	// Transaction seeds the walk did not reach (it stopped first) rest
	// where they were put.
	groups := make([]acctGroup, 0, len(e.claims))
	for g := range e.claims {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b acctGroup) int { return cmp.Or(cmp.Compare(a.h, b.h), cmp.Compare(a.tx, b.tx)) })
	for _, g := range groups {
		for _, c := range e.claims[g] {
			kind, reason := SinkUnspent, e.cut
			if e.cut == "budget" {
				kind = SinkHopLimit
			}
			addSat(&e.total(c.asset).seed, &c.amount)
			e.addSink(AccountSink{Kind: kind, Address: c.node.addr, TxID: c.tx, Asset: c.asset, Reason: reason, Time: c.time,
				amt: c.amount, at: acctPos{g.h, -1}}, e.entityOf(c.node.addr))
		}
	}
	res := e.res
	res.Sinks = e.sinks
	if res.Sinks == nil {
		res.Sinks = []AccountSink{}
	}
	for i := range res.Sinks {
		s := &res.Sinks[i]
		s.Amount = s.amt.Dec()
		d, err := e.decimalsOf(ctx, s.Asset)
		if err != nil {
			return err
		}
		s.Decimals = d
	}
	slices.SortStableFunc(res.Sinks, func(a, b AccountSink) int {
		return cmp.Or(cmp.Compare(a.at.h, b.at.h), cmp.Compare(a.at.seq, b.at.seq), slices.Compare(a.Address[:], b.Address[:]),
			slices.Compare(a.Asset[:], b.Asset[:]), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Reason, b.Reason))
	})
	// Edges are made in ledger order, the result's order but for ties:
	// sorted (as pointers: an edge is about 200 bytes) only when needed.
	eds := e.edgeList
	edgeCmp := func(a, b *AccountEdge) int {
		return cmp.Or(cmp.Compare(a.first.h, b.first.h), cmp.Compare(a.first.seq, b.first.seq), slices.Compare(a.From[:], b.From[:]),
			slices.Compare(a.To[:], b.To[:]), slices.Compare(a.Asset[:], b.Asset[:]))
	}
	if !slices.IsSortedFunc(eds, edgeCmp) {
		slices.SortFunc(eds, edgeCmp)
	}
	res.Edges = make([]AccountEdge, len(eds))
	for i, ed := range eds {
		ed.Amount = ed.amt.Dec()
		res.Edges[i] = *ed
	}
	res.Fees = e.fees.Dec()
	var seeded []heistgraph.Asset
	for a, t := range e.totals {
		d, err := e.decimalsOf(ctx, a)
		if err != nil {
			return err
		}
		t.Decimals = d
		t.Seed, t.Converted, t.Sinks, t.Fees = t.seed.Dec(), t.conv.Dec(), t.sinks.Dec(), t.fees.Dec()
		res.Assets = append(res.Assets, *t)
		if !t.seed.IsZero() {
			seeded = append(seeded, a)
		}
		if res.Conserved && !t.Balanced() {
			return fmt.Errorf("trace: internal error: %s not conserved: seed %s + converted %s != sinks %s + fees %s",
				a, t.Seed, t.Converted, t.Sinks, t.Fees)
		}
	}
	slices.SortFunc(res.Assets, func(a, b AssetTotal) int {
		return slices.Compare(a.Asset[:], b.Asset[:]) // native (the zero address) first
	})
	if res.Assets == nil {
		res.Assets = []AssetTotal{}
	}
	if len(seeded) == 1 {
		t := e.totals[seeded[0]]
		res.SeedAmount, res.SeedAsset, res.Decimals = t.Seed, seeded[0].String(), t.Decimals
	}
	return nil
}

// restingPoison sets each poisoned balance of n to the address's whole
// balance of its asset where the walk stopped: the stored balance at the
// tip (store.AccountSummary) less the net of what n's stream still holds
// after the stop, and at least what the walk saw rest there. Queues are
// flushed first.
func (e *acctEngine) restingPoison(ctx context.Context, n *acctNode) error {
	poisoned := false
	for _, h := range n.hold {
		if err := e.flush(ctx, h); err != nil {
			return err
		}
		poisoned = poisoned || h.p.tainted()
	}
	if !poisoned {
		return nil
	}
	sum, err := e.r.AccountSummary(ctx, e.o.Chain, n.addr)
	if err != nil {
		return fmt.Errorf("trace: balance of %s: %w", n.addr.Hex(), err)
	}
	type flow struct{ in, out uint256.Int }
	later := map[heistgraph.Asset]*flow{}
	if n.idx >= 0 {
		ev := n.cur
		for {
			if ev.Credit != ev.Debit && n.holding(ev.Transfer.Asset) != nil {
				f := later[ev.Transfer.Asset]
				if f == nil {
					f = &flow{}
					later[ev.Transfer.Asset] = f
				}
				if ev.Credit {
					addSat(&f.in, &ev.Transfer.Amount)
				} else {
					addSat(&f.out, &ev.Transfer.Amount)
				}
			}
			var ok bool
			ev, err, ok = n.next()
			if err != nil {
				return fmt.Errorf("trace: %w", err)
			}
			if !ok {
				break
			}
		}
	}
	for _, h := range n.hold {
		if !h.p.tainted() {
			continue
		}
		b, _ := sum.Balance(h.asset)
		bal := b.Balance
		if f := later[h.asset]; f != nil {
			addSat(&bal, &f.out)
			if bal.Lt(&f.in) {
				bal.Clear()
			} else {
				bal.Sub(&bal, &f.in)
			}
		}
		// What the walk saw rest there is a floor (a store without the
		// address's earlier history shows a smaller balance).
		if bal.Lt(&h.p.amt) {
			bal = h.p.amt
		}
		h.p.amt, h.p.tnt, h.p.lots = bal, bal, h.p.lots[:0]
	}
	return nil
}
