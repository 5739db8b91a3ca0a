package txgraph

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
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
// file, as the extension trusts those it copies), and builds it from the
// first block otherwise. Its arrays are built in files beside path, not
// in memory (spill). The file is replaced atomically; a graph opened
// before stays valid (on unix the old mapping outlives the rename), and a
// build stopped midway leaves the old file as it was and nothing beside
// it. Nothing is written when the graph is current. A fault of a mapped
// page (a spilled array's when its disk is full: its files are sparse,
// so the kernel answers a write it has no block for with SIGBUS, not an
// error; or the old graph's when another process truncated it) is
// returned as an error, not a crash.
func Update(ctx context.Context, r store.ChainReader, chain heistgraph.Chain, path string) (Stats, error) {
	var st Stats
	err := catchFault(filepath.Dir(path), func() error {
		var err error
		st, err = update(ctx, r, chain, path)
		return err
	})
	return st, err
}

func update(ctx context.Context, r store.ChainReader, chain heistgraph.Chain, path string) (Stats, error) {
	var st Stats
	tip, err := r.Tip(ctx, chain)
	if err != nil {
		return st, fmt.Errorf("txgraph: tip of %s: %w", chain, err)
	}
	sp, err := newSpill(filepath.Dir(path))
	if err != nil {
		return st, err
	}
	defer sp.close()
	b, err := newBuilder(chain, sp)
	if err != nil {
		return st, err
	}
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
			if err := b.load(g); err != nil {
				return st, err
			}
			from = g.m.TipHeight + 1
		}
	case errors.Is(err, os.ErrNotExist), errors.Is(err, ErrFormat):
		st.Rebuilt = true
	default:
		return st, err
	}
	for blk, err := range blocks(ctx, r, chain, from, tip.Height) {
		if err != nil {
			return st, err
		}
		bi := &blk.Block
		if err := b.block(*bi); err != nil {
			return st, err
		}
		if blk.AddrIDs != nil {
			if err := b.names(ctx, r.(store.BlockRangeIDs), &blk); err != nil {
				return st, err
			}
		}
		ids := blk.AddrIDs
		for i := range blk.Txs {
			var out []uint64
			if ids != nil {
				_, out, ids = store.TxAddrIDs(ids, &blk.Txs[i].Tx)
			}
			if err := b.tx(&blk.Txs[i], out); err != nil {
				return st, err
			}
		}
		st.Blocks++
		st.Txs += len(bi.TxIDs)
		b.m.TipHash, b.m.TipHeight = bi.Hash, bi.Height
	}
	if err := b.finish(); err != nil {
		return st, err
	}
	if err := write(path, &b.t, b.m, b.sp); err != nil {
		return st, err
	}
	st.TipHeight, st.TipHash = b.m.TipHeight, b.m.TipHash
	return st, nil
}

// blocks yields r's blocks from from to to with their transactions: read
// together in key order when r is a store.BlockRangeTxs (by address ids,
// the addresses left empty, when it is a store.BlockRangeIDs too: names
// fills in those the builder needs), else block by block (store.BlockTxs,
// or a point lookup per transaction). Heights without a block are
// skipped.
func blocks(ctx context.Context, r store.ChainReader, chain heistgraph.Chain, from, to int64) iter.Seq2[store.BlockRecords, error] {
	if br, ok := r.(store.BlockRangeTxs); ok && from <= to {
		read := br.BlockRangeTxs
		if bi, ok := r.(store.BlockRangeIDs); ok {
			read = bi.BlockRangeIDs
		}
		return func(yield func(store.BlockRecords, error) bool) {
			for blk, err := range read(ctx, chain, from, to) {
				if err != nil {
					err = fmt.Errorf("txgraph: blocks %d to %d: %w", from, to, err)
				}
				if !yield(blk, err) || err != nil {
					return
				}
			}
		}
	}
	return func(yield func(store.BlockRecords, error) bool) {
		bt, _ := r.(store.BlockTxs)
		var blk store.BlockRecords
		for h := from; h <= to; h++ {
			if err := ctx.Err(); err != nil {
				yield(blk, fmt.Errorf("txgraph: %w", err))
				return
			}
			bi, err := r.BlockByHeight(ctx, chain, h)
			if errors.Is(err, heistgraph.ErrNotFound) {
				continue
			}
			if err != nil {
				yield(blk, fmt.Errorf("txgraph: block %d: %w", h, err))
				return
			}
			blk.Block, blk.Txs = bi, blk.Txs[:0]
			if bt != nil {
				for rec, err := range bt.BlockTxs(ctx, chain, h) {
					if err != nil {
						yield(blk, fmt.Errorf("txgraph: block %d: %w", h, err))
						return
					}
					blk.Txs = append(blk.Txs, rec)
				}
			} else {
				for _, txid := range bi.TxIDs {
					rec, err := r.Tx(ctx, chain, txid)
					if err != nil {
						yield(blk, fmt.Errorf("txgraph: block %d: %w", h, err))
						return
					}
					blk.Txs = append(blk.Txs, rec)
				}
			}
			if !yield(blk, nil) {
				return
			}
		}
	}
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

// builder grows tables: in files (spill), or on the heap when its spill
// is nil. The tables' slot tables are kept filled as they grow, in number
// order, so that they are the ones a fill of the finished arrays gives.
type builder struct {
	t     tables
	m     meta
	sp    *spill
	types map[heistgraph.ScriptType]uint8
	// baseTx and baseIn are the transactions and inputs loaded (load);
	// stale is set when a loaded transaction's block or flagStore
	// changed, which may change what is derived of the loaded ones.
	baseTx uint32
	baseIn uint64
	stale  bool
	// byStore is the graph's address id+1 by the store's address id, for
	// the ids met in this build (store.BlockRangeIDs); 0 not met.
	byStore []uint32
	need    []uint64          // names': ids to read
	named   map[uint64]string // names': the addresses read
	names0  []string
}

func newBuilder(chain heistgraph.Chain, sp *spill) (*builder, error) {
	b := &builder{m: meta{Chain: chain}, sp: sp, types: map[heistgraph.ScriptType]uint8{}}
	if err := reserve(sp, &b.t.scrOff, 1); err != nil {
		return nil, err
	}
	if err := reserve(sp, &b.t.addrOff, 1); err != nil {
		return nil, err
	}
	b.t.scrOff = append(b.t.scrOff, 0)
	b.t.addrOff = append(b.t.addrOff, 0)
	return b, nil
}

// load copies g's tables to extend them: in the kernel, file to file,
// when the builder spills and g is a file, else through memory.
func (b *builder) load(g *Graph) error {
	b.m.TipHash, b.m.TipHeight, b.m.Types = g.m.TipHash, g.m.TipHeight, slices.Clone(g.m.Types)
	for i, s := range b.m.Types {
		b.types[heistgraph.ScriptType(s)] = uint8(i)
	}
	var src *os.File
	if b.sp != nil && g.path != "" {
		f, err := os.Open(g.path)
		if err != nil {
			return fmt.Errorf("txgraph: load: %w", err)
		}
		defer f.Close()
		src = f
	}
	from, to := g.t.fields(), b.t.fields()
	for i, f := range to {
		if err := f.load(b.sp, src, g.m.Sections, i, from[i].bytes(), from[i].count()); err != nil {
			return err
		}
	}
	b.baseTx, b.baseIn = uint32(len(b.t.txid)), uint64(len(b.t.inPrev))
	return nil
}

// touch notes that tx n's block or flagStore changed.
func (b *builder) touch(n uint32) {
	if n < b.baseTx {
		b.stale = true
	}
}

// block starts block bi.
func (b *builder) block(bi heistgraph.BlockInfo) error {
	t := &b.t
	n := len(t.blkHash) + 1
	if err := errors.Join(reserve(b.sp, &t.blkHash, n), reserve(b.sp, &t.blkHeight, n), reserve(b.sp, &t.blkTime, n),
		reserve(b.sp, &t.blkFirst, n), reserve(b.sp, &t.blkNTx, n)); err != nil {
		return err
	}
	t.blkHash = append(t.blkHash, bi.Hash)
	t.blkHeight = append(t.blkHeight, bi.Height)
	t.blkTime = append(t.blkTime, bi.Time)
	t.blkFirst = append(t.blkFirst, uint32(len(t.txid)))
	t.blkNTx = append(t.blkNTx, 0)
	return nil
}

// room makes room for rec's transaction, the txids it spends, and its
// inputs, outputs, scripts and addresses, so that tx's appends stay in
// the arrays' files.
func (b *builder) room(rec *heistgraph.TxRecord) error {
	t, sp := &b.t, b.sp
	tx := &rec.Tx
	nt := len(t.txid) + 1 + len(tx.Inputs)
	ni, no := len(t.inPrev)+len(tx.Inputs), len(t.outValue)+len(tx.Outputs)
	ns, nsb, na, nab := len(t.scrOut), len(t.scrBytes), len(t.addrFirst), len(t.addrBytes)
	for i := range tx.Outputs {
		if out := &tx.Outputs[i]; out.Address != "" {
			na, nab = na+1, nab+len(out.Address)
		} else if out.Script != nil {
			ns, nsb = ns+1, nsb+len(out.Script)
		}
	}
	return errors.Join(
		reserve(sp, &t.txid, nt), reserve(sp, &t.txBlock, nt), reserve(sp, &t.txIndex, nt), reserve(sp, &t.txFee, nt),
		reserve(sp, &t.txFlags, nt), reserve(sp, &t.txLock, nt), reserve(sp, &t.txVersion, nt), reserve(sp, &t.txIn, nt),
		reserve(sp, &t.txNIn, nt), reserve(sp, &t.txOut, nt), reserve(sp, &t.txNOut, nt),
		reserve(sp, &t.inPrev, ni), reserve(sp, &t.inVout, ni),
		reserve(sp, &t.outValue, no), reserve(sp, &t.outAddr, no), reserve(sp, &t.outType, no),
		reserve(sp, &t.outSpTx, no), reserve(sp, &t.outSpVin, no),
		reserve(sp, &t.scrOut, ns), reserve(sp, &t.scrOff, ns+1), reserve(sp, &t.scrBytes, nsb),
		reserve(sp, &t.addrOff, na+1), reserve(sp, &t.addrBytes, nab), reserve(sp, &t.addrFirst, na))
}

// num returns the number of txid, adding it (as spent only, not stored)
// when new.
func (b *builder) num(txid heistgraph.Hash) (uint32, error) {
	if n, ok, _ := b.t.lookupTx(txid); ok {
		return n, nil
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
	return n, b.addSlot(&t.txSlots, n, txHash(txid))
}

// addSlot puts id n, hashed h, in *slots (the tx or the address table),
// filling a table twice the size again when it would be more than half
// full.
func (b *builder) addSlot(slots *[]uint32, n uint32, h uint64) error {
	if 2*(int(n)+1) <= len(*slots) {
		slot(*slots, h, n)
		return nil
	}
	if err := fresh(b.sp, slots, tableSize(int(n)+1)); err != nil {
		return err
	}
	if slots == &b.t.txSlots {
		b.t.fillTxSlots()
	} else {
		b.t.fillAddrSlots()
	}
	return nil
}

// slot puts id n in the first empty slot from hash h on.
func slot(slots []uint32, h uint64, n uint32) {
	mask := uint64(len(slots) - 1)
	i := h & mask
	for slots[i] != 0 {
		i = (i + 1) & mask
	}
	slots[i] = n + 1
}

// tx adds rec, a transaction of the block last started; sids, when not
// nil, are the store's address ids of its outputs (store.BlockRangeIDs),
// an output whose id the builder has mapped needing no address string.
func (b *builder) tx(rec *heistgraph.TxRecord, sids []uint64) error {
	if err := b.room(rec); err != nil {
		return err
	}
	t := &b.t
	tx := &rec.Tx
	t.blkNTx[len(t.blkNTx)-1]++
	n, seen, _ := t.lookupTx(tx.TxID)
	if !seen {
		var err error
		if n, err = b.num(tx.TxID); err != nil {
			return err
		}
	}
	if seen && t.txBlock[n] >= 0 {
		// Stored twice (BIP 30's duplicate coinbases): the store answers
		// for it and for what it spent.
		t.txFlags[n] |= flagStore
		b.touch(n)
		for _, in := range tx.Inputs {
			if p, ok, _ := t.lookupTx(in.PrevOut.TxID); ok && !in.Coinbase {
				t.txFlags[p] |= flagStore
				b.touch(p)
			}
		}
		return nil
	}
	if seen {
		// Spent before it was stored (blocks applied out of order): its
		// spenders were not recorded.
		t.txFlags[n] |= flagStore
		b.touch(n)
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
		p, err := b.num(in.PrevOut.TxID)
		if err != nil {
			return err
		}
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
			b.touch(p)
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
		sid := uint64(0)
		if i < len(sids) {
			sid = sids[i]
		}
		if sid != 0 && sid < uint64(len(b.byStore)) && b.byStore[sid] != 0 {
			a = b.byStore[sid] - 1
			t.addrFirst[a] = min(t.addrFirst[a], h)
		} else if out.Address != "" {
			var err error
			if a, err = b.addressID(out.Address, h); err != nil {
				return err
			}
			if sid != 0 {
				if err := b.mapStore(sid, a); err != nil {
					return err
				}
			}
		} else if out.Script != nil {
			t.scrOut = append(t.scrOut, uint64(len(t.outValue)-1))
			t.scrBytes = append(t.scrBytes, out.Script...)
			t.scrOff = append(t.scrOff, uint64(len(t.scrBytes)))
		}
		t.outAddr = append(t.outAddr, a)
	}
	return nil
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
func (b *builder) addressID(addr string, h int64) (uint32, error) {
	t := &b.t
	if a, ok, _ := t.lookupAddr(addr); ok {
		t.addrFirst[a] = min(t.addrFirst[a], h)
		return a, nil
	}
	a := uint32(len(t.addrFirst))
	t.addrBytes = append(t.addrBytes, addr...)
	t.addrOff = append(t.addrOff, uint64(len(t.addrBytes)))
	t.addrFirst = append(t.addrFirst, h)
	return a, b.addSlot(&t.addrSlots, a, fnv(addr))
}

// mapStore notes that the store's address id sid is the graph's a.
func (b *builder) mapStore(sid uint64, a uint32) error {
	if err := reserve(b.sp, &b.byStore, int(sid)+1); err != nil {
		return err
	}
	if uint64(len(b.byStore)) <= sid {
		b.byStore = b.byStore[:sid+1]
	}
	b.byStore[sid] = a + 1
	return nil
}

// names sets the addresses of blk's outputs whose store ids the builder
// has not mapped yet, read from the store in one call; the others are
// left empty (tx maps them by id).
func (b *builder) names(ctx context.Context, r store.BlockRangeIDs, blk *store.BlockRecords) error {
	b.need = b.need[:0]
	if b.named == nil {
		b.named = map[uint64]string{}
	}
	clear(b.named)
	ids := blk.AddrIDs
	for i := range blk.Txs {
		_, out, rest := store.TxAddrIDs(ids, &blk.Txs[i].Tx)
		ids = rest
		for _, sid := range out {
			if _, ok := b.named[sid]; !ok && sid != 0 && (sid >= uint64(len(b.byStore)) || b.byStore[sid] == 0) {
				b.named[sid] = ""
				b.need = append(b.need, sid)
			}
		}
	}
	if len(b.need) == 0 {
		return nil
	}
	names, err := r.AddressesByID(ctx, b.m.Chain, b.need, b.names0[:0])
	if err != nil {
		return fmt.Errorf("txgraph: addresses of block %d: %w", blk.Block.Height, err)
	}
	b.names0 = names
	for i, sid := range b.need {
		b.named[sid] = names[i]
	}
	ids = blk.AddrIDs
	for i := range blk.Txs {
		tx := &blk.Txs[i].Tx
		_, out, rest := store.TxAddrIDs(ids, tx)
		ids = rest
		for k, sid := range out {
			if s, ok := b.named[sid]; ok {
				tx.Outputs[k].Address = s
			}
		}
	}
	return nil
}

// finish derives the derived columns (of the transactions and inputs
// added, when those loaded are unchanged), and sizes the slot tables for a
// graph without transactions or addresses.
func (b *builder) finish() error {
	t := &b.t
	if err := reserve(b.sp, &t.inSpent, len(t.inPrev)); err != nil {
		return err
	}
	if b.stale {
		b.baseTx, b.baseIn = 0, 0
	}
	t.derive(b.baseTx, b.baseIn)
	if len(t.txSlots) == 0 {
		if err := fresh(b.sp, &t.txSlots, tableSize(0)); err != nil {
			return err
		}
	}
	if len(t.addrSlots) == 0 {
		if err := fresh(b.sp, &t.addrSlots, tableSize(0)); err != nil {
			return err
		}
	}
	return nil
}
