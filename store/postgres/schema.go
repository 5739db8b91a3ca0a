package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph"
)

// application is the value of the application row of heistgraph_meta: a
// database whose meta table names another application is refused.
const application = "heistgraph"

// migrationLock is the advisory lock key that serializes migrations.
const migrationLock = 0x68656973 // "heis"

// migrations are the schema versions in order: migrations[i] brings the
// schema from version i to i+1. Append only; never edit a released one.
var migrations = []string{
	// 1: Bitcoin chain data.
	`CREATE TABLE heistgraph_meta (
		key   text PRIMARY KEY,
		value text NOT NULL
	);
	CREATE TABLE blocks (
		chain       text    NOT NULL,
		height      bigint  NOT NULL,
		hash        bytea   NOT NULL,
		prev_hash   bytea   NOT NULL,
		merkle_root bytea   NOT NULL,
		time        bigint  NOT NULL,
		version     integer NOT NULL,
		bits        bigint  NOT NULL,
		nonce       bigint  NOT NULL,
		size        bigint  NOT NULL,
		PRIMARY KEY (chain, height)
	);
	CREATE UNIQUE INDEX blocks_hash ON blocks (chain, hash);
	CREATE TABLE txs (
		chain    text    NOT NULL,
		txid     bytea   NOT NULL,
		height   bigint  NOT NULL,
		idx      integer NOT NULL,
		wtxid    bytea   NOT NULL,
		version  integer NOT NULL,
		locktime bigint  NOT NULL,
		size     bigint  NOT NULL,
		weight   bigint  NOT NULL,
		PRIMARY KEY (chain, txid, height)
	);
	CREATE INDEX txs_block ON txs (chain, height, idx);
	CREATE TABLE outputs (
		chain   text   NOT NULL,
		txid    bytea  NOT NULL,
		vout    bigint NOT NULL,
		height  bigint NOT NULL,
		value   bigint NOT NULL,
		script  bytea,
		type    text   NOT NULL,
		address text   NOT NULL,
		keys    text[],
		PRIMARY KEY (chain, txid, vout, height)
	);
	CREATE INDEX outputs_address ON outputs (chain, address, height) WHERE address <> '';
	CREATE INDEX outputs_height ON outputs (chain, height);
	CREATE TABLE inputs (
		chain     text    NOT NULL,
		txid      bytea   NOT NULL,
		vin       bigint  NOT NULL,
		height    bigint  NOT NULL,
		prev_txid bytea   NOT NULL,
		prev_vout bigint  NOT NULL,
		sequence  bigint  NOT NULL,
		coinbase  boolean NOT NULL,
		PRIMARY KEY (chain, txid, vin, height)
	);
	CREATE INDEX inputs_prevout ON inputs (chain, prev_txid, prev_vout);
	CREATE INDEX inputs_height ON inputs (chain, height);`,
	// 2: prices (a small reference table).
	`CREATE TABLE prices (
		asset text   NOT NULL,
		day   bigint NOT NULL,
		usd   bigint NOT NULL,
		PRIMARY KEY (asset, day)
	);`,
	// 3: the Sharing role (sharing.go).
	sharingSchema,
}

// SchemaVersion is the schema version this binary writes.
func SchemaVersion() int { return len(migrations) }

// errForeign reports a database that holds another application's data.
var errForeign = errors.New("database belongs to another application")

// migrate checks that the database is heistgraph's (or empty) and not
// newer than the binary, then applies the missing migrations, each in one
// transaction. It writes nothing to a database it refuses.
func migrate(ctx context.Context, conn *pgx.Conn) error {
	for {
		done, err := migrateOne(ctx, conn)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration, if any, in one transaction, and
// reports whether the schema was already current.
func migrateOne(ctx context.Context, conn *pgx.Conn) (done bool, err error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
		return false, err
	}
	version, err := schemaVersion(ctx, tx)
	if err != nil {
		return false, err
	}
	if version > len(migrations) {
		return false, fmt.Errorf("schema version %d is newer than this binary's %d (upgrade heistgraph): %w", version, len(migrations), heistgraph.ErrConflict)
	}
	if version == len(migrations) {
		return true, nil
	}
	if _, err := tx.Exec(ctx, migrations[version]); err != nil {
		return false, fmt.Errorf("migration %d: %w", version+1, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO heistgraph_meta (key, value) VALUES ('application', $1), ('schema_version', $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, application, fmt.Sprint(version+1)); err != nil {
		return false, fmt.Errorf("migration %d: %w", version+1, err)
	}
	return false, tx.Commit(ctx)
}

// schemaVersion returns the schema version of the database: 0 when it is
// empty, an error wrapping errForeign when its current schema holds tables
// but no heistgraph_meta, or a meta table of another application.
func schemaVersion(ctx context.Context, tx pgx.Tx) (int, error) {
	var meta bool
	var tables int
	err := tx.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE table_name = 'heistgraph_meta') > 0,
		count(*)
		FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&meta, &tables)
	if err != nil {
		return 0, fmt.Errorf("read the schema: %w", err)
	}
	if !meta {
		if tables > 0 {
			return 0, fmt.Errorf("%d tables and no heistgraph_meta in the current schema: %w", tables, errForeign)
		}
		return 0, nil
	}
	rows, err := tx.Query(ctx, "SELECT key, value FROM heistgraph_meta WHERE key IN ('application', 'schema_version')")
	if err != nil {
		return 0, fmt.Errorf("read heistgraph_meta: %w", err)
	}
	kv := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return 0, err
		}
		kv[k] = v
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if kv["application"] != application {
		return 0, fmt.Errorf("heistgraph_meta names application %q: %w", kv["application"], errForeign)
	}
	var v int
	if _, err := fmt.Sscan(kv["schema_version"], &v); err != nil || v < 1 {
		return 0, fmt.Errorf("heistgraph_meta: bad schema_version %q: %w", kv["schema_version"], errForeign)
	}
	return v, nil
}
