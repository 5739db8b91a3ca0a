package cluster

import (
	"context"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/txgraph"
)

// txFingerprint is what the fingerprint heuristics compare between a
// transaction and the spenders of its outputs.
type txFingerprint struct {
	version int32
	lockUse bool // nLockTime != 0
	rbf     bool // some input signals opt-in RBF
}

func fingerprintOf(tx *heistgraph.Tx) txFingerprint {
	f := txFingerprint{lockUse: tx.LockTime != 0, version: tx.Version}
	for _, in := range tx.Inputs {
		if in.Sequence < 0xfffffffe {
			f.rbf = true
			break
		}
	}
	return f
}

// txCols is a transaction as the heuristics read it: columns of its
// inputs and outputs, their addresses as the engine's ids and their
// script types as codes (engine.types). The graph's catch-up makes it
// from the graph's columns (txgraph.ClusterCols, graphCols) without a
// record; the other paths from a record (recordCols). Its slices are the
// block's or bs's buffers, reused.
type txCols struct {
	// rec is the record, when the transaction was read as one; nil from
	// the graph, where num (the graph's number plus one) names it.
	rec      *heistgraph.TxRecord
	num      uint32
	coinbase bool
	// known reports that every input's spent output is known (its
	// value and type in inValue and inType).
	known bool
	fp    txFingerprint
	// inIDs and outIDs are the address ids of the spent outputs and of
	// the outputs (0 for none).
	inIDs, outIDs     []uint32
	inValue, outValue []int64
	inType, outType   []uint8
	// spent and vout are the numbers of the transactions the inputs spend
	// (txgraph.NoTx for none) and the outputs' indexes, from the graph
	// only (a record's inputs name them by txid).
	spent, vout []uint32
}

// txid returns the transaction's txid.
func (v *txCols) txid(g *txgraph.Graph) heistgraph.Hash {
	if v.rec != nil {
		return v.rec.Tx.TxID
	}
	return g.TxID(v.num - 1)
}

// typeCode returns the code of script type t in txCols (engine.types),
// giving it one when it has none. The graph's codes are the engine's
// (open); a chain has fewer than 256 script types (heistgraph names a
// dozen), as the graph's codes assume.
func (e *engine) typeCode(t heistgraph.ScriptType) uint8 {
	for c, x := range e.types {
		if x == t {
			return uint8(c)
		}
	}
	e.types = append(e.types, t)
	return uint8(len(e.types) - 1)
}

// graphCols sets v to transaction k of the block c read from the graph
// (ReadClusterCols: Read[k] true), number n, with the engine's ids of its
// addresses: bs.inCol's and bs.outCol's when whole (idsOfBlock gave the
// block's), otherwise given here as they are met (the inputs', then the
// outputs').
func (e *engine) graphCols(c *txgraph.ClusterCols, k int, n uint32, v *txCols, whole bool) error {
	var i0, o0 uint32
	if k > 0 {
		i0, o0 = c.InEnd[k-1], c.OutEnd[k-1]
	}
	i1, o1 := c.InEnd[k], c.OutEnd[k]
	bs := &e.bs
	v.rec, v.num, v.known = nil, n+1, c.Known[k]
	v.fp = txFingerprint{version: c.Version[k], lockUse: c.LockTime[k] != 0, rbf: c.RBF[k]}
	v.inValue, v.inType = c.InValue[i0:i1], c.InType[i0:i1]
	v.outValue, v.outType = c.OutValue[o0:o1], c.OutType[o0:o1]
	v.spent, v.vout = c.Spent[i0:i1], c.Vout[i0:i1]
	v.coinbase = len(v.spent) == 1 && v.spent[0] == txgraph.NoTx
	if whole {
		v.inIDs, v.outIDs = bs.inCol[i0:i1], bs.outCol[o0:o1]
		return nil
	}
	if err := e.reserve(int(i1 - i0 + o1 - o0)); err != nil {
		return err
	}
	bs.room(e.m.nextID(), int(i1-i0+o1-o0))
	gin, gout := c.InAddr[i0:i1], c.OutAddr[o0:o1]
	ins, outs := resize(bs.inIDs, len(gin)), resize(bs.outIDs, len(gout))
	e.idsOfGraph(gin, ins)
	e.idsOfGraph(gout, outs)
	bs.inIDs, bs.outIDs = ins, outs
	v.inIDs, v.outIDs = ins, outs
	return nil
}

// recordCols sets v to rec as columns, with the engine's ids of its
// addresses (by their strings), given as they are met (the inputs', then
// the outputs'). The records read by the store's ids take theirs from
// idsOfRecords (blockIDs).
func (e *engine) recordCols(rec *heistgraph.TxRecord, v *txCols) error {
	tx := &rec.Tx
	nin, nout := len(tx.Inputs), len(tx.Outputs)
	if err := e.reserve(nin + nout); err != nil {
		return err
	}
	bs := &e.bs
	bs.room(e.m.nextID(), nin+nout)
	e.recordValues(rec, v)
	bs.inIDs, bs.outIDs = resize(bs.inIDs, nin), resize(bs.outIDs, nout)
	for i := range nin {
		var id uint32
		if i < len(rec.Prevouts) && !v.coinbase { // a coinbase's input spends nothing
			if o := rec.Prevouts[i]; o != nil && o.Address != "" {
				id = e.idOf(o.Address)
			}
		}
		bs.inIDs[i] = id
	}
	for j := range nout {
		var id uint32
		if a := tx.Outputs[j].Address; a != "" {
			id = e.idOf(a)
		}
		bs.outIDs[j] = id
	}
	v.inIDs, v.outIDs = bs.inIDs, bs.outIDs
	return nil
}

// recordValues sets v to rec as columns without their address ids: its
// values and script types, in bs's buffers.
func (e *engine) recordValues(rec *heistgraph.TxRecord, v *txCols) {
	tx := &rec.Tx
	nin, nout := len(tx.Inputs), len(tx.Outputs)
	bs := &e.bs
	*v = txCols{rec: rec, coinbase: tx.IsCoinbase(), fp: fingerprintOf(tx), known: len(rec.Prevouts) == nin}
	bs.inValue, bs.inType = resize(bs.inValue, nin), resize(bs.inType, nin)
	bs.outValue, bs.outType = resize(bs.outValue, nout), resize(bs.outType, nout)
	for i := range nin {
		if i >= len(rec.Prevouts) || rec.Prevouts[i] == nil {
			v.known = false
			bs.inValue[i], bs.inType[i] = 0, 0
		} else {
			o := rec.Prevouts[i]
			bs.inValue[i], bs.inType[i] = o.Value, e.typeCode(o.Type)
		}
	}
	for j := range nout {
		o := &tx.Outputs[j]
		bs.outValue[j], bs.outType[j] = o.Value, e.typeCode(o.Type)
	}
	v.inValue, v.inType = bs.inValue, bs.inType
	v.outValue, v.outType = bs.outValue, bs.outType
}

// txRecord clusters the transaction rec at position txIndex of the block.
func (e *engine) txRecord(ctx context.Context, rec *heistgraph.TxRecord, txIndex uint32) error {
	var v txCols
	if err := e.recordCols(rec, &v); err != nil {
		return err
	}
	e.tx(ctx, &v, txIndex)
	return nil
}

// tx clusters one transaction at position txIndex of the block, its
// addresses given their ids (graphCols, recordCols).
func (e *engine) tx(ctx context.Context, v *txCols, txIndex uint32) {
	bs := &e.bs
	bs.n = 2
	if !bs.replay {
		e.stats.Txs++
	}
	ins := bs.ins[:0] // distinct input address ids, in input order
	joint := false    // a CoinJoin or the Stonewall shape: several owners may sign
	if !v.coinbase {
		if !bs.replay {
			e.stats.Inputs += int64(len(v.inIDs))
		}
		// Above manyInputs the distinct ids are found by a set, not by
		// searching those found so far (a consolidation's hundreds).
		if len(v.inIDs) > manyInputs {
			for _, id := range v.inIDs {
				if id != 0 && !bs.inSet.has(id) {
					bs.inSet.add(id)
					ins = append(ins, id)
				}
			}
			bs.inSet.reset()
		} else {
			for _, id := range v.inIDs {
				if id != 0 && !slices.Contains(ins, id) {
					ins = append(ins, id)
				}
			}
		}
		if nin, nout := len(v.inIDs), len(v.outIDs); nin >= 2 && nout >= 2 {
			vs := bs.values[:0] // the spendable outputs' values
			for j, t := range v.outType {
				if t != e.nullType {
					vs = append(vs, v.outValue[j])
				}
			}
			bs.values = vs
			if pattern.MayJoinValues(nin, nout, vs) {
				joint = e.joint(v, ins)
			}
		}
		// The spends of candidates' outputs bring their fingerprint votes;
		// a joint transaction's fingerprints are its coordinator's, not
		// the spender's, and give none.
		e.spends(ctx, v, txIndex, !joint)
	}
	// A change candidate's two spendable outputs, and whether each
	// address is fresh before this transaction's marks: all the change
	// rules read of the outputs' freshness.
	var js [2]int
	var fresh [2]bool
	change := e.opts.Change.enabled() && !v.coinbase && !joint
	if change {
		if js, change = e.changePair(v); change {
			fresh = [2]bool{bs.freshAt(v.outIDs[js[0]], txIndex), bs.freshAt(v.outIDs[js[1]], txIndex)}
		}
	}
	bs.ins = ins
	if !bs.whole {
		for _, id := range ins {
			bs.see(id)
		}
		for _, id := range v.outIDs {
			bs.see(id)
		}
	}
	if v.coinbase || joint {
		return
	}
	if e.opts.CommonInput && len(ins) >= 2 && !bs.replay {
		ev := heistgraph.ClusterEvidence{Height: bs.height, TxIndex: txIndex, TxID: v.txid(e.g), Heuristic: heistgraph.HeuristicCommonInput}
		if _, joined := e.join(ctx, ins, ev, false, true); joined {
			e.stats.CommonInput++
		}
	}
	if change {
		e.candidate(ctx, v, txIndex, ins, js, fresh)
	}
}

// changePair returns the indexes of v's two spendable outputs (not
// OP_RETURN) when it has exactly two and both have an address: the
// outputs of a change candidate.
func (e *engine) changePair(v *txCols) (js [2]int, ok bool) {
	n := 0
	for j, t := range v.outType {
		if t == e.nullType {
			continue
		}
		if n == 2 || v.outIDs[j] == 0 {
			return js, false
		}
		js[n] = j
		n++
	}
	return js, n == 2
}

// joint reports whether v (of the CoinJoin or Stonewall shape by its
// output values, pattern.MayJoinValues; bs.values the spendable outputs'
// values) is a CoinJoin or has the Stonewall shape, counting it; ins are
// its distinct input addresses. The rules read v's columns when every
// spent output is known and every address the rules compare has an id
// (owned); otherwise v is read as a record (from the graph when it came
// from there).
func (e *engine) joint(v *txCols, ins []uint32) bool {
	bs := &e.bs
	cjOpts := pattern.CoinJoinOptions{SameOwner: func() bool { return e.sameCluster(ins) }}
	var cj pattern.CoinJoin
	var ok bool
	if e.owned(v) {
		c := &bs.cj // its fields set, not replaced: it keeps the rules' scratch
		c.Types, c.InValue, c.InType, c.InOwner = e.types, v.inValue, v.inType, v.inIDs
		c.OutValue, c.OutType, c.OutOwner = v.outValue, v.outType, v.outIDs
		cj, ok = pattern.AnalyzeCoinJoinCols(c, cjOpts)
	} else {
		rec := v.rec
		if rec == nil {
			ct := &bs.ct
			ct.NoAddresses = true
			e.g.ReadCluster(v.num-1, ct) // true: ReadClusterCols read it
			rec = &ct.Rec
			if ct.Owned() {
				// The graph's address ids are the addresses: the rules
				// compare them.
				cjOpts.InOwners, cjOpts.OutOwners = ct.In, ct.Out
			} else {
				e.g.ClusterAddresses(ct) // the CoinJoin rules compare addresses
			}
		}
		cj, ok = pattern.AnalyzeCoinJoin(&rec.Tx, rec.Prevouts, cjOpts)
	}
	if ok {
		if !bs.replay {
			e.stats.CoinJoins[string(cj.Kind)]++
		}
		return true
	}
	if pattern.IsStonewallValues(len(v.inIDs), bs.values) {
		if !bs.replay {
			e.stats.Stonewalls++
		}
		return true
	}
	return false
}

// owned reports whether the CoinJoin rules may read v's columns
// (pattern.Cols): every spent output known, and an address id for each of
// them and for every output but OP_RETURN's (the ids then stand for the
// addresses the rules compare; an output without one is compared by its
// script).
func (e *engine) owned(v *txCols) bool {
	if !v.known {
		return false
	}
	for _, id := range v.inIDs {
		if id == 0 {
			return false
		}
	}
	for j, id := range v.outIDs {
		if id == 0 && v.outType[j] != e.nullType {
			return false
		}
	}
	return true
}

// spends records the spends of candidates' outputs by v's inputs (known:
// v's fingerprint is its owner's) and decides the candidates whose
// outputs are both spent now.
func (e *engine) spends(ctx context.Context, v *txCols, txIndex uint32, known bool) {
	if v.rec != nil {
		for i := range v.rec.Tx.Inputs {
			op := &v.rec.Tx.Inputs[i].PrevOut
			if c := e.pending.get(&op.TxID); c != nil && c.spend(op.Vout, v.fp, known) {
				e.pending.remove(c)
				e.decideDeferred(ctx, c, txIndex)
			}
		}
		return
	}
	// The spent transactions' numbers: the candidates found by them
	// (ring.getNum), where one may be the spent transaction.
	for i, p := range v.spent {
		if p == txgraph.NoTx || !e.pending.mayNum(p) {
			continue
		}
		if c := e.pending.getNum(p + 1); c != nil && c.spend(v.vout[i], v.fp, known) {
			e.pending.remove(c)
			e.decideDeferred(ctx, c, txIndex)
		}
	}
}

// manyInputs is the most inputs a transaction's distinct input addresses
// are found among by a search of those found so far.
const manyInputs = 16

// sameCluster reports whether ids are all in one cluster.
func (e *engine) sameCluster(ids []uint32) bool {
	for _, id := range ids[min(1, len(ids)):] {
		if e.m.of(id) != e.m.of(ids[0]) {
			return false
		}
	}
	return len(ids) > 0
}
