package trace_test

import (
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/synth"
	"github.com/heistgraph/heistgraph/trace"
)

// TestPrefiltersPassEveryPattern checks, on every transaction of a small
// synthetic world (CoinJoins of every kind, peel chains, consolidations,
// splits, Tx0s), that the trace's cheap tests from counts and values let
// through every transaction a detector of package pattern fires on: the
// trace builds a record only for those, so a prefilter that said no to
// one would lose an event.
func TestPrefiltersPassEveryPattern(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and ingests a world")
	}
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := synth.Generate(ctx, synth.Options{Dir: dir, Seed: 5, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	net := heistgraph.Regtest
	src, err := bitcoin.NewFileSource([]string{dir}, bitcoin.FileOptions{Network: &net})
	if err != nil {
		t.Fatal(err)
	}
	st, err := pebble.Open("", pebble.Options{FS: vfs.NewMem(), CacheSize: 8 << 20, MemTableSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var txids []heistgraph.Hash
	opts := ingest.Options{Events: ingest.Events{BlockApplied: func(b *heistgraph.Block) {
		for _, tx := range b.Txs {
			txids = append(txids, tx.TxID)
		}
	}}}
	if _, err := ingest.Stream(ctx, st, src, opts); err != nil {
		t.Fatal(err)
	}
	chain := heistgraph.ChainBTCRegtest
	fired := map[string]int{}
	for _, id := range txids {
		rec, err := st.Tx(ctx, chain, id)
		if err != nil {
			t.Fatal(err)
		}
		cj, pat, err := trace.Prefilters(ctx, st, chain, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := pattern.AnalyzeCoinJoin(&rec.Tx, rec.Prevouts, pattern.CoinJoinOptions{}); ok {
			fired["coinjoin"]++
			if !cj {
				t.Errorf("%s is a CoinJoin, the prefilter says no", id)
			}
		}
		for name, ok := range map[string]bool{
			"consolidation": ok2(pattern.DetectConsolidation(&rec.Tx, rec.Prevouts)),
			"tx0":           ok2(pattern.DetectTx0(&rec.Tx)),
			"split":         ok2(pattern.DetectSplit(&rec.Tx, rec.Prevouts)),
			"peel":          ok2(pattern.PeelCandidate(&rec, pattern.DefaultPeelOptions())),
		} {
			if ok {
				fired[name]++
				if !pat {
					t.Errorf("%s fires %s, the prefilter says no", id, name)
				}
			}
		}
	}
	for _, k := range []string{"coinjoin", "consolidation", "tx0", "split", "peel"} {
		if fired[k] == 0 {
			t.Errorf("no transaction of the world fires %s: the test checks nothing for it", k)
		}
	}
	t.Logf("%d transactions, detectors fired %v", len(txids), fired)
}

func ok2[T any](_ T, ok bool) bool { return ok }
