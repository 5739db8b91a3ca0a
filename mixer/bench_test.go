package mixer_test

import (
	"context"
	"testing"

	"github.com/heistgraph/heistgraph/mixer"
	"github.com/heistgraph/heistgraph/store"
)

// benchWorld is a pool with 5,000 strangers' deposits, then the traced
// depositor's, then 4,000 withdrawals and the depositor's own (T1).
const benchWorld = `
pool p 1
block 1
fill p deposits=5000 withdrawals=0 per=50
block 1000
tx dep alice p 1 gas=7
deposit p
fill p deposits=0 withdrawals=4000 per=50
block 2000
tx wd alice p 0 gas=7
withdraw p alice
`

// BenchmarkPool measures, on one store: reading a pool's logs (scan: the
// store's AccountLogs alone, the floor), building its index (decoding every
// event), the links of a deposit with T1 only, and with T2–T4 (T2 reads
// every deposit's transaction). b.N counts pool passes; logs/s is per log.
func BenchmarkPool(b *testing.B) {
	w := newWorld()
	if err := w.parse(benchWorld); err != nil {
		b.Fatal(err)
	}
	st := openMem(b)
	ctx := context.Background()
	for _, bl := range w.blocks {
		if err := st.ApplyAccountBlock(ctx, bl); err != nil {
			b.Fatal(err)
		}
	}
	p, _ := w.table.Pool(w.addr("p"))
	const logs = 5001 + 4001
	perLog := func(b *testing.B) {
		b.ReportMetric(float64(b.N)*logs/b.Elapsed().Seconds(), "logs/s")
	}
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			n := 0
			for _, err := range st.AccountLogs(ctx, chain, p.Address, store.AccountHistoryOptions{}) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != logs {
				b.Fatalf("%d logs", n)
			}
		}
		perLog(b)
	})
	b.Run("index", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			x, err := mixer.LoadIndex(ctx, st, chain, p)
			if err != nil || len(x.Deposits) != 5001 {
				b.Fatal(err)
			}
		}
		perLog(b)
	})
	for _, hyp := range []bool{false, true} {
		name := "links-t1"
		if hyp {
			name = "links-t1-t4"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				k := mixer.NewLinker(st, w.table, mixer.Options{Hypotheses: hyp})
				ls, err := k.TxLinks(ctx, w.txHash("dep"))
				if err != nil || len(ls) != 1 {
					b.Fatalf("%v %v", ls, err)
				}
			}
			perLog(b)
		})
	}
}
