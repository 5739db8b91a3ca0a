package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph/internal/pgtest"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/postgres"
	"github.com/heistgraph/heistgraph/synth"
)

// TestPostgresUnreachable: a --store database nobody answers for is exit 1,
// naming host and port and never the password.
func TestPostgresUnreachable(t *testing.T) {
	const password = "s3cret-Pw-7"
	r := cli(t, "--store", "postgres://analyst:"+password+"@127.0.0.1:1/hg?connect_timeout=5", "show", "block", "1")
	if r.code != 1 || !strings.Contains(r.stderr, "127.0.0.1:1") || strings.Contains(r.stderr+r.stdout, password) {
		t.Errorf("exit %d, stderr %q; want exit 1 naming 127.0.0.1:1 and not the password", r.code, r.stderr)
	}
}

// TestPostgresIngest ingests the small synthetic world into Pebble and into
// a real PostgreSQL, and checks that show answers the same JSON on both
// for a sample of blocks and every transaction in them, and for show
// address (totals, labels, cluster) of an output address of a few of them.
func TestPostgresIngest(t *testing.T) {
	c := pgtest.Start(t)
	pg := c.NewDatabase(t)
	base := t.TempDir()
	world, data := filepath.Join(base, "world"), filepath.Join(base, "data")
	sum, err := synth.Generate(context.Background(), synth.Options{Dir: world, Seed: 1, Scale: synth.Small})
	if err != nil {
		t.Fatal(err)
	}
	ingest := []string{"--quiet", "ingest", "btc", "--blocks", world, "--network", "regtest", "--cluster=false"}
	mustOK(t, cli(t, append([]string{"--data", data}, ingest...)...), "ingest into Pebble")
	mustOK(t, cli(t, append([]string{"--store", pg}, ingest...)...), "ingest into PostgreSQL")

	same := func(args ...string) string {
		t.Helper()
		a := cli(t, append([]string{"--data", data, "--json", "--chain", "btc-regtest"}, args...)...)
		b := cli(t, append([]string{"--store", pg, "--json", "--chain", "btc-regtest"}, args...)...)
		if a.code != b.code || a.stdout != b.stdout {
			t.Fatalf("%v: Pebble exit %d %s\nPostgreSQL exit %d %s %s", args, a.code, a.stdout, b.code, b.stdout, b.stderr)
		}
		mustOK(t, a, strings.Join(args, " "))
		return a.stdout
	}
	txs, addrs := 0, 0
	for h := int64(0); h < sum.Blocks; h += 25 {
		var blk struct {
			TxIDs []string `json:"txids"`
		}
		if err := json.Unmarshal([]byte(same("show", "block", strconv.FormatInt(h, 10))), &blk); err != nil {
			t.Fatal(err)
		}
		for i, txid := range blk.TxIDs {
			out := same("show", "tx", txid)
			txs++
			if i > 0 || h > 100 {
				continue
			}
			var tx struct {
				Outputs []struct {
					Address *string `json:"address"`
				} `json:"outputs"`
			}
			if err := json.Unmarshal([]byte(out), &tx); err != nil {
				t.Fatal(err)
			}
			if len(tx.Outputs) > 0 && tx.Outputs[0].Address != nil {
				same("show", "address", *tx.Outputs[0].Address)
				addrs++
			}
		}
	}
	if addrs == 0 {
		t.Error("no address compared: the JSON field read here is wrong")
	}
	if txs == 0 {
		t.Fatal("no transaction in the sampled blocks: the JSON field read here is wrong")
	}
	checkPostgresStats(t, pg, sum)
}

// checkPostgresStats: store stats on PostgreSQL names the store's tables,
// sums their bytes to the store's, counts with --keys the rows the ingest
// wrote (a block row each, the genesis block's included, and a tx row each),
// and prints them as text without the connection string.
func checkPostgresStats(t *testing.T, pg string, sum synth.Summary) {
	t.Helper()
	r := cli(t, "--store", pg, "--json", "store", "stats", "--keys")
	mustOK(t, r, "store stats --keys on PostgreSQL")
	var rep store.StatsReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("store stats --json: %v: %s", err, r.stdout)
	}
	if rep.Backend != "postgres" || rep.Levels == nil || len(rep.Levels) != 0 {
		t.Errorf("backend %q, levels %v; want postgres and no levels", rep.Backend, rep.Levels)
	}
	var disk, idx int64
	byName := map[string]store.FamilyStats{}
	for _, f := range rep.Families {
		disk += int64(f.DiskBytes)
		idx += int64(f.IndexBytes)
		byName[f.Family] = f
		if f.Table == "" || f.Keys == nil || f.Rows == nil || f.IndexBytes > f.DiskBytes {
			t.Errorf("table %+v: want a description, counted rows, an estimate and indexes within its bytes", f)
		}
	}
	if disk != rep.DiskBytes || idx != rep.IndexBytes || rep.TableBytes != disk-idx || disk == 0 {
		t.Errorf("disk %d, indexes %d, tables %d; the tables sum to %d and %d", rep.DiskBytes, rep.IndexBytes, rep.TableBytes, disk, idx)
	}
	want := map[string]int64{"blocks": sum.Blocks + 1, "txs": sum.Txs + 1}
	for name, n := range want {
		f, ok := byName[name]
		if !ok || f.Keys == nil || *f.Keys != n {
			t.Errorf("table %s: %+v; want %d rows", name, f, n)
		}
	}
	r = cli(t, "--store", pg, "store", "stats")
	mustOK(t, r, "store stats on PostgreSQL")
	if !strings.Contains(r.stdout, "store (PostgreSQL):") || !strings.Contains(r.stdout, "transactions") || strings.Contains(r.stdout, pg) {
		t.Errorf("store stats text: %s; want the PostgreSQL heading and the txs table, without the connection string", r.stdout)
	}
}

// TestStoreMigrate: store migrate brings an empty database to the binary's
// schema version and then has nothing to do; a database of another
// application, or one newer than the binary, is refused with exit 1 and
// left as it was.
func TestStoreMigrate(t *testing.T) {
	c := pgtest.Start(t)
	type migration struct {
		Backend string `json:"backend"`
		From    int    `json:"from_version"`
		To      int    `json:"to_version"`
		Applied int    `json:"applied"`
	}
	migrate := func(url string) (migration, result) {
		t.Helper()
		r := cli(t, "--store", url, "--json", "store", "migrate")
		var m migration
		if r.code == 0 {
			if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
				t.Fatalf("store migrate --json: %v: %s", err, r.stdout)
			}
		}
		return m, r
	}
	url := c.NewDatabase(t)
	m, r := migrate(url)
	mustOK(t, r, "store migrate")
	want := migration{Backend: "postgres", From: 0, To: postgres.SchemaVersion(), Applied: postgres.SchemaVersion()}
	if m != want {
		t.Errorf("first migrate: %+v, want %+v", m, want)
	}
	m, r = migrate(url)
	mustOK(t, r, "store migrate again")
	if want.From, want.Applied = want.To, 0; m != want {
		t.Errorf("second migrate: %+v, want %+v", m, want)
	}

	tables := func(url string) string {
		t.Helper()
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var names string
		if err := conn.QueryRow(context.Background(), "SELECT coalesce(string_agg(table_name, ',' ORDER BY table_name), '') FROM information_schema.tables WHERE table_schema = 'public'").Scan(&names); err != nil {
			t.Fatal(err)
		}
		return names
	}
	foreign := c.NewDatabase(t)
	sqlExec(t, foreign, "CREATE TABLE invoices (id int)")
	_, r = migrate(foreign)
	if r.code != 1 || !strings.Contains(r.stderr, "another application") {
		t.Errorf("database of another application: exit %d, stderr %q; want exit 1 saying so", r.code, r.stderr)
	}
	if got := tables(foreign); got != "invoices" {
		t.Errorf("refused database now holds tables %s", got)
	}
	sqlExec(t, url, "UPDATE heistgraph_meta SET value = '999' WHERE key = 'schema_version'")
	_, r = migrate(url)
	if r.code != 1 || !strings.Contains(r.stderr, "schema version 999 is newer") {
		t.Errorf("newer database: exit %d, stderr %q; want exit 1 naming version 999", r.code, r.stderr)
	}
	r = cli(t, "--data", t.TempDir(), "--json", "store", "migrate")
	var pm map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &pm); r.code != 0 || err != nil || pm["backend"] != "pebble" || pm["applied"] != 0.0 || len(pm) != 2 {
		t.Errorf("store migrate on the embedded store: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// TestPostgresIngestKilledResumes SIGKILLs real child processes ingesting
// mainnet blocks 0-14131 into PostgreSQL (batches of blocks, one
// transaction each) at random moments, and checks that a rerun completes
// to exactly the digest of a clean run; then that show, trace and screen
// answer the same JSON as Pebble holding the same blocks.
func TestPostgresIngestKilledResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; slow")
	}
	c := pgtest.Start(t)
	blk := mainnetBlkFile(t)
	pgDigest := func(url string) (string, int64) {
		t.Helper()
		r := cli(t, "--store", url, "--json", "store", "digest", "--chain", "btc")
		if r.code == exitFailure && strings.Contains(r.stderr, "no blocks of chain btc") {
			return "", -1
		}
		mustOK(t, r, "store digest")
		v := decode[map[string]any](t, r.stdout)
		h, _ := v["tip_height"].(float64)
		return v["digest"].(string), int64(h)
	}

	clean := c.NewDatabase(t)
	start := time.Now()
	mustOK(t, cli(t, "--store", clean, "--quiet", "ingest", "btc", "--blocks", blk, "--cluster=false"), "clean ingest")
	full := time.Since(start)
	want, _ := pgDigest(clean)

	seed := uint64(time.Now().UnixNano())
	t.Logf("clean ingest %v; kill seed %d", full, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	url := c.NewDatabase(t)
	partial := 0
	for i := 0; i < 12 && partial < 2; i++ {
		cmd := exec.Command(os.Args[0], "--store", url, "--quiet", "ingest", "btc", "--blocks", blk, "--cluster=false")
		cmd.Env = append(os.Environ(), "HEISTGRAPH_TEST_CLI=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(full) + 1)))
		_ = cmd.Process.Kill()
		werr := cmd.Wait()
		_, tip := pgDigest(url)
		t.Logf("kill %d: exit %v, store tip %d", i, werr, tip)
		if werr != nil && tip > 0 && tip < 14131 {
			partial++
		}
		if tip == 14131 { // finished before the kill: start over
			url = c.NewDatabase(t)
		}
	}
	if partial == 0 {
		t.Fatal("no kill landed in the middle of the writes")
	}
	mustOK(t, cli(t, "--store", url, "--quiet", "ingest", "btc", "--blocks", blk, "--cluster=false"), "final rerun")
	if got, _ := pgDigest(url); got != want {
		t.Fatalf("digest after kills and rerun %s, clean %s", got, want)
	}

	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blk, "--cluster=false"), "ingest into Pebble")
	for _, args := range [][]string{
		{"show", "block", "14131"},
		{"show", "block", hash170},
		{"show", "tx", tx170},
		{"show", "address", satoshi},
		{"show", "address", hal},
		{"trace", "--seed", tx170 + ":0", "--policy", "haircut"},
		{"trace", "--seed", tx170 + ":1", "--policy", "fifo", "--max-hops", "20"},
		{"screen", hal},
	} {
		a := cli(t, append([]string{"--data", data, "--json", "--chain", "btc"}, args...)...)
		b := cli(t, append([]string{"--store", url, "--json", "--chain", "btc"}, args...)...)
		a.stdout = msField.ReplaceAllString(a.stdout, `"ms": 0`)
		b.stdout = msField.ReplaceAllString(b.stdout, `"ms": 0`)
		mustOK(t, a, strings.Join(args, " ")+" on Pebble")
		if b.code != a.code || b.stdout != a.stdout {
			t.Errorf("%v: Pebble %s\nPostgreSQL exit %d %s %s", args, a.stdout, b.code, b.stdout, b.stderr)
		}
	}
}
