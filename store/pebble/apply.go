package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// ApplyBlock writes b and everything derived from it in one atomic batch:
// the block record, the height index entry, a tx record per transaction,
// each output, a spend marker per non-coinbase input (also when the spent
// output is not stored: such an input stays unresolved, its tx's fee
// unknown, and a pending marker remembers it), the address events and
// address totals. An input whose output is stored, or was created earlier in
// b, is resolved. When b creates an output that a stored block already
// spends, that spend is resolved now.
//
// Applying the block already stored at b.Height (same hash) is a no-op.
// Another block at that height, or b's hash stored at another height, wraps
// heistgraph.ErrConflict. A nil block, an empty chain or a negative height
// wraps heistgraph.ErrInvalid. If ctx is cancelled before the batch is
// committed, nothing is written.
func (d *DB) ApplyBlock(ctx context.Context, b *heistgraph.Block) error {
	if b == nil {
		return fmt.Errorf("apply block: nil block: %w", heistgraph.ErrInvalid)
	}
	if b.Chain == "" || b.Height < 0 {
		return fmt.Errorf("apply block %s at height %d on %q: want a chain and a height >= 0: %w", b.Hash, b.Height, b.Chain, heistgraph.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("apply block %d %s on %s: %w", b.Height, b.Hash, b.Chain, err)
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	code, known, err := d.code(b.Chain)
	if err != nil {
		return err
	}
	if !known {
		d.mu.RLock()
		code = d.nextCode
		d.mu.RUnlock()
		if code == 0 {
			return fmt.Errorf("apply block %d on %s: no chain code left: %w", b.Height, b.Chain, heistgraph.ErrInvalid)
		}
	} else {
		hr, found, err := heightAt(d.db, code, b.Height)
		if err != nil {
			return fmt.Errorf("apply block %d %s on %s: %w", b.Height, b.Hash, b.Chain, err)
		}
		if found {
			if hr.Hash == b.Hash {
				return nil
			}
			return fmt.Errorf("apply block %s at height %d on %s: the height holds block %s (rewind first): %w",
				b.Hash, b.Height, b.Chain, hr.Hash, heistgraph.ErrConflict)
		}
		v, found, err := lookup(d.db, appendBlockKey(nil, code, b.Hash), nil)
		if err != nil {
			return fmt.Errorf("apply block %d %s on %s: %w", b.Height, b.Hash, b.Chain, err)
		}
		if found {
			h := int64(-1)
			if bi, err := decodeBlockRecord(v); err == nil {
				h = bi.Height
			}
			return fmt.Errorf("apply block %s at height %d on %s: the block is stored at height %d: %w",
				b.Hash, b.Height, b.Chain, h, heistgraph.ErrConflict)
		}
	}

	batch := d.db.NewBatchWithSize(d.ap.lastBatchSize)
	defer batch.Close()
	if !known {
		if err := batch.Set(metaChainKey(b.Chain), binary.BigEndian.AppendUint16(nil, uint16(code)), nil); err != nil {
			return err
		}
	}
	if err := d.ap.build(ctx, d.db, batch, b, code, known); err != nil {
		return fmt.Errorf("apply block %d %s on %s: %w", b.Height, b.Hash, b.Chain, err)
	}
	if d.beforeCommit != nil {
		d.beforeCommit()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("apply block %d %s on %s: %w", b.Height, b.Hash, b.Chain, err)
	}
	d.ap.lastBatchSize = len(batch.Repr())
	if err := d.commit(batch); err != nil {
		return fmt.Errorf("apply block %d %s on %s: commit: %w", b.Height, b.Hash, b.Chain, err)
	}
	if !known {
		d.register(b.Chain, code)
	}
	return nil
}

// register records the code of a chain whose first write just committed.
func (d *DB) register(chain heistgraph.Chain, code chainCode) {
	d.mu.Lock()
	d.chains[chain] = code
	d.nextCode++
	d.mu.Unlock()
}

// localOut is an output created earlier in the block being applied.
type localOut struct {
	Value   int64
	Type    heistgraph.ScriptType
	Address string
}

// addrDelta accumulates what one block changes in one address's totals.
type addrDelta struct {
	received, sent       int64
	txs, outputs, spends int64
	// lastTx is the index of the last of the block's own txs counted in
	// txs (-1 for none); own reports events at the block's height.
	lastTx int64
	own    bool
	// minH..maxH bound the heights of events at other heights (spends
	// resolved late, or un-resolved on rewind), with their blocks' times;
	// minH is -1 when there are none.
	minH, minT, maxH, maxT int64
}

// ownTx counts the block's tx at index i as touching the address.
func (dl *addrDelta) ownTx(i uint32) {
	dl.own = true
	if dl.lastTx != int64(i) {
		dl.lastTx = int64(i)
		dl.txs++
	}
}

// other records an event at another block's height.
func (dl *addrDelta) other(height, time int64) {
	if dl.minH < 0 || height < dl.minH {
		dl.minH, dl.minT = height, time
	}
	if height > dl.maxH {
		dl.maxH, dl.maxT = height, time
	}
}

// deltas maps addresses to their addrDelta, in first-touched order.
type deltas struct {
	idx   map[string]int
	addrs []string
	ds    []addrDelta
}

// get returns addr's delta; the pointer is valid until the next get.
func (s *deltas) get(addr string) *addrDelta {
	if s.idx == nil {
		s.idx = map[string]int{}
	}
	if j, ok := s.idx[addr]; ok {
		return &s.ds[j]
	}
	s.idx[addr] = len(s.ds)
	s.addrs = append(s.addrs, addr)
	s.ds = append(s.ds, addrDelta{lastTx: -1, minH: -1, maxH: -1})
	return &s.ds[len(s.ds)-1]
}

func (s *deltas) reset() {
	clear(s.idx)
	clear(s.addrs)
	s.addrs = s.addrs[:0]
	s.ds = s.ds[:0]
}

// touchKey names the txs of one block position an address has events at.
type touchKey struct {
	addr    string
	height  int64
	txIndex uint32
}

// applier builds a block's batch. It is reused from block to block (under
// DB.writeMu) so that its buffers and maps are allocated once.
type applier struct {
	key, key2, val, val2 []byte
	outs                 map[heistgraph.Outpoint]localOut
	deltas               deltas
	undo                 []undoEntry
	spenders             map[heistgraph.Hash]*txRecord
	touched              map[touchKey]bool
	rec                  txRecord
	lastBatchSize        int
}

func (a *applier) reset() {
	if a.outs == nil {
		a.outs = map[heistgraph.Outpoint]localOut{}
		a.spenders = map[heistgraph.Hash]*txRecord{}
		a.touched = map[touchKey]bool{}
	}
	clear(a.outs)
	clear(a.spenders)
	clear(a.touched)
	a.deltas.reset()
	a.undo = nil
}

// keep records the previous value of a key the block overwrites.
func (a *applier) keep(key, prev []byte, present bool) {
	a.undo = append(a.undo, undoEntry{Key: append([]byte(nil), key...), Prev: prev, Present: present})
}

// build fills batch with block b of chain code c. known is false for a
// chain with nothing stored yet.
func (a *applier) build(ctx context.Context, db *pebbledb.DB, batch *pebbledb.Batch, b *heistgraph.Block, c chainCode, known bool) error {
	a.reset()
	pending := false
	if known {
		var err error
		if pending, err = hasKeys(db, prefixPending, c); err != nil {
			return err
		}
	}
	for i := range b.Txs {
		if i&255 == 255 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := a.applyTx(db, batch, b, c, uint32(i), pending); err != nil {
			return fmt.Errorf("tx %d %s: %w", i, b.Txs[i].TxID, err)
		}
	}
	for txid, rec := range a.spenders {
		rec.setFee(rec.OutSum)
		a.key = appendTxKey(a.key[:0], c, txid)
		a.val = appendTxRecord(a.val[:0], txid, rec)
		if err := batch.Set(a.key, a.val, nil); err != nil {
			return err
		}
	}
	if err := a.writeTotals(batch, c, b.Height, b.Time); err != nil {
		return err
	}
	a.key = appendHeightKey(a.key[:0], c, b.Height)
	a.val = appendHeightRecord(a.val[:0], heightRecord{Hash: b.Hash, Time: b.Time})
	if err := batch.Set(a.key, a.val, nil); err != nil {
		return err
	}
	a.key = appendBlockKey(a.key[:0], c, b.Hash)
	a.val = appendBlockRecord(a.val[:0], b)
	if err := batch.Set(a.key, a.val, nil); err != nil {
		return err
	}
	if len(a.undo) > 0 {
		a.key = appendUndoKey(a.key[:0], c, b.Height)
		a.val = appendUndoRecord(a.val[:0], a.undo)
		if err := batch.Set(a.key, a.val, nil); err != nil {
			return err
		}
	}
	return nil
}

// applyTx adds the tx at index i of b to batch.
func (a *applier) applyTx(db *pebbledb.DB, batch *pebbledb.Batch, b *heistgraph.Block, c chainCode, i uint32, pending bool) error {
	tx := &b.Txs[i]
	h := b.Height
	if len(tx.Outputs) > 1<<31 || len(tx.Inputs) > 1<<31 {
		return fmt.Errorf("too many inputs or outputs: %w", heistgraph.ErrInvalid)
	}
	rec := &a.rec
	rec.WTxID, rec.Version, rec.LockTime = tx.WTxID, tx.Version, tx.LockTime
	rec.Size, rec.Weight, rec.Height, rec.Index = tx.Size, tx.Weight, h, i
	rec.NOut = uint32(len(tx.Outputs))
	rec.Inputs = rec.Inputs[:0]

	a.key = appendTxKey(a.key[:0], c, tx.TxID)
	prev, collided, err := lookup(db, a.key, nil)
	if err != nil {
		return err
	}
	if collided {
		a.keep(a.key, prev, true)
	}

	for vin := range tx.Inputs {
		in := &tx.Inputs[vin]
		ir := inputRecord{TxIn: *in}
		if !in.Coinbase {
			if err := a.applyInput(db, batch, c, h, i, tx.TxID, uint32(vin), &ir, collided); err != nil {
				return err
			}
		}
		rec.Inputs = append(rec.Inputs, ir)
	}

	var outSum int64
	for n := range tx.Outputs {
		out := &tx.Outputs[n]
		op := heistgraph.Outpoint{TxID: tx.TxID, Vout: uint32(n)}
		outSum += out.Value
		a.key = appendOutpointKey(a.key[:0], prefixOutput, c, op)
		if collided {
			if err := a.keepCurrent(db, a.key); err != nil {
				return err
			}
		}
		a.val = appendOutputRecord(a.val[:0], out, h)
		if err := batch.Set(a.key, a.val, nil); err != nil {
			return err
		}
		a.outs[op] = localOut{Value: out.Value, Type: out.Type, Address: out.Address}
		if out.Address != "" {
			a.key = appendEventKey(a.key[:0], c, out.Address, eventPos{Height: h, TxIndex: i, Kind: heistgraph.Received, Index: uint32(n)})
			a.val = appendReceivedEvent(a.val[:0], tx.TxID, out.Value)
			if err := batch.Set(a.key, a.val, nil); err != nil {
				return err
			}
			dl := a.deltas.get(out.Address)
			dl.received += out.Value
			dl.outputs++
			dl.ownTx(i)
		}
		if pending {
			a.key = appendOutpointKey(a.key[:0], prefixPending, c, op)
			_, found, err := lookup(db, a.key, nil)
			if err != nil {
				return err
			}
			if found {
				if err := a.backfill(db, batch, c, op, out); err != nil {
					return fmt.Errorf("resolve earlier spend of %s: %w", op, err)
				}
			}
		}
	}
	rec.setFee(outSum)
	a.key = appendTxKey(a.key[:0], c, tx.TxID)
	a.val = appendTxRecord(a.val[:0], tx.TxID, rec)
	return batch.Set(a.key, a.val, nil)
}

// applyInput resolves a non-coinbase input (one point lookup unless its
// output was created earlier in the block) and writes its spend marker,
// pending marker or address event. collided reports that the tx is stored
// already (so its markers may exist).
func (a *applier) applyInput(db *pebbledb.DB, batch *pebbledb.Batch, c chainCode, h int64, i uint32, txid heistgraph.Hash, vin uint32, ir *inputRecord, collided bool) error {
	op := ir.PrevOut
	if lo, ok := a.outs[op]; ok {
		ir.Resolved, ir.Value, ir.Type, ir.Address = true, lo.Value, lo.Type, lo.Address
	} else {
		a.key = appendOutpointKey(a.key[:0], prefixOutput, c, op)
		v, closer, err := db.Get(a.key)
		switch {
		case err == nil:
			head, derr := decodeOutputHead(v)
			cerr := closer.Close()
			if derr != nil {
				return fmt.Errorf("output %s: %w", op, derr)
			}
			if cerr != nil {
				return cerr
			}
			ir.Resolved, ir.Value, ir.Type, ir.Address = true, head.Value, head.Type, head.Address
		case !errors.Is(err, pebbledb.ErrNotFound):
			return err
		}
	}

	a.key = appendSpendKey(a.key[:0], c, op, heistgraph.Inpoint{TxID: txid, Vin: vin})
	if collided {
		if err := a.keepCurrent(db, a.key); err != nil {
			return err
		}
	}
	if err := batch.Set(a.key, nil, nil); err != nil {
		return err
	}
	if !ir.Resolved {
		a.key = appendOutpointKey(a.key[:0], prefixPending, c, op)
		if collided {
			if err := a.keepCurrent(db, a.key); err != nil {
				return err
			}
		}
		return batch.Set(a.key, nil, nil)
	}
	if ir.Address == "" {
		return nil
	}
	a.key = appendEventKey(a.key[:0], c, ir.Address, eventPos{Height: h, TxIndex: i, Kind: heistgraph.Spent, Index: vin})
	a.val = appendSpentEvent(a.val[:0], txid, op, ir.Value)
	if err := batch.Set(a.key, a.val, nil); err != nil {
		return err
	}
	dl := a.deltas.get(ir.Address)
	dl.sent += ir.Value
	dl.spends++
	dl.ownTx(i)
	return nil
}

// keepCurrent records key's current value (or absence) for the undo record.
func (a *applier) keepCurrent(db *pebbledb.DB, key []byte) error {
	prev, found, err := lookup(db, key, nil)
	if err != nil {
		return err
	}
	if found && prev == nil {
		prev = []byte{}
	}
	a.keep(key, prev, found)
	return nil
}

// backfill resolves the stored spends of op, an output the block creates
// that blocks applied earlier already spend.
func (a *applier) backfill(db *pebbledb.DB, batch *pebbledb.Batch, c chainCode, op heistgraph.Outpoint, out *heistgraph.TxOut) error {
	a.key2 = appendOutpointKey(a.key2[:0], prefixPending, c, op)
	if err := batch.Delete(a.key2, nil); err != nil {
		return err
	}
	spenders, err := spendersOf(db, c, op)
	if err != nil {
		return err
	}
	for _, sp := range spenders {
		if err := a.backfillSpend(db, batch, c, op, out, sp); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) backfillSpend(db *pebbledb.DB, batch *pebbledb.Batch, c chainCode, op heistgraph.Outpoint, out *heistgraph.TxOut, sp heistgraph.Inpoint) error {
	rec, err := loadSpender(db, a.spenders, c, sp.TxID)
	if err != nil {
		return err
	}
	if int(sp.Vin) >= len(rec.Inputs) {
		return fmt.Errorf("spender %s has no input %d: %w", sp.TxID, sp.Vin, errCorrupt)
	}
	ir := &rec.Inputs[sp.Vin]
	if ir.Resolved {
		return nil
	}
	ir.Resolved, ir.Value, ir.Type, ir.Address = true, out.Value, out.Type, out.Address
	if out.Address == "" {
		return nil
	}
	a.key2 = appendEventKey(a.key2[:0], c, out.Address, eventPos{Height: rec.Height, TxIndex: rec.Index, Kind: heistgraph.Spent, Index: sp.Vin})
	a.val2 = appendSpentEvent(a.val2[:0], sp.TxID, op, out.Value)
	if err := batch.Set(a.key2, a.val2, nil); err != nil {
		return err
	}
	hr, _, err := heightAt(db, c, rec.Height)
	if err != nil {
		return err
	}
	tk := touchKey{addr: out.Address, height: rec.Height, txIndex: rec.Index}
	newTx := false
	if !a.touched[tk] {
		a.touched[tk] = true
		has, err := hasEventsAt(db, c, out.Address, rec.Height, rec.Index)
		if err != nil {
			return err
		}
		newTx = !has
	}
	dl := a.deltas.get(out.Address)
	dl.sent += out.Value
	dl.spends++
	if newTx {
		dl.txs++
	}
	dl.other(rec.Height, hr.Time)
	return nil
}

// spendersOf returns the stored spenders of op (more than one only in
// conflicting data), in key order.
func spendersOf(r pebbledb.Reader, c chainCode, op heistgraph.Outpoint) ([]heistgraph.Inpoint, error) {
	lo := appendOutpointKey(nil, prefixSpend, c, op)
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, err
	}
	var ins []heistgraph.Inpoint
	for ok := it.First(); ok; ok = it.Next() {
		_, in, ok := decodeSpendKey(it.Key())
		if !ok {
			it.Close()
			return nil, fmt.Errorf("spend key: %w", errCorrupt)
		}
		ins = append(ins, in)
	}
	return ins, errors.Join(it.Error(), it.Close())
}

// loadSpender returns the tx record of txid from recs, reading it from r
// on first use.
func loadSpender(r pebbledb.Reader, recs map[heistgraph.Hash]*txRecord, c chainCode, txid heistgraph.Hash) (*txRecord, error) {
	if rec, ok := recs[txid]; ok {
		return rec, nil
	}
	v, found, err := lookup(r, appendTxKey(nil, c, txid), nil)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("spender %s not stored: %w", txid, errCorrupt)
	}
	rec := &txRecord{}
	if err := decodeTxRecord(v, txid, rec); err != nil {
		return nil, err
	}
	recs[txid] = rec
	return rec, nil
}

// writeTotals merges the block's delta into each address's totals.
func (a *applier) writeTotals(batch *pebbledb.Batch, c chainCode, h, time int64) error {
	for j, addr := range a.deltas.addrs {
		dl := &a.deltas.ds[j]
		t := totals{Received: dl.received, Sent: dl.sent, TxCount: dl.txs, OutputCount: dl.outputs, SpendCount: dl.spends}
		seen := false
		if dl.own {
			t.see(&seen, h, time)
		}
		if dl.minH >= 0 {
			t.see(&seen, dl.minH, dl.minT)
			t.see(&seen, dl.maxH, dl.maxT)
		}
		a.key = appendAddressKey(a.key[:0], c, addr)
		a.val = appendTotals(a.val[:0], &t)
		if err := batch.Merge(a.key, a.val, nil); err != nil {
			return err
		}
	}
	return nil
}

// see widens t's first and last seen to an event at height (block time
// tm). seen is false for totals without events yet.
func (t *totals) see(seen *bool, height, tm int64) {
	if !*seen {
		t.FirstHeight, t.FirstTime, t.LastHeight, t.LastTime = height, tm, height, tm
		*seen = true
		return
	}
	if height < t.FirstHeight {
		t.FirstHeight, t.FirstTime = height, tm
	}
	if height > t.LastHeight {
		t.LastHeight, t.LastTime = height, tm
	}
}

// hasKeys reports whether one table of chain c holds any key.
func hasKeys(r pebbledb.Reader, prefix byte, c chainCode) (bool, error) {
	lo, hi := tableBounds(prefix, c)
	return hasRange(r, lo, hi)
}

// hasEventsAt reports whether addr has events in the tx at (height,
// txIndex).
func hasEventsAt(r pebbledb.Reader, c chainCode, addr string, height int64, txIndex uint32) (bool, error) {
	lo := appendU32(appendU64(appendEventPrefix(nil, c, addr), uint64(height)), txIndex)
	return hasRange(r, lo, prefixEnd(lo))
}

func hasRange(r pebbledb.Reader, lo, hi []byte) (bool, error) {
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return false, err
	}
	ok := it.First()
	if err := it.Error(); err != nil {
		it.Close()
		return false, err
	}
	return ok, it.Close()
}
