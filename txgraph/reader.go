package txgraph

import (
	"context"
	"fmt"
	"iter"
	"unsafe"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Reader is a store.ChainReader for trace: Tx and Output from the graph
// (with the fields the package documentation lists left out), everything
// else, and what the graph marks, from the store it wraps. Use it only
// while the graph is current (Graph.Current).
type Reader struct {
	g  *Graph
	st store.ChainReader
}

// NewReader reads g first and st for the rest.
func NewReader(g *Graph, st store.ChainReader) *Reader { return &Reader{g: g, st: st} }

// Graph returns the graph r reads.
func (r *Reader) Graph() *Graph { return r.g }

var _ store.ChainReader = (*Reader)(nil)

// Tip is the store's.
func (r *Reader) Tip(ctx context.Context, chain heistgraph.Chain) (heistgraph.BlockRef, error) {
	return r.st.Tip(ctx, chain)
}

// BlockByHeight is the store's.
func (r *Reader) BlockByHeight(ctx context.Context, chain heistgraph.Chain, height int64) (heistgraph.BlockInfo, error) {
	return r.st.BlockByHeight(ctx, chain, height)
}

// BlockByHash is the store's.
func (r *Reader) BlockByHash(ctx context.Context, chain heistgraph.Chain, hash heistgraph.Hash) (heistgraph.BlockInfo, error) {
	return r.st.BlockByHash(ctx, chain, hash)
}

// Address is the store's.
func (r *Reader) Address(ctx context.Context, chain heistgraph.Chain, addr string) (heistgraph.AddressSummary, error) {
	return r.st.Address(ctx, chain, addr)
}

// AddressHistory is the store's.
func (r *Reader) AddressHistory(ctx context.Context, chain heistgraph.Chain, addr string, opts store.HistoryOptions) iter.Seq2[heistgraph.AddressEvent, error] {
	return r.st.AddressHistory(ctx, chain, addr, opts)
}

// Digest is the store's.
func (r *Reader) Digest(ctx context.Context, chain heistgraph.Chain) (heistgraph.Hash, error) {
	return r.st.Digest(ctx, chain)
}

// FirstHeight returns the height addr was first paid at, as the store's
// AddressSummary.FirstHeight (an address first seen spending cannot be:
// it is paid first). ok is false for an address the graph does not hold.
// Damage met in the graph's address table wraps ErrFormat.
func (r *Reader) FirstHeight(ctx context.Context, chain heistgraph.Chain, addr string) (int64, bool, error) {
	if chain != r.g.m.Chain {
		s, err := r.st.Address(ctx, chain, addr)
		if err != nil {
			return 0, false, err
		}
		return s.FirstHeight, true, nil
	}
	a, ok, bad := r.g.t.lookupAddr(addr)
	if bad {
		return 0, false, r.g.errOf(damage(dmgAddrSlot<<56 | uint64(a)))
	}
	if !ok {
		return 0, false, nil
	}
	return r.g.t.addrFirst[a], true, nil
}

// Tx reads txid from the graph, or from the store when the graph marks it
// or does not hold it. Damage met in the graph wraps ErrFormat.
func (r *Reader) Tx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.Hash) (heistgraph.TxRecord, error) {
	if chain == r.g.m.Chain {
		n, ok, bad := r.g.t.lookupTx(txid)
		if bad {
			return heistgraph.TxRecord{}, r.g.errOf(damage(dmgTxSlot<<56 | uint64(n)))
		}
		if ok {
			rec, direct, d := r.g.record(n)
			if d != 0 {
				return heistgraph.TxRecord{}, r.g.errOf(d)
			}
			if direct {
				return rec, nil
			}
		}
	}
	return r.st.Tx(ctx, chain, txid)
}

// Output reads op from the graph, or from the store as Tx does.
func (r *Reader) Output(ctx context.Context, chain heistgraph.Chain, op heistgraph.Outpoint) (heistgraph.Output, error) {
	if chain != r.g.m.Chain {
		return r.st.Output(ctx, chain, op)
	}
	g := r.g
	t := &g.t
	n, ok, bad := t.lookupTx(op.TxID)
	if bad {
		return heistgraph.Output{}, g.errOf(damage(dmgTxSlot<<56 | uint64(n)))
	}
	if !ok {
		return r.st.Output(ctx, chain, op)
	}
	_, _, out0, nout, b, ok := t.txRange(n)
	if !ok {
		return heistgraph.Output{}, g.errOf(damage(dmgTx<<56 | uint64(n)))
	}
	if b < 0 || t.txFlags[n]&flagStore != 0 || uint64(op.Vout) >= nout {
		return r.st.Output(ctx, chain, op)
	}
	o := out0 + uint64(op.Vout)
	out := heistgraph.Output{Chain: chain, Outpoint: op, Block: g.blockRef(b)}
	var d damage
	g.output(o, &out.TxOut, nil, &d)
	if sp := t.outSpTx[o]; sp != none {
		if int64(sp) >= int64(len(t.txid)) {
			d.set(dmgOutput, o)
		} else {
			out.SpentBy = &heistgraph.Inpoint{TxID: t.txid[sp], Vin: t.outSpVin[o]}
		}
	}
	if d != 0 {
		return heistgraph.Output{}, g.errOf(d)
	}
	return out, nil
}

// blockRef returns block b (below the blocks).
func (g *Graph) blockRef(b int32) heistgraph.BlockRef {
	return heistgraph.BlockRef{Hash: g.t.blkHash[b], Height: g.t.blkHeight[b], Time: g.t.blkTime[b]}
}

// addressOf returns the address id of output o (below the outputs):
// NoAddress for none, and for a damaged id (recorded in d).
func (t *tables) addressOf(o uint64, d *damage) uint32 {
	a := t.outAddr[o]
	if a != none && int64(a) >= int64(len(t.addrFirst)) {
		d.set(dmgOutput, o)
		return none
	}
	return a
}

// output fills out with output number i (below the outputs), its address
// appended to buf and cut from it (buf nil: an array of its own), and
// returns buf. Damage is recorded in d (the damaged field left zero).
func (g *Graph) output(i uint64, out *heistgraph.TxOut, buf []byte, d *damage) []byte {
	t := &g.t
	out.Value = t.outValue[i]
	if c := t.outType[i]; int(c) < len(g.types) {
		out.Type = g.types[c]
	} else {
		d.set(dmgOutput, i)
	}
	if a := t.addressOf(i, d); a != none {
		b, ok := t.address(a)
		if !ok {
			d.set(dmgAddress, uint64(a))
		}
		start := len(buf)
		buf = append(buf, b...)
		if n := len(buf) - start; n > 0 {
			out.Address = unsafe.String(&buf[start], n)
		}
	} else if s, found, ok := t.script(i); found {
		out.Script = append([]byte(nil), s...)
	} else if !ok {
		d.set(dmgScript, i)
	}
	return buf
}

// record builds tx n's record (n below the transactions); direct is
// false when the store must answer. d is the damage met: the record then
// reads a damaged spent transaction or output as unknown, and a damaged
// field of an output as zero.
func (g *Graph) record(n uint32) (rec heistgraph.TxRecord, direct bool, d damage) {
	t := &g.t
	in0, nin, out0, nout, b, ok := t.txRange(n)
	if !ok {
		d.set(dmgTx, uint64(n))
		return rec, false, d
	}
	if b < 0 || t.txFlags[n]&flagStore != 0 {
		return rec, false, 0
	}
	// Sizes first: one allocation for all addresses, one for all
	// prevouts. spent gives each input's spent output (noOut: unknown),
	// checked once.
	abytes, known, spent := 0, 0, 0
	for i := in0; i < in0+nin; i++ {
		o := g.spentOutput(i, &d)
		if o == noOut {
			continue
		}
		if t.txFlags[t.inPrev[i]]&flagStore != 0 {
			return heistgraph.TxRecord{}, false, d
		}
		known++
		if a := t.addressOf(o, &d); a != none {
			if s, ok := t.address(a); ok {
				abytes += len(s)
			}
		}
	}
	for o := out0; o < out0+nout; o++ {
		if a := t.addressOf(o, &d); a != none {
			if s, ok := t.address(a); ok {
				abytes += len(s)
			}
		}
		if t.outSpTx[o] != none {
			spent++
		}
	}
	buf := make([]byte, 0, abytes)
	rec = heistgraph.TxRecord{
		Chain: g.m.Chain,
		Tx: heistgraph.Tx{
			TxID:    t.txid[n],
			Inputs:  make([]heistgraph.TxIn, nin),
			Outputs: make([]heistgraph.TxOut, nout),
		},
		Block:    g.blockRef(b),
		Index:    int(t.txIndex[n]),
		Prevouts: make([]*heistgraph.TxOut, nin),
		SpentBy:  make([]*heistgraph.Inpoint, nout),
		Fee:      t.txFee[n],
		FeeKnown: t.txFlags[n]&flagFeeKnown != 0,
	}
	var prev []heistgraph.TxOut
	if known > 0 {
		prev = make([]heistgraph.TxOut, 0, known)
	}
	var inSum int64
	allKnown := true
	for k := range nin {
		i := in0 + k
		p := t.inPrev[i]
		in := &rec.Tx.Inputs[k]
		in.PrevOut.Vout = t.inVout[i]
		if p == none {
			in.Coinbase = true
			continue
		}
		o := g.spentOutput(i, &d)
		if o == noOut {
			allKnown = false
			if int64(p) < int64(len(t.txid)) {
				in.PrevOut.TxID = t.txid[p]
			}
			continue
		}
		in.PrevOut.TxID = t.txid[p]
		prev = append(prev, heistgraph.TxOut{})
		po := &prev[len(prev)-1]
		buf = g.output(o, po, buf, &d)
		rec.Prevouts[k] = po
		inSum += po.Value
	}
	var outSum int64
	var sp []heistgraph.Inpoint
	if spent > 0 {
		sp = make([]heistgraph.Inpoint, 0, spent)
	}
	for k := range nout {
		o := out0 + k
		buf = g.output(o, &rec.Tx.Outputs[k], buf, &d)
		outSum += t.outValue[o]
		if s := t.outSpTx[o]; s != none {
			if int64(s) >= int64(len(t.txid)) {
				d.set(dmgOutput, o)
				continue
			}
			sp = append(sp, heistgraph.Inpoint{TxID: t.txid[s], Vin: t.outSpVin[o]})
			rec.SpentBy[k] = &sp[len(sp)-1]
		}
	}
	if !rec.FeeKnown && allKnown {
		rec.Fee, rec.FeeKnown = inSum-outSum, true
	}
	return rec, true, d
}

// spentOutput returns the output input i (below the inputs) spends, noOut
// when the graph does not hold it, a coinbase's input, and when the
// input's numbers are damaged (recorded in d): what derive made of the
// spent transaction's block and outputs, read in one load.
func (g *Graph) spentOutput(i uint64, d *damage) uint64 {
	t := &g.t
	p, o := t.inPrev[i], t.inSpent[i]
	if p == none || o == noOut {
		return noOut
	}
	if int64(p) >= int64(len(t.txid)) || o >= uint64(len(t.outValue)) {
		d.set(dmgInput, i)
		return noOut
	}
	return o
}

// String names the graph for messages.
func (g *Graph) String() string {
	return fmt.Sprintf("%s graph at %s (tip %d)", g.m.Chain, g.path, g.m.TipHeight)
}

// TxView returns a function that reads tx n (which must be Numbered) as
// ReadCluster does, into memory it reuses from one call to the next: what
// a detector reads of a transaction (pattern.AnalyzeCoinJoin) without
// allocating. The record it returns, and its addresses and scripts, which
// point into the graph's mapping, are valid until the next call and while
// the graph is open: read them, keep none. Each function is for one
// goroutine; the Reader makes one for each caller.
func (r *Reader) TxView() func(n uint32) *heistgraph.TxRecord {
	var ct ClusterTx
	return func(n uint32) *heistgraph.TxRecord {
		r.g.ReadCluster(n, &ct)
		return &ct.Rec
	}
}

// NumberedInputAddress returns the address id of the output input vin of
// tx n spends, which must be known (NumberedInput): NoAddress for none.
// It reads only that (NumberedOutput reads every column of the output).
func (r *Reader) NumberedInputAddress(n uint32, vin int) uint32 {
	t := &r.g.t
	i := t.txIn[n] + uint64(vin)
	o := t.inSpent[i]
	if o >= uint64(len(t.outAddr)) {
		r.g.damaged(dmgInput<<56 | i)
		return none
	}
	if a := t.outAddr[o]; a+1 <= uint32(len(t.addrFirst)) { // none+1 is 0
		return a
	}
	r.g.damaged(dmgOutput<<56 | o)
	return none
}

// AppendNumberedAddress appends address id a (NumberedAddress) to dst and
// returns the extended buffer: a caller that keeps many addresses cuts
// them from blocks of its own.
func (r *Reader) AppendNumberedAddress(dst []byte, a uint32) []byte {
	b, ok := r.g.t.address(a)
	if !ok {
		r.g.damaged(dmgAddress<<56 | uint64(a))
	}
	return append(dst, b...)
}
