package evm_test

import (
	"encoding/hex"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// TestDecodeLogMainnet decodes real mainnet logs (ethereum-etl's logs.csv
// of block 1452581: two ERC-20 Transfers and another event) and compares
// with ethereum-etl's token transfers of them.
func TestDecodeLogMainnet(t *testing.T) {
	dir := "testdata/etl/logs"
	want := map[string]map[string]string{}
	for _, r := range readCSV(t, filepath.Join(dir, "expected_token_transfers.csv")) {
		want[r["log_index"]] = r
	}
	found := 0
	for _, r := range readCSV(t, filepath.Join(dir, "logs.csv")) {
		l := &evm.Log{Address: addr(t, r["address"]), Data: unhex(t, r["data"])}
		for _, s := range strings.Split(r["topics"], ",") {
			l.Topics = append(l.Topics, hash(t, s))
		}
		got, ok := evm.DecodeLog(l, params(t, "eth"))
		w, isTransfer := want[r["log_index"]]
		if ok != isTransfer {
			t.Fatalf("log %s: transfer %v, want %v", r["log_index"], ok, isTransfer)
		}
		if !ok {
			continue
		}
		found++
		if got.Kind != heistgraph.TransferERC20 || got.From != addr(t, w["from_address"]) || got.To != addr(t, w["to_address"]) ||
			got.Asset != heistgraph.TokenAsset(addr(t, w["token_address"])) || got.Amount != dec(t, w["value"]) {
			t.Errorf("log %s: %s, want %v", r["log_index"], showTransfer(got), w)
		}
	}
	if found != len(want) {
		t.Errorf("%d transfers, want %d", found, len(want))
	}
}

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestDecodeLogShapes runs DecodeLog on hand-written logs: only the
// shapes that move value do.
func TestDecodeLogShapes(t *testing.T) {
	word := func(v int) string { return strings.Repeat("0", 62) + strconv.FormatInt(int64(v)+0x100, 16)[1:] }
	topicAddr := func(a string) heistgraph.EVMHash { return hash(t, "0x000000000000000000000000"+a[2:]) }
	weth := "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
	tests := []struct {
		name   string
		addr   string
		topics []heistgraph.EVMHash
		data   string
		want   string // showTransfer, "" for none
	}{
		{"ERC-20 Transfer", cb, []heistgraph.EVMHash{evm.TopicTransfer, topicAddr(ca), topicAddr(eoa)}, word(9),
			"erc20 " + ca + " " + eoa + " " + cb + " 9 "},
		{"ERC-20 mint (from zero)", cb, []heistgraph.EVMHash{evm.TopicTransfer, {}, topicAddr(eoa)}, word(9),
			"erc20 0x0000000000000000000000000000000000000000 " + eoa + " " + cb + " 9 "},
		{"ERC-721 Transfer: four topics, no data", cb, []heistgraph.EVMHash{evm.TopicTransfer, topicAddr(ca), topicAddr(eoa), hash(t, "0x"+word(7))}, "", ""},
		{"ERC-721 with a data word too", cb, []heistgraph.EVMHash{evm.TopicTransfer, topicAddr(ca), topicAddr(eoa), hash(t, "0x"+word(7))}, word(9), ""},
		{"Transfer with nothing indexed", cb, []heistgraph.EVMHash{evm.TopicTransfer}, word(1) + word(2) + word(3), ""},
		{"zero amount", cb, []heistgraph.EVMHash{evm.TopicTransfer, topicAddr(ca), topicAddr(eoa)}, word(0), ""},
		{"topic that is no address", cb, []heistgraph.EVMHash{evm.TopicTransfer, hash(t, "0x01"+strings.Repeat("0", 62)), topicAddr(eoa)}, word(9), ""},
		{"data of 33 bytes", cb, []heistgraph.EVMHash{evm.TopicTransfer, topicAddr(ca), topicAddr(eoa)}, word(9) + "00", ""},
		{"no topics", cb, nil, word(9), ""},
		{"WETH Deposit", weth, []heistgraph.EVMHash{evm.TopicDeposit, topicAddr(eoa)}, word(5),
			"weth_deposit 0x0000000000000000000000000000000000000000 " + eoa + " " + heistgraph.TokenAsset(addr(t, weth)).Key() + " 5 "},
		{"WETH Withdrawal", weth, []heistgraph.EVMHash{evm.TopicWithdrawal, topicAddr(eoa)}, word(5),
			"weth_withdrawal " + eoa + " 0x0000000000000000000000000000000000000000 " + heistgraph.TokenAsset(addr(t, weth)).Key() + " 5 "},
		{"Deposit of a contract that is not WETH", cb, []heistgraph.EVMHash{evm.TopicDeposit, topicAddr(eoa)}, word(5), ""},
		{"Withdrawal of a contract that is not WETH", cb, []heistgraph.EVMHash{evm.TopicWithdrawal, topicAddr(eoa)}, word(5), ""},
		{"another event", cb, []heistgraph.EVMHash{hash(t, "0x"+word(1)), topicAddr(ca), topicAddr(eoa)}, word(9), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := evm.DecodeLog(&evm.Log{Address: addr(t, tc.addr), Topics: tc.topics, Data: unhex(t, tc.data)}, params(t, "eth"))
			if ok != (tc.want != "") || (ok && showTransfer(got) != tc.want) {
				t.Errorf("got %v %q, want %q", ok, showTransfer(got), tc.want)
			}
		})
	}
}

// TestDecodeToken reads recorded symbol() and decimals() answers of real
// tokens: an ABI string, a bytes32 (EOS), a string padded with NULs, an
// empty string; and refuses what is neither.
func TestDecodeToken(t *testing.T) {
	tests := []struct {
		dir, symbol string
		symOK       bool
		decimals    uint8
	}{
		{"token_with_alternative_return_type", "EOS", true, 18},
		{"token_with_invalid_data", "ETH", true, 18},
		{"token_with_empty_symbol", "", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			sym, _ := filepath.Glob(filepath.Join("testdata/etl/tokens", tc.dir, "web3_response.eth_call_data_0x95d89b41_*"))
			decs, _ := filepath.Glob(filepath.Join("testdata/etl/tokens", tc.dir, "web3_response.eth_call_data_0x313ce567_*"))
			s, ok := evm.DecodeSymbol(unhex(t, strings.Trim(string(result(t, sym[0])), `"`)))
			if s != tc.symbol || ok != tc.symOK {
				t.Errorf("symbol %q %v, want %q %v", s, ok, tc.symbol, tc.symOK)
			}
			d, ok := evm.DecodeDecimals(unhex(t, strings.Trim(string(result(t, decs[0])), `"`)))
			if d != tc.decimals || !ok {
				t.Errorf("decimals %d %v, want %d", d, ok, tc.decimals)
			}
		})
	}
	for _, bad := range []string{"", "00", strings.Repeat("ff", 32), strings.Repeat("00", 31) + "0100"} {
		if _, ok := evm.DecodeDecimals(unhex(t, bad)); ok {
			t.Errorf("decimals %q accepted", bad)
		}
	}
	for _, bad := range []string{"", "0102", strings.Repeat("ff", 64), strings.Repeat("00", 31) + "20" + strings.Repeat("00", 31) + "ff"} {
		if s, ok := evm.DecodeSymbol(unhex(t, bad)); ok {
			t.Errorf("symbol %q accepted as %q", bad, s)
		}
	}
}
