package txgraph

import (
	"github.com/heistgraph/heistgraph"
)

// ClusterCols is a block's transactions as address clustering reads them
// (ReadClusterCols): a few columns of each transaction, of each input and
// of each output, the inputs and outputs of transaction k a range of
// their columns that begins where transaction k-1's ends (at 0 for the
// first). What ReadCluster gives in records, the columns give in arrays
// the next read reuses: no record, input or output is built.
type ClusterCols struct {
	// Of each transaction k of the numbers read. Read[k] is ReadCluster's
	// answer for it: false when the store must answer for it, and then
	// its ranges are empty. InEnd[k] and OutEnd[k] end its ranges of the
	// input and output columns. RBF[k] reports that some input signals
	// opt-in RBF (ReadCluster's Sequence 0xfffffffd); Known[k] that the
	// graph holds the spent output of every input (ReadCluster's
	// Prevouts has no nil: never for a coinbase).
	Read          []bool
	InEnd, OutEnd []uint32
	Version       []int32
	LockTime      []uint32
	RBF, Known    []bool
	// Of each input: the address id, value and type code of its spent
	// output (NoAddress, 0 and 0 when the graph does not hold it;
	// NoAddress for an output without an address), the number of the
	// transaction it spends (NoTx for a coinbase's input) and the output's
	// index.
	InAddr  []uint32
	InValue []int64
	InType  []uint8
	Spent   []uint32
	Vout    []uint32
	// Of each output: its address id (NoAddress for none), value and type
	// code.
	OutAddr  []uint32
	OutValue []int64
	OutType  []uint8

	miss []uint32 // the inputs whose spent output the graph does not hold
}

// ScriptTypes names the script types of ClusterCols' type codes: code c
// is ScriptTypes()[c]. Not to be modified.
func (g *Graph) ScriptTypes() []heistgraph.ScriptType { return g.types }

// ReadClusterCols fills c with the transactions nums (a block's, from
// BlockTxs), with Read[k] false where ReadCluster would return false. It
// reads a column at a time over all the block's inputs and outputs: the
// reads of one pass do not wait on each other, and can overlap where
// they miss the caches (on a large chain, most do). Every number it puts
// in c is checked (transaction numbers below the transactions, address
// ids below Addresses, type codes below len(ScriptTypes())): damage met
// gives an error wrapping ErrFormat, and c is not to be read then.
func (g *Graph) ReadClusterCols(nums []uint32, c *ClusterCols) error {
	t := &g.t
	k := len(nums)
	c.Read, c.InEnd, c.OutEnd = resize(c.Read, k), resize(c.InEnd, k), resize(c.OutEnd, k)
	c.Version, c.LockTime = resize(c.Version, k), resize(c.LockTime, k)
	c.RBF, c.Known = resize(c.RBF, k), resize(c.Known, k)
	nin, nout := uint64(0), uint64(0)
	for k, n := range nums {
		// flagByTx (derive): not stored, marked for the store, or
		// spending a transaction marked so: what ReadCluster refuses.
		f := t.txFlags[n]
		read := f&flagByTx == 0
		c.Read[k] = read
		if read {
			// A block's inputs and outputs are the graph's at most:
			// what bounds the columns of a damaged block (where they
			// lie is checked a row at a time below).
			nin, nout = nin+uint64(t.txNIn[n]), nout+uint64(t.txNOut[n])
			if nin > uint64(len(t.inPrev)) || nout > uint64(len(t.outValue)) {
				return g.errOf(damage(dmgBlockTxs<<56 | uint64(n)))
			}
			c.Version[k], c.LockTime[k], c.RBF[k] = t.txVersion[n], t.txLock[n], f&flagRBF != 0
		}
		c.InEnd[k], c.OutEnd[k] = uint32(nin), uint32(nout)
	}
	c.InAddr, c.InValue, c.InType = resize(c.InAddr, int(nin)), resize(c.InValue, int(nin)), resize(c.InType, int(nin))
	c.Spent, c.Vout = resize(c.Spent, int(nin)), resize(c.Vout, int(nin))
	c.OutAddr, c.OutValue, c.OutType = resize(c.OutAddr, int(nout)), resize(c.OutValue, int(nout)), resize(c.OutType, int(nout))

	// The inputs and outputs of transactions numbered in a row sit in a
	// row in the graph's columns: each column is copied a row of
	// transactions at a time (for most blocks, the whole block at once).
	c.miss = c.miss[:0]
	var d damage
	j, jo := 0, 0
	for k := 0; k < len(nums); {
		if !c.Read[k] {
			k++
			continue
		}
		n := nums[k]
		in0, out0 := t.txIn[n], t.txOut[n]
		ni, no := int(t.txNIn[n]), int(t.txNOut[n])
		for k++; k < len(nums) && c.Read[k]; k++ {
			m := nums[k]
			if t.txIn[m] != in0+uint64(ni) || t.txOut[m] != out0+uint64(no) {
				break
			}
			ni += int(t.txNIn[m])
			no += int(t.txNOut[m])
		}
		if in0 > uint64(len(t.inPrev)) || uint64(ni) > uint64(len(t.inPrev))-in0 ||
			out0 > uint64(len(t.outValue)) || uint64(no) > uint64(len(t.outValue))-out0 {
			return g.errOf(damage(dmgTx<<56 | uint64(n)))
		}
		g.clusterInputs(c, j, in0, ni, &d)
		g.clusterOutputs(c, jo, out0, no, &d)
		j, jo = j+ni, jo+no
	}
	if d != 0 {
		return g.errOf(d)
	}
	// Known: no input of the transaction missed its spent output.
	m := 0
	for k := range nums {
		known := c.Read[k]
		for ; m < len(c.miss) && c.miss[m] < c.InEnd[k]; m++ {
			known = false
		}
		c.Known[k] = known
	}
	return nil
}

// clusterInputs fills c's input columns from j on with the n inputs from
// input number in0 on (inside the arrays), notes in c.miss the positions
// of those whose spent output the graph does not hold, and records in d
// a number that is out of bounds.
func (g *Graph) clusterInputs(c *ClusterCols, j int, in0 uint64, n int, d *damage) {
	t := &g.t
	copy(c.Spent[j:j+n], t.inPrev[in0:])
	copy(c.Vout[j:j+n], t.inVout[in0:])
	nt, na, no, ntypes := uint32(len(t.txid)), uint32(len(t.addrFirst)), uint64(len(t.outValue)), len(g.types)
	for q, p := range c.Spent[j : j+n] {
		if p+1 > nt { // none+1 is 0
			d.set(dmgInput, in0+uint64(q))
		}
	}
	spent := t.inSpent[in0 : in0+uint64(n)]
	addr, value, typ := c.InAddr[j:j+n], c.InValue[j:j+n], c.InType[j:j+n]
	addr, value, typ = addr[:len(spent)], value[:len(spent)], typ[:len(spent)]
	for q, o := range spent {
		if o >= no {
			if o != noOut {
				d.set(dmgInput, in0+uint64(q))
			}
			addr[q], value[q], typ[q] = none, 0, 0
			c.miss = append(c.miss, uint32(j+q))
			continue
		}
		a, ty := t.outAddr[o], t.outType[o]
		if a+1 > na || int(ty) >= ntypes {
			d.set(dmgOutput, o)
		}
		addr[q], value[q], typ[q] = a, t.outValue[o], ty
	}
}

// clusterOutputs fills c's output columns from j on with the n outputs
// from output number out0 on (inside the arrays), and records in d a
// number that is out of bounds.
func (g *Graph) clusterOutputs(c *ClusterCols, j int, out0 uint64, n int, d *damage) {
	t := &g.t
	addr, typ := c.OutAddr[j:j+n], c.OutType[j:j+n]
	copy(addr, t.outAddr[out0:])
	copy(c.OutValue[j:j+n], t.outValue[out0:])
	copy(typ, t.outType[out0:])
	na, ntypes := uint32(len(t.addrFirst)), len(g.types)
	typ = typ[:len(addr)]
	for q, a := range addr {
		if a+1 > na || int(typ[q]) >= ntypes { // none+1 is 0
			d.set(dmgOutput, out0+uint64(q))
		}
	}
}

// ClusterTxNumber returns the number of the transaction txid (the one the
// graph's index gives, for a txid stored twice); false when the graph does
// not hold it (and when its txid table is damaged: Err). A reader of
// ClusterCols.Spent numbers by it what it keyed by txid before.
func (g *Graph) ClusterTxNumber(txid heistgraph.Hash) (uint32, bool) {
	n, ok, bad := g.t.lookupTx(txid)
	if bad {
		g.damaged(dmgTxSlot<<56 | uint64(n))
	}
	return n, ok
}
