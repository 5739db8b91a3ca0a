package pebble

import (
	"context"
	"encoding/binary"
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Account-model (EVM) chains keep their own tables under one prefix, x,
// followed by the chain's code (as every chain-scoped table) and a
// sub-table byte. Heights and ledger positions are big-endian; addresses
// are their 20 bytes, so they need no length; an asset is the token
// contract's 20 bytes, the native coin the zero address (so it sorts
// first).
//
//	x + chain + h + height(be64)            -> block hash(32) + time(varint)        height index; its last key is the checkpoint
//	x + chain + b + hash(32)                -> block record                         header fields, ledger size, tx hashes in order
//	x + chain + t + tx hash(32)             -> tx record                            fields and receipt, height, its range of the ledger
//	x + chain + l + height(be64) + seq(be32)
//	                                        -> transfer record                      the block's ledger, in ledger order
//	x + chain + e + addr(20) + height(be64) + seq(be32)
//	                                        -> flags(1) + transfer record [+ tx hash(32)]
//	                                                                                history: the transfer credits and/or debits addr
//	x + chain + v + addr(20) + asset(20)    -> balance record                       received and sent (exact sums), credits, debits
//	x + chain + a + addr(20)                -> summary record                       tx count, transfers, first and last seen
//	x + chain + n                           -> block count (uvarint)                blocks stored (is the stored range complete?)
//	x + chain + k + token(20)               -> token record                         known, decimals, symbol (PutToken; no block's)
//	x + chain + g, x + chain + o            -> log records                          kept event logs (accounts_logs.go)
//
// A history record holds a copy of its ledger entry and the entry's tx
// hash (none for a block-level transfer), so that reading a history is one
// iterator step a transfer, plus the block's hash and time by height
// (accounts_refs.go caches them). Stores written before kept only the flags
// and, for a token, the asset (flag eventToken, no eventTransfer); such
// records are still read, through the ledger and the block record, and new
// blocks are written in the new form, so nothing needs re-ingesting (but
// the digest of a block's records differs between the two forms).
//
// A block's own records (h, b, t, l and the e keys its ledger names) are
// enough to derive the exact inverse of its effect on the balances and
// summaries, so account chains need no undo record: RewindTo recomputes
// each touched balance and summary by subtracting the block's deltas, and
// first and last seen from the address's remaining history. Balances and
// summaries are read and rewritten per block (one point read per address
// and asset the block touches), not merged, so that Sent > Received can be
// told at any time.
//
// Every x table but k depends only on the set of blocks stored; Digest
// includes all of them but k.
const prefixAccount byte = 'x'

// Sub-tables of prefixAccount.
const (
	acctHeight   byte = 'h'
	acctBlock    byte = 'b'
	acctTx       byte = 't'
	acctLedger   byte = 'l'
	acctEvent    byte = 'e'
	acctBalance  byte = 'v'
	acctSummary  byte = 'a'
	acctCount    byte = 'n'
	acctTokenKey byte = 'k'
)

func appendAcctKey(dst []byte, c chainCode, sub byte) []byte {
	return append(appendTable(dst, prefixAccount, c), sub)
}

func appendAcctHeightKey(dst []byte, c chainCode, h int64) []byte {
	return appendU64(appendAcctKey(dst, c, acctHeight), uint64(h))
}

func appendAcctBlockKey(dst []byte, c chainCode, h heistgraph.EVMHash) []byte {
	return append(appendAcctKey(dst, c, acctBlock), h[:]...)
}

func appendAcctTxKey(dst []byte, c chainCode, h heistgraph.EVMHash) []byte {
	return append(appendAcctKey(dst, c, acctTx), h[:]...)
}

func appendLedgerKey(dst []byte, c chainCode, h int64, seq int32) []byte {
	return appendU32(appendU64(appendAcctKey(dst, c, acctLedger), uint64(h)), uint32(seq))
}

func appendAcctEventPrefix(dst []byte, c chainCode, a heistgraph.EVMAddress) []byte {
	return append(appendAcctKey(dst, c, acctEvent), a[:]...)
}

func appendAcctEventKey(dst []byte, c chainCode, a heistgraph.EVMAddress, h int64, seq int32) []byte {
	return appendU32(appendU64(appendAcctEventPrefix(dst, c, a), uint64(h)), uint32(seq))
}

// acctEventKeyLen is the length of an account event key.
const acctEventKeyLen = 3 + 1 + 20 + 8 + 4

func appendBalanceKey(dst []byte, c chainCode, a heistgraph.EVMAddress, asset heistgraph.Asset) []byte {
	return append(append(appendAcctKey(dst, c, acctBalance), a[:]...), asset[:]...)
}

func appendSummaryKey(dst []byte, c chainCode, a heistgraph.EVMAddress) []byte {
	return append(appendAcctKey(dst, c, acctSummary), a[:]...)
}

func appendTokenKey(dst []byte, c chainCode, a heistgraph.EVMAddress) []byte {
	return append(appendAcctKey(dst, c, acctTokenKey), a[:]...)
}

// acctHeightAt reads the account height index at h.
func acctHeightAt(r pebbledb.Reader, c chainCode, h int64) (heightRecord, bool, error) {
	var kb [12]byte
	v, found, err := lookup(r, appendAcctHeightKey(kb[:0], c, h), nil)
	if err != nil || !found {
		return heightRecord{}, false, err
	}
	hr, err := decodeHeightRecord(v)
	return hr, true, err
}

// acctTipOf returns the highest entry of chain c's account height index.
func acctTipOf(r pebbledb.Reader, c chainCode) (heistgraph.AccountBlockRef, bool, error) {
	lo := appendAcctKey(nil, c, acctHeight)
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return heistgraph.AccountBlockRef{}, false, err
	}
	defer it.Close()
	if !it.Last() {
		return heistgraph.AccountBlockRef{}, false, it.Error()
	}
	k := it.Key()
	if len(k) != len(lo)+8 {
		return heistgraph.AccountBlockRef{}, false, fmt.Errorf("account height key: %w", errCorrupt)
	}
	hr, err := decodeHeightRecord(it.Value())
	if err != nil {
		return heistgraph.AccountBlockRef{}, false, err
	}
	return heistgraph.AccountBlockRef{Hash: heistgraph.EVMHash(hr.Hash), Height: int64(binary.BigEndian.Uint64(k[len(lo):])), Time: hr.Time}, true, nil
}

// checkLedger reports a block whose ledger or kept logs contradict its
// transactions (store.CheckLedger).
func checkLedger(b *heistgraph.AccountBlock) error { return store.CheckLedger(b) }

// balKey names one address's position in one asset.
type balKey struct {
	addr  heistgraph.EVMAddress
	asset heistgraph.Asset
}

type balDelta struct {
	received, sent wide
	credits        int64
	debits         int64
}

type sumDelta struct {
	txs, transfers int64
	lastTx         int32
}

// acctEffects accumulates what one block's ledger changes in balances and
// summaries, in first-touched order. Apply adds it; rewind subtracts it.
type acctEffects struct {
	bal     map[balKey]*balDelta
	balKeys []balKey
	sum     map[heistgraph.EVMAddress]*sumDelta
	addrs   []heistgraph.EVMAddress
}

func newAcctEffects() *acctEffects {
	return &acctEffects{bal: map[balKey]*balDelta{}, sum: map[heistgraph.EVMAddress]*sumDelta{}}
}

func (e *acctEffects) balance(a heistgraph.EVMAddress, asset heistgraph.Asset) *balDelta {
	k := balKey{a, asset}
	d, ok := e.bal[k]
	if !ok {
		d = &balDelta{}
		e.bal[k] = d
		e.balKeys = append(e.balKeys, k)
	}
	return d
}

func (e *acctEffects) touch(a heistgraph.EVMAddress, txIndex int32) {
	d, ok := e.sum[a]
	if !ok {
		d = &sumDelta{lastTx: -1}
		e.sum[a] = d
		e.addrs = append(e.addrs, a)
	}
	d.transfers++
	if txIndex >= 0 && d.lastTx != txIndex {
		d.lastTx = txIndex
		d.txs++
	}
}

// add counts transfer t and returns the event flags of its addresses:
// fromFlags for t.From and toFlags for t.To (one address when they are
// equal: toFlags then holds both, fromFlags is 0).
func (e *acctEffects) add(t *heistgraph.Transfer) (fromFlags, toFlags byte) {
	if t.Credits() {
		d := e.balance(t.To, t.Asset)
		d.received.add(&t.Amount)
		d.credits++
		toFlags = eventCredit
	}
	if t.Debits() {
		d := e.balance(t.From, t.Asset)
		d.sent.add(&t.Amount)
		d.debits++
		fromFlags = eventDebit
	}
	if fromFlags != 0 && toFlags != 0 && t.From == t.To {
		toFlags |= fromFlags
		fromFlags = 0
	}
	if toFlags != 0 {
		e.touch(t.To, t.TxIndex)
	}
	if fromFlags != 0 {
		e.touch(t.From, t.TxIndex)
	}
	return fromFlags, toFlags
}

// ApplyAccountBlock writes b and everything derived from it in one atomic
// batch (store.AccountWriter). If ctx is cancelled before the batch is
// committed, nothing is written.
func (d *DB) ApplyAccountBlock(ctx context.Context, b *heistgraph.AccountBlock) error {
	if b == nil {
		return fmt.Errorf("apply account block: nil block: %w", heistgraph.ErrInvalid)
	}
	if !b.Chain.IsEVM() || b.Height < 0 {
		return fmt.Errorf("apply block %s at height %d on %q: want an account chain of the registry and a height >= 0: %w", b.Hash, b.Height, b.Chain, heistgraph.ErrInvalid)
	}
	where := func(err error) error {
		return fmt.Errorf("apply block %d %s on %s: %w", b.Height, b.Hash, b.Chain, err)
	}
	if err := checkLedger(b); err != nil {
		return where(err)
	}
	if err := ctx.Err(); err != nil {
		return where(err)
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	code, known, err := d.writeCode(b.Chain)
	if err != nil {
		return where(err)
	}
	if known {
		hr, found, err := acctHeightAt(d.db, code, b.Height)
		if err != nil {
			return where(err)
		}
		if found {
			if heistgraph.EVMHash(hr.Hash) == b.Hash {
				return nil
			}
			return where(fmt.Errorf("the height holds block %s (rewind first): %w", heistgraph.EVMHash(hr.Hash), heistgraph.ErrConflict))
		}
		v, found, err := lookup(d.db, appendAcctBlockKey(nil, code, b.Hash), nil)
		if err != nil {
			return where(err)
		}
		if found {
			h := int64(-1)
			if bi, err := decodeAcctBlockRecord(v); err == nil {
				h = bi.Height
			}
			return where(fmt.Errorf("the block is stored at height %d: %w", h, heistgraph.ErrConflict))
		}
	}
	batch := d.db.NewBatch()
	defer batch.Close()
	if !known {
		if err := batch.Set(metaChainKey(b.Chain), binary.BigEndian.AppendUint16(nil, uint16(code)), nil); err != nil {
			return err
		}
	}
	if err := buildAccountBlock(ctx, d.db, batch, b, code, known); err != nil {
		return where(err)
	}
	if d.beforeCommit != nil {
		d.beforeCommit()
	}
	if err := ctx.Err(); err != nil {
		return where(err)
	}
	if err := d.commit(batch); err != nil {
		return where(fmt.Errorf("commit: %w", err))
	}
	if !known {
		d.register(b.Chain, code)
	}
	return nil
}

// writeCode returns chain's code, or the code it will get (known false)
// when nothing is stored for it yet. The caller holds writeMu.
func (d *DB) writeCode(chain heistgraph.Chain) (chainCode, bool, error) {
	code, known, err := d.code(chain)
	if err != nil || known {
		return code, known, err
	}
	d.mu.RLock()
	code = d.nextCode
	d.mu.RUnlock()
	if code == 0 {
		return 0, false, fmt.Errorf("no chain code left for %s: %w", chain, heistgraph.ErrInvalid)
	}
	return code, false, nil
}

// buildAccountBlock fills batch with block b of chain code c.
func buildAccountBlock(ctx context.Context, db *pebbledb.DB, batch *pebbledb.Batch, b *heistgraph.AccountBlock, c chainCode, known bool) error {
	var key, val []byte
	// Each tx's range of the ledger (checkLedger made them contiguous).
	first := make([]int32, len(b.Txs))
	count := make([]int32, len(b.Txs))
	logCount, firstLog := txLogRanges(b)
	e := newAcctEffects()
	for seq := range b.Transfers {
		if seq&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		t := &b.Transfers[seq]
		if t.TxIndex >= 0 {
			if count[t.TxIndex] == 0 {
				first[t.TxIndex] = int32(seq)
			}
			count[t.TxIndex]++
		}
		key = appendLedgerKey(key[:0], c, b.Height, int32(seq))
		val = appendTransferRecord(val[:0], t)
		if err := batch.Set(key, val, nil); err != nil {
			return err
		}
		fromFlags, toFlags := e.add(t)
		for _, ev := range [2]struct {
			a     heistgraph.EVMAddress
			flags byte
		}{{t.To, toFlags}, {t.From, fromFlags}} {
			if ev.flags == 0 {
				continue
			}
			key = appendAcctEventKey(key[:0], c, ev.a, b.Height, int32(seq))
			val = appendEventValue(val[:0], ev.flags, t)
			if err := batch.Set(key, val, nil); err != nil {
				return err
			}
		}
	}
	for i := range b.Txs {
		tx := &b.Txs[i]
		key = appendAcctTxKey(key[:0], c, tx.Hash)
		if known {
			v, found, err := lookup(db, key, nil)
			if err != nil {
				return err
			}
			if found {
				h := int64(-1)
				if rec, err := decodeAcctTxRecord(v, tx.Hash); err == nil {
					h = rec.Height
				}
				return fmt.Errorf("tx %d %s: stored in the block at height %d (rewind first): %w", i, tx.Hash, h, heistgraph.ErrConflict)
			}
		}
		rec := acctTxRecord{Tx: *tx, Height: b.Height, FirstSeq: first[i], Transfers: count[i], FirstLog: firstLog[i], Logs: logCount[i]}
		val = appendAcctTxRecord(val[:0], &rec)
		if err := batch.Set(key, val, nil); err != nil {
			return err
		}
	}
	if err := writeLogs(batch, c, b); err != nil {
		return err
	}
	if err := writeBalances(db, batch, c, e, +1); err != nil {
		return err
	}
	if err := applySummaries(db, batch, c, e, b.Height, b.Time); err != nil {
		return err
	}
	if err := addCount(db, batch, c, +1); err != nil {
		return err
	}
	key = appendAcctHeightKey(key[:0], c, b.Height)
	val = appendHeightRecord(val[:0], heightRecord{Hash: heistgraph.Hash(b.Hash), Time: b.Time})
	if err := batch.Set(key, val, nil); err != nil {
		return err
	}
	key = appendAcctBlockKey(key[:0], c, b.Hash)
	val = appendAcctBlockRecord(val[:0], b)
	return batch.Set(key, val, nil)
}

// writeBalances adds (sign +1) or subtracts (-1) the effects' balance
// deltas, reading each balance from r. A balance left without transfers is
// deleted.
func writeBalances(r pebbledb.Reader, w pebbledb.Writer, c chainCode, e *acctEffects, sign int) error {
	var key, val []byte
	for _, k := range e.balKeys {
		dl := e.bal[k]
		key = appendBalanceKey(key[:0], c, k.addr, k.asset)
		v, found, err := lookup(r, key, val[:0])
		if err != nil {
			return err
		}
		var rec balanceRecord
		if found {
			if rec, err = decodeBalanceRecord(v); err != nil {
				return fmt.Errorf("address %s asset %s: %w", k.addr, k.asset, err)
			}
		}
		if sign > 0 {
			rec.Received.addWide(&dl.received)
			rec.Sent.addWide(&dl.sent)
			rec.Credits += dl.credits
			rec.Debits += dl.debits
		} else {
			if !found || rec.Credits < dl.credits || rec.Debits < dl.debits {
				return fmt.Errorf("address %s asset %s: balance missing or short: %w", k.addr, k.asset, errCorrupt)
			}
			rec.Received.subWide(&dl.received)
			rec.Sent.subWide(&dl.sent)
			rec.Credits -= dl.credits
			rec.Debits -= dl.debits
		}
		if rec.Credits+rec.Debits == 0 {
			if err := w.Delete(key, nil); err != nil {
				return err
			}
			continue
		}
		val = appendBalanceRecord(val[:0], &rec)
		if err := w.Set(key, val, nil); err != nil {
			return err
		}
	}
	return nil
}

// applySummaries adds the effects' summary deltas of a block at height h
// (time tm), reading each summary from r.
func applySummaries(r pebbledb.Reader, w pebbledb.Writer, c chainCode, e *acctEffects, h, tm int64) error {
	var key, val []byte
	for _, a := range e.addrs {
		dl := e.sum[a]
		key = appendSummaryKey(key[:0], c, a)
		v, found, err := lookup(r, key, val[:0])
		if err != nil {
			return err
		}
		rec := summaryRecord{FirstHeight: h, FirstTime: tm, LastHeight: h, LastTime: tm}
		if found {
			if rec, err = decodeSummaryRecord(v); err != nil {
				return fmt.Errorf("address %s: %w", a, err)
			}
			if h < rec.FirstHeight {
				rec.FirstHeight, rec.FirstTime = h, tm
			}
			if h > rec.LastHeight {
				rec.LastHeight, rec.LastTime = h, tm
			}
		}
		rec.TxCount += dl.txs
		rec.Transfers += dl.transfers
		val = appendSummaryRecord(val[:0], &rec)
		if err := w.Set(key, val, nil); err != nil {
			return err
		}
	}
	return nil
}

// addCount adds delta to chain c's stored block count.
func addCount(r pebbledb.Reader, w pebbledb.Writer, c chainCode, delta int64) error {
	key := appendAcctKey(nil, c, acctCount)
	v, found, err := lookup(r, key, nil)
	if err != nil {
		return err
	}
	var n int64
	if found {
		if n, err = decodeCountRecord(v); err != nil {
			return err
		}
	}
	n += delta
	if n < 0 {
		return fmt.Errorf("account block count below zero: %w", errCorrupt)
	}
	if n == 0 {
		return w.Delete(key, nil)
	}
	return w.Set(key, appendCountRecord(nil, n), nil)
}

// PutToken stores a token's metadata (store.AccountWriter).
func (d *DB) PutToken(ctx context.Context, t heistgraph.TokenInfo) error {
	if !t.Chain.IsEVM() || t.Address.IsZero() {
		return fmt.Errorf("put token %s on %q: want an account chain of the registry and a contract address: %w", t.Address, t.Chain, heistgraph.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	code, known, err := d.writeCode(t.Chain)
	if err != nil {
		return err
	}
	batch := d.db.NewBatch()
	defer batch.Close()
	if !known {
		if err := batch.Set(metaChainKey(t.Chain), binary.BigEndian.AppendUint16(nil, uint16(code)), nil); err != nil {
			return err
		}
	}
	if err := batch.Set(appendTokenKey(nil, code, t.Address), appendTokenRecord(nil, &t), nil); err != nil {
		return err
	}
	if err := d.commit(batch); err != nil {
		return fmt.Errorf("put token %s on %s: %w", t.Address, t.Chain, err)
	}
	if !known {
		d.register(t.Chain, code)
	}
	return nil
}
