package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"iter"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Labels = (*DB)(nil)

// labelKey is the identity of a label: chain, address, entity, category,
// source.
type labelKey [5]string

func keyOf(l *heistgraph.Label) labelKey {
	return labelKey{string(l.Chain), l.Address, l.Entity, l.Category, l.Source}
}

// checkLabel validates what the store needs of a label.
func checkLabel(l *heistgraph.Label) error { return store.CheckLabel(l) }

// lockKey returns an advisory lock key for name.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// PutLabels implements store.Labels.
func (db *DB) PutLabels(ctx context.Context, labels []heistgraph.Label) (int, error) {
	added, _, err := db.writeLabels(ctx, "", "", labels)
	if err != nil {
		return 0, fmt.Errorf("put labels: %w", err)
	}
	return added, nil
}

// ReplaceLabelSet implements store.Labels.
func (db *DB) ReplaceLabelSet(ctx context.Context, set, version string, labels []heistgraph.Label) (added, removed int, err error) {
	if set == "" {
		return 0, 0, fmt.Errorf("replace label set: empty set name: %w", heistgraph.ErrInvalid)
	}
	added, removed, err = db.writeLabels(ctx, set, version, labels)
	if err != nil {
		return 0, 0, fmt.Errorf("replace label set %s: %w", set, err)
	}
	return added, removed, nil
}

// writeLabels stores labels in one transaction: directly (set empty) or as
// the new content of a label set, which a transaction-scoped advisory lock
// on the set serializes across processes.
func (db *DB) writeLabels(ctx context.Context, set, version string, labels []heistgraph.Label) (added, removed int, err error) {
	for i := range labels {
		if err := checkLabel(&labels[i]); err != nil {
			return 0, 0, err
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	var keys [5][]string // chain, address, entity, category, source
	var conf []float64
	var tlp, note []string
	var from, until []int64
	// The last label given with a key wins; rows are written in key order,
	// so that concurrent writers lock them in one order (no deadlock).
	rows := lastOf(labels, keyOf)
	slices.SortFunc(rows, func(a, b heistgraph.Label) int {
		ka, kb := keyOf(&a), keyOf(&b)
		return slices.Compare(ka[:], kb[:])
	})
	for _, l := range rows {
		k := keyOf(&l)
		for j := range k {
			keys[j] = append(keys[j], k[j])
		}
		conf, tlp, note = append(conf, l.Confidence), append(tlp, l.TLP), append(note, l.Note)
		from, until = append(from, l.ValidFrom), append(until, l.ValidUntil)
	}
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if set != "" {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("labelset/"+set)); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `INSERT INTO labels (chain, address, entity, category, source, confidence, tlp, valid_from, valid_until, note, direct)
			SELECT u.*, $11::bool FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::text[], $8::int8[], $9::int8[], $10::text[]) AS u
			ON CONFLICT (chain, address, entity, category, source) DO UPDATE SET
				confidence = excluded.confidence, tlp = excluded.tlp, valid_from = excluded.valid_from,
				valid_until = excluded.valid_until, note = excluded.note, direct = labels.direct OR excluded.direct
			RETURNING xmax = 0`, keys[0], keys[1], keys[2], keys[3], keys[4], conf, tlp, from, until, note, set == "")
		if err != nil {
			return err
		}
		inserted, err := pgx.CollectRows(rows, pgx.RowTo[bool])
		if err != nil {
			return err
		}
		for _, ins := range inserted {
			if ins {
				added++
			}
		}
		if set == "" {
			return nil
		}
		if removed, err = replaceMembers(ctx, tx, set, keys); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO label_sets (name, version) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET version = excluded.version`, set, version)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return added, removed, nil
}

// replaceMembers makes the keys in keys (chain, address, entity, category,
// source columns) the members of set, and removes the labels of the members
// it drops unless they were stored directly. It returns how many labels it
// removed.
func replaceMembers(ctx context.Context, tx pgx.Tx, set string, keys [5][]string) (int, error) {
	rows, err := tx.Query(ctx, `DELETE FROM label_set_members WHERE name = $1
		RETURNING chain, address, entity, category, source`, set)
	if err != nil {
		return 0, err
	}
	old, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (labelKey, error) {
		var k labelKey
		err := r.Scan(&k[0], &k[1], &k[2], &k[3], &k[4])
		return k, err
	})
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO label_set_members (name, chain, address, entity, category, source)
		SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
		set, keys[0], keys[1], keys[2], keys[3], keys[4]); err != nil {
		return 0, err
	}
	keep := make(map[labelKey]bool, len(keys[0]))
	for i := range keys[0] {
		var k labelKey
		for j := range k {
			k[j] = keys[j][i]
		}
		keep[k] = true
	}
	var stale [5][]string
	for _, k := range old {
		if !keep[k] {
			for j := range k {
				stale[j] = append(stale[j], k[j])
			}
		}
	}
	if len(stale[0]) == 0 {
		return 0, nil
	}
	tag, err := tx.Exec(ctx, `DELETE FROM labels l USING unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS s(chain, address, entity, category, source)
		WHERE l.chain = s.chain AND l.address = s.address AND l.entity = s.entity AND l.category = s.category AND l.source = s.source AND NOT l.direct`,
		stale[0], stale[1], stale[2], stale[3], stale[4])
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// LabelSetVersion implements store.Labels.
func (db *DB) LabelSetVersion(ctx context.Context, set string) (string, error) {
	var v string
	if err := db.pool.QueryRow(ctx, "SELECT version FROM label_sets WHERE name = $1", set).Scan(&v); err != nil {
		return "", notFound(err, "label set %s", set)
	}
	return v, nil
}

const labelCols = "chain, address, entity, category, source, confidence, tlp, valid_from, valid_until, note"

func scanLabel(rows pgx.Rows) (heistgraph.Label, error) {
	var l heistgraph.Label
	var c string
	err := rows.Scan(&c, &l.Address, &l.Entity, &l.Category, &l.Source, &l.Confidence, &l.TLP, &l.ValidFrom, &l.ValidUntil, &l.Note)
	l.Chain = heistgraph.Chain(c)
	return l, err
}

// chainNames returns chains as strings, for a text[] parameter.
func chainNames(chains []heistgraph.Chain) []string {
	out := make([]string, len(chains))
	for i, c := range chains {
		out[i] = string(c)
	}
	return out
}

// AddressLabels implements store.Labels.
func (db *DB) AddressLabels(ctx context.Context, chain heistgraph.Chain, addr string) ([]heistgraph.Label, error) {
	out := []heistgraph.Label{}
	for l, err := range db.labels(ctx, "address = $2", chain.LabelChains(), addr) {
		if err != nil {
			return nil, fmt.Errorf("labels of %s on %s: %w", addr, chain, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// Labels implements store.Labels.
func (db *DB) Labels(ctx context.Context, q store.LabelQuery) iter.Seq2[heistgraph.Label, error] {
	var chains []heistgraph.Chain
	if q.Chain != "" {
		chains = q.Chain.LabelChains()
	}
	return db.labels(ctx, "($2 = '' OR category = $2) AND ($3 = '' OR source = $3) AND ($4 = '' OR entity = $4)", chains, q.Category, q.Source, q.Entity)
}

// labels yields the labels on chains (every chain when nil), a chain's in
// the order given and then in key order, that match cond, whose parameters
// are args from $2 on.
func (db *DB) labels(ctx context.Context, cond string, chains []heistgraph.Chain, args ...any) iter.Seq2[heistgraph.Label, error] {
	var names []string
	if chains != nil {
		names = chainNames(chains)
	}
	sql := `SELECT ` + labelCols + ` FROM labels WHERE ($1::text[] IS NULL OR chain = ANY($1)) AND ` + cond + `
		ORDER BY array_position($1::text[], chain), chain, address, entity, category, source`
	return querySeq(ctx, db, "labels", sql, append([]any{names}, args...), scanLabel)
}

// LabelStats implements store.Labels.
func (db *DB) LabelStats(ctx context.Context) (store.LabelStats, error) {
	st := store.LabelStats{ByCategory: map[string]int64{}, ByChain: map[heistgraph.Chain]int64{}}
	type group struct {
		chain, category string
		n               int64
	}
	seq := querySeq(ctx, db, "label stats", "SELECT chain, category, count(*) FROM labels GROUP BY chain, category", nil,
		func(rows pgx.Rows) (group, error) {
			var g group
			return g, rows.Scan(&g.chain, &g.category, &g.n)
		})
	for g, err := range seq {
		if err != nil {
			return store.LabelStats{}, err
		}
		st.Total += g.n
		st.ByCategory[g.category] += g.n
		st.ByChain[heistgraph.Chain(g.chain)] += g.n
	}
	return st, nil
}

// querySeq yields the rows of sql, each decoded by scan; errors are
// prefixed with what.
func querySeq[T any](ctx context.Context, db *DB, what, sql string, args []any, scan func(pgx.Rows) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if err := ctx.Err(); err != nil {
			yield(zero, fmt.Errorf("%s: %w", what, err))
			return
		}
		rows, err := db.pool.Query(ctx, sql, args...)
		if err != nil {
			yield(zero, fmt.Errorf("%s: %w", what, err))
			return
		}
		stream(ctx, rows, func(v T, err error) bool {
			if err != nil {
				err = fmt.Errorf("%s: %w", what, err)
			}
			return yield(v, err)
		}, scan)
	}
}
