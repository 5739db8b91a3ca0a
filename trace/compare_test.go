package trace_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/trace"
)

// countingResolver is mapResolver counting the questions per address.
type countingResolver struct {
	m     mapResolver
	mu    sync.Mutex
	asked map[string]int
}

func (c *countingResolver) Resolve(ctx context.Context, chain heistgraph.Chain, addr string) (heistgraph.EntityRef, bool, error) {
	c.mu.Lock()
	c.asked[addr]++
	c.mu.Unlock()
	return c.m.Resolve(ctx, chain, addr)
}

// TestCompareResolvesOnce runs Compare on the stops script's world (every
// stop, labels of four kinds): each policy's result is Run's with the
// same resolver, and the resolver was asked once per address for all of
// them.
func TestCompareResolvesOnce(t *testing.T) {
	ctx := context.Background()
	text, err := os.ReadFile("testdata/scripts/stops.txt")
	if err != nil {
		t.Fatal(err)
	}
	// The script's first block: "build" up to its "----".
	_, rest, _ := strings.Cut(string(text), "\nbuild\n")
	world, _, _ := strings.Cut(rest, "----")
	g, err := testutil.ParseGraph(chain, world)
	if err != nil {
		t.Fatal(err)
	}
	st := openMem(t)
	if err := g.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	labels := mapResolver{
		"kx_deposit": {Name: "Kestrel Exchange", Category: "exchange"},
		"thief2":     {Name: "Lazarus", Category: "dprk"},
		"mixer_in":   {Name: "Cyclone Mixer", Category: "mixer"},
	}
	seed, err := trace.ParseSeed(testutil.TxID("theft").String() + ":0")
	if err != nil {
		t.Fatal(err)
	}
	opts := trace.Options{Chain: chain, Seeds: []trace.Seed{seed}, MinAmount: 1000}
	c := &countingResolver{m: labels, asked: map[string]int{}}
	opts.Resolver = c
	cmp, err := trace.Compare(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.asked) == 0 {
		t.Fatal("the resolver was never asked")
	}
	for addr, n := range c.asked {
		if n != 1 {
			t.Errorf("address %s resolved %d times, want once for all policies", addr, n)
		}
	}
	entities := 0
	for i, p := range cmp.Policies {
		o := opts
		o.Policy, o.Resolver = p, labels
		want, err := trace.Run(ctx, st, o)
		if err != nil {
			t.Fatal(err)
		}
		got := cmp.Results[i]
		got.Stats.MS, want.Stats.MS = 0, 0
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("%s: Compare's result differs from Run's:\n got %s\nwant %s", p, gj, wj)
		}
		for _, s := range got.Sinks.All() {
			if s.Kind == trace.SinkEntity {
				entities++
			}
		}
	}
	if entities == 0 {
		t.Error("no entity sink: the labels were not used")
	}
}
