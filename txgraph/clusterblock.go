package txgraph

import (
	"github.com/heistgraph/heistgraph"
)

// ClusterBlock is a block's transactions as address clustering reads them
// (ReadClusterBlock): each as ReadCluster gives it, read together.
type ClusterBlock struct {
	// NoAddresses, set by the caller, is ClusterTx.NoAddresses for every
	// transaction (ClusterAddresses fills one in).
	NoAddresses bool
	// NoSpentTxIDs, set by the caller, leaves every input's PrevOut.TxID
	// zero and gives instead the numbers of the transactions the inputs
	// spend, in each ClusterTx's Spent (NoTx for a coinbase's input): a
	// reader that wants the txids of a few of them reads those (TxID), and
	// the pass over the spent txids (a random read each) is skipped.
	NoSpentTxIDs bool
	// Txs[k] is transaction nums[k], as ReadCluster fills it, when Read[k];
	// otherwise the store must answer for it (ReadCluster's false) and
	// Txs[k] is empty. Their slices are views of arrays the block shares,
	// reused by the next ReadClusterBlock.
	Txs  []ClusterTx
	Read []bool

	ins  []heistgraph.TxIn
	outs []heistgraph.TxOut
	prev []heistgraph.TxOut
	ptrs []*heistgraph.TxOut
	inA  []uint32 // address id of each input's spent output
	outA []uint32
	spo  []uint64 // output number each input spends; none64 for none
	spt  []uint32 // transaction number each input spends; none for none
}

// none64 marks an input whose spent output the graph does not hold.
const none64 = ^uint64(0)

// ReadClusterBlock fills b with the transactions nums (a block's, from
// BlockTxs) as ReadCluster fills a ClusterTx for each, and with Read[k]
// false where ReadCluster would return false. It reads a pass at a time
// over all the block's inputs and outputs (the spent transactions, then
// their outputs, then their txids unless NoSpentTxIDs) rather than a
// transaction at a time: the reads of one pass do not wait on each other,
// and can overlap where they miss the caches (on a large chain, most do).
// Read alone over
// the medium world's graph it costs what ReadCluster does
// (BenchmarkReadCluster); inside the clustering engine, less (see
// docs/benchmarks.md, branch clustergraph).
func (g *Graph) ReadClusterBlock(nums []uint32, b *ClusterBlock) {
	t := &g.t
	b.Txs, b.Read = resize(b.Txs, len(nums)), resize(b.Read, len(nums))
	nin, nout := 0, 0
	for k, n := range nums {
		b.Read[k] = g.direct(n)
		if b.Read[k] {
			nin += int(t.txNIn[n])
			nout += int(t.txNOut[n])
		}
	}
	b.ins, b.prev, b.ptrs = resize(b.ins, nin), resize(b.prev, nin), resize(b.ptrs, nin)
	b.inA, b.spo, b.spt = resize(b.inA, nin), resize(b.spo, nin), resize(b.spt, nin)
	b.outs, b.outA = resize(b.outs, nout), resize(b.outA, nout)

	// The inputs: what they spend (sequential reads), then whether the
	// graph holds it (a read of the spent transaction each).
	j := 0
	for k, n := range nums {
		if !b.Read[k] {
			continue
		}
		seq := uint32(0xffffffff)
		if t.txFlags[n]&flagRBF != 0 {
			seq = 0xfffffffd
		}
		in0 := t.txIn[n]
		for i := in0; i < in0+uint64(t.txNIn[n]); i++ {
			p, v := t.inPrev[i], t.inVout[i]
			b.ins[j] = heistgraph.TxIn{PrevOut: heistgraph.Outpoint{Vout: v}, Sequence: seq, Coinbase: p == none}
			b.spo[j], b.spt[j] = uint64(p), p
			j++
		}
	}
	j = 0
	for k, n := range nums {
		if !b.Read[k] {
			continue
		}
		for end := j + int(t.txNIn[n]); j < end; j++ {
			p := uint32(b.spo[j])
			if p == none {
				b.spo[j] = none64
				continue
			}
			v := b.ins[j].PrevOut.Vout
			if t.txBlock[p] < 0 || v >= t.txNOut[p] {
				b.spo[j] = none64
				continue
			}
			if t.txFlags[p]&flagStore != 0 {
				b.Read[k] = false // still a pass over the rest of its inputs
			}
			b.spo[j] = t.txOut[p] + uint64(v)
		}
	}
	// The spent outputs (their address ids, values and types: a read of
	// each column an input), then the txids of the transactions spent.
	for j, o := range b.spo {
		if o == none64 {
			b.inA[j], b.ptrs[j] = none, nil
			continue
		}
		a := t.outAddr[o]
		b.inA[j] = a
		out := &b.prev[j]
		*out = heistgraph.TxOut{Value: t.outValue[o], Type: g.types[t.outType[o]]}
		if a != none {
			if !b.NoAddresses {
				out.Address = g.Address(a)
			}
		} else if s, ok := t.script(o); ok {
			out.Script = s
		}
		b.ptrs[j] = out
	}
	j = 0
	for k, n := range nums {
		if b.NoSpentTxIDs {
			break
		}
		if !g.direct(n) {
			continue
		}
		in0, ni := t.txIn[n], int(t.txNIn[n])
		if !b.Read[k] {
			j += ni
			continue
		}
		for q := range ni {
			if p := t.inPrev[in0+uint64(q)]; p != none {
				b.ins[j+q].PrevOut.TxID = t.txid[p]
			}
		}
		j += ni
	}
	// The outputs (sequential), and each transaction's record.
	j, o := 0, 0
	for k, n := range nums {
		ct := &b.Txs[k]
		if !g.direct(n) {
			*ct = ClusterTx{}
			continue
		}
		ni, no := int(t.txNIn[n]), int(t.txNOut[n])
		if !b.Read[k] {
			*ct = ClusterTx{}
			j, o = j+ni, o+no
			continue
		}
		out0 := t.txOut[n]
		for q := range no {
			g.clusterOutput(out0+uint64(q), &b.outs[o+q], b.NoAddresses)
			b.outA[o+q] = t.outAddr[out0+uint64(q)]
		}
		*ct = ClusterTx{
			Rec: heistgraph.TxRecord{
				Chain: g.m.Chain,
				Tx: heistgraph.Tx{
					TxID: t.txid[n], Version: t.txVersion[n], LockTime: t.txLock[n],
					Inputs: b.ins[j : j+ni : j+ni], Outputs: b.outs[o : o+no : o+no],
				},
				Block:    g.blockRef(n),
				Index:    int(t.txIndex[n]),
				Prevouts: b.ptrs[j : j+ni : j+ni],
			},
			In:          b.inA[j : j+ni : j+ni],
			Out:         b.outA[o : o+no : o+no],
			NoAddresses: b.NoAddresses,
		}
		if b.NoSpentTxIDs {
			ct.Spent = b.spt[j : j+ni : j+ni]
		}
		j, o = j+ni, o+no
	}
}

// ClusterTxNumber returns the number of the transaction txid (the one the
// graph's index gives, for a txid stored twice); false when the graph does
// not hold it. A reader of ClusterTx.Spent numbers by it what it keyed by
// txid before.
func (g *Graph) ClusterTxNumber(txid heistgraph.Hash) (uint32, bool) {
	return g.t.lookupTx(txid)
}
