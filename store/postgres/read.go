package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// notFound turns pgx.ErrNoRows into an error wrapping ErrNotFound.
func notFound(err error, what string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf(what+": %w", append(args, heistgraph.ErrNotFound)...)
	}
	return fmt.Errorf(what+": %w", append(args, err)...)
}

// Tip returns the highest stored block of chain.
func (db *DB) Tip(ctx context.Context, chain heistgraph.Chain) (heistgraph.BlockRef, error) {
	var ref heistgraph.BlockRef
	var hash []byte
	err := db.pool.QueryRow(ctx, "SELECT hash, height, time FROM blocks WHERE chain = $1 ORDER BY height DESC LIMIT 1", string(chain)).Scan(&hash, &ref.Height, &ref.Time)
	if err != nil {
		return heistgraph.BlockRef{}, notFound(err, "tip of %s", chain)
	}
	ref.Hash = toHash(hash)
	return ref, nil
}

const blockCols = "hash, prev_hash, merkle_root, height, time, version, bits, nonce, size"

// BlockByHeight returns the block stored at height.
func (db *DB) BlockByHeight(ctx context.Context, chain heistgraph.Chain, height int64) (heistgraph.BlockInfo, error) {
	bi, err := db.block(ctx, chain, "SELECT "+blockCols+" FROM blocks WHERE chain = $1 AND height = $2", string(chain), height)
	if err != nil {
		return bi, notFound(err, "%s block at height %d", chain, height)
	}
	return bi, nil
}

// BlockByHash returns a stored block by hash.
func (db *DB) BlockByHash(ctx context.Context, chain heistgraph.Chain, hash heistgraph.Hash) (heistgraph.BlockInfo, error) {
	bi, err := db.block(ctx, chain, "SELECT "+blockCols+" FROM blocks WHERE chain = $1 AND hash = $2", string(chain), hash[:])
	if err != nil {
		return bi, notFound(err, "%s block %s", chain, hash)
	}
	return bi, nil
}

func (db *DB) block(ctx context.Context, chain heistgraph.Chain, query string, args ...any) (heistgraph.BlockInfo, error) {
	bi := heistgraph.BlockInfo{Chain: chain, TxIDs: []heistgraph.Hash{}}
	var hash, prev, merkle []byte
	var bits, nonce, size int64
	if err := db.pool.QueryRow(ctx, query, args...).Scan(&hash, &prev, &merkle, &bi.Height, &bi.Time, &bi.Version, &bits, &nonce, &size); err != nil {
		return heistgraph.BlockInfo{}, err
	}
	bi.Hash, bi.PrevHash, bi.MerkleRoot = toHash(hash), toHash(prev), toHash(merkle)
	bi.Bits, bi.Nonce, bi.Size = uint32(bits), uint32(nonce), int(size)
	rows, err := db.pool.Query(ctx, "SELECT txid FROM txs WHERE chain = $1 AND height = $2 ORDER BY idx", string(chain), bi.Height)
	if err != nil {
		return heistgraph.BlockInfo{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var txid []byte
		if err := rows.Scan(&txid); err != nil {
			return heistgraph.BlockInfo{}, err
		}
		bi.TxIDs = append(bi.TxIDs, toHash(txid))
	}
	return bi, rows.Err()
}

// The resolution rules every read shares: of several stored instances of
// one output (a txid mined twice, BIP30), the one in the highest block
// counts; of several stored spenders of one output (a stale block kept
// beside the chain), the one in the highest block, then the lowest txid
// and input index.
const (
	latestOutput = `SELECT o.value, o.script, o.type, o.address, o.keys FROM outputs o
		WHERE o.chain = i.chain AND o.txid = i.prev_txid AND o.vout = i.prev_vout ORDER BY o.height DESC LIMIT 1`
	latestSpender = `SELECT s.txid, s.vin FROM inputs s
		WHERE s.chain = o.chain AND s.prev_txid = o.txid AND s.prev_vout = o.vout ORDER BY s.height DESC, s.txid, s.vin LIMIT 1`
)

// Tx returns the stored transaction txid (its latest instance), with
// prevouts, fee and spenders resolved.
func (db *DB) Tx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.Hash) (heistgraph.TxRecord, error) {
	tr := heistgraph.TxRecord{Chain: chain}
	var wtxid, bhash []byte
	var locktime, size, weight int64
	// The three reads go in one round trip: the inputs and outputs name
	// the latest instance's height by a subquery rather than waiting for
	// the first answer.
	args := []any{string(chain), txid[:]}
	const latest = `(SELECT max(height) FROM txs WHERE chain = $1 AND txid = $2)`
	batch := &pgx.Batch{}
	batch.Queue(`SELECT t.idx, t.wtxid, t.version, t.locktime, t.size, t.weight, b.hash, b.height, b.time
		FROM txs t JOIN blocks b ON b.chain = t.chain AND b.height = t.height
		WHERE t.chain = $1 AND t.txid = $2 ORDER BY t.height DESC LIMIT 1`, args...)
	batch.Queue(`SELECT i.prev_txid, i.prev_vout, i.sequence, i.coinbase, p.value, p.script, p.type, p.address, p.keys
		FROM inputs i LEFT JOIN LATERAL (`+latestOutput+`) p ON NOT i.coinbase
		WHERE i.chain = $1 AND i.txid = $2 AND i.height = `+latest+` ORDER BY i.vin`, args...)
	batch.Queue(`SELECT o.value, o.script, o.type, o.address, o.keys, sp.txid, sp.vin
		FROM outputs o LEFT JOIN LATERAL (`+latestSpender+`) sp ON true
		WHERE o.chain = $1 AND o.txid = $2 AND o.height = `+latest+` ORDER BY o.vout`, args...)
	br := db.pool.SendBatch(ctx, batch)
	defer br.Close()
	err := br.QueryRow().Scan(&tr.Index, &wtxid, &tr.Tx.Version, &locktime, &size, &weight, &bhash, &tr.Block.Height, &tr.Block.Time)
	if err != nil {
		return heistgraph.TxRecord{}, notFound(err, "%s tx %s", chain, txid)
	}
	tr.Tx.TxID, tr.Tx.WTxID, tr.Block.Hash = txid, toHash(wtxid), toHash(bhash)
	tr.Tx.LockTime, tr.Tx.Size, tr.Tx.Weight = uint32(locktime), int(size), int(weight)

	rows, err := br.Query()
	if err != nil {
		return heistgraph.TxRecord{}, fmt.Errorf("%s tx %s inputs: %w", chain, txid, err)
	}
	tr.FeeKnown = true
	var in int64
	for rows.Next() {
		var ti heistgraph.TxIn
		var prev []byte
		var vout, seq int64
		var value *int64
		var script []byte
		var typ, addr *string
		var keys []string
		if err := rows.Scan(&prev, &vout, &seq, &ti.Coinbase, &value, &script, &typ, &addr, &keys); err != nil {
			rows.Close()
			return heistgraph.TxRecord{}, err
		}
		ti.PrevOut = heistgraph.Outpoint{TxID: toHash(prev), Vout: uint32(vout)}
		ti.Sequence = uint32(seq)
		tr.Tx.Inputs = append(tr.Tx.Inputs, ti)
		if value == nil {
			tr.Prevouts = append(tr.Prevouts, nil)
			if !ti.Coinbase {
				tr.FeeKnown = false
			}
			continue
		}
		in += *value
		tr.Prevouts = append(tr.Prevouts, &heistgraph.TxOut{Value: *value, Script: script, Type: heistgraph.ScriptType(*typ), Address: *addr, Keys: keys})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return heistgraph.TxRecord{}, fmt.Errorf("%s tx %s inputs: %w", chain, txid, err)
	}

	rows, err = br.Query()
	if err != nil {
		return heistgraph.TxRecord{}, fmt.Errorf("%s tx %s outputs: %w", chain, txid, err)
	}
	defer rows.Close()
	for rows.Next() {
		var o heistgraph.TxOut
		var typ string
		var spender []byte
		var vin *int64
		if err := rows.Scan(&o.Value, &o.Script, &typ, &o.Address, &o.Keys, &spender, &vin); err != nil {
			return heistgraph.TxRecord{}, err
		}
		o.Type = heistgraph.ScriptType(typ)
		tr.Tx.Outputs = append(tr.Tx.Outputs, o)
		tr.SpentBy = append(tr.SpentBy, inpoint(spender, vin))
	}
	if err := rows.Err(); err != nil {
		return heistgraph.TxRecord{}, fmt.Errorf("%s tx %s outputs: %w", chain, txid, err)
	}
	if tr.Tx.IsCoinbase() {
		tr.Fee, tr.FeeKnown = 0, true
	} else if tr.FeeKnown {
		tr.Fee = in - tr.Tx.OutputSum()
	} else {
		tr.Fee = 0
	}
	return tr, nil
}

func inpoint(txid []byte, vin *int64) *heistgraph.Inpoint {
	if vin == nil {
		return nil
	}
	return &heistgraph.Inpoint{TxID: toHash(txid), Vin: uint32(*vin)}
}

// Output returns the latest stored instance of op and its spender.
func (db *DB) Output(ctx context.Context, chain heistgraph.Chain, op heistgraph.Outpoint) (heistgraph.Output, error) {
	out := heistgraph.Output{Chain: chain, Outpoint: op}
	var typ string
	var bhash, spender []byte
	var vin *int64
	err := db.pool.QueryRow(ctx, `SELECT o.value, o.script, o.type, o.address, o.keys, b.hash, b.height, b.time, sp.txid, sp.vin
		FROM outputs o JOIN blocks b ON b.chain = o.chain AND b.height = o.height
		LEFT JOIN LATERAL (`+latestSpender+`) sp ON true
		WHERE o.chain = $1 AND o.txid = $2 AND o.vout = $3 ORDER BY o.height DESC LIMIT 1`, string(chain), op.TxID[:], int64(op.Vout)).
		Scan(&out.Value, &out.Script, &typ, &out.Address, &out.Keys, &bhash, &out.Block.Height, &out.Block.Time, &spender, &vin)
	if err != nil {
		return heistgraph.Output{}, notFound(err, "%s output %s", chain, op)
	}
	out.Type = heistgraph.ScriptType(typ)
	out.Block.Hash = toHash(bhash)
	out.SpentBy = inpoint(spender, vin)
	return out, nil
}

// addressEvents is the query of an address's events ($1 chain, $2
// address, $3 and $4 the height range): every stored output paying it
// (kind 0) and every stored input spending one of them (kind 1, counted
// once however many instances of the output are stored), with the
// position of the event's transaction in its block. Its conditions repeat
// the predicate of the partial index outputs_address (a non-empty
// address), so that a generic plan of the prepared statement can use it.
const addressEvents = `
	SELECT 0 AS kind, o.txid AS out_txid, o.vout, o.txid, o.vout AS n, o.value, o.height, t.idx
	FROM outputs o JOIN txs t ON t.chain = o.chain AND t.txid = o.txid AND t.height = o.height
	WHERE o.chain = $1 AND o.address = $2 AND o.address <> '' AND o.height BETWEEN $3 AND $4
	UNION ALL
	SELECT * FROM (
		SELECT DISTINCT ON (i.txid, i.vin, i.height) 1, o.txid, o.vout, i.txid, i.vin, o.value, i.height, t.idx
		FROM outputs o
		JOIN inputs i ON i.chain = o.chain AND i.prev_txid = o.txid AND i.prev_vout = o.vout
		JOIN txs t ON t.chain = i.chain AND t.txid = i.txid AND t.height = i.height
		WHERE o.chain = $1 AND o.address = $2 AND o.address <> '' AND i.height BETWEEN $3 AND $4
		ORDER BY i.txid, i.vin, i.height, o.height DESC
	) s`

// addressTotals are addr's events as addressEvents has them, without the
// position of each transaction in its block: the totals need no order, and
// leaving out the two lookups of txs per event halves what Address reads.
const addressTotals = `
	SELECT 0 AS kind, o.txid, o.value, o.height
	FROM outputs o
	WHERE o.chain = $1 AND o.address = $2 AND o.address <> ''
	UNION ALL
	SELECT * FROM (
		SELECT DISTINCT ON (i.txid, i.vin, i.height) 1, i.txid, o.value, i.height
		FROM outputs o
		JOIN inputs i ON i.chain = o.chain AND i.prev_txid = o.txid AND i.prev_vout = o.vout
		WHERE o.chain = $1 AND o.address = $2 AND o.address <> ''
		ORDER BY i.txid, i.vin, i.height, o.height DESC
	) s`

const maxHeight = int64(1) << 62

// Address returns the totals of addr, computed from its events.
func (db *DB) Address(ctx context.Context, chain heistgraph.Chain, addr string) (heistgraph.AddressSummary, error) {
	s := heistgraph.AddressSummary{Chain: chain, Address: addr}
	var first, last *int64
	err := db.pool.QueryRow(ctx, `WITH ev AS (`+addressTotals+`)
		SELECT coalesce(sum(value) FILTER (WHERE kind = 0), 0)::bigint, coalesce(sum(value) FILTER (WHERE kind = 1), 0)::bigint,
			count(DISTINCT (txid, height)), count(*) FILTER (WHERE kind = 0), count(*) FILTER (WHERE kind = 1),
			min(height), max(height)
		FROM ev`, string(chain), addr).
		Scan(&s.Received, &s.Sent, &s.TxCount, &s.OutputCount, &s.SpendCount, &first, &last)
	if err != nil {
		return heistgraph.AddressSummary{}, fmt.Errorf("%s address %s: %w", chain, addr, err)
	}
	if first == nil {
		return heistgraph.AddressSummary{}, fmt.Errorf("%s address %s: %w", chain, addr, heistgraph.ErrNotFound)
	}
	s.FirstHeight, s.LastHeight = *first, *last
	err = db.pool.QueryRow(ctx, `SELECT (SELECT time FROM blocks WHERE chain = $1 AND height = $2), (SELECT time FROM blocks WHERE chain = $1 AND height = $3)`,
		string(chain), s.FirstHeight, s.LastHeight).Scan(&s.FirstSeen, &s.LastSeen)
	if err != nil {
		return heistgraph.AddressSummary{}, fmt.Errorf("%s address %s: %w", chain, addr, err)
	}
	return s, nil
}

// AddressHistory streams addr's events in chain order from one query.
func (db *DB) AddressHistory(ctx context.Context, chain heistgraph.Chain, addr string, opts store.HistoryOptions) iter.Seq2[heistgraph.AddressEvent, error] {
	return func(yield func(heistgraph.AddressEvent, error) bool) {
		if opts.FromHeight < 0 || opts.ToHeight < 0 {
			yield(heistgraph.AddressEvent{}, fmt.Errorf("history of %s: heights %d to %d: %w", addr, opts.FromHeight, opts.ToHeight, heistgraph.ErrInvalid))
			return
		}
		to := opts.ToHeight
		if to == 0 {
			to = maxHeight
		}
		rows, err := db.pool.Query(ctx, `SELECT ev.kind, ev.out_txid, ev.vout, ev.txid, ev.n, ev.value, b.hash, b.height, b.time
			FROM (`+addressEvents+`) ev JOIN blocks b ON b.chain = $1 AND b.height = ev.height
			ORDER BY ev.height, ev.idx, ev.kind, ev.n`, string(chain), addr, opts.FromHeight, to)
		if err != nil {
			yield(heistgraph.AddressEvent{}, fmt.Errorf("history of %s: %w", addr, err))
			return
		}
		stream(ctx, rows, func(ev heistgraph.AddressEvent, err error) bool {
			if err != nil {
				err = fmt.Errorf("history of %s: %w", addr, err)
			}
			return yield(ev, err)
		}, func(rows pgx.Rows) (heistgraph.AddressEvent, error) {
			var ev heistgraph.AddressEvent
			var kind int
			var outTxid, txid, bhash []byte
			var vout, n int64
			err := rows.Scan(&kind, &outTxid, &vout, &txid, &n, &ev.Amount, &bhash, &ev.Block.Height, &ev.Block.Time)
			ev.Kind = heistgraph.AddressEventKind(kind)
			ev.Outpoint = heistgraph.Outpoint{TxID: toHash(outTxid), Vout: uint32(vout)}
			ev.TxID, ev.Index, ev.Block.Hash = toHash(txid), uint32(n), toHash(bhash)
			return ev, err
		})
	}
}

// stream yields the rows of a query, each decoded by scan, and closes
// rows. A failed scan, a cancelled ctx (checked after each row) or a
// query error ends the sequence with one error.
func stream[T any](ctx context.Context, rows pgx.Rows, yield func(T, error) bool, scan func(pgx.Rows) (T, error)) {
	defer rows.Close()
	var zero T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			yield(zero, err)
			return
		}
		if !yield(v, nil) {
			return
		}
		if err := ctx.Err(); err != nil {
			yield(zero, err)
			return
		}
	}
	if err := rows.Err(); err != nil {
		yield(zero, err)
	}
}

// Digest hashes the rows stored for chain, table by table in primary key
// order, in PostgreSQL's text form. Derived data is not stored, so the
// rows are the logical content.
func (db *DB) Digest(ctx context.Context, chain heistgraph.Chain) (heistgraph.Hash, error) {
	h := sha256.New()
	for _, q := range []string{
		"SELECT t::text FROM blocks t WHERE chain = $1 ORDER BY height",
		"SELECT t::text FROM txs t WHERE chain = $1 ORDER BY txid, height",
		"SELECT t::text FROM outputs t WHERE chain = $1 ORDER BY txid, vout, height",
		"SELECT t::text FROM inputs t WHERE chain = $1 ORDER BY txid, vin, height",
		"SELECT t::text FROM account_blocks t WHERE chain = $1 ORDER BY height",
		"SELECT t::text FROM account_txs t WHERE chain = $1 ORDER BY hash",
		"SELECT t::text FROM account_transfers t WHERE chain = $1 ORDER BY height, seq",
		"SELECT t::text FROM account_events t WHERE chain = $1 ORDER BY addr, height, seq",
		"SELECT t::text FROM account_logs t WHERE chain = $1 ORDER BY height, log_index",
	} {
		rows, err := db.pool.Query(ctx, q, string(chain))
		if err != nil {
			return heistgraph.Hash{}, fmt.Errorf("digest of %s: %w", chain, err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return heistgraph.Hash{}, fmt.Errorf("digest of %s: %w", chain, err)
			}
			h.Write([]byte(line))
			h.Write([]byte{'\n'})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return heistgraph.Hash{}, fmt.Errorf("digest of %s: %w", chain, err)
		}
		h.Write([]byte{0})
	}
	var d heistgraph.Hash
	h.Sum(d[:0])
	return d, nil
}
