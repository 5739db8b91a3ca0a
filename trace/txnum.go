package trace

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/txgraph"
)

// TxNumbers is an optional role of the reader a UTXO trace reads (the
// transaction graph's reader, txgraph.Reader, has it): transactions by
// number, read one field at a time, so that the trace builds a record only
// for the transactions whose patterns it looks at. The trace reads by
// number only a reader that also gives its graph (txgraph.Reader.Graph,
// also through a wrapper that embeds the reader): it reads every field
// but NumberedTx from the graph directly. TxNumber gives a
// transaction's number when the reader answers it by number (Numbered);
// the others the trace reads with Tx. NoTx (^0) is no transaction (an
// unspent output's spender), NoAddress (^0) no address.
type TxNumbers interface {
	TxNumber(chain heistgraph.Chain, txid heistgraph.Hash) (uint32, bool)
	Numbered(n uint32) bool
	NumberedTx(n uint32) (txid heistgraph.Hash, height int64, index int, time int64, nin, nout int)
	NumberedInput(n uint32, vin int) (prev, vout uint32, known, coinbase bool)
	NumberedOutput(n uint32, vout int) (value int64, addr uint32, burn bool, spender, vin uint32)
	NumberedRecord(n uint32) heistgraph.TxRecord
	NumberedAddress(a uint32) string
}

const noNum = ^uint32(0)

// txTable numbers the transactions one trace reads 0, 1, 2… in the order
// it first reads them: the engine keys everything by these numbers, and
// addresses by addrRef. A transaction is read from the
// reader by number when it has TxNumbers and answers it (nothing but
// numbers is read then, until record asks for the whole record), and with
// Tx otherwise (the record is kept).
type txTable struct {
	r   store.ChainReader
	num TxNumbers // nil: every transaction is read with Tx
	// g is num's graph, read concretely: every read by number but
	// NumberedTx (which a wrapper of the reader may count) is a call
	// the compiler sees, most of them inlined, with no interface call
	// per field. Set with num.
	g *txgraph.Reader
	// ct is where a transaction is read for the CoinJoin detectors
	// (coinJoin), reused.
	ct txgraph.ClusterTx
	// abuf is where address strings are cut from (address): bytes once
	// written are never written again, so the strings stay valid.
	abuf  []byte
	chain heistgraph.Chain

	txs  chunks[txEntry]           // by number; pages that never move (at)
	ids  chunks[heistgraph.Hash]   // the txids, by number: apart, as few read them (id)
	recs []*heistgraph.TxRecord    // the records kept, by txEntry.rec−1
	byID map[heistgraph.Hash]int32 // transactions read with Tx
	// built is the record built from numbers for the transaction
	// builtOf (−1: none), until dropRecord.
	built   *heistgraph.TxRecord
	builtOf int32
	byNum   denseIndex // the reader's number → ours

	strs      []string         // addresses read as strings (records read with Tx)
	addrByStr map[string]int32 // index in strs
}

// txEntry is one transaction of a trace. It holds no pointer, so that
// the collector does not scan the table. Its txid is apart (txTable.ids):
// a visit reads the rest, and an entry is then 56 bytes rather than 88.
type txEntry struct {
	pos       pos
	time      int64
	nin, nout int
	gnum      uint32 // the reader's number; noNum: its record holds it
	rec       int32  // its kept record (read with Tx) + 1 in txTable.recs; 0 none
	placed    bool   // in the result (Result.txPos)
}

// at returns tx n's entry (n below len). Entries never move.
func (t *txTable) at(n int32) *txEntry {
	return &t.txs.pages[n>>chunkBits][n&(1<<chunkBits-1)]
}

// id returns tx n's txid.
func (t *txTable) id(n int32) heistgraph.Hash { return *t.ids.at(int(n)) }

// add numbers the transaction x of txid id.
func (t *txTable) add(id heistgraph.Hash, x txEntry) int32 {
	t.ids.add(id)
	return int32(t.txs.add(x))
}

// len returns how many transactions t numbers.
func (t *txTable) len() int { return t.txs.len() }

// addrRef is an address as the engine keeps it: -1 for none, the
// reader's address id (TxNumbers) below 1<<32, and 1<<32 + its index in
// txTable.strs above (an address read as a string).
type addrRef int64

const (
	noAddr   addrRef = -1
	strAddr0 addrRef = 1 << 32
)

func newTxTable(r store.ChainReader, chain heistgraph.Chain) *txTable {
	t := &txTable{r: r, chain: chain, byID: map[heistgraph.Hash]int32{},
		addrByStr: map[string]int32{}, builtOf: -1}
	n, ok := r.(TxNumbers)
	gr, isGraph := r.(interface{ Graph() *txgraph.Graph })
	if ok && isGraph {
		// txgraph.Reader, or a wrapper that embeds one.
		t.num, t.g = n, txgraph.NewReader(gr.Graph(), r)
		t.ct.NoAddresses = true
	}
	return t
}

// graphErr returns the damage the reads by number met in the reader's
// graph (txgraph.Graph.Err: they answer as if the damaged number were
// absent, so the trace's result is not to be given), nil when none or
// without a graph.
func (t *txTable) graphErr() error {
	if t.g == nil {
		return nil
	}
	if err := t.g.Graph().Err(); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	return nil
}

// byTxID returns the number of txid, reading it. Errors are the reader's
// (heistgraph.ErrNotFound for a transaction it does not hold).
func (t *txTable) byTxID(ctx context.Context, txid heistgraph.Hash) (int32, error) {
	if n, ok := t.byID[txid]; ok {
		return n, nil
	}
	if t.num != nil {
		if g, ok := t.num.TxNumber(t.chain, txid); ok {
			return t.byGraph(g), nil
		}
	}
	rec, err := t.r.Tx(ctx, t.chain, txid)
	if err != nil {
		return 0, err
	}
	t.recs = append(t.recs, &rec)
	n := t.add(txid, txEntry{pos: pos{rec.Block.Height, rec.Index}, time: rec.Block.Time,
		nin: len(rec.Tx.Inputs), nout: len(rec.Tx.Outputs), gnum: noNum, rec: int32(len(t.recs))})
	t.byID[txid] = n
	return n, nil
}

// forget makes the next lookup of every transaction read it again (a
// Tracer's next block: the store may have changed under a reorg). The
// numbers given so far stay valid, with what was read for them.
func (t *txTable) forget() {
	clear(t.byID)
	t.byNum.reset()
}

// byGraph returns the number of the reader's (Numbered) transaction g.
func (t *txTable) byGraph(g uint32) int32 {
	if n, ok := t.byNum.get(g); ok {
		return n
	}
	return t.addGraph(g)
}

// numberOf returns the number of txid when the trace has read it, -1
// when not.
func (t *txTable) numberOf(txid heistgraph.Hash) int32 {
	if n, ok := t.byID[txid]; ok {
		return n
	}
	if t.num != nil {
		if g, ok := t.num.TxNumber(t.chain, txid); ok {
			if n, ok := t.byNum.get(g); ok {
				return n
			}
		}
	}
	return -1
}

// numberOfGraph returns the number of the reader's transaction g when
// the trace has read it (by number, or with Tx when the reader does not
// answer it by number), -1 when not.
func (t *txTable) numberOfGraph(g uint32) int32 {
	if n, ok := t.byNum.get(g); ok {
		return n
	}
	if len(t.byID) == 0 {
		return -1
	}
	id, _, _, _, _, _ := t.num.NumberedTx(g)
	if n, ok := t.byID[id]; ok {
		return n
	}
	return -1
}

// addGraph numbers the reader's transaction g, which has no number yet.
func (t *txTable) addGraph(g uint32) int32 {
	id, h, i, tm, nin, nout := t.num.NumberedTx(g)
	n := t.add(id, txEntry{pos: pos{h, i}, time: tm, nin: nin, nout: nout, gnum: g})
	t.byNum.set(g, n)
	return n
}

// record returns tx n's whole record: kept, or built from numbers (one
// at a time, kept until dropRecord or the next is built).
func (t *txTable) record(n int32) *heistgraph.TxRecord {
	x := t.at(n)
	if x.rec > 0 {
		return t.recs[x.rec-1]
	}
	if t.builtOf != n {
		rec := t.g.NumberedRecord(x.gnum)
		t.built, t.builtOf = &rec, n
	}
	return t.built
}

// coinJoin runs the CoinJoin detectors on tx n (detectCoinJoin). A
// transaction the reader numbers is read from the graph into reused
// memory, and the detectors compare its address ids rather than its
// address strings when every output they compare has one.
func (t *txTable) coinJoin(n int32) (CoinJoinEvent, bool) {
	x := t.at(n)
	if x.gnum == noNum {
		rec := t.record(n)
		return detectCoinJoin(&rec.Tx, rec.Prevouts, pattern.CoinJoinOptions{})
	}
	ct := &t.ct
	t.g.Graph().ReadCluster(x.gnum, ct) // true: x.gnum is Numbered
	var opts pattern.CoinJoinOptions
	if ct.Owned() {
		opts.InOwners, opts.OutOwners = ct.In, ct.Out
	} else {
		t.g.Graph().ClusterAddresses(ct)
	}
	return detectCoinJoin(&ct.Rec.Tx, ct.Rec.Prevouts, opts)
}

// kept returns the record of tx n, which its reader does not number.
func (t *txTable) kept(x *txEntry) *heistgraph.TxRecord { return t.recs[x.rec-1] }

// keep makes tx n's record (record) kept, and returns it.
func (t *txTable) keep(n int32) *heistgraph.TxRecord {
	rec := t.record(n)
	if x := t.at(n); x.rec == 0 {
		t.recs = append(t.recs, rec)
		x.rec = int32(len(t.recs))
	}
	return rec
}

// dropRecord forgets a record built from numbers (it can be built again).
func (t *txTable) dropRecord(n int32) {
	if t.builtOf == n {
		t.built, t.builtOf = nil, -1
	}
}

// coinbase reports whether tx n is a coinbase (heistgraph.Tx.IsCoinbase).
func (t *txTable) coinbase(n int32) bool {
	x := t.at(n)
	if x.gnum == noNum {
		return t.kept(x).Tx.IsCoinbase()
	}
	if x.nin != 1 {
		return false
	}
	_, _, _, cb := t.g.NumberedInput(x.gnum, 0)
	return cb
}

// prevout returns the value of the output input vin of tx n spends; false
// when it is unknown (a nil prevout).
func (t *txTable) prevout(n int32, vin int) (int64, bool) {
	x := t.at(n)
	if x.gnum == noNum {
		rec := t.kept(x)
		if vin >= len(rec.Prevouts) || rec.Prevouts[vin] == nil {
			return 0, false
		}
		return rec.Prevouts[vin].Value, true
	}
	return t.g.NumberedInputValue(x.gnum, vin)
}

// prevouts fills in (as long as tx n's inputs) with the values of the
// outputs tx n's inputs spend and returns their sum; known is false when
// one is unknown or tx n is a coinbase (in is then partly filled).
func (t *txTable) prevouts(n int32, in []int64) (v int64, known bool) {
	if t.coinbase(n) {
		return 0, false
	}
	x := t.at(n)
	if x.gnum == noNum {
		for i := range in {
			pv, ok := t.prevout(n, i)
			if !ok {
				return 0, false
			}
			in[i] = pv
			v += pv
		}
		return v, true
	}
	for i := range in {
		pv, ok := t.g.NumberedInputValue(x.gnum, i)
		if !ok {
			return 0, false
		}
		in[i] = pv
		v += pv
	}
	return v, true
}

// prevOutpoint returns the outpoint input vin of tx n spends.
func (t *txTable) prevOutpoint(n int32, vin int) heistgraph.Outpoint {
	x := t.at(n)
	if x.gnum == noNum {
		return t.kept(x).Tx.Inputs[vin].PrevOut
	}
	p, v, _, cb := t.g.NumberedInput(x.gnum, vin)
	if cb {
		return heistgraph.Outpoint{Vout: v}
	}
	id, _, _, _, _, _ := t.num.NumberedTx(p)
	return heistgraph.Outpoint{TxID: id, Vout: v}
}

// prevAddr returns the address of the output input vin of tx n spends,
// which must be known.
func (t *txTable) prevAddr(n int32, vin int) addrRef {
	x := t.at(n)
	if x.gnum == noNum {
		return t.addrOfString(t.kept(x).Prevouts[vin].Address)
	}
	return addrOfID(t.g.NumberedInputAddress(x.gnum, vin))
}

// output returns output vout of tx n: value, address and whether it is
// provably unspendable.
func (t *txTable) output(n int32, vout int) (value int64, addr addrRef, burn bool) {
	x := t.at(n)
	if x.gnum == noNum {
		o := &t.kept(x).Tx.Outputs[vout]
		return o.Value, t.addrOfString(o.Address), isBurn(*o)
	}
	v, a, b, _, _ := t.g.NumberedOutput(x.gnum, vout)
	return v, addrOfID(a), b
}

// valueBurn returns the value of output vout of tx n and whether it is
// provably unspendable.
func (t *txTable) valueBurn(n int32, vout int) (int64, bool) {
	x := t.at(n)
	if x.gnum == noNum {
		o := &t.kept(x).Tx.Outputs[vout]
		return o.Value, isBurn(*o)
	}
	v, _, b, _, _ := t.g.NumberedOutput(x.gnum, vout)
	return v, b
}

// value returns the value of output vout of tx n.
func (t *txTable) value(n int32, vout int) int64 {
	x := t.at(n)
	if x.gnum == noNum {
		return t.kept(x).Tx.Outputs[vout].Value
	}
	v, _, _, _, _ := t.g.NumberedOutput(x.gnum, vout)
	return v
}

// outInfo is one output as forward reads it: its value, address, whether
// it is burned and spent, and, for a transaction the reader numbers, the
// reader's number of its spender and the input index.
type outInfo struct {
	value   int64
	addr    addrRef
	burn    bool
	spent   bool
	sp, vin uint32 // numbered: the spender (noNum: unspent); else unused
}

// outInfo returns output vout of tx n.
func (t *txTable) outInfo(n int32, vout int) outInfo {
	x := t.at(n)
	if x.gnum == noNum {
		o := &t.kept(x).Tx.Outputs[vout]
		return outInfo{value: o.Value, addr: t.addrOfString(o.Address), burn: isBurn(*o),
			spent: vout < len(t.kept(x).SpentBy) && t.kept(x).SpentBy[vout] != nil, sp: noNum}
	}
	v, a, b, sp, vin := t.g.NumberedOutput(x.gnum, vout)
	return outInfo{value: v, addr: addrOfID(a), burn: b, spent: sp != noNum, sp: sp, vin: vin}
}

// numberedOutputs returns the outputs of tx n, which the reader numbers,
// in buf: each read once for a visit.
func (t *txTable) numberedOutputs(n int32, buf []outInfo) []outInfo {
	x := t.at(n)
	buf = buf[:0]
	for j := range x.nout {
		v, a, b, sp, vin := t.g.NumberedOutput(x.gnum, j)
		buf = append(buf, outInfo{value: v, addr: addrOfID(a), burn: b, spent: sp != noNum, sp: sp, vin: vin})
	}
	return buf
}

// spender returns the transaction spending output vout of tx n (which is
// spent, as o, its outInfo, says) and the input index, reading it; found
// is false when the reader does not hold it.
func (t *txTable) spender(ctx context.Context, n int32, vout int, o *outInfo) (m int32, vin uint32, found bool, err error) {
	x := t.at(n)
	var txid heistgraph.Hash
	if x.gnum == noNum {
		by := t.kept(x).SpentBy[vout]
		txid, vin = by.TxID, by.Vin
	} else {
		sp := o.sp
		vin = o.vin
		if m, ok := t.byNum.get(sp); ok {
			return m, vin, true, nil
		}
		if t.g.Numbered(sp) {
			return t.addGraph(sp), vin, true, nil
		}
		txid, _, _, _, _, _ = t.num.NumberedTx(sp)
	}
	m, err = t.byTxID(ctx, txid)
	if errors.Is(err, heistgraph.ErrNotFound) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, err
	}
	return m, vin, true, nil
}

// setSpender records that output vout of tx n is now spent by in (a
// Tracer's new block) and returns the undo.
func (t *txTable) setSpender(n int32, vout uint32, in heistgraph.Inpoint) func() {
	rec := t.keep(n)
	old := rec.SpentBy
	by := make([]*heistgraph.Inpoint, max(len(rec.SpentBy), len(rec.Tx.Outputs)))
	copy(by, rec.SpentBy)
	by[vout] = &in
	rec.SpentBy = by
	x := t.at(n)
	g := x.gnum
	x.gnum = noNum // the record answers now
	return func() { rec.SpentBy = old; t.at(n).gnum = g }
}

// addrOfID returns the reader's address id a as an addrRef.
func addrOfID(a uint32) addrRef {
	if a == noNum {
		return noAddr
	}
	return addrRef(a)
}

// addrOfString returns address s as an addrRef.
func (t *txTable) addrOfString(s string) addrRef {
	if s == "" {
		return noAddr
	}
	n, ok := t.addrByStr[s]
	if !ok {
		n = int32(len(t.strs))
		t.strs = append(t.strs, s)
		t.addrByStr[s] = n
	}
	return strAddr0 + addrRef(n)
}

// address returns address a as a string ("" for none).
func (t *txTable) address(a addrRef) string {
	switch {
	case a < 0:
		return ""
	case a >= strAddr0:
		return t.strs[a-strAddr0]
	}
	// Cut from abuf: one allocation for many addresses. An append that
	// outgrows abuf copies it to a new array; the strings cut before
	// keep the old one.
	if cap(t.abuf)-len(t.abuf) < addrRoom {
		t.abuf = make([]byte, 0, addrBlock)
	}
	start := len(t.abuf)
	t.abuf = t.g.AppendNumberedAddress(t.abuf, uint32(a))
	if len(t.abuf) == start {
		return ""
	}
	return unsafe.String(&t.abuf[start], len(t.abuf)-start)
}

// addrBlock is the size of the blocks address strings are cut from, and
// addrRoom the room below which a new block is started (an address is
// at most 90 characters).
const (
	addrBlock = 16 << 10
	addrRoom  = 128
)
