package risk_test

import (
	"context"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// BenchmarkScreenEVM screens addresses of an account chain on demand: 5,000
// blocks of storetest.AccountGen (1,000 addresses that meet often, every
// transfer kind), clustered, with ten addresses labelled dprk, mixer and
// exchange. Each screen reads the histories of the address's senders up
// to H−1 hops back. See docs/benchmarks.md:
//
//	go test ./risk -run XXX -bench ScreenEVM -benchtime 5x -v
//
// history, the reference, reads the screened address's own history once.
func BenchmarkScreenEVM(b *testing.B) {
	ctx := context.Background()
	st := openMem(b)
	gen := storetest.NewAccountGen(evmChain, 11, 1000)
	var parent heistgraph.EVMHash
	for h := range int64(5000) {
		blk := gen.Block(0, h, parent)
		if err := st.ApplyAccountBlock(ctx, blk); err != nil {
			b.Fatal(err)
		}
		parent = blk.Hash
	}
	var ls []heistgraph.Label
	for i, cat := range []string{"dprk", "dprk", "mixer", "mixer", "exchange", "exchange", "exchange", "exchange", "sanctioned", "scam"} {
		a := gen.Addrs[100+i]
		ls = append(ls, heistgraph.Label{Chain: evmChain, Address: a.Lower(), Entity: cat + " " + a.Hex()[:6], Category: cat, Source: "bench", Confidence: 1})
	}
	if _, err := st.PutLabels(ctx, ls); err != nil {
		b.Fatal(err)
	}
	if _, err := cluster.Update(ctx, st, evmChain, cluster.DefaultOptions()); err != nil {
		b.Fatal(err)
	}
	for _, addr := range []heistgraph.EVMAddress{gen.Addrs[500], gen.Addrs[7]} {
		it := risk.Item{Chain: evmChain, Address: addr.Hex(), Direction: risk.Received}
		sc, err := risk.NewScreener(st, risk.Options{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
		if err != nil {
			b.Fatal(err)
		}
		a, err := sc.Screen(ctx, it)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: risk %s, %d direct, %d indirect, %d assets, partial %t", addr.Hex()[:10], a.Risk, len(a.Direct), len(a.Indirect), len(a.Received), a.Partial)
		// The reference: reading the address's own history once.
		b.Run(addr.Hex()[:10]+"/history", func(b *testing.B) {
			for b.Loop() {
				for _, err := range st.AccountHistory(ctx, evmChain, addr, store.AccountHistoryOptions{}) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(addr.Hex()[:10]+"/screen", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				// A Screener per screen: its label index is read again,
				// as a server's per-request answer would after a label change.
				sc, err := risk.NewScreener(st, risk.Options{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := sc.Screen(ctx, it); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
