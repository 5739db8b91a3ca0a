package storetest

import (
	"context"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// SizeReporter is implemented by backends that can tell how many bytes
// they hold. Bench then reports the stored bytes per transaction.
type SizeReporter interface {
	// StoredBytes returns the bytes the store occupies, flushing buffered
	// writes first if it has to.
	StoredBytes(ctx context.Context) (int64, error)
}

// flusher is implemented by backends that buffer writes in memory; Bench
// flushes before timing lookups so that they read the store's files.
type flusher interface {
	Flush() error
}

// BenchTxsPerBlock is the number of transactions (besides the coinbase) in
// each block Bench applies.
const BenchTxsPerBlock = 1000

// Bench runs the benchmark suite against the backend that open creates:
//
//   - ApplyBlock: blocks of BenchTxsPerBlock synthetic transactions (see
//     Generator) applied on top of ten warm-up blocks; it reports txs/s,
//     the block bytes per second and, for a SizeReporter, store-B/tx.
//   - Lookup/Tx, Lookup/TxAbsent, Lookup/Output, Lookup/Address,
//     Lookup/AddressHistory: point reads on a store of 30 such blocks, in
//     ns/op.
//
// open must return a new, empty store and close it when the benchmark ends
// (b.Cleanup).
func Bench(b *testing.B, open func(b *testing.B) store.Store) {
	b.Run("ApplyBlock", func(b *testing.B) { benchApply(b, open) })
	b.Run("Lookup", func(b *testing.B) { benchLookups(b, open) })
}

func benchApply(b *testing.B, open func(b *testing.B) store.Store) {
	ctx := context.Background()
	st := open(b)
	g := NewGenerator(chain, 1, BenchTxsPerBlock)
	var warmTxs int64
	for i := 0; i < 10; i++ {
		blk := g.Next()
		apply(b, st, blk)
		warmTxs += int64(len(blk.Txs))
	}
	var queue []*heistgraph.Block
	var txs, bytes int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(queue) == 0 {
			b.StopTimer()
			for j := 0; j < 8; j++ {
				queue = append(queue, g.Next())
			}
			b.StartTimer()
		}
		blk := queue[0]
		queue = queue[1:]
		if err := st.ApplyBlock(ctx, blk); err != nil {
			b.Fatalf("apply block %d: %v", blk.Height, err)
		}
		txs += int64(len(blk.Txs))
		bytes += int64(blk.Size)
	}
	b.StopTimer()
	b.SetBytes(bytes / int64(b.N))
	b.ReportMetric(float64(txs)/b.Elapsed().Seconds(), "txs/s")
	if sr, ok := st.(SizeReporter); ok {
		n, err := sr.StoredBytes(ctx)
		if err != nil {
			b.Fatalf("stored bytes: %v", err)
		}
		b.ReportMetric(float64(n)/float64(warmTxs+txs), "store-B/tx")
	}
}

func benchLookups(b *testing.B, open func(b *testing.B) store.Store) {
	ctx := context.Background()
	st := open(b)
	g := NewGenerator(chain, 2, BenchTxsPerBlock)
	var txids []heistgraph.Hash
	var ops []heistgraph.Outpoint
	var addrs []string
	for i := 0; i < 30; i++ {
		blk := g.Next()
		apply(b, st, blk)
		for _, tx := range blk.Txs {
			txids = append(txids, tx.TxID)
			ops = append(ops, heistgraph.Outpoint{TxID: tx.TxID, Vout: uint32(len(tx.Outputs) - 1)})
			if a := tx.Outputs[0].Address; a != "" {
				addrs = append(addrs, a)
			}
		}
	}
	if f, ok := st.(flusher); ok {
		if err := f.Flush(); err != nil {
			b.Fatalf("flush: %v", err)
		}
	}
	// pick spreads successive lookups over the whole store.
	pick := func(i, n int) int { return int((uint64(i) * 2654435761) % uint64(n)) }

	b.Run("Tx", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := st.Tx(ctx, chain, txids[pick(i, len(txids))]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("TxAbsent", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			h := txids[pick(i, len(txids))]
			h[0] ^= 0xff
			if _, err := st.Tx(ctx, chain, h); err == nil {
				b.Fatal("absent tx found")
			}
		}
	})
	b.Run("Output", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := st.Output(ctx, chain, ops[pick(i, len(ops))]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Address", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := st.Address(ctx, chain, addrs[pick(i, len(addrs))]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AddressHistory", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			for _, err := range st.AddressHistory(ctx, chain, addrs[pick(i, len(addrs))], store.HistoryOptions{}) {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
