package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/heistgraph/heistgraph/trace"
)

// TestTraversal runs every policy on random graphs with the engine's
// traversal checked as it goes (trace.RunChecked: transactions taken in
// chain order, each once; every arrival taken once, on the input that
// spends its output) and compares the result with Run's, byte for byte
// apart from stats.ms: a queue or a transaction's queued state that
// loses, misplaces or reorders work fails it.
func TestTraversal(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(23, 18))
	ctx := context.Background()
	visited := 0
	for i := range 60 {
		st, seeds, labels := randomSeeded(t, rng, []string{"", "B", "C"}, true)
		if len(seeds) == 0 {
			continue
		}
		for _, p := range trace.Policies() {
			opts := trace.Options{Chain: chain, Seeds: seeds, Policy: p, Resolver: labels,
				MaxHops: 1 + rng.IntN(8), MinAmount: []int64{-1, 0, 1_000_000}[rng.IntN(3)], Budget: 2 + rng.IntN(40),
				MaxIntervals: 1 + rng.IntN(4), ThroughCoinJoin: []trace.Policy{"", trace.Haircut}[rng.IntN(2)]}
			checked, err := trace.RunChecked(ctx, st, opts)
			if err != nil {
				t.Fatalf("graph %d, %s: %v", i, p, err)
			}
			res, err := trace.Run(ctx, st, opts)
			if err != nil {
				t.Fatalf("graph %d, %s: %v", i, p, err)
			}
			res.Stats.MS, checked.Stats.MS = 0, 0
			a, _ := json.Marshal(res)
			b, _ := json.Marshal(checked)
			if !bytes.Equal(a, b) {
				t.Fatalf("graph %d, %s: the checked run differs from Run", i, p)
			}
			visited += res.Stats.TxsVisited
		}
	}
	if visited < 500 {
		t.Errorf("the random graphs exercise little: %d transactions visited", visited)
	}
}
