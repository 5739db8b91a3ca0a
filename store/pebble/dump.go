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

var _ store.Enumerator = (*DB)(nil)

// BlockHeights implements store.Enumerator: the keys of the height index
// (h for a UTXO chain, x h for an account chain), in key order.
func (d *DB) BlockHeights(ctx context.Context, chain heistgraph.Chain) iter.Seq2[int64, error] {
	bounds, prefixLen := func(c chainCode) ([]byte, []byte) { return tableBounds(prefixHeight, c) }, 3
	if !chain.IsUTXO() {
		bounds = func(c chainCode) ([]byte, []byte) {
			return appendAcctKey(nil, c, acctHeight), appendAcctKey(nil, c, acctHeight+1)
		}
		prefixLen = 4
	}
	return scanKeys(ctx, d, chain, "block heights", bounds, func(k, _ []byte) (int64, error) {
		if len(k) != prefixLen+8 {
			return 0, errCorrupt
		}
		return int64(binary.BigEndian.Uint64(k[prefixLen:])), nil
	})
}

// Addresses implements store.Enumerator: the addresses of the address
// totals (a), in their key order (by hash: addrkey.go), each named by the
// id in its key through the address table (y, whose entries never change,
// read from the store: every id of the snapshot is there).
func (d *DB) Addresses(ctx context.Context, chain heistgraph.Chain) iter.Seq2[string, error] {
	sub := func(c chainCode) ([]byte, []byte) { return tableBounds(prefixAddress, c) }
	return func(yield func(string, error) bool) {
		var names *addrReader
		defer func() {
			if names != nil {
				names.Close()
			}
		}()
		addrs := scanKeys(ctx, d, chain, "addresses", sub, func(k, _ []byte) (string, error) {
			id, err := addressKeyID(k)
			if err != nil {
				return "", err
			}
			if names == nil {
				names = d.addrIter(d.db, chainCode(binary.BigEndian.Uint16(k[1:])))
			}
			return names.addr(id)
		})
		for a, err := range addrs {
			if !yield(a, err) {
				return
			}
		}
	}
}

// Accounts implements store.Enumerator: the keys of the account summaries
// (x a), in key order.
func (d *DB) Accounts(ctx context.Context, chain heistgraph.Chain) iter.Seq2[heistgraph.EVMAddress, error] {
	sub := func(c chainCode) ([]byte, []byte) {
		return appendAcctKey(nil, c, acctSummary), appendAcctKey(nil, c, acctSummary+1)
	}
	return scanKeys(ctx, d, chain, "accounts", sub, func(k, _ []byte) (heistgraph.EVMAddress, error) {
		if len(k) != 4+20 {
			return heistgraph.EVMAddress{}, errCorrupt
		}
		return heistgraph.EVMAddress(k[4:]), nil
	})
}

// Tokens implements store.Enumerator: the token records (x k), in key
// order.
func (d *DB) Tokens(ctx context.Context, chain heistgraph.Chain) iter.Seq2[heistgraph.TokenInfo, error] {
	sub := func(c chainCode) ([]byte, []byte) {
		return appendAcctKey(nil, c, acctTokenKey), appendAcctKey(nil, c, acctTokenKey+1)
	}
	return scanKeys(ctx, d, chain, "tokens", sub, func(k, v []byte) (heistgraph.TokenInfo, error) {
		if len(k) != 4+20 {
			return heistgraph.TokenInfo{}, errCorrupt
		}
		t, err := decodeTokenRecord(v)
		t.Chain, t.Address = chain, heistgraph.EVMAddress(k[4:])
		return t, err
	})
}

// scanKeys yields the records of one key range of chain (bounds gives it
// for the chain's code) from a snapshot, each decoded by decode (which
// must copy what it keeps). A chain never stored yields nothing.
func scanKeys[T any](ctx context.Context, d *DB, chain heistgraph.Chain, what string, bounds func(chainCode) ([]byte, []byte), decode func(k, v []byte) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		fail := func(err error) { yield(zero, fmt.Errorf("%s of %s: %w", what, chain, err)) }
		c, ok, err := d.code(chain)
		if err != nil {
			fail(err)
			return
		}
		if !ok {
			return
		}
		lo, hi := bounds(c)
		snap := d.db.NewSnapshot()
		defer snap.Close()
		it, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			fail(err)
			return
		}
		defer it.Close()
		n := 0
		for valid := it.First(); valid; valid = it.Next() {
			if n++; n&1023 == 0 {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
			}
			v, err := decode(it.Key(), it.Value())
			if err != nil {
				fail(fmt.Errorf("key %x: %w", it.Key(), err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := errors.Join(it.Error(), ctx.Err()); err != nil {
			fail(err)
		}
	}
}
