package cluster

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/trace"
)

// TestAccountTraceStopsAtDeposit checks the entity stop that EVM clusters
// feed (methods.md §7.1): stolen ETH paid into a deposit address D stops
// there as Exchange X's once clustering put D in the exchange's cluster;
// before, D is nobody and the trace follows the sweep to X's hot wallet.
func TestAccountTraceStopsAtDeposit(t *testing.T) {
	ctx := context.Background()
	w := testutil.NewAccounts()
	if err := w.Parse(ethChain, `
block 99
tx Thief S1 1
block 100
tx S1 D 1
tx S2 D 2
block 160
tx D X 0.9995
tx D X 1.9995
`); err != nil {
		t.Fatal(err)
	}
	st := openMem(t)
	if err := w.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutLabels(ctx, []heistgraph.Label{{Chain: ethChain, Address: w.Addr("X").Lower(), Entity: "Exchange X",
		Category: "exchange", Source: "test", Confidence: 1}}); err != nil {
		t.Fatal(err)
	}
	seed := heistgraph.EVMHash(sha256.Sum256(fmt.Appendf(nil, "tx/%d/%d", 99, 0))) // testutil's hash of block 99's first tx
	run := func() []trace.AccountSink {
		res, err := trace.RunAccounts(ctx, st, trace.AccountOptions{Chain: ethChain, Policy: trace.Haircut,
			Seeds: []trace.AccountSeed{{Tx: seed}}, Resolver: NewResolver(st)})
		if err != nil {
			t.Fatal(err)
		}
		var entity []trace.AccountSink
		for _, s := range res.Sinks {
			if s.Kind == trace.SinkEntity {
				entity = append(entity, s)
			}
		}
		return entity
	}
	before := run()
	for _, s := range before {
		if s.Address != w.Addr("X") {
			t.Errorf("before clustering: entity sink at %s, want X", w.Name(s.Address.Lower()))
		}
	}
	if len(before) == 0 {
		t.Fatal("before clustering: no entity sink")
	}
	if _, err := Update(ctx, st, ethChain, DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	after := run()
	if len(after) != 1 || after[0].Address != w.Addr("D") || after[0].Entity != "Exchange X" || after[0].Category != "exchange" {
		t.Fatalf("after clustering: entity sinks %+v, want one at D as Exchange X", after)
	}
}
