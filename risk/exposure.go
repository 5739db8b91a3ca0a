package risk

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"math/bits"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/trace"
)

// vkey is one coordinate of an exposure vector X(o) (methods.md §8.3): a
// category at a hop. At hop 1 it also names the labelled counterparty
// (entity, label source, owner) so that direct exposure can list it; weak
// marks a label below the weak confidence (half weight in shares).
type vkey struct {
	cat                   string
	hop                   int
	entity, source, owner string
	conf                  float64
	weak                  bool
}

// vector is X(o): amounts in satoshis by coordinate. Most outputs carry
// none (nil).
type vector map[vkey]int64

// run is the state of one screen: memoised reads and the budget.
type run struct {
	*Screener
	ctx    context.Context
	chain  heistgraph.Chain
	idx    *labelIndex
	txs    map[heistgraph.Hash]*heistgraph.TxRecord // nil until the first read
	owners map[string]*owner                        // the run's memo of ownerOf (nil: the Screener's, see owner)
	vecs   map[txHop][]vector                       // nil until the first vector computed
	reads  int
	notes  []string
	budget bool   // the budget ran out
	tab    *Table // the precomputed exposure of chain, or nil
	// clusterConf is the share of the screened cluster's merge evidence
	// that is common-input ownership, once its members were walked.
	clusterConf *float64
	// tip is the height of the chain's tip when the screen began (-1: no
	// block); receipts above the table's height are read only up to it.
	tip int64
}

type txHop struct {
	tx  heistgraph.Hash
	hop int
}

func (r *run) note(s string) {
	if !slices.Contains(r.notes, s) { // members walks read twice a screen note once
		r.notes = append(r.notes, s)
	}
}

// tx returns a stored transaction, or nil when the store does not hold it
// or the budget is used up (which then marks the run partial).
func (r *run) tx(h heistgraph.Hash) (*heistgraph.TxRecord, error) {
	if rec, ok := r.txs[h]; ok {
		return rec, nil
	}
	if r.reads >= r.cfg.Budget {
		if !r.budget {
			r.budget = true
			r.note(fmt.Sprintf("budget of %d transactions used up: exposure beyond it is left out", r.cfg.Budget))
		}
		return nil, nil
	}
	r.reads++
	if r.txs == nil {
		r.txs = map[heistgraph.Hash]*heistgraph.TxRecord{} // (made when first needed: most screens read none)
	}
	rec, err := r.st.Tx(r.ctx, r.chain, h)
	if errors.Is(err, heistgraph.ErrNotFound) {
		r.txs[h] = nil
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("risk: tx %s: %w", h, err)
	}
	r.txs[h] = &rec
	return &rec, nil
}

// value returns the known input total V, the output total W, and V' =
// max(V, W) with the fee f = V' − W: an input whose spent output the store
// does not hold adds nothing, and the fee is then taken as what the known
// inputs leave (never negative).
func value(rec *heistgraph.TxRecord) (vp, f int64, w []int64) {
	var v, sw int64
	for _, p := range rec.Prevouts {
		if p != nil {
			v += p.Value
		}
	}
	w = make([]int64, len(rec.Tx.Outputs))
	for j, o := range rec.Tx.Outputs {
		w[j] = o.Value
		sw += o.Value
	}
	vp = max(v, sw)
	return vp, vp - sw, w
}

// spread is the haircut step of methods.md §8.3: of amount a entering a
// transaction with inputs worth vp and fee f, the fee takes ⌊f·a/vp⌋ and
// the rest is apportioned over the outputs by value.
func spread(a, vp, f int64, w []int64) []int64 {
	if a <= 0 || vp <= 0 {
		return nil
	}
	return trace.Apportion(a-mulDiv(f, a, vp), w)
}

// mulDiv returns ⌊a·b/c⌋ for non-negative a, b and c > 0 with b ≤ c, in
// 128 bits.
func mulDiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		p := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
		return p.Quo(p, big.NewInt(c)).Int64()
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}

// outputVector returns X(op) up to hop maxHop: what the transaction that
// created op injected (its inputs' labelled owners, hop 1) and propagated
// (its unlabelled inputs' exposure, one hop further), with the Stolen
// hook's marks in place of any stolen:<id> that propagation brought. It
// reads the precomputed Table when that covers op's transaction, and
// computes on demand otherwise. The returned vector must not be modified.
func (r *run) outputVector(op heistgraph.Outpoint, maxHop int) (vector, error) {
	if maxHop < 1 {
		return nil, nil
	}
	if r.tab != nil {
		if _, ok := r.tab.payers[op.TxID]; ok {
			return r.tab.vec(op).upTo(maxHop, r.cfg.H), nil
		}
	}
	var v vector
	rec, err := r.tx(op.TxID)
	if err != nil {
		return nil, err
	}
	if rec != nil && !rec.Tx.IsCoinbase() && int(op.Vout) < len(rec.Tx.Outputs) {
		vs, err := r.txVectors(rec, maxHop)
		if err != nil {
			return nil, err
		}
		v = vs[op.Vout]
	}
	return r.applyStolen(op, rec, v)
}

// upTo returns v restricted to hops ≤ maxHop (v itself when maxHop ≥ h,
// the largest hop it can hold).
func (v vector) upTo(maxHop, h int) vector {
	if maxHop >= h || len(v) == 0 {
		return v
	}
	out := vector{}
	for k, a := range v {
		if k.hop <= maxHop {
			out[k] = a
		}
	}
	return out
}

// applyStolen returns v with the Stolen hook's marks on op in place of
// any stolen:<id> of the same id (a copy when there are marks).
func (r *run) applyStolen(op heistgraph.Outpoint, rec *heistgraph.TxRecord, v vector) (vector, error) {
	if r.stolen == nil {
		return v, nil
	}
	marks, err := r.stolen.StolenOutput(r.ctx, r.chain, op)
	if err != nil {
		return nil, fmt.Errorf("risk: stolen marks of %s: %w", op, err)
	}
	if len(marks) == 0 {
		return v, nil
	}
	out := make(vector, len(v)+len(marks))
	for k, a := range v {
		out[k] = a
	}
	for _, m := range marks {
		cat := StolenPrefix + m.ID
		for k := range out {
			if k.cat == cat {
				delete(out, k)
			}
		}
		a := m.AmountSat
		if rec != nil && int(op.Vout) < len(rec.Tx.Outputs) {
			a = min(a, rec.Tx.Outputs[op.Vout].Value)
		}
		if a > 0 {
			out[vkey{cat: cat, hop: 1, entity: m.ID, source: m.Source, owner: "stolen:" + m.ID, conf: 1}] += a
		}
	}
	return out, nil
}

// txVectors returns X of every output of rec up to hop maxHop (memoised),
// computing its inputs' exposure on demand.
func (r *run) txVectors(rec *heistgraph.TxRecord, maxHop int) ([]vector, error) {
	key := txHop{rec.Tx.TxID, maxHop}
	if vs, ok := r.vecs[key]; ok {
		return vs, nil
	}
	vs, _, err := r.exposeTx(rec, maxHop, func(op heistgraph.Outpoint) (vector, error) { return r.outputVector(op, maxHop-1) })
	if err != nil {
		return nil, err
	}
	if r.vecs == nil {
		r.vecs = map[txHop][]vector{}
	}
	r.vecs[key] = vs
	return vs, nil
}

// exposeTx is the step of methods.md §8.3 for one transaction: the
// exposure of each of its outputs up to hop maxHop (before stolen marks),
// given prevX, the exposure of a spent output up to maxHop−1. It also
// returns the distinct owners of its inputs, in input order.
func (r *run) exposeTx(rec *heistgraph.TxRecord, maxHop int, prevX func(heistgraph.Outpoint) (vector, error)) ([]vector, []string, error) {
	in := map[vkey]int64{}
	var payers []string
	for i, p := range rec.Prevouts {
		if p == nil {
			continue
		}
		o, err := r.ownerOf(p.Address)
		if err != nil {
			return nil, nil, err
		}
		if !slices.Contains(payers, o.id) {
			payers = append(payers, o.id)
		}
		cats := o.cats(rec.Block.Time, r.cfg.WeakConfidence)
		for _, c := range cats {
			in[vkey{cat: c.cat, hop: 1, entity: c.entity, source: c.source, owner: o.id, conf: c.conf, weak: c.weak}] += p.Value
		}
		if (len(cats) > 0 && !r.cfg.CarryThroughLabelled) || maxHop < 2 {
			continue // service boundary: nothing a labelled owner received is carried
		}
		x, err := prevX(rec.Tx.Inputs[i].PrevOut)
		if err != nil {
			return nil, nil, err
		}
		for k, a := range x {
			if k.hop < maxHop {
				in[vkey{cat: k.cat, hop: k.hop + 1, weak: k.weak}] += a
			}
		}
	}
	vs := make([]vector, len(rec.Tx.Outputs))
	if len(in) == 0 {
		return vs, payers, nil
	}
	vp, f, w := value(rec)
	for k, a := range in {
		for j, part := range spread(a, vp, f, w) {
			if part == 0 {
				continue
			}
			if k.hop == 1 {
				// Nothing is exposure for the owner it returns to.
				o, err := r.ownerOf(rec.Tx.Outputs[j].Address)
				if err != nil {
					return nil, nil, err
				}
				if o.id != "" && o.id == k.owner {
					continue
				}
			}
			if vs[j] == nil {
				vs[j] = vector{}
			}
			vs[j][k] += part
		}
	}
	return vs, payers, nil
}

// sentFlow follows value paid out, hop by hop (methods.md §8.8): start
// holds the hop-1 outputs (payouts) and their amounts. An output whose
// owner is labelled is where value stops (service boundary): its
// categories are exposure at that hop; an output returning to the payer
// self stops uncounted; an unlabelled output's spender passes the amount
// on by haircut to hop+1, up to H.
func (r *run) sentFlow(self string, start map[heistgraph.Outpoint]int64, add func(k vkey, a int64, t int64)) error {
	frontier := start
	for hop := 1; hop <= r.cfg.H && len(frontier) > 0; hop++ {
		group := map[heistgraph.Hash]int64{}
		var order []heistgraph.Hash
		for _, op := range sortedOutpoints(frontier) {
			a := frontier[op]
			rec, err := r.tx(op.TxID)
			if err != nil {
				return err
			}
			if rec == nil || int(op.Vout) >= len(rec.Tx.Outputs) {
				continue
			}
			o, err := r.ownerOf(rec.Tx.Outputs[op.Vout].Address)
			if err != nil {
				return err
			}
			if o.id != "" && o.id == self {
				continue
			}
			if cats := o.cats(rec.Block.Time, r.cfg.WeakConfidence); len(cats) > 0 {
				for _, c := range cats {
					k := vkey{cat: c.cat, hop: hop, weak: c.weak}
					if hop == 1 {
						k.entity, k.source, k.owner, k.conf = c.entity, c.source, o.id, c.conf
					}
					add(k, a, rec.Block.Time)
				}
				continue
			}
			sp := rec.SpentBy[op.Vout]
			if hop == r.cfg.H || sp == nil {
				continue
			}
			if _, ok := group[sp.TxID]; !ok {
				order = append(order, sp.TxID)
			}
			group[sp.TxID] += a
		}
		next := map[heistgraph.Outpoint]int64{}
		for _, h := range order {
			rec, err := r.tx(h)
			if err != nil {
				return err
			}
			if rec == nil {
				continue
			}
			vp, f, w := value(rec)
			for j, part := range spread(group[h], vp, f, w) {
				if part > 0 {
					next[heistgraph.Outpoint{TxID: h, Vout: uint32(j)}] += part
				}
			}
		}
		frontier = next
	}
	return nil
}

// sortedOutpoints returns the keys of m in (txid, vout) order.
func sortedOutpoints(m map[heistgraph.Outpoint]int64) []heistgraph.Outpoint {
	return slices.SortedFunc(maps.Keys(m), func(a, b heistgraph.Outpoint) int {
		return cmp.Or(bytes.Compare(a.TxID[:], b.TxID[:]), cmp.Compare(a.Vout, b.Vout))
	})
}
