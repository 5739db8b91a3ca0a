package main

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// accountWorld writes methods.md §2.5's E2 world plus an exchange deposit
// to a data directory's store on chain eth: X pays Z 10 ETH (tx "stolen",
// block 100), Y pays Z 30 clean (101), Z pays W 20 with a fee of 0.001
// ETH (102), W pays 2 ETH to exchange deposit K (103), labelled by CSV.
func accountWorld(t *testing.T) (data string, addr func(string) heistgraph.EVMAddress, tx func(string) heistgraph.EVMHash) {
	t.Helper()
	data = t.TempDir()
	addr = func(n string) heistgraph.EVMAddress {
		h := sha256.Sum256([]byte("addr/" + n))
		var a heistgraph.EVMAddress
		copy(a[:], h[:])
		return a
	}
	tx = func(n string) heistgraph.EVMHash { return sha256.Sum256([]byte("tx/" + n)) }
	eth := func(milli uint64) uint256.Int {
		var v uint256.Int
		v.Mul(uint256.NewInt(milli), uint256.NewInt(1_000_000_000_000_000))
		return v
	}
	db, err := pebble.Open(data, pebble.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	type pay struct {
		name, from, to string
		milli, fee     uint64
	}
	blocks := []struct {
		h    int64
		pays []pay
	}{
		{99, nil},
		{100, []pay{{"stolen", "X", "Z", 10_000, 0}}},
		{101, []pay{{"clean", "Y", "Z", 30_000, 0}}},
		{102, []pay{{"pay", "Z", "W", 20_000, 1}}},
		{103, []pay{{"deposit", "W", "K", 2_000, 0}}},
		{104, []pay{{"nothing", "Y", "Y", 0, 1}}},
	}
	for _, bl := range blocks {
		b := &heistgraph.AccountBlock{Chain: "eth", Height: bl.h, Hash: sha256.Sum256([]byte{byte(bl.h)}), Time: 1_700_000_000 + 12*bl.h, InternalKnown: true}
		if bl.h == 99 {
			for _, a := range []string{"X", "Y"} {
				b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferGenesis, TxIndex: -1, To: addr(a), Amount: eth(100_000), LogIndex: -1})
			}
		}
		for i, p := range bl.pays {
			t := heistgraph.AccountTx{Hash: tx(p.name), Index: int32(i), From: addr(p.from), To: addr(p.to), Value: eth(p.milli), Status: 1, Fee: eth(p.fee)}
			b.Txs = append(b.Txs, t)
			if p.milli > 0 {
				b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferNative, TxIndex: t.Index, TxHash: t.Hash, From: t.From, To: t.To, Amount: t.Value, LogIndex: -1})
			}
			if p.fee > 0 {
				b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferFee, TxIndex: t.Index, TxHash: t.Hash, From: t.From, Amount: t.Fee, LogIndex: -1})
			}
		}
		if err := db.ApplyAccountBlock(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(t.TempDir(), "labels.csv")
	body := "chain,address,entity,category,source,confidence\neth," + addr("K").Lower() + ",Kestrel Exchange,exchange,test,1\n"
	if err := os.WriteFile(csv, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", csv, "--format", "csv"), "import labels")
	return data, addr, tx
}

type accountTraceJSON struct {
	Chain      string `json:"chain"`
	Policy     string `json:"policy"`
	Conserved  bool   `json:"conserved"`
	SeedAmount string `json:"seed_amount"`
	SeedAsset  string `json:"seed_asset"`
	Fees       string `json:"fees"`
	Sinks      []struct {
		Kind     string `json:"kind"`
		Address  string `json:"address"`
		TxID     string `json:"txid"`
		Entity   string `json:"entity"`
		Category string `json:"category"`
		Amount   string `json:"amount"`
		Asset    string `json:"asset"`
		Decimals int    `json:"decimals"`
		Hops     int    `json:"hops"`
		Chain    string `json:"chain"`
	} `json:"sinks"`
	Edges []struct {
		From, To, Amount, Asset, Chain string
	} `json:"edges"`
}

// TestTraceAccounts runs trace on an EVM chain through the CLI: the JSON
// shape of design.md with E2's haircut numbers, the exchange deposit as an
// entity sink through the imported label, an address seed, the human
// output, and bad input.
func TestTraceAccounts(t *testing.T) {
	data, addr, tx := accountWorld(t)
	r := cli(t, "--data", data, "--json", "trace", "--chain", "eth", "--seed", tx("stolen").String())
	mustOK(t, r, "trace")
	res := decode[accountTraceJSON](t, r.stdout)
	if res.Chain != "eth" || res.Policy != "haircut" || !res.Conserved || res.SeedAmount != "10000000000000000000" || res.SeedAsset != "native" {
		t.Fatalf("head %+v", res)
	}
	// Haircut: W gets 5 of its 20, pays 2 to K with 2·5/(20) = 0.5 tainted;
	// Z keeps 4.99975 after its fee took 2.5·10¹⁴ wei.
	want := map[string]string{
		"unspent " + addr("Z").Hex(): "4999750000000000000",
		"unspent " + addr("W").Hex(): "4500000000000000000",
		"entity " + addr("K").Hex():  "500000000000000000",
	}
	for _, s := range res.Sinks {
		k := s.Kind + " " + s.Address
		if want[k] != s.Amount || s.Asset != "native" || s.Decimals != 18 || s.Chain != "eth" {
			t.Errorf("sink %+v, want amount %q", s, want[k])
		}
		if s.Kind == "entity" && (s.Entity != "Kestrel Exchange" || s.Category != "exchange" || s.TxID != tx("deposit").String() || s.Hops != 2) {
			t.Errorf("entity sink %+v", s)
		}
		delete(want, k)
	}
	if len(want) > 0 || res.Fees != "250000000000000" || len(res.Edges) != 2 {
		t.Fatalf("missing %v, fees %s, edges %+v", want, res.Fees, res.Edges)
	}

	// FIFO, an address seed: Z's credits from block 101 on (the clean 30).
	r = cli(t, "--data", data, "--json", "trace", "--chain", "eth", "--seed", addr("Z").Hex(), "--asset", "native",
		"--from", "1700001212", "--policy", "fifo")
	mustOK(t, r, "address seed")
	res = decode[accountTraceJSON](t, r.stdout)
	if res.SeedAmount != "30000000000000000000" || res.Fees != "1000000000000000" {
		t.Fatalf("address seed: %+v", res)
	}

	r = cli(t, "--data", data, "trace", "--chain", "eth", "--seed", tx("stolen").String(), "--policy", "tiho")
	mustOK(t, r, "human")
	for _, s := range []string{"trace tiho on eth: 1 seed(s), 10 native", "Kestrel Exchange (exchange)", "sinks + fees = seeds + conversions, exactly"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("human output lacks %q:\n%s", s, r.stdout)
		}
	}

	bad := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown tx", []string{"--chain", "eth", "--seed", "0x" + strings.Repeat("ab", 32)}, 1, "not found"},
		{"tx moved nothing", []string{"--chain", "eth", "--seed", tx("nothing").String()}, 2, "moved no value"},
		{"asset not moved", []string{"--chain", "eth", "--seed", tx("stolen").String(), "--asset", addr("T").Hex()}, 2, "moved no"},
		{"bad asset", []string{"--chain", "eth", "--seed", addr("Z").Hex(), "--asset", "ether"}, 2, "--asset"},
		{"bad seed", []string{"--chain", "eth", "--seed", "0x1234"}, 2, "want 0x and a 64-digit"},
		{"chain not stored", []string{"--chain", "bsc", "--seed", tx("stolen").String()}, 1, "holds no block of bsc"},
		{"asset on bitcoin", []string{"--chain", "btc", "--seed", addr("Z").Hex(), "--asset", "native"}, 2, "only for EVM chains"},
		{"compare over chains", []string{"--seed", "eth:" + tx("stolen").String(), "--seed", "btc:" + strings.Repeat("ab", 32), "--compare"}, 2, "one chain only"},
		{"evm seed over chains without its chain", []string{"--seed", "eth:" + tx("stolen").String(), "--seed", "btc:" + strings.Repeat("ab", 32), "--seed", tx("stolen").String()}, 2, "needs its chain"},
		{"compare", []string{"--chain", "eth", "--seed", tx("stolen").String(), "--compare"}, 2, "--compare"},
		{"no chain", []string{"--seed", tx("stolen").String()}, 2, "needs its chain"},
		{"no credit in window", []string{"--chain", "eth", "--seed", addr("K").Hex(), "--from", "1800000000"}, 1, "received no native"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, append([]string{"--data", data, "trace"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", r.code, tc.code, r.stderr, tc.msg)
			}
		})
	}
}
