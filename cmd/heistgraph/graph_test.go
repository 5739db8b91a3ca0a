package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGraphBuildCLI builds the transaction graph of a synthetic world and
// traces its heists with it and without it (--no-graph): the same JSON but
// for stats.ms, under every policy and through CoinJoins; a second build
// finds it current, a damaged graph is passed over, and one damaged inside
// its arrays is rebuilt by the next build.
func TestGraphBuildCLI(t *testing.T) {
	_, data, truth := tracedWorld(t)
	r := cli(t, "--data", data, "--json", "graph", "build")
	mustOK(t, r, "graph build")
	v := decode[struct {
		Chain   string `json:"chain"`
		Path    string `json:"path"`
		Rebuilt bool   `json:"rebuilt"`
		Blocks  int    `json:"blocks"`
		Txs     int    `json:"txs"`
		Tip     int64  `json:"tip_height"`
	}](t, r.stdout)
	// The store holds the regtest genesis block too: one block and one
	// transaction more than the world wrote.
	if v.Chain != "btc-regtest" || !v.Rebuilt || int64(v.Txs) != truth.Txs+1 || v.Blocks != int(truth.Blocks)+1 || v.Tip != truth.Blocks || v.Path != filepath.Join(data, "txgraph", "btc-regtest.txg") {
		t.Fatalf("graph build: %+v; want btc-regtest rebuilt, %d txs, tip %d", v, truth.Txs+1, truth.Blocks)
	}
	same := func(args ...string) {
		t.Helper()
		with := cli(t, append([]string{"--data", data, "--json", "trace"}, args...)...)
		mustOK(t, with, "trace with the graph")
		without := cli(t, append([]string{"--data", data, "--json", "trace", "--no-graph"}, args...)...)
		mustOK(t, without, "trace --no-graph")
		if msField.ReplaceAllString(with.stdout, "") != msField.ReplaceAllString(without.stdout, "") {
			t.Fatalf("trace %v: the graph's answer differs from the store's", args)
		}
	}
	// The clusters' ids beside the graph, which trace resolves through.
	cid := filepath.Join(data, "txgraph", "btc-regtest.cid")
	if _, err := os.Stat(cid); err != nil {
		t.Fatalf("graph build wrote no cluster ids: %v", err)
	}
	for _, h := range truth.Heists[:2] {
		for _, p := range []string{"haircut", "poison", "fifo", "lifo", "tiho"} {
			same(append(seedArgs(h), "--policy", p, "--through-coinjoin", "haircut")...)
		}
		same(seedArgs(h)...)
		same(append(seedArgs(h), "--compare")...)
	}

	r = cli(t, "--data", data, "graph", "build")
	mustOK(t, r, "graph build again")
	if want := "already current"; !strings.Contains(r.stdout, want) {
		t.Fatalf("second build: %q, want %q", r.stdout, want)
	}
	// A graph damaged inside its arrays opens (Open reads its header):
	// the trace meets the damage where it reads (every output's address
	// id out of bounds) and answers from the store; graph build checks
	// the current graph whole and rebuilds it.
	good, err := os.ReadFile(v.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(v.Path, damagedAddrs(t, good), 0o644); err != nil {
		t.Fatal(err)
	}
	same(seedArgs(truth.Heists[0])...)
	r = cli(t, "--data", data, "graph", "build")
	mustOK(t, r, "graph build of a damaged graph")
	if want := "btc-regtest built"; !strings.Contains(r.stdout, want) {
		t.Fatalf("build of a damaged graph: %q, want %q", r.stdout, want)
	}
	if b, err := os.ReadFile(v.Path); err != nil || !bytes.Equal(b, good) {
		t.Fatalf("the rebuilt graph differs from the first build (%v)", err)
	}
	// Damaged cluster ids are passed over: the store answers.
	if err := os.WriteFile(cid, []byte("not cluster ids"), 0o644); err != nil {
		t.Fatal(err)
	}
	same(seedArgs(truth.Heists[0])...)
	// A damaged graph is passed over: the store answers.
	if err := os.WriteFile(v.Path, []byte("not a graph"), 0o644); err != nil {
		t.Fatal(err)
	}
	same(seedArgs(truth.Heists[0])...)
}

// damagedAddrs returns graph file b with every output's address id out of
// bounds (txgraph's file layout: a JSON header of sections after the
// magic and its length).
func damagedAddrs(t *testing.T, b []byte) []byte {
	t.Helper()
	var m struct {
		Sections []struct {
			Name string `json:"name"`
			Off  uint64 `json:"off"`
			Len  uint64 `json:"len"`
		} `json:"sections"`
	}
	if err := json.Unmarshal(b[16:16+binary.LittleEndian.Uint64(b[8:16])], &m); err != nil {
		t.Fatal(err)
	}
	d := bytes.Clone(b)
	for _, s := range m.Sections {
		if s.Name != "out_addr" {
			continue
		}
		for i := range s.Len {
			at := s.Off + 4*i
			if binary.LittleEndian.Uint32(d[at:]) != ^uint32(0) {
				binary.LittleEndian.PutUint32(d[at:], ^uint32(0)-9)
			}
		}
		return d
	}
	t.Fatal("no out_addr section")
	return nil
}
