package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph/internal/btcdtest"
	"github.com/heistgraph/heistgraph/internal/pgtest"
	"github.com/heistgraph/heistgraph/synth"
)

// dumpOf runs store dump with the store flags given and returns its output.
func dumpOf(t *testing.T, storeArgs ...string) string {
	t.Helper()
	r := cli(t, append(storeArgs, "store", "dump")...)
	mustOK(t, r, "store dump")
	if r.stdout == "" {
		t.Fatal("store dump printed nothing")
	}
	return r.stdout
}

// pgDump returns the dump of the PostgreSQL database at url after an
// ANALYZE, as autovacuum would leave it: on tables just loaded the planner
// has no statistics and reads each address's totals by scanning every
// input of the chain.
func pgDump(t *testing.T, url string, args ...string) string {
	t.Helper()
	sqlExec(t, url, "ANALYZE")
	return dumpOf(t, append([]string{"--store", url}, args...)...)
}

// firstDiffText shows the first line where a and b differ.
func firstDiffText(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  %s\n  %s", i+1, x, y)
		}
	}
	return "(equal)"
}

// prefixWorld writes the first n blocks of the small synthetic world of
// seed into a folder (one blk file) with the world's labels, and returns
// the folder.
func prefixWorld(t *testing.T, seed int64, n int) string {
	t.Helper()
	base := t.TempDir()
	world, dir := filepath.Join(base, "world"), filepath.Join(base, "prefix")
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: world, Seed: seed, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(world, "blk00000.dat"))
	if err != nil {
		t.Fatal(err)
	}
	end := 0
	for range n { // records: magic(4), length(4, little-endian), block
		if end+8 > len(raw) {
			t.Fatalf("the world has fewer than %d blocks", n)
		}
		end += 8 + int(binary.LittleEndian.Uint32(raw[end+4:]))
	}
	labels, err := os.ReadFile(filepath.Join(world, synth.LabelsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"blk00000.dat": raw[:end], synth.LabelsFile: labels} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ingestArgs ingest a prefixWorld folder (clustering as it goes).
func ingestArgs(world string) []string {
	return []string{"--quiet", "ingest", "btc", "--blocks", world, "--network", "regtest"}
}

// TestStoreDumpPostgres: a synthetic world (clustered as it is ingested)
// and its labels, ingested into Pebble and into a real PostgreSQL, dump
// byte-identically, whole and by chain, and so does a synthetic EVM world; so does PostgreSQL after ingests
// SIGKILLed at random moments (one fresh database each) and run again; a
// bad --chain is exit 2 naming it.
func TestStoreDumpPostgres(t *testing.T) {
	c := pgtest.Start(t)
	pg, data := c.NewDatabase(t), t.TempDir()
	world := prefixWorld(t, 5, 150)
	labels := []string{"--quiet", "labels", "import", filepath.Join(world, synth.LabelsFile), "--format", "csv"}
	var took time.Duration
	for _, st := range [][]string{{"--data", data}, {"--store", pg}} {
		start := time.Now()
		mustOK(t, cli(t, append(st, ingestArgs(world)...)...), "ingest")
		took = time.Since(start)
		mustOK(t, cli(t, append(st, labels...)...), "labels import")
	}
	want := dumpOf(t, "--data", data)
	if got := pgDump(t, pg); got != want {
		t.Fatalf("Pebble and PostgreSQL dumps differ:\n%s", firstDiffText(got, want))
	}
	for _, kind := range []string{"block", "tx", "output", "address", "cluster", "evidence", "label"} {
		if !strings.Contains(want, `{"kind":"`+kind+`"`) {
			t.Errorf("no %s line in the dump", kind)
		}
	}
	t.Run("chain", func(t *testing.T) {
		one := pgDump(t, pg, "--chain", "btc-regtest")
		var lines strings.Builder
		for _, l := range strings.SplitAfter(want, "\n") {
			if strings.Contains(l, `"chain":"btc-regtest",`) {
				lines.WriteString(l)
			}
		}
		if one != lines.String() {
			t.Errorf("dump --chain btc-regtest is not the chain's lines of the whole dump:\n%s", firstDiffText(one, lines.String()))
		}
		for _, bad := range []string{"etherium", "BTC-main"} {
			r := cli(t, "--data", data, "--json", "store", "dump", "--chain", bad)
			if r.code != exitUsage || !strings.Contains(r.stderr, bad) || r.stdout != "" {
				t.Errorf("--chain %q: exit %d, stderr %q; want exit 2 naming it and no output", bad, r.code, r.stderr)
			}
		}
	})
	t.Run("evm", func(t *testing.T) {
		world := filepath.Join(t.TempDir(), "evm")
		mustOK(t, cli(t, "--quiet", "synth", "--out", world, "--seed", "2", "--scale", "small", "--chain", "evm", "--linked=false"), "synth --chain evm")
		pg, data := c.NewDatabase(t), t.TempDir()
		for _, st := range [][]string{{"--data", data}, {"--store", pg}} {
			mustOK(t, cli(t, append(st, "--quiet", "ingest", "evm", "--files", world, "--chain", "evm-synth")...), "ingest evm")
		}
		want := dumpOf(t, "--data", data, "--chain", "evm-synth")
		if got := pgDump(t, pg, "--chain", "evm-synth"); got != want {
			t.Fatalf("Pebble and PostgreSQL dumps of the EVM world differ:\n%s", firstDiffText(got, want))
		}
		for _, kind := range []string{"block", "tx", "transfer", "account", "token"} {
			if !strings.Contains(want, `{"kind":"`+kind+`"`) {
				t.Errorf("no %s line in the EVM dump", kind)
			}
		}
	})
	t.Run("killed", func(t *testing.T) {
		seed := uint64(time.Now().UnixNano())
		t.Logf("kill moments from seed %d; an ingest takes %v", seed, took)
		rng := rand.New(rand.NewPCG(seed, 1))
		for i := range 3 {
			url := c.NewDatabase(t)
			// Spread over the run: the start (migrations, first blocks),
			// the middle, the end (clustering, the last commits).
			at := took*time.Duration(i)/3 + time.Duration(rng.Int64N(int64(took/3)))
			if !ingestChild(t, url, world, at) {
				t.Logf("ingest finished before the kill at %v", at)
			}
			ingestChild(t, url, world, 0)
			mustOK(t, cli(t, append([]string{"--store", url}, labels...)...), "labels import")
			if got := pgDump(t, url); got != want {
				t.Fatalf("killed at %v and run again, the dump differs from a clean run's:\n%s", at, firstDiffText(got, want))
			}
		}
	})
}

// ingestChild runs heistgraph ingest of world into the PostgreSQL database
// at url as a child process, SIGKILLed after kill (never when 0), and
// reports whether the kill came first.
func ingestChild(t *testing.T, url, world string, kill time.Duration) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := child(ctx, append([]string{"--store", url}, ingestArgs(world)...)...)
	var stderr bytes.Buffer
	p.Stderr = &stderr
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if kill > 0 {
		timer := time.AfterFunc(kill, func() { _ = p.Process.Signal(syscall.SIGKILL) })
		defer timer.Stop()
	}
	err := p.Wait()
	if ws, ok := p.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signal() == syscall.SIGKILL {
		return true
	}
	if err != nil {
		t.Fatalf("ingest: %v\n%s", err, stderr.String())
	}
	return false
}

// TestStoreDumpNode: a real btcd node's chain, with spends and a reorg
// that the store follows, dumps the same whether ingested from the node
// (before and after the reorg) or from its best chain's blocks in a file.
func TestStoreDumpNode(t *testing.T) {
	node := btcdtest.Start(t, btcdtest.Options{})
	hashes := node.Generate(t, 101)
	var txs []btcdtest.Coin
	for i, k := range []*btcdtest.Key{btcdtest.NewKey("a", btcdtest.P2PKH), btcdtest.NewKey("b", btcdtest.P2WPKH)} {
		cb := node.Coinbase(t, hashes[i])
		tx, err := btcdtest.Spend([]btcdtest.Coin{cb}, []btcdtest.Payment{{Key: k, Value: cb.Value / 3}, {Key: btcdtest.MinerKey(), Value: cb.Value - cb.Value/3 - 5000}})
		if err != nil {
			t.Fatal(err)
		}
		node.SendRawTransaction(t, tx.Hex())
		txs = append(txs, cb)
	}
	node.Generate(t, 3)
	fromNode := t.TempDir()
	mustOK(t, cli(t, append([]string{"--data", fromNode, "--quiet"}, rpcArgs(node)...)...), "ingest from the node")
	// A reorg: the last two blocks replaced by three others (their
	// transactions mined again).
	node.InvalidateBlock(t, node.BlockHash(t, node.Height(t)-1))
	node.Generate(t, 3)
	mustOK(t, cli(t, append([]string{"--data", fromNode, "--quiet"}, rpcArgs(node)...)...), "ingest from the node after the reorg")

	var hexes strings.Builder
	for h := int64(0); h <= node.Height(t); h++ {
		var raw string
		node.MustCall(t, &raw, "getblock", node.BlockHash(t, h), 0)
		hexes.WriteString(raw + "\n")
	}
	file := filepath.Join(t.TempDir(), "blocks.hex")
	if err := os.WriteFile(file, []byte(hexes.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	fromFile := t.TempDir()
	mustOK(t, cli(t, "--data", fromFile, "--quiet", "ingest", "btc", "--blocks", file, "--network", "regtest"), "ingest from the file")
	a, b := dumpOf(t, "--data", fromNode), dumpOf(t, "--data", fromFile)
	if a != b {
		t.Fatalf("ingested from the node and from a file, the dumps differ:\n%s", firstDiffText(a, b))
	}
	if n := strings.Count(a, `{"kind":"block"`); n != int(node.Height(t))+1 || len(txs) != 2 || !strings.Contains(a, `"spent_by":{`) {
		t.Fatalf("%d blocks in the dump, want %d, with spends", n, node.Height(t)+1)
	}
}
