package main

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/gethtest"
)

// mixerTraceJSON is what TestTraceMixerGeth reads of trace --json.
type mixerTraceJSON struct {
	Sinks []mixerSinkJSON `json:"sinks"`
	Links []struct {
		DepositTx    string   `json:"deposit_tx"`
		WithdrawalTx string   `json:"withdrawal_tx"`
		Heuristics   []string `json:"heuristics"`
		Confidence   string   `json:"confidence"`
		AnonymitySet int      `json:"anonymity_set"`
	} `json:"links"`
	Inferred *struct {
		Sinks []mixerSinkJSON `json:"sinks"`
		Fees  string          `json:"fees"`
	} `json:"inferred"`
	Hypotheses any `json:"hypotheses"`
}

type mixerSinkJSON struct {
	Kind, Address, TxID, Entity, Category, Amount string
	Mixer                                         []struct {
		Pool         string `json:"pool"`
		LeafIndex    uint32 `json:"leaf_index"`
		Depositor    string `json:"depositor"`
		AnonymitySet int    `json:"anonymity_set"`
		Exact        bool   `json:"anonymity_set_exact"`
		Amount       string `json:"amount"`
	} `json:"mixer"`
	Via *struct {
		Method, Src, Dst, Confidence string
		Inferred                     bool
	} `json:"via"`
}

// TestTraceMixerGeth stages a Tornado-like mix on a real geth --dev node
// (MiniTornado: 1 ETH deposits with a commitment, withdrawals that pay the
// recipient and a relayer by inner CALLs and emit tornado-core's exact
// events), ingests it through the CLI with a label naming the pool a mixer,
// and traces the attacker's stolen 3 ETH: the attacker's deposit is an
// entity sink (mixer) listing its leaf and the anonymity set it joined (a
// stranger deposited before it: 2), the T1 link to the withdrawal a relayer
// made to the attacker is listed, and only with --follow-links is it
// followed: 0.1 ETH to the relayer (its fee), and of the 0.9 the attacker
// got, the 0.5 it sent on to an exchange, marked inferred; the inferred
// part adds up to the 1 ETH deposited.
func TestTraceMixerGeth(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t, gethtest.Options{})
	cs, err := gethtest.Contracts()
	if err != nil {
		t.Fatal(err)
	}
	mini := cs["MiniTornado"]
	pool := node.Deploy(t, mini, nil, gethtest.Ether(1_000))
	addr := func(name string) common.Address { return gethtest.AddressOf(gethtest.NewKey(name)) }
	exchange := common.HexToAddress("0x00000000000000000000000000000000000e8c4a")
	ok := func(what string, r *types.Receipt) *types.Receipt {
		t.Helper()
		if r.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("%s (tx %s) failed", what, r.TxHash)
		}
		return r
	}
	send := func(name string, to common.Address, value *big.Int, data []byte) *types.Receipt {
		return ok(name, node.SendSigned(t, gethtest.NewKey(name), gethtest.Tx{To: &to, Value: value, Data: data}))
	}
	deposit := func(name string, c byte) *types.Receipt {
		return send(name, pool, gethtest.Ether(1_000), gethtest.Pack(t, mini, "deposit", [32]byte{31: c}))
	}
	for _, name := range []string{"mix-stranger", "mix-stranger2", "mix-relayer"} {
		a := addr(name)
		ok("fund "+name, node.Send(t, gethtest.Tx{To: &a, Value: gethtest.Ether(2_000)}))
	}
	attacker := addr("mix-attacker")
	theft := ok("theft", node.Send(t, gethtest.Tx{To: &attacker, Value: gethtest.Ether(3_000)}))
	deposit("mix-stranger", 1)
	dep := deposit("mix-attacker", 2)
	deposit("mix-stranger2", 3)
	wd := send("mix-relayer", pool, nil, gethtest.Pack(t, mini, "withdraw", attacker, [32]byte{31: 9}, addr("mix-relayer"), gethtest.Ether(100)))
	send("mix-attacker", exchange, gethtest.Ether(500), nil)

	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "evm", "--rpc", node.RPCURL, "--chain", "dev"), "ingest evm")
	labels := filepath.Join(t.TempDir(), "labels.csv")
	csv := fmt.Sprintf("chain,address,entity,category,source,confidence\ndev,%s,Tornado Cash,mixer,test,1\ndev,%s,Exchange E,exchange,test,1\n",
		heistgraph.EVMAddress(pool).Lower(), heistgraph.EVMAddress(exchange).Lower())
	if err := os.WriteFile(labels, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", labels, "--format", "csv"), "labels import")

	hex := func(a common.Address) string { return heistgraph.EVMAddress(a).Hex() }
	seed := heistgraph.EVMHash(theft.TxHash).String()
	// --follow-hypotheses alone looks for T2–T4 too: every transaction here
	// offers the same tip (no unique gas price), the strangers share no
	// third address with the attacker and there is one pool, so it finds
	// nothing more and follows nothing.
	for _, flag := range []string{"", "--follow-hypotheses", "--follow-links"} {
		follow := flag == "--follow-links"
		args := []string{"--data", data, "--json", "trace", "--chain", "dev", "--seed", seed, "--policy", "tiho"}
		if flag != "" {
			args = append(args, flag)
		}
		r := cli(t, args...)
		mustOK(t, r, "trace")
		res := decode[mixerTraceJSON](t, r.stdout)
		var mix *mixerSinkJSON
		for i, s := range res.Sinks {
			if s.Address == hex(pool) {
				mix = &res.Sinks[i]
			}
		}
		if mix == nil || mix.Kind != "entity" || mix.Category != "mixer" || mix.Amount != gethtest.Ether(1_000).String() ||
			mix.TxID != heistgraph.EVMHash(dep.TxHash).String() || len(mix.Mixer) != 1 {
			t.Fatalf("no mixer sink of 1 ETH at the pool with its deposit: %+v", res.Sinks)
		}
		if m := mix.Mixer[0]; m.LeafIndex != 1 || m.AnonymitySet != 2 || !m.Exact || m.Depositor != hex(attacker) || m.Amount != mix.Amount {
			t.Errorf("deposit %+v: want leaf 1, anonymity set 2 (exact), the attacker as depositor", m)
		}
		if len(res.Links) != 1 || res.Links[0].Confidence != "strong" || res.Links[0].DepositTx != mix.TxID || res.Links[0].WithdrawalTx != heistgraph.EVMHash(wd.TxHash).String() ||
			res.Links[0].AnonymitySet != 3 {
			t.Errorf("links %+v: want the one T1 link to the relayer's withdrawal, anonymity set 3", res.Links)
		}
		if res.Hypotheses != nil {
			t.Errorf("%s: a hypotheses part: %v", flag, res.Hypotheses)
		}
		if !follow {
			if res.Inferred != nil {
				t.Errorf("inferred part without --follow-links: %+v", res.Inferred)
			}
			continue
		}
		if res.Inferred == nil {
			t.Fatal("--follow-links: no inferred part")
		}
		total, _ := new(big.Int).SetString(res.Inferred.Fees, 10)
		at := map[string]string{}
		for _, s := range res.Inferred.Sinks {
			if s.Via == nil || s.Via.Method != "tornado" || !s.Via.Inferred || s.Via.Confidence != "strong" ||
				s.Via.Src != heistgraph.EVMHash(dep.TxHash).String() || s.Via.Dst != heistgraph.EVMHash(wd.TxHash).String() {
				t.Errorf("inferred sink without its link: %+v", s)
			}
			v, _ := new(big.Int).SetString(s.Amount, 10)
			total.Add(total, v)
			at[s.Kind+" "+s.Address] = s.Amount
		}
		if got := at["relayer "+hex(addr("mix-relayer"))]; got != gethtest.Ether(100).String() {
			t.Errorf("relayer's share %q, want its 0.1 ETH fee: %v", got, at)
		}
		if got := at["entity "+hex(exchange)]; got != gethtest.Ether(500).String() {
			t.Errorf("exchange got %q through the link, want 0.5 ETH: %v", got, at)
		}
		if total.Cmp(gethtest.Ether(1_000)) != 0 {
			t.Errorf("inferred sinks + fees = %s, want the 1 ETH deposited", total)
		}
	}

	// The human output says the same; show tx lists the withdrawal's
	// event and its link.
	r := cli(t, "--data", data, "trace", "--chain", "dev", "--seed", seed, "--policy", "tiho", "--follow-links")
	mustOK(t, r, "trace human")
	for _, want := range []string{"1 Tornado deposit(s), 1 link(s) found", "anonymity set 2", "[T1] strong", "inferred (--follow-links), through 1 link(s)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("human output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = cli(t, "--data", data, "--json", "show", "tx", heistgraph.EVMHash(wd.TxHash).String(), "--chain", "dev")
	mustOK(t, r, "show tx")
	tx := decode[struct {
		Withdrawals []struct {
			To, Relayer, Fee string
		} `json:"mixer_withdrawals"`
		Links []struct {
			Method     string `json:"method"`
			Src        struct{ TxID string }
			DepositTx  string   `json:"deposit_tx"`
			Heuristics []string `json:"heuristics"`
		} `json:"links"`
	}](t, r.stdout)
	if len(tx.Withdrawals) != 1 || tx.Withdrawals[0].To != hex(attacker) || tx.Withdrawals[0].Fee != gethtest.Ether(100).String() ||
		len(tx.Links) != 1 || tx.Links[0].DepositTx != heistgraph.EVMHash(dep.TxHash).String() ||
		tx.Links[0].Method != "tornado" || tx.Links[0].Src.TxID != tx.Links[0].DepositTx {
		t.Errorf("show tx of the withdrawal: %s", r.stdout)
	}
	r = cli(t, "--data", data, "show", "tx", heistgraph.EVMHash(dep.TxHash).String(), "--chain", "dev")
	mustOK(t, r, "show tx human")
	for _, want := range []string{"Tornado deposit into " + hex(pool) + ": leaf 1", "link " + heistgraph.EVMHash(dep.TxHash).String()} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show tx of the deposit lacks %q:\n%s", want, r.stdout)
		}
	}
}
