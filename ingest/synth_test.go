package ingest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/synth"
)

// TestSynthWorldIngests generates a small synthetic world, ingests its blk
// files as `ingest btc --blocks DIR --network regtest` does, and checks the
// store against the world's truth: every block applied, every address of
// every entity present, and each heist's seeds stored with the stolen
// amount, their transactions' fees known.
func TestSynthWorldIngests(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sum, err := synth.Generate(context.Background(), synth.Options{Dir: dir, Seed: 7, Scale: synth.Small})
	if err != nil {
		t.Fatal(err)
	}
	truth, err := synth.LoadTruth(filepath.Join(dir, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	net := heistgraph.Regtest
	src, err := bitcoin.NewFileSource([]string{dir}, bitcoin.FileOptions{Network: &net})
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	ctx := context.Background()
	stats, err := ingest.Stream(ctx, st, src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Txs < sum.Txs || tip(t, st, regtest).Height != sum.Blocks {
		t.Fatalf("ingested %d txs to height %d; the world has %d txs in %d blocks", stats.Txs, tip(t, st, regtest).Height, sum.Txs, sum.Blocks)
	}
	if src.StaleCount() != 0 {
		t.Fatalf("%d stale blocks in a world with one chain", src.StaleCount())
	}

	var addrs int
	for _, e := range truth.Entities {
		for _, a := range e.Addresses {
			addrs++
			s, err := st.Address(ctx, regtest, a)
			if err != nil {
				t.Fatalf("entity %s (%s) address %s: %v", e.ID, e.Category, a, err)
			}
			if s.Received <= 0 || s.Balance() < 0 {
				t.Fatalf("address %s of %s: received %d, balance %d", a, e.ID, s.Received, s.Balance())
			}
		}
	}
	if int64(addrs) != sum.Addresses {
		t.Fatalf("checked %d truth addresses, the summary says %d", addrs, sum.Addresses)
	}

	if len(truth.Heists) == 0 {
		t.Fatal("no heists in the world")
	}
	for _, h := range truth.Heists {
		var seeded int64
		for _, s := range h.Seeds {
			op, err := heistgraph.ParseOutpoint(s)
			if err != nil {
				t.Fatalf("heist %s seed %q: %v", h.ID, s, err)
			}
			out, err := st.Output(ctx, regtest, op)
			if err != nil {
				t.Fatalf("heist %s seed %s: %v", h.ID, s, err)
			}
			if out.Block.Height != h.Height {
				t.Errorf("heist %s seed %s in block %d, truth says %d", h.ID, s, out.Block.Height, h.Height)
			}
			seeded += out.Value
			rec, err := st.Tx(ctx, regtest, op.TxID)
			if err != nil || !rec.FeeKnown {
				t.Errorf("heist %s theft tx %s: fee not known (%v)", h.ID, op.TxID, err)
			}
		}
		if seeded != h.AmountSat {
			t.Errorf("heist %s: seeds hold %d sat in the store, truth says %d", h.ID, seeded, h.AmountSat)
		}
	}
}
