package pebble

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// groupStep is one step of a script run against two stores: blocks to
// apply, or (blocks nil) a rewind to height.
type groupStep struct {
	blocks []*heistgraph.Block
	rewind int64
}

// groupScript builds a script from generated chains that takes ApplyBlocks
// down every path: blocks in order, gaps filled later (pending spends
// resolved by a later run), a block repeating a stored coinbase and a
// stored tx (collisions, with undo records), blocks already stored
// (no-ops), a block at a stored height (conflict), a reorg to a side
// branch and back, and a chain started in the middle of a run.
func groupScript(seed uint64) []groupStep {
	chain := heistgraph.ChainBTCRegtest
	g := storetest.NewGenerator(chain, seed, 12)
	var main []*heistgraph.Block
	for range 24 {
		main = append(main, g.Next())
	}
	f := g.Fork(seed + 100)
	for range 16 {
		main = append(main, g.Next())
	}
	var side []*heistgraph.Block
	for range 20 {
		side = append(side, f.Next())
	}
	// A block mining again a coinbase and a tx of main (BIP30-like and a
	// stale block's tx), far above the chain so that no height collides.
	again := &heistgraph.Block{
		Chain: chain, Hash: sha256.Sum256(fmt.Appendf(nil, "again %d", seed)), Height: 500,
		Time: main[10].Time + 1, Size: 1000,
		Txs: []heistgraph.Tx{main[3].Txs[0], main[5].Txs[len(main[5].Txs)-1]},
	}
	conflict := *main[7]
	conflict.Hash = sha256.Sum256(fmt.Appendf(nil, "conflict %d", seed))
	other := storetest.NewGenerator(heistgraph.ChainBTCSignet, seed, 4)
	var signet []*heistgraph.Block
	for range 3 {
		signet = append(signet, other.Next())
	}
	cat := func(parts ...[]*heistgraph.Block) []*heistgraph.Block {
		var out []*heistgraph.Block
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	// A block at height 24 spending an output that only main[24:] creates
	// and main never spends: after a rewind to 23 the output is gone, so
	// the spend must stay unresolved (an output cache that outlived the
	// rewind would resolve it).
	spent := map[heistgraph.Outpoint]bool{}
	for _, b := range main {
		for _, tx := range b.Txs {
			for _, in := range tx.Inputs {
				spent[in.PrevOut] = true
			}
		}
	}
	var gone heistgraph.Outpoint
	for _, b := range main[30:] {
		for _, tx := range b.Txs {
			if op := (heistgraph.Outpoint{TxID: tx.TxID}); !spent[op] && len(tx.Outputs) > 0 {
				gone = op
			}
		}
	}
	late := &heistgraph.Block{
		Chain: chain, Hash: sha256.Sum256(fmt.Appendf(nil, "late %d", seed)), Height: 24,
		Time: main[23].Time + 1, Size: 300,
		Txs: []heistgraph.Tx{{
			TxID:    sha256.Sum256(fmt.Appendf(nil, "late tx %d", seed)),
			Inputs:  []heistgraph.TxIn{{PrevOut: gone}},
			Outputs: []heistgraph.TxOut{main[30].Txs[0].Outputs[0]},
			Size:    200, Weight: 800,
		}},
	}
	return []groupStep{
		{blocks: cat(main[:6], []*heistgraph.Block{again}, main[6:8])}, // again repeats txids of its own run
		{rewind: 499},
		{blocks: main[:8]},
		{blocks: main[12:18]}, // spends outputs of 8..11: pending
		{blocks: cat(main[8:12], main[18:24], main[5:7])}, // resolves them; 5 and 6 are no-ops
		{blocks: cat(main[24:30], []*heistgraph.Block{again}, main[30:34])},
		{blocks: cat(main[34:36], []*heistgraph.Block{&conflict}, main[36:])}, // stops at the conflict
		{blocks: main[36:]},
		{blocks: cat(signet[:1], main[36:], signet[1:])}, // another chain's first block starts the run
		{rewind: 499},
		{rewind: 23},
		{blocks: side},
		{rewind: 30},
		{rewind: 23},
		{blocks: main[24:]},
		{rewind: 23},
		{blocks: []*heistgraph.Block{late}},
		{rewind: 23},
		{blocks: main[24:]},
		{rewind: 9},
		{blocks: cat(main[10:], main[:10])},
	}
}

// TestApplyBlocksMatchesApplyBlock runs scripts of applies and rewinds
// against a store that applies block by block (ApplyBlock) and stores that
// apply in runs (ApplyBlocks, handed random slices, with batches cut small
// and an output cache too small to hold much), one of them ingesting every
// run as sstables (BulkLoad), and checks after every step that the
// digests, and the errors and counts of applied blocks, agree.
func TestApplyBlocksMatchesApplyBlock(t *testing.T) {
	ctx := context.Background()
	defer func(m int) { bulkMin = m }(bulkMin)
	bulkMin = 0
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			one := openMem(t, 256<<10)
			runs := openMem(t, 256<<10)
			bulk := openMem(t, 256<<10)
			bulk.opts.BulkLoad = true
			runs.opts.GroupBytes = int64(1 + rng.IntN(200<<10))
			bulk.opts.GroupBytes = runs.opts.GroupBytes
			if seed%2 == 0 {
				runs.opts.UTXOCacheSize = 10 * utxoEntryBytes
				bulk.opts.UTXOCacheSize = runs.opts.UTXOCacheSize
			}
			for i, s := range groupScript(seed) {
				if s.blocks == nil {
					for _, db := range []*DB{one, runs, bulk} {
						if err := db.RewindTo(ctx, heistgraph.ChainBTCRegtest, s.rewind); err != nil {
							t.Fatalf("step %d: rewind to %d: %v", i, s.rewind, err)
						}
					}
				} else {
					wantN, wantErr := len(s.blocks), ""
					for j, b := range s.blocks {
						if err := one.ApplyBlock(ctx, b); err != nil {
							wantN, wantErr = j, err.Error()
							break
						}
					}
					gotN, gotErr := 0, ""
					for gotN < len(s.blocks) {
						k := 1 + rng.IntN(len(s.blocks)-gotN)
						n, err := runs.ApplyBlocks(ctx, s.blocks[gotN:gotN+k])
						bn, berr := bulk.ApplyBlocks(ctx, s.blocks[gotN:gotN+k])
						if bn != n || fmt.Sprint(berr) != fmt.Sprint(err) {
							t.Fatalf("step %d: bulk ApplyBlocks: %d applied, error %v; by batches: %d, %v", i, bn, berr, n, err)
						}
						gotN += n
						if err != nil {
							gotErr = err.Error()
							break
						}
						if n != k {
							t.Fatalf("step %d: ApplyBlocks applied %d of %d without an error", i, n, k)
						}
					}
					if gotN != wantN || gotErr != wantErr {
						t.Fatalf("step %d: ApplyBlocks: %d applied, error %q; ApplyBlock: %d, %q", i, gotN, gotErr, wantN, wantErr)
					}
				}
				for _, c := range []heistgraph.Chain{heistgraph.ChainBTCRegtest, heistgraph.ChainBTCSignet} {
					want := mustDigest(t, one, c)
					if got := mustDigest(t, runs, c); got != want {
						t.Fatalf("step %d: %s digest %s in runs, %s block by block", i, c, got, want)
					}
					if got := mustDigest(t, bulk, c); got != want {
						t.Fatalf("step %d: %s digest %s bulk-loaded, %s block by block", i, c, got, want)
					}
					checkAddrIDs(t, bulk, c)
					checkTxNums(t, bulk, c)
					checkAddrIDs(t, one, c)
					checkAddrIDs(t, runs, c)
					checkTxNums(t, one, c)
					checkTxNums(t, runs, c)
				}
				want := checkUnspent(t, one)
				for name, db := range map[string]*DB{"runs": runs, "bulk": bulk} {
					if got := checkUnspent(t, db); got != want {
						t.Fatalf("step %d: unspent outputs %s:\n%s\nblock by block:\n%s", i, name, got, want)
					}
				}
			}
		})
	}
}
