package trace_test

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/trace"
)

// Trace the worked example A of methods.md §1.10 under haircut: a theft
// of 5 BTC spent with 3 clean BTC into 6 BTC (to an exchange) and 1.9 BTC.
func ExampleRun() {
	ctx := context.Background()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	st, err := pebble.Open("example", opts)
	if err != nil {
		panic(err)
	}
	defer st.Close()
	g, _ := testutil.ParseGraph(heistgraph.ChainBTCRegtest, `
block 1
coinbase cb -> stolen:5.0 clean:3.0
block 2
tx spend cb:0 cb:1 -> exchange:6.0 change:1.9
`)
	if err := g.Apply(ctx, st); err != nil {
		panic(err)
	}
	res, err := trace.Run(ctx, st, trace.Options{
		Chain:    heistgraph.ChainBTCRegtest,
		Policy:   trace.Haircut,
		Seeds:    []trace.Seed{{Kind: trace.SeedOutput, Outpoint: heistgraph.Outpoint{TxID: testutil.TxID("cb"), Vout: 0}}},
		Resolver: mapResolver{"exchange": {Name: "Exchange X", Category: "exchange"}},
	})
	if err != nil {
		panic(err)
	}
	for _, s := range res.Sinks.All() {
		fmt.Printf("%-8s %-8s %-10s %d sat\n", s.Kind, s.Address, s.Entity, s.AmountSat)
	}
	fmt.Printf("fees %d sat; seed %d sat\n", res.FeesSat, res.SeedAmountSat)
	// Output:
	// entity   exchange Exchange X 375000000 sat
	// unspent  change              118750000 sat
	// fees 6250000 sat; seed 500000000 sat
}
