package txgraph

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Stats says what Update did.
type Stats struct {
	// Rebuilt is true when the graph was built from the first block: there
	// was none, it was of another version, or its last block left the
	// chain (a reorg).
	Rebuilt bool `json:"rebuilt"`
	// Blocks and Txs are the blocks and transactions read from the store.
	Blocks int `json:"blocks"`
	Txs    int `json:"txs"`
	// TipHeight and TipHash are the graph's last block after the update.
	TipHeight int64           `json:"tip_height"`
	TipHash   heistgraph.Hash `json:"tip_hash"`
}

// Update brings the graph of chain at path up to r's tip: it extends the
// graph with the blocks above its last one when that block is still on
// r's chain and the graph is whole (Verify: it reads every number of the
// file, as the extension copies them), and builds it from the first
// block otherwise. The file is
// replaced atomically; a graph opened before stays valid (on unix the old
// mapping outlives the rename). Nothing is written when the graph is
// current.
func Update(ctx context.Context, r store.ChainReader, chain heistgraph.Chain, path string) (Stats, error) {
	var st Stats
	tip, err := r.Tip(ctx, chain)
	if err != nil {
		return st, fmt.Errorf("txgraph: tip of %s: %w", chain, err)
	}
	b := newBuilder(chain)
	from := int64(0)
	g, err := Open(path)
	switch {
	case err == nil:
		defer g.Close()
		ok, err := onChain(ctx, r, g)
		if err != nil {
			return st, err
		}
		if ok && g.m.TipHeight == tip.Height {
			st.TipHeight, st.TipHash = g.m.TipHeight, g.m.TipHash
			return st, nil
		}
		switch {
		case !ok || g.m.Chain != chain:
			st.Rebuilt = true
		case g.Verify() != nil:
			// Damaged: the builder trusts the tables it loads, and
			// reads them whole anyway.
			st.Rebuilt = true
		default:
			b.load(g)
			from = g.m.TipHeight + 1
		}
	case errors.Is(err, os.ErrNotExist), errors.Is(err, ErrFormat):
		st.Rebuilt = true
	default:
		return st, err
	}
	bt, _ := r.(store.BlockTxs)
	for h := from; h <= tip.Height; h++ {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("txgraph: %w", err)
		}
		bi, err := r.BlockByHeight(ctx, chain, h)
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue
		}
		if err != nil {
			return st, fmt.Errorf("txgraph: block %d: %w", h, err)
		}
		b.block(bi)
		if bt != nil {
			for rec, err := range bt.BlockTxs(ctx, chain, h) {
				if err != nil {
					return st, fmt.Errorf("txgraph: block %d: %w", h, err)
				}
				b.tx(&rec)
			}
		} else {
			for _, txid := range bi.TxIDs {
				rec, err := r.Tx(ctx, chain, txid)
				if err != nil {
					return st, fmt.Errorf("txgraph: block %d: %w", h, err)
				}
				b.tx(&rec)
			}
		}
		st.Blocks++
		st.Txs += len(bi.TxIDs)
		b.m.TipHash, b.m.TipHeight = bi.Hash, bi.Height
	}
	b.finish()
	if err := write(path, &b.t, b.m); err != nil {
		return st, err
	}
	st.TipHeight, st.TipHash = b.m.TipHeight, b.m.TipHash
	return st, nil
}

// onChain reports whether g's last block is still r's block at its height.
func onChain(ctx context.Context, r store.ChainReader, g *Graph) (bool, error) {
	if len(g.t.blkHash) == 0 {
		return false, nil
	}
	bi, err := r.BlockByHeight(ctx, g.m.Chain, g.m.TipHeight)
	if errors.Is(err, heistgraph.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("txgraph: block %d: %w", g.m.TipHeight, err)
	}
	return bi.Hash == g.m.TipHash, nil
}

// builder grows tables in memory.
type builder struct {
	t     tables
	m     meta
	addr  map[string]uint32
	types map[heistgraph.ScriptType]uint8
}

func newBuilder(chain heistgraph.Chain) *builder {
	b := &builder{m: meta{Chain: chain}, addr: map[string]uint32{}, types: map[heistgraph.ScriptType]uint8{}}
	b.t.scrOff = []uint64{0}
	b.t.addrOff = []uint64{0}
	return b
}

// load copies g's tables to extend them.
func (b *builder) load(g *Graph) {
	t := &g.t
	b.m.TipHash, b.m.TipHeight, b.m.Types = g.m.TipHash, g.m.TipHeight, slices.Clone(g.m.Types)
	for i, s := range b.m.Types {
		b.types[heistgraph.ScriptType(s)] = uint8(i)
	}
	b.t = tables{
		blkHash: slices.Clone(t.blkHash), blkHeight: slices.Clone(t.blkHeight), blkTime: slices.Clone(t.blkTime),
		blkFirst: slices.Clone(t.blkFirst), blkNTx: slices.Clone(t.blkNTx),
		txLock: slices.Clone(t.txLock), txVersion: slices.Clone(t.txVersion),
		txid: slices.Clone(t.txid), txBlock: slices.Clone(t.txBlock), txIndex: slices.Clone(t.txIndex),
		txFee: slices.Clone(t.txFee), txFlags: slices.Clone(t.txFlags),
		txIn: slices.Clone(t.txIn), txNIn: slices.Clone(t.txNIn), txOut: slices.Clone(t.txOut), txNOut: slices.Clone(t.txNOut),
		txSlots: slices.Clone(t.txSlots),
		inPrev:  slices.Clone(t.inPrev), inVout: slices.Clone(t.inVout),
		outValue: slices.Clone(t.outValue), outAddr: slices.Clone(t.outAddr), outType: slices.Clone(t.outType),
		outSpTx: slices.Clone(t.outSpTx), outSpVin: slices.Clone(t.outSpVin),
		scrOut: slices.Clone(t.scrOut), scrOff: slices.Clone(t.scrOff), scrBytes: slices.Clone(t.scrBytes),
		addrOff: slices.Clone(t.addrOff), addrBytes: slices.Clone(t.addrBytes), addrFirst: slices.Clone(t.addrFirst),
	}
	for a := range len(b.t.addrFirst) {
		s, _ := b.t.address(uint32(a)) // checked (Update)
		b.addr[string(s)] = uint32(a)
	}
}

// block starts block bi.
func (b *builder) block(bi heistgraph.BlockInfo) {
	b.t.blkHash = append(b.t.blkHash, bi.Hash)
	b.t.blkHeight = append(b.t.blkHeight, bi.Height)
	b.t.blkTime = append(b.t.blkTime, bi.Time)
	b.t.blkFirst = append(b.t.blkFirst, uint32(len(b.t.txid)))
	b.t.blkNTx = append(b.t.blkNTx, 0)
}

// num returns the number of txid, adding it (as spent only, not stored)
// when new.
func (b *builder) num(txid heistgraph.Hash) uint32 {
	if n, ok, _ := b.t.lookupTx(txid); ok {
		return n
	}
	n := uint32(len(b.t.txid))
	t := &b.t
	t.txid = append(t.txid, txid)
	t.txBlock = append(t.txBlock, -1)
	t.txIndex = append(t.txIndex, 0)
	t.txFee = append(t.txFee, 0)
	t.txFlags = append(t.txFlags, 0)
	t.txLock = append(t.txLock, 0)
	t.txVersion = append(t.txVersion, 0)
	t.txIn = append(t.txIn, uint64(len(t.inPrev)))
	t.txNIn = append(t.txNIn, 0)
	t.txOut = append(t.txOut, uint64(len(t.outValue)))
	t.txNOut = append(t.txNOut, 0)
	if 2*len(t.txid) > len(t.txSlots) {
		t.fillTxSlots()
	} else {
		b.slotTx(n)
	}
	return n
}

func (b *builder) slotTx(n uint32) {
	mask := uint64(len(b.t.txSlots) - 1)
	i := txHash(b.t.txid[n]) & mask
	for b.t.txSlots[i] != 0 {
		i = (i + 1) & mask
	}
	b.t.txSlots[i] = n + 1
}

// tx adds rec, a transaction of the block last started.
func (b *builder) tx(rec *heistgraph.TxRecord) {
	t := &b.t
	tx := &rec.Tx
	t.blkNTx[len(t.blkNTx)-1]++
	n, seen, _ := t.lookupTx(tx.TxID)
	if !seen {
		n = b.num(tx.TxID)
	}
	if seen && t.txBlock[n] >= 0 {
		// Stored twice (BIP 30's duplicate coinbases): the store answers
		// for it and for what it spent.
		t.txFlags[n] |= flagStore
		for _, in := range tx.Inputs {
			if p, ok, _ := t.lookupTx(in.PrevOut.TxID); ok && !in.Coinbase {
				t.txFlags[p] |= flagStore
			}
		}
		return
	}
	if seen {
		// Spent before it was stored (blocks applied out of order): its
		// spenders were not recorded.
		t.txFlags[n] |= flagStore
	}
	t.txBlock[n] = int32(len(t.blkHash) - 1)
	t.txIndex[n] = uint32(rec.Index)
	t.txFee[n] = rec.Fee
	if rec.FeeKnown {
		t.txFlags[n] |= flagFeeKnown
	}
	t.txLock[n], t.txVersion[n] = tx.LockTime, tx.Version
	for _, in := range tx.Inputs {
		if in.Sequence < 0xfffffffe {
			t.txFlags[n] |= flagRBF
			break
		}
	}
	t.txIn[n], t.txNIn[n] = uint64(len(t.inPrev)), uint32(len(tx.Inputs))
	for vin := range tx.Inputs {
		in := &tx.Inputs[vin]
		if in.Coinbase {
			t.inPrev = append(t.inPrev, none)
			t.inVout = append(t.inVout, in.PrevOut.Vout)
			continue
		}
		p := b.num(in.PrevOut.TxID)
		t.inPrev = append(t.inPrev, p)
		t.inVout = append(t.inVout, in.PrevOut.Vout)
		resolves := t.txBlock[p] >= 0 && in.PrevOut.Vout < t.txNOut[p]
		known := vin < len(rec.Prevouts) && rec.Prevouts[vin] != nil
		if resolves != known {
			// The store knows the spent output without storing it (or
			// the other way round): it answers for this transaction.
			t.txFlags[n] |= flagStore
		}
		if !resolves {
			continue
		}
		o := t.txOut[p] + uint64(in.PrevOut.Vout)
		if t.outSpTx[o] != none {
			t.txFlags[p] |= flagStore // two spenders: the store picks one
			continue
		}
		t.outSpTx[o], t.outSpVin[o] = n, uint32(vin)
	}
	t.txOut[n], t.txNOut[n] = uint64(len(t.outValue)), uint32(len(tx.Outputs))
	h := t.blkHeight[len(t.blkHeight)-1]
	for i := range tx.Outputs {
		out := &tx.Outputs[i]
		t.outValue = append(t.outValue, out.Value)
		t.outType = append(t.outType, b.typeCode(out.Type))
		t.outSpTx = append(t.outSpTx, none)
		t.outSpVin = append(t.outSpVin, 0)
		a := none
		if out.Address != "" {
			a = b.addressID(out.Address, h)
		} else if out.Script != nil {
			t.scrOut = append(t.scrOut, uint64(len(t.outValue)-1))
			t.scrBytes = append(t.scrBytes, out.Script...)
			t.scrOff = append(t.scrOff, uint64(len(t.scrBytes)))
		}
		t.outAddr = append(t.outAddr, a)
	}
}

func (b *builder) typeCode(s heistgraph.ScriptType) uint8 {
	if c, ok := b.types[s]; ok {
		return c
	}
	c := uint8(len(b.m.Types))
	b.types[s] = c
	b.m.Types = append(b.m.Types, string(s))
	return c
}

// addressID interns addr, first seen at height h or earlier.
func (b *builder) addressID(addr string, h int64) uint32 {
	t := &b.t
	if a, ok := b.addr[addr]; ok {
		t.addrFirst[a] = min(t.addrFirst[a], h)
		return a
	}
	a := uint32(len(t.addrFirst))
	b.addr[addr] = a
	t.addrBytes = append(t.addrBytes, addr...)
	t.addrOff = append(t.addrOff, uint64(len(t.addrBytes)))
	t.addrFirst = append(t.addrFirst, h)
	return a
}

// finish builds the lookup tables and the derived columns.
func (b *builder) finish() {
	b.t.derive()
	b.t.fillTxSlots()
	b.t.fillAddrSlots()
}
