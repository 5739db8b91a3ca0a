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

var _ store.Clusters = (*DB)(nil)

// Clustering state lives in cluster_state (one row per chain: the next
// address id and override sequence, the rebuild flag and the pending
// snapshot), cluster_blocks, cluster_addrs (id, address and cluster of
// every address; a NULL cluster is the address's own), cluster_sizes,
// cluster_evidence (with a GIN index on the address ids it names) and
// cluster_overrides. Writers of one chain are serialized by locking its
// cluster_state row (SELECT ... FOR UPDATE), so that two processes writing
// clusters or overrides at once never lose each other's update: the second
// waits, then validates its batch against the state the first committed.

// chainKnown reports whether anything was ever stored for chain.
func chainKnown(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, chain heistgraph.Chain) (bool, error) {
	var known bool
	err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM chains WHERE chain = $1)", string(chain)).Scan(&known)
	return known, err
}

// clusterTip reads the state of chain's clustering, locking its row when
// lock is set; found is false when the chain was never clustered.
func clusterTip(ctx context.Context, tx pgx.Tx, chain heistgraph.Chain, lock bool) (tip store.ClusterTip, found bool, err error) {
	sql := "SELECT next_addr, next_override, needs_rebuild FROM cluster_state WHERE chain = $1"
	if lock {
		sql += " FOR UPDATE"
	}
	var next, nextOv int64
	err = tx.QueryRow(ctx, sql, string(chain)).Scan(&next, &nextOv, &tip.NeedsRebuild)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ClusterTip{}, false, nil
	}
	if err != nil {
		return store.ClusterTip{}, false, err
	}
	tip.NextAddr, tip.NextOverride = uint64(next), uint64(nextOv)
	tip.Block.Height = -1
	var hash []byte
	var first int64
	err = tx.QueryRow(ctx, "SELECT height, hash, first_addr FROM cluster_blocks WHERE chain = $1 ORDER BY height DESC LIMIT 1", string(chain)).
		Scan(&tip.Block.Height, &hash, &first)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return store.ClusterTip{}, false, err
	default:
		tip.Block.Hash, tip.Block.FirstAddr = toHash(hash), uint64(first)
	}
	return tip, true, nil
}

// readOnly runs fn in a read-only repeatable-read transaction: one
// snapshot.
func (db *DB) readOnly(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, fn)
}

// ClusterTip implements store.Clusters.
func (db *DB) ClusterTip(ctx context.Context, chain heistgraph.Chain) (store.ClusterTip, error) {
	var tip store.ClusterTip
	var found bool
	err := db.readOnly(ctx, func(tx pgx.Tx) (err error) {
		tip, found, err = clusterTip(ctx, tx, chain, false)
		return err
	})
	if err != nil {
		return store.ClusterTip{}, fmt.Errorf("cluster tip of %s: %w", chain, err)
	}
	if !found {
		return store.ClusterTip{}, fmt.Errorf("cluster tip of %s: nothing clustered: %w", chain, heistgraph.ErrNotFound)
	}
	return tip, nil
}

// ClusterBlock implements store.Clusters.
func (db *DB) ClusterBlock(ctx context.Context, chain heistgraph.Chain, height int64) (heistgraph.ClusterBlock, error) {
	b := heistgraph.ClusterBlock{Height: height}
	var hash []byte
	var first int64
	err := db.pool.QueryRow(ctx, "SELECT hash, first_addr FROM cluster_blocks WHERE chain = $1 AND height = $2", string(chain), height).Scan(&hash, &first)
	if err != nil {
		return heistgraph.ClusterBlock{}, notFound(err, "cluster block %d of %s", height, chain)
	}
	b.Hash, b.FirstAddr = toHash(hash), uint64(first)
	return b, nil
}

// lastOf keeps, of the elements of s with one key, the last one, in the
// order of their last occurrence.
func lastOf[T any, K comparable](s []T, key func(*T) K) []T {
	last := make(map[K]int, len(s))
	for i := range s {
		last[key(&s[i])] = i
	}
	out := make([]T, 0, len(last))
	for i := range s {
		if last[key(&s[i])] == i {
			out = append(out, s[i])
		}
	}
	return out
}

// WriteClusters implements store.Clusters.
func (db *DB) WriteClusters(ctx context.Context, chain heistgraph.Chain, cb *store.ClusterBatch) error {
	if cb == nil {
		return fmt.Errorf("write clusters of %s: nil batch: %w", chain, heistgraph.ErrInvalid)
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		known, err := chainKnown(ctx, tx, chain)
		if err != nil {
			return err
		}
		if !known {
			return fmt.Errorf("nothing stored for the chain: %w", heistgraph.ErrNotFound)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO cluster_state (chain) VALUES ($1) ON CONFLICT DO NOTHING", string(chain)); err != nil {
			return err
		}
		tip, _, err := clusterTip(ctx, tx, chain, true)
		if err != nil {
			return err
		}
		return writeClusters(ctx, tx, chain, tip, cb)
	})
	if err != nil {
		return fmt.Errorf("write clusters of %s: %w", chain, err)
	}
	return nil
}

// writeClusters validates cb against tip and writes it in tx.
func writeClusters(ctx context.Context, tx pgx.Tx, chain heistgraph.Chain, tip store.ClusterTip, cb *store.ClusterBatch) error {
	c := string(chain)
	if blk := cb.Block; blk != nil {
		switch {
		case blk.Height < 0:
			return fmt.Errorf("block height %d: %w", blk.Height, heistgraph.ErrInvalid)
		case blk.Height <= tip.Block.Height:
			return fmt.Errorf("block %d after tip %d: %w", blk.Height, tip.Block.Height, heistgraph.ErrConflict)
		case blk.FirstAddr != tip.NextAddr:
			return fmt.Errorf("block %d gives out address ids from %d, the next is %d: %w", blk.Height, blk.FirstAddr, tip.NextAddr, heistgraph.ErrConflict)
		}
	}
	next := tip.NextAddr
	addrRows := make([][]any, len(cb.NewAddresses))
	for i, a := range cb.NewAddresses {
		if a == "" {
			return fmt.Errorf("empty address: %w", heistgraph.ErrInvalid)
		}
		addrRows[i] = []any{c, int64(next), a}
		next++
	}
	valid := func(id uint64) bool { return id >= 1 && id < next }
	members := lastOf(cb.Members, func(m *store.ClusterMember) uint64 { return m.AddrID })
	var memAddr, memCluster []int64
	for _, m := range members {
		if !valid(m.AddrID) || !valid(m.ClusterID) {
			return fmt.Errorf("address %d in cluster %d: ids out of range [1, %d): %w", m.AddrID, m.ClusterID, next, heistgraph.ErrInvalid)
		}
		memAddr, memCluster = append(memAddr, int64(m.AddrID)), append(memCluster, int64(m.ClusterID))
	}
	sizes := lastOf(cb.Sizes, func(s *store.ClusterSize) uint64 { return s.ClusterID })
	var sizeIDs []int64
	var sizeRows [][]any
	for _, s := range sizes {
		if !valid(s.ClusterID) || s.Size < 0 {
			return fmt.Errorf("size %d of cluster %d: %w", s.Size, s.ClusterID, heistgraph.ErrInvalid)
		}
		sizeIDs = append(sizeIDs, int64(s.ClusterID))
		if s.Size > 0 {
			sizeRows = append(sizeRows, []any{c, int64(s.ClusterID), s.Size})
		}
	}
	type pos struct {
		h    int64
		i, n uint32
	}
	evidence := lastOf(cb.Evidence, func(e *heistgraph.ClusterEvidence) pos { return pos{e.Height, e.TxIndex, e.N} })
	var evH, evI, evN []int64
	evRows := make([][]any, len(evidence))
	for i := range evidence {
		e := &evidence[i]
		if e.Height < 0 {
			return fmt.Errorf("evidence at height %d: %w", e.Height, heistgraph.ErrInvalid)
		}
		ids := make([]int64, len(e.AddrIDs))
		for j, id := range e.AddrIDs {
			if !valid(id) {
				return fmt.Errorf("evidence names address %d, not given out: %w", id, heistgraph.ErrInvalid)
			}
			ids[j] = int64(id)
		}
		evH, evI, evN = append(evH, e.Height), append(evI, int64(e.TxIndex)), append(evN, int64(e.N))
		evRows[i] = []any{c, e.Height, int64(e.TxIndex), int64(e.N), e.TxID[:], e.Heuristic, nonNil(e.Votes), e.Soft, int16(e.Status), e.Reason, ids}
	}
	nextOv := tip.NextOverride
	ovRows := make([][]any, len(cb.Overrides))
	for i := range cb.Overrides {
		o := &cb.Overrides[i]
		if o.Seq != nextOv {
			return fmt.Errorf("override %d, the next is %d: %w", o.Seq, nextOv, heistgraph.ErrConflict)
		}
		if (o.Kind != heistgraph.OverrideMerge && o.Kind != heistgraph.OverrideSplit) || len(o.Addresses) == 0 {
			return fmt.Errorf("override %q of %d addresses: %w", o.Kind, len(o.Addresses), heistgraph.ErrInvalid)
		}
		ovRows[i] = []any{c, int64(o.Seq), o.Kind, o.Addresses, o.By, o.Why, o.Time, o.Height}
		nextOv++
	}

	if err := copyRows(ctx, tx, "cluster_addrs", []string{"chain", "id", "address"}, addrRows); err != nil {
		return err
	}
	if len(memAddr) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE cluster_addrs a SET cluster = m.cluster FROM unnest($2::int8[], $3::int8[]) AS m(id, cluster)
			WHERE a.chain = $1 AND a.id = m.id`, c, memAddr, memCluster); err != nil {
			return err
		}
	}
	if len(sizeIDs) > 0 {
		if _, err := tx.Exec(ctx, "DELETE FROM cluster_sizes WHERE chain = $1 AND cluster = ANY($2)", c, sizeIDs); err != nil {
			return err
		}
	}
	if err := copyRows(ctx, tx, "cluster_sizes", []string{"chain", "cluster", "size"}, sizeRows); err != nil {
		return err
	}
	if len(evH) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM cluster_evidence e USING unnest($2::int8[], $3::int8[], $4::int8[]) AS p(height, tx_index, n)
			WHERE e.chain = $1 AND e.height = p.height AND e.tx_index = p.tx_index AND e.n = p.n`, c, evH, evI, evN); err != nil {
			return err
		}
	}
	if err := copyRows(ctx, tx, "cluster_evidence", []string{"chain", "height", "tx_index", "n", "txid", "heuristic", "votes", "soft", "status", "reason", "addr_ids"}, evRows); err != nil {
		return err
	}
	if err := copyRows(ctx, tx, "cluster_overrides", []string{"chain", "seq", "kind", "addresses", "by_whom", "why", "time", "height"}, ovRows); err != nil {
		return err
	}
	if blk := cb.Block; blk != nil {
		if _, err := tx.Exec(ctx, "INSERT INTO cluster_blocks (chain, height, hash, first_addr) VALUES ($1, $2, $3, $4)",
			c, blk.Height, blk.Hash[:], int64(blk.FirstAddr)); err != nil {
			return err
		}
	}
	rebuild := tip.NeedsRebuild
	if cb.Rebuilt {
		rebuild = false
	}
	if cb.NeedsRebuild {
		rebuild = true
	}
	_, err := tx.Exec(ctx, `UPDATE cluster_state SET next_addr = $2, next_override = $3, needs_rebuild = $4,
		pending = CASE WHEN $5::bool THEN $6 ELSE pending END WHERE chain = $1`,
		c, int64(next), int64(nextOv), rebuild, cb.Pending != nil, cb.Pending)
	return err
}

// copyRows loads rows into table with COPY; a unique violation (an address
// or override stored already) wraps ErrConflict.
func copyRows(ctx context.Context, tx pgx.Tx, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
		if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "23505" {
			return fmt.Errorf("copy %s: %s: %w", table, pe.Detail, heistgraph.ErrConflict)
		}
		return fmt.Errorf("copy %s: %w", table, err)
	}
	return nil
}

// RewindClusters implements store.Clusters.
func (db *DB) RewindClusters(ctx context.Context, chain heistgraph.Chain, height int64) error {
	if height < -1 {
		return fmt.Errorf("rewind clusters of %s to %d: %w", chain, height, heistgraph.ErrInvalid)
	}
	c := string(chain)
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tip, found, err := clusterTip(ctx, tx, chain, true)
		if err != nil || !found || tip.Block.Height <= height {
			return err
		}
		first := int64(tip.NextAddr)
		err = tx.QueryRow(ctx, "SELECT first_addr FROM cluster_blocks WHERE chain = $1 AND height > $2 ORDER BY height LIMIT 1", c, height).Scan(&first)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		b := &pgx.Batch{}
		b.Queue("DELETE FROM cluster_blocks WHERE chain = $1 AND height > $2", c, height)
		b.Queue("DELETE FROM cluster_evidence WHERE chain = $1 AND height > $2", c, height)
		b.Queue("DELETE FROM cluster_addrs WHERE chain = $1 AND id >= $2", c, first)
		b.Queue("DELETE FROM cluster_sizes WHERE chain = $1", c)
		b.Queue("UPDATE cluster_state SET next_addr = $2, needs_rebuild = true, pending = NULL WHERE chain = $1", c, first)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("rewind clusters of %s to %d: %w", chain, height, err)
	}
	return nil
}

// AddressCluster implements store.Clusters.
func (db *DB) AddressCluster(ctx context.Context, chain heistgraph.Chain, addr string) (store.ClusterMember, error) {
	var id, cluster int64
	err := db.pool.QueryRow(ctx, "SELECT id, coalesce(cluster, id) FROM cluster_addrs WHERE chain = $1 AND address = $2", string(chain), addr).Scan(&id, &cluster)
	if err != nil {
		return store.ClusterMember{}, notFound(err, "cluster of %s on %s", addr, chain)
	}
	return store.ClusterMember{AddrID: uint64(id), ClusterID: uint64(cluster), Address: addr}, nil
}

// ClusterAddress implements store.Clusters.
func (db *DB) ClusterAddress(ctx context.Context, chain heistgraph.Chain, id uint64) (string, error) {
	var a string
	if err := db.pool.QueryRow(ctx, "SELECT address FROM cluster_addrs WHERE chain = $1 AND id = $2", string(chain), int64(id)).Scan(&a); err != nil {
		return "", notFound(err, "address %d on %s", id, chain)
	}
	return a, nil
}

// ClusterSize implements store.Clusters. A cluster without a size record
// is an address alone, of size 1, when it is its own cluster.
func (db *DB) ClusterSize(ctx context.Context, chain heistgraph.Chain, id uint64) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(
			(SELECT size FROM cluster_sizes WHERE chain = $1 AND cluster = $2),
			(SELECT 1 FROM cluster_addrs WHERE chain = $1 AND id = $2 AND coalesce(cluster, id) = id), 0)`,
		string(chain), int64(id)).Scan(&n)
	if err == nil && n == 0 {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return 0, notFound(err, "cluster %d on %s", id, chain)
	}
	return n, nil
}

// Memberships implements store.Clusters.
func (db *DB) Memberships(ctx context.Context, chain heistgraph.Chain) iter.Seq2[store.ClusterMember, error] {
	return querySeq(ctx, db, "memberships of "+string(chain),
		"SELECT id, coalesce(cluster, id), address FROM cluster_addrs WHERE chain = $1 ORDER BY id", []any{string(chain)},
		func(rows pgx.Rows) (store.ClusterMember, error) {
			var id, cluster int64
			var m store.ClusterMember
			err := rows.Scan(&id, &cluster, &m.Address)
			m.AddrID, m.ClusterID = uint64(id), uint64(cluster)
			return m, err
		})
}

// Evidence implements store.Clusters.
func (db *DB) Evidence(ctx context.Context, chain heistgraph.Chain, q store.EvidenceQuery) iter.Seq2[heistgraph.ClusterEvidence, error] {
	return querySeq(ctx, db, "evidence of "+string(chain),
		`SELECT height, tx_index, n, txid, heuristic, votes, soft, status, reason, addr_ids FROM cluster_evidence
		WHERE chain = $1 AND height >= $2 AND ($3 = 0 OR addr_ids @> ARRAY[$3::int8]) ORDER BY height, tx_index, n`,
		[]any{string(chain), max(q.FromHeight, 0), int64(q.Addr)},
		func(rows pgx.Rows) (heistgraph.ClusterEvidence, error) {
			var e heistgraph.ClusterEvidence
			var txIndex, n int64
			var status int16
			var txid []byte
			var ids []int64
			err := rows.Scan(&e.Height, &txIndex, &n, &txid, &e.Heuristic, &e.Votes, &e.Soft, &status, &e.Reason, &ids)
			e.TxIndex, e.N, e.TxID, e.Status = uint32(txIndex), uint32(n), toHash(txid), heistgraph.EvidenceStatus(status)
			if len(e.Votes) == 0 {
				e.Votes = nil
			}
			e.AddrIDs = make([]uint64, len(ids))
			for i, id := range ids {
				e.AddrIDs[i] = uint64(id)
			}
			return e, err
		})
}

// Overrides implements store.Clusters.
func (db *DB) Overrides(ctx context.Context, chain heistgraph.Chain) iter.Seq2[heistgraph.ClusterOverride, error] {
	return querySeq(ctx, db, "overrides of "+string(chain),
		"SELECT seq, kind, addresses, by_whom, why, time, height FROM cluster_overrides WHERE chain = $1 ORDER BY seq", []any{string(chain)},
		func(rows pgx.Rows) (heistgraph.ClusterOverride, error) {
			var o heistgraph.ClusterOverride
			var seq int64
			err := rows.Scan(&seq, &o.Kind, &o.Addresses, &o.By, &o.Why, &o.Time, &o.Height)
			o.Seq = uint64(seq)
			return o, err
		})
}

// ClusterPending implements store.Clusters.
func (db *DB) ClusterPending(ctx context.Context, chain heistgraph.Chain) ([]byte, error) {
	var p []byte
	err := db.pool.QueryRow(ctx, "SELECT pending FROM cluster_state WHERE chain = $1 AND pending IS NOT NULL", string(chain)).Scan(&p)
	if err != nil {
		return nil, notFound(err, "pending clustering of %s", chain)
	}
	if p == nil {
		p = []byte{}
	}
	return p, nil
}
