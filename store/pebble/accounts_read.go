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
	c, ok, err := d.code(chain)
	if err == nil && !ok {
		// readCode's error, its context built only when needed: the
		// trace asks for blocks by hash on its hot path.
		_, err = d.readCode(chain, "block "+hash.String())
	}
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
		var ev store.AccountEvent
		var key []byte
		err := d.scanAccount(ctx, chain, opts, func(c chainCode) []byte { return appendAcctEventPrefix(nil, c, addr) },
			func(s *acctScan, h int64, seq int32, v []byte) (bool, error) {
				full, err := decodeEventValue(v, &ev)
				if err != nil {
					return false, err
				}
				if full && opts.Asset != nil && ev.Transfer.Asset != *opts.Asset {
					return true, nil
				}
				ev.Seq = seq
				if ev.Block, err = s.ref(h); err != nil {
					return false, err
				}
				if !full {
					// A record of a store written before history records
					// kept the transfer: read it from the ledger.
					if opts.Asset != nil && ev.Transfer.Asset != *opts.Asset {
						return true, nil
					}
					if key, err = s.ledgerTransfer(key, h, seq, &ev.Transfer); err != nil {
						return false, err
					}
				}
				return yield(ev, nil), nil
			})
		if err != nil {
			yield(store.AccountEvent{}, fmt.Errorf("history of address %s on %s: %w", addr.Hex(), chain, err))
		}
	}
}

// acctScan is one read of an account table keyed by address, height and
// position (history, contract logs) from one snapshot, with the blocks of
// the heights it reaches.
type acctScan struct {
	d     *DB
	chain heistgraph.Chain
	c     chainCode
	snap  *pebbledb.Snapshot
	gen   uint64 // the block cache's generation (accounts_refs.go)
	cache bool   // whether the cache may be used
	last  heistgraph.AccountBlockRef
	block store.AccountBlockInfo // the whole record of the last block read (Height -1: none)
}

// scanAccount calls each, in key order, for the keys prefix(c) +
// height(be64) + position(be32) within opts' heights, from one snapshot,
// until each returns false or an error. The chain's code and the heights
// are checked first; a chain with nothing stored has no keys.
func (d *DB) scanAccount(ctx context.Context, chain heistgraph.Chain, opts store.AccountHistoryOptions, prefix func(chainCode) []byte,
	each func(s *acctScan, h int64, pos int32, v []byte) (bool, error)) error {
	if opts.FromHeight < 0 || opts.ToHeight < 0 {
		return fmt.Errorf("heights %d..%d: %w", opts.FromHeight, opts.ToHeight, heistgraph.ErrInvalid)
	}
	c, ok, err := d.code(chain)
	if err != nil || !ok || opts.ToHeight != 0 && opts.ToHeight < opts.FromHeight {
		return err
	}
	p := prefix(c)
	lo, hi := heightBounds(p, opts.FromHeight, opts.ToHeight)
	s := acctScan{d: d, chain: chain, c: c, last: heistgraph.AccountBlockRef{Height: -1}}
	s.block.Height = -1
	s.snap, s.gen, s.cache = d.refs.snapshot(d.db)
	defer s.snap.Close()
	it, err := s.snap.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	n := 0
	for valid := it.First(); valid; valid = it.Next() {
		if n++; n&63 == 1 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		k := it.Key()
		if len(k) != len(p)+12 {
			return fmt.Errorf("key of %d bytes: %w", len(k), errCorrupt)
		}
		h := int64(binary.BigEndian.Uint64(k[len(p):]))
		more, err := each(&s, h, int32(binary.BigEndian.Uint32(k[len(k)-4:])), it.Value())
		if err != nil || !more {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return it.Error()
}

// ref returns the hash, height and time of the block at height h.
func (s *acctScan) ref(h int64) (heistgraph.AccountBlockRef, error) {
	if h == s.last.Height {
		return s.last, nil
	}
	if r, ok := s.d.refs.get(s.c, h, s.gen); s.cache && ok {
		s.last = r
		return r, nil
	}
	hr, found, err := acctHeightAt(s.snap, s.c, h)
	if err == nil && !found {
		err = fmt.Errorf("height %d not indexed: %w", h, errCorrupt)
	}
	if err != nil {
		return heistgraph.AccountBlockRef{}, err
	}
	s.last = heistgraph.AccountBlockRef{Hash: heistgraph.EVMHash(hr.Hash), Height: h, Time: hr.Time}
	if s.cache {
		s.d.refs.put(s.c, s.last, s.gen)
	}
	return s.last, nil
}

// txHash returns the hash of the transaction at index tx of the block at
// height h, reading the block record when h is not the last one read.
func (s *acctScan) txHash(h int64, tx int32) (heistgraph.EVMHash, error) {
	if h != s.block.Height {
		ref, err := s.ref(h)
		if err != nil {
			return heistgraph.EVMHash{}, err
		}
		if s.block, err = acctBlockByHash(s.snap, s.chain, s.c, ref.Hash); err != nil {
			s.block.Height = -1
			return heistgraph.EVMHash{}, err
		}
	}
	if tx < 0 || int(tx) >= len(s.block.TxHashes) {
		return heistgraph.EVMHash{}, fmt.Errorf("height %d: tx %d: %w", h, tx, errCorrupt)
	}
	return s.block.TxHashes[tx], nil
}

// ledgerTransfer reads the ledger entry at height h and position seq into
// t, with its tx hash, using key as a buffer.
func (s *acctScan) ledgerTransfer(key []byte, h int64, seq int32, t *heistgraph.Transfer) ([]byte, error) {
	key = appendLedgerKey(key[:0], s.c, h, seq)
	v, found, err := lookup(s.snap, key, nil)
	if err == nil && !found {
		err = fmt.Errorf("transfer %d at height %d missing: %w", seq, h, errCorrupt)
	}
	if err == nil {
		err = decodeTransferRecord(v, t)
	}
	if err == nil && t.TxIndex >= 0 {
		t.TxHash, err = s.txHash(h, t.TxIndex)
	}
	return key, err
}
