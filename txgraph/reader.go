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
func (r *Reader) FirstHeight(ctx context.Context, chain heistgraph.Chain, addr string) (int64, bool, error) {
	if chain != r.g.m.Chain {
		s, err := r.st.Address(ctx, chain, addr)
		if err != nil {
			return 0, false, err
		}
		return s.FirstHeight, true, nil
	}
	a, ok := r.g.t.lookupAddr(addr)
	if !ok {
		return 0, false, nil
	}
	return r.g.t.addrFirst[a], true, nil
}

// Tx reads txid from the graph, or from the store when the graph marks it
// or does not hold it.
func (r *Reader) Tx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.Hash) (heistgraph.TxRecord, error) {
	if chain == r.g.m.Chain {
		if n, ok := r.g.t.lookupTx(txid); ok {
			if rec, ok := r.g.record(n); ok {
				return rec, nil
			}
		}
	}
	return r.st.Tx(ctx, chain, txid)
}

// Output reads op from the graph, or from the store as Tx does.
func (r *Reader) Output(ctx context.Context, chain heistgraph.Chain, op heistgraph.Outpoint) (heistgraph.Output, error) {
	if chain == r.g.m.Chain {
		if n, ok := r.g.t.lookupTx(op.TxID); ok && r.g.direct(n) && op.Vout < r.g.t.txNOut[n] {
			t := &r.g.t
			o := t.txOut[n] + uint64(op.Vout)
			out := heistgraph.Output{Chain: chain, Outpoint: op, Block: r.g.blockRef(n)}
			var buf []byte
			if a := t.outAddr[o]; a != none {
				buf = make([]byte, 0, len(t.address(a)))
			}
			r.g.output(o, &out.TxOut, &buf)
			if sp := t.outSpTx[o]; sp != none {
				out.SpentBy = &heistgraph.Inpoint{TxID: t.txid[sp], Vin: t.outSpVin[o]}
			}
			return out, nil
		}
	}
	return r.st.Output(ctx, chain, op)
}

// direct reports whether tx n is stored and answered from the graph.
func (g *Graph) direct(n uint32) bool {
	return g.t.txBlock[n] >= 0 && g.t.txFlags[n]&flagStore == 0
}

func (g *Graph) blockRef(n uint32) heistgraph.BlockRef {
	b := g.t.txBlock[n]
	return heistgraph.BlockRef{Hash: g.t.blkHash[b], Height: g.t.blkHeight[b], Time: g.t.blkTime[b]}
}

// output fills o with output number i, its address cut from *buf (which
// has room for it).
func (g *Graph) output(i uint64, o *heistgraph.TxOut, buf *[]byte) {
	t := &g.t
	o.Value = t.outValue[i]
	o.Type = g.types[t.outType[i]]
	if a := t.outAddr[i]; a != none {
		start := len(*buf)
		*buf = append(*buf, t.address(a)...)
		if n := len(*buf) - start; n > 0 {
			o.Address = unsafe.String(&(*buf)[start], n)
		}
	} else if s, ok := t.script(i); ok {
		o.Script = append([]byte(nil), s...)
	}
}

// record builds tx n's record; false when the store must answer.
func (g *Graph) record(n uint32) (heistgraph.TxRecord, bool) {
	t := &g.t
	if !g.direct(n) {
		return heistgraph.TxRecord{}, false
	}
	in0, nin := t.txIn[n], uint64(t.txNIn[n])
	out0, nout := t.txOut[n], uint64(t.txNOut[n])
	// Sizes first: one allocation for all addresses, one for all prevouts.
	abytes, known, spent := 0, 0, 0
	for i := in0; i < in0+nin; i++ {
		p := t.inPrev[i]
		if p == none || t.txBlock[p] < 0 || t.inVout[i] >= t.txNOut[p] {
			continue
		}
		if t.txFlags[p]&flagStore != 0 {
			return heistgraph.TxRecord{}, false
		}
		known++
		if a := t.outAddr[t.txOut[p]+uint64(t.inVout[i])]; a != none {
			abytes += int(t.addrOff[a+1] - t.addrOff[a])
		}
	}
	for o := out0; o < out0+nout; o++ {
		if a := t.outAddr[o]; a != none {
			abytes += int(t.addrOff[a+1] - t.addrOff[a])
		}
		if t.outSpTx[o] != none {
			spent++
		}
	}
	buf := make([]byte, 0, abytes)
	rec := heistgraph.TxRecord{
		Chain: g.m.Chain,
		Tx: heistgraph.Tx{
			TxID:    t.txid[n],
			Inputs:  make([]heistgraph.TxIn, nin),
			Outputs: make([]heistgraph.TxOut, nout),
		},
		Block:    g.blockRef(n),
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
		in.PrevOut.TxID = t.txid[p]
		if t.txBlock[p] < 0 || t.inVout[i] >= t.txNOut[p] {
			allKnown = false
			continue
		}
		prev = append(prev, heistgraph.TxOut{})
		po := &prev[len(prev)-1]
		g.output(t.txOut[p]+uint64(t.inVout[i]), po, &buf)
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
		g.output(o, &rec.Tx.Outputs[k], &buf)
		outSum += t.outValue[o]
		if s := t.outSpTx[o]; s != none {
			sp = append(sp, heistgraph.Inpoint{TxID: t.txid[s], Vin: t.outSpVin[o]})
			rec.SpentBy[k] = &sp[len(sp)-1]
		}
	}
	if !rec.FeeKnown && allKnown {
		rec.Fee, rec.FeeKnown = inSum-outSum, true
	}
	return rec, true
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
	return t.outAddr[t.inSpent[t.txIn[n]+uint64(vin)]]
}

// AppendNumberedAddress appends address id a (NumberedAddress) to dst and
// returns the extended buffer: a caller that keeps many addresses cuts
// them from blocks of its own.
func (r *Reader) AppendNumberedAddress(dst []byte, a uint32) []byte {
	return append(dst, r.g.t.address(a)...)
}
