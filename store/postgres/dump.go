package postgres

import (
	"context"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var (
	_ store.Enumerator    = (*DB)(nil)
	_ store.AccountLedger = (*DB)(nil)
)

// BlockHeights implements store.Enumerator.
func (db *DB) BlockHeights(ctx context.Context, chain heistgraph.Chain) iter.Seq2[int64, error] {
	table := "blocks"
	if !chain.IsUTXO() {
		table = "account_blocks"
	}
	return enumerate(ctx, db, chain, "block heights", "SELECT height FROM "+table+" WHERE chain = $1 ORDER BY height",
		func(r pgx.Rows) (int64, error) {
			var h int64
			return h, r.Scan(&h)
		})
}

// Addresses implements store.Enumerator: the addresses of the chain's
// outputs (Address counts an address's received and spent outputs).
func (db *DB) Addresses(ctx context.Context, chain heistgraph.Chain) iter.Seq2[string, error] {
	return enumerate(ctx, db, chain, "addresses", "SELECT DISTINCT address FROM outputs WHERE chain = $1 AND address <> ''",
		func(r pgx.Rows) (string, error) {
			var a string
			return a, r.Scan(&a)
		})
}

// Accounts implements store.Enumerator: the addresses with history.
func (db *DB) Accounts(ctx context.Context, chain heistgraph.Chain) iter.Seq2[heistgraph.EVMAddress, error] {
	return enumerate(ctx, db, chain, "accounts", "SELECT DISTINCT addr FROM account_events WHERE chain = $1",
		func(r pgx.Rows) (heistgraph.EVMAddress, error) {
			var a []byte
			if err := r.Scan(&a); err != nil {
				return heistgraph.EVMAddress{}, err
			}
			if len(a) != len(heistgraph.EVMAddress{}) {
				return heistgraph.EVMAddress{}, fmt.Errorf("address of %d bytes", len(a))
			}
			return heistgraph.EVMAddress(a), nil
		})
}

// Tokens implements store.Enumerator.
func (db *DB) Tokens(ctx context.Context, chain heistgraph.Chain) iter.Seq2[heistgraph.TokenInfo, error] {
	return enumerate(ctx, db, chain, "tokens", "SELECT address, symbol, decimals, known FROM tokens WHERE chain = $1",
		func(r pgx.Rows) (heistgraph.TokenInfo, error) {
			t := heistgraph.TokenInfo{Chain: chain}
			var a []byte
			var dec int16
			if err := r.Scan(&a, &t.Symbol, &dec, &t.Known); err != nil {
				return t, err
			}
			t.Address, t.Decimals = heistgraph.EVMAddress(a), uint8(dec)
			return t, nil
		})
}

// enumerate streams the rows of query (whose one parameter is chain).
func enumerate[T any](ctx context.Context, db *DB, chain heistgraph.Chain, what, query string, scan func(pgx.Rows) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		rows, err := db.pool.Query(ctx, query, string(chain))
		if err != nil {
			var zero T
			yield(zero, fmt.Errorf("%s of %s: %w", what, chain, err))
			return
		}
		stream(ctx, rows, func(v T, err error) bool {
			if err != nil {
				err = fmt.Errorf("%s of %s: %w", what, chain, err)
			}
			return yield(v, err)
		}, scan)
	}
}

// AccountLedger implements store.AccountLedger: the block, then its
// ledger in one query (the package dump reads whole ledgers with it).
func (db *DB) AccountLedger(ctx context.Context, chain heistgraph.Chain, height int64) (store.AccountBlockInfo, []heistgraph.Transfer, error) {
	var bi store.AccountBlockInfo
	var ledger []heistgraph.Transfer
	err := func() error {
		var err error
		if bi, err = db.accountBlock(ctx, chain, "height = $2", height); err != nil {
			return err
		}
		rows, err := db.pool.Query(ctx, "SELECT "+transferCols+" FROM account_transfers WHERE chain = $1 AND height = $2 ORDER BY seq", string(chain), height)
		if err != nil {
			return err
		}
		ledger, err = collect(rows, scanTransfer)
		return err
	}()
	if err != nil {
		return store.AccountBlockInfo{}, nil, notFound(err, "ledger of %s block %d", chain, height)
	}
	return bi, ledger, nil
}
