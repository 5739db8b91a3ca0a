package trace_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/heistgraph/heistgraph/trace"
)

// TestRunEdgesSorted checks, on random graphs under every policy, that
// the edges Run writes run by run (a transaction's edges together, in
// processing order, sorted only within the run) are the edges the
// general sort by both ends gives, in the same order.
func TestRunEdgesSorted(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(8, 9))
	ctx := context.Background()
	edges := 0
	for i := range 40 {
		st, seeds, labels := randomSeeded(t, rng, []string{"", "B"}, false)
		if len(seeds) == 0 {
			continue
		}
		for _, p := range trace.Policies() {
			opts := trace.Options{Chain: chain, Seeds: seeds, Policy: p, Resolver: labels, MaxHops: 1 + rng.IntN(8),
				MinAmount: -1, Budget: 5 + rng.IntN(40)}
			run, sorted, ok, err := trace.EdgesBothWays(ctx, st, opts)
			if err != nil {
				t.Fatalf("graph %d, %s: %v", i, p, err)
			}
			if !ok {
				t.Fatalf("graph %d, %s: Run's edges are not in runs of one from, in order", i, p)
			}
			if !reflect.DeepEqual(run, sorted) {
				t.Fatalf("graph %d, %s: run by run\n%v\nsorted\n%v", i, p, run, sorted)
			}
			edges += len(run)
		}
	}
	if edges < 200 {
		t.Errorf("the random graphs exercise little: %d edges", edges)
	}
	t.Logf("%d edges compared", edges)
}
