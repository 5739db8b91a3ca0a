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

// checkBlock reports a block ApplyBlock refuses before writing anything:
// nil, without a chain, at a negative height, or listing a tx twice.
func checkBlock(b *heistgraph.Block) error {
	switch {
	case b == nil:
		return fmt.Errorf("apply block: nil block: %w", heistgraph.ErrInvalid)
	case b.Chain == "":
		return fmt.Errorf("apply block %s: no chain: %w", b.Hash, heistgraph.ErrInvalid)
	case b.Height < 0:
		return fmt.Errorf("apply block %s: height %d: %w", b.Hash, b.Height, heistgraph.ErrInvalid)
	}
	seen := make(map[heistgraph.Hash]int, len(b.Txs))
	for i := range b.Txs {
		id := b.Txs[i].TxID
		if j, dup := seen[id]; dup {
			return fmt.Errorf("apply %s block %d %s: tx %s at positions %d and %d: %w", b.Chain, b.Height, b.Hash, id, j, i, heistgraph.ErrInvalid)
		}
		seen[id] = i
	}
	return nil
}

// ApplyBlock writes b (its block row, transactions, outputs and inputs) in
// one transaction, loading the rows with COPY. See store.ChainWriter.
func (db *DB) ApplyBlock(ctx context.Context, b *heistgraph.Block) error {
	if err := checkBlock(b); err != nil {
		return err
	}
	err := db.inTx(ctx, b.Chain, func(tx pgx.Tx) error {
		stored, err := db.conflict(ctx, tx, b)
		if err != nil || stored {
			return err
		}
		return insertBlocks(ctx, tx, []*heistgraph.Block{b})
	})
	if err != nil {
		return fmt.Errorf("apply %s block %d %s: %w", b.Chain, b.Height, b.Hash, err)
	}
	db.wrote(ctx, rowsOf(b))
	return nil
}

// ApplyBlocks writes bs in one transaction, every table's rows of all of
// them loaded with one COPY: what a commit costs (a round trip and a WAL
// flush) is paid once a batch. The checkpoint (the highest stored height)
// is in the same transaction. When a block of bs conflicts with a stored
// one or with an earlier block of bs, the blocks are applied one at a time
// instead, so that those before it are applied and its error is
// ApplyBlock's. See store.BlockBatcher.
func (db *DB) ApplyBlocks(ctx context.Context, bs []*heistgraph.Block) (int, error) {
	if len(bs) == 0 {
		return 0, nil
	}
	for i, b := range bs {
		err := checkBlock(b)
		if err == nil && b.Chain != bs[0].Chain {
			err = fmt.Errorf("apply blocks: %s block %d %s in a batch of %s: %w", b.Chain, b.Height, b.Hash, bs[0].Chain, heistgraph.ErrInvalid)
		}
		if err != nil {
			// A malformed batch writes nothing.
			return 0, fmt.Errorf("apply blocks: block %d of the batch: %w", i, err)
		}
	}
	chain := bs[0].Chain
	var todo []*heistgraph.Block
	conflict := false
	err := db.inTx(ctx, chain, func(tx pgx.Tx) error {
		var err error
		todo, conflict, err = newBlocks(ctx, tx, bs)
		if err != nil || conflict || len(todo) == 0 {
			return err
		}
		return insertBlocks(ctx, tx, todo)
	})
	if err != nil {
		return 0, fmt.Errorf("apply %s blocks %d-%d: %w", chain, bs[0].Height, bs[len(bs)-1].Height, err)
	}
	if conflict {
		for i, b := range bs {
			if err := db.ApplyBlock(ctx, b); err != nil {
				return i, err
			}
		}
		return len(bs), nil
	}
	var rows int64
	for _, b := range todo {
		rows += rowsOf(b)
	}
	db.wrote(ctx, rows)
	return len(bs), nil
}

// newBlocks returns the blocks of bs not stored yet, in order, or conflict
// when a block of bs holds a height another block holds (stored or earlier
// in bs), or is stored at another height: what ApplyBlock would find
// applying them one at a time.
func newBlocks(ctx context.Context, tx pgx.Tx, bs []*heistgraph.Block) (todo []*heistgraph.Block, conflict bool, err error) {
	heights := make([]int64, len(bs))
	hashes := make([][]byte, len(bs))
	for i, b := range bs {
		heights[i], hashes[i] = b.Height, b.Hash[:]
	}
	rows, err := tx.Query(ctx, "SELECT height, hash FROM blocks WHERE chain = $1 AND (height = ANY($2) OR hash = ANY($3))", string(bs[0].Chain), heights, hashes)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	byHeight := make(map[int64]heistgraph.Hash)
	byHash := make(map[heistgraph.Hash]int64)
	for rows.Next() {
		var h int64
		var hash []byte
		if err := rows.Scan(&h, &hash); err != nil {
			return nil, false, err
		}
		byHeight[h], byHash[toHash(hash)] = toHash(hash), h
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	for _, b := range bs {
		hash, at := byHeight[b.Height]
		h, known := byHash[b.Hash]
		switch {
		case at && hash == b.Hash:
			continue // stored: a no-op
		case at || known && h != b.Height:
			return nil, true, nil
		}
		byHeight[b.Height], byHash[b.Hash] = b.Hash, b.Height
		todo = append(todo, b)
	}
	return todo, false, nil
}

// rowsOf counts the rows b adds to the chain tables.
func rowsOf(b *heistgraph.Block) int64 {
	n := int64(1 + len(b.Txs))
	for i := range b.Txs {
		n += int64(len(b.Txs[i].Inputs) + len(b.Txs[i].Outputs))
	}
	return n
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

// insertBlocks writes bs (checked, none stored, heights and hashes free) in tx,
// loading every table's rows of all of them with one COPY each.
func insertBlocks(ctx context.Context, tx pgx.Tx, bs []*heistgraph.Block) error {
	chain := string(bs[0].Chain)
	if _, err := tx.Exec(ctx, "INSERT INTO chains (chain) VALUES ($1) ON CONFLICT DO NOTHING", chain); err != nil {
		return err
	}
	var blockRows, txRows, outRows, inRows [][]any
	for _, b := range bs {
		blockRows = append(blockRows, []any{chain, b.Height, b.Hash[:], b.PrevHash[:], b.MerkleRoot[:], b.Time, b.Version, int64(b.Bits), int64(b.Nonce), int64(b.Size)})
		for i := range b.Txs {
			t := &b.Txs[i]
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
	}
	copies := []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"blocks", []string{"chain", "height", "hash", "prev_hash", "merkle_root", "time", "version", "bits", "nonce", "size"}, blockRows},
		{"txs", []string{"chain", "txid", "height", "idx", "wtxid", "version", "locktime", "size", "weight"}, txRows},
		{"outputs", []string{"chain", "txid", "vout", "height", "value", "script", "type", "address", "keys"}, outRows},
		{"inputs", []string{"chain", "txid", "vin", "height", "prev_txid", "prev_vout", "sequence", "coinbase"}, inRows},
	}
	for _, c := range copies {
		if len(c.rows) == 0 {
			continue
		}
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
