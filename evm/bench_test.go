package evm_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// The benchmarks decode Ethereum mainnet blocks 17173049 and 17173050
// (298 transactions, 681 logs, 32 withdrawals; testdata/mainnet-17173049)
// and report blocks/s and transfers/s:
//
//	go test ./evm -run '^$' -bench . -benchtime 2s
//
// BenchmarkDecode decodes answers held in memory (the decoder alone),
// BenchmarkFiles reads them from the files layout (page cache) and decodes
// them, BenchmarkRPC fetches them from a JSON-RPC server in this process
// that adds 2 ms to every answer, with fetch-ahead 1, 4 and 16.

func BenchmarkDecode(b *testing.B) {
	src := openFiles(b, mainnetDir, "eth")
	var raws []*evm.RawBlock
	size := 0
	for h := int64(17173049); h <= 17173050; h++ {
		raw, err := src.Raw(context.Background(), h)
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, raw)
		size += len(raw.Block) + len(raw.Receipts)
	}
	p := params(b, "eth")
	b.SetBytes(int64(size))
	b.ReportAllocs()
	transfers := 0
	start := time.Now()
	for b.Loop() {
		for _, raw := range raws {
			blk, err := evm.Decode(raw, p)
			if err != nil {
				b.Fatal(err)
			}
			transfers += len(blk.Transfers)
		}
	}
	report(b, start, len(raws)*b.N, transfers)
}

func BenchmarkFiles(b *testing.B) {
	src := openFiles(b, mainnetDir, "eth")
	b.ReportAllocs()
	blocks, transfers := 0, 0
	start := time.Now()
	for b.Loop() {
		for blk, err := range evm.Range(context.Background(), src, 17173049, 17173050, 1) {
			if err != nil {
				b.Fatal(err)
			}
			blocks++
			transfers += len(blk.Transfers)
		}
	}
	report(b, start, blocks, transfers)
}

func BenchmarkRPC(b *testing.B) {
	for _, ahead := range []int{1, 4, 16} {
		b.Run("ahead="+strconv.Itoa(ahead), func(b *testing.B) {
			node, srv := newFakeNode(b, openFiles(b, mainnetDir, "eth"), 1)
			node.latency = 2 * time.Millisecond
			rpc, err := evm.NewRPCSource(srv.URL, evm.RPCOptions{Params: *params(b, "eth")})
			if err != nil {
				b.Fatal(err)
			}
			defer rpc.Close()
			blocks, transfers := 0, 0
			start := time.Now()
			for b.Loop() {
				// The two blocks, again and again: ahead blocks in flight.
				for blk, err := range evm.Range(context.Background(), &cycle{rpc}, 0, 31, ahead) {
					if err != nil {
						b.Fatal(err)
					}
					blocks++
					transfers += len(blk.Transfers)
				}
			}
			report(b, start, blocks, transfers)
		})
	}
}

// cycle serves mainnet blocks 17173049 and 17173050 at every even and odd
// height.
type cycle struct{ *evm.RPCSource }

func (c *cycle) Block(ctx context.Context, h int64) (*heistgraph.AccountBlock, error) {
	return c.RPCSource.Block(ctx, 17173049+h%2)
}

// report adds blocks/s and transfers/s to a benchmark's result.
func report(b *testing.B, start time.Time, blocks, transfers int) {
	sec := time.Since(start).Seconds()
	b.ReportMetric(float64(blocks)/sec, "blocks/s")
	b.ReportMetric(float64(transfers)/sec, "transfers/s")
}
