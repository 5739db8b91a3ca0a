package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph"
)

// chainLock returns the advisory lock key that serializes the writers of
// chain, in this process and others.
func chainLock(chain heistgraph.Chain) int64 {
	h := fnv.New64a()
	h.Write([]byte("chain/" + chain))
	return int64(h.Sum64())
}

// inTx runs fn in one transaction holding chain's writer lock.
func (db *DB) inTx(ctx context.Context, chain heistgraph.Chain, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", chainLock(chain)); err != nil {
			return err
		}
		return fn(tx)
	})
}

// ApplyBlock writes b (its block row, transactions, outputs and inputs) in
// one transaction, loading the rows with COPY. See store.ChainWriter.
func (db *DB) ApplyBlock(ctx context.Context, b *heistgraph.Block) error {
	switch {
	case b == nil:
		return fmt.Errorf("apply block: nil block: %w", heistgraph.ErrInvalid)
	case b.Chain == "":
		return fmt.Errorf("apply block %s: no chain: %w", b.Hash, heistgraph.ErrInvalid)
	case b.Height < 0:
		return fmt.Errorf("apply block %s: height %d: %w", b.Hash, b.Height, heistgraph.ErrInvalid)
	}
	err := db.inTx(ctx, b.Chain, func(tx pgx.Tx) error {
		stored, err := db.conflict(ctx, tx, b)
		if err != nil || stored {
			return err
		}
		return insertBlock(ctx, tx, b)
	})
	if err != nil {
		return fmt.Errorf("apply %s block %d %s: %w", b.Chain, b.Height, b.Hash, err)
	}
	return nil
}

// conflict reports whether b is stored already (a no-op), or an error
// wrapping ErrConflict when another block holds its height or it is stored
// at another height.
func (db *DB) conflict(ctx context.Context, tx pgx.Tx, b *heistgraph.Block) (stored bool, err error) {
	rows, err := tx.Query(ctx, "SELECT height, hash FROM blocks WHERE chain = $1 AND (height = $2 OR hash = $3)", string(b.Chain), b.Height, b.Hash[:])
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var h int64
		var hash []byte
		if err := rows.Scan(&h, &hash); err != nil {
			return false, err
		}
		switch {
		case h == b.Height && bytes.Equal(hash, b.Hash[:]):
			stored = true
		case h == b.Height:
			return false, fmt.Errorf("another block %s is stored at height %d (rewind first): %w", toHash(hash), h, heistgraph.ErrConflict)
		default:
			return false, fmt.Errorf("the block is stored at height %d: %w", h, heistgraph.ErrConflict)
		}
	}
	return stored, rows.Err()
}

// toHash converts a stored hash.
func toHash(b []byte) heistgraph.Hash {
	var h heistgraph.Hash
	copy(h[:], b)
	return h
}

func insertBlock(ctx context.Context, tx pgx.Tx, b *heistgraph.Block) error {
	chain := string(b.Chain)
	if _, err := tx.Exec(ctx, "INSERT INTO chains (chain) VALUES ($1) ON CONFLICT DO NOTHING", chain); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO blocks (chain, height, hash, prev_hash, merkle_root, time, version, bits, nonce, size)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		chain, b.Height, b.Hash[:], b.PrevHash[:], b.MerkleRoot[:], b.Time, b.Version, int64(b.Bits), int64(b.Nonce), int64(b.Size)); err != nil {
		return err
	}
	var txRows, outRows, inRows [][]any
	seen := make(map[heistgraph.Hash]int, len(b.Txs))
	for i := range b.Txs {
		t := &b.Txs[i]
		if j, dup := seen[t.TxID]; dup {
			return fmt.Errorf("tx %s at positions %d and %d: %w", t.TxID, j, i, heistgraph.ErrInvalid)
		}
		seen[t.TxID] = i
		txRows = append(txRows, []any{chain, t.TxID[:], b.Height, int32(i), t.WTxID[:], t.Version, int64(t.LockTime), int64(t.Size), int64(t.Weight)})
		for n := range t.Outputs {
			o := &t.Outputs[n]
			outRows = append(outRows, []any{chain, t.TxID[:], int64(n), b.Height, o.Value, o.Script, string(o.Type), o.Address, o.Keys})
		}
		for n := range t.Inputs {
			in := &t.Inputs[n]
			inRows = append(inRows, []any{chain, t.TxID[:], int64(n), b.Height, in.PrevOut.TxID[:], int64(in.PrevOut.Vout), int64(in.Sequence), in.Coinbase})
		}
	}
	copies := []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"txs", []string{"chain", "txid", "height", "idx", "wtxid", "version", "locktime", "size", "weight"}, txRows},
		{"outputs", []string{"chain", "txid", "vout", "height", "value", "script", "type", "address", "keys"}, outRows},
		{"inputs", []string{"chain", "txid", "vin", "height", "prev_txid", "prev_vout", "sequence", "coinbase"}, inRows},
	}
	for _, c := range copies {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
			return fmt.Errorf("copy %s: %w", c.table, err)
		}
	}
	return nil
}

// RewindTo deletes the blocks of chain above height, newest first, each in
// one transaction, with the links that have an end in them. Nothing
// derived from other blocks is stored, so deleting a block's rows restores
// exactly the state before it was applied.
func (db *DB) RewindTo(ctx context.Context, chain heistgraph.Chain, height int64) error {
	if height < -1 {
		return fmt.Errorf("rewind %s to height %d: %w", chain, height, heistgraph.ErrInvalid)
	}
	// Tables in delete order, the block table last.
	tables := []string{"inputs", "outputs", "txs", "blocks"}
	if chain.IsEVM() {
		tables = []string{"account_events", "account_logs", "account_transfers", "account_txs", "account_blocks"}
	}
	blocks := tables[len(tables)-1]
	for {
		var top int64
		err := db.pool.QueryRow(ctx, "SELECT height FROM "+blocks+" WHERE chain = $1 AND height > $2 ORDER BY height DESC LIMIT 1", string(chain), height).Scan(&top)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("rewind %s to height %d: %w", chain, height, err)
		}
		err = db.inTx(ctx, chain, func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			b.Queue("DELETE FROM links WHERE src_chain = $1 AND src_height = $2 OR dst_chain = $1 AND dst_height = $2", string(chain), top)
			for _, table := range tables {
				b.Queue("DELETE FROM "+table+" WHERE chain = $1 AND height = $2", string(chain), top)
			}
			return tx.SendBatch(ctx, b).Close()
		})
		if err != nil {
			return fmt.Errorf("rewind %s block %d: %w", chain, top, err)
		}
	}
}
