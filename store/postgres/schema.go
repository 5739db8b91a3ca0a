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
	// 3: the chains anything was stored for (a small reference table).
	`CREATE TABLE chains (
		chain text COLLATE "C" PRIMARY KEY
	);
	INSERT INTO chains SELECT DISTINCT chain FROM blocks;`,
	// 4: labels and label sets (reference tables: looked up by address on
	// every hop of a trace, written rarely).
	`CREATE TABLE labels (
		chain       text COLLATE "C" NOT NULL,
		address     text COLLATE "C" NOT NULL,
		entity      text COLLATE "C" NOT NULL,
		category    text COLLATE "C" NOT NULL,
		source      text COLLATE "C" NOT NULL,
		confidence  double precision NOT NULL,
		tlp         text    NOT NULL,
		valid_from  bigint  NOT NULL,
		valid_until bigint  NOT NULL,
		note        text    NOT NULL,
		direct      boolean NOT NULL, -- stored by PutLabels, not only through a set
		PRIMARY KEY (chain, address, entity, category, source)
	);
	CREATE TABLE label_sets (
		name    text COLLATE "C" PRIMARY KEY,
		version text NOT NULL
	);
	CREATE TABLE label_set_members (
		name     text COLLATE "C" NOT NULL,
		chain    text COLLATE "C" NOT NULL,
		address  text COLLATE "C" NOT NULL,
		entity   text COLLATE "C" NOT NULL,
		category text COLLATE "C" NOT NULL,
		source   text COLLATE "C" NOT NULL,
		PRIMARY KEY (name, chain, address, entity, category, source)
	);`,
	// 5: incidents and sources imported from partners (reference tables).
	`CREATE TABLE incidents (
		id             text COLLATE "C" PRIMARY KEY,
		name           text   NOT NULL,
		victim_name    text   NOT NULL,
		victim_type    text   NOT NULL,
		victim_country text   NOT NULL,
		stolen_on      timestamptz,
		vectors        text[] NOT NULL,
		tlp            text   NOT NULL,
		notes          text   NOT NULL,
		status         text   NOT NULL,
		figure_choice  text   NOT NULL
	);
	CREATE TABLE incident_thefts (
		incident text     NOT NULL REFERENCES incidents ON DELETE CASCADE,
		n        integer  NOT NULL,
		chain    text     NOT NULL,
		asset    text     NOT NULL,
		contract text     NOT NULL,
		decimals smallint NOT NULL,
		amount   numeric(78, 0) NOT NULL,
		source   text     NOT NULL,
		PRIMARY KEY (incident, n)
	);
	CREATE TABLE incident_figures (
		incident  text    NOT NULL REFERENCES incidents ON DELETE CASCADE,
		n         integer NOT NULL,
		source    text    NOT NULL,
		usd_cents bigint  NOT NULL,
		at        timestamptz,
		note      text    NOT NULL,
		PRIMARY KEY (incident, n)
	);
	CREATE TABLE incident_addresses (
		incident text    NOT NULL REFERENCES incidents ON DELETE CASCADE,
		n        integer NOT NULL,
		chain    text    NOT NULL,
		address  text    NOT NULL,
		role     text    NOT NULL,
		source   text    NOT NULL,
		PRIMARY KEY (incident, n)
	);
	CREATE TABLE incident_txs (
		incident text    NOT NULL REFERENCES incidents ON DELETE CASCADE,
		n        integer NOT NULL,
		chain    text    NOT NULL,
		txid     text    NOT NULL,
		role     text    NOT NULL,
		source   text    NOT NULL,
		PRIMARY KEY (incident, n)
	);
	CREATE TABLE incident_attributions (
		incident text    NOT NULL REFERENCES incidents ON DELETE CASCADE,
		n        integer NOT NULL,
		actor    text    NOT NULL,
		grp      text    NOT NULL,
		tier     text    NOT NULL,
		made_on  timestamptz,
		sources  text[]  NOT NULL,
		note     text    NOT NULL,
		PRIMARY KEY (incident, n)
	);
	CREATE TABLE sources (
		id        text COLLATE "C" PRIMARY KEY,
		publisher text NOT NULL,
		title     text NOT NULL,
		date      timestamptz,
		version   text NOT NULL,
		url       text NOT NULL,
		tier      text NOT NULL,
		note      text NOT NULL
	);
	CREATE TABLE source_aggregates (
		source    text    NOT NULL REFERENCES sources ON DELETE CASCADE,
		n         integer NOT NULL,
		year      integer NOT NULL,
		usd_cents bigint  NOT NULL,
		count     integer NOT NULL,
		incidents text[]  NOT NULL,
		note      text    NOT NULL,
		PRIMARY KEY (source, n)
	);`,
	// 6: address clustering. cluster_addrs and cluster_evidence are large
	// (distributed by chain and address id, resp. chain and height); the
	// rest is small per chain.
	`CREATE TABLE cluster_state (
		chain         text COLLATE "C" PRIMARY KEY,
		next_addr     bigint  NOT NULL DEFAULT 1,
		next_override bigint  NOT NULL DEFAULT 1,
		needs_rebuild boolean NOT NULL DEFAULT false,
		pending       bytea
	);
	CREATE TABLE cluster_blocks (
		chain      text   NOT NULL,
		height     bigint NOT NULL,
		hash       bytea  NOT NULL,
		first_addr bigint NOT NULL,
		PRIMARY KEY (chain, height)
	);
	CREATE TABLE cluster_addrs (
		chain   text   NOT NULL,
		id      bigint NOT NULL,
		address text   NOT NULL,
		cluster bigint, -- NULL: the address is its own cluster
		PRIMARY KEY (chain, id)
	);
	CREATE UNIQUE INDEX cluster_addrs_address ON cluster_addrs (chain, address);
	CREATE TABLE cluster_sizes (
		chain   text   NOT NULL,
		cluster bigint NOT NULL,
		size    bigint NOT NULL,
		PRIMARY KEY (chain, cluster)
	);
	CREATE TABLE cluster_evidence (
		chain     text     NOT NULL,
		height    bigint   NOT NULL,
		tx_index  bigint   NOT NULL,
		n         bigint   NOT NULL,
		txid      bytea    NOT NULL,
		heuristic text     NOT NULL,
		votes     text[]   NOT NULL,
		soft      boolean  NOT NULL,
		status    smallint NOT NULL,
		reason    text     NOT NULL,
		addr_ids  bigint[] NOT NULL,
		PRIMARY KEY (chain, height, tx_index, n)
	);
	CREATE INDEX cluster_evidence_addrs ON cluster_evidence USING gin (addr_ids);
	CREATE TABLE cluster_overrides (
		chain     text   NOT NULL,
		seq       bigint NOT NULL,
		kind      text   NOT NULL,
		addresses text[] NOT NULL,
		by_whom   text   NOT NULL,
		why       text   NOT NULL,
		time      bigint NOT NULL,
		height    bigint NOT NULL,
		PRIMARY KEY (chain, seq)
	);`,
	// 7: the service's API keys (a reference table).
	`CREATE TABLE api_keys (
		id      text COLLATE "C" PRIMARY KEY,
		hash    bytea  NOT NULL UNIQUE,
		role    text   NOT NULL,
		entity  text   NOT NULL,
		tlp_max text   NOT NULL,
		created bigint NOT NULL,
		revoked bigint NOT NULL
	);`,
	// 8: the audit log (append-only).
	`CREATE TABLE audit (
		seq    bigint PRIMARY KEY,
		time   bigint NOT NULL,
		key_id text   NOT NULL,
		method text   NOT NULL,
		path   text   NOT NULL,
		items  bigint NOT NULL,
		status bigint NOT NULL,
		risk   text   NOT NULL
	);`,
	// 9: the live monitor's watches.
	`CREATE TABLE watches (
		name     text COLLATE "C" PRIMARY KEY,
		chain    text   NOT NULL,
		seeds    text[] NOT NULL,
		policy   text   NOT NULL,
		created  bigint NOT NULL,
		incident text   NOT NULL
	);`,
	// 10: alerts, webhook endpoints and their outbox.
	`CREATE TABLE alerts (
		seq            bigint PRIMARY KEY,
		idem_key       bytea  NOT NULL UNIQUE,
		kind           text   NOT NULL,
		chain          text   NOT NULL,
		watch          text   NOT NULL,
		txid           bytea  NOT NULL,
		vout           bigint NOT NULL,
		address        text   NOT NULL,
		entity         text   NOT NULL,
		category       text   NOT NULL,
		amount_sat     bigint NOT NULL,
		block_height   bigint NOT NULL,
		block_hash     bytea  NOT NULL,
		time           bigint NOT NULL,
		share          double precision NOT NULL,
		hops           bigint NOT NULL,
		path_txids     bytea[] NOT NULL,
		incident       text   NOT NULL,
		retracts       text   NOT NULL,
		retracted_kind text   NOT NULL,
		raised         bigint NOT NULL,
		acked          bigint NOT NULL DEFAULT 0,
		acked_by       text   NOT NULL DEFAULT ''
	);
	CREATE TABLE webhooks (
		id              text COLLATE "C" PRIMARY KEY,
		url             text    NOT NULL,
		secret          text    NOT NULL,
		entities        text[]  NOT NULL,
		kinds           text[]  NOT NULL,
		created         bigint  NOT NULL,
		owner           text    NOT NULL,
		disabled        boolean NOT NULL,
		disabled_reason text    NOT NULL,
		delivered       bigint  NOT NULL,
		failed          bigint  NOT NULL,
		last_status     bigint  NOT NULL,
		last_error      text    NOT NULL,
		last_attempt    bigint  NOT NULL,
		claimed_by      text,        -- the process delivering its outbox
		claimed_until   timestamptz  -- until when, unless it polls again
	);
	CREATE TABLE deliveries (
		endpoint     text    NOT NULL REFERENCES webhooks ON DELETE CASCADE,
		alert        bigint  NOT NULL REFERENCES alerts,
		done         boolean NOT NULL DEFAULT false,
		state        text    NOT NULL,
		attempts     bigint  NOT NULL DEFAULT 0,
		next_attempt bigint  NOT NULL DEFAULT 0,
		last_attempt bigint  NOT NULL DEFAULT 0,
		last_status  bigint  NOT NULL DEFAULT 0,
		last_error   text    NOT NULL DEFAULT '',
		PRIMARY KEY (endpoint, alert)
	);
	CREATE INDEX deliveries_pending ON deliveries (endpoint, alert) WHERE NOT done;`,
	// 11: account-model (EVM) chain data. account_txs is distributed by
	// hash, account_events by address, the rest by (chain, height).
	`CREATE TABLE account_blocks (
		chain          text    NOT NULL,
		height         bigint  NOT NULL,
		hash           bytea   NOT NULL,
		parent_hash    bytea   NOT NULL,
		time           bigint  NOT NULL,
		fee_recipient  bytea   NOT NULL,
		base_fee       numeric(78, 0) NOT NULL,
		gas_used       bigint  NOT NULL,
		transfers      integer NOT NULL,
		internal_known boolean NOT NULL,
		PRIMARY KEY (chain, height)
	);
	CREATE UNIQUE INDEX account_blocks_hash ON account_blocks (chain, hash);
	CREATE TABLE account_txs (
		chain     text     NOT NULL,
		hash      bytea    NOT NULL,
		height    bigint   NOT NULL,
		idx       integer  NOT NULL,
		type      smallint NOT NULL,
		from_addr bytea    NOT NULL,
		to_addr   bytea    NOT NULL,
		create_tx boolean  NOT NULL,
		nonce     bigint   NOT NULL,
		value     numeric(78, 0) NOT NULL,
		selector  bytea    NOT NULL,
		input_len integer  NOT NULL,
		status    smallint NOT NULL,
		gas_used  bigint   NOT NULL,
		gas_price numeric(78, 0) NOT NULL,
		fee       numeric(78, 0) NOT NULL,
		PRIMARY KEY (chain, hash)
	);
	CREATE INDEX account_txs_block ON account_txs (chain, height, idx);
	CREATE TABLE account_transfers (
		chain      text     NOT NULL,
		height     bigint   NOT NULL,
		seq        integer  NOT NULL,
		kind       smallint NOT NULL,
		tx_index   integer  NOT NULL,
		tx_hash    bytea    NOT NULL,
		from_addr  bytea    NOT NULL,
		to_addr    bytea    NOT NULL,
		asset      bytea    NOT NULL,
		amount     numeric(78, 0) NOT NULL,
		log_index  integer  NOT NULL,
		trace_path text     NOT NULL,
		PRIMARY KEY (chain, height, seq)
	);
	CREATE TABLE account_events (
		chain    text    NOT NULL,
		addr     bytea   NOT NULL,
		height   bigint  NOT NULL,
		seq      integer NOT NULL,
		tx_index integer NOT NULL,
		credit   boolean NOT NULL,
		debit    boolean NOT NULL,
		PRIMARY KEY (chain, addr, height, seq)
	);
	CREATE INDEX account_events_height ON account_events (chain, height);
	CREATE TABLE account_logs (
		chain     text    NOT NULL,
		height    bigint  NOT NULL,
		log_index integer NOT NULL,
		tx_index  integer NOT NULL,
		tx_hash   bytea   NOT NULL,
		address   bytea   NOT NULL,
		topics    bytea[] NOT NULL,
		data      bytea   NOT NULL,
		PRIMARY KEY (chain, height, log_index)
	);
	CREATE INDEX account_logs_address ON account_logs (chain, address, height, log_index);
	CREATE TABLE tokens (
		chain    text     NOT NULL,
		address  bytea    NOT NULL,
		symbol   text     NOT NULL,
		decimals smallint NOT NULL,
		known    boolean  NOT NULL,
		PRIMARY KEY (chain, address)
	);`,
	// 12: links between transfers (package linkfind).
	`CREATE TABLE links (
		method     text COLLATE "C" NOT NULL,
		src_chain  text COLLATE "C" NOT NULL,
		src_txid   text COLLATE "C" NOT NULL,
		src_index  bigint NOT NULL,
		src_asset  text   NOT NULL,
		src_amount numeric(78, 0) NOT NULL,
		src_height bigint NOT NULL,
		dst_chain  text COLLATE "C" NOT NULL,
		dst_txid   text COLLATE "C" NOT NULL,
		dst_index  bigint NOT NULL,
		dst_asset  text   NOT NULL,
		dst_amount numeric(78, 0) NOT NULL,
		dst_height bigint NOT NULL,
		confidence text   NOT NULL,
		inferred   boolean NOT NULL,
		PRIMARY KEY (method, src_chain, src_txid, src_index, dst_chain, dst_txid, dst_index)
	);
	CREATE INDEX links_src ON links (src_chain, src_txid);
	CREATE INDEX links_dst ON links (dst_chain, dst_txid);
	CREATE INDEX links_src_height ON links (src_chain, src_height);
	CREATE INDEX links_dst_height ON links (dst_chain, dst_height);`,
	// 13: the Sharing role (sharing.go).
	sharingSchema,
	// 14: where a partner's incident came from (status partner). modified
	// is kept as RFC 3339 text, to the nanosecond as the STIX object gives
	// it (timestamptz keeps microseconds).
	`CREATE TABLE incident_partner (
		incident  text PRIMARY KEY REFERENCES incidents ON DELETE CASCADE,
		stix_id   text    NOT NULL,
		modified  text    NOT NULL,
		source    text    NOT NULL,
		actors    text[]  NOT NULL,
		withdrawn boolean NOT NULL
	);`,
	// 15: open links (a THORChain inbound whose outbound is not held):
	// dst_txid '' and dst_height -1, with the memo's destination address.
	`ALTER TABLE links ADD COLUMN dst_address text NOT NULL DEFAULT '',
		ADD COLUMN memo text NOT NULL DEFAULT '';`,
}

// SchemaVersion is the schema version this binary writes.
func SchemaVersion() int { return len(migrations) }

// errForeign reports a database that holds another application's data.
var errForeign = errors.New("database belongs to another application")

// migrate checks that the database is heistgraph's (or empty) and not
// newer than the binary, then applies the missing migrations up to
// version upto, each in one transaction, and returns the version it found
// and the version it left. It writes nothing to a database it refuses.
func migrate(ctx context.Context, conn *pgx.Conn, upto int) (from, to int, err error) {
	for first := true; ; first = false {
		v, done, err := migrateOne(ctx, conn, upto)
		if first {
			from = v
		}
		if err != nil || done {
			return from, v, err
		}
	}
}

// migrateOne applies the next migration, if any below upto, in one
// transaction, and returns the version before it and whether there was
// nothing to apply. The migrations run one per transaction so that a
// process killed in the middle of one leaves the previous version behind
// and the next run takes it from there.
func migrateOne(ctx context.Context, conn *pgx.Conn, upto int) (version int, done bool, err error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, false, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
		return 0, false, err
	}
	version, err = schemaVersion(ctx, tx)
	if err != nil {
		return 0, false, err
	}
	if version > len(migrations) {
		return version, false, fmt.Errorf("schema version %d is newer than this binary's %d (upgrade heistgraph): %w", version, len(migrations), heistgraph.ErrConflict)
	}
	if version >= upto {
		return version, true, nil
	}
	if _, err := tx.Exec(ctx, migrations[version]); err != nil {
		return version, false, fmt.Errorf("migration %d: %w", version+1, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO heistgraph_meta (key, value) VALUES ('application', $1), ('schema_version', $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, application, fmt.Sprint(version+1)); err != nil {
		return version, false, fmt.Errorf("migration %d: %w", version+1, err)
	}
	return version, false, tx.Commit(ctx)
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
