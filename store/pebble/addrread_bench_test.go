package pebble

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// BenchmarkAddressOnStore reads the totals of addresses (Address: show,
// screening, the dump) on the store HEISTGRAPH_BENCH_STORE names, opened
// read-only: every 64th of its btc-regtest addresses in string order, the
// same set whatever the schema keys the totals by. A measurement on a real
// store's levels, not a check: it is skipped without the variable.
//
//	HEISTGRAPH_BENCH_STORE=D go test ./store/pebble -run '^$' -bench AddressOnStore
func BenchmarkAddressOnStore(b *testing.B) {
	dir := os.Getenv("HEISTGRAPH_BENCH_STORE")
	if dir == "" {
		b.Skip("HEISTGRAPH_BENCH_STORE names no store directory")
	}
	d, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	const chain = heistgraph.ChainBTCRegtest
	var addrs []string
	for a, err := range d.Addresses(ctx, chain) {
		if err != nil {
			b.Fatal(err)
		}
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	var asked []string
	for i := 0; i < len(addrs); i += 64 {
		asked = append(asked, addrs[i])
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Address(ctx, chain, asked[i%len(asked)]); err != nil {
			b.Fatal(err)
		}
	}
}
