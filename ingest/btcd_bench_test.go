package ingest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/internal/btcdtest"
)

// benchChain mines a regtest chain on node: 101 blocks to mature the first
// coinbases, then blocks of txsPerBlock signed transactions (each spends one
// coin into two, alternating P2WPKH, P2PKH and P2TR), then the rest empty
// up to height blocks.
func benchChain(tb testing.TB, node *btcdtest.Node, blocks, txBlocks, txsPerBlock int) {
	tb.Helper()
	node.Generate(tb, 100+txBlocks/4)
	var pool []btcdtest.Coin
	for h := int64(1); h <= 100 && len(pool) < txsPerBlock; h++ {
		pool = append(pool, coinbase(tb, node, h))
	}
	keys := []*btcdtest.Key{btcdtest.NewKey("bench w", btcdtest.P2WPKH), btcdtest.NewKey("bench p", btcdtest.P2PKH), btcdtest.NewKey("bench t", btcdtest.P2TR)}
	for i := 0; i < txBlocks; i++ {
		next := pool[:0:0]
		for j := 0; j < txsPerBlock && len(pool) > 0; j++ {
			c := pool[0]
			pool = pool[1:]
			half := (c.Value - 1000) / 2
			tx := send(tb, node, []btcdtest.Coin{c},
				btcdtest.Payment{Key: keys[j%3], Value: half}, btcdtest.Payment{Key: keys[(j+1)%3], Value: c.Value - 1000 - half})
			next = append(next, tx.Outs...)
		}
		pool = append(pool, next...)
		node.Generate(tb, 1)
	}
	if rest := blocks - int(node.Height(tb)); rest > 0 {
		node.Generate(tb, rest)
	}
}

// BenchmarkSyncBtcd ingests a real btcd node's regtest chain (1,000
// blocks, 5,000 signed transactions) over RPC into an in-memory store,
// fetching 1 to 16 blocks ahead, from the node on this machine and through
// a proxy that adds 2ms to each call (a node on another machine):
//
//	go test -run '^$' -bench SyncBtcd -benchtime 3x ./ingest
func BenchmarkSyncBtcd(b *testing.B) {
	node := btcdtest.Start(b, btcdtest.Options{})
	benchChain(b, node, 1000, 200, 25)
	proxy := btcdtest.NewProxy(b, strings.TrimPrefix(node.RPCURL, "http://"))
	proxy.SetDelay(2 * time.Millisecond)
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		url   string
		ahead []int
	}{
		{"local", node.RPCURL, []int{1, 2, 4, 8, 16}},
		{"rtt=2ms", proxy.URL, []int{1, 4, 8, 16}},
	} {
		for _, ahead := range bc.ahead {
			b.Run(fmt.Sprintf("%s/fetch-ahead=%d", bc.name, ahead), func(b *testing.B) {
				src, err := bitcoin.NewRPCSource(bc.url, bitcoin.RPCOptions{User: node.User, Password: node.Pass})
				if err != nil {
					b.Fatal(err)
				}
				defer src.Close()
				benchSync(ctx, b, src, ahead)
			})
		}
	}
}

func benchSync(ctx context.Context, b *testing.B, src *bitcoin.RPCSource, ahead int) {
	b.ReportAllocs()
	var total ingest.Stats
	for b.Loop() {
		b.StopTimer()
		st := openStore(b)
		b.StartTimer()
		stats, err := ingest.Sync(ctx, st, src, ingest.SyncOptions{FetchAhead: ahead})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(stats.Bytes)
		total.Blocks += stats.Blocks
		total.Txs += stats.Txs
		total.Elapsed += stats.Elapsed
	}
	b.ReportMetric(float64(total.Blocks)/total.Elapsed.Seconds(), "blocks/s")
	b.ReportMetric(float64(total.Txs)/total.Elapsed.Seconds(), "txs/s")
}
