package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/big"

	"github.com/holiman/uint256"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var (
	_ store.AccountReader = (*DB)(nil)
	_ store.AccountWriter = (*DB)(nil)
)

// Account-model (EVM) chains are stored as facts, like Bitcoin's: one row
// per block (account_blocks), transaction (account_txs), ledger entry
// (account_transfers) and kept log (account_logs), and per ledger entry one
// row per address it credits or debits (account_events: the address's
// history, distributed by address), each carrying its block's height.
// Balances and summaries are sums over account_events computed when read
// (exact numeric sums, saturated to 256 bits when shown), so RewindTo is an
// exact undo by construction: it deletes the rewound blocks' rows.
// Amounts are numeric(78, 0); token metadata (tokens) is no block's and
// survives rewinds.

// checkAccountBlock reports a block the store refuses: not an account
// chain of the registry, a negative height, or a ledger or kept logs that
// contradict its transactions.
func checkAccountBlock(b *heistgraph.AccountBlock) error {
	if !b.Chain.IsEVM() || b.Height < 0 {
		return fmt.Errorf("want an account chain of the registry and a height >= 0: %w", heistgraph.ErrInvalid)
	}
	return store.CheckLedger(b)
}

// num converts an amount for a numeric column.
func num(v *uint256.Int) pgtype.Numeric {
	return pgtype.Numeric{Int: v.ToBig(), Valid: true}
}

// ApplyAccountBlock implements store.AccountWriter: one transaction, rows
// loaded with COPY, under the chain's writer lock.
func (db *DB) ApplyAccountBlock(ctx context.Context, b *heistgraph.AccountBlock) error {
	if b == nil {
		return fmt.Errorf("apply account block: nil block: %w", heistgraph.ErrInvalid)
	}
	where := func(err error) error {
		return fmt.Errorf("apply block %d %s on %q: %w", b.Height, b.Hash, b.Chain, err)
	}
	if err := checkAccountBlock(b); err != nil {
		return where(err)
	}
	err := db.inTx(ctx, b.Chain, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT height, hash FROM account_blocks WHERE chain = $1 AND (height = $2 OR hash = $3)", string(b.Chain), b.Height, b.Hash[:])
		if err != nil {
			return err
		}
		type stored struct {
			height int64
			hash   []byte
		}
		found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (stored, error) {
			var s stored
			return s, r.Scan(&s.height, &s.hash)
		})
		if err != nil {
			return err
		}
		for _, s := range found {
			switch {
			case s.height == b.Height && heistgraph.EVMHash(s.hash) == b.Hash:
				return nil // stored already: a no-op
			case s.height == b.Height:
				return fmt.Errorf("the height holds block %x (rewind first): %w", s.hash, heistgraph.ErrConflict)
			default:
				return fmt.Errorf("the block is stored at height %d: %w", s.height, heistgraph.ErrConflict)
			}
		}
		return insertAccountBlock(ctx, tx, b)
	})
	if err != nil {
		return where(err)
	}
	return nil
}

// insertAccountBlock writes the rows of b.
func insertAccountBlock(ctx context.Context, tx pgx.Tx, b *heistgraph.AccountBlock) error {
	c := string(b.Chain)
	if _, err := tx.Exec(ctx, "INSERT INTO chains (chain) VALUES ($1) ON CONFLICT DO NOTHING", c); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO account_blocks (chain, height, hash, parent_hash, time, fee_recipient, base_fee, gas_used, transfers, internal_known)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c, b.Height, b.Hash[:], b.ParentHash[:], b.Time, b.FeeRecipient[:], num(&b.BaseFee), int64(b.GasUsed), len(b.Transfers), b.InternalKnown); err != nil {
		return err
	}
	txRows := make([][]any, len(b.Txs))
	for i := range b.Txs {
		t := &b.Txs[i]
		txRows[i] = []any{c, t.Hash[:], b.Height, t.Index, int16(t.Type), t.From[:], t.To[:], t.Create, int64(t.Nonce), num(&t.Value),
			t.Selector[:], t.InputLen, int16(t.Status), int64(t.GasUsed), num(&t.EffectiveGasPrice), num(&t.Fee)}
	}
	if err := copyRows(ctx, tx, "account_txs", []string{"chain", "hash", "height", "idx", "type", "from_addr", "to_addr", "create_tx", "nonce", "value",
		"selector", "input_len", "status", "gas_used", "gas_price", "fee"}, txRows); err != nil {
		return fmt.Errorf("a transaction is stored in another block (rewind first): %w", err)
	}
	var xferRows, eventRows [][]any
	for seq := range b.Transfers {
		t := &b.Transfers[seq]
		xferRows = append(xferRows, []any{c, b.Height, int32(seq), int16(t.Kind), t.TxIndex, t.TxHash[:], t.From[:], t.To[:], t.Asset[:],
			num(&t.Amount), t.LogIndex, t.TracePath})
		credit, debit := t.Credits(), t.Debits()
		if credit && debit && t.From == t.To {
			eventRows = append(eventRows, []any{c, t.To[:], b.Height, int32(seq), t.TxIndex, true, true})
			continue
		}
		if credit {
			eventRows = append(eventRows, []any{c, t.To[:], b.Height, int32(seq), t.TxIndex, true, false})
		}
		if debit {
			eventRows = append(eventRows, []any{c, t.From[:], b.Height, int32(seq), t.TxIndex, false, true})
		}
	}
	logRows := make([][]any, len(b.Logs))
	for i := range b.Logs {
		l := &b.Logs[i]
		topics := make([][]byte, len(l.Topics))
		for j := range l.Topics {
			topics[j] = l.Topics[j][:]
		}
		logRows[i] = []any{c, b.Height, l.LogIndex, l.TxIndex, l.TxHash[:], l.Address[:], topics, nonNilBytes(l.Data)}
	}
	for _, cp := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"account_transfers", []string{"chain", "height", "seq", "kind", "tx_index", "tx_hash", "from_addr", "to_addr", "asset", "amount", "log_index", "trace_path"}, xferRows},
		{"account_events", []string{"chain", "addr", "height", "seq", "tx_index", "credit", "debit"}, eventRows},
		{"account_logs", []string{"chain", "height", "log_index", "tx_index", "tx_hash", "address", "topics", "data"}, logRows},
	} {
		if err := copyRows(ctx, tx, cp.table, cp.cols, cp.rows); err != nil {
			return err
		}
	}
	return nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// PutToken implements store.AccountWriter.
func (db *DB) PutToken(ctx context.Context, t heistgraph.TokenInfo) error {
	if !t.Chain.IsEVM() || t.Address.IsZero() {
		return fmt.Errorf("put token %s on %q: want an account chain of the registry and a contract address: %w", t.Address, t.Chain, heistgraph.ErrInvalid)
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue("INSERT INTO chains (chain) VALUES ($1) ON CONFLICT DO NOTHING", string(t.Chain))
		b.Queue(`INSERT INTO tokens (chain, address, symbol, decimals, known) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (chain, address) DO UPDATE SET symbol = excluded.symbol, decimals = excluded.decimals, known = excluded.known`,
			string(t.Chain), t.Address[:], t.Symbol, int16(t.Decimals), t.Known)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("put token %s on %s: %w", t.Address, t.Chain, err)
	}
	return nil
}

// Token implements store.AccountReader.
func (db *DB) Token(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress) (heistgraph.TokenInfo, error) {
	t := heistgraph.TokenInfo{Chain: chain, Address: addr}
	var dec int16
	err := db.pool.QueryRow(ctx, "SELECT symbol, decimals, known FROM tokens WHERE chain = $1 AND address = $2", string(chain), addr[:]).Scan(&t.Symbol, &dec, &t.Known)
	if err != nil {
		return heistgraph.TokenInfo{}, notFound(err, "token %s on %s", addr.Hex(), chain)
	}
	t.Decimals = uint8(dec)
	return t, nil
}

// AccountTip implements store.AccountReader.
func (db *DB) AccountTip(ctx context.Context, chain heistgraph.Chain) (heistgraph.AccountBlockRef, error) {
	var ref heistgraph.AccountBlockRef
	var hash []byte
	err := db.pool.QueryRow(ctx, "SELECT hash, height, time FROM account_blocks WHERE chain = $1 ORDER BY height DESC LIMIT 1", string(chain)).Scan(&hash, &ref.Height, &ref.Time)
	if err != nil {
		return heistgraph.AccountBlockRef{}, notFound(err, "tip of %s", chain)
	}
	ref.Hash = heistgraph.EVMHash(hash)
	return ref, nil
}

// AccountStored implements store.AccountReader.
func (db *DB) AccountStored(ctx context.Context, chain heistgraph.Chain) (store.AccountRange, error) {
	var r store.AccountRange
	var lo, hi *int64
	err := db.pool.QueryRow(ctx, "SELECT min(height), max(height), count(*) FROM account_blocks WHERE chain = $1", string(chain)).Scan(&lo, &hi, &r.Count)
	if err == nil && r.Count == 0 {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return store.AccountRange{}, notFound(err, "stored blocks of %s", chain)
	}
	r.Lowest, r.Highest = *lo, *hi
	return r, nil
}

// AccountBlockByHeight implements store.AccountReader.
func (db *DB) AccountBlockByHeight(ctx context.Context, chain heistgraph.Chain, height int64) (store.AccountBlockInfo, error) {
	bi, err := db.accountBlock(ctx, chain, "height = $2", height)
	if err != nil {
		return bi, notFound(err, "%s block at height %d", chain, height)
	}
	return bi, nil
}

// AccountBlockByHash implements store.AccountReader.
func (db *DB) AccountBlockByHash(ctx context.Context, chain heistgraph.Chain, hash heistgraph.EVMHash) (store.AccountBlockInfo, error) {
	bi, err := db.accountBlock(ctx, chain, "hash = $2", hash[:])
	if err != nil {
		return bi, notFound(err, "%s block %s", chain, hash)
	}
	return bi, nil
}

func (db *DB) accountBlock(ctx context.Context, chain heistgraph.Chain, cond string, arg any) (store.AccountBlockInfo, error) {
	bi := store.AccountBlockInfo{Chain: chain}
	var hash, parent, recipient []byte
	var baseFee string
	var gas int64
	var hashes [][]byte
	err := db.pool.QueryRow(ctx, `SELECT b.height, b.hash, b.parent_hash, b.time, b.fee_recipient, b.base_fee::text, b.gas_used, b.transfers, b.internal_known,
			array(SELECT t.hash FROM account_txs t WHERE t.chain = b.chain AND t.height = b.height ORDER BY t.idx)
		FROM account_blocks b WHERE b.chain = $1 AND b.`+cond, string(chain), arg).
		Scan(&bi.Height, &hash, &parent, &bi.Time, &recipient, &baseFee, &gas, &bi.Transfers, &bi.InternalKnown, &hashes)
	if err != nil {
		return store.AccountBlockInfo{}, err
	}
	bi.Hash, bi.ParentHash, bi.FeeRecipient, bi.GasUsed = heistgraph.EVMHash(hash), heistgraph.EVMHash(parent), heistgraph.EVMAddress(recipient), uint64(gas)
	if err := bi.BaseFee.SetFromDecimal(baseFee); err != nil {
		return store.AccountBlockInfo{}, err
	}
	bi.TxHashes = make([]heistgraph.EVMHash, len(hashes))
	for i, h := range hashes {
		bi.TxHashes[i] = heistgraph.EVMHash(h)
	}
	return bi, nil
}

// AccountTx implements store.AccountReader.
func (db *DB) AccountTx(ctx context.Context, chain heistgraph.Chain, hash heistgraph.EVMHash) (store.AccountTxRecord, error) {
	rec := store.AccountTxRecord{Chain: chain}
	err := db.readOnly(ctx, func(tx pgx.Tx) error {
		t := &rec.Tx
		var bhash, from, to, selector []byte
		var typ, status int16
		var nonce, gas int64
		var value, price, fee string
		err := tx.QueryRow(ctx, `SELECT t.idx, t.type, t.from_addr, t.to_addr, t.create_tx, t.nonce, t.value::text, t.selector, t.input_len,
				t.status, t.gas_used, t.gas_price::text, t.fee::text, b.hash, b.height, b.time, b.internal_known
			FROM account_txs t JOIN account_blocks b ON b.chain = t.chain AND b.height = t.height
			WHERE t.chain = $1 AND t.hash = $2`, string(chain), hash[:]).
			Scan(&t.Index, &typ, &from, &to, &t.Create, &nonce, &value, &selector, &t.InputLen,
				&status, &gas, &price, &fee, &bhash, &rec.Block.Height, &rec.Block.Time, &rec.InternalKnown)
		if err != nil {
			return err
		}
		t.Hash, t.Type, t.From, t.To, t.Nonce, t.Status, t.GasUsed = hash, uint8(typ), heistgraph.EVMAddress(from), heistgraph.EVMAddress(to), uint64(nonce), uint8(status), uint64(gas)
		copy(t.Selector[:], selector)
		rec.Block.Hash = heistgraph.EVMHash(bhash)
		if err := errors.Join(t.Value.SetFromDecimal(value), t.EffectiveGasPrice.SetFromDecimal(price), t.Fee.SetFromDecimal(fee)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+transferCols+" FROM account_transfers WHERE chain = $1 AND height = $2 AND tx_index = $3 ORDER BY seq",
			string(chain), rec.Block.Height, t.Index)
		if err != nil {
			return err
		}
		if rec.Transfers, err = collect(rows, scanTransfer); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, "SELECT "+logCols+" FROM account_logs WHERE chain = $1 AND height = $2 AND tx_index = $3 ORDER BY log_index",
			string(chain), rec.Block.Height, t.Index)
		if err != nil {
			return err
		}
		rec.Logs, err = collect(rows, scanLog)
		return err
	})
	if err != nil {
		return store.AccountTxRecord{}, notFound(err, "%s tx %s", chain, hash)
	}
	return rec, nil
}

// collect reads rows, each decoded by scan; nil when there are none.
func collect[T any](rows pgx.Rows, scan func(pgx.Rows) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

const transferCols = "kind, tx_index, tx_hash, from_addr, to_addr, asset, amount::text, log_index, trace_path"

func scanTransfer(r pgx.Rows) (heistgraph.Transfer, error) {
	var t heistgraph.Transfer
	var raw transferRaw
	if err := r.Scan(raw.dest(&t)...); err != nil {
		return t, err
	}
	return t, raw.finish(&t)
}

// transferRaw holds the columns of a transfer (transferCols) that need
// converting after a scan.
type transferRaw struct {
	kind                  int16
	hash, from, to, asset []byte
	amount                string
}

func (raw *transferRaw) dest(t *heistgraph.Transfer) []any {
	return []any{&raw.kind, &t.TxIndex, &raw.hash, &raw.from, &raw.to, &raw.asset, &raw.amount, &t.LogIndex, &t.TracePath}
}

func (raw *transferRaw) finish(t *heistgraph.Transfer) error {
	t.Kind, t.TxHash, t.From, t.To, t.Asset = heistgraph.TransferKind(raw.kind), heistgraph.EVMHash(raw.hash), heistgraph.EVMAddress(raw.from), heistgraph.EVMAddress(raw.to), heistgraph.Asset(raw.asset)
	return t.Amount.SetFromDecimal(raw.amount)
}

const logCols = "tx_index, tx_hash, log_index, address, topics, data"

func scanLog(r pgx.Rows) (heistgraph.EventLog, error) {
	var l heistgraph.EventLog
	var raw logRaw
	err := r.Scan(raw.dest(&l)...)
	raw.finish(&l)
	return l, err
}

// logRaw holds the columns of a log (logCols) that need converting after
// a scan.
type logRaw struct {
	hash, addr []byte
	topics     [][]byte
}

func (raw *logRaw) dest(l *heistgraph.EventLog) []any {
	return []any{&l.TxIndex, &raw.hash, &l.LogIndex, &raw.addr, &raw.topics, &l.Data}
}

func (raw *logRaw) finish(l *heistgraph.EventLog) {
	l.TxHash, l.Address = heistgraph.EVMHash(raw.hash), heistgraph.EVMAddress(raw.addr)
	for _, t := range raw.topics {
		l.Topics = append(l.Topics, heistgraph.EVMHash(t))
	}
	if len(l.Data) == 0 {
		l.Data = nil
	}
}

// maxU256 is 2^256-1, where shown sums saturate.
var maxU256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// saturate converts an exact sum to 256 bits, saturated; over reports a
// sum that did not fit.
func saturate(v *big.Int) (out uint256.Int, over bool) {
	if v.Cmp(maxU256) > 0 {
		out.SetAllOne()
		return out, true
	}
	out.SetFromBig(v)
	return out, false
}

// balanceOf turns exact sums into the reader's view: saturated sums, and a
// deficit instead of a negative balance.
func balanceOf(asset heistgraph.Asset, received, sent *big.Int, credits, debits int64) store.AccountBalance {
	b := store.AccountBalance{Asset: asset, Credits: credits, Debits: debits}
	var o1, o2, o3 bool
	b.Received, o1 = saturate(received)
	b.Sent, o2 = saturate(sent)
	net := new(big.Int).Sub(received, sent)
	if net.Sign() < 0 {
		b.Deficit, o3 = saturate(net.Neg(net))
		b.Incomplete = true
	} else {
		b.Balance, o3 = saturate(net)
	}
	b.Overflow = o1 || o2 || o3
	return b
}

// AccountSummary implements store.AccountReader: sums over the address's
// events, in one snapshot.
func (db *DB) AccountSummary(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress) (store.AccountSummary, error) {
	s := store.AccountSummary{Chain: chain, Address: addr}
	err := db.readOnly(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT count(*), count(DISTINCT (e.height, e.tx_index)) FILTER (WHERE e.tx_index >= 0),
				min(e.height), max(e.height)
			FROM account_events e WHERE e.chain = $1 AND e.addr = $2 HAVING count(*) > 0`, string(chain), addr[:]).
			Scan(&s.Transfers, &s.TxCount, &s.FirstHeight, &s.LastHeight)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT (SELECT time FROM account_blocks WHERE chain = $1 AND height = $2),
				(SELECT time FROM account_blocks WHERE chain = $1 AND height = $3)`, string(chain), s.FirstHeight, s.LastHeight).
			Scan(&s.FirstSeen, &s.LastSeen); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT t.asset, coalesce(sum(t.amount) FILTER (WHERE e.credit), 0)::text, coalesce(sum(t.amount) FILTER (WHERE e.debit), 0)::text,
				count(*) FILTER (WHERE e.credit), count(*) FILTER (WHERE e.debit)
			FROM account_events e JOIN account_transfers t ON t.chain = e.chain AND t.height = e.height AND t.seq = e.seq
			WHERE e.chain = $1 AND e.addr = $2 GROUP BY t.asset ORDER BY t.asset`, string(chain), addr[:])
		if err != nil {
			return err
		}
		s.Balances, err = collect(rows, func(r pgx.Rows) (store.AccountBalance, error) {
			var asset []byte
			var recv, sent string
			var credits, debits int64
			if err := r.Scan(&asset, &recv, &sent, &credits, &debits); err != nil {
				return store.AccountBalance{}, err
			}
			rv, ok1 := new(big.Int).SetString(recv, 10)
			sv, ok2 := new(big.Int).SetString(sent, 10)
			if !ok1 || !ok2 {
				return store.AccountBalance{}, fmt.Errorf("sums %q and %q", recv, sent)
			}
			return balanceOf(heistgraph.Asset(asset), rv, sv, credits, debits), nil
		})
		return err
	})
	if err != nil {
		return store.AccountSummary{}, notFound(err, "address %s on %s", addr.Hex(), chain)
	}
	return s, nil
}

// heightRange checks opts and returns its heights, the upper one
// maxHeight when open.
func heightRange(opts store.AccountHistoryOptions) (from, to int64, err error) {
	if opts.FromHeight < 0 || opts.ToHeight < 0 {
		return 0, 0, fmt.Errorf("heights %d to %d: %w", opts.FromHeight, opts.ToHeight, heistgraph.ErrInvalid)
	}
	to = opts.ToHeight
	if to == 0 {
		to = maxHeight
	}
	return opts.FromHeight, to, nil
}

// AccountHistory implements store.AccountReader.
func (db *DB) AccountHistory(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress, opts store.AccountHistoryOptions) iter.Seq2[store.AccountEvent, error] {
	what := "history of " + addr.Hex()
	from, to, err := heightRange(opts)
	if err != nil {
		return errorSeq[store.AccountEvent](fmt.Errorf("%s: %w", what, err))
	}
	var asset []byte
	if opts.Asset != nil {
		asset = opts.Asset[:]
	}
	return querySeq(ctx, db, what, `SELECT b.hash, b.height, b.time, e.seq, e.credit, e.debit, `+prefixed("t.", transferCols)+`
		FROM account_events e
		JOIN account_transfers t ON t.chain = e.chain AND t.height = e.height AND t.seq = e.seq
		JOIN account_blocks b ON b.chain = e.chain AND b.height = e.height
		WHERE e.chain = $1 AND e.addr = $2 AND e.height BETWEEN $3 AND $4 AND ($5::bytea IS NULL OR t.asset = $5)
		ORDER BY e.height, e.seq`, []any{string(chain), addr[:], from, to, asset},
		func(r pgx.Rows) (store.AccountEvent, error) {
			var ev store.AccountEvent
			var hash []byte
			var raw transferRaw
			dest := append([]any{&hash, &ev.Block.Height, &ev.Block.Time, &ev.Seq, &ev.Credit, &ev.Debit}, raw.dest(&ev.Transfer)...)
			if err := r.Scan(dest...); err != nil {
				return ev, err
			}
			ev.Block.Hash = heistgraph.EVMHash(hash)
			return ev, raw.finish(&ev.Transfer)
		})
}

// AccountLogs implements store.AccountReader.
func (db *DB) AccountLogs(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress, opts store.AccountHistoryOptions) iter.Seq2[store.AccountLog, error] {
	what := "logs of " + addr.Hex()
	from, to, err := heightRange(opts)
	if err != nil {
		return errorSeq[store.AccountLog](fmt.Errorf("%s: %w", what, err))
	}
	return querySeq(ctx, db, what, `SELECT b.hash, b.height, b.time, `+prefixed("l.", logCols)+`
		FROM account_logs l JOIN account_blocks b ON b.chain = l.chain AND b.height = l.height
		WHERE l.chain = $1 AND l.address = $2 AND l.height BETWEEN $3 AND $4
		ORDER BY l.height, l.log_index`, []any{string(chain), addr[:], from, to},
		func(r pgx.Rows) (store.AccountLog, error) {
			var al store.AccountLog
			var hash []byte
			var raw logRaw
			if err := r.Scan(append([]any{&hash, &al.Block.Height, &al.Block.Time}, raw.dest(&al.Log)...)...); err != nil {
				return al, err
			}
			al.Block.Hash = heistgraph.EVMHash(hash)
			raw.finish(&al.Log)
			return al, nil
		})
}

// prefixed qualifies each column of a comma-separated list with p.
func prefixed(p, cols string) string {
	out := p
	for i := 0; i < len(cols); i++ {
		out += string(cols[i])
		if cols[i] == ' ' && i > 0 && cols[i-1] == ',' {
			out += p
		}
	}
	return out
}

// errorSeq yields err alone.
func errorSeq[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}
