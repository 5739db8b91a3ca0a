package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph/store"
)

// tableNotes says what each of the store's tables (schema.go, sharing.go) holds, for
// store stats.
var tableNotes = map[string]string{
	"heistgraph_meta":       "schema version and owner",
	"blocks":                "block records",
	"txs":                   "transactions",
	"outputs":               "outputs, with their addresses",
	"inputs":                "inputs (the outputs they spend)",
	"prices":                "prices",
	"chains":                "chains",
	"labels":                "labels",
	"label_sets":            "label sets",
	"label_set_members":     "label set members",
	"incidents":             "incidents",
	"incident_thefts":       "incidents' thefts",
	"incident_figures":      "incidents' figures",
	"incident_addresses":    "incidents' addresses",
	"incident_txs":          "incidents' transactions",
	"incident_attributions": "incidents' attributions",
	"sources":               "incident sources",
	"source_aggregates":     "sources' aggregates",
	"cluster_state":         "clustering state",
	"cluster_blocks":        "clustering by block",
	"cluster_addrs":         "clusters of addresses",
	"cluster_sizes":         "cluster sizes",
	"cluster_evidence":      "clustering evidence",
	"cluster_overrides":     "clustering overrides",
	"api_keys":              "API keys",
	"audit":                 "audit log",
	"watches":               "watches",
	"alerts":                "alerts",
	"webhooks":              "webhooks",
	"deliveries":            "webhook deliveries",
	"account_blocks":        "account blocks (EVM)",
	"account_txs":           "account transactions (EVM)",
	"account_transfers":     "account transfers (EVM)",
	"account_events":        "account events (EVM)",
	"account_logs":          "account logs (EVM)",
	"tokens":                "tokens (EVM)",
	"links":                 "cross-chain links",
	"incident_partner":      "partners' incidents",
	"feeds":                 "sharing feeds",
	"shared_objects":        "shared objects",
	"share_status":          "sharing status",
}

// tableNote describes a table for store stats: what it holds, or whose
// partition it is and where.
func tableNote(name, parent string, foreign bool) string {
	note := tableNotes[name]
	if parent != "" {
		note = "partition of " + parent
	}
	if foreign {
		note += " (on another server, whose bytes are its own)"
	}
	return strings.TrimSpace(note)
}

// Stats reports the bytes of the store's tables and their indexes, as
// PostgreSQL counts them (pg_total_relation_size, pg_indexes_size), and
// the planner's estimate of their rows; with opts.Keys, each table's rows
// counted. The tables are those of the connection's schema (current_schema),
// which Open checked belong to heistgraph.
func (db *DB) Stats(ctx context.Context, opts store.StatsOptions) (store.StatsReport, error) {
	// Partitions (docs/scaling.md) are listed beside their parent, which
	// holds no rows of its own; a foreign table's bytes are its server's.
	rows, err := db.pool.Query(ctx, `SELECT c.relname, c.relkind = 'f', coalesce(p.relname, ''),
			CASE WHEN c.relkind = 'r' THEN pg_total_relation_size(c.oid) ELSE 0 END,
			CASE WHEN c.relkind = 'r' THEN pg_indexes_size(c.oid) ELSE 0 END,
			c.reltuples::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
		LEFT JOIN pg_class p ON p.oid = i.inhparent
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'f')
		ORDER BY c.relname`)
	if err != nil {
		return store.StatsReport{}, fmt.Errorf("store stats: %w", err)
	}
	rep := store.StatsReport{Backend: "postgres", Levels: []store.LevelStats{}}
	for rows.Next() {
		var (
			f               store.FamilyStats
			foreign         bool
			parent          string
			total, idx, est int64
		)
		if err := rows.Scan(&f.Family, &foreign, &parent, &total, &idx, &est); err != nil {
			rows.Close()
			return store.StatsReport{}, fmt.Errorf("store stats: %w", err)
		}
		f.Table = tableNote(f.Family, parent, foreign)
		f.DiskBytes, f.IndexBytes, f.Rows = uint64(total), uint64(idx), &est
		rep.DiskBytes += total
		rep.IndexBytes += idx
		rep.TableBytes += total - idx
		rep.Families = append(rep.Families, f)
	}
	if err := rows.Err(); err != nil {
		return store.StatsReport{}, fmt.Errorf("store stats: %w", err)
	}
	if !opts.Keys {
		return rep, nil
	}
	// One snapshot for every count, so that the counts are of one state.
	err = pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		for i := range rep.Families {
			f := &rep.Families[i]
			var n int64
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{f.Family}.Sanitize()).Scan(&n); err != nil {
				return fmt.Errorf("count %s: %w", f.Family, err)
			}
			f.Keys = &n
		}
		return nil
	})
	if err != nil {
		return store.StatsReport{}, fmt.Errorf("store stats: %w", err)
	}
	return rep, nil
}
