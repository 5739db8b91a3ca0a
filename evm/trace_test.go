package evm_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// moved is one value movement read from a trace, for comparisons.
type moved struct {
	from, to, amount, path string
}

// movements returns the value a transaction's trace moves: the top frame's
// value when it did not fail (the transaction's own value, as Decode puts
// it in the ledger) and Internal's transfers.
func movements(t *testing.T, tr evm.TxTrace) ([]moved, error) {
	t.Helper()
	var out []moved
	top := tr.Top
	if top.Error == "" && top.Value != nil && !(*uint256.Int)(top.Value).IsZero() {
		out = append(out, moved{top.From.Lower(), top.To.Lower(), (*uint256.Int)(top.Value).Dec(), ""})
	}
	err := evm.Internal(top, func(from, to heistgraph.EVMAddress, amount *uint256.Int, path string) {
		out = append(out, moved{from.Lower(), to.Lower(), amount.Dec(), path})
	})
	return out, err
}

// TestTracesMainnet decodes geth callTracer answers for real mainnet
// blocks and checks the value they move against the Parity trace_block
// export of the same blocks (ethereum-etl's expected_traces.csv): the
// call, create and suicide traces that succeeded (status 1, which Parity
// sets to 0 below a failed frame too), moved a value, and moved it between
// two accounts (Parity shows a CALLCODE as a call from the caller to
// itself: the value stays). Paths are Parity's trace addresses.
func TestTracesMainnet(t *testing.T) {
	dirs, err := filepath.Glob("testdata/etl/traces/*")
	if err != nil || len(dirs) != 5 {
		t.Fatalf("trace fixtures: %v %v", dirs, err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			files, _ := filepath.Glob(filepath.Join(dir, "web3_response.debug_traceBlockByNumber_*.json"))
			answer := result(t, files[0])
			if filepath.Base(dir) == "block_with_suicide" {
				// geth before 1.10 gave SELFDESTRUCT frames no addresses or
				// value: the balance moved cannot be known from them.
				trs, err := evm.DecodeTraces(answer)
				if err != nil {
					t.Fatal(err)
				}
				_, err = movements(t, trs[0])
				if !errors.Is(err, heistgraph.ErrInvalid) || !strings.Contains(err.Error(), "call frame 0") {
					t.Fatalf("old SELFDESTRUCT frame: %v, want ErrInvalid naming frame 0", err)
				}
				// The frame as geth shows it since: the destroyed contract,
				// the beneficiary and the balance (values from Parity's
				// suicide trace of the same transaction).
				answer = bytes.Replace(answer, []byte(`"type": "SELFDESTRUCT"`), []byte(`"type": "SELFDESTRUCT",
					"from": "0x474faa5018639791952fae334e2911700ac7fe9b", "to": "0x83973747eec131bf9a08ac64fb1a518e891bdf4b", "value": "0xb1a2bc2ec50000"`), 1)
			}
			trs, err := evm.DecodeTraces(answer)
			if err != nil {
				t.Fatal(err)
			}
			var got []moved
			for _, tr := range trs {
				m, err := movements(t, tr)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, m...)
			}
			var want []moved
			for _, r := range readCSV(t, filepath.Join(dir, "parity_expected_traces.csv")) {
				if r["trace_type"] == "reward" || r["status"] != "1" || r["value"] == "0" || r["from_address"] == r["to_address"] {
					continue
				}
				want = append(want, moved{r["from_address"], r["to_address"], r["value"], strings.ReplaceAll(r["trace_address"], ",", ".")})
			}
			sameMoves(t, got, want)
		})
	}
}

// wantedInvalid fails t unless err wraps ErrInvalid when one is wanted
// and is nil otherwise; it reports whether an error was wanted.
func wantedInvalid(t *testing.T, err error, want bool) bool {
	t.Helper()
	switch {
	case want && !errors.Is(err, heistgraph.ErrInvalid):
		t.Fatalf("got %v, want ErrInvalid", err)
	case !want && err != nil:
		t.Fatal(err)
	}
	return want
}

// sameMoves compares two lists of movements.
func sameMoves(t *testing.T, got, want []moved) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("moved %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("movement %d: %v, want %v", i, got[i], want[i])
		}
	}
}

// f is a hand-written call frame for the trap tables.
func f(typ, from, to, value, errMsg string, calls ...string) string {
	var b strings.Builder
	b.WriteString(`{"type":"` + typ + `"`)
	if from != "" {
		b.WriteString(`,"from":"` + from + `"`)
	}
	if to != "" {
		b.WriteString(`,"to":"` + to + `"`)
	}
	if value != "" {
		b.WriteString(`,"value":"` + value + `"`)
	}
	if errMsg != "" {
		b.WriteString(`,"error":"` + errMsg + `"`)
	}
	if len(calls) > 0 {
		b.WriteString(`,"calls":[` + strings.Join(calls, ",") + `]`)
	}
	return b.String() + "}"
}

// Addresses of the trap tables: an EOA, contracts A, B, C and a library L.
const (
	eoa = "0x00000000000000000000000000000000000000e0"
	ca  = "0x00000000000000000000000000000000000000a0"
	cb  = "0x00000000000000000000000000000000000000b0"
	cc  = "0x00000000000000000000000000000000000000c0"
	lib = "0x0000000000000000000000000000000000000011"
)

// TestInternalTraps runs the value rules of the call tracer on
// hand-written frames, one trap each.
func TestInternalTraps(t *testing.T) {
	tests := []struct {
		name string
		top  string
		want []moved // internal transfers only
		err  bool
	}{
		{"a CALL with value forwards it",
			f("CALL", eoa, ca, "0x64", "", f("CALL", ca, cb, "0x64", "")),
			[]moved{{ca, cb, "100", "0"}}, false},
		{"a zero-value CALL moves nothing",
			f("CALL", eoa, ca, "0x0", "", f("CALL", ca, cb, "0x0", "")), nil, false},
		{"DELEGATECALL moves no value of its own, its CALLs do",
			f("CALL", eoa, ca, "0x64", "", f("DELEGATECALL", ca, lib, "0x64", "", f("CALL", ca, cb, "0x5", ""))),
			[]moved{{ca, cb, "5", "0.0"}}, false},
		{"CALLCODE's value stays with the caller",
			f("CALL", eoa, ca, "0x64", "", f("CALLCODE", ca, lib, "0x64", "")), nil, false},
		{"STATICCALL moves nothing",
			f("CALL", eoa, ca, "0x0", "", f("STATICCALL", ca, cb, "", "")), nil, false},
		{"a reverted frame moves nothing, nor anything below it",
			f("CALL", eoa, ca, "0x64", "",
				f("CALL", ca, cb, "0x32", "execution reverted", f("CALL", cb, cc, "0x10", "")),
				f("CALL", ca, cc, "0x7", "")),
			[]moved{{ca, cc, "7", "1"}}, false},
		{"a revert deep down spares the frames above",
			f("CALL", eoa, ca, "0x0", "",
				f("CALL", ca, cb, "0x32", "", f("CALL", cb, cc, "0x10", "out of gas"))),
			[]moved{{ca, cb, "50", "0"}}, false},
		{"CREATE with value credits the new contract",
			f("CALL", eoa, ca, "0x0", "", f("CREATE", ca, cb, "0x3e8", "")),
			[]moved{{ca, cb, "1000", "0"}}, false},
		{"CREATE2 with value credits the new contract",
			f("CALL", eoa, ca, "0x0", "", f("CREATE2", ca, cb, "0x1", "")),
			[]moved{{ca, cb, "1", "0"}}, false},
		{"a failed CREATE moves nothing",
			f("CALL", eoa, ca, "0x0", "", f("CREATE", ca, cb, "0x3e8", "contract creation code storage out of gas")), nil, false},
		{"SELFDESTRUCT moves the balance to the beneficiary",
			f("CALL", eoa, ca, "0x0", "", f("SELFDESTRUCT", ca, eoa, "0xde0b6b3a7640000", "")),
			[]moved{{ca, eoa, "1000000000000000000", "0"}}, false},
		{"SELFDESTRUCT without beneficiary or value is refused",
			f("CALL", eoa, ca, "0x0", "", f("SELFDESTRUCT", "", "", "", "")), nil, true},
		{"a value-moving frame without addresses is refused",
			f("CALL", eoa, ca, "0x0", "", f("CALL", "", "", "0x1", "")), nil, true},
		{"an unknown frame type with value is refused",
			f("CALL", eoa, ca, "0x0", "", f("EXTCALL", ca, cb, "0x1", "")), nil, true},
		{"an unknown frame type without value is walked",
			f("CALL", eoa, ca, "0x0", "", f("EXTSTATICCALL", ca, cb, "", "", f("CALL", cb, cc, "0x2", ""))),
			[]moved{{cb, cc, "2", "0.0"}}, false},
		{"lower-case types (some clients) count alike",
			f("CALL", eoa, ca, "0x0", "", f("call", ca, cb, "0x2", "")),
			[]moved{{ca, cb, "2", "0"}}, false},
		{"pre-order: a frame, its children, then its siblings",
			f("CALL", eoa, ca, "0x0", "",
				f("CALL", ca, cb, "0x1", "", f("CALL", cb, cc, "0x2", ""), f("CALL", cb, eoa, "0x3", "")),
				f("CALL", ca, cc, "0x4", "")),
			[]moved{{ca, cb, "1", "0"}, {cb, cc, "2", "0.0"}, {cb, eoa, "3", "0.1"}, {ca, cc, "4", "1"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			trs, err := evm.DecodeTraces([]byte(`[{"result":` + tc.top + `}]`))
			if err != nil {
				t.Fatal(err)
			}
			var got []moved
			err = evm.Internal(trs[0].Top, func(from, to heistgraph.EVMAddress, amount *uint256.Int, path string) {
				got = append(got, moved{from.Lower(), to.Lower(), amount.Dec(), path})
			})
			if wantedInvalid(t, err, tc.err) {
				return
			}
			sameMoves(t, got, tc.want)
		})
	}
}

// TestDecodeTracesForms reads both forms of debug_traceBlockByNumber's
// answer, and refuses a transaction the node could not trace.
func TestDecodeTracesForms(t *testing.T) {
	frame := f("CALL", eoa, ca, "0x5", "")
	tests := []struct {
		name, answer string
		hash         bool
		err          bool
	}{
		{"geth: txHash and result", `[{"txHash":"0x` + strings.Repeat("ab", 32) + `","result":` + frame + `}]`, true, false},
		{"older geth: result only", `[{"result":` + frame + `}]`, false, false},
		{"bare frames", `[` + frame + `]`, false, false},
		{"a tracing error", `[{"txHash":"0x` + strings.Repeat("ab", 32) + `","error":"execution timeout"}]`, false, true},
		{"neither", `[{}]`, false, true},
		{"not an array", `{"result":` + frame + `}`, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			trs, err := evm.DecodeTraces([]byte(tc.answer))
			if wantedInvalid(t, err, tc.err) {
				return
			}
			if len(trs) != 1 || trs[0].Top.Type != "CALL" || (*uint256.Int)(trs[0].Top.Value).Uint64() != 5 || (trs[0].TxHash != nil) != tc.hash {
				t.Errorf("decoded %+v", trs)
			}
		})
	}
}

// rawTx is a hand-written transaction for ledger traps: the block answer's
// transaction object, its receipt, and its trace.
type rawTx struct {
	tx, receipt, trace string
}

// buildBlock writes block 7 (baseFee 10 wei, fee recipient cc, one
// withdrawal) with the given transactions, their receipts and traces.
func buildBlock(txs ...rawTx) *evm.RawBlock { return buildBlockAt(7, txs...) }

// blockHash is the hash buildBlockAt gives block h.
func blockHash(h int64) string { return fmt.Sprintf("0x%064x", 0xb10c000+h) }

// buildBlockAt writes block h, whose parent is block h-1 of buildBlockAt.
func buildBlockAt(h int64, txs ...rawTx) *evm.RawBlock {
	t, r, tr := []string{}, []string{}, []string{}
	for i, x := range txs {
		th := fmt.Sprintf(`"0x%064x"`, h<<16+int64(10+i))
		t = append(t, `{"hash":`+th+`,"transactionIndex":"0x`+strconv.FormatInt(int64(i), 16)+`",`+x.tx+`}`)
		r = append(r, `{"transactionHash":`+th+`,"blockHash":"`+blockHash(h)+`",`+x.receipt+`}`)
		tr = append(tr, `{"txHash":`+th+`,"result":`+x.trace+`}`)
	}
	block := `{"number":"0x` + strconv.FormatInt(h, 16) + `","hash":"` + blockHash(h) + `","parentHash":"` + blockHash(h-1) + `",
		"timestamp":"0x10","miner":"` + cc + `","baseFeePerGas":"0xa","gasUsed":"0x0","transactions":[` + strings.Join(t, ",") + `],
		"withdrawals":[{"index":"0x0","validatorIndex":"0x1","address":"` + cb + `","amount":"0x2"}]}`
	return &evm.RawBlock{Height: h, Block: []byte(block), Receipts: []byte("[" + strings.Join(r, ",") + "]"), Traces: []byte("[" + strings.Join(tr, ",") + "]")}
}

// TestLedgerTraps decodes hand-written blocks and checks the whole ledger
// of each trap: a failed transaction pays its fee and moves nothing (not
// even its logs' or inner frames'), a creation's value goes to the new
// contract, blob gas is part of the fee, the priority fee credits the fee
// recipient, withdrawals come last in wei.
func TestLedgerTraps(t *testing.T) {
	transfer := `{"address":"` + cb + `","topics":["` + evm.TopicTransfer.String() + `","0x000000000000000000000000` + ca[2:] + `","0x000000000000000000000000` + eoa[2:] + `"],"data":"0x` + strings.Repeat("0", 62) + `09","logIndex":"0x0"}`
	tests := []struct {
		name string
		tx   rawTx
		want []string // kind from to asset amount path
	}{
		{"a failed transaction pays its fee and moves nothing",
			rawTx{`"type":"0x2","from":"` + eoa + `","to":"` + ca + `","value":"0x64","input":"0x"`,
				`"status":"0x0","gasUsed":"0x5208","effectiveGasPrice":"0xc","logs":[]`,
				f("CALL", eoa, ca, "0x64", "execution reverted", f("CALL", ca, cb, "0x64", ""))},
			[]string{
				"fee " + eoa + " 0x0000000000000000000000000000000000000000 native 252000 ",
				"priority_fee 0x0000000000000000000000000000000000000000 " + cc + " native 42000 ",
				"withdrawal 0x0000000000000000000000000000000000000000 " + cb + " native 2000000000 ",
			}},
		{"before Byzantium: no status, the trace says it failed",
			rawTx{`"from":"` + eoa + `","to":"` + ca + `","value":"0x64","input":"0x"`,
				`"root":"0x` + strings.Repeat("12", 32) + `","gasUsed":"0x5208","effectiveGasPrice":"0xa","logs":[]`,
				f("CALL", eoa, ca, "0x64", "out of gas", f("CALL", ca, cb, "0x64", ""))},
			[]string{
				"fee " + eoa + " 0x0000000000000000000000000000000000000000 native 210000 ",
				"withdrawal 0x0000000000000000000000000000000000000000 " + cb + " native 2000000000 ",
			}},
		{"a successful call: value, inner frames, logs, fee, priority fee",
			rawTx{`"type":"0x2","from":"` + eoa + `","to":"` + ca + `","value":"0x64","input":"0xa9059cbb"`,
				`"status":"0x1","gasUsed":"0x5208","effectiveGasPrice":"0xa","logs":[` + transfer + `]`,
				f("CALL", eoa, ca, "0x64", "", f("CALL", ca, cb, "0x60", ""))},
			[]string{
				"native " + eoa + " " + ca + " native 100 ",
				"internal " + ca + " " + cb + " native 96 0",
				"erc20 " + ca + " " + eoa + " " + cb + " 9 ",
				"fee " + eoa + " 0x0000000000000000000000000000000000000000 native 210000 ",
				"withdrawal 0x0000000000000000000000000000000000000000 " + cb + " native 2000000000 ",
			}},
		{"a creation's value credits the new contract; blob gas is in the fee",
			rawTx{`"type":"0x3","from":"` + eoa + `","to":null,"value":"0x1","input":"0x6080"`,
				`"status":"0x1","gasUsed":"0x1","effectiveGasPrice":"0xb","blobGasUsed":"0x20000","blobGasPrice":"0x3","contractAddress":"` + cb + `","logs":[]`,
				f("CREATE", eoa, cb, "0x1", "")},
			[]string{
				"native " + eoa + " " + cb + " native 1 ",
				"fee " + eoa + " 0x0000000000000000000000000000000000000000 native 393227 ",
				"priority_fee 0x0000000000000000000000000000000000000000 " + cc + " native 1 ",
				"withdrawal 0x0000000000000000000000000000000000000000 " + cb + " native 2000000000 ",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := evm.Decode(buildBlock(tc.tx), params(t, "dev"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tr := range b.Transfers {
				got = append(got, showTransfer(tr))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("ledger:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if !b.InternalKnown || b.Txs[0].To.IsZero() {
				t.Errorf("InternalKnown %v, tx to %s", b.InternalKnown, b.Txs[0].To)
			}
		})
	}
}

// TestLedgerInconsistent refuses answers that contradict each other: a
// receipt status against the trace, a failed transaction with logs.
func TestLedgerInconsistent(t *testing.T) {
	log := `{"address":"` + cb + `","topics":[],"data":"0x","logIndex":"0x0"}`
	tests := []struct {
		name string
		tx   rawTx
	}{
		{"status 1, the trace reverted", rawTx{`"from":"` + eoa + `","to":"` + ca + `","value":"0x1","input":"0x"`,
			`"status":"0x1","gasUsed":"0x1","effectiveGasPrice":"0xa","logs":[]`, f("CALL", eoa, ca, "0x1", "execution reverted")}},
		{"status 0, the trace did not", rawTx{`"from":"` + eoa + `","to":"` + ca + `","value":"0x1","input":"0x"`,
			`"status":"0x0","gasUsed":"0x1","effectiveGasPrice":"0xa","logs":[]`, f("CALL", eoa, ca, "0x1", "")}},
		{"status 2", rawTx{`"from":"` + eoa + `","to":"` + ca + `","value":"0x1","input":"0x"`,
			`"status":"0x2","gasUsed":"0x1","effectiveGasPrice":"0xa","logs":[]`, f("CALL", eoa, ca, "0x1", "")}},
		{"a failed transaction with logs", rawTx{`"from":"` + eoa + `","to":"` + ca + `","value":"0x1","input":"0x"`,
			`"status":"0x0","gasUsed":"0x1","effectiveGasPrice":"0xa","logs":[` + log + `]`, f("CALL", eoa, ca, "0x1", "execution reverted")}},
		{"no price at all", rawTx{`"from":"` + eoa + `","to":"` + ca + `","value":"0x1","input":"0x"`,
			`"status":"0x1","gasUsed":"0x1","logs":[]`, f("CALL", eoa, ca, "0x1", "")}},
		{"a creation without its address", rawTx{`"from":"` + eoa + `","to":null,"value":"0x1","input":"0x"`,
			`"status":"0x1","gasUsed":"0x1","effectiveGasPrice":"0xa","logs":[]`, `{"type":"CREATE","from":"` + eoa + `","value":"0x1"}`}},
		{"a removed log", rawTx{`"from":"` + eoa + `","to":"` + ca + `","value":"0x1","input":"0x"`,
			`"status":"0x1","gasUsed":"0x1","effectiveGasPrice":"0xa","logs":[` + strings.Replace(log, `"logIndex"`, `"removed":true,"logIndex"`, 1) + `]`, f("CALL", eoa, ca, "0x1", "")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := evm.Decode(buildBlock(tc.tx), params(t, "dev"))
			var de *evm.DecodeError
			if !errors.As(err, &de) || de.Tx != 0 || de.Block != 7 || !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("got %v, want a *DecodeError for block 7 tx 0", err)
			}
		})
	}
}

// TestGenesisFile reads a geth genesis file's alloc (addresses with or
// without 0x, balances hex or decimal) and refuses bad ones.
func TestGenesisFile(t *testing.T) {
	var g evm.Genesis
	err := g.UnmarshalJSON([]byte(`{"config":{"chainId":1337},"alloc":{"` + ca[2:] + `":{"balance":"0x10"},"` + cb + `":{"balance":"1000"},"` + cc + `":{"balance":"0x0"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ca: "16", cb: "1000", cc: "0"}
	for a, v := range want {
		got := g.Alloc[addr(t, a)]
		if got.Dec() != v {
			t.Errorf("%s: %s, want %s", a, got.Dec(), v)
		}
	}
	for _, bad := range []string{`{"alloc":{"0x12":{"balance":"1"}}}`, `{"alloc":{"` + ca + `":{"balance":"-1"}}}`,
		`{"alloc":{"` + ca + `":{"balance":"0x"}}}`, `{"alloc":{"` + ca + `":{"balance":"0x1` + strings.Repeat("0", 64) + `"}}}`, `[]`, `{"config":{}}`} {
		if err := g.UnmarshalJSON([]byte(bad)); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", bad, err)
		}
	}
}
