package pebble

import (
	"context"
	"errors"
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.AccountLedger = (*DB)(nil)

// AccountLedger implements store.AccountLedger: the block record and one
// iterator over the block's ledger keys, from one snapshot.
func (d *DB) AccountLedger(ctx context.Context, chain heistgraph.Chain, height int64) (store.AccountBlockInfo, []heistgraph.Transfer, error) {
	what := fmt.Sprintf("ledger of block %d", height)
	c, err := d.readCode(chain, what)
	if err != nil {
		return store.AccountBlockInfo{}, nil, err
	}
	fail := func(err error) (store.AccountBlockInfo, []heistgraph.Transfer, error) {
		return store.AccountBlockInfo{}, nil, fmt.Errorf("%s on %s: %w", what, chain, err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if height < 0 {
		return fail(heistgraph.ErrNotFound)
	}
	snap := d.db.NewSnapshot()
	defer snap.Close()
	hr, found, err := acctHeightAt(snap, c, height)
	if err == nil && !found {
		err = heistgraph.ErrNotFound
	}
	if err != nil {
		return fail(err)
	}
	bi, err := acctBlockByHash(snap, chain, c, heistgraph.EVMHash(hr.Hash))
	if err != nil {
		return store.AccountBlockInfo{}, nil, err
	}
	it, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: appendLedgerKey(nil, c, height, 0), UpperBound: appendLedgerKey(nil, c, height+1, 0)})
	if err != nil {
		return fail(err)
	}
	out := make([]heistgraph.Transfer, 0, bi.Transfers)
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, heistgraph.Transfer{})
		t := &out[len(out)-1]
		if err := decodeTransferRecord(it.Value(), t); err != nil {
			it.Close()
			return fail(fmt.Errorf("transfer %d: %w", len(out)-1, err))
		}
		if t.TxIndex >= 0 {
			if int(t.TxIndex) >= len(bi.TxHashes) {
				it.Close()
				return fail(fmt.Errorf("transfer %d: tx %d of %d: %w", len(out)-1, t.TxIndex, len(bi.TxHashes), errCorrupt))
			}
			t.TxHash = bi.TxHashes[t.TxIndex]
		}
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return fail(err)
	}
	if len(out) != bi.Transfers {
		return fail(fmt.Errorf("ledger holds %d transfers, the block record says %d: %w", len(out), bi.Transfers, errCorrupt))
	}
	return bi, out, nil
}
