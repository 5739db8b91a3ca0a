package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// AccountTip returns the highest stored block of an account chain, or an
// error wrapping heistgraph.ErrNotFound.
func (d *DB) AccountTip(ctx context.Context, chain heistgraph.Chain) (heistgraph.AccountBlockRef, error) {
	c, err := d.readCode(chain, "tip")
	if err != nil {
		return heistgraph.AccountBlockRef{}, err
	}
	ref, found, err := acctTipOf(d.db, c)
	if err != nil {
		return heistgraph.AccountBlockRef{}, fmt.Errorf("tip on %s: %w", chain, err)
	}
	if !found {
		return heistgraph.AccountBlockRef{}, fmt.Errorf("tip on %s: no block stored: %w", chain, heistgraph.ErrNotFound)
	}
	return ref, nil
}

// AccountStored returns the stored range of an account chain, or an error
// wrapping heistgraph.ErrNotFound when it holds no block.
func (d *DB) AccountStored(ctx context.Context, chain heistgraph.Chain) (store.AccountRange, error) {
	c, err := d.readCode(chain, "stored range")
	if err != nil {
		return store.AccountRange{}, err
	}
	snap := d.db.NewSnapshot()
	defer snap.Close()
	tip, found, err := acctTipOf(snap, c)
	if err == nil && !found {
		err = fmt.Errorf("no block stored: %w", heistgraph.ErrNotFound)
	}
	if err != nil {
		return store.AccountRange{}, fmt.Errorf("stored range of %s: %w", chain, err)
	}
	lo := appendAcctKey(nil, c, acctHeight)
	it, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return store.AccountRange{}, err
	}
	var lowest int64
	if it.First() && len(it.Key()) == len(lo)+8 {
		lowest = int64(binary.BigEndian.Uint64(it.Key()[len(lo):]))
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return store.AccountRange{}, err
	}
	v, found, err := lookup(snap, appendAcctKey(nil, c, acctCount), nil)
	if err == nil && !found {
		err = fmt.Errorf("block count missing: %w", errCorrupt)
	}
	var n int64
	if err == nil {
		n, err = decodeCountRecord(v)
	}
	if err != nil {
		return store.AccountRange{}, fmt.Errorf("stored range of %s: %w", chain, err)
	}
	return store.AccountRange{Lowest: lowest, Highest: tip.Height, Count: n}, nil
}

// AccountBlockByHeight returns the stored block at height, or an error
// wrapping heistgraph.ErrNotFound.
func (d *DB) AccountBlockByHeight(ctx context.Context, chain heistgraph.Chain, height int64) (store.AccountBlockInfo, error) {
	c, err := d.readCode(chain, fmt.Sprintf("block at height %d", height))
	if err != nil {
		return store.AccountBlockInfo{}, err
	}
	snap := d.db.NewSnapshot()
	defer snap.Close()
	hr, found, err := acctHeightAt(snap, c, height)
	if err != nil {
		return store.AccountBlockInfo{}, fmt.Errorf("block at height %d on %s: %w", height, chain, err)
	}
	if !found || height < 0 {
		return store.AccountBlockInfo{}, fmt.Errorf("block at height %d on %s: %w", height, chain, heistgraph.ErrNotFound)
	}
	return acctBlockByHash(snap, chain, c, heistgraph.EVMHash(hr.Hash))
}

// AccountBlockByHash returns a stored block by hash, or an error wrapping
// heistgraph.ErrNotFound.
func (d *DB) AccountBlockByHash(ctx context.Context, chain heistgraph.Chain, hash heistgraph.EVMHash) (store.AccountBlockInfo, error) {
	c, err := d.readCode(chain, "block "+hash.String())
	if err != nil {
		return store.AccountBlockInfo{}, err
	}
	return acctBlockByHash(d.db, chain, c, hash)
}

func acctBlockByHash(r pebbledb.Reader, chain heistgraph.Chain, c chainCode, hash heistgraph.EVMHash) (store.AccountBlockInfo, error) {
	v, found, err := lookup(r, appendAcctBlockKey(nil, c, hash), nil)
	if err == nil && !found {
		err = heistgraph.ErrNotFound
	}
	if err != nil {
		return store.AccountBlockInfo{}, fmt.Errorf("block %s on %s: %w", hash, chain, err)
	}
	bi, err := decodeAcctBlockRecord(v)
	if err != nil {
		return store.AccountBlockInfo{}, fmt.Errorf("block %s on %s: %w", hash, chain, err)
	}
	bi.Chain, bi.Hash = chain, hash
	return bi, nil
}

// AccountTx returns a stored transaction with its block and transfers, or
// an error wrapping heistgraph.ErrNotFound.
func (d *DB) AccountTx(ctx context.Context, chain heistgraph.Chain, hash heistgraph.EVMHash) (store.AccountTxRecord, error) {
	c, err := d.readCode(chain, "tx "+hash.String())
	if err != nil {
		return store.AccountTxRecord{}, err
	}
	fail := func(err error) (store.AccountTxRecord, error) {
		return store.AccountTxRecord{}, fmt.Errorf("tx %s on %s: %w", hash, chain, err)
	}
	snap := d.db.NewSnapshot()
	defer snap.Close()
	v, found, err := lookup(snap, appendAcctTxKey(nil, c, hash), nil)
	if err == nil && !found {
		err = heistgraph.ErrNotFound
	}
	if err != nil {
		return fail(err)
	}
	rec, err := decodeAcctTxRecord(v, hash)
	if err != nil {
		return fail(err)
	}
	hr, found, err := acctHeightAt(snap, c, rec.Height)
	if err == nil && !found {
		err = fmt.Errorf("height %d not indexed: %w", rec.Height, errCorrupt)
	}
	if err != nil {
		return fail(err)
	}
	bi, err := acctBlockByHash(snap, chain, c, heistgraph.EVMHash(hr.Hash))
	if err != nil {
		return fail(err)
	}
	out := store.AccountTxRecord{
		Chain: chain, Tx: rec.Tx, InternalKnown: bi.InternalKnown,
		Block: heistgraph.AccountBlockRef{Hash: bi.Hash, Height: bi.Height, Time: bi.Time},
	}
	if rec.Transfers > 0 {
		lo := appendLedgerKey(nil, c, rec.Height, rec.FirstSeq)
		hi := appendLedgerKey(nil, c, rec.Height, rec.FirstSeq+rec.Transfers)
		it, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			return fail(err)
		}
		for ok := it.First(); ok; ok = it.Next() {
			var t heistgraph.Transfer
			if err := decodeTransferRecord(it.Value(), &t); err != nil {
				it.Close()
				return fail(err)
			}
			t.TxHash = hash
			out.Transfers = append(out.Transfers, t)
		}
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return fail(err)
		}
		if len(out.Transfers) != int(rec.Transfers) {
			return fail(fmt.Errorf("ledger holds %d of its %d transfers: %w", len(out.Transfers), rec.Transfers, errCorrupt))
		}
	}
	if out.Logs, err = txLogs(snap, c, rec.Height, hash, rec.FirstLog, rec.Logs); err != nil {
		return fail(err)
	}
	return out, nil
}

// AccountSummary returns addr's balances, tx count and first and last seen,
// or an error wrapping heistgraph.ErrNotFound for an address never seen.
func (d *DB) AccountSummary(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress) (store.AccountSummary, error) {
	c, err := d.readCode(chain, "address "+addr.Hex())
	if err != nil {
		return store.AccountSummary{}, err
	}
	fail := func(err error) (store.AccountSummary, error) {
		return store.AccountSummary{}, fmt.Errorf("address %s on %s: %w", addr.Hex(), chain, err)
	}
	snap := d.db.NewSnapshot()
	defer snap.Close()
	v, found, err := lookup(snap, appendSummaryKey(nil, c, addr), nil)
	if err == nil && !found {
		err = heistgraph.ErrNotFound
	}
	if err != nil {
		return fail(err)
	}
	rec, err := decodeSummaryRecord(v)
	if err != nil {
		return fail(err)
	}
	s := store.AccountSummary{
		Chain: chain, Address: addr, TxCount: rec.TxCount, Transfers: rec.Transfers,
		FirstHeight: rec.FirstHeight, FirstSeen: rec.FirstTime, LastHeight: rec.LastHeight, LastSeen: rec.LastTime,
	}
	lo := append(appendAcctKey(nil, c, acctBalance), addr[:]...)
	it, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return fail(err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != len(lo)+20 {
			it.Close()
			return fail(fmt.Errorf("balance key: %w", errCorrupt))
		}
		br, err := decodeBalanceRecord(it.Value())
		if err != nil {
			it.Close()
			return fail(err)
		}
		var asset heistgraph.Asset
		copy(asset[:], k[len(lo):])
		s.Balances = append(s.Balances, balanceOf(asset, &br))
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return fail(err)
	}
	return s, nil
}

// balanceOf turns a stored balance into the reader's view: saturated sums,
// and a deficit instead of a negative balance.
func balanceOf(asset heistgraph.Asset, br *balanceRecord) store.AccountBalance {
	b := store.AccountBalance{Asset: asset, Credits: br.Credits, Debits: br.Debits}
	var o1, o2 bool
	b.Received, o1 = br.Received.saturated()
	b.Sent, o2 = br.Sent.saturated()
	b.Overflow = o1 || o2
	if br.Received.less(&br.Sent) {
		d := br.Sent
		d.subWide(&br.Received)
		var o bool
		b.Deficit, o = d.saturated()
		b.Overflow = b.Overflow || o
		b.Incomplete = true
		return b
	}
	net := br.Received
	net.subWide(&br.Sent)
	var o bool
	b.Balance, o = net.saturated()
	b.Overflow = b.Overflow || o
	return b
}

// Token returns a token's stored metadata, or an error wrapping
// heistgraph.ErrNotFound.
func (d *DB) Token(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress) (heistgraph.TokenInfo, error) {
	c, err := d.readCode(chain, "token "+addr.Hex())
	if err != nil {
		return heistgraph.TokenInfo{}, err
	}
	v, found, err := lookup(d.db, appendTokenKey(nil, c, addr), nil)
	if err == nil && !found {
		err = heistgraph.ErrNotFound
	}
	if err != nil {
		return heistgraph.TokenInfo{}, fmt.Errorf("token %s on %s: %w", addr.Hex(), chain, err)
	}
	t, err := decodeTokenRecord(v)
	if err != nil {
		return heistgraph.TokenInfo{}, fmt.Errorf("token %s on %s: %w", addr.Hex(), chain, err)
	}
	t.Chain, t.Address = chain, addr
	return t, nil
}

// AccountHistory yields addr's transfers in ledger order from one
// consistent snapshot (store.AccountReader).
func (d *DB) AccountHistory(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress, opts store.AccountHistoryOptions) iter.Seq2[store.AccountEvent, error] {
	return func(yield func(store.AccountEvent, error) bool) {
		fail := func(err error) {
			yield(store.AccountEvent{}, fmt.Errorf("history of address %s on %s: %w", addr.Hex(), chain, err))
		}
		if opts.FromHeight < 0 || opts.ToHeight < 0 {
			fail(fmt.Errorf("heights %d..%d: %w", opts.FromHeight, opts.ToHeight, heistgraph.ErrInvalid))
			return
		}
		c, ok, err := d.code(chain)
		if err != nil {
			fail(err)
			return
		}
		if !ok || opts.ToHeight != 0 && opts.ToHeight < opts.FromHeight {
			return
		}
		lo, hi := heightBounds(appendAcctEventPrefix(nil, c, addr), opts.FromHeight, opts.ToHeight)
		snap := d.db.NewSnapshot()
		defer snap.Close()
		it, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			fail(err)
			return
		}
		defer it.Close()
		var bi store.AccountBlockInfo
		bi.Height = -1
		var key []byte
		for valid := it.First(); valid; valid = it.Next() {
			if err := ctx.Err(); err != nil {
				fail(err)
				return
			}
			k := it.Key()
			if len(k) != acctEventKeyLen {
				fail(fmt.Errorf("account event key: %w", errCorrupt))
				return
			}
			flags, asset, err := decodeEventValue(it.Value())
			if err != nil {
				fail(err)
				return
			}
			if opts.Asset != nil && asset != *opts.Asset {
				continue
			}
			h := eventHeight(k)
			seq := int32(binary.BigEndian.Uint32(k[len(k)-4:]))
			if h != bi.Height {
				hr, found, err := acctHeightAt(snap, c, h)
				if err == nil && !found {
					err = fmt.Errorf("height %d not indexed: %w", h, errCorrupt)
				}
				if err == nil {
					bi, err = acctBlockByHash(snap, chain, c, heistgraph.EVMHash(hr.Hash))
				}
				if err != nil {
					fail(err)
					return
				}
			}
			ev := store.AccountEvent{Block: bi.Ref(), Seq: seq, Credit: flags&eventCredit != 0, Debit: flags&eventDebit != 0}
			key = appendLedgerKey(key[:0], c, h, seq)
			v, found, err := lookup(snap, key, nil)
			if err == nil && !found {
				err = fmt.Errorf("transfer %d at height %d missing: %w", seq, h, errCorrupt)
			}
			if err == nil {
				err = decodeTransferRecord(v, &ev.Transfer)
			}
			if err != nil {
				fail(err)
				return
			}
			if ti := ev.Transfer.TxIndex; ti >= 0 {
				if int(ti) >= len(bi.TxHashes) {
					fail(fmt.Errorf("transfer %d at height %d: tx %d: %w", seq, h, ti, errCorrupt))
					return
				}
				ev.Transfer.TxHash = bi.TxHashes[ti]
			}
			if !yield(ev, nil) {
				return
			}
		}
		if err := it.Error(); err != nil {
			fail(err)
		}
	}
}
