package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// The service's small tables: API keys, the audit log and watches. Every
// write is one committed transaction, durable when it returns.

var (
	_ store.Keys    = (*DB)(nil)
	_ store.Audit   = (*DB)(nil)
	_ store.Watches = (*DB)(nil)
)

// isUniqueViolation reports whether err is a unique constraint violation
// (SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// PutKey implements store.Keys.
func (db *DB) PutKey(ctx context.Context, k store.APIKey) error {
	if k.ID == "" || k.Role == "" || k.Hash == ([32]byte{}) {
		return fmt.Errorf("put key %q: id, role and hash are required: %w", k.ID, heistgraph.ErrInvalid)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO api_keys (id, hash, role, entity, tlp_max, created, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.Hash[:], k.Role, k.Entity, k.TLPMax, k.Created, k.Revoked)
	if isUniqueViolation(err) {
		return fmt.Errorf("put key %s: id or secret already stored: %w", k.ID, heistgraph.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put key %s: %w", k.ID, err)
	}
	return nil
}

const keyCols = "id, hash, role, entity, tlp_max, created, revoked"

func scanKey(row pgx.Row) (store.APIKey, error) {
	var k store.APIKey
	var hash []byte
	err := row.Scan(&k.ID, &hash, &k.Role, &k.Entity, &k.TLPMax, &k.Created, &k.Revoked)
	copy(k.Hash[:], hash)
	return k, err
}

// KeyByHash implements store.Keys.
func (db *DB) KeyByHash(ctx context.Context, hash [32]byte) (store.APIKey, error) {
	k, err := scanKey(db.pool.QueryRow(ctx, "SELECT "+keyCols+" FROM api_keys WHERE hash = $1", hash[:]))
	if err != nil {
		return store.APIKey{}, notFound(err, "key by hash")
	}
	return k, nil
}

// APIKeys implements store.Keys.
func (db *DB) APIKeys(ctx context.Context) iter.Seq2[store.APIKey, error] {
	return querySeq(ctx, db, "keys", "SELECT "+keyCols+" FROM api_keys ORDER BY id", nil,
		func(rows pgx.Rows) (store.APIKey, error) { return scanKey(rows) })
}

// RevokeKey implements store.Keys.
func (db *DB) RevokeKey(ctx context.Context, id string, at int64) error {
	var revoked int64
	err := db.pool.QueryRow(ctx, `UPDATE api_keys SET revoked = CASE WHEN revoked = 0 THEN $2 ELSE revoked END
		WHERE id = $1 RETURNING revoked`, id, at).Scan(&revoked)
	if err != nil {
		return notFound(err, "revoke key %.40q", id)
	}
	return nil
}

// AppendAudit implements store.Audit. Appends are serialized by a
// transaction-scoped advisory lock so that sequence numbers are given in
// commit order without gaps.
func (db *DB) AppendAudit(ctx context.Context, recs []store.AuditRecord) (uint64, error) {
	for i, r := range recs {
		if r.KeyID == "" || r.Method == "" || r.Path == "" {
			return 0, fmt.Errorf("append audit: record %d: key id, method and path are required: %w", i, heistgraph.ErrInvalid)
		}
	}
	if len(recs) == 0 {
		return 0, nil
	}
	var last int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("audit")); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM audit").Scan(&last); err != nil {
			return err
		}
		rows := make([][]any, len(recs))
		for i, r := range recs {
			last++
			rows[i] = []any{last, r.Time, r.KeyID, r.Method, r.Path, int64(r.Items), int64(r.Status), r.Risk}
		}
		return copyRows(ctx, tx, "audit", []string{"seq", "time", "key_id", "method", "path", "items", "status", "risk"}, rows)
	})
	if err != nil {
		return 0, fmt.Errorf("append audit: %w", err)
	}
	return uint64(last), nil
}

// AuditLog implements store.Audit.
func (db *DB) AuditLog(ctx context.Context, q store.AuditQuery) iter.Seq2[store.AuditRecord, error] {
	limit := any(nil) // LIMIT NULL is no limit
	if q.Limit > 0 {
		limit = q.Limit
	}
	return querySeq(ctx, db, "audit log", `SELECT seq, time, key_id, method, path, items, status, risk FROM audit
		WHERE seq > $1 ORDER BY seq LIMIT $2`, []any{int64(q.After), limit},
		func(rows pgx.Rows) (store.AuditRecord, error) {
			var r store.AuditRecord
			var seq, items, status int64
			err := rows.Scan(&seq, &r.Time, &r.KeyID, &r.Method, &r.Path, &items, &status, &r.Risk)
			r.Seq, r.Items, r.Status = uint64(seq), int(items), int(status)
			return r, err
		})
}

// PutWatch implements store.Watches.
func (db *DB) PutWatch(ctx context.Context, w heistgraph.Watch) error {
	if err := heistgraph.ValidateWatchName(w.Name); err != nil {
		return fmt.Errorf("put watch: %w", err)
	}
	if w.Chain == "" || len(w.Seeds) == 0 {
		return fmt.Errorf("put watch %s: chain and seeds are required: %w", w.Name, heistgraph.ErrInvalid)
	}
	_, err := db.pool.Exec(ctx, "INSERT INTO watches (name, chain, seeds, policy, created, incident) VALUES ($1, $2, $3, $4, $5, $6)",
		w.Name, string(w.Chain), w.Seeds, w.Policy, w.Created, w.Incident)
	if isUniqueViolation(err) {
		return fmt.Errorf("put watch %s: name already stored: %w", w.Name, heistgraph.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put watch %s: %w", w.Name, err)
	}
	return nil
}

const watchCols = "name, chain, seeds, policy, created, incident"

func scanWatch(row pgx.Row) (heistgraph.Watch, error) {
	var w heistgraph.Watch
	var c string
	err := row.Scan(&w.Name, &c, &w.Seeds, &w.Policy, &w.Created, &w.Incident)
	w.Chain = heistgraph.Chain(c)
	return w, err
}

// Watch implements store.Watches.
func (db *DB) Watch(ctx context.Context, name string) (heistgraph.Watch, error) {
	w, err := scanWatch(db.pool.QueryRow(ctx, "SELECT "+watchCols+" FROM watches WHERE name = $1", name))
	if err != nil {
		return heistgraph.Watch{}, notFound(err, "watch %.70q", name)
	}
	return w, nil
}

// WatchList implements store.Watches.
func (db *DB) WatchList(ctx context.Context) iter.Seq2[heistgraph.Watch, error] {
	return querySeq(ctx, db, "watches", "SELECT "+watchCols+" FROM watches ORDER BY name", nil,
		func(rows pgx.Rows) (heistgraph.Watch, error) { return scanWatch(rows) })
}

// DeleteWatch implements store.Watches.
func (db *DB) DeleteWatch(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, "DELETE FROM watches WHERE name = $1", name)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return notFound(err, "delete watch %.70q", name)
	}
	return nil
}
