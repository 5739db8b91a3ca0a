package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/internal/pgtest"
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
// for a sample of blocks and every transaction in them. (show address
// needs the clusters role, which store/postgres does not have yet.)
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
	txs := 0
	for h := int64(0); h < sum.Blocks; h += 25 {
		var blk struct {
			TxIDs []string `json:"txids"`
		}
		if err := json.Unmarshal([]byte(same("show", "block", strconv.FormatInt(h, 10))), &blk); err != nil {
			t.Fatal(err)
		}
		for _, txid := range blk.TxIDs {
			same("show", "tx", txid)
			txs++
		}
	}
	if txs == 0 {
		t.Fatal("no transaction in the sampled blocks: the JSON field read here is wrong")
	}
}
