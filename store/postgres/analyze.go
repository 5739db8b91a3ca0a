package postgres

import (
	"context"
	"sync"
)

// analyzeMin is the fewest rows written since the last ANALYZE that
// trigger one: below it, autovacuum's own statistics suffice.
const analyzeMin = 10_000

// chainTables are the Bitcoin chain tables a bulk load grows.
const chainTables = "blocks, txs, outputs, inputs"

// analyzer keeps the planner's statistics of the chain tables in step with
// bulk loads. Autovacuum analyzes a table only after a tenth of it changed
// and on its own schedule, so right after loading into an empty database
// the planner may know nothing of the rows and choose sequential scans.
// The store analyzes the chain tables itself once the rows it wrote since
// the last analysis exceed what the tables held then (and analyzeMin):
// the statistics are never off by more than a factor of two, and a load of
// n rows pays for O(log n) analyses.
type analyzer struct {
	mu    sync.Mutex
	since int64 // rows written since the last ANALYZE (or since open)
	held  int64 // rows the tables held at the last ANALYZE; -1 before the first look
}

// wrote counts rows written to the chain tables and analyzes them when due.
// An ANALYZE that fails leaves the count to try again later: statistics
// are advice to the planner, and the rows are committed already.
func (db *DB) wrote(ctx context.Context, rows int64) {
	a := &db.analyze
	a.mu.Lock()
	defer a.mu.Unlock()
	a.since += rows
	if a.since < analyzeMin || a.since < a.held {
		return
	}
	if a.held < 0 {
		// The first look: tables analyzed before (by an earlier process
		// or by autovacuum) may need no analysis yet.
		held, err := db.tableRows(ctx)
		if err != nil {
			return
		}
		if a.held = held; a.since < held {
			return
		}
	}
	if _, err := db.pool.Exec(ctx, "ANALYZE "+chainTables); err != nil {
		return
	}
	held, err := db.tableRows(ctx)
	if err != nil {
		return
	}
	a.since, a.held = 0, held
}

// tableRows returns the planner's estimate of the rows of the chain
// tables (0 for a table never analyzed).
func (db *DB) tableRows(ctx context.Context) (int64, error) {
	var n float64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(sum(greatest(reltuples, 0)), 0) FROM pg_class
		WHERE oid = ANY (ARRAY['blocks', 'txs', 'outputs', 'inputs']::regclass[])`).Scan(&n)
	return int64(n), err
}
