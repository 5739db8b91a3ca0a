package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/heistgraph/heistgraph/trace"
)

// TestScratchReuse checks that a trace gives the same result whether it
// fills the memory earlier traces left (of other graphs, policies and
// sizes, one after another, as a long-lived process runs them) or starts
// fresh: nothing a trace before it wrote (edges, pending works, pages of
// sinks, arrivals and segments) leaks into it.
func TestScratchReuse(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(23, 5))
	ctx := context.Background()
	var warm trace.Scratch
	traces := 0
	for i := range 40 {
		st, seeds, labels := randomSeeded(t, rng, []string{"", "B", "C"}, true)
		if len(seeds) == 0 {
			continue
		}
		for _, p := range trace.Policies() {
			opts := trace.Options{Chain: chain, Seeds: seeds, Policy: p, Resolver: labels,
				MaxHops: 1 + rng.IntN(8), MinAmount: []int64{-1, 0, 1_000_000}[rng.IntN(3)], Budget: 1 + rng.IntN(40),
				MaxIntervals: 1 + rng.IntN(4)}
			if rng.IntN(3) == 0 {
				opts.ThroughCoinJoin = p
			}
			var fresh trace.Scratch
			want, err := trace.RunReusing(ctx, st, opts, &fresh)
			if err != nil {
				t.Fatalf("graph %d, %s: %v", i, p, err)
			}
			got, err := trace.RunReusing(ctx, st, opts, &warm)
			if err != nil {
				t.Fatalf("graph %d, %s, reusing: %v", i, p, err)
			}
			a, _ := json.Marshal(want)
			b, _ := json.Marshal(got)
			if !bytes.Equal(a, b) {
				t.Fatalf("graph %d, %s: the trace reusing memory differs from a fresh one:\n%s\n%s", i, p, b, a)
			}
			traces++
		}
	}
	if traces < 100 {
		t.Errorf("only %d traces compared", traces)
	}
}
