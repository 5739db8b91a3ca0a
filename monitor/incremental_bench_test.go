package monitor_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/trace"
)

// peelChain applies a coin of 50 BTC (block 1) and then one peel per
// block: the previous change pays 0.001 BTC to a fresh address and the rest
// less a fee to a fresh change address. next applies the next peel block.
type peelChain struct {
	c      *chainOf
	change heistgraph.Outpoint
	left   int64
}

func newPeelChain(tb testing.TB) *peelChain {
	c := &chainOf{t: tb, st: openStore(tb)}
	c.apply("genesis")
	coin := tx("stolen", nil, payTo("thief", 50e8))
	c.apply("stolen", coin)
	return &peelChain{c: c, change: op(coin, 0), left: 50e8}
}

func (p *peelChain) next() *heistgraph.Block {
	h := len(p.c.tips)
	p.left -= 1e5 + 500
	t := tx(fmt.Sprintf("peel%d", h), []heistgraph.Outpoint{p.change},
		payTo(fmt.Sprintf("peeled%d", h), 1e5), payTo(fmt.Sprintf("change%d", h), p.left))
	p.change = op(t, 1)
	return p.c.apply(fmt.Sprintf("b%d", h), t)
}

// BenchmarkWatchBlock measures what a block spending a watched coin costs
// a watch: moving its trace on incrementally (trace.Tracer: Advance, and
// Advance then Result, which Live does to raise alerts) against tracing
// again from the seeds (trace.Run), on a peel chain of the given length
// that each iteration extends by one block (applying it is not timed).
//
//	go test ./monitor/ -run - -bench WatchBlock -benchtime 200x
func BenchmarkWatchBlock(b *testing.B) {
	ctx := context.Background()
	for _, length := range []int{100, 1000, 5000} {
		for _, how := range []string{"advance", "advance+result", "retrace"} {
			b.Run(fmt.Sprintf("peels=%d/%s", length, how), func(b *testing.B) {
				p := newPeelChain(b)
				for range length {
					p.next()
				}
				opts := trace.DefaultOptions()
				opts.Chain, opts.MaxHops = regtest, 1<<20
				opts.Seeds = []trace.Seed{{Kind: trace.SeedTx, TxID: tx("stolen", nil, payTo("thief", 50e8)).TxID}}
				tr, err := trace.Start(ctx, p.c.st, opts, int64(len(p.c.tips)-1))
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					b.StopTimer()
					blk := p.next()
					b.StartTimer()
					switch how {
					case "retrace":
						if _, err := trace.Run(ctx, p.c.st, opts); err != nil {
							b.Fatal(err)
						}
					default:
						if _, err := tr.Advance(ctx, blk); err != nil {
							b.Fatal(err)
						}
						if how == "advance+result" {
							if _, err := tr.Result(ctx); err != nil {
								b.Fatal(err)
							}
						}
					}
				}
			})
		}
	}
}
