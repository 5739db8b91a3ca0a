package evm_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// etlTx is a transaction as ethereum-etl exported it, with its receipt.
type etlTx struct {
	hash, from, to string // to: the recipient or the created contract
	index          int
	value          uint256.Int
	status         int // -1: no status (before Byzantium)
	gasUsed, price uint256.Int
}

// etlToken is an ERC-20 transfer as ethereum-etl exported it.
type etlToken struct {
	token, from, to, tx string
	value               uint256.Int
	logIndex            int
}

// expectLedger builds, from an export, the ledger methods.md §0.2
// prescribes: per transaction its top-level value when it succeeded, its
// token transfers by log index, its fee (gasUsed × effectiveGasPrice) and
// its priority fee (gasUsed × (price − baseFee)) to the miner; then the
// block reward and the withdrawals (gwei × 10⁹). Blocks without traces
// have no internal transfers.
func expectLedger(txs []etlTx, tokens []etlToken, extra map[string][]heistgraph.Transfer, miner heistgraph.EVMAddress, baseFee uint256.Int, reward uint64, withdrawals []heistgraph.Transfer) []heistgraph.Transfer {
	var out []heistgraph.Transfer
	for _, t := range txs {
		h, _ := heistgraph.ParseEVMHash(t.hash)
		from, _ := heistgraph.ParseEVMAddress(t.from)
		to, _ := heistgraph.ParseEVMAddress(t.to)
		base := heistgraph.Transfer{TxIndex: int32(t.index), TxHash: h, LogIndex: -1}
		if t.status != 0 && !t.value.IsZero() {
			tr := base
			tr.Kind, tr.From, tr.To, tr.Amount = heistgraph.TransferNative, from, to, t.value
			out = append(out, tr)
		}
		var logs []heistgraph.Transfer
		for _, k := range tokens {
			if k.tx != t.hash {
				continue
			}
			tr := base
			tr.Kind, tr.Amount, tr.LogIndex = heistgraph.TransferERC20, k.value, int32(k.logIndex)
			tr.From, _ = heistgraph.ParseEVMAddress(k.from)
			tr.To, _ = heistgraph.ParseEVMAddress(k.to)
			tok, _ := heistgraph.ParseEVMAddress(k.token)
			tr.Asset = heistgraph.TokenAsset(tok)
			logs = append(logs, tr)
		}
		logs = append(logs, extra[t.hash]...)
		sortByLogIndex(logs)
		out = append(out, logs...)
		var fee uint256.Int
		fee.Mul(&t.gasUsed, &t.price)
		if !fee.IsZero() {
			tr := base
			tr.Kind, tr.From, tr.Amount = heistgraph.TransferFee, from, fee
			out = append(out, tr)
		}
		if t.price.Gt(&baseFee) {
			var tip uint256.Int
			tip.Sub(&t.price, &baseFee)
			tip.Mul(&tip, &t.gasUsed)
			tr := base
			tr.Kind, tr.To, tr.Amount = heistgraph.TransferPriorityFee, miner, tip
			out = append(out, tr)
		}
	}
	if reward > 0 {
		out = append(out, heistgraph.Transfer{Kind: heistgraph.TransferReward, TxIndex: -1, To: miner, Amount: *uint256.NewInt(reward), LogIndex: -1})
	}
	return append(out, withdrawals...)
}

func sortByLogIndex(ts []heistgraph.Transfer) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].LogIndex < ts[j-1].LogIndex; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// compareLedger reports the first differences between two ledgers.
func compareLedger(t *testing.T, got, want []heistgraph.Transfer) {
	t.Helper()
	n := max(len(got), len(want))
	bad := 0
	for i := 0; i < n && bad < 5; i++ {
		switch {
		case i >= len(got):
			t.Errorf("transfer %d missing: want %s", i, showTransfer(want[i]))
			bad++
		case i >= len(want):
			t.Errorf("transfer %d extra: %s", i, showTransfer(got[i]))
			bad++
		case got[i] != want[i]:
			t.Errorf("transfer %d:\n got %s (tx %d log %d)\nwant %s (tx %d log %d)", i, showTransfer(got[i]), got[i].TxIndex, got[i].LogIndex,
				showTransfer(want[i]), want[i].TxIndex, want[i].LogIndex)
			bad++
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d transfers, want %d", len(got), len(want))
	}
}

// TestDecodeMainnet483920 decodes mainnet block 483920 (Frontier, four
// transactions, two ERC-20 transfers) from its recorded
// eth_getBlockByNumber and eth_getTransactionReceipt answers, and checks
// every transfer against ethereum-etl's exports of the same block:
// transactions (native value), receipts (fees) and token transfers.
func TestDecodeMainnet483920(t *testing.T) {
	dir := "testdata/etl/block_483920"
	block := result(t, filepath.Join(dir, "web3_response.eth_getBlockByNumber_0x76250_true.json"))
	raw := &evm.RawBlock{Height: 483920, Block: block, Receipts: receiptsOf(t, dir, block)}
	b, err := evm.Decode(raw, params(t, "eth"))
	if err != nil {
		t.Fatal(err)
	}
	receipts := map[string]map[string]string{}
	for _, r := range readCSV(t, filepath.Join(dir, "expected_receipts.csv")) {
		receipts[r["transaction_hash"]] = r
	}
	var txs []etlTx
	for _, r := range readCSV(t, filepath.Join(dir, "expected_transactions.csv")) {
		rc := receipts[r["hash"]]
		i, _ := strconv.Atoi(r["transaction_index"])
		txs = append(txs, etlTx{hash: r["hash"], from: r["from_address"], to: r["to_address"], index: i,
			value: dec(t, r["value"]), status: -1, gasUsed: dec(t, rc["gas_used"]), price: dec(t, rc["effective_gas_price"])})
	}
	var tokens []etlToken
	for _, r := range readCSV(t, filepath.Join(dir, "expected_token_transfers.csv")) {
		li, _ := strconv.Atoi(r["log_index"])
		tokens = append(tokens, etlToken{token: r["token_address"], from: r["from_address"], to: r["to_address"], tx: r["transaction_hash"], value: dec(t, r["value"]), logIndex: li})
	}
	want := expectLedger(txs, tokens, nil, addr(t, "0x52bc44d5378309ee2abf1539bf71de1b7d7be3b5"), uint256.Int{}, 5e18, nil)
	compareLedger(t, b.Transfers, want)
	if b.InternalKnown {
		t.Error("InternalKnown without traces")
	}
	if len(b.Txs) != 4 || b.Txs[0].Selector != [4]byte{0xa9, 0x05, 0x9c, 0xbb} || b.Txs[0].InputLen != 68 || b.Txs[0].Status != 1 {
		t.Errorf("txs: %+v", b.Txs)
	}
	if b.Hash != hash(t, "0x246edb4b351d93c27926f4649bcf6c24366e2a7c7c718dc9158eea20c03bc6ae") || b.Time != 0x5638c858 {
		t.Errorf("header: %s %d", b.Hash, b.Time)
	}
}

// TestDecodeMainnet1755635 decodes mainnet blocks 1755634 (empty) and
// 1755635 (two transactions, one ERC-20 transfer) against ethereum-etl's
// JSON exports.
func TestDecodeMainnet1755635(t *testing.T) {
	dir := "testdata/etl/blocks_1755634_1755635"
	expTxs := readJSONLines(t, filepath.Join(dir, "expected_transactions.json"))
	expTok := readJSONLines(t, filepath.Join(dir, "expected_token_transfers.json"))
	expBlocks := readJSONLines(t, filepath.Join(dir, "expected_blocks.json"))
	for _, tc := range []struct {
		height int64
		file   string
	}{{1755634, "0x1ac9f2"}, {1755635, "0x1ac9f3"}} {
		t.Run(strconv.FormatInt(tc.height, 10), func(t *testing.T) {
			block := result(t, filepath.Join(dir, "web3_response.eth_getBlockByNumber_"+tc.file+"_true.json"))
			raw := &evm.RawBlock{Height: tc.height, Block: block, Receipts: receiptsOf(t, dir, block)}
			b, err := evm.Decode(raw, params(t, "eth"))
			if err != nil {
				t.Fatal(err)
			}
			var txs []etlTx
			for _, r := range expTxs {
				if num(t, r["block_number"]).Int64() != tc.height {
					continue
				}
				txs = append(txs, etlTx{hash: r["hash"].(string), from: r["from_address"].(string), to: r["to_address"].(string),
					index: int(num(t, r["transaction_index"]).Int64()), value: dec(t, r["value"]), status: -1,
					gasUsed: dec(t, r["receipt_gas_used"]), price: dec(t, r["receipt_effective_gas_price"])})
			}
			var tokens []etlToken
			for _, r := range expTok {
				if num(t, r["block_number"]).Int64() == tc.height {
					tokens = append(tokens, etlToken{token: r["token_address"].(string), from: r["from_address"].(string), to: r["to_address"].(string),
						tx: r["transaction_hash"].(string), value: dec(t, r["value"]), logIndex: int(num(t, r["log_index"]).Int64())})
				}
			}
			var miner string
			for _, r := range expBlocks {
				if num(t, r["number"]).Int64() == tc.height {
					miner = r["miner"].(string)
				}
			}
			compareLedger(t, b.Transfers, expectLedger(txs, tokens, nil, addr(t, miner), uint256.Int{}, 5e18, nil))
		})
	}
}

// TestDecodeMainnetFiles decodes mainnet blocks 17173049 and 17173050
// (after London and Shanghai: EIP-1559 fees, 9 failed transactions, a
// contract creation, WETH, withdrawals) from the files layout and checks
// the whole ledger against ethereum-etl's exports: its ERC-20 transfers
// (those of its token transfers that are ERC-20 Transfer logs: three
// topics and one data word, not ERC-721's four topics), each
// transaction's value (none when it failed), fee and priority fee, and
// the withdrawals.
func TestDecodeMainnetFiles(t *testing.T) {
	src, err := evm.OpenFiles(mainnetDir, evm.FileOptions{Params: *params(t, "eth")})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := "testdata/etl/blocks_17173049_17173050"
	expTxs := readJSONLines(t, filepath.Join(dir, "expected_transactions.json"))
	expTok := readJSONLines(t, filepath.Join(dir, "expected_token_transfers.json"))
	expLogs := readJSONLines(t, filepath.Join(dir, "expected_logs.json"))
	expBlocks := readJSONLines(t, filepath.Join(dir, "expected_blocks.json"))
	type logKey struct {
		tx  string
		idx int64
	}
	logs := map[logKey]map[string]any{}
	for _, l := range expLogs {
		logs[logKey{l["transaction_hash"].(string), num(t, l["log_index"]).Int64()}] = l
	}
	weth := "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
	failed, erc20, wethMoves, skipped := 0, 0, 0, 0
	for _, blk := range expBlocks {
		height := num(t, blk["number"]).Int64()
		b, err := src.Block(context.Background(), height)
		if err != nil {
			t.Fatal(err)
		}
		var txs []etlTx
		for _, r := range expTxs {
			if num(t, r["block_number"]).Int64() != height {
				continue
			}
			to, _ := r["to_address"].(string)
			if to == "" {
				to = r["receipt_contract_address"].(string)
			}
			st := int(num(t, r["receipt_status"]).Int64())
			if st == 0 {
				failed++
			}
			txs = append(txs, etlTx{hash: r["hash"].(string), from: r["from_address"].(string), to: to,
				index: int(num(t, r["transaction_index"]).Int64()), value: dec(t, r["value"]), status: st,
				gasUsed: dec(t, r["receipt_gas_used"]), price: dec(t, r["receipt_effective_gas_price"])})
		}
		var tokens []etlToken
		for _, r := range expTok {
			if num(t, r["block_number"]).Int64() != height {
				continue
			}
			l := logs[logKey{r["transaction_hash"].(string), num(t, r["log_index"]).Int64()}]
			v := dec(t, r["value"])
			if len(l["topics"].([]any)) != 3 || len(l["data"].(string)) != 66 || v.IsZero() {
				skipped++ // ERC-721 (four topics) and zero amounts move no ERC-20 value
				continue
			}
			erc20++
			tokens = append(tokens, etlToken{token: r["token_address"].(string), from: r["from_address"].(string), to: r["to_address"].(string),
				tx: r["transaction_hash"].(string), value: v, logIndex: int(num(t, r["log_index"]).Int64())})
		}
		// WETH9's Deposit and Withdrawal logs, read off the export's logs.
		extra := map[string][]heistgraph.Transfer{}
		for _, l := range expLogs {
			if num(t, l["block_number"]).Int64() != height || l["address"] != weth {
				continue
			}
			topics := l["topics"].([]any)
			h := hash(t, l["transaction_hash"].(string))
			tr := heistgraph.Transfer{TxIndex: int32(num(t, l["transaction_index"]).Int64()), TxHash: h,
				Asset: heistgraph.TokenAsset(addr(t, weth)), LogIndex: int32(num(t, l["log_index"]).Int64())}
			who := addr(t, "0x"+topics[1].(string)[26:])
			tr.Amount.SetFromHex("0x" + trimZeros(l["data"].(string)[2:]))
			switch topics[0] {
			case evm.TopicDeposit.String():
				tr.Kind, tr.To = heistgraph.TransferWETHDeposit, who
			case evm.TopicWithdrawal.String():
				tr.Kind, tr.From = heistgraph.TransferWETHWithdrawal, who
			default:
				continue
			}
			wethMoves++
			extra[l["transaction_hash"].(string)] = append(extra[l["transaction_hash"].(string)], tr)
		}
		var ws []heistgraph.Transfer
		for _, w := range blk["withdrawals"].([]any) {
			w := w.(map[string]any)
			var amt uint256.Int
			g := dec(t, w["amount"])
			amt.Mul(&g, uint256.NewInt(1_000_000_000))
			ws = append(ws, heistgraph.Transfer{Kind: heistgraph.TransferWithdrawal, TxIndex: -1, To: addr(t, w["address"].(string)), Amount: amt, LogIndex: -1})
		}
		want := expectLedger(txs, tokens, extra, addr(t, blk["miner"].(string)), dec(t, blk["base_fee_per_gas"]), 0, ws)
		t.Run(strconv.FormatInt(height, 10), func(t *testing.T) { compareLedger(t, b.Transfers, want) })
		if b.Txs[0].EffectiveGasPrice != txs[0].price || b.BaseFee != dec(t, blk["base_fee_per_gas"]) {
			t.Errorf("block %d: price %s base fee %s", height, b.Txs[0].EffectiveGasPrice.Dec(), b.BaseFee.Dec())
		}
	}
	if failed != 9 || erc20 < 250 || wethMoves == 0 {
		t.Errorf("the export exercised %d failed txs, %d ERC-20 transfers, %d WETH moves (%d token transfers skipped)", failed, erc20, wethMoves, skipped)
	}
	t.Logf("%d failed txs, %d ERC-20 transfers, %d WETH deposits/withdrawals, %d non-ERC-20 token transfers", failed, erc20, wethMoves, skipped)
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

// TestDecodeGenesisBlock decodes mainnet's block 0 with allocations.
func TestDecodeGenesisBlock(t *testing.T) {
	block := result(t, "testdata/etl/genesis/web3_response.eth_getBlockByNumber_0x0_true.json")
	var g evm.Genesis
	if err := json.Unmarshal([]byte(`{"alloc": {"000d836201318ec6899a67540690382780743280": {"balance": "200000000000000000000"},
		"0x001762430ea9c3a26e5749afdb70da5f78ddbb8c": {"balance": "0xad78ebc5ac6200000"}}}`), &g); err != nil {
		t.Fatal(err)
	}
	b, err := evm.Decode(&evm.RawBlock{Height: 0, Block: block, Genesis: &g}, params(t, "eth"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Transfers) != 2 || b.Transfers[0].Kind != heistgraph.TransferGenesis || b.Transfers[0].To != addr(t, "0x000d836201318ec6899a67540690382780743280") ||
		b.Transfers[0].Amount.Dec() != "200000000000000000000" || b.Transfers[1].Amount.Dec() != "200000000000000000000" || b.Transfers[1].TxIndex != -1 {
		t.Errorf("genesis ledger: %v", b.Transfers)
	}
	if _, err := evm.Decode(&evm.RawBlock{Height: 0, Block: block, Genesis: &g, Receipts: json.RawMessage(`[{}]`)}, params(t, "eth")); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("a receipt for a block without transactions: %v", err)
	}
}

// TestDecodeRefuses checks that answers that do not belong together, or
// are not answers at all, are refused with an error naming where.
func TestDecodeRefuses(t *testing.T) {
	dir := "testdata/etl/block_483920"
	block := result(t, filepath.Join(dir, "web3_response.eth_getBlockByNumber_0x76250_true.json"))
	receipts := receiptsOf(t, dir, block)
	var rs []json.RawMessage
	if err := json.Unmarshal(receipts, &rs); err != nil {
		t.Fatal(err)
	}
	swapped, _ := json.Marshal([]json.RawMessage{rs[1], rs[0], rs[2], rs[3]})
	short, _ := json.Marshal(rs[:3])
	tests := []struct {
		name  string
		raw   evm.RawBlock
		field string
	}{
		{"wrong height", evm.RawBlock{Height: 483921, Block: block, Receipts: receipts}, "block"},
		{"receipts swapped", evm.RawBlock{Height: 483920, Block: block, Receipts: swapped}, "receipt"},
		{"a receipt missing", evm.RawBlock{Height: 483920, Block: block, Receipts: short}, "receipts"},
		{"traces for other txs", evm.RawBlock{Height: 483920, Block: block, Receipts: receipts, Traces: json.RawMessage(`[]`)}, "traces"},
		{"not json", evm.RawBlock{Height: 483920, Block: json.RawMessage(`{"number":`)}, "block"},
		{"hashes only", evm.RawBlock{Height: 483920, Block: json.RawMessage(`{"number":"0x76250","hash":"0x246edb4b351d93c27926f4649bcf6c24366e2a7c7c718dc9158eea20c03bc6ae",
			"transactions":["0x04cbcb236043d8fb7839e07bbc7f5eed692fb2ca55d897f1101eac3e3ad4fab8"]}`), Receipts: receipts}, "block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := evm.Decode(&tc.raw, params(t, "eth"))
			var de *evm.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("got %v, want a *DecodeError wrapping ErrInvalid", err)
			}
			t.Log(err)
			if de.Field != tc.field || de.Block != tc.raw.Height {
				t.Errorf("field %q block %d, want %q %d (%v)", de.Field, de.Block, tc.field, tc.raw.Height, err)
			}
		})
	}
}
