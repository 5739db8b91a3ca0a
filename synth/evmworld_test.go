package synth

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/holiman/uint256"
	"golang.org/x/crypto/sha3"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
	"github.com/heistgraph/heistgraph/store"
)

// TestEVMTopics checks every event topic the world emits against the
// Keccak-256 of its signature (methods.md §2.1, §4.8, §6.6).
func TestEVMTopics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sig   string
		topic heistgraph.EVMHash
	}{
		{"Transfer(address,address,uint256)", topicTransfer},
		{"Deposit(address,uint256)", topicWETHDeposit},
		{"Withdrawal(address,uint256)", topicWETHWithdrawal},
		{"Swap(address,uint256,uint256,uint256,uint256,address)", topicSwapV2},
		{"Sync(uint112,uint112)", topicSyncV2},
		{"Deposit(bytes32,uint32,uint256)", topicTornadoDeposit},
		{"Withdrawal(address,bytes32,address,uint256)", topicTornadoWithdrawal},
	}
	for _, tc := range tests {
		h := sha3.NewLegacyKeccak256()
		h.Write([]byte(tc.sig))
		if got := h.Sum(nil); string(got) != string(tc.topic[:]) {
			t.Errorf("%s: topic %s, keccak %x", tc.sig, tc.topic, got)
		}
	}
}

// TestEVMDepositSweeps checks the ground truth the clustering heuristic
// of methods.md §7.1 relies on, from the ingested store: every deposit
// address sends ETH only to its exchange's hot wallet, each sweep forwards
// the ETH credited since the previous one less at most 0.01 ETH of gas,
// within 3,200 blocks of the first of those credits, and each token sweep
// forwards exactly the tokens credited since the previous one.
func TestEVMDepositSweeps(t *testing.T) {
	dir, _, truth, _ := evmTestWorld(t)
	st := loadEVMWorld(t, dir)
	ctx := context.Background()
	hot := map[string]heistgraph.EVMAddress{} // exchange id → hot wallet
	for _, e := range truth.Entities {
		if e.Category == "exchange" {
			hot[e.ID] = e.Addresses[0]
		}
	}
	maxLoss := uint256.NewInt(1e16)
	sweeps := 0
	for _, d := range truth.DepositAddresses {
		x := hot[d.Exchange]
		type pending struct {
			sum   uint256.Int
			first int64
		}
		open := map[heistgraph.Asset]*pending{}
		for ev, err := range st.AccountHistory(ctx, EVMChain, d.Address, store.AccountHistoryOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			tr := ev.Transfer
			if tr.Kind == heistgraph.TransferFee {
				continue
			}
			p := open[tr.Asset]
			if p == nil {
				p = &pending{first: -1}
				open[tr.Asset] = p
			}
			if ev.Credit {
				if tr.From == x {
					continue // gas the hot wallet sent for a token sweep
				}
				if p.first < 0 {
					p.first = ev.Block.Height
				}
				p.sum.Add(&p.sum, &tr.Amount)
				continue
			}
			if tr.To != x {
				t.Fatalf("deposit address %s of %s pays %s to %s, not the hot wallet", d.Address, d.Exchange, tr.Amount.Dec(), tr.To)
			}
			var loss uint256.Int
			if p.sum.Lt(&tr.Amount) {
				t.Fatalf("%s sweeps %s %s, more than the %s credited", d.Address, tr.Amount.Dec(), tr.Asset, p.sum.Dec())
			}
			loss.Sub(&p.sum, &tr.Amount)
			if tr.Asset.IsNative() && loss.Gt(maxLoss) || !tr.Asset.IsNative() && !loss.IsZero() {
				t.Errorf("%s sweeps %s of %s credited (%s)", d.Address, tr.Amount.Dec(), p.sum.Dec(), tr.Asset)
			}
			if gap := ev.Block.Height - p.first; gap < 0 || gap > 3200 {
				t.Errorf("%s swept %d blocks after the credit", d.Address, gap)
			}
			sweeps++
			open[tr.Asset] = &pending{first: -1}
		}
	}
	if sweeps < 100 {
		t.Fatalf("only %d sweeps in %d deposit addresses", sweeps, len(truth.DepositAddresses))
	}
}

// TestEVMMixerNotes checks the mixer's notes in the store: each deposit is
// the denomination paid by the depositor into the pool; each withdrawal
// pays the denomination less the fee to the recipient and the fee to the
// relayer, out of the pool, in a transaction the relayer sends. Some
// withdrawals go back to the depositing address, most do not.
func TestEVMMixerNotes(t *testing.T) {
	dir, _, truth, _ := evmTestWorld(t)
	st := loadEVMWorld(t, dir)
	ctx := context.Background()
	withdrawn, t1 := 0, 0
	for _, n := range truth.MixerNotes {
		dep, err := st.AccountTx(ctx, EVMChain, n.DepositTx)
		if err != nil {
			t.Fatal(err)
		}
		if dep.Tx.From != n.Depositor || dep.Tx.To != n.Pool || dep.Tx.Value.Dec() != n.Denomination {
			t.Errorf("deposit %s: %s → %s %s, truth %s → %s %s", n.DepositTx, dep.Tx.From, dep.Tx.To, dep.Tx.Value.Dec(),
				n.Depositor, n.Pool, n.Denomination)
		}
		if n.WithdrawalTx.IsZero() {
			continue
		}
		withdrawn++
		if n.Recipient == n.Depositor {
			t1++
		}
		wd, err := st.AccountTx(ctx, EVMChain, n.WithdrawalTx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[heistgraph.EVMAddress]uint256.Int{}
		for _, tr := range wd.Transfers {
			if tr.Kind == heistgraph.TransferInternal && tr.From == n.Pool {
				got[tr.To] = tr.Amount
			}
		}
		denom, _ := uint256.FromDecimal(n.Denomination)
		fee, _ := uint256.FromDecimal(n.Fee)
		var out uint256.Int
		out.Sub(denom, fee)
		r, rel := got[n.Recipient], got[n.Relayer]
		if wd.Tx.From != n.Relayer || !r.Eq(&out) || !rel.Eq(fee) {
			t.Errorf("withdrawal %s: from %s, recipient got %s, relayer %s; truth %s, %s, %s", n.WithdrawalTx, wd.Tx.From, r.Dec(), rel.Dec(),
				n.Relayer, out.Dec(), fee.Dec())
		}
	}
	if len(truth.MixerNotes) < 10 || withdrawn == 0 || t1 == 0 || t1 == withdrawn {
		t.Fatalf("%d notes, %d withdrawn, %d of them to the depositor: want some and not all (T1's positives and negatives)",
			len(truth.MixerNotes), withdrawn, t1)
	}
}

// TestEVMSwapEvents reads the world's receipts as a node gives them and
// checks every Uniswap v2 Swap log against the ERC-20 Transfer logs of its
// transaction: what went into the pair is amount{0,1}In, what came out
// amount{0,1}Out, for token0 (the lower address) and token1.
func TestEVMSwapEvents(t *testing.T) {
	dir, _, truth, _ := evmTestWorld(t)
	pair := truth.DEX.Pair
	tok0, tok1 := truth.WETH, truth.Tokens[0].Address
	if string(tok1[:]) < string(tok0[:]) {
		tok0, tok1 = tok1, tok0
	}
	f, err := os.Open(filepath.Join(dir, evm.ReceiptsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type rpcLog struct {
		Address heistgraph.EVMAddress `json:"address"`
		Topics  []heistgraph.EVMHash  `json:"topics"`
		Data    string                `json:"data"`
	}
	var line struct {
		Receipts []struct {
			Logs []rpcLog `json:"logs"`
		} `json:"receipts"`
	}
	word := func(data string, i int) uint256.Int {
		var v uint256.Int
		v.SetFromHex("0x" + trimZeros(data[2+64*i:2+64*(i+1)]))
		return v
	}
	swaps := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		for _, r := range line.Receipts {
			flows := map[[2]heistgraph.EVMAddress]uint256.Int{} // (token, in|out marker) → amount
			var in, out = heistgraph.EVMAddress{1}, heistgraph.EVMAddress{2}
			for _, l := range r.Logs {
				if l.Topics[0] != topicTransfer {
					continue
				}
				v := word(l.Data, 0)
				if topicAddr(l.Topics[2]) == pair {
					flows[[2]heistgraph.EVMAddress{l.Address, in}] = v
				}
				if topicAddr(l.Topics[1]) == pair {
					flows[[2]heistgraph.EVMAddress{l.Address, out}] = v
				}
			}
			for _, l := range r.Logs {
				if l.Topics[0] != topicSwapV2 || l.Address != pair {
					continue
				}
				swaps++
				for i, want := range [][2]heistgraph.EVMAddress{{tok0, in}, {tok1, in}, {tok0, out}, {tok1, out}} {
					got, exp := word(l.Data, i), flows[want]
					if !got.Eq(&exp) {
						t.Errorf("Swap word %d = %s, Transfer logs say %s", i, got.Dec(), exp.Dec())
					}
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if swaps < 20 {
		t.Fatalf("only %d swaps", swaps)
	}
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}
