package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/heistgraph/heistgraph/store/storetest"
)

// updating reports whether -update was given (the flag is registered by
// storetest, which the tests import).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestGoldenWorld clusters generated chains and compares what the
// clustering stored (every membership and evidence record, and the run's
// counts) with testdata/golden, written by the engine before its address
// table and cluster arrays were made compact (commit fa909f9: a Go map of
// 128-bit keys and separate size array). The meaning must not change with
// the representation: the same ids, clusters, evidence and counts. Each
// world is clustered twice: reading the store, and reading the chain's
// transaction graph (Options.Graph), brought up to the store's tip before
// each run as `cluster update` does.
func TestGoldenWorld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, w := range []struct {
		seed          uint64
		blocks, txs   int
		window, guard int
	}{
		{seed: 7, blocks: 150, txs: 40},
		// Small guard bounds and window: G3/G4 fire, candidates expire.
		{seed: 11, blocks: 150, txs: 40, window: 5, guard: 20},
	} {
		name := fmt.Sprintf("seed%d-%dx%d", w.seed, w.blocks, w.txs)
		for _, viaGraph := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/graph=%v", name, viaGraph), func(t *testing.T) {
				st := openMem(t)
				graphPath := filepath.Join(t.TempDir(), "btc.txg")
				gen := storetest.NewGenerator(chain, w.seed, w.txs)
				opts := DefaultOptions()
				if w.window > 0 {
					opts.Change.Window = int64(w.window)
				}
				if w.guard > 0 {
					opts.Guards.HoldBoth, opts.Guards.HoldChange, opts.Guards.ChangeMaxCluster = w.guard, w.guard/2, w.guard
				}
				var runs []Stats
				// Three runs (a third, a third, the rest) so that loading the
				// state and the pending snapshot take part.
				for i, n := range []int{w.blocks / 3, w.blocks / 3, w.blocks - 2*(w.blocks/3)} {
					for range n {
						if err := st.ApplyBlock(ctx, gen.Next()); err != nil {
							t.Fatal(err)
						}
					}
					var s Stats
					if viaGraph {
						s = graphRun(t, st, graphPath, true, opts)
					} else {
						var err error
						if s, err = Update(ctx, st, chain, opts); err != nil {
							t.Fatalf("run %d: %v", i, err)
						}
					}
					s.Elapsed = 0
					runs = append(runs, s)
				}
				h := sha256.New()
				for _, m := range memberships(t, st) {
					fmt.Fprintf(h, "m %d %d %s\n", m.AddrID, m.ClusterID, m.Address)
				}
				for _, e := range evidence(t, st) {
					b, err := json.Marshal(e)
					if err != nil {
						t.Fatal(err)
					}
					fmt.Fprintf(h, "e %s\n", b)
				}
				got, err := json.MarshalIndent(struct {
					Runs   []Stats
					Digest string
				}{runs, fmt.Sprintf("%x", h.Sum(nil))}, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, '\n')
				path := filepath.Join("testdata", "golden", name+".json")
				if updating() && !viaGraph {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Errorf("clustering differs from %s:\n%s", path, got)
				}
			})
		}
	}
}
