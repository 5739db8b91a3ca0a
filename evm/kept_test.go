package evm_test

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// TestKeptLogsMainnet checks the kept logs of mainnet blocks 17173049-50
// against Ethereum ETL's export of the same blocks' logs (read
// independently of the receipts the decoder reads): every log whose first
// topic is a swap, mixer or approval event is kept, with its contract,
// topics and data, and nothing else is.
func TestKeptLogsMainnet(t *testing.T) {
	src, err := evm.OpenFiles(mainnetDir, evm.FileOptions{Params: *params(t, "eth")})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := "testdata/etl/blocks_17173049_17173050"
	expLogs := readJSONLines(t, filepath.Join(dir, "expected_logs.json"))
	byTopic := map[heistgraph.EVMHash]int{}
	for _, height := range []int64{17173049, 17173050} {
		b, err := src.Block(context.Background(), height)
		if err != nil {
			t.Fatal(err)
		}
		var want []heistgraph.EventLog
		for _, l := range expLogs {
			if num(t, l["block_number"]).Int64() != height {
				continue
			}
			el := heistgraph.EventLog{
				TxIndex:  int32(num(t, l["transaction_index"]).Int64()),
				TxHash:   hash(t, l["transaction_hash"].(string)),
				LogIndex: int32(num(t, l["log_index"]).Int64()),
				Address:  addr(t, l["address"].(string)),
			}
			for _, tp := range l["topics"].([]any) {
				el.Topics = append(el.Topics, hash(t, tp.(string)))
			}
			data, err := hex.DecodeString(strings.TrimPrefix(l["data"].(string), "0x"))
			if err != nil {
				t.Fatal(err)
			}
			if len(data) > 0 {
				el.Data = data
			}
			if len(el.Topics) == 0 || !evm.KeptTopic(el.Topics[0]) {
				continue
			}
			byTopic[el.Topics[0]]++
			want = append(want, el)
		}
		if len(b.Logs) != len(want) {
			t.Fatalf("block %d: %d kept logs, want %d", height, len(b.Logs), len(want))
		}
		for i := range want {
			g, w := b.Logs[i], want[i]
			if len(g.Data) == 0 {
				g.Data = nil
			}
			if g.TxIndex != w.TxIndex || g.TxHash != w.TxHash || g.LogIndex != w.LogIndex || g.Address != w.Address ||
				len(g.Topics) != len(w.Topics) || string(g.Data) != string(w.Data) {
				t.Fatalf("block %d kept log %d: %+v, want %+v", height, i, g, w)
			}
			for j := range w.Topics {
				if g.Topics[j] != w.Topics[j] {
					t.Fatalf("block %d kept log %d topic %d: %s, want %s", height, i, j, g.Topics[j], w.Topics[j])
				}
			}
		}
	}
	// The blocks must exercise the kinds the trace reads most.
	if byTopic[evm.TopicSwapV2] == 0 || byTopic[evm.TopicSwapV3] == 0 || byTopic[evm.TopicApproval] == 0 {
		t.Errorf("kept logs by topic: %v: want v2 and v3 swaps and approvals", byTopic)
	}
	t.Logf("kept: %d v2 swaps, %d v3 swaps, %d approvals", byTopic[evm.TopicSwapV2], byTopic[evm.TopicSwapV3], byTopic[evm.TopicApproval])
}
