package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/pgtest"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/postgres"
	"github.com/heistgraph/heistgraph/synth"
)

// distributedTables are the Bitcoin chain tables spread over the shards,
// each hash-partitioned by its distribution column: a transaction's row,
// its outputs and its inputs share the key (their txid), so they live on
// one shard.
var distributedTables = []struct{ table, key string }{
	{"txs", "txid"},
	{"outputs", "txid"},
	{"inputs", "txid"},
}

// distribute turns the distributed tables of the (empty, migrated) store
// at coord into tables hash-partitioned three ways: remainder 0 stays on
// the coordinator, remainders 1 and 2 are postgres_fdw foreign tables on
// the tables of the same name in the (migrated) shard databases. It
// returns the statements it ran, for docs/scaling.md.
//
// A partitioned table with foreign partitions cannot have a primary key or
// unique index, so the coordinator's parent has none: each shard's table
// keeps the store's primary key, which leads with the distribution column's
// companions and contains it, so that every key lives on one shard and its
// uniqueness there is its uniqueness everywhere. The secondary indexes are
// made on the parent (the local partition gets them) and exist on the
// shards from the store's own migrations.
func distribute(t *testing.T, coord string, shards []string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, coord)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	stmts := []string{"CREATE EXTENSION postgres_fdw"}
	for i, s := range shards {
		cfg, err := pgx.ParseConfig(s)
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts,
			fmt.Sprintf("CREATE SERVER shard%d FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '%s', port '%d', dbname '%s', use_remote_estimate 'true')", i+1, cfg.Host, cfg.Port, cfg.Database),
			fmt.Sprintf("CREATE USER MAPPING FOR CURRENT_USER SERVER shard%d OPTIONS (user '%s', password '%s')", i+1, pgtest.User, pgtest.Password))
	}
	for _, d := range distributedTables {
		var pk string
		if err := conn.QueryRow(ctx, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'", d.table).Scan(&pk); err != nil {
			t.Fatalf("primary key of %s: %v", d.table, err)
		}
		rows, err := conn.Query(ctx, "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1 AND indexname <> $1 || '_pkey' ORDER BY indexname", d.table)
		if err != nil {
			t.Fatal(err)
		}
		indexes, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		n := len(shards) + 1
		stmts = append(stmts,
			fmt.Sprintf("ALTER TABLE %[1]s RENAME TO %[1]s_single", d.table),
			fmt.Sprintf("CREATE TABLE %[1]s (LIKE %[1]s_single INCLUDING DEFAULTS) PARTITION BY HASH (%[2]s)", d.table, d.key),
			fmt.Sprintf("DROP TABLE %s_single", d.table),
			fmt.Sprintf("CREATE TABLE %[1]s_0 PARTITION OF %[1]s FOR VALUES WITH (MODULUS %[2]d, REMAINDER 0)", d.table, n),
			fmt.Sprintf("ALTER TABLE %s_0 ADD %s", d.table, pk))
		for i := range shards {
			stmts = append(stmts, fmt.Sprintf("CREATE FOREIGN TABLE %[1]s_%[2]d PARTITION OF %[1]s FOR VALUES WITH (MODULUS %[3]d, REMAINDER %[2]d) SERVER shard%[2]d OPTIONS (table_name '%[1]s')", d.table, i+1, n))
		}
		stmts = append(stmts, indexes...)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return stmts
}

// TestPostgresDistributed spreads the store's Bitcoin chain tables over
// three local PostgreSQL servers (PostgreSQL's own sharding: declarative
// hash partitions, two of them postgres_fdw foreign tables), loads the
// small synthetic world into it by the store's COPY ingest with its labels
// (not clustered), and checks that a sample of show tx, show address,
// trace and screen answers the same JSON as on
// one unpartitioned PostgreSQL database and on Pebble; that the hot point
// queries, as the store runs them, read one partition (one foreign scan
// with the key pushed down to its shard); that a shard's primary key
// refuses a duplicate sent through the coordinator; and that a rewind
// leaves the same rows as on one database. docs/scaling.md shows the DDL
// and the plans (go test ./cmd/heistgraph -run TestPostgresDistributed -v).
func TestPostgresDistributed(t *testing.T) {
	cs := pgtest.StartN(t, 3, "postgres_fdw")
	ctx := context.Background()
	coord, plain := cs[0].NewDatabase(t), cs[0].NewDatabase(t)
	shards := []string{cs[1].NewDatabase(t), cs[2].NewDatabase(t)}
	for _, u := range append([]string{coord, plain}, shards...) {
		if _, err := postgres.Migrate(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range distribute(t, coord, shards) {
		t.Log(s + ";")
	}

	base := t.TempDir()
	world := filepath.Join(base, "world")
	if _, err := synth.Generate(ctx, synth.Options{Dir: world, Seed: 7, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	truth, err := synth.LoadTruth(filepath.Join(world, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	stores := []struct{ name, flag, value string }{
		{"Pebble", "--data", filepath.Join(base, "data")},
		{"PostgreSQL", "--store", plain},
		{"distributed PostgreSQL", "--store", coord},
	}
	for _, st := range stores {
		mustOK(t, cli(t, st.flag, st.value, "--quiet", "ingest", "btc", "--blocks", world, "--network", "regtest", "--cluster=false"), "ingest into "+st.name)
		mustOK(t, cli(t, st.flag, st.value, "--quiet", "labels", "import", filepath.Join(world, synth.LabelsFile), "--format", "csv"), "labels import into "+st.name)
	}
	// same runs a command on every store and wants one answer.
	same := func(args ...string) string {
		t.Helper()
		var want result
		for i, st := range stores {
			r := cli(t, append([]string{st.flag, st.value, "--json", "--chain", "btc-regtest"}, args...)...)
			r.stdout = msField.ReplaceAllString(r.stdout, `"ms": 0`)
			if i == 0 {
				mustOK(t, r, strings.Join(args, " ")+" on "+st.name)
				want = r
			} else if r.code != want.code || r.stdout != want.stdout {
				t.Fatalf("%v: %s exit %d %s\n%s exit %d %s %s", args, stores[0].name, want.code, want.stdout, st.name, r.code, r.stdout, r.stderr)
			}
		}
		return want.stdout
	}

	var checks int
	// A sample: every answer on the distributed store takes many round
	// trips to the shards.
	for _, h := range truth.Heists[:min(2, len(truth.Heists))] {
		same(append([]string{"trace"}, seedArgs(h)...)...)
		for _, s := range h.Seeds {
			same("show", "tx", strings.Split(s, ":")[0])
		}
		checks++
	}
	for _, e := range truth.Entities[:min(6, len(truth.Entities))] {
		for _, a := range e.Addresses[:min(1, len(e.Addresses))] {
			same("show", "address", a)
			same("screen", a)
			checks++
		}
	}
	for h := int64(100); h <= 400; h += 150 {
		blk := decode[struct {
			TxIDs []string `json:"txids"`
		}](t, same("show", "block", fmt.Sprint(h)))
		for _, txid := range blk.TxIDs {
			same("show", "tx", txid)
			checks++
		}
	}
	if len(truth.Heists) == 0 || checks < 10 {
		t.Fatalf("only %d heists and %d answers compared", len(truth.Heists), checks)
	}
	t.Logf("%d answers alike on the three stores", checks)

	testDistributedPlans(t, cs[0], coord, truth)
	testDistributedStats(t, coord, plain)
	testShardUniqueness(t, coord, truth)
	testDistributedRewind(t, coord, plain)
}

// partitionOf returns the partition of table holding txid's rows.
func partitionOf(t *testing.T, url, table, txid string) string {
	t.Helper()
	h, err := heistgraph.ParseHash(txid)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var p string
	if err := conn.QueryRow(context.Background(), "SELECT DISTINCT tableoid::regclass::text FROM "+table+" WHERE txid = $1", h[:]).Scan(&p); err != nil {
		t.Fatalf("partition of %s %s: %v", table, txid, err)
	}
	return p
}

// plannedScan matches a scan of a partition in an auto_explain plan.
var plannedScan = regexp.MustCompile(`(Foreign Scan|Index Scan(?: Backward)? using \S+|Seq Scan|Bitmap Heap Scan|Index Only Scan using \S+) on public\.((txs|outputs|inputs)_\d)`)

// testDistributedPlans runs show tx on the coordinator for
// a transaction on a remote shard, and checks the plans auto_explain logged
// for the store's point queries: each reads the one partition the
// distribution key names, by a foreign scan whose remote SQL carries the
// key. The resolution of an output's spender (keyed by the spent
// outpoint, not the spender's txid) asks every shard.
func testDistributedPlans(t *testing.T, c *pgtest.Cluster, coord string, truth *synth.Truth) {
	var txid, part string
	for _, h := range truth.Heists {
		txid = strings.Split(h.Seeds[0], ":")[0]
		if part = partitionOf(t, coord, "txs", txid); part != "txs_0" {
			break
		}
	}
	shard := part[len(part)-1:]
	if shard == "0" {
		t.Fatal("every heist's transaction is on the coordinator's partition")
	}
	// The store's new sessions on the coordinator log the plan of every
	// query they run, as they run it.
	cfg, err := pgx.ParseConfig(coord)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"session_preload_libraries = 'auto_explain'", "auto_explain.log_min_duration = 0", "auto_explain.log_verbose = on", "auto_explain.log_nested_statements = on"} {
		sqlExec(t, coord, fmt.Sprintf("ALTER DATABASE %s SET %s", cfg.Database, s))
	}
	before, err := c.Log()
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, cli(t, "--store", coord, "--json", "--chain", "btc-regtest", "show", "tx", txid), "show tx")
	log, err := c.Log()
	if err != nil {
		t.Fatal(err)
	}
	plans := strings.Split(string(log[len(before):]), "LOG:  duration: ")
	h, err := heistgraph.ParseHash(txid)
	if err != nil {
		t.Fatal(err)
	}
	inTxid := "txid = E'\\\\x" + hex.EncodeToString(h[:]) // in the remote SQL (stored byte order)
	for _, q := range []struct {
		name, prefix string
		keyed        string         // the partition the key names
		scans        map[string]int // partitions of each table scanned
	}{
		{"show tx: the transaction", "SELECT t.idx, t.wtxid", "txs_" + shard, map[string]int{"txs_" + shard: 1}},
		{"show tx: its inputs, each with the output it spends", "SELECT i.prev_txid, i.prev_vout", "inputs_" + shard,
			map[string]int{"inputs_" + shard: 1, "txs_" + shard: 1, "outputs_0": 1, "outputs_1": 1, "outputs_2": 1}},
		{"show tx: its outputs, each with its spender", "SELECT o.value, o.script, o.type, o.address, o.keys, sp.txid", "outputs_" + shard,
			map[string]int{"outputs_" + shard: 1, "txs_" + shard: 1, "inputs_0": 1, "inputs_1": 1, "inputs_2": 1}},
	} {
		var plan string
		for _, p := range plans {
			if i := strings.Index(p, "Query Text: "); i >= 0 && strings.HasPrefix(p[i+len("Query Text: "):], q.prefix) && strings.Contains(p, inTxid) {
				plan = p
				break
			}
		}
		if plan == "" {
			t.Errorf("%s: no plan of the query %q... for txid %s logged", q.name, q.prefix, txid)
			continue
		}
		t.Logf("%s (txid %s on shard %s):\n%s", q.name, txid, shard, plan)
		got := map[string]int{}
		for _, m := range plannedScan.FindAllStringSubmatch(plan, -1) {
			got[m[2]]++
		}
		if fmt.Sprint(got) != fmt.Sprint(q.scans) {
			t.Errorf("%s: partitions scanned %v, want %v", q.name, got, q.scans)
		}
		if !regexp.MustCompile(`Foreign Scan on public\.` + q.keyed + `\b(?:.*\n){1,3}\s*Remote SQL: .*` + regexp.QuoteMeta(inTxid)).MatchString(plan) {
			t.Errorf("%s: no foreign scan of %s with the txid in its remote SQL", q.name, q.keyed)
		}
	}
}

// testShardUniqueness: the coordinator's partitioned txs has no primary key
// (PostgreSQL cannot enforce one over foreign partitions), but every key
// lives on one shard, whose primary key refuses a copy of a stored row.
func testShardUniqueness(t *testing.T, coord string, truth *synth.Truth) {
	conn, err := pgx.Connect(context.Background(), coord)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, h := range truth.Heists {
		txid := strings.Split(h.Seeds[0], ":")[0]
		h, err := heistgraph.ParseHash(txid)
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(context.Background(), "INSERT INTO txs SELECT * FROM txs WHERE txid = $1", h[:])
		if err == nil || !strings.Contains(err.Error(), "duplicate key") {
			t.Errorf("a second copy of tx %s (partition %s) through the coordinator: error %v, want the shard's duplicate key", txid, partitionOf(t, coord, "txs", txid), err)
		}
	}
}

// testDistributedStats: store stats --keys on the partitioned store lists
// each distributed table's partitions beside it, the foreign ones without
// bytes of their own here, and their rows add up to the parent's and to
// the rows of the same table on one database.
func testDistributedStats(t *testing.T, coord, plain string) {
	t.Helper()
	stats := func(url string) map[string]store.FamilyStats {
		r := cli(t, "--store", url, "--json", "store", "stats", "--keys")
		mustOK(t, r, "store stats --keys")
		m := map[string]store.FamilyStats{}
		for _, f := range decode[store.StatsReport](t, r.stdout).Families {
			m[f.Family] = f
		}
		return m
	}
	dist, one := stats(coord), stats(plain)
	for _, d := range distributedTables {
		parent, want := dist[d.table], one[d.table]
		if parent.Keys == nil || want.Keys == nil || *parent.Keys != *want.Keys || *want.Keys == 0 || parent.DiskBytes != 0 {
			t.Errorf("table %s: %+v distributed, %+v on one database; want the same rows, and no bytes on the parent", d.table, parent, want)
			continue
		}
		var sum int64
		for i := range 3 {
			p, ok := dist[fmt.Sprintf("%s_%d", d.table, i)]
			if !ok || p.Keys == nil || p.Table == "" || !strings.HasPrefix(p.Table, "partition of "+d.table) || (i > 0) != (p.DiskBytes == 0) {
				t.Errorf("partition %d of %s: %+v (found %v); want counted rows, named its parent's, bytes on the local one only", i, d.table, p, ok)
				continue
			}
			sum += *p.Keys
		}
		if sum != *want.Keys {
			t.Errorf("table %s: the partitions hold %d rows, the table %d", d.table, sum, *want.Keys)
		}
	}
}

// testDistributedRewind rewinds both PostgreSQL stores by ten blocks: the
// deletes reach the shards, and both keep the same rows.
func testDistributedRewind(t *testing.T, coord, plain string) {
	ctx := context.Background()
	var digests []heistgraph.Hash
	for _, u := range []string{plain, coord} {
		db, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		before, err := db.Digest(ctx, heistgraph.ChainBTCRegtest)
		if err != nil {
			t.Fatal(err)
		}
		tip, err := db.Tip(ctx, heistgraph.ChainBTCRegtest)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.RewindTo(ctx, heistgraph.ChainBTCRegtest, tip.Height-10); err != nil {
			t.Fatal(err)
		}
		after, err := db.Digest(ctx, heistgraph.ChainBTCRegtest)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		if before == after {
			t.Errorf("rewind changed nothing")
		}
		digests = append(digests, before, after)
	}
	if digests[0] != digests[2] || digests[1] != digests[3] {
		t.Errorf("digests (before, after rewind) one database %s %s, distributed %s %s", digests[0], digests[1], digests[2], digests[3])
	}
}

func sqlExec(t *testing.T, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
