package txgraph

import (
	"github.com/heistgraph/heistgraph"
)

// Transactions by number, for a trace that works on numbers end to end
// (trace.TxNumbers): the same facts Tx gives, one field at a time, with
// no record built, no string made and no lookup by txid. A number is
// valid only for this Reader's graph. The numbers these reads hand out
// are checked (damage.go); the numbers passed to them must be ones they
// handed out: a transaction number, an input or output index below the
// counts NumberedTx gave, an address id.

// TxNumber returns the number of txid when the graph answers it by number:
// it is stored, not marked, and none of the outputs it spends is in a
// marked transaction (what Tx would answer from the graph). false: read it
// with Tx.
func (r *Reader) TxNumber(chain heistgraph.Chain, txid heistgraph.Hash) (uint32, bool) {
	if chain != r.g.m.Chain {
		return 0, false
	}
	n, ok, bad := r.g.t.lookupTx(txid)
	if bad {
		r.g.damaged(dmgTxSlot<<56 | uint64(n))
	}
	if !ok || !r.Numbered(n) {
		return 0, false
	}
	return n, true
}

// Numbered reports whether tx n is answered by number (see TxNumber):
// one read of its flags, which the build derived.
func (r *Reader) Numbered(n uint32) bool { return r.g.t.txFlags[n]&flagByTx == 0 }

// NumberedTx returns tx n's txid, its place in the chain (block height,
// position in the block, block time) and its number of inputs and outputs
// (0 and 0 when they are damaged: Err).
func (r *Reader) NumberedTx(n uint32) (txid heistgraph.Hash, height int64, index int, time int64, nin, nout int) {
	t := &r.g.t
	in0, ni, out0, no, b := t.txIn[n], uint64(t.txNIn[n]), t.txOut[n], uint64(t.txNOut[n]), t.txBlock[n]
	if in0 > uint64(len(t.inPrev)) || ni > uint64(len(t.inPrev))-in0 ||
		out0 > uint64(len(t.outValue)) || no > uint64(len(t.outValue))-out0 ||
		uint64(uint32(b+1)) > uint64(len(t.blkHash)) { // txRange's test, inline
		r.g.damagedTx(n)
		return t.txid[n], 0, 0, 0, 0, 0
	}
	if b >= 0 {
		height, time = t.blkHeight[b], t.blkTime[b]
	}
	return t.txid[n], height, int(t.txIndex[n]), time, int(ni), int(no)
}

// Warm reads what NumberedTx and Numbered read of tx n (n below the
// graph's transactions; else nothing) and returns a value made of it, so
// that a caller that will read several transactions can issue their
// reads together, their cache misses overlapping, before it reads each.
func (r *Reader) Warm(n uint32) uint64 {
	t := &r.g.t
	if n >= uint32(len(t.txid)) {
		return 0
	}
	return uint64(t.txFlags[n]) + t.txIn[n] + t.txOut[n] + uint64(t.txNIn[n]) + uint64(t.txNOut[n]) +
		uint64(t.txBlock[n]) + uint64(t.txIndex[n]) + uint64(t.txid[n][0])
}

// NumberedInput returns what input vin of tx n spends: the number of the
// transaction and the output index. coinbase marks a coinbase input;
// known is false when the spent output is not in the graph (its
// transaction is not stored, or has no such output), as a nil prevout of
// Tx. A damaged input reads as a coinbase's (Err).
func (r *Reader) NumberedInput(n uint32, vin int) (prev, vout uint32, known, coinbase bool) {
	t := &r.g.t
	i := t.txIn[n] + uint64(vin)
	p, v := t.inPrev[i], t.inVout[i]
	if p >= uint32(len(t.txid)) { // none too: the numbers are below it
		if p != none {
			r.g.damaged(dmgInput<<56 | i)
		}
		return 0, v, false, true
	}
	return p, v, t.inSpent[i] != noOut, false
}

// NumberedInputValue returns the value of the output input vin of tx n
// spends, reading only that (NumberedInput then NumberedOutput read every
// column of the output); known is false as NumberedInput's.
func (r *Reader) NumberedInputValue(n uint32, vin int) (value int64, known bool) {
	t := &r.g.t
	i := t.txIn[n] + uint64(vin)
	o := t.inSpent[i]
	if o >= uint64(len(t.outValue)) {
		if o != noOut {
			r.g.damaged(dmgInput<<56 | i)
		}
		return 0, false
	}
	return t.outValue[o], true
}

// NumberedOutput returns output vout of tx n: its value, its address id
// (NoAddress for none), whether it is provably unspendable (OP_RETURN, as
// trace decides it from Tx), and its spender's number and input index
// (spender NoTx: unspent). A damaged address or spender reads as none
// (Err).
func (r *Reader) NumberedOutput(n uint32, vout int) (value int64, addr uint32, burn bool, spender, vin uint32) {
	g := r.g
	t := &g.t
	o := t.txOut[n] + uint64(vout)
	addr, spender = t.outAddr[o], t.outSpTx[o]
	if addr+1 > uint32(len(t.addrFirst)) || spender+1 > uint32(len(t.txid)) { // none+1 is 0
		g.damagedOutput(o)
		addr, spender = none, none
	}
	burn = int(t.outType[o]) == g.nullType
	if !burn && addr == none {
		s, found, ok := t.script(o)
		if !ok {
			g.damaged(dmgScript<<56 | o)
		}
		burn = found && len(s) > 0 && s[0] == 0x6a
	}
	return t.outValue[o], addr, burn, spender, t.outSpVin[o]
}

// NumberedRecord returns tx n's record as Tx gives it. n must be
// Numbered. Damage met reads as Tx's record says (Err).
func (r *Reader) NumberedRecord(n uint32) heistgraph.TxRecord {
	rec, _, d := r.g.record(n)
	r.g.note(d)
	return rec
}

// NumberedFee returns tx n's fee as the stored record gave it; known is
// false when the record did not know it (the record Tx builds then
// computes it from the spent outputs, when all are known).
func (r *Reader) NumberedFee(n uint32) (fee int64, known bool) {
	t := &r.g.t
	return t.txFee[n], t.txFlags[n]&flagFeeKnown != 0
}

// NumberedFirstHeight returns the height address id a was first paid at
// (FirstHeight without the lookup by string).
func (r *Reader) NumberedFirstHeight(a uint32) int64 { return r.g.t.addrFirst[a] }

// NumberedAddress returns address id a as a string ("" when its bytes
// are damaged: Err).
func (r *Reader) NumberedAddress(a uint32) string {
	b, ok := r.g.t.address(a)
	if !ok {
		r.g.damaged(dmgAddress<<56 | uint64(a))
	}
	return string(b)
}

// NoTx is the number of no transaction (NoAddress, in cluster.go, that of
// no address).
const NoTx = none
