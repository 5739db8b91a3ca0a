package cluster

import (
	"context"
	"strings"
	"testing"
)

// TestCheckFreshness: never clustered, up to date, behind by the blocks
// ingested since, and in need of a rebuild after a rewind.
func TestCheckFreshness(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newGraph(t)
	check := func(stage string, height, behind int64, rebuild bool, says string) {
		t.Helper()
		f, err := CheckFreshness(ctx, g.st, g.st, chain)
		if err != nil {
			t.Fatal(err)
		}
		if f.Height != height || f.Behind != behind || f.NeedsRebuild != rebuild || f.Stale() != (behind > 0 || rebuild) ||
			!strings.Contains(f.String(), says) {
			t.Errorf("%s: %+v %q; want height %d, behind %d, rebuild %v, saying %q", stage, f, f, height, behind, rebuild, says)
		}
	}
	check("empty store", -1, 0, false, "")
	g.fund("f", o("A", 1_000_000), o("B", 1_000_000))
	g.mine()
	g.mine()
	check("never clustered", -1, 2, false, "never clustered")
	g.update(nil)
	check("clustered", 1, 0, false, "")
	g.mine()
	g.mine()
	g.mine()
	check("three blocks since", 1, 3, false, "3 block(s) behind")
	g.update(nil)
	if err := g.st.RewindClusters(ctx, chain, 2); err != nil {
		t.Fatal(err)
	}
	check("rewound", 2, 2, true, "behind")
}
