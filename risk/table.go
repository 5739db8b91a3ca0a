package risk

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Table is the precomputed exposure of one chain (methods.md §8.3): the
// vector X(o) of every output that carries any, the owners of every
// transaction's inputs (for the self-transfer test), and what every address
// received from outside its owner with its exposure summed, computed in one
// forward pass over the blocks. With it, a transfer screen is a lookup and
// an address screen adds up its cluster's members (receipts above the
// table's height are still read from their histories). It holds what the
// Screener's labels, clusters and Stolen hook said when it was built, so
// rebuild it (with a new Screener) after labels change or clustering merges
// or splits clusters; a reorg below its height rebuilds it. It lives in
// memory (a store role to persist it is future work).
type Table struct {
	chain  heistgraph.Chain
	height int64 // the last block applied, -1 when none
	hash   heistgraph.Hash
	// vecs holds X(o) of every output carrying exposure as a span of
	// ents, whose coordinates are indices into keys (interned through
	// keyID): the map and ents hold no pointers, so the garbage collector
	// does not scan them (they are most of the table).
	vecs map[heistgraph.Outpoint]span
	// outs is every output of the transactions applied (what a transfer
	// screen needs of it), its address a run of abytes: no pointers.
	outs   map[heistgraph.Outpoint]outRec
	abytes []byte
	ents   []ventry
	keys   []vkey
	keyID  map[vkey]uint32
	payers map[heistgraph.Hash][]string // every transaction applied (nil for a coinbase)
	// paid holds, for every transaction applied, each of its payers
	// (payers' ids) with each owner it paid that has a label of a risky
	// category: what the dusting control asks (methods.md §8.6, "C never
	// sent anything to that counterparty"), without walking C's spends.
	paid map[paidPair]struct{}
	// members is the members walk done for every clustered address (nil
	// when nothing was clustered).
	members *memberIndex
	// addrs is what each address received from outside its owner while
	// the table is built; freeze moves it to recv (by address) and rents
	// (pointer-free) and drops it.
	addrs map[string]*addrAgg
	recv  map[string]recvSpan
	rents []rentry
	txs   int
}

// outRec is one output: its address (Table.abytes[off:off+n]), value and
// block time.
type outRec struct {
	off   uint32
	n     uint32
	value int64
	time  int64
}

// output returns the address, value and block time of op when t covers
// its transaction (ok false otherwise).
func (t *Table) output(op heistgraph.Outpoint) (addr string, value, time int64, ok bool) {
	o, ok := t.outs[op]
	if !ok {
		return "", 0, 0, false
	}
	return string(t.abytes[o.off : o.off+o.n]), o.value, o.time, true
}

// span is a run of Table.ents.
type span struct{ off, n uint32 }

// ventry is one coordinate of a stored vector: Table.keys[key] and its
// amount.
type ventry struct {
	key uint32
	amt int64
}

// vec returns X(op) as put (nil when it carries nothing), a new map.
func (t *Table) vec(op heistgraph.Outpoint) vector {
	sp, ok := t.vecs[op]
	if !ok {
		return nil
	}
	v := make(vector, sp.n)
	for _, e := range t.ents[sp.off : sp.off+sp.n] {
		v[t.keys[e.key]] = e.amt
	}
	return v
}

// putVec stores X(op) = v (not empty).
func (t *Table) putVec(op heistgraph.Outpoint, v vector) {
	sp := span{off: uint32(len(t.ents)), n: uint32(len(v))}
	for k, a := range v {
		id, ok := t.keyID[k]
		if !ok {
			id = uint32(len(t.keys))
			t.keys = append(t.keys, k)
			t.keyID[k] = id
		}
		t.ents = append(t.ents, ventry{key: id, amt: a})
	}
	t.vecs[op] = sp
}

// recvSpan is an address's received total and its run of Table.rents.
type recvSpan struct {
	total int64
	off   uint32
	n     uint32
}

// rentry is one coordinate of what an address received: Table.keys[key],
// the amount, and for hop 1 the UTC day (-1 above hop 1).
type rentry struct {
	key uint32
	day int64
	amt int64
}

// freeze moves the build form of what addresses received (addrs) to the
// compact one that screens read (recv, rents), in a fixed order: the
// coordinates above hop 1, then hop 1's by coordinate and day.
func (t *Table) freeze() {
	t.recv = make(map[string]recvSpan, len(t.addrs))
	t.rents = t.rents[:0:0]
	id := func(k vkey) uint32 {
		i, ok := t.keyID[k]
		if !ok {
			i = uint32(len(t.keys))
			t.keys = append(t.keys, k)
			t.keyID[k] = i
		}
		return i
	}
	for addr, a := range t.addrs {
		sp := recvSpan{total: a.total, off: uint32(len(t.rents))}
		for k, amt := range a.x {
			if k.hop != 1 {
				t.rents = append(t.rents, rentry{key: id(k), day: -1, amt: amt})
			}
		}
		for k, days := range a.days {
			for _, d := range slices.Sorted(maps.Keys(days)) {
				t.rents = append(t.rents, rentry{key: id(k), day: d, amt: days[d]})
			}
		}
		sp.n = uint32(len(t.rents)) - sp.off
		t.recv[addr] = sp
	}
	t.addrs = nil
}

// thaw returns the build form of what addresses received in frozen t.
func (t *Table) thaw() map[string]*addrAgg {
	out := make(map[string]*addrAgg, len(t.recv))
	for addr, sp := range t.recv {
		a := &addrAgg{total: sp.total}
		for _, e := range t.rents[sp.off : sp.off+sp.n] {
			k := t.keys[e.key]
			if a.x == nil {
				a.x = map[vkey]int64{}
			}
			a.x[k] += e.amt
			if e.day >= 0 {
				if a.days == nil {
					a.days = map[vkey]map[int64]int64{}
				}
				if a.days[k] == nil {
					a.days[k] = map[int64]int64{}
				}
				a.days[k][e.day] += e.amt
			}
		}
		out[addr] = a
	}
	return out
}

// addrAgg is one address's received exposure (methods.md §8.4 summed over
// its receipts, self-transfers excluded): the value received, X summed
// per coordinate, and the hop-1 amounts per UTC day (for USD valuation).
type addrAgg struct {
	total int64
	x     map[vkey]int64
	days  map[vkey]map[int64]int64
}

// TableStats describes a Table.
type TableStats struct {
	Chain   heistgraph.Chain
	Height  int64 // the last block applied, -1 when none
	Txs     int   // transactions applied
	Outputs int   // outputs that carry exposure
	Entries int   // (output, category, hop) entries
	// Clustered is how many addresses the members index holds, in
	// Components components, in MemberBytes bytes.
	Clustered, Components int
	MemberBytes           int64
}

// Stats returns the size of t.
func (t *Table) Stats() TableStats {
	n := 0
	for _, sp := range t.vecs {
		n += int(sp.n)
	}
	st := TableStats{Chain: t.chain, Height: t.height, Txs: t.txs, Outputs: len(t.vecs), Entries: n}
	if ix := t.members; ix != nil {
		st.Clustered, st.Components, st.MemberBytes = len(ix.ids), len(ix.comps), ix.bytes()
	}
	return st
}

// Precompute builds, or brings up to the chain's tip, the exposure Table
// of chain, and makes later screens of chain use it: exposure of
// transactions it covers is looked up, of newer ones computed on demand.
// Call it again after new blocks (it applies only those) or after a reorg
// (it notices that its last block left the best chain and rebuilds). It
// returns the table's size. Screens running meanwhile use the previous
// table. On an account (EVM) chain it builds evmtable.go's table instead,
// which screens use only while it ends at the chain's tip (else they
// compute on demand, the same answers).
func (s *Screener) Precompute(ctx context.Context, chain heistgraph.Chain) (TableStats, error) {
	if !chain.IsUTXO() {
		return s.precomputeAccount(ctx, chain)
	}
	idx, err := s.labels(ctx, chain)
	if err != nil {
		return TableStats{}, err
	}
	s.mu.Lock()
	old := s.tables[chain]
	s.mu.Unlock()
	t := &Table{chain: chain, height: -1, vecs: map[heistgraph.Outpoint]span{}, outs: map[heistgraph.Outpoint]outRec{}, keyID: map[vkey]uint32{}, payers: map[heistgraph.Hash][]string{}, paid: map[paidPair]struct{}{}, addrs: map[string]*addrAgg{}}
	if old != nil {
		b, err := s.st.BlockByHeight(ctx, chain, old.height)
		if err == nil && b.Hash == old.hash {
			// Extend a copy, so that running screens keep a consistent table.
			t.height, t.hash, t.txs = old.height, old.hash, old.txs
			// ents and keys are shared up to their length (clipped, so
			// that appending copies them); spans index them.
			t.vecs, t.keyID = maps.Clone(old.vecs), maps.Clone(old.keyID)
			t.ents, t.keys = slices.Clip(old.ents), slices.Clip(old.keys)
			t.outs, t.abytes = maps.Clone(old.outs), slices.Clip(old.abytes)
			for k, v := range old.payers {
				t.payers[k] = v
			}
			t.paid = maps.Clone(old.paid)
			t.addrs = old.thaw()
		}
	}
	tip, err := s.st.Tip(ctx, chain)
	if errors.Is(err, heistgraph.ErrNotFound) {
		t.freeze()
		s.setTable(chain, t)
		return t.Stats(), nil
	}
	if err != nil {
		return TableStats{}, fmt.Errorf("risk: precompute: tip of %s: %w", chain, err)
	}
	r := &run{Screener: s, ctx: ctx, chain: chain, idx: idx, txs: map[heistgraph.Hash]*heistgraph.TxRecord{},
		owners: map[string]*owner{}, vecs: map[txHop][]vector{}}
	bt, bulk := s.st.(store.BlockTxs)
	for h := t.height + 1; h <= tip.Height; h++ {
		b, err := s.st.BlockByHeight(ctx, chain, h)
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue
		}
		if err != nil {
			return TableStats{}, fmt.Errorf("risk: precompute: block %d: %w", h, err)
		}
		apply := func(rec *heistgraph.TxRecord) error { return r.applyTx(t, rec) }
		if bulk {
			for rec, err := range bt.BlockTxs(ctx, chain, h) {
				if err != nil {
					return TableStats{}, fmt.Errorf("risk: precompute: block %d: %w", h, err)
				}
				if err := apply(&rec); err != nil {
					return TableStats{}, err
				}
			}
		} else {
			for _, id := range b.TxIDs {
				rec, err := s.st.Tx(ctx, chain, id)
				if err != nil {
					return TableStats{}, fmt.Errorf("risk: precompute: tx %s: %w", id, err)
				}
				if err := apply(&rec); err != nil {
					return TableStats{}, err
				}
			}
		}
		t.height, t.hash = h, b.Hash
		if len(r.owners) > 1<<20 {
			r.owners = map[string]*owner{} // bound the memo on long chains
		}
	}
	t.freeze()
	if t.members, err = s.memberIndex(ctx, chain, old); err != nil {
		return TableStats{}, err
	}
	s.setTable(chain, t)
	return t.Stats(), nil
}

// memberIndex returns old's members index while the clustering of chain is
// the one it was built from, else a new one.
func (s *Screener) memberIndex(ctx context.Context, chain heistgraph.Chain, old *Table) (*memberIndex, error) {
	if old != nil && old.members != nil {
		tip, err := s.st.ClusterTip(ctx, chain)
		if err == nil && tip == old.members.tip {
			return old.members, nil
		}
	}
	return buildMemberIndex(ctx, s.st, chain)
}

// applyTx adds rec's outputs to t; its inputs' outputs are in t already
// (or carry nothing), since blocks and transactions come in chain order.
func (r *run) applyTx(t *Table, rec *heistgraph.TxRecord) error {
	t.txs++
	if rec.Tx.IsCoinbase() {
		t.payers[rec.Tx.TxID] = nil
		for j := range rec.Tx.Outputs {
			if err := t.put(r, heistgraph.Outpoint{TxID: rec.Tx.TxID, Vout: uint32(j)}, rec, nil); err != nil {
				return err
			}
		}
		return nil
	}
	vs, payers, err := r.exposeTx(rec, r.cfg.H, func(op heistgraph.Outpoint) (vector, error) { return t.vec(op), nil })
	if err != nil {
		return err
	}
	t.payers[rec.Tx.TxID] = payers
	if err := t.notePaid(r, rec, payers); err != nil {
		return err
	}
	for j, v := range vs {
		if err := t.put(r, heistgraph.Outpoint{TxID: rec.Tx.TxID, Vout: uint32(j)}, rec, v); err != nil {
			return err
		}
	}
	return nil
}

// paidPair is a payer and an owner it paid (owners' ids).
type paidPair struct{ payer, to string }

// notePaid records in t.paid that each of payers paid the owner of each
// output of rec that has a label of a risky category.
func (t *Table) notePaid(r *run, rec *heistgraph.TxRecord, payers []string) error {
	for _, out := range rec.Tx.Outputs {
		if out.Address == "" {
			continue
		}
		o, err := r.ownerOf(out.Address)
		if err != nil {
			return err
		}
		if !r.cfg.risky(o.labels) {
			continue
		}
		for _, p := range payers {
			t.paid[paidPair{p, o.id}] = struct{}{}
		}
	}
	return nil
}

// paysFor reports whether t.paid speaks for the spends of addrs, the
// members of self's cluster as run.members found them (size the cluster's
// size): when they are every address self's id stands for. A nil Table
// speaks for nothing.
func (t *Table) paysFor(self *owner, addrs []string, size int64, noCluster bool) bool {
	switch {
	case t == nil:
		return false
	case self.cluster == 0:
		return true // the address alone, its own owner
	case noCluster:
		return false // the address alone, but its id stands for its cluster
	default:
		return size > 0 && int64(len(addrs)) == size
	}
}

// paidRisky reports whether owner payer paid owner to, which has a label
// of a risky category, in a transaction t covers.
func (t *Table) paidRisky(payer, to string) bool {
	_, ok := t.paid[paidPair{payer, to}]
	return ok
}

// receive counts output j of rec (exposure v) for the address it pays,
// unless its owner paid it (a self-transfer).
func (t *Table) receive(r *run, rec *heistgraph.TxRecord, j int, v vector) error {
	out := rec.Tx.Outputs[j]
	if out.Address == "" {
		return nil
	}
	o, err := r.ownerOf(out.Address)
	if err != nil {
		return err
	}
	if slices.Contains(t.payers[rec.Tx.TxID], o.id) {
		return nil
	}
	a := t.addrs[out.Address]
	if a == nil {
		a = &addrAgg{}
		t.addrs[out.Address] = a
	}
	a.total += out.Value
	day := rec.Block.Time / 86400
	for k, amt := range v {
		if a.x == nil {
			a.x = map[vkey]int64{}
		}
		a.x[k] += amt
		if k.hop == 1 {
			if a.days == nil {
				a.days = map[vkey]map[int64]int64{}
			}
			if a.days[k] == nil {
				a.days[k] = map[int64]int64{}
			}
			a.days[k][day] += amt
		}
	}
	return nil
}

// addVector adds X(op) to ag as received at time at, as ag.addVector of
// outputVector(op, H) does (in the table's order of coordinates, not
// sorted: an aggregation's sums do not depend on it), when t covers op's
// transaction; it reports whether it did. A nil Table covers nothing.
func (t *Table) addVector(ag *agg, op heistgraph.Outpoint, at int64) bool {
	if t == nil {
		return false
	}
	if _, ok := t.payers[op.TxID]; !ok {
		return false
	}
	if sp, ok := t.vecs[op]; ok {
		for _, e := range t.ents[sp.off : sp.off+sp.n] {
			ag.add(t.keys[e.key], e.amt, at)
		}
	}
	return true
}

// addTo adds what address addr received (as far as t goes) to ag.
func (t *Table) addTo(ag *agg, addr string) {
	sp, ok := t.recv[addr]
	if !ok {
		return
	}
	ag.total += sp.total
	for _, e := range t.rents[sp.off : sp.off+sp.n] {
		ag.add(t.keys[e.key], e.amt, max(e.day, 0)*86400)
	}
}

// put stores X(op) = v with the stolen marks applied, when not empty, and
// counts the output for the address it pays.
func (t *Table) put(r *run, op heistgraph.Outpoint, rec *heistgraph.TxRecord, v vector) error {
	v, err := r.applyStolen(op, rec, v)
	if err != nil {
		return err
	}
	if len(v) > 0 {
		t.putVec(op, v)
	}
	out := rec.Tx.Outputs[op.Vout]
	t.outs[op] = outRec{off: uint32(len(t.abytes)), n: uint32(len(out.Address)), value: out.Value, time: rec.Block.Time}
	t.abytes = append(t.abytes, out.Address...)
	return t.receive(r, rec, int(op.Vout), v)
}

func (s *Screener) setTable(chain heistgraph.Chain, t *Table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables[chain] = t
}

func (s *Screener) table(chain heistgraph.Chain) *Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tables[chain]
}
