package pebble

import (
	"context"
	"encoding/binary"
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// RewindTo removes every block of chain above height, highest first, each
// in one atomic batch that removes exactly what applying it added: its
// records, its spends (the outputs it spent are unspent again), its address
// events and its share of the address totals; spends by other stored blocks
// of the outputs it created become unresolved again. Keys the block
// overwrote get their previous values back from its undo record. Height -1
// removes every block. Rewinding a chain with nothing stored, or to a height
// at or above its tip, does nothing. It returns an error wrapping
// heistgraph.ErrInvalid for a height below -1. When ctx is cancelled it
// stops between blocks; the blocks removed so far stay removed.
func (d *DB) RewindTo(ctx context.Context, chain heistgraph.Chain, height int64) error {
	if height < -1 {
		return fmt.Errorf("rewind %s to height %d: %w", chain, height, heistgraph.ErrInvalid)
	}
	if chain.IsEVM() {
		return d.rewindLoop(ctx, chain, height, d.undoAccountTip)
	}
	return d.rewindLoop(ctx, chain, height, func(ctx context.Context, c chainCode, height int64) (bool, error) {
		tip, found, err := tipOf(d.db, c)
		if err != nil || !found || tip.Height <= height {
			return false, err
		}
		if err := d.undoBlock(ctx, c, tip.Height); err != nil {
			return false, fmt.Errorf("block %d %s: %w", tip.Height, tip.Hash, err)
		}
		return true, nil
	})
}

// rewindLoop calls step, which removes chain code c's tip block when it is
// above height (reporting whether it did), until it removes nothing, then
// syncs once if anything was removed. It holds writeMu throughout.
func (d *DB) rewindLoop(ctx context.Context, chain heistgraph.Chain, height int64, step func(ctx context.Context, c chainCode, height int64) (bool, error)) error {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	// A rewind removes outputs, and may put back ones a removed block
	// overwrote: the output cache is emptied rather than kept in step.
	d.ap.utxo.clear()
	d.ap.idCache.clear()
	c, ok, err := d.code(chain)
	if err != nil || !ok {
		return err
	}
	if !chain.IsEVM() {
		// Before anything is removed (clusteraddr.go).
		if tip, found, err := tipOf(d.db, c); err != nil {
			return err
		} else if found && tip.Height > height {
			if err := d.keepAddrIDsFrom(c); err != nil {
				return fmt.Errorf("rewind %s to height %d: %w", chain, height, err)
			}
		}
	}
	removed := 0
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("rewind %s to height %d: %w", chain, height, err)
		}
		more, err := step(ctx, c, height)
		if err != nil {
			return fmt.Errorf("rewind %s to height %d: %w", chain, height, err)
		}
		if !more {
			break
		}
		removed++
	}
	if removed > 0 && !d.opts.SyncWrites {
		if err := d.db.LogData(nil, pebbledb.Sync); err != nil {
			return fmt.Errorf("rewind %s to height %d: sync: %w", chain, height, err)
		}
	}
	return nil
}

// tipOf returns the highest entry of chain c's height index.
func tipOf(r pebbledb.Reader, c chainCode) (heistgraph.BlockRef, bool, error) {
	lo, hi := tableBounds(prefixHeight, c)
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return heistgraph.BlockRef{}, false, err
	}
	defer it.Close()
	if !it.Last() {
		return heistgraph.BlockRef{}, false, it.Error()
	}
	k := it.Key()
	if len(k) != len(lo)+8 {
		return heistgraph.BlockRef{}, false, fmt.Errorf("height key: %w", errCorrupt)
	}
	hr, err := decodeHeightRecord(it.Value())
	if err != nil {
		return heistgraph.BlockRef{}, false, err
	}
	return heistgraph.BlockRef{Hash: hr.Hash, Height: int64(binary.BigEndian.Uint64(k[len(lo):])), Time: hr.Time}, true, nil
}

// undoer builds the batch that removes one block. Its deltas hold amounts
// to subtract.
type undoer struct {
	b        *pebbledb.Batch
	c        chainCode
	h        int64
	inBlock  map[heistgraph.Hash]bool
	nums     map[heistgraph.Hash]uint64 // the numbers of the block's txs
	numIn    map[uint64]heistgraph.Hash // the same, by number
	deltas   deltas
	spenders map[heistgraph.Hash]*txRecord
	touched  map[touchKey]bool
	ids      map[string]uint64
	restored map[string]bool // keys the undo record puts back
	addrs    *addrReader
	key      []byte
}

// addr returns the address of id (addrtable.go) and remembers its id.
func (u *undoer) addr(id uint64) (string, error) {
	a, err := u.addrs.addr(id)
	if err == nil && a != "" {
		u.ids[a] = id
	}
	return a, err
}

// id returns addr's id, read from its totals before the batch changes them.
func (u *undoer) id(addr string) (uint64, error) {
	if id, ok := u.ids[addr]; ok {
		return id, nil
	}
	id, found, err := storedAddrID(u.b, u.c, addr)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, fmt.Errorf("address %s: totals missing: %w", addr, errCorrupt)
	}
	u.ids[addr] = id
	return id, nil
}

// undoBlock removes the block at height h of chain c in one batch.
func (d *DB) undoBlock(ctx context.Context, c chainCode, h int64) error {
	b := d.db.NewIndexedBatch()
	defer b.Close()
	u := &undoer{b: b, c: c, h: h, inBlock: map[heistgraph.Hash]bool{}, nums: map[heistgraph.Hash]uint64{}, numIn: map[uint64]heistgraph.Hash{}, spenders: map[heistgraph.Hash]*txRecord{}, touched: map[touchKey]bool{}, ids: map[string]uint64{}, restored: map[string]bool{}, addrs: newAddrReader(b, c)}

	hr, found, err := heightAt(b, c, h)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("height index: %w", errCorrupt)
	}
	bkey := appendBlockKey(nil, c, hr.Hash)
	bv, found, err := lookup(b, bkey, nil)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("block record missing: %w", errCorrupt)
	}
	bi, err := decodeBlockRecord(bv)
	if err != nil {
		return err
	}
	// The keys the block overwrote come back from its undo record: an
	// output that comes back stays spent by the blocks that spend it.
	ukey := appendUndoKey(nil, c, h)
	uv, found, err := lookup(b, ukey, nil)
	if err != nil {
		return err
	}
	var undo []undoEntry
	if found {
		if undo, err = decodeUndoRecord(uv); err != nil {
			return err
		}
		if undo == nil {
			undo = []undoEntry{}
		}
		for _, e := range undo {
			if e.Present {
				u.restored[string(e.Key)] = true
			}
		}
	}
	for _, txid := range bi.TxIDs {
		u.inBlock[txid] = true
		num, found, err := storedTxNum(b, c, txid)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("tx %s: record missing: %w", txid, errCorrupt)
		}
		u.nums[txid], u.numIn[num] = num, txid
	}

	var rec txRecord
	for i, txid := range bi.TxIDs {
		if i&255 == 255 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		found, err := readTxRecord(b, c, txid, &rec, u.txid)
		if err != nil {
			return fmt.Errorf("tx %s: %w", txid, err)
		}
		if !found {
			return fmt.Errorf("tx %s: record missing: %w", txid, errCorrupt)
		}
		if err := u.outputs(txid, uint32(i), &rec); err != nil {
			return fmt.Errorf("tx %s: %w", txid, err)
		}
		if err := u.inputs(txid, uint32(i), &rec); err != nil {
			return fmt.Errorf("tx %s: %w", txid, err)
		}
		u.key = appendTxKey(u.key[:0], c, txid)
		if err := b.Delete(u.key, nil); err != nil {
			return err
		}
		u.key = appendTxNumKey(u.key[:0], c, rec.Num)
		if err := b.Delete(u.key, nil); err != nil {
			return err
		}
		u.key = appendTxRecKey(u.key[:0], c, rec.Num)
		if err := b.Delete(u.key, nil); err != nil {
			return err
		}
	}

	for txid, rec := range u.spenders {
		rec.setFee(rec.OutSum)
		if err := b.Set(appendTxRecKey(nil, c, rec.Num), appendTxRecord(nil, txid, rec), nil); err != nil {
			return err
		}
	}
	for tk := range u.touched {
		id, err := u.id(tk.addr)
		if err != nil {
			return err
		}
		has, err := hasEventsAt(b, c, id, tk.height, tk.txIndex)
		if err != nil {
			return err
		}
		if !has {
			u.deltas.get(id, tk.addr).txs++
		}
	}
	if err := u.writeTotals(); err != nil {
		return err
	}
	if err := b.Delete(appendHeightKey(nil, c, h), nil); err != nil {
		return err
	}
	if err := b.Delete(bkey, nil); err != nil {
		return err
	}
	if undo != nil {
		if err := b.Delete(ukey, nil); err != nil {
			return err
		}
		for _, e := range undo {
			if e.Present {
				err = b.Set(e.Key, e.Prev, nil)
			} else {
				err = b.Delete(e.Key, nil)
			}
			if err != nil {
				return err
			}
		}
	}
	if err := u.unspendRestored(undo); err != nil {
		return err
	}
	if err := d.unlinkHeight(b, c, h); err != nil {
		return err
	}
	if d.beforeCommit != nil {
		d.beforeCommit()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.commit(b)
}

// outputs removes the outputs of the tx at index i and their received
// events, and un-resolves their spends by other blocks.
func (u *undoer) outputs(txid heistgraph.Hash, i uint32, rec *txRecord) error {
	for n := uint32(0); n < rec.NOut; n++ {
		op := heistgraph.Outpoint{TxID: txid, Vout: n}
		u.key = appendOutputKey(u.key[:0], u.c, rec.Num, n)
		v, found, err := lookup(u.b, u.key, nil)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("output %d missing: %w", n, errCorrupt)
		}
		head, err := decodeOutputHead(v)
		if err != nil {
			return err
		}
		restored := u.restored[string(u.key)]
		if err := u.b.Delete(u.key, nil); err != nil {
			return err
		}
		// Its entry in the unspent outputs goes too (one comes back with
		// the output it overwrote: unspendRestored).
		u.key = appendUnspentKey(u.key[:0], u.c, op)
		if err := u.b.Delete(u.key, nil); err != nil {
			return err
		}
		if id := head.AddrID; id != 0 {
			addr, err := u.addr(id)
			if err != nil {
				return err
			}
			u.key = appendEventKey(u.key[:0], u.c, id, eventPos{Height: u.h, TxIndex: i, Kind: heistgraph.Received, Index: n})
			if err := u.b.Delete(u.key, nil); err != nil {
				return err
			}
			dl := u.deltas.get(id, addr)
			dl.received += head.Value
			dl.outputs++
			dl.ownTx(i)
		}
		if restored {
			continue // the output stored before the block comes back
		}
		if err := u.unresolve(op, rec.Num); err != nil {
			return err
		}
	}
	return nil
}

// unresolve makes the spends of op (an output of the tx with number num)
// by other blocks unresolved again: op is going away, and their markers
// move to the form for an output not stored (spends.go).
func (u *undoer) unresolve(op heistgraph.Outpoint, num uint64) error {
	spenders, err := spendersOfNum(u.b, u.c, num, op.Vout)
	if err != nil {
		return err
	}
	for _, ref := range spenders {
		if _, ok := u.numIn[ref.Num]; ok {
			continue // spent in this block: inputs removes the spend
		}
		txid, err := txidOf(u.b, u.c, ref.Num)
		if err != nil {
			return err
		}
		sp := heistgraph.Inpoint{TxID: txid, Vin: ref.Vin}
		srec, err := loadSpender(u.b, u.spenders, u.c, sp.TxID, u.txid)
		if err != nil {
			return err
		}
		if int(sp.Vin) >= len(srec.Inputs) {
			return fmt.Errorf("spender %s has no input %d: %w", sp.TxID, sp.Vin, errCorrupt)
		}
		ir := &srec.Inputs[sp.Vin]
		if !ir.Resolved {
			continue
		}
		if id := ir.AddrID; id != 0 {
			addr, err := u.addr(id)
			if err != nil {
				return err
			}
			u.key = appendEventKey(u.key[:0], u.c, id, eventPos{Height: srec.Height, TxIndex: srec.Index, Kind: heistgraph.Spent, Index: sp.Vin})
			if err := u.b.Delete(u.key, nil); err != nil {
				return err
			}
			dl := u.deltas.get(id, addr)
			dl.sent += ir.Value
			dl.spends++
			dl.other(srec.Height, 0)
			u.touched[touchKey{addr: addr, height: srec.Height, txIndex: srec.Index}] = true
		}
		*ir = inputRecord{TxIn: ir.TxIn} // by txid again: op goes away
		u.key = appendOutpointKey(u.key[:0], prefixPending, u.c, op)
		if err := u.b.Set(u.key, nil, nil); err != nil {
			return err
		}
		u.key = appendSpender(appendSpendsOfKey(u.key[:0], u.c, num, op.Vout, true), ref.Num, ref.Vin)
		if err := u.b.Delete(u.key, nil); err != nil {
			return err
		}
		u.key = appendSpender(appendPendingSpendsOfKey(u.key[:0], u.c, op), ref.Num, ref.Vin)
		if err := u.b.Set(u.key, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// inputs removes the spend markers, pending markers and spent events of
// the tx at index i.
func (u *undoer) inputs(txid heistgraph.Hash, i uint32, rec *txRecord) error {
	for vin := range rec.Inputs {
		ir := &rec.Inputs[vin]
		if ir.Coinbase {
			continue
		}
		if ir.Resolved {
			u.key = appendSpendsOfKey(u.key[:0], u.c, ir.PrevNum, ir.PrevOut.Vout, true)
		} else {
			u.key = appendPendingSpendsOfKey(u.key[:0], u.c, ir.PrevOut)
		}
		u.key = appendSpender(u.key, rec.Num, uint32(vin))
		if err := u.b.Delete(u.key, nil); err != nil {
			return err
		}
		// A marker the undo record puts back (the tx was stored before
		// the block) keeps its output spent.
		back := u.restored[string(u.key)]
		if !ir.Resolved {
			u.key = appendOutpointKey(u.key[:0], prefixPending, u.c, ir.PrevOut)
			if err := u.b.Delete(u.key, nil); err != nil {
				return err
			}
			continue
		}
		if !back {
			if err := u.unspend(ir); err != nil {
				return err
			}
		}
		id := ir.AddrID
		if id == 0 {
			continue
		}
		addr, err := u.addr(id)
		if err != nil {
			return err
		}
		u.key = appendEventKey(u.key[:0], u.c, id, eventPos{Height: u.h, TxIndex: i, Kind: heistgraph.Spent, Index: uint32(vin)})
		if err := u.b.Delete(u.key, nil); err != nil {
			return err
		}
		dl := u.deltas.get(id, addr)
		dl.sent += ir.Value
		dl.spends++
		dl.ownTx(i)
	}
	return nil
}

// writeTotals subtracts the deltas from the address totals, deleting the
// totals of addresses left without events and recomputing first and last
// seen where they pointed at removed events.
func (u *undoer) writeTotals() error {
	for j, addr := range u.deltas.addrs {
		dl := &u.deltas.ds[j]
		u.key = appendAddressKey(u.key[:0], u.c, addr, dl.id)
		v, found, err := lookup(u.b, u.key, nil)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("address %s: totals missing: %w", addr, errCorrupt)
		}
		t, err := decodeTotals(v)
		if err != nil {
			return fmt.Errorf("address %s: %w", addr, err)
		}
		t.Received -= dl.received
		t.Sent -= dl.sent
		t.TxCount -= dl.txs
		t.OutputCount -= dl.outputs
		t.SpendCount -= dl.spends
		if t.OutputCount <= 0 && t.SpendCount <= 0 {
			if err := u.b.Delete(u.key, nil); err != nil {
				return err
			}
			continue
		}
		removedAt := func(height int64) bool {
			return dl.own && height == u.h || dl.minH >= 0 && height >= dl.minH && height <= dl.maxH
		}
		if removedAt(t.FirstHeight) || removedAt(t.LastHeight) {
			if err := u.firstLast(addr, &t); err != nil {
				return fmt.Errorf("address %s: %w", addr, err)
			}
		}
		u.key = appendAddressKey(u.key[:0], u.c, addr, dl.id)
		if err := u.b.Set(u.key, appendTotals(nil, &t), nil); err != nil {
			return err
		}
	}
	return nil
}

// firstLast sets t's first and last seen from addr's remaining events.
func (u *undoer) firstLast(addr string, t *totals) error {
	id, err := u.id(addr)
	if err != nil {
		return err
	}
	lo := appendEventPrefix(nil, u.c, id)
	it, err := u.b.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return err
	}
	var first, last eventPos
	ok := it.First()
	if ok {
		first, _ = decodeEventPos(it.Key())
		it.Last()
		last, _ = decodeEventPos(it.Key())
	}
	if err := it.Error(); err != nil {
		it.Close()
		return err
	}
	if err := it.Close(); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("totals without events: %w", errCorrupt)
	}
	fh, _, err := heightAt(u.b, u.c, first.Height)
	if err != nil {
		return err
	}
	lh, _, err := heightAt(u.b, u.c, last.Height)
	if err != nil {
		return err
	}
	t.FirstHeight, t.FirstTime = first.Height, fh.Time
	t.LastHeight, t.LastTime = last.Height, lh.Time
	return nil
}

// txid resolves a transaction number while the block is removed: the
// block's own txs from its list (their d entries may be deleted in the
// batch already), the others from the batch.
func (u *undoer) txid(num uint64) (heistgraph.Hash, error) {
	if txid, ok := u.numIn[num]; ok {
		return txid, nil
	}
	return txidOf(u.b, u.c, num)
}

// unspend puts back the entry in the unspent outputs of the output ir
// spent (its spend marker removed), unless the output goes away with the
// block (made by one of its txs: outputs removed it from the batch first)
// or another stored input spends it too.
func (u *undoer) unspend(ir *inputRecord) error {
	u.key = appendOutputKey(u.key[:0], u.c, ir.PrevNum, ir.PrevOut.Vout)
	v, found, err := lookup(u.b, u.key, nil)
	if err != nil || !found {
		return err
	}
	spenders, err := spendersOfNum(u.b, u.c, ir.PrevNum, ir.PrevOut.Vout)
	if err != nil || len(spenders) > 0 {
		return err
	}
	e, err := unspentOf(v, ir.PrevNum, u.addrs)
	if err != nil {
		return fmt.Errorf("output %s: %w", ir.PrevOut, err)
	}
	u.key = appendUnspentKey(u.key[:0], u.c, ir.PrevOut)
	return u.b.Set(u.key, appendUnspent(nil, &e), nil)
}

// unspendRestored puts back the entries in the unspent outputs of the
// outputs the undo record put back (those the block's txs overwrote) that
// no stored input spends: the entry is derived from the output and the
// spend markers as they are now, not as they were when the block was
// applied (a later block may have spent the output since).
func (u *undoer) unspendRestored(undo []undoEntry) error {
	for _, e := range undo {
		k := e.Key
		if !e.Present || len(k) < 3 || k[0] != prefixOutput {
			continue
		}
		num, w := decodeOrdered(k[3:])
		if w == 0 || len(k) != 3+w+4 {
			return fmt.Errorf("undo record: output key %x: %w", k, errCorrupt)
		}
		vout := binary.BigEndian.Uint32(k[3+w:])
		spenders, err := spendersOfNum(u.b, u.c, num, vout)
		if err != nil {
			return err
		}
		if len(spenders) > 0 {
			continue
		}
		txid, err := txidOf(u.b, u.c, num)
		if err != nil {
			return err
		}
		ent, err := unspentOf(e.Prev, num, u.addrs)
		if err != nil {
			return fmt.Errorf("undo record: output %d:%d: %w", num, vout, err)
		}
		u.key = appendUnspentKey(u.key[:0], u.c, heistgraph.Outpoint{TxID: txid, Vout: vout})
		if err := u.b.Set(u.key, appendUnspent(nil, &ent), nil); err != nil {
			return err
		}
	}
	return nil
}
