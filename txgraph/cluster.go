package txgraph

import (
	"unsafe"

	"github.com/heistgraph/heistgraph"
)

// NoAddress is the address id of an output without an address (and of an
// input whose spent output the graph does not hold).
const NoAddress = none

// Blocks returns the number of blocks the graph holds; Block(i) for i in
// [0, Blocks()) is in chain order.
func (g *Graph) Blocks() int { return len(g.t.blkHash) }

// Block returns block i.
func (g *Graph) Block(i int) heistgraph.BlockRef {
	return heistgraph.BlockRef{Hash: g.t.blkHash[i], Height: g.t.blkHeight[i], Time: g.t.blkTime[i]}
}

// BlockTxs appends to dst the numbers of block i's transactions in block
// order and returns it. ok is false when the graph cannot list them
// (a transaction of the block was numbered before the block, spent before
// it was stored, or stored twice): read the block from the store then.
// A damaged block reads so too (Err).
func (g *Graph) BlockTxs(i int, dst []uint32) (txs []uint32, ok bool) {
	t := &g.t
	end := uint32(len(t.txid))
	if i+1 < len(t.blkFirst) {
		end = t.blkFirst[i+1]
	}
	start := t.blkFirst[i]
	if start > end || int64(end) > int64(len(t.txid)) {
		g.damaged(dmgBlock<<56 | uint64(i))
		return dst, false
	}
	for n := start; n < end; n++ {
		if t.txBlock[n] == int32(i) {
			dst = append(dst, n)
		}
	}
	return dst, len(dst) == int(t.blkNTx[i])
}

// TxID returns the txid of transaction n.
func (g *Graph) TxID(n uint32) heistgraph.Hash { return g.t.txid[n] }

// Addresses returns the number of address ids; ids are 0 to Addresses()-1,
// given out in order of first appearance as an output.
func (g *Graph) Addresses() int { return len(g.t.addrFirst) }

// AddressID returns the id of addr; false when the graph does not hold it
// (and when its address table is damaged: Err).
func (g *Graph) AddressID(addr string) (uint32, bool) {
	a, ok, bad := g.t.lookupAddr(addr)
	if bad {
		g.damaged(dmgAddrSlot<<56 | uint64(a))
	}
	return a, ok
}

// Address returns address id a. The string points into the graph's
// memory: valid until Close (strings.Clone it to keep it longer). A
// damaged address reads as "" (Err).
func (g *Graph) Address(a uint32) string {
	b, ok := g.t.address(a)
	if !ok {
		g.damaged(dmgAddress<<56 | uint64(a))
	}
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// AppendAddresses appends the addresses from to to-1 (ids below
// Addresses) to dst, as Address gives each, and returns it: one call for a
// run of consecutive ids (the new addresses of a block, numbered in the
// order they first appear, as the clustering numbers its own).
func (g *Graph) AppendAddresses(dst []string, from, to uint32) []string {
	t := &g.t
	off, b := t.addrOff[from:to+1], t.addrBytes
	for i := range off[:len(off)-1] {
		lo, hi := off[i], off[i+1]
		switch {
		case lo > hi || hi > uint64(len(b)):
			g.damaged(dmgAddress<<56 | uint64(from+uint32(i)))
			dst = append(dst, "")
		case lo == hi:
			dst = append(dst, "")
		default:
			dst = append(dst, unsafe.String(&b[lo], hi-lo))
		}
	}
	return dst
}

// ClusterTx is a transaction as address clustering reads it (ReadCluster):
// its record, and the address ids of its inputs' spent outputs and of its
// outputs (NoAddress for none). Its slices are reused by the next read.
type ClusterTx struct {
	Rec     heistgraph.TxRecord
	In, Out []uint32
	// NoAddresses, set by the caller, makes ReadCluster leave the
	// addresses of the outputs and spent outputs empty (an output with an
	// address still has no Script): a reader that goes by In and Out
	// asks for the strings of the few transactions that need them
	// (ClusterAddresses).
	NoAddresses bool
	prev        []heistgraph.TxOut
	prevPtrs    []*heistgraph.TxOut
}

// ClusterAddresses fills in the addresses of ct's outputs and spent outputs, read
// with NoAddresses, as ReadCluster gives them without it.
func (g *Graph) ClusterAddresses(ct *ClusterTx) {
	for k, a := range ct.Out {
		if a != none {
			ct.Rec.Tx.Outputs[k].Address = g.Address(a)
		}
	}
	for k, a := range ct.In {
		if a != none {
			ct.Rec.Prevouts[k].Address = g.Address(a)
		}
	}
}

// Owned reports whether ct's address ids In and Out (read by ReadCluster)
// name every known spent output and every output not OP_RETURN: then
// they stand for the addresses in the CoinJoin rules
// (pattern.CoinJoinOptions.InOwners), the graph giving one id an address.
// An output without an address is compared by its script: the rules read
// the strings then (ClusterAddresses, when read with NoAddresses).
func (ct *ClusterTx) Owned() bool {
	for k, p := range ct.Rec.Prevouts {
		if p != nil && ct.In[k] == none {
			return false
		}
	}
	for j := range ct.Rec.Tx.Outputs {
		if ct.Rec.Tx.Outputs[j].Type != heistgraph.ScriptNullData && ct.Out[j] == none {
			return false
		}
	}
	return true
}

// ReadCluster fills ct with transaction n for clustering: Tx's TxID,
// Version, LockTime, inputs (outpoints, coinbase; Sequence 0xfffffffd on
// every input when the transaction signals opt-in RBF, 0xffffffff
// otherwise), outputs (value, type, address; Script only without an
// address), and the spent outputs in Prevouts; Block and Index. Fee,
// SpentBy, WTxID, Size, Weight and witnesses are left zero. Address
// strings point into the graph's memory (see Address). It returns false
// when the store must answer for n (see Reader). Damage met reads as
// Reader.Tx's record says, or, for n's own inputs and outputs, as a
// transaction with none (Err).
func (g *Graph) ReadCluster(n uint32, ct *ClusterTx) bool {
	t := &g.t
	rec := &ct.Rec
	in0, nin64, out0, nout64, b, ok := t.txRange(n)
	if !ok {
		g.damaged(dmgTx<<56 | uint64(n))
		*rec = heistgraph.TxRecord{Chain: g.m.Chain, Tx: heistgraph.Tx{TxID: t.txid[n]}}
		ct.In, ct.Out = ct.In[:0], ct.Out[:0]
		return false
	}
	if b < 0 || t.txFlags[n]&flagStore != 0 {
		return false
	}
	nin, nout := int(nin64), int(nout64)
	*rec = heistgraph.TxRecord{
		Chain: g.m.Chain,
		Tx: heistgraph.Tx{
			TxID: t.txid[n], Version: t.txVersion[n], LockTime: t.txLock[n],
			Inputs: resize(rec.Tx.Inputs, nin), Outputs: resize(rec.Tx.Outputs, nout),
		},
		Block:    g.blockRef(b),
		Index:    int(t.txIndex[n]),
		Prevouts: resize(ct.prevPtrs, nin),
	}
	ct.prevPtrs = rec.Prevouts
	ct.prev = resize(ct.prev, nin)
	ct.In, ct.Out = resize(ct.In, nin), resize(ct.Out, nout)
	seq := uint32(0xffffffff)
	if t.txFlags[n]&flagRBF != 0 {
		seq = 0xfffffffd
	}
	var d damage
	for k := range nin {
		i := in0 + uint64(k)
		p := t.inPrev[i]
		in := &rec.Tx.Inputs[k]
		*in = heistgraph.TxIn{PrevOut: heistgraph.Outpoint{Vout: t.inVout[i]}, Sequence: seq}
		rec.Prevouts[k] = nil
		ct.In[k] = none
		if p == none {
			in.Coinbase = true
			continue
		}
		o := g.spentOutput(i, &d)
		if int64(p) < int64(len(t.txid)) {
			in.PrevOut.TxID = t.txid[p]
		}
		if o == noOut {
			continue
		}
		if t.txFlags[p]&flagStore != 0 {
			g.note(d)
			return false
		}
		a := g.clusterOutput(o, &ct.prev[k], ct.NoAddresses, &d)
		rec.Prevouts[k] = &ct.prev[k]
		ct.In[k] = a
	}
	for k := range nout {
		o := out0 + uint64(k)
		ct.Out[k] = g.clusterOutput(o, &rec.Tx.Outputs[k], ct.NoAddresses, &d)
	}
	g.note(d)
	return true
}

// clusterOutput fills out with output o, its address pointing into the
// graph's memory (left empty with noAddr), and returns its address id
// (NoAddress for none, and for a damaged one, recorded in d).
func (g *Graph) clusterOutput(o uint64, out *heistgraph.TxOut, noAddr bool, d *damage) uint32 {
	t := &g.t
	*out = heistgraph.TxOut{Value: t.outValue[o]}
	if c := t.outType[o]; int(c) < len(g.types) {
		out.Type = g.types[c]
	} else {
		d.set(dmgOutput, o)
	}
	a := t.addressOf(o, d)
	if a != none {
		if !noAddr {
			out.Address = g.Address(a)
		}
	} else if s, found, ok := t.script(o); found {
		out.Script = s
	} else if !ok {
		d.set(dmgScript, o)
	}
	return a
}

// resize returns s with length n, reusing its array when it has room.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
