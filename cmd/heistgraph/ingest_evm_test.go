package main

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/btcdtest"
	"github.com/heistgraph/heistgraph/internal/gethtest"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// readStore opens the store in data read-only, closed when the test ends.
func readStore(t *testing.T, data string) *pebble.DB {
	t.Helper()
	opts := pebble.DefaultOptions()
	opts.ReadOnly = true
	db, err := pebble.Open(data, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// storedBalance returns the store's balance of addr in asset, failing the
// test when the store flags it incomplete (it holds every block from 0).
// The dev account's sums pass 2^256 (its genesis balance is 2^256 − 9, and
// it receives priority fees), so Overflow may be set: the balance stays
// exact.
func storedBalance(t *testing.T, st store.AccountReader, addr common.Address, asset heistgraph.Asset) *big.Int {
	t.Helper()
	s, err := st.AccountSummary(context.Background(), "dev", heistgraph.EVMAddress(addr))
	if err != nil {
		return new(big.Int) // never seen: nothing
	}
	b, ok := s.Balance(asset)
	if !ok {
		return new(big.Int)
	}
	if b.Incomplete {
		t.Errorf("%s %s: balance flagged incomplete (deficit %s)", addr, asset, b.Deficit.Dec())
	}
	return b.Balance.ToBig()
}

// TestIngestEVMGeth runs the scenario's traps on a real geth --dev node,
// ingests its chain through the CLI, and checks that every account of the
// node's state has, per asset, the balance the node itself reports
// (eth_getBalance, balanceOf), the dev account included: it holds the
// genesis allocation, pays fees and receives the priority fees.
func TestIngestEVMGeth(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t, gethtest.Options{})
	sc := gethtest.RunScenario(t, node)
	data, dump := t.TempDir(), t.TempDir()
	r := cli(t, "--data", data, "--json", "ingest", "evm", "--rpc", node.RPCURL, "--chain", "dev", "--dump", dump)
	mustOK(t, r, "ingest evm")
	rep := decode[map[string]any](t, r.stdout)
	last := sc.Txs["failed_plain"].BlockNumber.Int64()
	tip, _ := rep["tip_height"].(float64)
	if rep["chain"] != "dev" || tip < float64(last) || rep["blocks"] != tip+1 || rep["internal_transfers_known"] != true || rep["tokens"] != float64(1) {
		t.Fatalf("report %v: want blocks 0..%d or more of dev, internal transfers known, one token", rep, last)
	}
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("a node with the debug API was warned about: %s", r.stderr)
	}
	st := readStore(t, data)
	ctx := context.Background()
	token := heistgraph.TokenAsset(heistgraph.EVMAddress(sc.Accounts["token"]))

	at := big.NewInt(int64(tip)) // the node may seal empty blocks meanwhile
	accounts := node.StateAccounts(t, int64(tip))
	// The child Forwarder created and destroyed in one transaction is gone
	// from the state; its ledger must net to zero.
	gone := crypto.CreateAddress(sc.Accounts["forwarder"], 2)
	accounts = append(accounts, gone)
	if len(accounts) < 10 {
		t.Fatalf("the node's state holds %d accounts: the scenario did not run", len(accounts))
	}
	for _, a := range accounts {
		if got, want := storedBalance(t, st, a, heistgraph.NativeAsset), node.Balance(t, a, at); got.Cmp(want) != 0 {
			t.Errorf("%s: stored native balance %s, the node says %s", a, got, want)
		}
		if got, want := storedBalance(t, st, a, token), node.TokenBalance(t, sc.Accounts["token"], a, at); got.Cmp(want) != 0 {
			t.Errorf("%s: stored token balance %s, the node says %s", a, got, want)
		}
	}
	for _, name := range []string{"alice", "bob", "carol", "dave", "erin", "forwarder", "child"} {
		if node.Balance(t, sc.Accounts[name], at).Sign() == 0 && name != "child" {
			t.Errorf("%s holds nothing: the scenario did not move value to it", name)
		}
	}
	if s, err := st.AccountSummary(ctx, "dev", heistgraph.EVMAddress(gone)); err != nil || s.Transfers != 2 {
		t.Errorf("the created-and-destroyed child: %+v %v; want credited and debited once", s, err)
	}

	// The traps, transaction by transaction.
	internal := func(name string) []heistgraph.Transfer {
		t.Helper()
		tr, err := st.AccountTx(ctx, "dev", heistgraph.EVMHash(sc.Txs[name].TxHash))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !tr.InternalKnown {
			t.Errorf("%s: internal transfers not known", name)
		}
		var out []heistgraph.Transfer
		for _, x := range tr.Transfers {
			if x.Kind == heistgraph.TransferInternal {
				out = append(out, x)
			}
		}
		return out
	}
	if got := internal("inner_revert"); len(got) != 0 {
		t.Errorf("inner_revert: internal transfers %+v, want none (the inner frame reverted)", got)
	}
	if got := internal("delegatecall"); len(got) != 1 || got[0].From != heistgraph.EVMAddress(sc.Accounts["forwarder"]) ||
		got[0].To != heistgraph.EVMAddress(sc.Accounts["carol"]) || got[0].Amount.ToBig().Cmp(gethtest.Ether(200)) != 0 {
		t.Errorf("delegatecall: internal transfers %+v, want one of 0.2 ETH from the forwarder to carol", got)
	}
	failed, err := st.AccountTx(ctx, "dev", heistgraph.EVMHash(sc.Txs["token_failed"].TxHash))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range failed.Transfers {
		if x.Kind != heistgraph.TransferFee && x.Kind != heistgraph.TransferPriorityFee {
			t.Errorf("failed token transfer moved %s %s: only its fee may move", x.Kind, x.Amount.Dec())
		}
	}
	if failed.Tx.Status != 0 || failed.Tx.Fee.IsZero() {
		t.Errorf("failed token transfer: status %d fee %s, want 0 and a fee", failed.Tx.Status, failed.Tx.Fee.Dec())
	}
	ti, err := st.Token(ctx, "dev", heistgraph.EVMAddress(sc.Accounts["token"]))
	if err != nil || ti.Symbol != "HTT" || ti.Decimals != 6 || !ti.Known {
		t.Errorf("token metadata %+v %v, want HTT with 6 decimals", ti, err)
	}

	// show address, tx and block in design.md's shapes, any case in.
	alice := sc.Accounts["alice"]
	r = cli(t, "--data", data, "--json", "show", "address", strings.ToLower(alice.Hex()))
	mustOK(t, r, "show address")
	av := decode[map[string]any](t, r.stdout)
	if av["address"] != alice.Hex() || av["chain"] != "dev" || av["balances_complete"] != true || av["cluster_id"] != nil {
		t.Errorf("show address: %v", av)
	}
	bals := map[string]map[string]any{}
	for _, b := range av["balances"].([]any) {
		bm := b.(map[string]any)
		bals[bm["asset"].(string)] = bm
	}
	if n := bals["native"]; n["amount"] != node.Balance(t, alice, at).String() || n["symbol"] != "ETH" || n["decimals"] != float64(18) {
		t.Errorf("show address: native balance %v, the node says %s", n, node.Balance(t, alice, at))
	}
	if tb := bals[sc.Accounts["token"].Hex()]; tb["amount"] != "3750000" || tb["symbol"] != "HTT" || tb["decimals"] != float64(6) {
		t.Errorf("show address: token balance %v, want 3750000 HTT (6 decimals)", tb)
	}
	r = cli(t, "--data", data, "show", "address", alice.Hex())
	mustOK(t, r, "show address for people")
	if !strings.Contains(r.stdout, "3.75 HTT") {
		t.Errorf("show address for people does not say 3.75 HTT:\n%s", r.stdout)
	}
	dc := sc.Txs["delegatecall"]
	r = cli(t, "--data", data, "--json", "show", "tx", dc.TxHash.Hex(), "--chain", "dev")
	mustOK(t, r, "show tx")
	tv := decode[map[string]any](t, r.stdout)
	var kinds []string
	for _, x := range tv["transfers"].([]any) {
		kinds = append(kinds, x.(map[string]any)["kind"].(string))
	}
	if tv["status"] != float64(1) || tv["internal_transfers_known"] != true || tv["block_height"] != float64(dc.BlockNumber.Int64()) ||
		strings.Join(kinds, ",") != "native,internal,fee,priority_fee" {
		t.Errorf("show tx delegatecall: %v (kinds %v), want native, internal, fee, priority_fee", tv, kinds)
	}
	r = cli(t, "--data", data, "--json", "show", "block", dc.BlockNumber.String(), "--chain", "dev")
	mustOK(t, r, "show block")
	if bv := decode[map[string]any](t, r.stdout); bv["fee_recipient"] != node.Dev.Hex() || bv["tx_count"] != float64(1) || bv["base_fee"] == nil {
		t.Errorf("show block: %v", bv)
	}

	// The dump, ingested from files, stores the same chain.
	fromFiles := t.TempDir()
	mustOK(t, cli(t, "--data", fromFiles, "ingest", "evm", "--files", dump, "--chain", "dev"), "ingest evm --files")
	d, err := st.Digest(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	r = cli(t, "--data", data, "--json", "store", "digest", "--chain", "dev")
	mustOK(t, r, "store digest")
	if dv := decode[map[string]any](t, r.stdout); dv["digest"] != fmt.Sprintf("%x", d[:]) || dv["tip_height"] != tip {
		t.Errorf("store digest --chain dev: %v, want %x at %v", dv, d[:], tip)
	}
	r = cli(t, "--data", data, "--json", "store", "check")
	mustOK(t, r, "store check")
	cv := decode[struct {
		Chains []map[string]any `json:"chains"`
	}](t, r.stdout)
	if len(cv.Chains) != 1 || cv.Chains[0]["chain"] != "dev" || cv.Chains[0]["tip_hash"] != rep["tip_hash"] {
		t.Errorf("store check: %v, want chain dev at its tip %v", cv, rep["tip_hash"])
	}
	if got := evmDigest(t, fromFiles); got != d {
		t.Errorf("ingested from its dump the chain's digest is %s, from the node %s", got, d)
	}
	if got, err := readStore(t, fromFiles).Token(ctx, "dev", ti.Address); err != nil || got != ti {
		t.Errorf("token from the dump %+v %v, want %+v", got, err, ti)
	}

	// The HTTP routes answer what show answers.
	_ = st.Close()
	_, key := createKey(t, data, "viewer")
	srv := startServe(t, data)
	for _, c := range []struct{ path, show string }{
		{"/v1/addresses/dev/" + strings.ToLower(alice.Hex()), "address"},
		{"/v1/txs/dev/" + dc.TxHash.Hex(), "tx"},
		{"/v1/blocks/dev/" + dc.BlockNumber.String(), "block"},
	} {
		code, _, body := srv.call(t, "GET", c.path, key, "")
		id := c.path[strings.LastIndex(c.path, "/")+1:]
		r := cli(t, "--data", data, "--json", "show", c.show, id, "--chain", "dev")
		if code != 200 || compactJSON(t, body) != compactJSON(t, []byte(r.stdout)) {
			t.Errorf("GET %s: %d %s\nshow %s: %s", c.path, code, body, c.show, r.stdout)
		}
	}
	// While serve holds the store, show reaches it, a 0x id without --chain
	// too.
	code, _, body := srv.call(t, "GET", "/v1/addresses/dev/"+alice.Hex(), key, "")
	r = cli(t, "--data", data, "--json", "show", "address", strings.ToLower(alice.Hex()))
	mustOK(t, r, "show address through serve")
	if code != 200 || compactJSON(t, body) != compactJSON(t, []byte(r.stdout)) {
		t.Errorf("show address through serve: %s\nthe route: %d %s", r.stdout, code, body)
	}
	for _, path := range []string{"/v1/txs/dev/0x12", "/v1/addresses/dev/0xnothex", "/v1/blocks/dev/-1"} {
		if code, _, body := srv.call(t, "GET", path, key, ""); code != 400 {
			t.Errorf("GET %s: %d %s, want 400", path, code, body)
		}
	}
	if code, _, body := srv.call(t, "GET", "/v1/txs/dev/0x"+strings.Repeat("ab", 32), key, ""); code != 404 {
		t.Errorf("GET an unknown tx: %d %s, want 404", code, body)
	}
}

// TestIngestEVMWrongChain: a node whose chain id is not --chain's is bad
// input (exit 2), said before anything is written.
func TestIngestEVMWrongChain(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t, gethtest.Options{})
	data := t.TempDir()
	r := cli(t, "--data", data, "ingest", "evm", "--rpc", node.RPCURL, "--chain", "eth")
	if r.code != 2 || !strings.Contains(r.stderr, "chain id 1337 (dev), not eth's 1") {
		t.Fatalf("exit %d, stderr %q: want 2 naming both chain ids", r.code, r.stderr)
	}
}

// TestIngestEVMNoDebug: a node without the debug API is said so once, and
// its blocks are ingested without internal transfers, flagged.
func TestIngestEVMNoDebug(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t, gethtest.Options{APIs: []string{"eth", "net", "web3"}})
	cs, err := gethtest.Contracts()
	if err != nil {
		t.Fatal(err)
	}
	fw := node.Deploy(t, cs["Forwarder"], nil)
	bob := gethtest.AddressOf(gethtest.NewKey("bob"))
	fwd := node.Send(t, gethtest.Tx{To: &fw, Value: gethtest.Ether(5), Data: gethtest.Pack(t, cs["Forwarder"], "forward", bob)})
	node.Send(t, gethtest.Tx{To: &bob, Value: gethtest.Ether(1)})
	data := t.TempDir()
	r := cli(t, "--data", data, "--json", "ingest", "evm", "--rpc", node.RPCURL, "--chain", "dev")
	mustOK(t, r, "ingest evm without debug")
	if n := strings.Count(r.stderr, "no call traces"); n != 1 {
		t.Errorf("stderr says %d times that the node has no call traces, want once:\n%s", n, r.stderr)
	}
	if rep := decode[map[string]any](t, r.stdout); rep["internal_transfers_known"] != false {
		t.Errorf("report %v: want internal_transfers_known false", rep)
	}
	st := readStore(t, data)
	tr, err := st.AccountTx(context.Background(), "dev", heistgraph.EVMHash(fwd.TxHash))
	if err != nil {
		t.Fatal(err)
	}
	if tr.InternalKnown {
		t.Error("a block ingested without traces is not flagged")
	}
	for _, x := range tr.Transfers {
		if x.Kind == heistgraph.TransferInternal {
			t.Errorf("an internal transfer without traces: %+v", x)
		}
	}
}

// TestIngestEVMNodeDrops cuts the connection to the node in the middle of
// an ingest: the command retries, resumes and stores exactly what an
// uninterrupted ingest stores.
func TestIngestEVMNodeDrops(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t, gethtest.Options{})
	gethtest.RunScenario(t, node)
	clean := t.TempDir()
	mustOK(t, cli(t, "--data", clean, "ingest", "evm", "--rpc", node.RPCURL, "--chain", "dev"), "clean ingest")

	proxy := btcdtest.NewProxy(t, strings.TrimPrefix(node.RPCURL, "http://"))
	proxy.SetDelay(40 * time.Millisecond)
	data := t.TempDir()
	done := make(chan result, 1)
	go func() {
		done <- cli(t, "--data", data, "ingest", "evm", "--rpc", proxy.URL, "--chain", "dev", "--fetch-ahead", "1", "--rpc-retry", "1m")
	}()
	time.Sleep(400 * time.Millisecond)
	proxy.Down()
	time.Sleep(1500 * time.Millisecond)
	proxy.Up(t)
	r := <-done
	mustOK(t, r, "ingest through a node that dropped")
	if !strings.Contains(r.stderr, "evm node unavailable, retrying") {
		t.Errorf("no retry logged: the cut missed the ingest; stderr:\n%s", r.stderr)
	}
	if a, b := evmDigest(t, clean), evmDigest(t, data); a != b {
		t.Errorf("digest after the drop %s, uninterrupted %s", b, a)
	}
}

func evmDigest(t *testing.T, data string) heistgraph.Hash {
	t.Helper()
	st := readStore(t, data)
	d, err := st.Digest(context.Background(), "dev")
	if err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	return d
}

// TestIngestEVMFollow follows a geth --dev node: blocks sealed after the
// command started are ingested, and SIGTERM ends it with its summary
// (exit 0).
func TestIngestEVMFollow(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t, gethtest.Options{})
	bob := gethtest.AddressOf(gethtest.NewKey("bob"))
	node.Send(t, gethtest.Tx{To: &bob, Value: gethtest.Ether(1)})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	cmd := exec.Command(exe, "--data", data, "--json", "ingest", "evm", "--rpc", node.RPCURL, "--chain", "dev", "--follow", "--poll", "50ms")
	cmd.Env = append(os.Environ(), "HEISTGRAPH_TEST_CLI=1")
	var stdout bytes.Buffer
	var stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &stderr, `caught up`)
	r := node.Send(t, gethtest.Tx{To: &bob, Value: gethtest.Ether(2)})
	waitLog(t, &stderr, fmt.Sprintf(`caught up.* height=%d `, r.BlockNumber.Int64()))
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, stderr.String())
	}
	rep := decode[map[string]any](t, stdout.String())
	if tip, _ := rep["tip_height"].(float64); tip < float64(r.BlockNumber.Int64()) {
		t.Fatalf("summary %v: want the block sealed while following (%d)", rep, r.BlockNumber)
	}
	tip := big.NewInt(int64(rep["tip_height"].(float64)))
	if got, want := storedBalance(t, readStore(t, data), bob, heistgraph.NativeAsset), node.Balance(t, bob, tip); got.Cmp(want) != 0 {
		t.Errorf("bob: stored %s, the node says %s", got, want)
	}
}
