package risk

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// This file screens addresses of account (EVM) chains (methods.md §8.3 on
// accounts): each address's balance of each asset carries the §2.2
// haircut state with categories as sources, hop-resolved.
//
//   - Injection: a debit of an address whose owner (its cluster, or the
//     address alone) carries labels gives the receiver, for each category
//     valid at that time, the whole amount at hop 1, naming the entity.
//   - Propagation: an unlabelled address's debit of a carries, for each
//     (category, hop h < H) of its balance, ⌊a·tainted/balance⌋ at hop
//     h+1, taken out of its state (the per-debit floor of §2.2: the
//     residue stays). Fees take their share and carry it nowhere. A
//     history that starts above block 0 can debit more than it was seen
//     to receive: the balance is then taken as the debit.
//   - Aggregation (§8.4): over the credits to the screened cluster from
//     outside it, per asset: shares are over what it received of that
//     asset, and the rules of §8.5 run on each asset's shares; the answer
//     takes the highest level and lists every asset's entries with their
//     asset. Amounts are summed and reported exactly; the rules, which
//     take 64-bit amounts, judge an asset whose received total passes
//     2^62 base units on amounts rounded down to a power of ten (shares
//     then move by less than one part in 10^17 per entry).
//
// Exposure is looked up in the precomputed table (evmtable.go) when
// Precompute built one that ends at the tip, else computed on demand, by
// reading the histories of the senders up to H−1 hops back, within the
// Screener's budget of reads: the same answers, as long as the budget
// does not run out. What
// it does not do yet: sent-side exposure, the dusting cap and prices.
// Stolen value comes from the Stolen hook when it is an AccountStolen
// (evmstolen.go).

// acctKey places a transfer: its block and position in the block's
// ledger, the same for its debit and its credit.
type acctKey struct {
	height int64
	seq    int32
}

// avector is the exposure an account transfer carries: base units of its
// asset by coordinate.
type avector map[vkey]uint256.Int

// acctRun computes account exposure for one screen.
type acctRun struct {
	*run
	ar    store.AccountReader
	memo  map[acctMemoKey]map[acctKey]avector
	hist  map[heistgraph.EVMAddress][]store.AccountEvent
	reads int
	tab   *acctTable // the precomputed exposure, when it ends at the tip; else nil
}

// history returns addr's transfers up to the screen's tip, read once per
// screen; ok is false when the budget ran out (then a note says so).
func (x *acctRun) history(addr heistgraph.EVMAddress) ([]store.AccountEvent, bool, error) {
	if h, ok := x.hist[addr]; ok {
		return h, true, nil
	}
	var h []store.AccountEvent
	for ev, err := range x.ar.AccountHistory(x.ctx, x.chain, addr, store.AccountHistoryOptions{ToHeight: max(x.tip, 0)}) {
		if err != nil {
			return nil, false, fmt.Errorf("risk: history of %s: %w", addr.Hex(), err)
		}
		if x.reads++; x.reads > 50*x.cfg.Budget {
			x.budget = true
			x.note(fmt.Sprintf("the budget of %d transfers read (50 per transaction of the budget) ran out: exposure is partial", 50*x.cfg.Budget))
			return nil, false, nil
		}
		h = append(h, ev)
	}
	x.hist[addr] = h
	return h, true, nil
}

type acctMemoKey struct {
	addr  heistgraph.EVMAddress
	depth int
}

// carried returns what each debit of addr carries to its receiver, at
// hops up to depth, keyed by the transfer.
func (x *acctRun) carried(addr heistgraph.EVMAddress, depth int) (map[acctKey]avector, error) {
	mk := acctMemoKey{addr, depth}
	if m, ok := x.memo[mk]; ok {
		return m, nil
	}
	out := map[acctKey]avector{}
	x.memo[mk] = out
	if depth < 1 || x.budget {
		return out, nil
	}
	o, err := x.ownerOf(addr.Lower())
	if err != nil {
		return nil, err
	}
	labelled := len(o.labels) > 0
	if !labelled && depth < 2 {
		return out, nil
	}
	type state struct {
		balance uint256.Int
		tainted map[vkey]uint256.Int
	}
	states := map[heistgraph.Asset]*state{}
	hist, ok, err := x.history(addr)
	if err != nil || !ok {
		return out, err
	}
	for i := range hist {
		ev := &hist[i]
		t := &ev.Transfer
		k := acctKey{ev.Block.Height, ev.Seq}
		if labelled {
			if ev.Debit && !ev.Credit && t.Kind != heistgraph.TransferFee {
				var v avector
				for _, c := range o.cats(ev.Block.Time, x.cfg.WeakConfidence) {
					if v == nil {
						v = avector{}
					}
					v[vkey{cat: c.cat, hop: 1, entity: c.entity, source: c.source, owner: o.id, conf: c.conf, weak: c.weak}] = t.Amount
				}
				if v != nil {
					out[k] = v
				}
			}
			continue
		}
		if ev.Credit && ev.Debit {
			continue // a self-transfer moves nothing
		}
		s := states[t.Asset]
		if s == nil {
			s = &state{tainted: map[vkey]uint256.Int{}}
			states[t.Asset] = s
		}
		if ev.Credit {
			s.balance.Add(&s.balance, &t.Amount)
			if t.From.IsZero() {
				continue
			}
			in, err := x.carried(t.From, depth-1)
			if err != nil {
				return nil, err
			}
			for vk, a := range in[k] {
				cur := s.tainted[vk]
				cur.Add(&cur, &a)
				s.tainted[vk] = cur
			}
			continue
		}
		if s.balance.Lt(&t.Amount) {
			s.balance = t.Amount
		}
		var v avector
		for _, vk := range slices.SortedFunc(maps.Keys(s.tainted), vkeyCmp) {
			cur := s.tainted[vk]
			var c uint256.Int
			c.MulDivOverflow(&t.Amount, &cur, &s.balance)
			if c.IsZero() {
				continue
			}
			cur.Sub(&cur, &c)
			s.tainted[vk] = cur
			if t.Kind == heistgraph.TransferFee || vk.hop+1 > depth {
				continue
			}
			if v == nil {
				v = avector{}
			}
			nk := vkey{cat: vk.cat, hop: vk.hop + 1, weak: vk.weak}
			sum := v[nk]
			sum.Add(&sum, &c)
			v[nk] = sum
		}
		s.balance.Sub(&s.balance, &t.Amount)
		if v != nil {
			out[k] = v
		}
	}
	return out, nil
}

func vkeyCmp(a, b vkey) int {
	return cmp.Or(cmp.Compare(a.cat, b.cat), cmp.Compare(a.hop, b.hop), cmp.Compare(a.entity, b.entity),
		cmp.Compare(a.source, b.source), cmp.Compare(a.owner, b.owner))
}

// assetAgg is what the screened cluster received of one asset.
type assetAgg struct {
	total   uint256.Int
	entries map[vkey]uint256.Int
	times   map[vkey]int64 // the last receipt's time of each entry
}

// screenAccount completes a, the answer for the address it.Address of an
// account chain (methods.md §8.3 on accounts, §8.4, §8.5).
func (r *run) screenAccount(a *Answer, it Item) error {
	ar, ok := r.st.(store.AccountReader)
	var tab *acctTable
	if ok {
		switch tip, err := ar.AccountTip(r.ctx, it.Chain); {
		case err == nil:
			a.AsOf = &AsOf{BlockHeight: tip.Height, Time: tip.Time}
			r.tip = tip.Height
			tab = r.acctTableAt(it.Chain, tip)
		case !errors.Is(err, heistgraph.ErrNotFound):
			return fmt.Errorf("risk: tip of %s: %w", it.Chain, err)
		}
	}
	if it.Tx != nil {
		if !ok {
			return fmt.Errorf("screen %s: the store keeps no account chains: %w", it.Tx, heistgraph.ErrNotFound)
		}
		return r.screenAccountTx(a, ar, tab, it)
	}
	a.Address = heistgraph.DisplayAddress(it.Chain, it.Address) // EIP-55
	self, err := r.ownerOf(it.Address)
	if err != nil {
		return err
	}
	if !ok {
		r.note("the store keeps no account chains: ownership only")
		r.finish(a, []*owner{self}, newAgg(r.cfg.H))
		return nil
	}
	if it.Direction == Sent {
		r.note("sent-side exposure is not computed on account chains yet: ownership only")
		r.finish(a, []*owner{self}, newAgg(r.cfg.H))
		return nil
	}
	if self.cluster != 0 {
		id := self.cluster
		a.ClusterID = &id
		if sz, err := r.clusterSize(r.ctx, it.Chain, id); err == nil {
			a.ClusterSize = sz
		}
	}
	members, _, err := r.members(self, it.Address, it.NoCluster)
	if err != nil {
		return err
	}
	inside := map[heistgraph.EVMAddress]bool{}
	var addrs []heistgraph.EVMAddress
	for _, m := range members {
		ea, err := heistgraph.ParseEVMAddress(m)
		if err != nil {
			return fmt.Errorf("risk: member %s: %w", m, err)
		}
		inside[ea] = true
		addrs = append(addrs, ea)
	}
	x := &acctRun{run: r, ar: ar, tab: tab, memo: map[acctMemoKey]map[acctKey]avector{}, hist: map[heistgraph.EVMAddress][]store.AccountEvent{}}
	byAsset := map[heistgraph.Asset]*assetAgg{}
	for _, m := range addrs {
		for ev, err := range ar.AccountHistory(r.ctx, it.Chain, m, store.AccountHistoryOptions{ToHeight: max(r.tip, 0)}) {
			if err != nil {
				return fmt.Errorf("risk: history of %s: %w", m.Hex(), err)
			}
			if !ev.Credit || ev.Debit || inside[ev.Transfer.From] {
				continue // self-transfers inside the cluster do not count (§8.4)
			}
			if err := x.receive(byAsset, &ev); err != nil {
				return err
			}
		}
	}
	if err := r.addStolen(addrs, inside, byAsset); err != nil {
		return err
	}
	return r.judgeAssets(a, self, byAsset)
}

// screenAccountTx completes a for the transfer it.Tx (methods.md §8.4 on
// one deposit): what the transaction's first recipient of value received
// in it, per asset, with the exposure those transfers carried; ownership
// comes from the transaction's sender. A transaction the store does not
// hold wraps heistgraph.ErrNotFound; one that moved no value,
// heistgraph.ErrInvalid. Stolen marks, which sum a receiver's whole
// history per sender, are not applied to one transfer.
func (r *run) screenAccountTx(a *Answer, ar store.AccountReader, tab *acctTable, it Item) error {
	rec, err := ar.AccountTx(r.ctx, it.Chain, *it.Tx)
	if err != nil {
		return fmt.Errorf("screen %s: %w", it.Tx, err)
	}
	var recv heistgraph.EVMAddress
	found := false
	for i := range rec.Transfers {
		if t := &rec.Transfers[i]; t.Kind != heistgraph.TransferFee && t.Debits() && t.Credits() && t.From != t.To {
			recv, found = t.To, true
			break
		}
	}
	if !found {
		return fmt.Errorf("screen %s: the transaction moved no value to anyone: %w", it.Tx, heistgraph.ErrInvalid)
	}
	a.Address, a.TxHash = recv.Hex(), it.Tx
	payer, err := r.ownerOf(rec.Tx.From.Lower())
	if err != nil {
		return err
	}
	self, err := r.ownerOf(recv.Lower())
	if err != nil {
		return err
	}
	if self.cluster != 0 {
		id := self.cluster
		a.ClusterID = &id
		if sz, err := r.clusterSize(r.ctx, it.Chain, id); err == nil {
			a.ClusterSize = sz
		}
	}
	if it.Direction == Sent {
		r.note("sent-side exposure is not computed on account chains yet: ownership only")
		r.finish(a, []*owner{payer}, newAgg(r.cfg.H))
		return nil
	}
	x := &acctRun{run: r, ar: ar, tab: tab, memo: map[acctMemoKey]map[acctKey]avector{}, hist: map[heistgraph.EVMAddress][]store.AccountEvent{}}
	byAsset := map[heistgraph.Asset]*assetAgg{}
	h := rec.Block.Height
	for ev, err := range ar.AccountHistory(r.ctx, it.Chain, recv, store.AccountHistoryOptions{FromHeight: h, ToHeight: max(h, 1)}) {
		if err != nil {
			return fmt.Errorf("risk: history of %s: %w", recv.Hex(), err)
		}
		t := &ev.Transfer
		if ev.Block.Height != h || t.TxHash != *it.Tx || !ev.Credit || ev.Debit || t.From.IsZero() {
			continue // mints and WETH deposits are conversions, not the transfer
		}
		if err := x.receive(byAsset, &ev); err != nil {
			return err
		}
	}
	return r.judgeAssets(a, payer, byAsset)
}

// receive adds the credit ev and the exposure it carried to byAsset.
func (x *acctRun) receive(byAsset map[heistgraph.Asset]*assetAgg, ev *store.AccountEvent) error {
	t := &ev.Transfer
	g := byAsset[t.Asset]
	if g == nil {
		g = &assetAgg{entries: map[vkey]uint256.Int{}, times: map[vkey]int64{}}
		byAsset[t.Asset] = g
	}
	g.total.Add(&g.total, &t.Amount)
	if t.From.IsZero() {
		return nil
	}
	k := acctKey{ev.Block.Height, ev.Seq}
	var in avector
	if x.tab != nil {
		in = x.tab.vector(k)
	} else {
		m, err := x.carried(t.From, x.cfg.H)
		if err != nil {
			return err
		}
		in = m[k]
	}
	for vk, amt := range in {
		cur := g.entries[vk]
		cur.Add(&cur, &amt)
		g.entries[vk] = cur
		g.times[vk] = ev.Block.Time
	}
	return nil
}

// judgeAssets runs the rules on each asset's shares and puts the results
// together in a: the highest level and score, every asset's entries and
// reasons (prefixed with the asset).
func (r *run) judgeAssets(a *Answer, self *owner, byAsset map[heistgraph.Asset]*assetAgg) error {
	if len(byAsset) == 0 {
		r.finish(a, []*owner{self}, newAgg(r.cfg.H))
		return nil
	}
	assets := slices.SortedFunc(maps.Keys(byAsset), func(x, y heistgraph.Asset) int { return cmp.Compare(x.Key(), y.Key()) })
	var owned []Direct
	a.Reasons = []string{}
	reasons := map[string][]string{} // reason → the assets it holds for
	var order []string               // reasons, first seen first
	for i, as := range assets {
		g := byAsset[as]
		dec, err := r.decimals(as)
		if err != nil {
			return err
		}
		// The rules take int64 amounts: scale a huge total down.
		scale := uint256.NewInt(1)
		limit := uint256.NewInt(1 << 62)
		for !new(uint256.Int).Div(&g.total, scale).Lt(limit) {
			scale.Mul(scale, uint256.NewInt(10))
		}
		ag := newAgg(r.cfg.H)
		ag.total = int64(new(uint256.Int).Div(&g.total, scale).Uint64())
		for _, vk := range slices.SortedFunc(maps.Keys(g.entries), vkeyCmp) {
			amt := g.entries[vk]
			ag.add(vk, int64(new(uint256.Int).Div(&amt, scale).Uint64()), g.times[vk])
		}
		ta := &Answer{Direction: a.Direction, Direct: []Direct{}, Indirect: []Indirect{}, Reasons: []string{}}
		r.finish(ta, []*owner{self}, ag)
		d := dec
		exact := func(cat string, hop int, entity, source string) string {
			var sum uint256.Int
			for vk, amt := range g.entries {
				if vk.cat == cat && vk.hop == hop && (hop != 1 || vk.entity == entity && vk.source == source) {
					sum.Add(&sum, &amt)
				}
			}
			return sum.Dec()
		}
		for _, e := range ta.Direct {
			if e.Kind == KindOwnership {
				if i == 0 {
					owned = append(owned, e)
				}
				continue
			}
			e.Amount, e.Asset, e.Decimals, e.AmountSat = exact(e.Category, 1, e.Entity, e.Source), as.String(), &d, 0
			a.Direct = append(a.Direct, e)
		}
		for _, e := range ta.Indirect {
			e.Amount, e.Asset, e.Decimals, e.AmountSat = exact(e.Category, e.Hops, "", ""), as.String(), &d, 0
			a.Indirect = append(a.Indirect, e)
		}
		for _, why := range ta.Reasons {
			if reasons[why] == nil {
				order = append(order, why)
			}
			reasons[why] = append(reasons[why], as.String())
		}
		if ta.Risk.rank() > a.Risk.rank() || i == 0 {
			a.Risk = ta.Risk
		}
		a.Score = max(a.Score, ta.Score)
		a.Sanctioned = a.Sanctioned || ta.Sanctioned
		for c, l := range ta.Levels {
			if a.Levels == nil {
				a.Levels = map[string]Level{}
			}
			if l.rank() > a.Levels[c].rank() {
				a.Levels[c] = l
			}
		}
		a.Received = append(a.Received, AssetAmount{Asset: as.String(), Amount: g.total.Dec(), Decimals: dec})
	}
	// A reason every asset gives (ownership) is said once; the others
	// name their asset.
	for _, why := range order {
		as := reasons[why]
		if len(as) == len(assets) {
			a.Reasons = append(a.Reasons, why)
			continue
		}
		for _, x := range as {
			a.Reasons = append(a.Reasons, x+": "+why)
		}
	}
	a.Direct = append(owned, a.Direct...)
	a.ClusterConfidence = r.clusterConf
	a.Notes = r.notes
	a.Partial = len(r.notes) > 0
	return nil
}

// decimals returns the decimals of asset (18 for the native coin and for
// tokens the store has no metadata of).
func (r *run) decimals(as heistgraph.Asset) (uint8, error) {
	if as.IsNative() {
		if info, ok := heistgraph.LookupChain(r.chain); ok {
			return info.Decimals, nil
		}
		return 18, nil
	}
	ar, _ := r.st.(store.AccountReader)
	t, err := ar.Token(r.ctx, r.chain, heistgraph.EVMAddress(as))
	switch {
	case err == nil && t.Known:
		return t.Decimals, nil
	case err != nil && !errors.Is(err, heistgraph.ErrNotFound):
		return 0, fmt.Errorf("risk: token %s: %w", as, err)
	}
	return 18, nil
}
