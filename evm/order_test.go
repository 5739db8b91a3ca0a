package evm_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// orderWorld names the addresses of the ordering tests by one letter: W is
// the WETH contract, T a token; others are accounts and contracts.
func orderAddr(c byte) heistgraph.EVMAddress {
	var a heistgraph.EVMAddress
	a[0], a[19] = 0xaa, c
	return a
}

// orderTx parses one transaction's ledger, a transfer per field:
// "n:A>R:5" top-level native, "i:W>R:5@0.1" internal (trace path),
// "e:T:A>P:7" ERC-20 Transfer of token T, "d:R:5" WETH Deposit to R,
// "w:R:5" WETH Withdrawal from R, "f:A:1" fee. Log indexes count up.
func orderTx(t *testing.T, txIndex int32, spec string) []heistgraph.Transfer {
	t.Helper()
	var out []heistgraph.Transfer
	logIndex := int32(0)
	weth := heistgraph.TokenAsset(orderAddr('W'))
	for _, f := range strings.Fields(spec) {
		p := strings.Split(f, ":")
		tr := heistgraph.Transfer{TxIndex: txIndex, LogIndex: -1}
		amt := func(s string) {
			s, path, _ := strings.Cut(s, "@")
			tr.TracePath = path
			if err := tr.Amount.SetFromDecimal(s); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
		ends := func(s string) {
			tr.From, tr.To = orderAddr(s[0]), orderAddr(s[2])
		}
		log := func() { tr.LogIndex = logIndex; logIndex++ }
		switch p[0] {
		case "n":
			tr.Kind = heistgraph.TransferNative
			ends(p[1])
			amt(p[2])
		case "i":
			tr.Kind = heistgraph.TransferInternal
			ends(p[1])
			amt(p[2])
		case "e":
			tr.Kind, tr.Asset = heistgraph.TransferERC20, heistgraph.TokenAsset(orderAddr(p[1][0]))
			ends(p[2])
			amt(p[3])
			log()
		case "d":
			tr.Kind, tr.Asset, tr.To = heistgraph.TransferWETHDeposit, weth, orderAddr(p[1][0])
			amt(p[2])
			log()
		case "w":
			tr.Kind, tr.Asset, tr.From = heistgraph.TransferWETHWithdrawal, weth, orderAddr(p[1][0])
			amt(p[2])
			log()
		case "f":
			tr.Kind, tr.From = heistgraph.TransferFee, orderAddr(p[1][0])
			amt(p[2])
		default:
			t.Fatalf("transfer %q: unknown kind", f)
		}
		out = append(out, tr)
	}
	return out
}

// orderString writes a ledger back in orderTx's notation.
func orderString(ts []heistgraph.Transfer) string {
	name := func(a heistgraph.EVMAddress) string { return string(a[19]) }
	var b []string
	for _, t := range ts {
		switch t.Kind {
		case heistgraph.TransferNative:
			b = append(b, fmt.Sprintf("n:%s>%s:%s", name(t.From), name(t.To), t.Amount.Dec()))
		case heistgraph.TransferInternal:
			b = append(b, fmt.Sprintf("i:%s>%s:%s@%s", name(t.From), name(t.To), t.Amount.Dec(), t.TracePath))
		case heistgraph.TransferERC20:
			b = append(b, fmt.Sprintf("e:%s:%s>%s:%s", name(heistgraph.EVMAddress(t.Asset)), name(t.From), name(t.To), t.Amount.Dec()))
		case heistgraph.TransferWETHDeposit:
			b = append(b, fmt.Sprintf("d:%s:%s", name(t.To), t.Amount.Dec()))
		case heistgraph.TransferWETHWithdrawal:
			b = append(b, fmt.Sprintf("w:%s:%s", name(t.From), t.Amount.Dec()))
		case heistgraph.TransferFee:
			b = append(b, fmt.Sprintf("f:%s:%s", name(t.From), t.Amount.Dec()))
		default:
			b = append(b, t.Kind.String())
		}
	}
	return strings.Join(b, " ")
}

func TestOrderLedger(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{{
		// swapExactTokensForETH: the pool pays the router WETH, the
		// router unwraps it and pays the caller ETH.
		name: "router unwrap",
		in:   "i:W>R:5@1.0 i:R>A:5@2 e:T:A>P:7 e:W:P>R:5 w:R:5 f:A:1",
		want: "e:T:A>P:7 e:W:P>R:5 w:R:5 i:W>R:5@1.0 i:R>A:5@2 f:A:1",
	}, {
		name: "an owner unwraps its own WETH",
		in:   "i:W>A:3@0 w:A:3 f:A:1",
		want: "w:A:3 i:W>A:3@0 f:A:1",
	}, {
		// Wrap, swap out and back, unwrap: the Deposit's funding stays
		// before it, the Withdrawal moves before its payout.
		name: "wrap and unwrap",
		in:   "n:A>R:4 i:R>W:4@0 i:W>R:6@3.0 i:R>A:6@4 d:R:4 e:W:R>P:4 e:T:P>Q:9 e:W:Q>R:6 w:R:6",
		want: "n:A>R:4 i:R>W:4@0 d:R:4 e:W:R>P:4 e:T:P>Q:9 e:W:Q>R:6 w:R:6 i:W>R:6@3.0 i:R>A:6@4",
	}, {
		name: "no withdrawal: left alone, even out of the node's order",
		in:   "e:T:A>P:7 i:R>A:5@0 n:A>R:1",
		want: "e:T:A>P:7 i:R>A:5@0 n:A>R:1",
	}, {
		name: "already in order",
		in:   "w:R:5 i:W>R:5@0 i:R>A:5@1",
		want: "w:R:5 i:W>R:5@0 i:R>A:5@1",
	}, {
		name: "no payout (the value went elsewhere)",
		in:   "i:W>B:5@0 e:W:P>R:5 w:R:5",
		want: "i:W>B:5@0 e:W:P>R:5 w:R:5",
	}, {
		// Reentrancy: the payout's receiver deposits before the
		// Withdrawal is logged. Moving the Withdrawal would put the
		// Deposit before its funding: the node's order stays.
		name: "a deposit funded after the payout",
		in:   "i:W>R:5@0 i:R>W:2@0.0 d:R:2 w:R:5",
		want: "i:W>R:5@0 i:R>W:2@0.0 d:R:2 w:R:5",
	}, {
		name: "two unwraps pair in order",
		in:   "i:W>R:5@0 i:R>A:5@1 i:W>R:5@2 i:R>B:5@3 e:W:P>R:10 w:R:5 w:R:5",
		want: "e:W:P>R:10 w:R:5 i:W>R:5@0 i:R>A:5@1 w:R:5 i:W>R:5@2 i:R>B:5@3",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ts := orderTx(t, 0, tc.in)
			evm.OrderLedger(ts)
			if got := orderString(ts); got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
			evm.OrderLedger(ts)
			if got := orderString(ts); got != tc.want {
				t.Errorf("twice:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestOrderLedgerBlock: each transaction is ordered on its own, and
// block-level credits stay where they are.
func TestOrderLedgerBlock(t *testing.T) {
	var ts []heistgraph.Transfer
	ts = append(ts, heistgraph.Transfer{Kind: heistgraph.TransferGenesis, TxIndex: -1, To: orderAddr('G'), Amount: *uint256.NewInt(1), LogIndex: -1})
	ts = append(ts, orderTx(t, 0, "i:W>R:5@0 w:R:5 f:R:1")...)
	ts = append(ts, orderTx(t, 1, "i:W>R:5@0 f:R:1")...) // its Withdrawal is the previous tx's
	ts = append(ts, orderTx(t, 2, "i:W>S:2@0 i:S>A:2@1 w:S:2")...)
	ts = append(ts, heistgraph.Transfer{Kind: heistgraph.TransferWithdrawal, TxIndex: -1, To: orderAddr('V'), Amount: *uint256.NewInt(1), LogIndex: -1})
	evm.OrderLedger(ts)
	want := "genesis w:R:5 i:W>R:5@0 f:R:1 i:W>R:5@0 f:R:1 w:S:2 i:W>S:2@0 i:S>A:2@1 withdrawal"
	if got := orderString(ts); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

// TestOrderLedgerKeeps checks on random transactions what OrderLedger
// promises whatever it moves: the same transfers, the native ones and the
// log-based ones each in their own order, the fee last, and a second
// pass changing nothing.
func TestOrderLedgerKeeps(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 2))
	parties := "WRABPT"
	for n := range 2000 {
		var fs []string
		var logs []string
		for range 1 + r.IntN(8) {
			a, b := parties[r.IntN(len(parties))], parties[r.IntN(len(parties))]
			v := 1 + r.IntN(3)
			switch r.IntN(5) {
			case 0:
				fs = append(fs, fmt.Sprintf("i:%c>%c:%d@%d", a, b, v, len(fs)))
			case 1:
				fs = append(fs, fmt.Sprintf("i:W>%c:%d@%d", b, v, len(fs)))
			case 2:
				logs = append(logs, fmt.Sprintf("w:%c:%d", b, v))
			case 3:
				logs = append(logs, fmt.Sprintf("d:%c:%d", b, v))
			case 4:
				logs = append(logs, fmt.Sprintf("e:W:%c>%c:%d", a, b, v))
			}
		}
		spec := strings.Join(append(append(fs, logs...), "f:A:1"), " ")
		ts := orderTx(t, 0, spec)
		in := slices.Clone(ts)
		evm.OrderLedger(ts)
		once := slices.Clone(ts)
		evm.OrderLedger(ts)
		if orderString(ts) != orderString(once) {
			t.Fatalf("case %d %q: a second pass moved transfers:\n%s\n%s", n, spec, orderString(once), orderString(ts))
		}
		part := func(ts []heistgraph.Transfer, logs bool) string {
			var out []heistgraph.Transfer
			for _, x := range ts {
				if (x.LogIndex >= 0) == logs && x.Kind != heistgraph.TransferFee {
					out = append(out, x)
				}
			}
			return orderString(out)
		}
		if part(in, true) != part(once, true) || part(in, false) != part(once, false) {
			t.Fatalf("case %d %q: an asset's order changed: %s", n, spec, orderString(once))
		}
		if once[len(once)-1].Kind != heistgraph.TransferFee {
			t.Fatalf("case %d %q: the fee is not last: %s", n, spec, orderString(once))
		}
	}
}

// TestDecodeOrdersUnwrap decodes a router's unwrap as a node answers it
// (the WETH contract B's payout and the router A's payment in the call
// trace, the pool C's WETH Transfer and B's Withdrawal in the logs): the
// ledger has the logs first, then the payout, then the payment.
func TestDecodeOrdersUnwrap(t *testing.T) {
	word := func(a string) string { return "0x000000000000000000000000" + a[2:] }
	five := `"data":"0x` + strings.Repeat("0", 63) + `5"`
	logs := `{"address":"` + cb + `","topics":["` + evm.TopicTransfer.String() + `","` + word(cc) + `","` + word(ca) + `"],` + five + `,"logIndex":"0x0"},` +
		`{"address":"` + cb + `","topics":["` + evm.TopicWithdrawal.String() + `","` + word(ca) + `"],` + five + `,"logIndex":"0x1"}`
	tx := rawTx{`"type":"0x2","from":"` + eoa + `","to":"` + ca + `","value":"0x0","input":"0x18cbafe5"`,
		`"status":"0x1","gasUsed":"0x5208","effectiveGasPrice":"0xa","logs":[` + logs + `]`,
		f("CALL", eoa, ca, "0x0", "",
			f("CALL", ca, cc, "0x0", ""),
			f("CALL", ca, cb, "0x0", "", f("CALL", cb, ca, "0x5", "")),
			f("CALL", ca, eoa, "0x5", ""))}
	p := params(t, "dev")
	p.WETH = append(p.WETH, addr(t, cb))
	b, err := evm.Decode(buildBlock(tx), p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range b.Transfers {
		got = append(got, showTransfer(tr))
	}
	zero, weth := "0x0000000000000000000000000000000000000000", heistgraph.TokenAsset(addr(t, cb)).Key()
	want := []string{
		"erc20 " + cc + " " + ca + " " + weth + " 5 ",
		"weth_withdrawal " + ca + " " + zero + " " + weth + " 5 ",
		"internal " + cb + " " + ca + " native 5 1.0",
		"internal " + ca + " " + eoa + " native 5 2",
		"fee " + eoa + " " + zero + " native 210000 ",
		"withdrawal " + zero + " " + cb + " native 2000000000 ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ledger:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
