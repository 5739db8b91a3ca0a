package ingest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/internal/btcdtest"
	"github.com/heistgraph/heistgraph/internal/gethtest"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// BenchmarkSyncGeth ingests a real geth --dev chain (the gethtest scenario
// run 10 times: about 240 blocks with plain transfers, internal calls,
// creations, self-destructs and ERC-20 transfers) over JSON-RPC into an
// in-memory store, fetching 1 to 16 blocks ahead, from the node on this
// machine and through a proxy that adds 2 ms to each call (a node on
// another machine); then from the same chain dumped to files (--dump, then
// --files). It reports blocks/s, transfers/s and the store's bytes per
// transfer (sorted tables after a flush); fetch-only is the reference: the
// same blocks fetched and decoded without the store:
//
//	go test -run '^$' -bench SyncGeth -benchtime 3x ./ingest
func BenchmarkSyncGeth(b *testing.B) {
	node := gethtest.Start(b, gethtest.Options{})
	for range 10 {
		gethtest.RunScenario(b, node)
	}
	proxy := btcdtest.NewProxy(b, strings.TrimPrefix(node.RPCURL, "http://"))
	proxy.SetDelay(2 * time.Millisecond)
	ctx := context.Background()
	params, err := evm.ParamsFor("dev")
	if err != nil {
		b.Fatal(err)
	}
	rpcSource := func(b *testing.B, url string) *evm.RPCSource {
		src, err := evm.NewRPCSource(url, evm.RPCOptions{Params: params})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(src.Close)
		return src
	}
	// The dump the files benchmarks read.
	dir := b.TempDir()
	d, err := evm.NewDumper(dir)
	if err != nil {
		b.Fatal(err)
	}
	rs := rpcSource(b, node.RPCURL)
	tip, err := rs.TipHeight(ctx)
	if err != nil {
		b.Fatal(err)
	}
	opts := ingest.AccountOptions{Chain: "dev", To: tip, Bounded: true}
	if _, err := ingest.SyncAccounts(ctx, openStore(b), &evm.Dumping{Src: rs, Dump: d}, opts); err != nil {
		b.Fatal(err)
	}
	if err := d.Close(); err != nil {
		b.Fatal(err)
	}
	// The reference: fetching and decoding the same blocks without the
	// store (evm.Range), the ceiling of ingesting from that source.
	for _, url := range []struct{ name, url string }{{"local", node.RPCURL}, {"rtt=2ms", proxy.URL}} {
		b.Run(url.name+"/fetch-only/fetch-ahead=8", func(b *testing.B) {
			src := rpcSource(b, url.url)
			var blocks, transfers int64
			start := time.Now()
			for b.Loop() {
				for blk, err := range evm.Range(ctx, src, 0, tip, 8) {
					if err != nil {
						b.Fatal(err)
					}
					blocks++
					transfers += int64(len(blk.Transfers))
				}
			}
			el := time.Since(start).Seconds()
			b.ReportMetric(float64(blocks)/el, "blocks/s")
			b.ReportMetric(float64(transfers)/el, "transfers/s")
		})
	}
	for _, bc := range []struct {
		name  string
		src   func(b *testing.B) heistgraph.AccountSource
		ahead []int
	}{
		{"local", func(b *testing.B) heistgraph.AccountSource { return rpcSource(b, node.RPCURL) }, []int{1, 2, 4, 8, 16}},
		{"rtt=2ms", func(b *testing.B) heistgraph.AccountSource { return rpcSource(b, proxy.URL) }, []int{1, 4, 8, 16}},
		{"files", func(b *testing.B) heistgraph.AccountSource {
			fs, err := evm.OpenFiles(dir, evm.FileOptions{Params: params})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = fs.Close() })
			return fs
		}, []int{1, 8}},
	} {
		for _, ahead := range bc.ahead {
			b.Run(fmt.Sprintf("%s/fetch-ahead=%d", bc.name, ahead), func(b *testing.B) {
				benchSyncAccounts(ctx, b, bc.src(b), ahead, tip)
			})
		}
	}
}

func benchSyncAccounts(ctx context.Context, b *testing.B, src heistgraph.AccountSource, ahead int, tip int64) {
	b.ReportAllocs()
	var total ingest.Stats
	var bytes int64
	for b.Loop() {
		b.StopTimer()
		st := openStore(b)
		b.StartTimer()
		opts := ingest.AccountOptions{Chain: "dev", To: tip, Bounded: true}
		opts.FetchAhead = ahead
		stats, err := ingest.SyncAccounts(ctx, st, src, opts)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if bytes, err = st.(*pebble.DB).StoredBytes(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		total.Blocks += stats.Blocks
		total.Transfers += stats.Transfers
		total.Elapsed += stats.Elapsed
	}
	b.ReportMetric(float64(total.Blocks)/total.Elapsed.Seconds(), "blocks/s")
	b.ReportMetric(float64(total.Transfers)/total.Elapsed.Seconds(), "transfers/s")
	b.ReportMetric(float64(bytes)/(float64(total.Transfers)/float64(b.N)), "B/transfer")
}
