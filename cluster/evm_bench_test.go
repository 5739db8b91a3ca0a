package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// BenchmarkAccountUpdate clusters an account chain from scratch: 20,000
// blocks of storetest.AccountGen (5,000 addresses, every transfer kind,
// approvals) with 20 addresses labelled as exchanges' hot wallets, in an
// in-memory store. It reports transfers/s. See docs/benchmarks.md:
//
//	go test ./cluster -run XXX -bench AccountUpdate -benchtime 3x -v
//
// read-only is the reference: the same block and transaction reads
// without clustering.
func BenchmarkAccountUpdate(b *testing.B) {
	ctx := context.Background()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	st, err := pebble.Open("db", opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	gen := storetest.NewAccountGen(ethChain, 7, 5000)
	var parent heistgraph.EVMHash
	for h := range int64(20_000) {
		blk := gen.Block(0, h, parent)
		if err := st.ApplyAccountBlock(ctx, blk); err != nil {
			b.Fatal(err)
		}
		parent = blk.Hash
	}
	var ls []heistgraph.Label
	for _, a := range gen.Addrs[:20] {
		ls = append(ls, heistgraph.Label{Chain: ethChain, Address: a.Lower(), Entity: "Exchange " + a.Hex()[:6], Category: "exchange", Source: "bench", Confidence: 1})
	}
	if _, err := st.PutLabels(ctx, ls); err != nil {
		b.Fatal(err)
	}
	// The reference: reading the same blocks and transactions, as the
	// clustering does, without clustering.
	b.Run("read-only", func(b *testing.B) {
		for b.Loop() {
			start, n := time.Now(), 0
			for h := range int64(20_000) {
				bi, err := st.AccountBlockByHeight(ctx, ethChain, h)
				if err != nil {
					b.Fatal(err)
				}
				for _, th := range bi.TxHashes {
					rec, err := st.AccountTx(ctx, ethChain, th)
					if err != nil {
						b.Fatal(err)
					}
					n += len(rec.Transfers)
				}
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "transfers/s")
		}
	})
	var s Stats
	b.Run("cluster", func(b *testing.B) {
		for b.Loop() {
			if err := st.RewindClusters(ctx, ethChain, -1); err != nil {
				b.Fatal(err)
			}
			if err := st.WriteClusters(ctx, ethChain, &store.ClusterBatch{Pending: []byte{0}}); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if s, err = Update(ctx, st, ethChain, DefaultOptions()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(s.Transfers)/time.Since(start).Seconds(), "transfers/s")
		}
	})
	b.Logf("%d blocks, %d txs, %d transfers; %d addresses in %d clusters (largest %d); %d deposit addresses, %d deposit-reuse, %d shared, %d self-auth, %d funded_by",
		s.Blocks, s.Txs, s.Transfers, s.Addresses, s.Clusters, s.Largest, s.Deposits, s.DepositReuse, s.SharedDeposits, s.SelfAuth, s.FundedBy)
}
