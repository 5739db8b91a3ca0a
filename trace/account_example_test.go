package trace_test

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/trace"
)

// Trace methods.md §2.5 example E2 under haircut: Z receives 10 stolen
// ETH, then 30 clean, and pays W 20 ETH with a fee of 0.001 ETH.
func ExampleRunAccounts() {
	ctx := context.Background()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	st, err := pebble.Open("example", opts)
	if err != nil {
		panic(err)
	}
	defer st.Close()
	l := newLedger() // account_script_test.go: named addresses, amounts in ETH
	if err := l.parse(`
block 99
genesis X 100
genesis Y 100
block 100
tx stolen X Z 10
block 101
tx clean Y Z 30
block 102
tx pay Z W 20 fee=0.001
`); err != nil {
		panic(err)
	}
	if err := l.apply(ctx, st); err != nil {
		panic(err)
	}
	res, err := trace.RunAccounts(ctx, st, trace.AccountOptions{
		Chain:  evmChain,
		Policy: trace.Haircut,
		Seeds:  []trace.AccountSeed{{Tx: l.txHash("stolen")}},
	})
	if err != nil {
		panic(err)
	}
	for _, s := range res.Sinks {
		v := s.Value()
		fmt.Printf("%-8s %s %s ETH (%s wei)\n", s.Kind, l.name(s.Address), trace.FormatUnits(&v, s.Decimals), s.Amount)
	}
	fmt.Printf("fees %s wei; seed %s %s\n", res.Fees, res.SeedAmount, res.SeedAsset)
	// Output:
	// unspent  Z 4.99975 ETH (4999750000000000000 wei)
	// unspent  W 5 ETH (5000000000000000000 wei)
	// fees 250000000000000 wei; seed 10000000000000000000 native
}
